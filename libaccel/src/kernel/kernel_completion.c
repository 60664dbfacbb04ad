// SPDX-License-Identifier: MIT
/*
 * Kernel backend: job status, completion delivery and the completion thread.
 * The design and the locking rules: kernel_internal.h.
 */
#include "kernel_internal.h"

#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- job status ---- */

static void status_from_info(const struct kctx *c, const struct drm_anpu_job_info *ji,
			     struct accel_job_status *st)
{
	int64_t offset = c->kd->front->info.clock_offset_ns;

	memset(st, 0, sizeof(*st));
	st->result = ji->result;
	st->cause = ji->cause;
	st->error = ji->result != ACCEL_RESULT_OK ? accel_status_errno(ji->result, ji->cause) : 0;
	if (ji->error == ECANCELED)
		st->error = -ECANCELED;
	else if (!st->error && ji->error)
		st->error = -(int)ji->error;
	st->op_index = ji->op_index;
	st->ops_done = ji->ops_done;
	st->fault_addr = ji->fault_addr;
	st->queue = c->queue;
	st->device_start_ns = ji->start_ns;
	st->device_end_ns = ji->end_ns;
	st->start_ns = (int64_t)ji->start_ns + offset;
	st->end_ns = (int64_t)ji->end_ns + offset;
}

int kctx_job_status(struct kctx *c, uint64_t seqno, struct accel_job_status *st)
{
	struct khist *h = &c->hist[seqno % KHIST];
	struct drm_anpu_job_info ji = { .seqno = 0 };
	int64_t submit_ns = 0;
	int ret;

	pthread_mutex_lock(&c->lock);
	for (unsigned int g = c->n_gens; g-- > 0;) {
		if (seqno > c->gens[g].base) {
			ji.ctx_id = c->gens[g].kid;
			ji.seqno = seqno - c->gens[g].base;
			break;
		}
	}
	if (h->seqno == seqno) {
		submit_ns = h->submit_ns;
		if (h->valid) {
			*st = h->st;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
	} else {
		for (unsigned int i = 0; i < c->n; i++) {
			const struct kjob *j = &c->jobs[(c->head + i) % c->cap];

			if (j->seqno == seqno)
				submit_ns = j->submit_ns;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (!ji.seqno)
		return -ENOENT;
	ret = kioctl(c->kd->fd, DRM_IOCTL_ANPU_JOB_INFO, &ji);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	if (ji.state != DRM_ANPU_JOB_DONE)
		return -EAGAIN;
	status_from_info(c, &ji, st);
	st->submit_ns = submit_ns;
	pthread_mutex_lock(&c->lock);
	if (h->seqno <= seqno) {
		h->seqno = seqno;
		h->valid = true;
		h->submit_ns = submit_ns;
		h->st = *st;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* ---- completion delivery ---- */

#define DELIVER_BATCH	64

struct kdone {
	struct accel_done d;
	struct kctx *c;
	uint64_t key;			/* device end time (0: status not fetched) */
};

/* Record how far each context's timeline is: @done[i], or (0) the kernel's answer. */
static void learn_completed(struct kdev *kd, struct kctx *const *cs, const uint64_t *done,
			    unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t v = done[i];
		uint32_t h = cs[i]->syncobj;

		if (!v && drmSyncobjQuery(kd->fd, &h, &v, 1))
			v = 0;
		pthread_mutex_lock(&cs[i]->lock);
		if (v > cs[i]->completed)
			cs[i]->completed = v;
		pthread_mutex_unlock(&cs[i]->lock);
	}
}

/*
 * Take up to DELIVER_BATCH finished jobs off the contexts' lists into @items
 * (their history slots claimed, status not fetched yet); @popped[i] says
 * whether context i gave any (it is then "delivering"). Returns the count.
 */
static unsigned int take_finished(struct kdev *kd, struct kctx *const *cs, unsigned int n,
				  struct kdone *items, bool *popped)
{
	unsigned int ni = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct kctx *c = cs[i];

		popped[i] = false;
		pthread_mutex_lock(&c->lock);
		while (c->n && ni < DELIVER_BATCH && c->jobs[c->head].seqno <= c->completed) {
			const struct kjob *j = &c->jobs[c->head];
			struct khist *h = &c->hist[j->seqno % KHIST];

			items[ni++] = (struct kdone){
				.c = c,
				.d = {
					.dev = kd->front, .cb = j->cb, .prof = j->prof,
					.priority = (enum accel_priority)c->queue,
					.fence = { .seqno = j->seqno, .context_id = c->id,
						   .device_id = kd->device_id },
					.fn = j->fn, .user = j->user,
					.status = { .queue = c->queue, .submit_ns = j->submit_ns },
				},
			};
			if (h->seqno < j->seqno) {
				h->seqno = j->seqno;
				h->valid = false;
				h->submit_ns = j->submit_ns;
			}
			c->head = (c->head + 1) % c->cap;
			c->n--;
			popped[i] = true;
		}
		if (popped[i])
			c->delivering++;
		pthread_mutex_unlock(&c->lock);
	}
	return ni;
}

/*
 * Fetch the status of the items someone will look at (a callback, a profile,
 * the observer @obs); returns how many failed.
 */
static unsigned int fetch_statuses(struct kdone *items, unsigned int ni,
				   const struct accel_observer *obs)
{
	unsigned int failed = 0;

	for (unsigned int k = 0; k < ni; k++) {
		struct kdone *it = &items[k];
		struct accel_job_status st;

		if (!(it->d.fn || it->d.prof || obs))
			continue;
		/* a job the kernel forgot: finished, outcome unknown */
		if (!kctx_job_status(it->c, it->d.fence.seqno, &st)) {
			it->d.status = st;
			it->key = st.device_end_ns;
		}
		failed += it->d.status.error != 0;
	}
	return failed;
}

/* Insertion sort by device end time (stable; small batches). */
static void sort_by_end_time(struct kdone *items, unsigned int ni)
{
	for (unsigned int k = 1; k < ni; k++) {
		struct kdone t = items[k];
		unsigned int m = k;

		while (m > 0 && items[m - 1].key > t.key) {
			items[m] = items[m - 1];
			m--;
		}
		items[m] = t;
	}
}

/* After a batch: the job slots freed, the contexts no longer delivering. */
static void finish_batch(struct kdev *kd, struct kctx *const *cs, const bool *popped,
			 unsigned int n, unsigned int ni, unsigned int failed)
{
	pthread_mutex_lock(&kd->lock);
	kd->inflight -= ni;
	kd->completed += ni;
	kd->failed += failed;
	if (atomic_load_explicit(&kd->thread_on, memory_order_relaxed))
		pthread_cond_broadcast(&kd->slot_cond);
	pthread_mutex_unlock(&kd->lock);
	for (unsigned int i = 0; i < n; i++) {
		if (!popped[i])
			continue;
		pthread_mutex_lock(&cs[i]->lock);
		cs[i]->delivering--;
		pthread_cond_broadcast(&cs[i]->cond);
		pthread_mutex_unlock(&cs[i]->lock);
	}
}

/*
 * Deliver the finished jobs of contexts @cs[0..n): those up to @done[i]
 * (0: ask the kernel how far the timeline is). Callbacks and observers run
 * on this thread, with no lock held; jobs observed together are delivered in
 * the order the NPU finished them.
 */
static void deliver(struct kdev *kd, struct kctx *const *cs, const uint64_t *done, unsigned int n)
{
	struct kdone items[DELIVER_BATCH];
	bool popped[KBUSY_MAX];
	unsigned int ni;

	if (n > KBUSY_MAX)
		n = KBUSY_MAX;
	learn_completed(kd, cs, done, n);
	do {
		unsigned int failed;

		ni = take_finished(kd, cs, n, items, popped);
		if (!ni)
			break;
		failed = fetch_statuses(items, ni,
					atomic_load_explicit(&kd->front->observer,
							     memory_order_acquire));
		sort_by_end_time(items, ni);
		for (unsigned int k = 0; k < ni; k++)
			accel_job_delivered(&items[k].d);
		finish_batch(kd, cs, popped, n, ni, failed);
	} while (ni == DELIVER_BATCH);
}

void kctx_retire(struct kctx *c, uint64_t done)
{
	deliver(c->kd, &c, &done, 1);
}

void kdev_retire_all(struct kdev *kd, const struct kctx *known, uint64_t seqno)
{
	struct kctx *busy[KBUSY_MAX];
	uint64_t done[KBUSY_MAX] = { 0 };
	unsigned int n = kdev_busy_contexts(kd, busy, KBUSY_MAX);

	for (unsigned int i = 0; i < n; i++)
		done[i] = busy[i] == known ? seqno : 0;
	deliver(kd, busy, done, n);
	for (unsigned int i = 0; i < n; i++)
		kctx_put(busy[i]);
}

/* ---- the completion thread ---- */

bool kdev_on_thread(struct kdev *kd)
{
	return atomic_load(&kd->thread_on) && pthread_equal(pthread_self(), kd->thread);
}

void kctx_arm_locked(struct kdev *kd, struct kctx *c)
{
	struct kdrm_syncobj_eventfd ev = { .handle = c->syncobj, .fd = kd->efd };

	if (!c->n)
		return;
	ev.point = c->jobs[c->head].seqno;
	if (ev.point <= c->armed)
		return;
	/* (fails only without memory: the next wake-up or observing call retries) */
	if (!kioctl(kd->fd, KDRM_IOCTL_SYNCOBJ_EVENTFD, &ev))
		c->armed = ev.point;
}

void kdev_kick(struct kdev *kd)
{
	uint64_t one = 1;

	if (write(kd->efd, &one, sizeof(one)) < 0)
		(void)0;	/* the counter is nonzero already (cannot overflow) */
}

static void *completion_main(void *arg)
{
	struct kdev *kd = arg;
	struct kctx *busy[KBUSY_MAX];

	/* kdev_start_thread() publishes kd->thread and thread_on under kd->lock */
	pthread_mutex_lock(&kd->lock);
	pthread_mutex_unlock(&kd->lock);
	for (;;) {
		unsigned int n = kdev_busy_contexts(kd, busy, KBUSY_MAX);
		uint64_t v;

		for (unsigned int i = 0; i < n; i++) {
			pthread_mutex_lock(&busy[i]->lock);
			kctx_arm_locked(kd, busy[i]);
			pthread_mutex_unlock(&busy[i]->lock);
			kctx_put(busy[i]);
		}
		/* sleep until an armed point signals (or a kick) */
		if (read(kd->efd, &v, sizeof(v)) < 0 && errno != EINTR)
			break;
		if (atomic_load(&kd->stop))
			break;
		kdev_retire_all(kd, NULL, 0);
	}
	return NULL;
}

void kdev_start_thread(struct kdev *kd)
{
	struct kdrm_syncobj_eventfd ev = { 0 };
	sigset_t all, old;
	uint32_t h;
	int efd, ret;

	pthread_mutex_lock(&kd->lock);
	if (atomic_load(&kd->thread_on) || kd->thread_failed)
		goto out;
	kd->thread_failed = true;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		goto out;
	/* probe the ioctl on a signalled binary syncobj (an old kernel lacks it) */
	if (drmSyncobjCreate(kd->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &h)) {
		close(efd);
		goto out;
	}
	ev.handle = h;
	ev.fd = efd;
	ret = kioctl(kd->fd, KDRM_IOCTL_SYNCOBJ_EVENTFD, &ev);
	drmSyncobjDestroy(kd->fd, h);
	if (ret) {
		close(efd);
		goto out;
	}
	kd->efd = efd;
	atomic_store(&kd->stop, false);
	/* the application's signals are not delivered on the library's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!pthread_create(&kd->thread, NULL, completion_main, kd)) {
		kd->thread_failed = false;
		atomic_store(&kd->thread_on, true);
	} else {
		close(efd);
		kd->efd = -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	pthread_mutex_unlock(&kd->lock);
}

void kdev_stop_thread(struct kdev *kd)
{
	if (!atomic_load(&kd->thread_on))
		return;
	atomic_store(&kd->stop, true);
	kdev_kick(kd);
	pthread_join(kd->thread, NULL);
	close(kd->efd);
	kd->efd = -1;
	atomic_store(&kd->thread_on, false);
}

void kctx_observe(struct kctx *c)
{
	uint32_t h = c->syncobj;
	uint64_t v = 0;

	if (!atomic_load(&c->kd->thread_on)) {
		kctx_retire(c, 0);
		return;
	}
	if (drmSyncobjQuery(c->kd->fd, &h, &v, 1))
		return;
	pthread_mutex_lock(&c->lock);
	if (v > c->completed)
		c->completed = v;
	pthread_mutex_unlock(&c->lock);
}
