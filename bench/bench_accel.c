// SPDX-License-Identifier: MIT
/*
 * anpu-bench-accel: libaccel submission costs on the in-process NPU.
 *
 *   accel.sim.submit.rtt_us   one empty job (a NOP op): submit -> signal -> waiter, median
 *   accel.sim.jobs_per_s      empty jobs with up to 16 in flight (refilled 8 at a time)
 *   accel.sim.submit.cpu_us   process CPU time (all threads, getrusage) per empty job
 *                             over the jobs/s run (>= 100k jobs)
 *
 *   anpu-bench-accel --kernel /dev/accel/accelN   (in the VM: make bench-accel)
 *   accel.kernel.submit.rtt_us          one empty job through libaccel's kernel backend:
 *                                       accel_submit -> accel_fence_wait, median
 *   accel.kernel.submit.raw_rtt_us      the same empty job with raw ioctls on its own fd:
 *                                       DRM_ANPU_SUBMIT (binary out-syncobj) + drmSyncobjWait
 *   accel.kernel.submit.overhead_ratio  rtt_us / raw_rtt_us (goal < 2); both measured
 *                                       in the same run, interleaved in blocks
 * One JSON object per line (scripts/bench-record.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "libaccel/include/accel.h"
#include "uapi/drm/anpu_accel.h"
#include "uapi/drm/anpu_isa.h"
#include "tools/common/anpu_cli.h"

#define RTT_ITERS	3000
#define RUN_JOBS	200000
#define IN_FLIGHT	16

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int die(const char *what, int err)
{
	fprintf(stderr, "anpu-bench-accel: %s failed: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

/* ---- the kernel part ---- */

#define K_BLOCKS	10
#define K_BLOCK		100

struct raw {
	int fd;
	uint32_t ctx, bo, syncobj, size;
};

/* An fd of its own with a context, a NOP stream BO and a binary syncobj. */
static int raw_setup(const char *path, struct raw *r)
{
	struct drm_anpu_ctx_create cc = { .priority = DRM_ANPU_PRIORITY_NORMAL };
	struct drm_anpu_bo_create bc = { .size = 4096, .flags = DRM_ANPU_BO_NPU_READONLY };
	struct drm_anpu_bo_info bi = { 0 };
	struct anpu_stream_header h = {
		.magic = ANPU_STREAM_MAGIC, .version_major = ANPU_ISA_VERSION_MAJOR,
		.version_minor = ANPU_ISA_VERSION_MINOR, .op_count = 1,
	};
	struct anpu_op op = { .opcode = ANPU_OP_NOP };
	uint8_t *p;

	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	r->size = (uint32_t)(sizeof(h) + ANPU_OP_SIZE(0));
	h.size = r->size;
	if (drmIoctl(r->fd, DRM_IOCTL_ANPU_CTX_CREATE, &cc) ||
	    drmIoctl(r->fd, DRM_IOCTL_ANPU_BO_CREATE, &bc))
		return -errno;
	bi.handle = bc.handle;
	if (drmIoctl(r->fd, DRM_IOCTL_ANPU_BO_INFO, &bi))
		return -errno;
	p = mmap(NULL, bi.size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, (off_t)bi.mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), &op, sizeof(op));
	munmap(p, bi.size);
	r->ctx = cc.ctx_id;
	r->bo = bc.handle;
	return drmSyncobjCreate(r->fd, 0, &r->syncobj) ? -errno : 0;
}

static int raw_job(const struct raw *r)
{
	struct drm_anpu_sync out = { .handle = r->syncobj };
	struct drm_anpu_submit s = {
		.ctx_id = r->ctx, .cmd_handle = r->bo, .cmd_size = r->size,
		.out_syncs = { .stride = sizeof(out), .count = 1, .array = (uint64_t)(uintptr_t)&out },
	};
	uint32_t h = r->syncobj;

	if (drmIoctl(r->fd, DRM_IOCTL_ANPU_SUBMIT, &s))
		return -errno;
	return drmSyncobjWait(r->fd, &h, 1, INT64_MAX, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL, NULL);
}

static int kernel_part(const char *path)
{
	static double lib[K_BLOCKS * K_BLOCK], raw[K_BLOCKS * K_BLOCK];
	struct accel_device_info info;
	struct accel_device *dev;
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;
	struct accel_fence f;
	struct raw r;
	double t0, lm, rm;
	int ret, n = 0;

	ret = accel_device_open(path, NULL, &dev);
	if (ret)
		return die("open kernel device", ret);
	accel_device_info(dev, &info);
	if (info.backend != ACCEL_BACKEND_KERNEL)
		return die("kernel backend", -ENODEV);
	if ((ret = accel_context_create(dev, NULL, &ctx)) || (ret = accel_cmdbuf_create(dev, NULL, &cb)) ||
	    (ret = accel_cmd_nop(cb)) || (ret = accel_cmdbuf_finish(cb)))
		return die("setup", ret);
	ret = raw_setup(path, &r);
	if (ret)
		return die("raw setup", ret);
	/* warm up both paths (runtime PM resume, caches) */
	for (int i = 0; i < 50; i++) {
		if ((ret = accel_submit(ctx, cb, NULL, &f)) || (ret = accel_fence_wait(dev, &f, -1)))
			return die("warm-up job", ret);
		if ((ret = raw_job(&r)))
			return die("raw warm-up job", ret);
	}
	for (int b = 0; b < K_BLOCKS; b++) {
		for (int i = 0; i < K_BLOCK; i++) {
			t0 = now_s();
			if ((ret = raw_job(&r)))
				return die("raw job", ret);
			raw[n + i] = (now_s() - t0) * 1e6;
		}
		for (int i = 0; i < K_BLOCK; i++) {
			t0 = now_s();
			if ((ret = accel_submit(ctx, cb, NULL, &f)) || (ret = accel_fence_wait(dev, &f, -1)))
				return die("rtt job", ret);
			lib[n + i] = (now_s() - t0) * 1e6;
		}
		n += K_BLOCK;
	}
	qsort(lib, (size_t)n, sizeof(double), cmp_double);
	qsort(raw, (size_t)n, sizeof(double), cmp_double);
	lm = lib[n / 2];
	rm = raw[n / 2];
	printf("{\"name\":\"accel.kernel.submit.rtt_us\",\"value\":%.2f,\"unit\":\"us\",\"p90\":%.2f,\"iters\":%d,\"device\":\"%s\"}\n",
	       lm, lib[n * 9 / 10], n, info.path);
	printf("{\"name\":\"accel.kernel.submit.raw_rtt_us\",\"value\":%.2f,\"unit\":\"us\",\"p90\":%.2f,\"iters\":%d}\n",
	       rm, raw[n * 9 / 10], n);
	printf("{\"name\":\"accel.kernel.submit.overhead_ratio\",\"value\":%.3f,\"unit\":\"x\",\"goal\":2}\n",
	       lm / rm);
	close(r.fd);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
	accel_device_close(dev);
	return 0;
}

int main(int argc, char **argv)
{
	static struct accel_fence ring[IN_FLIGHT];
	static double rtt[RTT_ITERS];
	struct accel_device *dev;
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;
	struct accel_fence f;
	double t0, c0, wall, cpu;
	int ret;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: anpu-bench-accel [--kernel /dev/accel/accelN]\n"
		       "  libaccel's submit and round-trip costs: JSON lines on stdout\n"
		       "  (no option)           the in-process NPU\n"
		       "  --kernel NODE         the kernel driver's device node (in the VM)\n"
		       "  -h, --help            print this help and exit\n"
		       "  --version             print the version and exit\n");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version"))
		return anpu_cli_version("anpu-bench-accel");
	if (argc >= 2 && !strcmp(argv[1], "--kernel")) {
		if (argc != 3)
			return anpu_cli_usage_error("anpu-bench-accel", "--kernel takes one device node");
		return kernel_part(argv[2]);
	}
	if (argc != 1)
		return anpu_cli_usage_error("anpu-bench-accel", "unknown option '%s'", argv[1]);
	ret = accel_device_open("sim", NULL, &dev);
	if (ret)
		return die("open sim", ret);
	if ((ret = accel_context_create(dev, NULL, &ctx)) || (ret = accel_cmdbuf_create(dev, NULL, &cb)) ||
	    (ret = accel_cmd_nop(cb)) || (ret = accel_cmdbuf_finish(cb)))
		return die("setup", ret);

	for (int i = 0; i < RTT_ITERS; i++) {
		t0 = now_s();
		if ((ret = accel_submit(ctx, cb, NULL, &f)) || (ret = accel_fence_wait(dev, &f, -1)))
			return die("rtt job", ret);
		rtt[i] = (now_s() - t0) * 1e6;
	}
	qsort(rtt, RTT_ITERS, sizeof(double), cmp_double);

	c0 = cpu_seconds();
	t0 = now_s();
	/* keep 8..16 jobs in flight: refill half the window per wake-up, as a pipelined runtime would */
	for (int i = 0; i < RUN_JOBS; i++) {
		if (i >= IN_FLIGHT && i % (IN_FLIGHT / 2) == 0 &&
		    (ret = accel_fence_wait(dev, &ring[(i - IN_FLIGHT / 2 - 1) % IN_FLIGHT], -1)))
			return die("wait", ret);
		if ((ret = accel_submit(ctx, cb, NULL, &ring[i % IN_FLIGHT])))
			return die("submit", ret);
	}
	if ((ret = accel_fence_wait(dev, &ring[(RUN_JOBS - 1) % IN_FLIGHT], -1)))
		return die("drain", ret);
	wall = now_s() - t0;
	cpu = cpu_seconds() - c0;

	printf("{\"name\":\"accel.sim.submit.rtt_us\",\"value\":%.2f,\"unit\":\"us\",\"p90\":%.2f,\"iters\":%d}\n",
	       rtt[RTT_ITERS / 2], rtt[RTT_ITERS * 9 / 10], RTT_ITERS);
	printf("{\"name\":\"accel.sim.jobs_per_s\",\"value\":%.0f,\"unit\":\"jobs/s\",\"in_flight\":%d,\"jobs\":%d}\n",
	       RUN_JOBS / wall, IN_FLIGHT, RUN_JOBS);
	printf("{\"name\":\"accel.sim.submit.cpu_us\",\"value\":%.3f,\"unit\":\"us\",\"jobs\":%d,\"goal\":5}\n",
	       cpu / RUN_JOBS * 1e6, RUN_JOBS);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
	accel_device_close(dev);
	return 0;
}
