// SPDX-License-Identifier: MIT
/* End-of-run checks of the guest-side robustness programs (see vmcheck.h). */
#include "tests/vm/vmcheck.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "selftests/drivers/accel/anpu/anpu_lib.h"

int vmcheck_counters_read(struct vmcheck_counters *c)
{
	static const char *const keys[] = { "bos", "jobs", "contexts", "address_spaces" };
	long *vals[] = { &c->bos, &c->jobs, &c->contexts, &c->address_spaces };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long v = anpu_debugfs_counter(keys[i]);

		if (v < 0)
			return (int)v;
		*vals[i] = v;
	}
	return 0;
}

void vmcheck_counters_format(const struct vmcheck_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "bos %ld jobs %ld contexts %ld address_spaces %ld",
		 c->bos, c->jobs, c->contexts, c->address_spaces);
}

int vmcheck_idle(const struct vmcheck_counters *idle, int timeout_ms, char *why, size_t len)
{
	uint64_t end = anpu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct vmcheck_counters now;
	char a[128], b[128];
	int r;

	for (;;) {
		r = vmcheck_counters_read(&now);
		if (r) {
			snprintf(why, len, "reading the debugfs counters: %s", strerror(-r));
			return r;
		}
		if (!memcmp(&now, idle, sizeof(now)))
			return 0;
		if (anpu_now_ns() > end)
			break;
		usleep(20000);
	}
	vmcheck_counters_format(&now, a, sizeof(a));
	vmcheck_counters_format(idle, b, sizeof(b));
	snprintf(why, len, "object counters not back to idle after %d ms: %s (idle: %s)",
		 timeout_ms, a, b);
	return -ETIMEDOUT;
}

enum { ADD_N = 1024, MM_K = 64, MM_N = 32, MM_M = 4 };

/* The inputs (exact small binary fractions, so the CPU's sums are exact too). */
static void fill_inputs(float *a, float *b, float *x, float *w)
{
	for (int i = 0; i < ADD_N; i++) {
		a[i] = (float)(i % 37) * 0.25f - 3.0f;
		b[i] = (float)(i % 11) * 0.5f;
	}
	for (int i = 0; i < MM_K * MM_M; i++)
		x[i] = (float)(i % 7) * 0.125f - 0.25f;
	for (int i = 0; i < MM_K * MM_N; i++)
		w[i] = (float)((i * 5) % 9) * 0.0625f - 0.25f;
}

static int check_results(const float *a, const float *b, const float *x, const float *w,
			 const float *y_add, const float *y_mm, char *why, size_t len)
{
	for (int i = 0; i < ADD_N; i++)
		if (y_add[i] != a[i] + b[i]) {
			snprintf(why, len, "ADD y[%d] = %g, CPU %g", i, y_add[i], a[i] + b[i]);
			return -EIO;
		}
	for (int m = 0; m < MM_M; m++)
		for (int n = 0; n < MM_N; n++) {
			double ref = 0;

			for (int k = 0; k < MM_K; k++)
				ref += (double)x[m * MM_K + k] * w[n * MM_K + k];
			if (fabs(y_mm[m * MM_N + n] - ref) > 1e-4 * (1 + fabs(ref))) {
				snprintf(why, len, "MATMUL y[%d][%d] = %g, CPU %g", m, n,
					 y_mm[m * MM_N + n], ref);
				return -EIO;
			}
		}
	return 0;
}

struct known_bos {
	struct anpu_bo a, b, y, x, w, ymm, cmd;
};

static void known_free(int fd, struct known_bos *k)
{
	anpu_bo_free(fd, &k->a);
	anpu_bo_free(fd, &k->b);
	anpu_bo_free(fd, &k->y);
	anpu_bo_free(fd, &k->x);
	anpu_bo_free(fd, &k->w);
	anpu_bo_free(fd, &k->ymm);
	anpu_bo_free(fd, &k->cmd);
}

static int known_run(int fd, uint32_t ctx, struct known_bos *k, char *why, size_t len)
{
	struct anpu_bo *bos[] = { &k->a, &k->b, &k->y, &k->x, &k->w, &k->ymm };
	struct drm_anpu_bo_ref refs[6];
	struct simdev_stream s;
	struct anpu_tensor t[3];
	int r = 0;

	for (int i = 0; i < 6 && !r; i++)
		r = anpu_bo_new(fd, 4096 * 2, 0, bos[i]);
	if (r) {
		snprintf(why, len, "BO_CREATE/mmap: %s", strerror(-r));
		return r;
	}
	fill_inputs(k->a.map, k->b.map, k->x.map, k->w.map);
	memset(k->y.map, 0xff, ADD_N * 4);
	memset(k->ymm.map, 0xff, MM_N * MM_M * 4);
	simdev_stream_init(&s);
	t[0] = simdev_tensor(k->a.addr, ANPU_DTYPE_F32, ADD_N, 1, 1, 1);
	t[1] = simdev_tensor(k->b.addr, ANPU_DTYPE_F32, ADD_N, 1, 1, 1);
	t[2] = simdev_tensor(k->y.addr, ANPU_DTYPE_F32, ADD_N, 1, 1, 1);
	simdev_stream_op(&s, ANPU_OP_ADD, 0, NULL, 0, t, 3);
	t[0] = simdev_tensor(k->x.addr, ANPU_DTYPE_F32, MM_K, MM_M, 1, 1);
	t[1] = simdev_tensor(k->w.addr, ANPU_DTYPE_F32, MM_K, MM_N, 1, 1);
	t[2] = simdev_tensor(k->ymm.addr, ANPU_DTYPE_F32, MM_N, MM_M, 1, 1);
	simdev_stream_op(&s, ANPU_OP_MATMUL, 0, NULL, 0, t, 3);
	r = simdev_stream_finish(&s, 0, 0) ? anpu_stream_bo(fd, &s, &k->cmd) : -ENOMEM;
	simdev_stream_free(&s);
	if (r) {
		snprintf(why, len, "command stream BO: %s", strerror(-r));
		return r;
	}
	for (int i = 0; i < 6; i++)
		refs[i] = (struct drm_anpu_bo_ref){
			.handle = bos[i]->handle,
			.flags = (i == 2 || i == 5) ? DRM_ANPU_BO_REF_WRITE : 0,
		};
	r = anpu_run(fd, ctx, &k->cmd, refs, 6, NULL, 20000);
	if (r) {
		snprintf(why, len, "the known job failed: %s", strerror(-r));
		return r;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return check_results(k->a.map, k->b.map, k->x.map, k->w.map, k->y.map, k->ymm.map,
			     why, len);
}

int vmcheck_known_job(char *why, size_t len)
{
	struct known_bos k;
	uint32_t ctx;
	int fd, r;

	memset(&k, 0, sizeof(k));
	fd = anpu_open();
	if (fd < 0) {
		snprintf(why, len, "open the device: %s", strerror(-fd));
		return fd;
	}
	r = anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx);
	if (r) {
		snprintf(why, len, "CTX_CREATE: %s", strerror(-r));
		close(fd);
		return r;
	}
	r = known_run(fd, ctx, &k, why, len);
	known_free(fd, &k);
	anpu_ctx_destroy(fd, ctx);
	close(fd);
	return r;
}
