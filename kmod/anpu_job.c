// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko jobs: their allocation and release, the ring (push, completion,
 * retire, and what a reset left), and a file's chain of job fences. How a
 * job lives and which locks its fence-signalling paths take: anpu_job.h.
 */

#include <linux/dma-fence-chain.h>
#include <linux/error-injection.h>

#include <drm/drm_drv.h>
#include <drm/drm_gem.h>

#include "anpu_drv.h"
#include "anpu_job.h"
#include "anpu_trace.h"

/*
 * The scheduler is done with @job, or it never reached the scheduler: its
 * JOB_INFO record (aborted, unless it ended) and its scheduler fences.
 */
void anpu_job_cleanup(struct anpu_job *job)
{
	if (!job->done && job->ctx) {
		struct drm_anpu_job_info info = {
			.state = DRM_ANPU_JOB_DONE,
			.result = ANPU_RESULT_ABORTED,
		};
		int err = job->base.s_fence ? job->base.s_fence->finished.error : 0;

		info.error = err ? -err : ECANCELED;
		anpu_ctx_record(job->ctx, job->seqno, &info);
		/* pushed but never run (its context was killed, the device went) */
		if (job->base.s_fence) {
			struct anpu_hw_job_status st = { .result = ANPU_RESULT_ABORTED };
			struct anpu_nl_job_event ev;

			atomic64_inc(&job->queue->stats.jobs_failed);
			if (anpu_nl_jobs_listened()) {
				anpu_nl_job_capture(&ev, job, &st, err ? err : -ECANCELED);
				anpu_nl_job_send(job->adev, &ev);
			}
		}
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

void anpu_job_put(struct anpu_job *job)
{
	kref_put(&job->ref, anpu_job_release);
}

/*
 * The driver's own job allocation (struct, hardware fence, the file's chain
 * link): a fault point of its own for the fail-nth sweep (fail_function).
 */
noinline int anpu_job_alloc(struct anpu_device *adev, struct anpu_job **jobp,
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

/* ---- ring and completion ---- */

int anpu_job_push_locked(struct anpu_queue *queue, struct anpu_job *job)
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

void anpu_job_complete_locked(struct anpu_queue *queue, struct anpu_job *job,
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
	struct anpu_nl_job_event ev;
	bool listened;

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
		atomic64_inc(&queue->stats.faults);
		trace_anpu_fault(queue->index, job->ctx->id, job->seqno, st->result,
				 st->cause, st->fault_addr);
	}
	if (st->end_ns > st->start_ns) {
		atomic64_add(st->end_ns - st->start_ns, &job->af->busy_ns);
		atomic64_add(st->end_ns - st->start_ns, &queue->stats.busy_ns);
	}
	atomic64_inc(err ? &queue->stats.jobs_failed : &queue->stats.jobs_completed);
	info.error = -err;
	anpu_ctx_record(job->ctx, job->seqno, &info);
	job->done = true;
	if (job->on_ring) {
		list_del(&job->ring_link);
		job->on_ring = false;
	}
	trace_anpu_done(queue->index, job->ctx->id, job->seqno, err);
	listened = anpu_nl_jobs_listened();
	if (listened)
		anpu_nl_job_capture(&ev, job, st, err);
	if (err)
		dma_fence_set_error(job->hw_fence, err);
	/* from here the scheduler may free @job: not one more access */
	dma_fence_signal(job->hw_fence);
	/* after the signal: waiters do not wait for the event */
	if (listened)
		anpu_nl_job_send(queue->adev, &ev);
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
void anpu_queue_collect_locked(struct anpu_queue *queue)
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
void anpu_queues_fail_all(struct anpu_device *adev, int err)
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

/* ---- a file's job fences ---- */

/*
 * Add @fence, a job's finished fence, to @af's chain of job fences, @chain
 * preallocated (no allocation after the job is armed). Called at push time
 * under the context's lock.
 */
void anpu_file_add_job_fence(struct anpu_file *af, struct dma_fence_chain *chain,
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
