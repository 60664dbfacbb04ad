// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko jobs: SUBMIT, one drm_sched per hardware queue, hardware fences,
 * completion and recovery.
 *
 * Everything a job needs to run is allocated at submit: run_job only writes
 * the ring descriptor (status record per ring slot) and rings the doorbell,
 * and the completion path (the job interrupt's thread) only reads
 * COMPLETED_SEQ and status records and signals fences. The job holds its
 * BOs, its file (and so its address space), its context and a runtime-PM
 * reference until it is freed.
 *
 * Recovery runs on one ordered workqueue for the four schedulers: a job
 * whose queue still advances PROGRESS is put back; a hung one gets the queue
 * reset (the device reset when that fails), fails with -ETIMEDOUT and makes
 * its context guilty; innocent jobs the reset dropped are pushed to the ring
 * again by the driver itself. A job still waiting for the engine is put back
 * too (the doorbell rung again), unless the whole device has shown no
 * activity for ANPU_WEDGE_TIMEOUTS of its timeouts in a row with no queue
 * HUNG: then the device is wedged and is reset, and every job is pushed
 * again. Both "put back" and "after a reset" use drm_sched_stop(), the
 * hardware fences given back as parents, and drm_sched_start() (as pvr and
 * panthor do in 6.12): never the deprecated drm_sched_resubmit_jobs() nor
 * edits of the scheduler's pending list.
 *
 * Lifetime: a job is referenced (anpu_job.ref) by the SUBMIT ioctl until it
 * returns and by the scheduler from the push to free_job. SUBMIT touches
 * nothing of the job after drm_sched_entity_push_job(): it unlocks the
 * reservations through its own copy of the BO array pointer, alive as long as
 * its reference.
 *
 * Locks taken in the fence-signalling paths (run_job, the job interrupt's
 * thread, timedout_job): anpu_queue.ring_lock, anpu_hw.queue[].lock,
 * anpu_hw.ctrl_lock (resets), anpu_ctx.info_lock and the fence lock. None is
 * held around an allocation; lockdep is told so at init (anpu_sched_init()).
 */

#include <linux/delay.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-resv.h>
#include <linux/error-injection.h>
#include <linux/sched/mm.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "anpu_drv.h"
#include "anpu_trace.h"

/**
 * struct anpu_job - one submitted job
 * @base: the scheduler job.
 * @adev: the device (a drm_dev reference is held).
 * @af: the submitting file (a reference is held).
 * @ctx: its context (a reference is held).
 * @queue: its queue.
 * @seqno: seqno on its context.
 * @bos: BOs it uses (references held), command and profile BOs included.
 * @bo_write: per @bos entry, whether the job writes it.
 * @bo_count: entries in @bos.
 * @desc: descriptor template (seqno and status address are set per push).
 * @hw_fence: the hardware fence (allocated at submit, initialised by the
 *	first run_job).
 * @fence_inited: @hw_fence is initialised (the job has been run).
 * @ring_link: in anpu_queue.inflight while on the ring.
 * @on_ring: the job is on the ring (under anpu_queue.ring_lock).
 * @slot: its ring slot (status record).
 * @hw_seqno: descriptor seqno of its last push.
 * @hung: recovery found it hung (its ABORTED status means -ETIMEDOUT).
 * @done: its status has been recorded.
 * @pm_ref: it holds a runtime-PM reference.
 * @ref: SUBMIT's reference and the scheduler's (see the top of the file).
 */
struct anpu_job {
	struct drm_sched_job base;
	struct kref ref;
	struct anpu_device *adev;
	struct anpu_file *af;
	struct anpu_ctx *ctx;
	struct anpu_queue *queue;
	u64 seqno;
	struct drm_gem_object **bos;
	bool *bo_write;
	u32 bo_count;
	struct anpu_hw_job_desc desc;
	struct dma_fence *hw_fence;
	bool fence_inited;
	struct list_head ring_link;
	bool on_ring;
	u32 slot;
	u64 hw_seqno;
	bool hung;
	bool done;
	bool pm_ref;
};

static const char * const anpu_queue_names[ANPU_HW_NUM_QUEUES] = {
	"anpu-low", "anpu-normal", "anpu-high", "anpu-realtime",
};

static struct anpu_job *to_anpu_job(struct drm_sched_job *sj)
{
	return container_of(sj, struct anpu_job, base);
}

static const char *anpu_fence_driver_name(struct dma_fence *f)
{
	return ANPU_DRIVER_NAME;
}

static const char *anpu_fence_timeline_name(struct dma_fence *f)
{
	/* the fence lock is the queue's: find the queue's name from it */
	struct anpu_queue *queue = container_of(f->lock, struct anpu_queue, fence_lock);

	return anpu_queue_names[queue->index];
}

static const struct dma_fence_ops anpu_fence_ops = {
	.get_driver_name = anpu_fence_driver_name,
	.get_timeline_name = anpu_fence_timeline_name,
};

/*
 * The scheduler is done with @job, or it never reached the scheduler: its
 * JOB_INFO record (aborted, unless it ended) and its scheduler fences.
 */
static void anpu_job_cleanup(struct anpu_job *job)
{
	if (!job->done && job->ctx) {
		struct drm_anpu_job_info info = {
			.state = DRM_ANPU_JOB_DONE,
			.result = ANPU_RESULT_ABORTED,
		};
		int err = job->base.s_fence ? job->base.s_fence->finished.error : 0;

		info.error = err ? -err : ECANCELED;
		anpu_ctx_record(job->ctx, job->seqno, &info);
	}
	if (job->base.s_fence)
		drm_sched_job_cleanup(&job->base);
}

static void anpu_job_release(struct kref *ref)
{
	struct anpu_job *job = container_of(ref, struct anpu_job, ref);
	struct anpu_device *adev = job->adev;

	for (u32 i = 0; i < job->bo_count; i++)
		drm_gem_object_put(job->bos[i]);
	kvfree(job->bos);
	kvfree(job->bo_write);
	if (job->hw_fence) {
		if (job->fence_inited)
			dma_fence_put(job->hw_fence);
		else
			kfree(job->hw_fence);
	}
	if (job->pm_ref)
		anpu_pm_put(adev);
	if (job->ctx)
		anpu_ctx_put(job->ctx);
	if (job->af)
		anpu_file_put(job->af);
	atomic_dec(&adev->count.jobs);
	kfree(job);
	drm_dev_put(&adev->drm);
}

static void anpu_job_put(struct anpu_job *job)
{
	kref_put(&job->ref, anpu_job_release);
}

/* ---- ring and completion ---- */

static int anpu_job_push_locked(struct anpu_queue *queue, struct anpu_job *job)
{
	struct anpu_hw_job_desc desc = job->desc;
	int ret;

	lockdep_assert_held(&queue->ring_lock);
	ret = anpu_hw_queue_push(&queue->adev->hw, queue->index, &desc, &job->slot);
	if (ret)
		return ret;
	job->hw_seqno = desc.seqno;
	job->on_ring = true;
	list_add_tail(&job->ring_link, &queue->inflight);
	trace_anpu_run(queue->index, job->ctx->id, job->seqno, job->hw_seqno);
	return 0;
}

static void anpu_job_complete_locked(struct anpu_queue *queue, struct anpu_job *job,
				     const struct anpu_hw_job_status *st, int err)
{
	struct drm_anpu_job_info info = {
		.state = DRM_ANPU_JOB_DONE,
		.result = st->result,
		.cause = st->cause,
		.op_index = st->op_index,
		.fault_addr = st->fault_addr,
		.start_ns = st->start_ns,
		.end_ns = st->end_ns,
		.ops_done = st->ops_done,
	};

	lockdep_assert_held(&queue->ring_lock);
	if (!err) {
		switch (st->result) {
		case ANPU_RESULT_OK:
			break;
		case ANPU_RESULT_ABORTED:
			err = job->hung ? -ETIMEDOUT : -ECANCELED;
			break;
		default:
			err = -EIO;
			break;
		}
	}
	if (err == -EIO || err == -ETIMEDOUT) {
		atomic_set(&job->ctx->guilty, 1);
		atomic64_inc(&job->af->faults);
		trace_anpu_fault(queue->index, job->ctx->id, job->seqno, st->result,
				 st->cause, st->fault_addr);
	}
	if (st->end_ns > st->start_ns)
		atomic64_add(st->end_ns - st->start_ns, &job->af->busy_ns);
	info.error = -err;
	anpu_ctx_record(job->ctx, job->seqno, &info);
	job->done = true;
	if (job->on_ring) {
		list_del(&job->ring_link);
		job->on_ring = false;
	}
	trace_anpu_done(queue->index, job->ctx->id, job->seqno, err);
	if (err)
		dma_fence_set_error(job->hw_fence, err);
	dma_fence_signal(job->hw_fence);
}

static void anpu_queue_retire_locked(struct anpu_queue *queue)
{
	struct anpu_hw *hw = &queue->adev->hw;
	struct anpu_job *job, *tmp;
	struct anpu_hw_queue_state qs;

	lockdep_assert_held(&queue->ring_lock);
	if (list_empty(&queue->inflight))
		return;
	anpu_hw_queue_state(hw, queue->index, &qs);
	list_for_each_entry_safe(job, tmp, &queue->inflight, ring_link) {
		struct anpu_hw_job_status st;

		if (job->hw_seqno > qs.completed_seq)
			break;
		anpu_hw_queue_status(hw, queue->index, job->slot, &st);
		if (st.seqno != job->hw_seqno) {
			/* finished without a usable status record */
			memset(&st, 0, sizeof(st));
			st.result = ANPU_RESULT_INVALID;
			anpu_job_complete_locked(queue, job, &st, -EIO);
		} else {
			anpu_job_complete_locked(queue, job, &st, 0);
		}
	}
}

/* After a reset: retire what finished (its status record says so), drop the rest. */
static void anpu_queue_collect_locked(struct anpu_queue *queue)
{
	struct anpu_hw *hw = &queue->adev->hw;
	struct anpu_job *job, *tmp;

	lockdep_assert_held(&queue->ring_lock);
	list_for_each_entry_safe(job, tmp, &queue->inflight, ring_link) {
		struct anpu_hw_job_status st;

		anpu_hw_queue_status(hw, queue->index, job->slot, &st);
		if (st.seqno == job->hw_seqno) {
			anpu_job_complete_locked(queue, job, &st, 0);
		} else {
			list_del(&job->ring_link);
			job->on_ring = false;
		}
	}
}

/* The job interrupt's thread: retire every finished job of every queue. */
void anpu_jobs_done(struct anpu_hw *hw)
{
	struct anpu_device *adev = container_of(hw, struct anpu_device, hw);

	trace_anpu_irq(atomic_read(&hw->irq_job));
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		struct anpu_queue *queue = &adev->queue[q];

		guard(mutex)(&queue->ring_lock);
		anpu_queue_retire_locked(queue);
	}
}

/* The device is gone: fail every job on a ring. */
static void anpu_queues_fail_all(struct anpu_device *adev, int err)
{
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		struct anpu_queue *queue = &adev->queue[q];
		struct anpu_hw_job_status st = { .result = ANPU_RESULT_ABORTED };
		struct anpu_job *job, *tmp;

		guard(mutex)(&queue->ring_lock);
		list_for_each_entry_safe(job, tmp, &queue->inflight, ring_link)
			anpu_job_complete_locked(queue, job, &st, err);
	}
}

/* After a power-up: ring every queue that has work. */
void anpu_queues_kick(struct anpu_device *adev)
{
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		anpu_hw_queue_kick(&adev->hw, q);
}

/* ---- scheduler backend ---- */

static struct dma_fence *anpu_sched_run_job(struct drm_sched_job *sj)
{
	struct anpu_job *job = to_anpu_job(sj);
	struct anpu_queue *queue = job->queue;
	struct drm_anpu_job_info info = { .state = DRM_ANPU_JOB_RUNNING };
	int ret = 0, idx;

	/* run once: recovery pushes dropped jobs again itself */
	if (WARN_ON(job->fence_inited))
		return dma_fence_get(job->hw_fence);
	if (unlikely(sj->s_fence->finished.error))
		return NULL;
	if (!drm_dev_enter(&job->adev->drm, &idx))
		return ERR_PTR(-ENODEV);

	scoped_guard(mutex, &queue->ring_lock) {
		dma_fence_init(job->hw_fence, &anpu_fence_ops, &queue->fence_lock,
			       queue->fence_context, ++queue->fence_seqno);
		job->fence_inited = true;
		anpu_ctx_record(job->ctx, job->seqno, &info);
		ret = anpu_job_push_locked(queue, job);
		if (ret) {
			dma_fence_set_error(job->hw_fence, ret);
			dma_fence_signal(job->hw_fence);
		}
	}
	drm_dev_exit(idx);
	return dma_fence_get(job->hw_fence);
}

static void anpu_sched_free_job(struct drm_sched_job *sj)
{
	struct anpu_job *job = to_anpu_job(sj);

	anpu_job_cleanup(job);
	anpu_job_put(job);	/* the scheduler's reference */
}

static void anpu_reset_rate_limit(struct anpu_device *adev)
{
	unsigned long next = adev->last_reset + msecs_to_jiffies(ANPU_RESET_MIN_GAP_MS);

	if (adev->last_reset && time_before(jiffies, next))
		msleep(jiffies_to_msecs(next - jiffies));
}

/*
 * After a reset of stopped @queue, its finished jobs retired
 * (anpu_queue_collect_locked()): push the jobs the reset dropped to the ring
 * again, in their order. A hung job the reset dropped without a status
 * record fails with -ETIMEDOUT instead; with the device gone, every one fails
 * with -ENODEV. The pending list is walked without its lock, as
 * drm_sched_start() does: the scheduler is stopped, and its timeout handlers
 * run one at a time on the ordered anpu_device.tdr_wq.
 *
 * Return: the number of jobs pushed again (debugfs "jobs_resubmitted").
 */
static int anpu_queue_repush(struct anpu_queue *queue)
{
	struct anpu_hw_job_status aborted = { .result = ANPU_RESULT_ABORTED };
	struct drm_sched_job *sj;
	int n = 0, idx;
	bool alive;

	alive = drm_dev_enter(&queue->adev->drm, &idx);
	scoped_guard(mutex, &queue->ring_lock) {
		list_for_each_entry(sj, &queue->sched.pending_list, list) {
			struct anpu_job *job = to_anpu_job(sj);
			int ret;

			if (!job->fence_inited || job->on_ring ||
			    dma_fence_is_signaled(job->hw_fence))
				continue;
			if (!alive)
				ret = -ENODEV;
			else if (job->hung)
				ret = -ETIMEDOUT;
			else
				ret = anpu_job_push_locked(queue, job);
			if (ret)
				anpu_job_complete_locked(queue, job, &aborted, ret);
			else
				n++;
		}
	}
	if (alive)
		drm_dev_exit(idx);
	return n;
}

/*
 * Restart stopped @queue's scheduler: every pending job gets its hardware
 * fence back as its parent (drm_sched_stop() dropped them), and
 * drm_sched_start() adds the completion callbacks again (a fence that
 * signalled meanwhile completes the job at once) and rearms the timeout.
 * Pending-list walk: see anpu_queue_repush().
 */
static void anpu_sched_restart(struct anpu_queue *queue)
{
	struct drm_sched_job *sj;

	list_for_each_entry(sj, &queue->sched.pending_list, list) {
		struct anpu_job *job = to_anpu_job(sj);

		if (!sj->s_fence->parent && job->fence_inited)
			sj->s_fence->parent = dma_fence_get(job->hw_fence);
	}
	drm_sched_start(&queue->sched);
}

/*
 * A timeout that is no hang: give @job (which the scheduler took off its
 * pending list to call us) back and rearm the timeout. drm_sched_stop()
 * reinserts it (or frees it after we return, if it ended meanwhile).
 */
static void anpu_sched_requeue(struct anpu_queue *queue, struct anpu_job *job)
{
	drm_sched_stop(&queue->sched, &job->base);
	anpu_sched_restart(queue);
}

/*
 * Reset a queue (or, when @q < 0 or the queue reset fails, the device) and
 * resubmit the jobs the reset dropped. @job is the job whose timeout led
 * here, if any: the scheduler took it off its pending list, drm_sched_stop()
 * puts it back; @guilty says it hung (it fails with -ETIMEDOUT, its context
 * becomes guilty and a devcoredump is taken). Runs on the timeout workqueue
 * (ordered: one recovery at a time).
 */
static void anpu_recover_on_wq(struct anpu_device *adev, int q, struct anpu_job *job,
			       bool guilty)
{
	struct drm_sched_job *bad = job ? &job->base : NULL;
	bool stopped[ANPU_HW_NUM_QUEUES] = { };
	bool device = q < 0;
	int ret = 0;

	anpu_reset_rate_limit(adev);
	if (job && guilty) {
		anpu_coredump(adev, job->queue->index, job->hw_seqno);
		scoped_guard(mutex, &job->queue->ring_lock)
			job->hung = true;
	}
	if (!device) {
		drm_sched_stop(&adev->queue[q].sched, bad);
		stopped[q] = true;
		ret = anpu_hw_reset_queue(&adev->hw, q);
		trace_anpu_reset(q, ret);
		if (ret)
			dev_warn(adev->drm.dev, "queue %d reset failed (%d): resetting the device\n",
				 q, ret);
		else
			atomic_inc(&adev->count.resets_queue);
		device = ret != 0;
	}
	if (device) {
		for (unsigned int i = 0; i < ANPU_HW_NUM_QUEUES; i++) {
			if (!stopped[i])
				drm_sched_stop(&adev->queue[i].sched, bad);
			stopped[i] = true;
		}
		ret = anpu_hw_reset_device(&adev->hw);
		trace_anpu_reset(-1, ret);
		if (ret)
			dev_err(adev->drm.dev, "device reset failed: %d\n", ret);
		atomic_inc(&adev->count.resets_device);
	}
	for (unsigned int i = 0; i < ANPU_HW_NUM_QUEUES; i++) {
		struct anpu_queue *queue = &adev->queue[i];

		queue->wd_valid = false;
		queue->wd_count = 0;
		if (!stopped[i])
			continue;
		scoped_guard(mutex, &queue->ring_lock)
			anpu_queue_collect_locked(queue);
		queue->hc_seqno = 0;
		atomic_add(anpu_queue_repush(queue), &adev->count.jobs_resubmitted);
		anpu_sched_restart(queue);
	}
	adev->last_reset = jiffies;
}

/*
 * Wedge check, at a timeout of @queue's job that waits for the engine: true
 * when this is the ANPU_WEDGE_TIMEOUTS-th timeout of @queue in a row with no
 * device activity since the previous one (every queue's PROGRESS and
 * JOBS_DONE unchanged) and no queue HUNG (a hung queue's own timeout resets
 * it). Runs on the timeout workqueue.
 */
static bool anpu_queue_wedged(struct anpu_device *adev, struct anpu_queue *queue)
{
	struct anpu_hw_queue_state qs;
	bool hung = false;
	u64 activity = 0;

	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		anpu_hw_queue_state(&adev->hw, q, &qs);
		activity += ((u64)qs.jobs_done << 32) + qs.progress;
		hung |= qs.state == ANPU_QSTATE_HUNG;
	}
	if (hung || !queue->wd_valid || activity != queue->wd_activity) {
		queue->wd_activity = activity;
		queue->wd_valid = true;
		queue->wd_count = 0;
		return false;
	}
	return ++queue->wd_count >= ANPU_WEDGE_TIMEOUTS;
}

static enum drm_gpu_sched_stat anpu_sched_timedout_job(struct drm_sched_job *sj)
{
	struct anpu_job *job = to_anpu_job(sj);
	struct anpu_queue *queue = job->queue;
	struct anpu_device *adev = job->adev;
	struct anpu_hw_queue_state qs;
	bool on_ring;
	int idx;

	if (!drm_dev_enter(&adev->drm, &idx)) {
		/*
		 * Unplugged: anpu_sched_fini() fails what is on the rings. The
		 * job goes back on the pending list, so that its end frees it
		 * (DRM_GPU_SCHED_STAT_ENODEV would leak it).
		 */
		anpu_sched_requeue(queue, job);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}

	if (!job->fence_inited || dma_fence_is_signaled(job->hw_fence))
		goto rearm;
	scoped_guard(mutex, &queue->ring_lock)
		on_ring = job->on_ring;
	if (!on_ring)
		goto rearm;

	anpu_hw_queue_state(&adev->hw, queue->index, &qs);
	if (qs.state == ANPU_QSTATE_ERROR) {
		dev_warn(adev->drm.dev, "queue %u in error state: resetting it\n", queue->index);
		anpu_recover_on_wq(adev, queue->index, job, false);
		goto out;
	}
	if (qs.current_seq != job->hw_seqno) {
		/* waiting behind other jobs (or a hung queue): not this job's fault */
		if (anpu_queue_wedged(adev, queue)) {
			dev_warn(adev->drm.dev,
				 "queue %u: no device activity over %d timeouts and no queue hung: resetting the device\n",
				 queue->index, ANPU_WEDGE_TIMEOUTS);
			anpu_recover_on_wq(adev, -1, job, false);
			goto out;
		}
		if (qs.state == ANPU_QSTATE_IDLE)
			anpu_hw_queue_kick(&adev->hw, queue->index);
		goto rearm;
	}
	if (qs.state != ANPU_QSTATE_HUNG &&
	    (queue->hc_seqno != job->hw_seqno || queue->hc_progress != qs.progress)) {
		/* still making progress: slow, not hung */
		queue->hc_seqno = job->hw_seqno;
		queue->hc_progress = qs.progress;
		goto rearm;
	}

	dev_warn(adev->drm.dev, "job %llu of context %u hung on queue %u: resetting\n",
		 job->seqno, job->ctx->id, queue->index);
	anpu_recover_on_wq(adev, queue->index, job, true);
	goto out;

rearm:
	anpu_sched_requeue(queue, job);
out:
	drm_dev_exit(idx);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static const struct drm_sched_backend_ops anpu_sched_ops = {
	.run_job = anpu_sched_run_job,
	.timedout_job = anpu_sched_timedout_job,
	.free_job = anpu_sched_free_job,
};

struct anpu_reset_work {
	struct work_struct work;
	struct anpu_device *adev;
	int queue;
};

static void anpu_reset_work_fn(struct work_struct *work)
{
	struct anpu_reset_work *rw = container_of(work, struct anpu_reset_work, work);

	anpu_recover_on_wq(rw->adev, rw->queue, NULL, false);
}

/**
 * anpu_recover() - reset a queue (or the device with @queue < 0) now
 * @adev: the device
 * @queue: queue index, or -1 for the device
 *
 * Jobs on the reset queues are resubmitted. For debugfs.
 *
 * Return: 0 or -errno.
 */
int anpu_recover(struct anpu_device *adev, int queue)
{
	struct anpu_reset_work rw = { .adev = adev, .queue = queue };
	int ret;

	if (queue >= ANPU_HW_NUM_QUEUES) {
		drm_dbg(&adev->drm, "recover: no queue %d\n", queue);
		return -EINVAL;
	}
	ret = anpu_pm_get(adev);
	if (ret)
		return ret;
	INIT_WORK_ONSTACK(&rw.work, anpu_reset_work_fn);
	queue_work(adev->tdr_wq, &rw.work);
	flush_work(&rw.work);
	destroy_work_on_stack(&rw.work);
	anpu_pm_put(adev);
	return 0;
}

static void anpu_sched_fini_action(struct drm_device *drm, void *arg)
{
	struct anpu_device *adev = to_anpu(drm);

	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		if (adev->queue[q].sched.ready)
			drm_sched_fini(&adev->queue[q].sched);
	destroy_workqueue(adev->tdr_wq);
	anpu_coredump_fini(adev);
}

/*
 * Tell lockdep that the locks of the fence-signalling paths (run_job, the job
 * interrupt's thread, timedout_job and recovery) may be taken in memory
 * reclaim: a shrinker may wait for a job's fence, so none of them may be held
 * around a GFP_KERNEL allocation. Without this, lockdep only learns of such a
 * dependency if a reclaim happens to wait on a fence while it runs.
 */
static void anpu_sched_prime_lockdep(struct anpu_device *adev)
{
	if (!IS_ENABLED(CONFIG_LOCKDEP))
		return;
	fs_reclaim_acquire(GFP_KERNEL);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		might_lock(&adev->queue[q].ring_lock);
		might_lock(&adev->hw.queue[q].lock);
	}
	might_lock(&adev->hw.ctrl_lock);
	fs_reclaim_release(GFP_KERNEL);
}

int anpu_sched_init(struct anpu_device *adev)
{
	int ret;

	anpu_coredump_init(adev);
	adev->tdr_wq = alloc_ordered_workqueue("anpu-tdr", 0);
	if (!adev->tdr_wq)
		return -ENOMEM;
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		struct anpu_queue *queue = &adev->queue[q];
		const struct drm_sched_init_args args = {
			.ops = &anpu_sched_ops,
			.timeout_wq = adev->tdr_wq,
			.num_rqs = DRM_SCHED_PRIORITY_COUNT,
			/* a slot stays free for the debugfs self-test */
			.credit_limit = ANPU_HW_RING_ENTRIES - 2,
			.hang_limit = 0,
			.timeout = msecs_to_jiffies(ANPU_JOB_TIMEOUT_MS),
			.name = anpu_queue_names[q],
			.dev = adev->drm.dev,
		};

		queue->adev = adev;
		queue->index = q;
		spin_lock_init(&queue->fence_lock);
		ret = drmm_mutex_init(&adev->drm, &queue->ring_lock);
		if (ret)
			goto err;
		INIT_LIST_HEAD(&queue->inflight);
		queue->fence_context = dma_fence_context_alloc(1);
		ret = drm_sched_init(&queue->sched, &args);
		if (ret)
			goto err;
	}
	adev->hw.jobs_done = anpu_jobs_done;
	anpu_sched_prime_lockdep(adev);
	return drmm_add_action_or_reset(&adev->drm, anpu_sched_fini_action, NULL);
err:
	anpu_sched_fini_action(&adev->drm, NULL);
	return ret;
}

/* At unplug: nothing runs any more; fail what was on the rings. */
void anpu_sched_fini(struct anpu_device *adev)
{
	adev->hw.jobs_done = NULL;
	anpu_queues_fail_all(adev, -ENODEV);
}

/* ---- SUBMIT ---- */

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
 * Add @fence, a job's finished fence, to @af's chain of job fences, @chain
 * preallocated (no allocation after the job is armed). Called at push time
 * under the context's lock.
 */
static void anpu_file_add_job_fence(struct anpu_file *af, struct dma_fence_chain *chain,
				    struct dma_fence *fence)
{
	struct dma_fence *iter;

	guard(spinlock)(&af->job_fence_lock);
	/* the chain takes over the reference to the previous head */
	dma_fence_chain_init(chain, af->last_job_fence, dma_fence_get(fence),
			     ++af->job_fence_seqno);
	af->last_job_fence = &chain->base;
	/* one walk drops the links whose jobs ended (as drm_syncobj_add_point()) */
	dma_fence_chain_for_each(iter, &chain->base)
		continue;
}

/**
 * anpu_file_last_job_fence() - a fence for every job a file has pushed so far
 * @af: the file
 *
 * The fence signals once every job of @af pushed to the scheduler before the
 * call has ended (finished fence signalled: completed, failed or cancelled),
 * whatever its context or queue: it is the head of a dma_fence_chain of the
 * jobs' finished fences, extended by SUBMIT right before each push, under
 * anpu_ctx.lock and anpu_file.job_fence_lock. A job whose push has begun is
 * in it; one that has not cannot have used anything freed before the call.
 *
 * Context: takes anpu_file.job_fence_lock (a spinlock); any context that may
 * take a spinlock, no lock of the fence-signalling paths needed.
 *
 * Return: a new reference to the fence (dma_fence_put() it), or NULL when
 * every job of @af has ended or it never pushed one.
 */
struct dma_fence *anpu_file_last_job_fence(struct anpu_file *af)
{
	struct dma_fence *fence;

	scoped_guard(spinlock, &af->job_fence_lock)
		fence = dma_fence_get(af->last_job_fence);
	if (fence && dma_fence_is_signaled(fence)) {
		dma_fence_put(fence);
		return NULL;
	}
	return fence;
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
	struct drm_anpu_job_info queued = { .state = DRM_ANPU_JOB_QUEUED };
	struct drm_gem_object *cmd = NULL, *prof = NULL;
	struct anpu_ctx *ctx = job->ctx;
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
	ret = drm_sched_job_init(&job->base, &ctx->entity, 1, job->af, file->client_id);
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
	ret = drm_gem_lock_reservations(bos, bo_count, &ww);
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

	scoped_guard(mutex, &ctx->lock) {
		if (ctx->destroyed) {
			ret = -ENOENT;
			goto unlock;
		}
		if (atomic_read(&ctx->guilty)) {
			ret = -ECANCELED;
			goto unlock;
		}
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
		trace_anpu_submit(job->queue->index, ctx->id, job->seqno, bo_count);
		anpu_file_add_job_fence(job->af, file_link, done);
		/* the scheduler's reference, dropped by free_job */
		kref_get(&job->ref);
		drm_sched_entity_push_job(&job->base);
		/* the job is the scheduler's now: not one more access */
	}
	drm_gem_unlock_reservations(bos, bo_count, &ww);

	for (u32 i = 0; i < args->out_syncs.count; i++) {
		if (out[i].chain) {
			drm_syncobj_add_point(out[i].syncobj, out[i].chain, done, out[i].point);
			out[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(out[i].syncobj, done);
		}
	}
	dma_fence_put(done);
	return 0;

unlock:
	drm_gem_unlock_reservations(bos, bo_count, &ww);
	return ret;
}

/*
 * The driver's own job allocation (struct, hardware fence, the file's chain
 * link): a fault point of its own for the fail-nth sweep (fail_function).
 */
static noinline int anpu_job_alloc(struct anpu_device *adev, struct anpu_job **jobp,
				   struct dma_fence_chain **linkp)
{
	struct anpu_job *job;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL);
	*linkp = dma_fence_chain_alloc();
	if (!job->hw_fence || !*linkp) {
		dma_fence_chain_free(*linkp);
		kfree(job->hw_fence);
		kfree(job);
		return -ENOMEM;
	}
	kref_init(&job->ref);
	INIT_LIST_HEAD(&job->ring_link);
	drm_dev_get(&adev->drm);
	atomic_inc(&adev->count.jobs);
	job->adev = adev;
	*jobp = job;
	return 0;
}
ALLOW_ERROR_INJECTION(anpu_job_alloc, ERRNO);

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
