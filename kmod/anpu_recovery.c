// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko recovery: job timeouts, queue and device reset.
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
 */

#include <linux/delay.h>

#include <drm/drm_drv.h>
#include <drm/drm_print.h>

#include "anpu_drv.h"
#include "anpu_job.h"
#include "anpu_trace.h"

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

enum drm_gpu_sched_stat anpu_sched_timedout_job(struct drm_sched_job *sj)
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
