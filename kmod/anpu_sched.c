// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko scheduling: one drm_sched per hardware queue (all four share the
 * ordered timeout workqueue of anpu_recovery.c), the hardware fences, and
 * run_job, which only writes the ring descriptor and rings the doorbell.
 */

#include <linux/sched/mm.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#include "anpu_drv.h"
#include "anpu_job.h"

static const char * const anpu_queue_names[ANPU_HW_NUM_QUEUES] = {
	"anpu-low", "anpu-normal", "anpu-high", "anpu-realtime",
};

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

static const struct drm_sched_backend_ops anpu_sched_ops = {
	.run_job = anpu_sched_run_job,
	.timedout_job = anpu_sched_timedout_job,
	.free_job = anpu_sched_free_job,
};

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

/* After a power-up: ring every queue that has work. */
void anpu_queues_kick(struct anpu_device *adev)
{
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		anpu_hw_queue_kick(&adev->hw, q);
}
