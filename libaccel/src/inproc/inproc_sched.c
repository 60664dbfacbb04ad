// SPDX-License-Identifier: MIT
/*
 * Userspace scheduling of the in-process NPU: the job pool, the hardware
 * rings, dependency tracking, the completion thread, and the hang watchdog
 * with queue/device recovery. Contexts, submit and fences: inproc_submit.c.
 *
 * Submission never waits for dependencies on the caller's thread: a job
 * whose dependencies are not met is held on its context's pending list (and
 * holds back later jobs of the context, so a context runs in submit order);
 * the completion thread releases it. A dependency on a job of the same
 * hardware queue that is already on the ring counts as met (the ring runs in
 * order), so chains on one queue flow without a round trip through the host.
 *
 * The only syscalls of a submit are the doorbell's futex wake (only when the
 * device thread sleeps) and, when the completion thread has been idle long
 * enough to sleep without a timeout, one eventfd write to start the watchdog.
 * Completions are moderated (IRQ_JOB_EVENT): one interrupt per burst.
 */
#include "inproc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RING_MASK		(INPROC_RING_ENTRIES - 1)
#define STATUS_UNWRITTEN	0xffffffffu
#define WATCHDOG_TICK_MS	10
#define IDLE_GRACE_TICKS	20	/* idle ticks before the thread sleeps untimed */
#define BATCH			64

/* ---- rings ---- */

static void write_desc(struct inproc_hw *hw, struct inproc_queue *q, unsigned int qi,
		       struct inproc_job *job)
{
	struct accel_cmdbuf *cb = job->cb;
	struct anpu_hw_job_desc desc = {
		.seqno = q->next_seqno++,
		.cmd_addr = cb->stream_bo->npu_addr,
		.cmd_size = cb->stream_size,
		.asid = (uint16_t)job->ctx->file->asid,
		.status_addr = job->status_dpa,
	};

	(void)hw;
	(void)qi;
	if (job->prof) {
		desc.flags = ANPU_DESC_F_PROFILE;
		desc.profile_addr = job->prof->bo->npu_addr;
		desc.profile_size = (uint32_t)job->prof->bo->size;
	}
	job->hw_seqno = desc.seqno;
	job->status->seqno = 0;
	job->status->result = STATUS_UNWRITTEN;
	q->ring[q->tail & RING_MASK] = desc;
	q->jobs[desc.seqno & RING_MASK] = job;
	q->tail++;
}

static void publish_tail(struct inproc_hw *hw, unsigned int qi)
{
	atomic_thread_fence(memory_order_release);
	inproc_wr32(hw, ANPU_QREG(qi, ANPU_QREG_RING_TAIL), hw->q[qi].tail);
}

unsigned int inproc_ring_push(struct inproc_hw *hw, struct inproc_job *job)
{
	struct inproc_ctx *c = job->ctx;
	unsigned int qi = c->queue;

	if (job->n_step)
		memcpy((uint8_t *)job->cb->stream_bo->host + job->cb->stream_size, job->step,
		       job->n_step * sizeof(uint32_t));
	write_desc(hw, &hw->q[qi], qi, job);
	publish_tail(hw, qi);
	c->ringed_seq = job->ctx_seq;
	hw->ringed++;
	return qi;
}

void inproc_ring_doorbells(struct inproc_hw *hw, unsigned int mask)
{
	if (!mask)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned int qi = 0; qi < ANPU_HW_NUM_QUEUES; qi++)
		if (mask & (1u << qi))
			anpusim_doorbell(hw->sim, ANPU_DB_QUEUE(qi));
}

bool inproc_deps_ready(struct inproc_hw *hw, const struct inproc_job *job)
{
	for (unsigned int i = 0; i < job->n_deps; i++) {
		const struct inproc_dep *d = &job->deps[i];
		struct inproc_ctx *c = inproc_ctx_lookup(hw, d->ctx_id);

		if (!c || c->completed_seq >= d->seqno)
			continue;
		if (!d->strict && c->queue == job->ctx->queue && c->ringed_seq >= d->seqno)
			continue;
		return false;
	}
	return true;
}

/* Release held-back jobs whose dependencies are met. Returns queues to ring. */
static unsigned int release_pending(struct inproc_hw *hw)
{
	unsigned int mask = 0;
	bool progress = true;

	while (progress && hw->pending) {
		struct inproc_ctx **link = &hw->pending;

		progress = false;
		while (*link) {
			struct inproc_ctx *c = *link;

			while (c->pend_head && inproc_deps_ready(hw, c->pend_head)) {
				struct inproc_job *job = c->pend_head;

				c->pend_head = job->next;
				if (!c->pend_head)
					c->pend_tail = NULL;
				job->next = NULL;
				mask |= 1u << inproc_ring_push(hw, job);
				progress = true;
			}
			if (!c->pend_head) {
				*link = c->pend_next;
				c->pend_next = NULL;
				c->on_pending_list = false;
			} else {
				link = &c->pend_next;
			}
		}
	}
	return mask;
}

/* ---- retiring finished jobs ---- */

static void make_status(struct inproc_hw *hw, const struct inproc_job *job,
			struct accel_job_status *st)
{
	struct anpu_hw_job_status s;

	atomic_thread_fence(memory_order_acquire);
	memcpy(&s, job->status, sizeof(s));
	memset(st, 0, sizeof(*st));
	if (s.result == STATUS_UNWRITTEN || s.seqno != job->hw_seqno) {
		/* no usable status record (docs/hardware.md 6.3 step 2) */
		st->result = ACCEL_RESULT_FAULT;
		st->error = -EIO;
	} else {
		st->result = s.result;
		st->cause = s.cause;
		st->error = accel_status_errno(s.result, s.cause);
		st->fault_addr = s.fault_addr;
		st->op_index = s.op_index;
		st->ops_done = s.ops_done;
		st->device_start_ns = s.start_ns;
		st->device_end_ns = s.end_ns;
		st->start_ns = (int64_t)s.start_ns + hw->clock_offset_ns;
		st->end_ns = (int64_t)s.end_ns + hw->clock_offset_ns;
	}
	st->queue = job->ctx->queue;
	st->submit_ns = job->submit_ns;
}

static void signal_fd_waiters(struct inproc_hw *hw, struct inproc_ctx *c)
{
	struct inproc_fd_waiter **link = &hw->fd_waiters;

	while (*link) {
		struct inproc_fd_waiter *w = *link;

		if (w->ctx_id == c->id && w->seqno <= c->completed_seq) {
			uint64_t one = 1;

			if (write(w->fd, &one, sizeof(one)) < 0) {
				/* an eventfd write fails only on overflow: it is readable then */
			}
			close(w->fd);
			*link = w->next;
			free(w);
		} else {
			link = &w->next;
		}
	}
}

/* Finish @job with @st: record, account, free its slot, queue its delivery. */
static void finish_job(struct inproc_hw *hw, struct inproc_job *job,
		       const struct accel_job_status *st, struct accel_done *batch,
		       unsigned int *nb)
{
	struct inproc_ctx *c = job->ctx;
	struct inproc_hist *h = &c->hist[job->ctx_seq % INPROC_HISTORY];

	c->completed_seq = job->ctx_seq;
	h->seqno = job->ctx_seq;
	h->status = *st;
	hw->stats.jobs_completed++;
	if (st->error)
		hw->stats.jobs_failed++;
	if (st->device_end_ns > st->device_start_ns)
		hw->busy_ns[c->queue] += st->device_end_ns - st->device_start_ns;
	if (hw->fd_waiters)
		signal_fd_waiters(hw, c);
	batch[(*nb)++] = (struct accel_done){
		.dev = c->front->obj.dev, .cb = job->cb, .prof = job->prof,
		.priority = (enum accel_priority)c->queue,
		.fence = { .seqno = job->ctx_seq, .context_id = c->id, .device_id = hw->id },
		.status = *st, .fn = job->fn, .user = job->user,
	};
	job->cb = NULL;
	job->prof = NULL;
	job->next = hw->free_jobs;
	hw->free_jobs = job;
	hw->ringed--;
}

/* Retire up to BATCH finished jobs. Returns true if more may be waiting. */
static bool retire(struct inproc_hw *hw, struct accel_done *batch, unsigned int *nb)
{
	for (unsigned int qi = 0; qi < ANPU_HW_NUM_QUEUES; qi++) {
		struct inproc_queue *q = &hw->q[qi];
		uint64_t done = inproc_rd64(hw, ANPU_QREG(qi, ANPU_QREG_COMPLETED_SEQ));

		while (q->retired_seqno < done && q->retired_seqno + 1 < q->next_seqno) {
			struct inproc_job *job;
			struct accel_job_status st;

			if (*nb == BATCH)
				return true;
			job = q->jobs[++q->retired_seqno & RING_MASK];
			make_status(hw, job, &st);
			finish_job(hw, job, &st, batch, nb);
		}
	}
	return false;
}

/* ---- recovery ---- */

/* Move the ring jobs with seqno in (@after, next_seqno) to fresh seqnos at the tail. */
static unsigned int resubmit_from(struct inproc_hw *hw, unsigned int qi, uint64_t after,
				  struct inproc_job **tmp)
{
	struct inproc_queue *q = &hw->q[qi];
	unsigned int n = 0;

	for (uint64_t s = after + 1; s < q->next_seqno; s++)
		tmp[n++] = q->jobs[s & RING_MASK];
	return n;
}

static void requeue(struct inproc_hw *hw, unsigned int qi, struct inproc_job **tmp, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		write_desc(hw, &hw->q[qi], qi, tmp[i]);
	publish_tail(hw, qi);
	hw->stats.jobs_resubmitted += n;
}

/* IRQ_JOB moderation (docs/hardware.md 4.1); a device reset turns it off. */
static int enable_irq_moderation(struct inproc_hw *hw)
{
	if (!(hw->caps & ANPU_CAP_IRQ_JOB_EVENT))
		return 0;
	inproc_wr32(hw, ANPU_REG_IRQ_JOB_EVENT, inproc_rd32(hw, ANPU_REG_JOBS_FINISHED));
	return inproc_ctrl(hw, ANPU_CTRL_SET_IRQ_CONFIG, ANPU_IRQ_CFG_JOB_EVENT, 2000) ==
	       ANPU_CTRL_R_OK ? 0 : -EIO;
}

static void device_reset(struct inproc_hw *hw, struct accel_done *batch, unsigned int *nb)
{
	struct inproc_job *(*tmp)[INPROC_MAX_JOBS] = hw->tmp_jobs;
	unsigned int n[ANPU_HW_NUM_QUEUES];
	uint64_t hung[ANPU_HW_NUM_QUEUES];

	for (unsigned int qi = 0; qi < ANPU_HW_NUM_QUEUES; qi++)
		hung[qi] = inproc_rd32(hw, ANPU_QREG(qi, ANPU_QREG_STATE)) == ANPU_QSTATE_HUNG ?
			   inproc_rd64(hw, ANPU_QREG(qi, ANPU_QREG_CURRENT_SEQ)) : 0;
	if (inproc_ctrl(hw, ANPU_CTRL_RESET_DEVICE, 0, 2000) != ANPU_CTRL_R_OK)
		return;	/* the watchdog tries again at its next tick */
	hw->stats.device_resets++;
	/* without it every job still interrupts: slower, never wrong */
	(void)enable_irq_moderation(hw);
	for (unsigned int qi = 0; qi < ANPU_HW_NUM_QUEUES; qi++) {
		struct inproc_queue *q = &hw->q[qi];

		/* the hung job got an ABORTED status record; the rest were dropped */
		if (hung[qi] && hung[qi] == q->retired_seqno + 1) {
			struct inproc_job *job = q->jobs[hung[qi] & RING_MASK];
			struct accel_job_status st;

			q->retired_seqno++;
			make_status(hw, job, &st);
			finish_job(hw, job, &st, batch, nb);
		}
		n[qi] = resubmit_from(hw, qi, q->retired_seqno, tmp[qi]);
		q->tail = 0;
		q->next_seqno = 1;
		q->retired_seqno = 0;
		inproc_wr32(hw, ANPU_QREG(qi, ANPU_QREG_FI_MODE), ANPU_FI_NONE);
		requeue(hw, qi, tmp[qi], n[qi]);
		q->wd_since_ns = 0;
	}
}

/* Reset hung queue @qi; escalate to a device reset if that fails. */
static void recover_queue(struct inproc_hw *hw, unsigned int qi, struct accel_done *batch,
			  unsigned int *nb)
{
	struct inproc_job **tmp = hw->tmp_jobs[qi];
	struct inproc_queue *q = &hw->q[qi];
	uint64_t done;
	unsigned int n;

	if (inproc_ctrl(hw, ANPU_CTRL_RESET_QUEUE, qi, 2000) != ANPU_CTRL_R_OK) {
		device_reset(hw, batch, nb);
		return;
	}
	hw->stats.queue_resets++;
	/* the hung job completed ABORTED (retired below); the queued ones were dropped */
	done = inproc_rd64(hw, ANPU_QREG(qi, ANPU_QREG_COMPLETED_SEQ));
	if (done < q->retired_seqno)
		done = q->retired_seqno;
	n = resubmit_from(hw, qi, done, tmp);
	q->next_seqno = done + 1;
	requeue(hw, qi, tmp, n);
	q->wd_since_ns = 0;
}

/* Returns queues to ring after a recovery (0: nothing recovered). */
static unsigned int watchdog(struct inproc_hw *hw, struct accel_done *batch, unsigned int *nb)
{
	int64_t now = accel_now_ns();

	for (unsigned int qi = 0; qi < ANPU_HW_NUM_QUEUES; qi++) {
		struct inproc_queue *q = &hw->q[qi];
		uint32_t progress;
		struct inproc_job *head;

		if (q->retired_seqno + 1 >= q->next_seqno) {
			q->wd_since_ns = 0;
			continue;
		}
		progress = inproc_rd32(hw, ANPU_QREG(qi, ANPU_QREG_PROGRESS));
		if (!q->wd_since_ns || progress != q->wd_progress ||
		    q->retired_seqno != q->wd_retired) {
			q->wd_progress = progress;
			q->wd_retired = q->retired_seqno;
			q->wd_since_ns = now;
			continue;
		}
		head = q->jobs[(q->retired_seqno + 1) & RING_MASK];
		if (now - q->wd_since_ns < (int64_t)head->ctx->hang_timeout_ms * 1000000)
			continue;
		/* a queue starved by another queue's hung job is not hung itself */
		if (inproc_rd32(hw, ANPU_QREG(qi, ANPU_QREG_STATE)) != ANPU_QSTATE_HUNG &&
		    !inproc_rd64(hw, ANPU_QREG(qi, ANPU_QREG_CURRENT_SEQ))) {
			q->wd_since_ns = now;
			continue;
		}
		recover_queue(hw, qi, batch, nb);
		return (1u << ANPU_HW_NUM_QUEUES) - 1;
	}
	return 0;
}

/* ---- the completion thread ---- */

static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing raised since the last read */
	}
}

/*
 * Deliver @batch with the lock dropped, then mark it delivered. Waiters are
 * woken after the unlock so they do not wake only to block on the lock.
 */
static void deliver(struct inproc_hw *hw, struct accel_done *batch, unsigned int nb,
		    unsigned int doorbells)
{
	bool wake_done = hw->done_waiters && nb, wake_slot = hw->slot_waiters && nb;

	hw->delivering++;
	if (nb)
		atomic_fetch_add(&hw->done_gen, 1);
	pthread_mutex_unlock(&hw->lock);
	if (wake_done)
		syscall(SYS_futex, (unsigned int *)&hw->done_gen, FUTEX_WAKE_PRIVATE, INT_MAX,
			NULL, NULL, 0);
	if (wake_slot)
		pthread_cond_broadcast(&hw->slot_cond);
	inproc_ring_doorbells(hw, doorbells);
	for (unsigned int i = 0; i < nb; i++)
		accel_job_delivered(&batch[i]);
	pthread_mutex_lock(&hw->lock);
	for (unsigned int i = 0; i < nb; i++) {
		struct inproc_ctx *c = inproc_ctx_lookup(hw, batch[i].fence.context_id);

		if (c && c->delivered_seq < batch[i].fence.seqno)
			c->delivered_seq = batch[i].fence.seqno;
	}
	hw->delivering--;
	if (hw->delivered_waiters)
		pthread_cond_broadcast(&hw->delivered_cond);
}

/*
 * Retire, release and deliver until the device has finished nothing new.
 * IRQ_JOB is moderated (docs/hardware.md 4.1): writing IRQ_JOB_EVENT = the
 * JOBS_FINISHED we are about to retire asks for one interrupt at the next
 * job end; a job that finished meanwhile raised none, so JOBS_FINISHED is
 * read again after the barrier and the loop goes on while it moved.
 */
static void service(struct inproc_hw *hw, struct accel_done *batch)
{
	uint32_t seen;

	do {
		unsigned int nb, doorbells;
		bool more;

		seen = inproc_rd32(hw, ANPU_REG_JOBS_FINISHED);
		if (hw->caps & ANPU_CAP_IRQ_JOB_EVENT) {
			inproc_wr32(hw, ANPU_REG_IRQ_JOB_EVENT, seen);
			atomic_thread_fence(memory_order_seq_cst);
		}
		do {
			nb = 0;
			more = retire(hw, batch, &nb);
			doorbells = release_pending(hw);
			if (!more)
				doorbells |= watchdog(hw, batch, &nb);
			if (nb || doorbells)
				deliver(hw, batch, nb, doorbells);
		} while (more || nb);
	} while (inproc_rd32(hw, ANPU_REG_JOBS_FINISHED) != seen);
}

static void *completion_thread(void *arg)
{
	struct inproc_hw *hw = arg;
	struct accel_done batch[BATCH];
	unsigned int idle_ticks = 0;	/* watchdog ticks with nothing on the rings */

	pthread_mutex_lock(&hw->lock);
	while (!hw->stop) {
		struct pollfd pfd[2] = { { .fd = hw->irq_fd, .events = POLLIN },
					 { .fd = hw->wake_fd, .events = POLLIN } };
		/*
		 * The watchdog ticks while jobs are on the rings and for a grace
		 * period after: a submit finding the thread in a timed sleep needs
		 * no wake-up of its own (one eventfd write and a context switch
		 * per idle -> busy edge of a pipelined caller).
		 */
		int timeout = hw->ringed || idle_ticks < IDLE_GRACE_TICKS ? WATCHDOG_TICK_MS : -1;
		int ready;

		hw->thread_sleeping = timeout < 0;
		pthread_mutex_unlock(&hw->lock);
		ready = poll(pfd, 2, timeout);
		if (ready > 0) {
			if (pfd[0].revents)
				drain(hw->irq_fd);
			if (pfd[1].revents)
				drain(hw->wake_fd);
		}
		pthread_mutex_lock(&hw->lock);
		idle_ticks = ready == 0 && !hw->ringed ? idle_ticks + 1 : 0;
		hw->thread_sleeping = false;
		service(hw, batch);
		/* the grace ticks after the last job let its figures be written */
		inproc_stats_file_update(hw, accel_now_ns());
	}
	pthread_mutex_unlock(&hw->lock);
	return NULL;
}

int inproc_sched_init(struct inproc_hw *hw)
{
	uint64_t status_dpa, ring_bytes = INPROC_RING_ENTRIES * sizeof(struct anpu_hw_job_desc);
	int ret;

	hw->jobs = calloc(hw->max_jobs, sizeof(*hw->jobs));
	if (!hw->jobs)
		return -ENOMEM;
	ret = inproc_mem_alloc_locked(hw, (uint64_t)hw->max_jobs * 64, 64, &status_dpa);
	if (ret)
		goto fail;
	for (unsigned int i = hw->max_jobs; i-- > 0;) {
		struct inproc_job *job = &hw->jobs[i];

		job->status_dpa = status_dpa + 64ull * i;
		job->status = (void *)(hw->bar + job->status_dpa);
		job->next = hw->free_jobs;
		hw->free_jobs = job;
	}
	for (unsigned int qi = 0; qi < ANPU_HW_NUM_QUEUES; qi++) {
		struct inproc_queue *q = &hw->q[qi];

		ret = inproc_mem_alloc_locked(hw, ring_bytes, 64, &q->ring_dpa);
		if (ret)
			goto fail;
		q->ring = (void *)(hw->bar + q->ring_dpa);
		memset(q->ring, 0, ring_bytes);
		q->next_seqno = 1;
		q->tail = inproc_rd32(hw, ANPU_QREG(qi, ANPU_QREG_RING_HEAD));
		inproc_wr64(hw, ANPU_QREG(qi, ANPU_QREG_RING_BASE), q->ring_dpa);
		inproc_wr32(hw, ANPU_QREG(qi, ANPU_QREG_RING_ENTRIES), INPROC_RING_ENTRIES);
		inproc_wr32(hw, ANPU_QREG(qi, ANPU_QREG_FI_MODE), ANPU_FI_NONE);
		inproc_wr32(hw, ANPU_QREG(qi, ANPU_QREG_RING_TAIL), q->tail);
	}
	ret = enable_irq_moderation(hw);
	if (ret)
		goto fail;
	hw->irq_fd = anpusim_irq_fd(hw->sim, ANPU_IRQ_JOB);
	hw->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (hw->irq_fd < 0 || hw->wake_fd < 0) {
		ret = -EIO;
		goto fail;
	}
	inproc_stats_file_init(hw);
	ret = -pthread_create(&hw->thread, NULL, completion_thread, hw);
	if (ret)
		goto fail;
	return 0;
fail:
	if (hw->wake_fd >= 0)
		close(hw->wake_fd);
	hw->wake_fd = -1;
	free(hw->jobs);
	hw->jobs = NULL;
	return ret;
}

void inproc_sched_fini(struct inproc_hw *hw)
{
	uint64_t one = 1;

	pthread_mutex_lock(&hw->lock);
	hw->stop = true;
	pthread_mutex_unlock(&hw->lock);
	if (write(hw->wake_fd, &one, sizeof(one)) < 0) {
		/* cannot fail for a fresh eventfd */
	}
	pthread_join(hw->thread, NULL);
	inproc_stats_file_fini(hw);
	close(hw->wake_fd);
	while (hw->fd_waiters) {
		struct inproc_fd_waiter *w = hw->fd_waiters;

		hw->fd_waiters = w->next;
		close(w->fd);
		free(w);
	}
	free(hw->jobs);
}
