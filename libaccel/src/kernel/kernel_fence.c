// SPDX-License-Identifier: MIT
/*
 * Kernel backend: fences (timeline points of a context's syncobj; sync_file export).
 * The design and the locking rules: kernel_internal.h.
 */
#include "kernel_internal.h"

#include <stdint.h>

/* ---- fences ---- */

int kfence_ctx(struct kdev *kd, const struct accel_fence *f, struct kctx **out)
{
	struct kctx *c;

	*out = NULL;
	if (f->device_id != kd->device_id)
		return -EXDEV;
	c = kctx_get(f->context_id);
	if (!c)
		return 0;
	if (f->seqno > atomic_load(&c->last_point)) {
		kctx_put(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

uint64_t kctx_completed(struct kctx *c)
{
	uint64_t v;

	pthread_mutex_lock(&c->lock);
	v = c->completed;
	pthread_mutex_unlock(&c->lock);
	return v;
}

int kctx_wait(struct kctx *c, uint64_t seqno, int64_t deadline, bool deliver)
{
	uint32_t h = c->syncobj;
	uint64_t point = seqno;
	int ret;

	if (kctx_completed(c) >= seqno)
		return 0;
	do {
		ret = drmSyncobjTimelineWait(c->kd->fd, &h, &point, 1, deadline,
					     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
	} while (ret == -EINTR);
	if (ret == -ETIME || ret == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (ret)
		return ret;
	if (!deliver || atomic_load(&c->kd->thread_on)) {
		/* (with the completion thread running, it delivers) */
		pthread_mutex_lock(&c->lock);
		if (seqno > c->completed)
			c->completed = seqno;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	kdev_retire_all(c->kd, c, seqno);
	kctx_retire(c, seqno);	/* (when @c had nothing to deliver before) */
	return 0;
}

static int job_error(struct kctx *c, uint64_t seqno)
{
	struct accel_job_status st;

	/* a job the kernel no longer remembers counts as successful */
	if (kctx_job_status(c, seqno, &st))
		return 0;
	return st.error ? -EIO : 0;
}

int kernel_fence_wait(struct accel_device *dev, const struct accel_fence *f,
			     int64_t timeout_ns)
{
	int64_t deadline;
	struct kctx *c;
	int ret = kfence_ctx(kdev_of(dev), f, &c);

	if (ret || !c)
		return ret;
	if (timeout_ns < 0)
		deadline = INT64_MAX;
	else if (timeout_ns > INT64_MAX - accel_now_ns())
		deadline = INT64_MAX;
	else
		deadline = timeout_ns ? accel_now_ns() + timeout_ns : 0;
	ret = kctx_wait(c, f->seqno, deadline, true);
	if (!ret)
		ret = job_error(c, f->seqno);
	kctx_put(c);
	return ret;
}

int kernel_fence_poll(struct accel_device *dev, const struct accel_fence *f)
{
	struct kctx *c;
	int ret = kfence_ctx(kdev_of(dev), f, &c);

	if (ret)
		return ret;
	if (!c)
		return 1;
	if (kctx_completed(c) < f->seqno)
		kctx_observe(c);
	ret = kctx_completed(c) >= f->seqno;
	kctx_put(c);
	return ret;
}

int kernel_fence_status(struct accel_device *dev, const struct accel_fence *f,
			       struct accel_job_status *st)
{
	struct kctx *c;
	int ret = kfence_ctx(kdev_of(dev), f, &c);

	if (ret)
		return ret;
	if (!c)
		return -ENOENT;
	if (kctx_completed(c) < f->seqno)
		kctx_observe(c);
	if (kctx_completed(c) < f->seqno)
		ret = -EAGAIN;
	else
		ret = kctx_job_status(c, f->seqno, st);
	kctx_put(c);
	return ret;
}

static int signaled_sync_file(int fd, int *out)
{
	uint32_t h;
	int ret;

	if (drmSyncobjCreate(fd, DRM_SYNCOBJ_CREATE_SIGNALED, &h))
		return -errno;
	ret = drmSyncobjExportSyncFile(fd, h, out) ? -errno : 0;
	drmSyncobjDestroy(fd, h);
	return ret;
}

int kernel_fence_export_fd(struct accel_device *dev, const struct accel_fence *f, int *fd)
{
	struct kdev *kd = kdev_of(dev);
	struct kctx *c;
	uint32_t tmp;
	int ret = kfence_ctx(kd, f, &c);

	if (ret)
		return ret;
	if (!c)
		return signaled_sync_file(kd->fd, fd);
	if (kctx_completed(c) >= f->seqno) {
		ret = signaled_sync_file(c->kd->fd, fd);
		kctx_put(c);
		return ret;
	}
	/* the timeline point into a binary syncobj, exported as a sync_file */
	if (drmSyncobjCreate(c->kd->fd, 0, &tmp)) {
		kctx_put(c);
		return -errno;
	}
	ret = drmSyncobjTransfer(c->kd->fd, tmp, 0, c->syncobj, f->seqno, 0) ? -errno : 0;
	if (!ret && drmSyncobjExportSyncFile(c->kd->fd, tmp, fd))
		ret = -errno;
	drmSyncobjDestroy(c->kd->fd, tmp);
	kctx_put(c);
	return ret;
}
