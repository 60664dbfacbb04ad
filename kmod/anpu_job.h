/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * anpu.ko jobs, shared by anpu_job.c (lifetime, ring, completion, a file's
 * job fences), anpu_sched.c (one drm_sched per hardware queue, run_job),
 * anpu_recovery.c (timeouts, queue and device reset) and anpu_submit.c (the
 * SUBMIT ioctl).
 *
 * Everything a job needs to run is allocated at submit: run_job only writes
 * the ring descriptor (status record per ring slot) and rings the doorbell,
 * and the completion path (the job interrupt's thread) only reads
 * COMPLETED_SEQ and status records and signals fences. The job holds its
 * BOs, its file (and so its address space), its context and a runtime-PM
 * reference until it is freed.
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
#ifndef __ANPU_JOB_H__
#define __ANPU_JOB_H__

#include "anpu_drv.h"

struct dma_fence_chain;

/**
 * struct anpu_job - one submitted job
 * @base: the scheduler job.
 * @adev: the device (a drm_dev reference is held).
 * @af: the submitting file (a reference is held).
 * @ctx: its context (a reference is held).
 * @queue: its queue.
 * @seqno: seqno on its context.
 * @client_id: the submitting file's drm-client-id.
 * @pid: the submitting process (tgid in the initial pid namespace).
 * @uid: the submitting user (in the initial user namespace).
 * @submit_ns: CLOCK_MONOTONIC at SUBMIT.
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
 * @ref: SUBMIT's reference and the scheduler's (see the top of this file).
 */
struct anpu_job {
	struct drm_sched_job base;
	struct kref ref;
	struct anpu_device *adev;
	struct anpu_file *af;
	struct anpu_ctx *ctx;
	struct anpu_queue *queue;
	u64 seqno;
	u64 client_id;
	u32 pid;
	u32 uid;
	u64 submit_ns;
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

static inline struct anpu_job *to_anpu_job(struct drm_sched_job *sj)
{
	return container_of(sj, struct anpu_job, base);
}

/* anpu_job.c */
int anpu_job_alloc(struct anpu_device *adev, struct anpu_job **jobp,
		   struct dma_fence_chain **linkp);
void anpu_job_cleanup(struct anpu_job *job);
void anpu_job_put(struct anpu_job *job);
int anpu_job_push_locked(struct anpu_queue *queue, struct anpu_job *job);
void anpu_job_complete_locked(struct anpu_queue *queue, struct anpu_job *job,
			      const struct anpu_hw_job_status *st, int err);
void anpu_queue_collect_locked(struct anpu_queue *queue);
void anpu_queues_fail_all(struct anpu_device *adev, int err);
void anpu_file_add_job_fence(struct anpu_file *af, struct dma_fence_chain *chain,
			     struct dma_fence *fence);

/**
 * struct anpu_nl_job_event - what the netlink event of a finished job says,
 *	captured while the job is alive: once its fence has signalled the
 *	scheduler may free it at any time
 */
struct anpu_nl_job_event {
	u64 client_id;
	u64 seqno;
	u64 submit_ns;
	u64 start_ns;
	u64 end_ns;
	u32 pid;
	u32 uid;
	u32 ctx_id;
	u32 queue;
	u32 result;
	int err;
};

/* anpu_netlink.c */
bool anpu_nl_jobs_listened(void);
void anpu_nl_job_capture(struct anpu_nl_job_event *ev, const struct anpu_job *job,
			 const struct anpu_hw_job_status *st, int err);
void anpu_nl_job_send(struct anpu_device *adev, const struct anpu_nl_job_event *ev);

/* anpu_recovery.c */
enum drm_gpu_sched_stat anpu_sched_timedout_job(struct drm_sched_job *sj);

#endif /* __ANPU_JOB_H__ */
