// SPDX-License-Identifier: MIT
/*
 * Kernel backend: submit: dependencies, back-pressure, step-parameter streams, the SUBMIT ioctl.
 * The design and the locking rules: kernel_internal.h.
 */
#include "kernel_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- submit ---- */

/* one submission at a time of a command buffer with step parameters */
static pthread_mutex_t step_locks[16] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER,
};


/* @c's timeline syncobj as a handle of @kd's file (imported once, cached). */
static int timeline_handle(struct kdev *kd, struct kctx *c, uint32_t *out)
{
	uint32_t h;
	int sfd, ret = 0;

	if (c->kd == kd) {
		*out = c->syncobj;
		return 0;
	}
	pthread_mutex_lock(&kd->lock);
	for (unsigned int i = 0; i < kd->n_imports; i++) {
		if (kd->imports[i].ctx_id == c->id) {
			*out = kd->imports[i].handle;
			pthread_mutex_unlock(&kd->lock);
			return 0;
		}
	}
	if (drmSyncobjHandleToFD(c->kd->fd, c->syncobj, &sfd)) {
		ret = -errno;
	} else {
		if (drmSyncobjFDToHandle(kd->fd, sfd, &h))
			ret = -errno;
		close(sfd);
	}
	if (!ret) {
		unsigned int slot;

		if (kd->n_imports < KIMPORTS) {
			slot = kd->n_imports++;
		} else {
			slot = kd->next_import++ % KIMPORTS;
			drmSyncobjDestroy(kd->fd, kd->imports[slot].handle);
		}
		kd->imports[slot] = (struct kimport){ .ctx_id = c->id, .handle = h };
		*out = h;
	}
	pthread_mutex_unlock(&kd->lock);
	return ret;
}

static int push_job(struct kctx *c, const struct kjob *j)
{
	if (c->n == c->cap) {
		unsigned int cap = c->cap * 2;
		struct kjob *v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (unsigned int i = 0; i < c->n; i++)
			v[i] = c->jobs[(c->head + i) % c->cap];
		free(c->jobs);
		c->jobs = v;
		c->head = 0;
		c->cap = cap;
	}
	c->jobs[(c->head + c->n) % c->cap] = *j;
	c->n++;
	return 0;
}

/* Block until some job of @kd finishes (back-pressure). */
static void kdev_wait_any(struct kdev *kd)
{
	struct kctx *busy[KBUSY_MAX];
	uint32_t handles[KBUSY_MAX];
	uint64_t points[KBUSY_MAX];
	unsigned int n = kdev_busy_contexts(kd, busy, KBUSY_MAX), m = 0;
	uint32_t first;

	for (unsigned int i = 0; i < n; i++) {
		pthread_mutex_lock(&busy[i]->lock);
		if (busy[i]->n) {
			handles[m] = busy[i]->syncobj;
			points[m++] = busy[i]->jobs[busy[i]->head].seqno;
		}
		pthread_mutex_unlock(&busy[i]->lock);
	}
	if (m)
		drmSyncobjTimelineWait(kd->fd, handles, points, m, INT64_MAX,
				       DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first);
	for (unsigned int i = 0; i < n; i++)
		kctx_put(busy[i]);
}

/* Take a job slot of @kd (back-pressure): 0 or -EAGAIN. */
static int reserve_slot(struct kdev *kd, bool nonblock)
{
	if (atomic_load(&kd->thread_on)) {
		/* the completion thread frees slots; it must not wait for itself */
		bool self = kdev_on_thread(kd);
		int ret = 0;

		pthread_mutex_lock(&kd->lock);
		while (kd->inflight >= kd->max_jobs && !ret) {
			if (nonblock || self)
				ret = -EAGAIN;
			else
				pthread_cond_wait(&kd->slot_cond, &kd->lock);
		}
		if (!ret)
			kd->inflight++;
		pthread_mutex_unlock(&kd->lock);
		return ret;
	}
	for (int tries = 0;; tries++) {
		pthread_mutex_lock(&kd->lock);
		if (kd->inflight < kd->max_jobs) {
			kd->inflight++;
			pthread_mutex_unlock(&kd->lock);
			return 0;
		}
		pthread_mutex_unlock(&kd->lock);
		if (tries == 0) {
			kdev_retire_all(kd, NULL, 0);
			continue;
		}
		if (nonblock)
			return -EAGAIN;
		kdev_wait_any(kd);
		kdev_retire_all(kd, NULL, 0);
	}
}

static void release_slot(struct kdev *kd)
{
	pthread_mutex_lock(&kd->lock);
	kd->inflight--;
	pthread_mutex_unlock(&kd->lock);
}

/* Under submit_lock: @c goes on on a fresh kernel context (the last is guilty). */
static int new_generation(struct kctx *c)
{
	struct drm_anpu_ctx_create cc = { .priority = c->queue };
	struct drm_anpu_ctx_destroy cd = { 0 };
	int ret = kioctl(c->kd->fd, DRM_IOCTL_ANPU_CTX_CREATE, &cc);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	if (c->n_gens == KGENS) {
		cd.ctx_id = c->gens[0].kid;
		memmove(&c->gens[0], &c->gens[1], (KGENS - 1) * sizeof(c->gens[0]));
		c->n_gens--;
	}
	c->gens[c->n_gens++] = (struct kgen){ .kid = cc.ctx_id,
					      .base = atomic_load(&c->last_point) };
	pthread_mutex_unlock(&c->lock);
	if (cd.ctx_id)
		kioctl(c->kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
	return 0;
}

/* An ioctl array; an empty one is all zero (the ABI requires it). */
static struct drm_anpu_obj_array obj_array(unsigned int n, size_t stride, const void *p)
{
	struct drm_anpu_obj_array a = { 0 };

	if (n) {
		a.stride = (uint32_t)stride;
		a.count = n;
		a.array = (uint64_t)(uintptr_t)p;
	}
	return a;
}

static int do_submit(struct kctx *c, struct accel_cmdbuf *cb, struct accel_bo *stream,
		     const struct accel_submit_params *p, struct drm_anpu_sync *in,
		     unsigned int n_in, struct accel_fence *out, int64_t submit_ns)
{
	struct kdev *kd = c->kd;
	struct drm_anpu_bo_ref stack_refs[64], *refs = stack_refs;
	struct drm_anpu_sync out_sync = { .handle = c->syncobj, .flags = DRM_ANPU_SYNC_TIMELINE };
	struct drm_anpu_submit s = {
		.cmd_handle = kbo_handle(stream),
		.cmd_size = cb->stream_size,
	};
	unsigned int n_refs = 0;
	struct kjob job;
	int ret;

	if (cb->n_bos > 64) {
		refs = malloc(cb->n_bos * sizeof(*refs));
		if (!refs)
			return -ENOMEM;
	}
	for (unsigned int i = 0; i < cb->n_bos; i++) {
		uint32_t h = kbo_handle(cb->bos[i]);
		uint32_t fl = cb->bo_written[i] ? DRM_ANPU_BO_REF_WRITE : 0;
		unsigned int k;

		/* an imported BO may share a GEM handle with another: name it once */
		for (k = 0; k < n_refs && ((struct kbo *)cb->bos[i]->priv)->gem->refs > 1; k++)
			if (refs[k].handle == h)
				break;
		if (k < n_refs && refs[k].handle == h) {
			refs[k].flags |= fl;
			continue;
		}
		refs[n_refs++] = (struct drm_anpu_bo_ref){ .handle = h, .flags = fl };
	}
	s.bos = obj_array(n_refs, sizeof(*refs), refs);
	s.in_syncs = obj_array(n_in, sizeof(*in), in);
	if (p->profile) {
		s.flags |= DRM_ANPU_SUBMIT_PROFILE;
		s.profile_handle = kbo_handle(p->profile->bo);
		s.profile_size = (uint32_t)p->profile->bo->size;
	}
	pthread_mutex_lock(&c->submit_lock);
	out_sync.point = atomic_load(&c->last_point) + 1;
	s.out_syncs = obj_array(1, sizeof(out_sync), &out_sync);
	s.ctx_id = c->gens[c->n_gens - 1].kid;
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_SUBMIT, &s);
	if (ret == -ECANCELED && !new_generation(c)) {
		s.ctx_id = c->gens[c->n_gens - 1].kid;
		ret = kioctl(kd->fd, DRM_IOCTL_ANPU_SUBMIT, &s);
	}
	if (!ret && s.seqno + c->gens[c->n_gens - 1].base != out_sync.point)
		ret = -EPROTO;	/* the kernel's seqnos must follow the timeline points */
	if (!ret) {
		job = (struct kjob){ .seqno = out_sync.point, .cb = cb, .prof = p->profile,
				     .fn = p->on_complete, .user = p->user, .submit_ns = submit_ns };
		pthread_mutex_lock(&c->lock);
		ret = push_job(c, &job);
		if (atomic_load(&kd->thread_on))	/* (acquire: kd->efd is set) */
			kctx_arm_locked(kd, c);	/* @c may have been idle */
		pthread_mutex_unlock(&c->lock);
		if (ret) {
			/* no memory to track it: the job runs, its references stay (leak) */
			ret = 0;
		}
		atomic_store(&c->last_point, out_sync.point);
	}
	pthread_mutex_unlock(&c->submit_lock);
	if (refs != stack_refs)
		free(refs);
	if (ret)
		return ret;
	pthread_mutex_lock(&kd->lock);
	kd->submitted++;
	pthread_mutex_unlock(&kd->lock);
	*out = (struct accel_fence){ .seqno = out_sync.point, .context_id = c->id,
				     .device_id = kd->device_id };
	return 0;
}

/* 1 if @f finished (or its context is gone), else 0. Delivers nothing (no callback
 * may run under a step lock: it may submit the same command buffer). */
static int fence_done(struct kdev *kd, const struct accel_fence *f)
{
	struct kctx *c;
	int done;

	if (kfence_ctx(kd, f, &c) || !c)
		return 1;
	if (kctx_completed(c) < f->seqno) {
		uint32_t h = c->syncobj;
		uint64_t v = 0;

		if (!drmSyncobjQuery(c->kd->fd, &h, &v, 1)) {
			pthread_mutex_lock(&c->lock);
			if (v > c->completed)
				c->completed = v;
			pthread_mutex_unlock(&c->lock);
		}
	}
	done = kctx_completed(c) >= f->seqno;
	kctx_put(c);
	return done;
}

/*
 * Under the command buffer's step lock: a copy of @cb's stream whose last job
 * finished, holding the step values of @p. Blocks only when all KSTREAMS
 * copies are busy.
 */
static int step_stream(struct kdev *kd, struct accel_cmdbuf *cb, const struct accel_submit_params *p,
		       unsigned int *slot)
{
	struct kstreams *ks = cb->priv;
	unsigned int i;
	uint8_t *dst;

	if (!ks) {
		ks = calloc(1, sizeof(*ks));
		if (!ks)
			return -ENOMEM;
		ks->s[0].bo = cb->stream_bo;
		ks->n = 1;
		cb->priv = ks;
	}
	for (i = 0; i < ks->n; i++)
		if (!ks->s[i].last.seqno || fence_done(kd, &ks->s[i].last))
			break;
	if (i == ks->n && ks->n < KSTREAMS) {
		struct anpu_stream_header h;
		struct accel_bo *bo;
		int ret = accel_bo_create_internal(cb->obj.dev, cb->stream_bo->size,
						   ACCEL_BO_NPU_READ_ONLY | ACCEL_BO_NO_CLEAR, &bo);

		if (!ret) {
			memcpy(bo->host, cb->stream_bo->host, cb->stream_size);
			memcpy(&h, bo->host, sizeof(h));
			h.step_params_addr = bo->npu_addr + cb->stream_size;
			memcpy(bo->host, &h, sizeof(h));
			ks->s[ks->n++].bo = bo;
		} else {
			i = ks->next++ % ks->n;	/* no memory for a copy: wait for one */
		}
	} else if (i == ks->n) {
		i = ks->next++ % ks->n;
	}
	if (ks->s[i].last.seqno && !fence_done(kd, &ks->s[i].last)) {
		struct kctx *c;

		if (!kfence_ctx(kd, &ks->s[i].last, &c) && c) {
			kctx_wait(c, ks->s[i].last.seqno, INT64_MAX, false);
			kctx_put(c);
		}
	}
	if (p->n_step_params)
		memcpy(ks->vals, p->step_params, p->n_step_params * sizeof(uint32_t));
	dst = (uint8_t *)ks->s[i].bo->host + cb->stream_size;
	memcpy(dst, ks->vals, cb->step_params * sizeof(uint32_t));
	atomic_thread_fence(memory_order_seq_cst);	/* drain write-combining */
	*slot = i;
	return 0;
}

void kernel_cmdbuf_release(struct accel_cmdbuf *cb)
{
	struct kstreams *ks = cb->priv;

	if (!ks)
		return;
	for (unsigned int i = 1; i < ks->n; i++)
		accel_bo_free(ks->s[i].bo);
	free(ks);
	cb->priv = NULL;
}

int kernel_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
			 const struct accel_submit_params *p, struct accel_fence *out,
			 int64_t submit_ns)
{
	struct kdev *kd = kdev_of(ctx->obj.dev);
	struct kctx *c = ctx->priv, *deps[ACCEL_MAX_DEPS + 1];
	struct drm_anpu_sync in[ACCEL_MAX_DEPS + 1];
	struct accel_fence all[ACCEL_MAX_DEPS + 1];
	pthread_mutex_t *step_lock = NULL;
	struct accel_bo *stream = cb->stream_bo;
	unsigned int n_deps = 0, n_in = 0, n_all = p->n_deps, slot = 0;
	int ret = 0;

	memcpy(all, p->deps, p->n_deps * sizeof(*all));
	if (!atomic_load_explicit(&kd->thread_on, memory_order_relaxed) &&
	    (p->on_complete || atomic_load_explicit(&kd->front->observer, memory_order_relaxed)))
		kdev_start_thread(kd);
	ret = reserve_slot(kd, p->flags & ACCEL_SUBMIT_NONBLOCK);
	if (ret)
		return ret;
	if (cb->step_params) {
		/* one submission at a time, each after the previous one */
		step_lock = &step_locks[((uintptr_t)cb >> 6) % 16];
		pthread_mutex_lock(step_lock);
		if (cb->last_submit.seqno)
			all[n_all++] = cb->last_submit;
	}
	for (unsigned int i = 0; i < n_all; i++) {
		const struct accel_fence *f = &all[i];
		struct kctx *dc;

		if (!f->seqno) {
			ret = -EINVAL;
			goto out;
		}
		ret = kfence_ctx(kd, f, &dc);
		if (ret)
			goto out;
		if (!dc)
			continue;		/* freed context: finished */
		deps[n_deps++] = dc;
		if (dc == c || kctx_completed(dc) >= f->seqno)
			continue;		/* a context runs in order */
		in[n_in] = (struct drm_anpu_sync){ .flags = DRM_ANPU_SYNC_TIMELINE,
						   .point = f->seqno };
		ret = timeline_handle(kd, dc, &in[n_in].handle);
		if (ret)
			goto out;
		n_in++;
	}
	if (step_lock) {
		ret = step_stream(kd, cb, p, &slot);
		if (ret)
			goto out;
		stream = ((struct kstreams *)cb->priv)->s[slot].bo;
	}
	ret = do_submit(c, cb, stream, p, in, n_in, out, submit_ns);
	if (!ret && step_lock) {
		cb->last_submit = *out;
		((struct kstreams *)cb->priv)->s[slot].last = *out;
	}
out:
	if (step_lock)
		pthread_mutex_unlock(step_lock);
	if (ret)
		release_slot(kd);
	for (unsigned int i = 0; i < n_deps; i++)
		kctx_put(deps[i]);
	return ret;
}
