// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko scheduling contexts: several per file, each bound to a priority and
 * so to a hardware queue, with a drm_sched entity on that queue's scheduler
 * and the record of its last ANPU_JOB_INFO_DEPTH jobs (JOB_INFO).
 *
 * CTX_DESTROY against a concurrent SUBMIT of the same context: SUBMIT holds
 * anpu_ctx.lock from its last check of anpu_ctx.destroyed to the push of its
 * job, and destroy sets anpu_ctx.destroyed under that lock before it
 * destroys the entity. So a SUBMIT either pushed before the entity's flush
 * (its job runs, or is cancelled with the entity's queue: its out-fences
 * signal either way) or sees the flag and fails with -ENOENT, as if the
 * context were already gone. A mutex rather than SRCU (amdxdna): SUBMIT
 * already takes this lock to order arm and push, and destroy is rare.
 */

#include <linux/capability.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "anpu_drv.h"

static void anpu_ctx_release(struct kref *ref)
{
	struct anpu_ctx *ctx = container_of(ref, struct anpu_ctx, ref);
	struct anpu_device *adev = ctx->queue->adev;

	mutex_destroy(&ctx->lock);
	atomic_dec(&adev->count.contexts);
	kvfree(ctx);
}

void anpu_ctx_put(struct anpu_ctx *ctx)
{
	kref_put(&ctx->ref, anpu_ctx_release);
}

struct anpu_ctx *anpu_ctx_lookup(struct anpu_file *af, u32 id)
{
	struct anpu_ctx *ctx;

	xa_lock(&af->ctxs);
	ctx = xa_load(&af->ctxs, id);
	if (ctx)
		kref_get(&ctx->ref);
	xa_unlock(&af->ctxs);
	return ctx;
}

int anpu_ioctl_ctx_create(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_ctx_create *args = data;
	struct drm_gpu_scheduler *sched;
	struct anpu_ctx *ctx;
	u32 id;
	int ret;

	if (args->flags || args->pad) {
		drm_dbg(dev, "CTX_CREATE: flags %#x or pad %#x nonzero\n", args->flags, args->pad);
		return -EINVAL;
	}
	if (args->priority > DRM_ANPU_PRIORITY_REALTIME) {
		drm_dbg(dev, "CTX_CREATE: priority %u unknown\n", args->priority);
		return -EINVAL;
	}
	if (args->priority >= DRM_ANPU_PRIORITY_HIGH && !capable(CAP_SYS_NICE))
		return -EPERM;

	ctx = kvzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);	/* ~23 KiB of records */
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	ctx->file = af;
	ctx->queue = &adev->queue[args->priority];
	ctx->next_seqno = 1;
	mutex_init(&ctx->lock);
	spin_lock_init(&ctx->info_lock);
	atomic_inc(&adev->count.contexts);

	sched = &ctx->queue->sched;
	ret = drm_sched_entity_init(&ctx->entity, DRM_SCHED_PRIORITY_NORMAL, &sched, 1, NULL);
	if (ret) {
		anpu_ctx_put(ctx);
		return ret;
	}
	/* ids are the lowest free ones: the id range is the per-file limit */
	ret = xa_alloc(&af->ctxs, &id, ctx, XA_LIMIT(1, anpu_file_max_contexts()),
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		drm_sched_entity_destroy(&ctx->entity);
		anpu_ctx_put(ctx);
		return ret == -EBUSY ? -EDQUOT : ret;
	}
	ctx->id = id;
	args->ctx_id = id;
	return 0;
}

/*
 * The file lets go of a context: its queued jobs still run (unless the
 * process is exiting: then the entity cancels them). After @destroyed is set
 * no SUBMIT pushes to the entity (see the top of this file).
 */
static void anpu_ctx_destroy(struct anpu_ctx *ctx)
{
	scoped_guard(mutex, &ctx->lock)
		ctx->destroyed = true;
	drm_sched_entity_destroy(&ctx->entity);
	anpu_ctx_put(ctx);
}

int anpu_ioctl_ctx_destroy(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_ctx_destroy *args = data;
	struct anpu_ctx *ctx;

	if (args->pad) {
		drm_dbg(dev, "CTX_DESTROY: pad %#x nonzero\n", args->pad);
		return -EINVAL;
	}
	ctx = xa_erase(&af->ctxs, args->ctx_id);
	if (!ctx)
		return -ENOENT;
	anpu_ctx_destroy(ctx);
	return 0;
}

void anpu_ctx_release_all(struct anpu_file *af)
{
	struct anpu_ctx *ctx;
	unsigned long id;

	xa_for_each(&af->ctxs, id, ctx) {
		xa_erase(&af->ctxs, id);
		anpu_ctx_destroy(ctx);
	}
	xa_destroy(&af->ctxs);
}

/**
 * anpu_ctx_record() - update the JOB_INFO record of a job
 * @ctx: its context
 * @seqno: its seqno; a record of a newer job in the slot is left alone
 * @info: state, status and error to report
 *
 * Called from the submit, run and completion paths: no allocation.
 */
void anpu_ctx_record(struct anpu_ctx *ctx, u64 seqno,
		     const struct drm_anpu_job_info *info)
{
	struct anpu_job_record *rec = &ctx->records[seqno % ANPU_JOB_INFO_DEPTH];
	unsigned long flags;

	spin_lock_irqsave(&ctx->info_lock, flags);
	if (rec->seqno <= seqno) {
		rec->seqno = seqno;
		rec->info = *info;
	}
	spin_unlock_irqrestore(&ctx->info_lock, flags);
}

int anpu_ioctl_job_info(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_job_info *args = data;
	struct anpu_job_record *rec;
	struct anpu_ctx *ctx;
	unsigned long flags;
	int ret = 0;

	if (args->pad) {
		drm_dbg(dev, "JOB_INFO: pad %#x nonzero\n", args->pad);
		return -EINVAL;
	}
	ctx = anpu_ctx_lookup(af, args->ctx_id);
	if (!ctx)
		return -ENOENT;
	rec = &ctx->records[args->seqno % ANPU_JOB_INFO_DEPTH];
	spin_lock_irqsave(&ctx->info_lock, flags);
	if (!args->seqno || rec->seqno != args->seqno) {
		ret = -ENOENT;
	} else {
		args->state = rec->info.state;
		args->result = rec->info.result;
		args->cause = rec->info.cause;
		args->op_index = rec->info.op_index;
		args->fault_addr = rec->info.fault_addr;
		args->start_ns = rec->info.start_ns;
		args->end_ns = rec->info.end_ns;
		args->ops_done = rec->info.ops_done;
		args->error = rec->info.error;
	}
	spin_unlock_irqrestore(&ctx->info_lock, flags);
	anpu_ctx_put(ctx);
	return ret;
}
