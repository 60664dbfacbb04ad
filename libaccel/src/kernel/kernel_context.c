// SPDX-License-Identifier: MIT
/*
 * Kernel backend: the process's context registry and contexts.
 * The design and the locking rules: kernel_internal.h.
 */
#include "kernel_internal.h"

#include <stdlib.h>

/* ---- the process's contexts (fences name contexts of any device handle) ---- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kctx *reg[KCTX_HASH];
static uint32_t next_ctx_id;

static void kctx_register(struct kctx *c)
{
	pthread_mutex_lock(&reg_lock);
	do {
		c->id = ++next_ctx_id;
	} while (!c->id);
	c->refs = 1;
	c->hash_next = reg[c->id % KCTX_HASH];
	reg[c->id % KCTX_HASH] = c;
	pthread_mutex_unlock(&reg_lock);
}

struct kctx *kctx_get(uint32_t id)
{
	struct kctx *c;

	pthread_mutex_lock(&reg_lock);
	for (c = reg[id % KCTX_HASH]; c && c->id != id; c = c->hash_next)
		;
	if (c)
		c->refs++;
	pthread_mutex_unlock(&reg_lock);
	return c;
}

static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;

void kctx_put(struct kctx *c)
{
	pthread_mutex_lock(&reg_lock);
	if (--c->refs == 1 && c->dead)
		pthread_cond_broadcast(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
}

/* Remove @c from the registry and wait until no lookup holds it. */
static void kctx_unregister(struct kctx *c)
{
	struct kctx **link;

	pthread_mutex_lock(&reg_lock);
	for (link = &reg[c->id % KCTX_HASH]; *link; link = &(*link)->hash_next) {
		if (*link == c) {
			*link = c->hash_next;
			break;
		}
	}
	c->dead = true;
	while (c->refs > 1)
		pthread_cond_wait(&reg_cond, &reg_lock);
	pthread_mutex_unlock(&reg_lock);
}

unsigned int kdev_busy_contexts(struct kdev *kd, struct kctx **out, unsigned int max)
{
	unsigned int n = 0;

	pthread_mutex_lock(&kd->lock);
	pthread_mutex_lock(&reg_lock);
	for (unsigned int i = 0; i < kd->n_ctxs && n < max; i++) {
		if (kd->ctxs[i]->n && !kd->ctxs[i]->dead) {
			kd->ctxs[i]->refs++;
			out[n++] = kd->ctxs[i];
		}
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&kd->lock);
	return n;
}

/* ---- contexts ---- */

int kernel_context_create(struct accel_device *dev, struct accel_context *ctx)
{
	struct kdev *kd = kdev_of(dev);
	struct drm_anpu_ctx_create cc = { .priority = (uint32_t)ctx->params.priority };
	struct drm_anpu_ctx_destroy cd = { 0 };
	struct kctx *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cap = 64;
	c->jobs = calloc(c->cap, sizeof(*c->jobs));
	if (!c->jobs) {
		free(c);
		return -ENOMEM;
	}
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_CREATE, &cc);
	if (ret)
		goto fail;
	if (drmSyncobjCreate(kd->fd, 0, &c->syncobj)) {
		ret = -errno;
		cd.ctx_id = cc.ctx_id;
		kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
		goto fail;
	}
	c->gens[0].kid = cc.ctx_id;
	c->n_gens = 1;
	c->queue = (unsigned int)ctx->params.priority;
	c->kd = kd;
	pthread_mutex_init(&c->submit_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_mutex_lock(&kd->lock);
	if (kd->n_ctxs == kd->cap_ctxs) {
		unsigned int cap = kd->cap_ctxs ? 2 * kd->cap_ctxs : 16;
		struct kctx **v = realloc(kd->ctxs, cap * sizeof(*v));

		if (!v) {
			pthread_mutex_unlock(&kd->lock);
			drmSyncobjDestroy(kd->fd, c->syncobj);
			cd.ctx_id = cc.ctx_id;
			kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
			ret = -ENOMEM;
			goto fail;
		}
		kd->ctxs = v;
		kd->cap_ctxs = cap;
	}
	kd->ctxs[kd->n_ctxs++] = c;
	pthread_mutex_unlock(&kd->lock);
	kctx_register(c);
	ctx->priv = c;
	return 0;
fail:
	free(c->jobs);
	free(c);
	return ret;
}

void kernel_context_destroy(struct accel_device *dev, struct accel_context *ctx)
{
	struct kdev *kd = kdev_of(dev);
	struct kctx *c = ctx->priv;
	uint64_t last = atomic_load(&c->last_point);

	/* wait for every job (the kernel's watchdog ends hung ones), deliver them */
	if (last) {
		uint32_t h = c->syncobj;

		while (drmSyncobjTimelineWait(kd->fd, &h, &last, 1, INT64_MAX,
					      DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL) == -EINTR)
			;
		if (atomic_load(&kd->thread_on) && !kdev_on_thread(kd)) {
			/* the thread delivers (in completion order); wait for it below */
			pthread_mutex_lock(&c->lock);
			if (last > c->completed)
				c->completed = last;
			pthread_mutex_unlock(&c->lock);
			kdev_kick(kd);
		} else {
			kctx_retire(c, last);
		}
	}
	pthread_mutex_lock(&c->lock);
	while (c->delivering || c->n)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	kctx_unregister(c);
	pthread_mutex_lock(&kd->lock);
	for (unsigned int i = 0; i < kd->n_ctxs; i++) {
		if (kd->ctxs[i] == c) {
			kd->ctxs[i] = kd->ctxs[--kd->n_ctxs];
			break;
		}
	}
	pthread_mutex_unlock(&kd->lock);
	for (unsigned int g = 0; g < c->n_gens; g++) {
		struct drm_anpu_ctx_destroy cd = { .ctx_id = c->gens[g].kid };

		kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
	}
	drmSyncobjDestroy(kd->fd, c->syncobj);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->submit_lock);
	free(c->jobs);
	free(c);
	ctx->priv = NULL;
}
