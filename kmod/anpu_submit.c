// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko SUBMIT: the arguments read and checked, the BOs looked up and kept
 * alive, implicit sync through the reservation objects, syncobj in- and
 * out-fences (binary or timeline), and the push to the context's scheduler
 * entity. Everything the job needs to run is allocated here, before it is
 * armed.
 */

#include <linux/dma-fence-chain.h>
#include <linux/cred.h>
#include <linux/dma-resv.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "anpu_drv.h"
#include "anpu_job.h"
#include "anpu_trace.h"

static int anpu_read_array_elem(struct drm_device *dev, void *dst, size_t size,
				const struct drm_anpu_obj_array *arr, u32 i)
{
	void __user *src = u64_to_user_ptr(arr->array + (u64)i * arr->stride);
	int ret;

	ret = copy_struct_from_user(dst, size, src, arr->stride);
	if (ret == -E2BIG) {
		drm_dbg(dev, "SUBMIT: array element %u has nonzero bytes past %zu\n", i, size);
		return -EINVAL;
	}
	return ret;
}

static int anpu_check_array(struct drm_device *dev, const struct drm_anpu_obj_array *arr,
			    u32 max, const char *name)
{
	if (arr->count > max) {
		drm_dbg(dev, "SUBMIT: %s: %u elements, at most %u\n", name, arr->count, max);
		return -EINVAL;
	}
	if (arr->count && (!arr->stride || !arr->array)) {
		drm_dbg(dev, "SUBMIT: %s: zero stride or NULL array\n", name);
		return -EINVAL;
	}
	if (!arr->count && (arr->stride || arr->array)) {
		drm_dbg(dev, "SUBMIT: %s: empty but stride or array nonzero\n", name);
		return -EINVAL;
	}
	if (arr->stride > ANPU_MAX_STRIDE) {
		drm_dbg(dev, "SUBMIT: %s: stride %u above %u\n", name, arr->stride,
			ANPU_MAX_STRIDE);
		return -EINVAL;
	}
	return 0;
}

static int anpu_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether @n objects of @bos are all different (-EINVAL if not). */
static int anpu_bos_unique(struct drm_device *dev, struct drm_gem_object **bos, u32 n)
{
	uintptr_t *sorted;
	int ret = 0;

	if (n < 2)
		return 0;
	sorted = kvmalloc_array(n, sizeof(*sorted), GFP_KERNEL);
	if (!sorted)
		return -ENOMEM;
	for (u32 i = 0; i < n; i++)
		sorted[i] = (uintptr_t)bos[i];
	sort(sorted, n, sizeof(*sorted), anpu_cmp_ptr, NULL);
	for (u32 i = 1; i < n && !ret; i++)
		if (sorted[i] == sorted[i - 1])
			ret = -EINVAL;
	kvfree(sorted);
	if (ret)
		drm_dbg(dev, "SUBMIT: a BO handle is listed twice in bos\n");
	return ret;
}

/*
 * Add @obj (the job takes over the caller's reference) to the job's BOs,
 * unless it is listed already: the command or profile BO may also be in the
 * user's list (and the profile BO may be the command BO). A BO listed twice
 * is written if either use writes it.
 */
static void anpu_job_add_bo(struct anpu_job *job, struct drm_gem_object *obj, bool write)
{
	for (u32 i = 0; i < job->bo_count; i++) {
		if (job->bos[i] == obj) {
			job->bo_write[i] |= write;
			drm_gem_object_put(obj);
			return;
		}
	}
	job->bo_write[job->bo_count] = write;
	job->bos[job->bo_count++] = obj;
}

/* The BO list, then the command and profile BOs unless listed. */
static int anpu_job_lookup_bos(struct anpu_job *job, struct drm_file *file,
			       const struct drm_anpu_submit *args,
			       struct drm_gem_object **cmd, struct drm_gem_object **prof)
{
	struct drm_device *dev = &job->adev->drm;
	struct drm_gem_object *obj;
	u32 n = args->bos.count;
	int ret;

	job->bos = kvcalloc(n + 2, sizeof(*job->bos), GFP_KERNEL);
	job->bo_write = kvcalloc(n + 2, sizeof(*job->bo_write), GFP_KERNEL);
	if (!job->bos || !job->bo_write)
		return -ENOMEM;
	for (u32 i = 0; i < n; i++) {
		struct drm_anpu_bo_ref ref;

		ret = anpu_read_array_elem(dev, &ref, sizeof(ref), &args->bos, i);
		if (ret)
			return ret;
		if (ref.flags & ~DRM_ANPU_BO_REF_FLAGS_ALL) {
			drm_dbg(dev, "SUBMIT: bos[%u]: unknown flags %#x\n", i, ref.flags);
			return -EINVAL;
		}
		job->bos[i] = drm_gem_object_lookup(file, ref.handle);
		if (!job->bos[i])
			return -ENOENT;
		job->bo_count++;
		job->bo_write[i] = ref.flags & DRM_ANPU_BO_REF_WRITE;
		if (job->bo_write[i] &&
		    to_anpu_bo(job->bos[i])->flags & DRM_ANPU_BO_NPU_READONLY)
			job->bo_write[i] = false;
	}
	ret = anpu_bos_unique(dev, job->bos, n);
	if (ret)
		return ret;

	obj = drm_gem_object_lookup(file, args->cmd_handle);
	if (!obj)
		return -ENOENT;
	anpu_job_add_bo(job, obj, false);
	*cmd = obj;
	if (args->flags & DRM_ANPU_SUBMIT_PROFILE) {
		obj = drm_gem_object_lookup(file, args->profile_handle);
		if (!obj)
			return -ENOENT;
		anpu_job_add_bo(job, obj, true);
		*prof = obj;
	}
	return 0;
}

static int anpu_job_fill_desc(struct anpu_job *job, const struct drm_anpu_submit *args,
			      struct drm_gem_object *cmd, struct drm_gem_object *prof)
{
	struct drm_device *dev = &job->adev->drm;
	struct anpu_as *as = job->af->as;
	u64 addr;
	int ret;

	if (args->cmd_offset >= cmd->size || cmd->size - args->cmd_offset < args->cmd_size) {
		drm_dbg(dev, "SUBMIT: command %#llx+%u outside its %zu-byte BO\n",
			args->cmd_offset, args->cmd_size, cmd->size);
		return -EINVAL;
	}
	ret = anpu_bo_npu_addr(to_anpu_bo(cmd), as, &addr);
	if (ret)
		return ret;
	job->desc.cmd_addr = addr + args->cmd_offset;
	job->desc.cmd_size = args->cmd_size;
	job->desc.asid = as->asid;
	if (prof) {
		if (to_anpu_bo(prof)->flags & DRM_ANPU_BO_NPU_READONLY) {
			drm_dbg(dev, "SUBMIT: profile BO is NPU read-only\n");
			return -EINVAL;
		}
		if (args->profile_offset >= prof->size ||
		    prof->size - args->profile_offset < args->profile_size) {
			drm_dbg(dev, "SUBMIT: profile %#llx+%u outside its %zu-byte BO\n",
				args->profile_offset, args->profile_size, prof->size);
			return -EINVAL;
		}
		ret = anpu_bo_npu_addr(to_anpu_bo(prof), as, &addr);
		if (ret)
			return ret;
		job->desc.flags = ANPU_DESC_F_PROFILE;
		job->desc.profile_addr = addr + args->profile_offset;
		job->desc.profile_size = args->profile_size;
	}
	return 0;
}

/*
 * Element @i of a sync array, its flags checked: a point only on a timeline,
 * and an out-sync's timeline point nonzero (point 0 is no point to signal).
 */
static int anpu_read_sync(struct drm_device *dev, struct drm_anpu_sync *s,
			  const struct drm_anpu_obj_array *arr, u32 i, bool out)
{
	int ret = anpu_read_array_elem(dev, s, sizeof(*s), arr, i);

	if (ret)
		return ret;
	if (s->flags & ~DRM_ANPU_SYNC_FLAGS_ALL) {
		drm_dbg(dev, "SUBMIT: sync %u: unknown flags %#x\n", i, s->flags);
		return -EINVAL;
	}
	if (!(s->flags & DRM_ANPU_SYNC_TIMELINE) && s->point) {
		drm_dbg(dev, "SUBMIT: sync %u: a point on a binary syncobj\n", i);
		return -EINVAL;
	}
	if (out && (s->flags & DRM_ANPU_SYNC_TIMELINE) && !s->point) {
		drm_dbg(dev, "SUBMIT: out-sync %u: timeline point 0\n", i);
		return -EINVAL;
	}
	return 0;
}

static int anpu_job_add_in_syncs(struct anpu_job *job, struct drm_file *file,
				 const struct drm_anpu_obj_array *arr)
{
	for (u32 i = 0; i < arr->count; i++) {
		struct drm_anpu_sync s;
		struct dma_fence *fence;
		int ret;

		ret = anpu_read_sync(&job->adev->drm, &s, arr, i, false);
		if (ret)
			return ret;
		ret = drm_syncobj_find_fence(file, s.handle, s.point, 0, &fence);
		if (ret)
			return ret;
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * struct anpu_out_sync - an out-fence operation, prepared before the job is armed
 * @syncobj: the syncobj (reference held).
 * @chain: the timeline point's chain node (allocated at submit), or NULL.
 * @point: the timeline point.
 */
struct anpu_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

static void anpu_out_syncs_free(struct anpu_out_sync *out, u32 count)
{
	if (!out)
		return;
	for (u32 i = 0; i < count; i++) {
		if (out[i].syncobj)
			drm_syncobj_put(out[i].syncobj);
		dma_fence_chain_free(out[i].chain);
	}
	kvfree(out);
}

static int anpu_out_syncs_get(struct drm_file *file, const struct drm_anpu_obj_array *arr,
			      struct anpu_out_sync *out)
{
	for (u32 i = 0; i < arr->count; i++) {
		struct drm_anpu_sync s;
		int ret;

		ret = anpu_read_sync(file->minor->dev, &s, arr, i, true);
		if (ret)
			return ret;
		out[i].syncobj = drm_syncobj_find(file, s.handle);
		if (!out[i].syncobj)
			return -ENOENT;
		if (s.flags & DRM_ANPU_SYNC_TIMELINE) {
			out[i].chain = dma_fence_chain_alloc();
			if (!out[i].chain)
				return -ENOMEM;
			out[i].point = s.point;
		}
	}
	return 0;
}

static int anpu_submit_check(struct drm_device *dev, const struct drm_anpu_submit *args)
{
	int ret;

	if (args->flags & ~DRM_ANPU_SUBMIT_FLAGS_ALL) {
		drm_dbg(dev, "SUBMIT: unknown flags %#x\n", args->flags);
		return -EINVAL;
	}
	if (!args->cmd_size || !IS_ALIGNED(args->cmd_offset, 8)) {
		drm_dbg(dev, "SUBMIT: cmd_size 0 or cmd_offset %#llx not 8-aligned\n",
			args->cmd_offset);
		return -EINVAL;
	}
	if (args->flags & DRM_ANPU_SUBMIT_PROFILE) {
		if (args->profile_size < sizeof(struct anpu_hw_profile_header) ||
		    !IS_ALIGNED(args->profile_offset, 8)) {
			drm_dbg(dev, "SUBMIT: profile_size %u too small or offset unaligned\n",
				args->profile_size);
			return -EINVAL;
		}
	} else if (args->profile_handle || args->profile_size || args->profile_offset) {
		drm_dbg(dev, "SUBMIT: profile fields set without DRM_ANPU_SUBMIT_PROFILE\n");
		return -EINVAL;
	}
	ret = anpu_check_array(dev, &args->bos, ANPU_MAX_BOS, "bos");
	if (!ret)
		ret = anpu_check_array(dev, &args->in_syncs, ANPU_MAX_SYNCS, "in_syncs");
	if (!ret)
		ret = anpu_check_array(dev, &args->out_syncs, ANPU_MAX_SYNCS, "out_syncs");
	return ret;
}

/*
 * Lock the reservations of @bos (@job's BOs) and add their implicit
 * dependencies to @job, a fence slot reserved in each. On error they are
 * unlocked again.
 */
static int anpu_submit_lock_bos(struct anpu_job *job, struct drm_gem_object **bos,
				u32 bo_count, struct ww_acquire_ctx *ww)
{
	int ret;

	ret = drm_gem_lock_reservations(bos, bo_count, ww);
	if (ret)
		return ret;
	for (u32 i = 0; i < bo_count; i++) {
		ret = dma_resv_reserve_fences(bos[i]->resv, 1);
		if (ret)
			goto unlock;
		ret = drm_sched_job_add_implicit_dependencies(&job->base, bos[i],
							      job->bo_write[i]);
		if (ret)
			goto unlock;
	}
	return 0;

unlock:
	drm_gem_unlock_reservations(bos, bo_count, ww);
	return ret;
}

/*
 * Arm and push @job under its context's lock, the reservations of its
 * @bo_count BOs @bos held: its finished fence goes into every reservation
 * and into @file_link, the file's chain of job fences. On success the job is
 * the scheduler's and not touched again.
 *
 * Return: a new reference to the job's finished fence, or ERR_PTR(-ENOENT)
 * (context destroyed) or ERR_PTR(-ECANCELED) (context guilty), the job not
 * armed.
 */
static struct dma_fence *anpu_submit_push(struct anpu_job *job, struct drm_anpu_submit *args,
					  struct drm_gem_object **bos, u32 bo_count,
					  struct dma_fence_chain *file_link)
{
	struct drm_anpu_job_info queued = { .state = DRM_ANPU_JOB_QUEUED };
	struct anpu_ctx *ctx = job->ctx;
	struct dma_fence *done;

	guard(mutex)(&ctx->lock);
	if (ctx->destroyed)
		return ERR_PTR(-ENOENT);
	if (atomic_read(&ctx->guilty))
		return ERR_PTR(-ECANCELED);
	drm_sched_job_arm(&job->base);
	done = dma_fence_get(&job->base.s_fence->finished);
	job->seqno = ctx->next_seqno++;
	anpu_ctx_record(ctx, job->seqno, &queued);
	for (u32 i = 0; i < bo_count; i++)
		dma_resv_add_fence(bos[i]->resv, done,
				   job->bo_write[i] ? DMA_RESV_USAGE_WRITE :
						      DMA_RESV_USAGE_READ);
	args->seqno = job->seqno;
	atomic64_inc(&job->af->jobs_submitted);
	atomic64_inc(&job->queue->stats.jobs_submitted);
	job->client_id = job->af->drm_file->client_id;
	job->pid = task_tgid_nr(current);
	job->uid = from_kuid_munged(&init_user_ns, current_uid());
	job->submit_ns = ktime_get_ns();
	trace_anpu_submit(job->queue->index, ctx->id, job->seqno, bo_count);
	anpu_file_add_job_fence(job->af, file_link, done);
	/* the scheduler's reference, dropped by free_job */
	kref_get(&job->ref);
	drm_sched_entity_push_job(&job->base);
	/* the job is the scheduler's now: not one more access */
	return done;
}

/* Signal @count out-syncs @out with @done (a timeline point takes its chain node). */
static void anpu_out_syncs_signal(struct anpu_out_sync *out, u32 count, struct dma_fence *done)
{
	for (u32 i = 0; i < count; i++) {
		if (out[i].chain) {
			drm_syncobj_add_point(out[i].syncobj, out[i].chain, done, out[i].point);
			out[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(out[i].syncobj, done);
		}
	}
}

/*
 * Look up, check and push @job. On success the scheduler owns the job (the
 * caller's reference only keeps its memory) and nothing of it is touched
 * after the push; on error it was never armed.
 */
static int anpu_submit(struct anpu_job *job, struct drm_file *file,
		       struct drm_anpu_submit *args, struct anpu_out_sync *out,
		       struct dma_fence_chain *file_link)
{
	struct drm_gem_object *cmd = NULL, *prof = NULL;
	struct drm_gem_object **bos;
	struct ww_acquire_ctx ww;
	struct dma_fence *done;
	u32 bo_count;
	int ret;

	ret = anpu_job_lookup_bos(job, file, args, &cmd, &prof);
	if (ret)
		return ret;
	ret = anpu_job_fill_desc(job, args, cmd, prof);
	if (ret)
		return ret;
	ret = drm_sched_job_init(&job->base, &job->ctx->entity, 1, job->af, file->client_id);
	if (ret)
		return ret;
	ret = anpu_job_add_in_syncs(job, file, &args->in_syncs);
	if (ret)
		return ret;
	ret = anpu_out_syncs_get(file, &args->out_syncs, out);
	if (ret)
		return ret;
	ret = anpu_pm_get(job->adev);
	if (ret)
		return ret;
	job->pm_ref = true;

	/* ours, not the job's: it may be freed as soon as it is pushed */
	bos = job->bos;
	bo_count = job->bo_count;
	ret = anpu_submit_lock_bos(job, bos, bo_count, &ww);
	if (ret)
		return ret;
	done = anpu_submit_push(job, args, bos, bo_count, file_link);
	drm_gem_unlock_reservations(bos, bo_count, &ww);
	if (IS_ERR(done))
		return PTR_ERR(done);

	anpu_out_syncs_signal(out, args->out_syncs.count, done);
	dma_fence_put(done);
	return 0;
}

int anpu_ioctl_submit(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_submit *args = data;
	struct dma_fence_chain *file_link;
	struct anpu_out_sync *out = NULL;
	struct anpu_ctx *ctx;
	struct anpu_job *job;
	int ret, idx;

	ret = anpu_submit_check(dev, args);
	if (ret)
		return ret;
	ctx = anpu_ctx_lookup(af, args->ctx_id);
	if (!ctx)
		return -ENOENT;
	if (atomic_read(&ctx->guilty)) {
		anpu_ctx_put(ctx);
		return -ECANCELED;
	}
	ret = anpu_job_alloc(adev, &job, &file_link);
	if (ret) {
		anpu_ctx_put(ctx);
		return ret;
	}
	job->ctx = ctx;
	job->queue = ctx->queue;
	job->af = anpu_file_get(af);
	if (args->out_syncs.count) {
		out = kvcalloc(args->out_syncs.count, sizeof(*out), GFP_KERNEL);
		if (!out) {
			ret = -ENOMEM;
			goto err;
		}
	}

	/*
	 * The address space keeps its hardware id from here to the push. Pinned
	 * outside drm_dev_enter(): it may wait for another file's jobs.
	 */
	ret = anpu_as_pin(af->as);
	if (ret)
		goto err;
	if (!drm_dev_enter(dev, &idx)) {
		anpu_as_unpin(af->as);
		ret = -ENODEV;
		goto err;
	}
	ret = anpu_submit(job, file, args, out, file_link);
	drm_dev_exit(idx);
	anpu_as_unpin(af->as);
	anpu_out_syncs_free(out, args->out_syncs.count);
	if (!ret) {
		anpu_job_put(job);	/* SUBMIT's reference */
		return 0;
	}
	out = NULL;
err:
	anpu_out_syncs_free(out, args->out_syncs.count);
	dma_fence_chain_free(file_link);
	job->done = true; /* never queued: no JOB_INFO record */
	anpu_job_cleanup(job);
	anpu_job_put(job);
	return ret;
}
