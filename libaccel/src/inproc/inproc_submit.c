// SPDX-License-Identifier: MIT
/*
 * The in-process NPU's contexts, submit, fences and test support (the
 * caller's side of the scheduling in inproc_sched.c, whose head comment
 * says how submission and completion work).
 */
#include "inproc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- contexts ---- */

int inproc_context_create(struct accel_device *dev, struct accel_context *ctx)
{
	struct inproc_file *f = dev->priv;
	struct inproc_hw *hw = f->hw;
	struct inproc_ctx *c = calloc(1, sizeof(*c));
	int ret = -ENOSPC;

	if (!c)
		return -ENOMEM;
	c->queue = (unsigned int)ctx->params.priority;
	c->hang_timeout_ms = ctx->params.hang_timeout_ms;
	c->file = f;
	c->front = ctx;
	pthread_mutex_lock(&hw->lock);
	for (unsigned int slot = 0; slot < INPROC_MAX_CONTEXTS; slot++) {
		if (hw->ctx[slot])
			continue;
		if (++hw->ctx_gen[slot] >= (1u << 22))
			hw->ctx_gen[slot] = 1;
		c->id = hw->ctx_gen[slot] << 10 | slot;
		hw->ctx[slot] = c;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&hw->lock);
	if (ret) {
		free(c);
		return ret;
	}
	ctx->priv = c;
	return 0;
}

void inproc_context_destroy(struct accel_device *dev, struct accel_context *ctx)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);
	struct inproc_ctx *c = ctx->priv;

	pthread_mutex_lock(&hw->lock);
	hw->delivered_waiters++;
	while (c->delivered_seq < c->submitted_seq || hw->delivering)
		pthread_cond_wait(&hw->delivered_cond, &hw->lock);
	hw->delivered_waiters--;
	hw->ctx[c->id & (INPROC_MAX_CONTEXTS - 1)] = NULL;
	pthread_mutex_unlock(&hw->lock);
	free(c);
	ctx->priv = NULL;
}

/* ---- submit ---- */

int inproc_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
		  const struct accel_submit_params *p, struct accel_fence *out, int64_t submit_ns)
{
	struct inproc_hw *hw = inproc_dev_hw(ctx->obj.dev);
	struct inproc_ctx *c = ctx->priv;
	struct inproc_job *job;
	unsigned int doorbell = 0;
	bool wake = false;

	pthread_mutex_lock(&hw->lock);
	for (unsigned int i = 0; i < p->n_deps; i++) {
		const struct accel_fence *f = &p->deps[i];
		struct inproc_ctx *dc;

		if (f->device_id != hw->id) {
			pthread_mutex_unlock(&hw->lock);
			return -EXDEV;
		}
		dc = inproc_ctx_lookup(hw, f->context_id);
		if (!f->seqno || (dc && f->seqno > dc->submitted_seq)) {
			pthread_mutex_unlock(&hw->lock);
			return -EINVAL;
		}
	}
	while (!hw->free_jobs) {
		if (p->flags & ACCEL_SUBMIT_NONBLOCK) {
			pthread_mutex_unlock(&hw->lock);
			return -EAGAIN;
		}
		hw->slot_waiters++;
		pthread_cond_wait(&hw->slot_cond, &hw->lock);
		hw->slot_waiters--;
	}
	job = hw->free_jobs;
	hw->free_jobs = job->next;
	job->next = NULL;
	job->ctx = c;
	job->cb = cb;
	job->prof = p->profile;
	job->fn = p->on_complete;
	job->user = p->user;
	job->submit_ns = submit_ns;
	job->n_deps = 0;
	for (unsigned int i = 0; i < p->n_deps; i++)
		job->deps[job->n_deps++] = (struct inproc_dep){ .ctx_id = p->deps[i].context_id,
							      .seqno = p->deps[i].seqno };
	job->n_step = p->n_step_params;
	if (job->n_step)
		memcpy(job->step, p->step_params, job->n_step * sizeof(uint32_t));
	job->ctx_seq = ++c->submitted_seq;
	if (cb->step_params) {
		/* the step slots are rewritten when the job goes on the ring */
		if (cb->last_submit.seqno)
			job->deps[job->n_deps++] = (struct inproc_dep){
				.ctx_id = cb->last_submit.context_id, .strict = true,
				.seqno = cb->last_submit.seqno };
		cb->last_submit = (struct accel_fence){ .seqno = job->ctx_seq, .context_id = c->id,
							.device_id = hw->id };
	}
	hw->stats.jobs_submitted++;
	if (!c->pend_head && inproc_deps_ready(hw, job)) {
		doorbell = 1u << inproc_ring_push(hw, job);
		if (hw->thread_sleeping) {
			hw->thread_sleeping = false;
			wake = true;
		}
	} else {
		if (c->pend_tail)
			c->pend_tail->next = job;
		else
			c->pend_head = job;
		c->pend_tail = job;
		if (!c->on_pending_list) {
			c->on_pending_list = true;
			c->pend_next = hw->pending;
			hw->pending = c;
		}
	}
	*out = (struct accel_fence){ .seqno = job->ctx_seq, .context_id = c->id,
				     .device_id = hw->id };
	pthread_mutex_unlock(&hw->lock);
	inproc_ring_doorbells(hw, doorbell);
	if (wake) {
		uint64_t one = 1;

		if (write(hw->wake_fd, &one, sizeof(one)) < 0) {
			/* overflow only: the thread is awake then */
		}
	}
	return 0;
}

/* ---- fences ---- */

/* Under hw->lock: 1 finished (then *err = the job's error), 0 not yet, < 0 bad fence. */
static int fence_state(struct inproc_hw *hw, const struct accel_fence *f, int *err)
{
	struct inproc_ctx *c;

	if (f->device_id != hw->id)
		return -EXDEV;
	c = inproc_ctx_lookup(hw, f->context_id);
	*err = 0;
	if (!c)
		return 1;	/* its context is freed: every job of it finished */
	if (f->seqno > c->submitted_seq)
		return -EINVAL;
	if (c->completed_seq < f->seqno)
		return 0;
	if (c->hist[f->seqno % INPROC_HISTORY].seqno == f->seqno)
		*err = c->hist[f->seqno % INPROC_HISTORY].status.error;
	return 1;
}

int inproc_fence_wait(struct accel_device *dev, const struct accel_fence *f, int64_t timeout_ns)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);
	struct timespec deadline;
	int err, ret;

	if (timeout_ns > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ns / 1000000000;
		deadline.tv_nsec += timeout_ns % 1000000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_lock(&hw->lock);
	for (;;) {
		unsigned int gen;
		long slept;

		ret = fence_state(hw, f, &err);
		if (ret)
			break;
		if (timeout_ns == 0) {
			ret = -ETIMEDOUT;
			break;
		}
		/* read under the lock that the completion updates and bumps it under */
		gen = atomic_load(&hw->done_gen);
		hw->done_waiters++;
		pthread_mutex_unlock(&hw->lock);
		/* FUTEX_WAIT_BITSET: an absolute CLOCK_MONOTONIC deadline */
		slept = syscall(SYS_futex, (unsigned int *)&hw->done_gen,
				FUTEX_WAIT_BITSET_PRIVATE, gen, timeout_ns < 0 ? NULL : &deadline,
				NULL, FUTEX_BITSET_MATCH_ANY);
		pthread_mutex_lock(&hw->lock);
		hw->done_waiters--;
		if (slept && errno == ETIMEDOUT) {
			ret = fence_state(hw, f, &err);
			if (!ret)
				ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&hw->lock);
	if (ret < 0)
		return ret;
	return err ? -EIO : 0;
}

int inproc_fence_poll(struct accel_device *dev, const struct accel_fence *f)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);
	int err, ret;

	pthread_mutex_lock(&hw->lock);
	ret = fence_state(hw, f, &err);
	pthread_mutex_unlock(&hw->lock);
	return ret;
}

int inproc_fence_status(struct accel_device *dev, const struct accel_fence *f,
			struct accel_job_status *st)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);
	struct inproc_ctx *c;
	int err, ret;

	pthread_mutex_lock(&hw->lock);
	ret = fence_state(hw, f, &err);
	if (ret == 0) {
		ret = -EAGAIN;
	} else if (ret == 1) {
		c = inproc_ctx_lookup(hw, f->context_id);
		if (c && c->hist[f->seqno % INPROC_HISTORY].seqno == f->seqno) {
			*st = c->hist[f->seqno % INPROC_HISTORY].status;
			ret = 0;
		} else {
			ret = -ENOENT;
		}
	}
	pthread_mutex_unlock(&hw->lock);
	return ret;
}

int inproc_fence_export_fd(struct accel_device *dev, const struct accel_fence *f, int *fd)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);
	struct inproc_fd_waiter *w;
	int err, ret, efd;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(efd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&hw->lock);
	ret = fence_state(hw, f, &err);
	if (ret == 0) {
		/* our own dup: the caller may close its fd before the job ends */
		w->fd = fcntl(efd, F_DUPFD_CLOEXEC, 0);
		if (w->fd < 0) {
			ret = -errno;
		} else {
			w->ctx_id = f->context_id;
			w->seqno = f->seqno;
			w->next = hw->fd_waiters;
			hw->fd_waiters = w;
			w = NULL;
		}
	} else if (ret == 1) {
		uint64_t one = 1;

		if (write(efd, &one, sizeof(one)) < 0)
			ret = -errno;
		else
			ret = 0;
	}
	pthread_mutex_unlock(&hw->lock);
	free(w);
	if (ret < 0) {
		close(efd);
		return ret;
	}
	*fd = efd;
	return 0;
}

/* ---- test support ---- */

int inproc_inject_fault(struct accel_device *dev, unsigned int queue, uint32_t mode)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);

	pthread_mutex_lock(&hw->lock);
	inproc_wr32(hw, ANPU_QREG(queue, ANPU_QREG_FI_MODE), mode);
	inproc_wr32(hw, ANPU_QREG(queue, ANPU_QREG_FI_SEQ),
		    inproc_rd32(hw, ANPU_QREG(queue, ANPU_QREG_FI_SEQ)) + 1);
	pthread_mutex_unlock(&hw->lock);
	return 0;
}

int inproc_stats(struct accel_device *dev, struct accel_device_stats *stats)
{
	struct inproc_hw *hw = inproc_dev_hw(dev);

	pthread_mutex_lock(&hw->lock);
	*stats = hw->stats;
	pthread_mutex_unlock(&hw->lock);
	return 0;
}
