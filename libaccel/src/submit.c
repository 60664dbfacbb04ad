// SPDX-License-Identifier: MIT
/* Contexts, submission, fences and completion delivery (the backend-independent part). */
#include "accel_internal.h"

#include <errno.h>
#include <stdlib.h>

struct accel_context_params accel_context_default_params(void)
{
	struct accel_context_params p = { .priority = ACCEL_PRIORITY_NORMAL };

	return p;
}

int accel_context_create(struct accel_device *dev, const struct accel_context_params *params,
			 struct accel_context **out)
{
	struct accel_context_params defaults = accel_context_default_params();
	struct accel_context *ctx;
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!params)
		params = &defaults;
	if ((unsigned int)params->priority >= ACCEL_NUM_PRIORITIES)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->params = *params;
	if (!ctx->params.hang_timeout_ms)
		ctx->params.hang_timeout_ms = 5000;
	ctx->obj.dev = dev;
	ret = dev->ops->context_create(dev, ctx);
	if (ret) {
		free(ctx);
		return ret;
	}
	accel_obj_init(dev, &ctx->obj, ACCEL_MAGIC_CONTEXT);
	*out = ctx;
	return 0;
}

int accel_context_free(struct accel_context *ctx)
{
	uint32_t expect = ACCEL_MAGIC_CONTEXT;

	if (!ctx || !atomic_compare_exchange_strong(&ctx->obj.magic, &expect, ACCEL_MAGIC_DEAD))
		return -EBADF;
	ctx->obj.dev->ops->context_destroy(ctx->obj.dev, ctx);
	accel_obj_bury(&ctx->obj);
	return 0;
}

struct accel_submit_params accel_submit_default_params(void)
{
	struct accel_submit_params p = { 0 };

	return p;
}

int accel_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
		 const struct accel_submit_params *params, struct accel_fence *out)
{
	static const struct accel_submit_params defaults;
	struct accel_submit_params traced;
	struct accel_profile *trace_prof = NULL;
	struct accel_device *dev;
	struct accel_fence fence;
	struct accel_observer *obs;
	int64_t now;
	int ret;

	if (accel_obj_check(ctx, ACCEL_MAGIC_CONTEXT) || accel_obj_check(cb, ACCEL_MAGIC_CMDBUF))
		return -EBADF;
	dev = ctx->obj.dev;
	if (cb->obj.dev != dev)
		return -EXDEV;
	if (!params)
		params = &defaults;
	if (!cb->finished || params->n_step_params > cb->step_params ||
	    (params->n_step_params && !params->step_params) ||
	    (params->n_deps && !params->deps) || (params->flags & ~ACCEL_SUBMIT_NONBLOCK))
		return -EINVAL;
	if (params->n_deps > ACCEL_MAX_DEPS)
		return -E2BIG;
	if (dev->trace && !params->profile) {
		/* trace mode: profile every job with a buffer of the trace's pool */
		trace_prof = accel_trace_take_profile(dev, cb);
		traced = *params;
		traced.profile = trace_prof;
		params = &traced;
	}
	if (params->profile) {
		int idle = 0;

		if (accel_obj_check(params->profile, ACCEL_MAGIC_PROFILE))
			return -EBADF;
		if (params->profile->obj.dev != dev)
			return -EXDEV;
		if (params->profile->max_ops < cb->op_count)
			return -ENOSPC;
		if (!atomic_compare_exchange_strong(&params->profile->busy, &idle, 1)) {
			if (trace_prof)
				accel_trace_give_profile(dev, trace_prof);
			return -EBUSY;
		}
		atomic_fetch_add(&params->profile->refs, 1);
	}
	atomic_fetch_add(&cb->refs, 1);
	now = accel_now_ns();
	ret = dev->ops->submit(ctx, cb, params, &fence, now);
	if (ret) {
		accel_cmdbuf_unref(cb);
		if (params->profile) {
			atomic_store(&params->profile->busy, 0);
			accel_profile_unref(params->profile);
		}
		if (trace_prof)
			accel_trace_give_profile(dev, trace_prof);
		return ret;
	}
	obs = atomic_load_explicit(&dev->observer, memory_order_acquire);
	if (obs && obs->on_submit) {
		struct accel_submit_event ev = {
			.fence = fence, .priority = ctx->params.priority, .op_count = cb->op_count,
			.label = cb->label, .n_deps = params->n_deps, .submit_ns = now,
			.cmdbuf = cb,
		};

		obs->on_submit(obs->user, &ev);
	}
	if (out)
		*out = fence;
	return 0;
}

void accel_job_delivered(const struct accel_done *d)
{
	struct accel_observer *obs = atomic_load_explicit(&d->dev->observer, memory_order_acquire);

	if (d->prof) {
		/* records and labels switch together, before a reader can see them */
		accel_profile_filled_by(d->prof, d->cb);
		atomic_store(&d->prof->written, d->status.result != ACCEL_RESULT_INVALID);
		atomic_store_explicit(&d->prof->busy, 0, memory_order_release);
	}
	if (d->dev->trace)
		accel_trace_job_delivered(d);
	if (obs && obs->on_complete) {
		struct accel_complete_event ev = {
			.fence = d->fence, .priority = d->priority, .label = d->cb->label,
			.status = d->status, .cmdbuf = d->cb,
		};

		obs->on_complete(obs->user, &ev);
	}
	if (d->fn)
		d->fn(d->user, &d->fence, &d->status);
	if (d->prof)
		accel_profile_unref(d->prof);
	accel_cmdbuf_unref(d->cb);
}

/* ---- fences ---- */

static int fence_args(struct accel_device *dev, const struct accel_fence *f)
{
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!f || !f->seqno || !f->context_id)
		return -EINVAL;
	return 0;
}

int accel_fence_wait(struct accel_device *dev, const struct accel_fence *fence,
		     int64_t timeout_ns)
{
	int ret = fence_args(dev, fence);

	return ret ? ret : dev->ops->fence_wait(dev, fence, timeout_ns);
}

int accel_fence_wait_all(struct accel_device *dev, const struct accel_fence *fences,
			 unsigned int n, int64_t timeout_ns)
{
	int64_t deadline = timeout_ns < 0 ? -1 : accel_now_ns() + timeout_ns;
	int first_err = 0;

	if (n && !fences)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		int64_t left = deadline < 0 ? -1 : deadline - accel_now_ns();
		int ret = accel_fence_wait(dev, &fences[i], left < 0 && deadline >= 0 ? 0 : left);

		if (ret == -ETIMEDOUT || ret == -EINVAL || ret == -EBADF || ret == -EXDEV)
			return ret;
		if (ret && !first_err)
			first_err = ret;
	}
	return first_err;
}

int accel_fence_poll(struct accel_device *dev, const struct accel_fence *fence)
{
	int ret = fence_args(dev, fence);

	return ret ? ret : dev->ops->fence_poll(dev, fence);
}

int accel_fence_status(struct accel_device *dev, const struct accel_fence *fence,
		       struct accel_job_status *status)
{
	int ret = fence_args(dev, fence);

	if (ret)
		return ret;
	if (!status)
		return -EINVAL;
	return dev->ops->fence_status(dev, fence, status);
}

int accel_fence_export_fd(struct accel_device *dev, const struct accel_fence *fence, int *fd)
{
	int ret = fence_args(dev, fence);

	if (ret)
		return ret;
	if (!fd)
		return -EINVAL;
	*fd = -1;
	return dev->ops->fence_export_fd(dev, fence, fd);
}
