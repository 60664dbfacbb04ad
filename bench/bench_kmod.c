// SPDX-License-Identifier: MIT
/*
 * Kernel-driver benchmark (make bench-kmod, run in the virtual platform):
 * an empty job (one NOP op, through the ring like any job) from SUBMIT to
 * its out-syncobj signalling, and jobs/s with 1 and 16 jobs in flight, beside
 * a trivial ioctl (DRM_IOCTL_VERSION) measured in the same run, so the ratio
 * says what the driver adds on top of the syscall path of this machine.
 *
 *   bench_kmod [--iters N]
 *
 * Prints one JSON object per line: kmod.ioctl.version_us, kmod.submit.rtt_us,
 * kmod.submit.rtt_ratio, kmod.jobs_per_s.inflight1, kmod.jobs_per_s.inflight16.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "selftests/drivers/accel/anpu/anpu_lib.h"

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_kmod: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static double version_us(int fd, int iters)
{
	uint64_t t0 = anpu_now_ns();

	for (int i = 0; i < iters; i++) {
		struct drm_version v = { 0 };
		int r = anpu_ioctl(fd, DRM_IOCTL_VERSION, &v);

		if (r)
			die("DRM_IOCTL_VERSION", r);
	}
	return (double)(anpu_now_ns() - t0) / 1e3 / iters;
}

/* @iters jobs with at most @inflight outstanding; returns elapsed ns. */
static uint64_t run_jobs(int fd, uint32_t ctx, const struct anpu_bo *cmd, int iters,
			 int inflight)
{
	uint32_t so[16];
	uint64_t t0;

	for (int i = 0; i < inflight; i++) {
		so[i] = anpu_syncobj(fd);
		if (!so[i])
			die("syncobj create", ENOMEM);
	}
	t0 = anpu_now_ns();
	for (int i = 0; i < iters + inflight; i++) {
		uint32_t s = so[i % inflight];
		struct drm_anpu_sync out = { .handle = s };
		struct anpu_submit_args a = { .ctx_id = ctx, .cmd = cmd, .out = &out, .n_out = 1 };
		int r;

		if (i >= inflight) {
			r = anpu_syncobj_wait(fd, s, 0, 10000);
			if (r)
				die("syncobj wait", r);
			if (anpu_syncobj_status(fd, s, 0) != 1)
				die("job failed", EIO);
		}
		if (i < iters) {
			r = anpu_submit(fd, &a, NULL);
			if (r)
				die("SUBMIT", r);
		}
	}
	t0 = anpu_now_ns() - t0;
	for (int i = 0; i < inflight; i++)
		drmSyncobjDestroy(fd, so[i]);
	return t0;
}

static void emit(const char *name, double value, const char *unit)
{
	printf("{\"name\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"}\n", name, value, unit);
}

int main(int argc, char **argv)
{
	int iters = 500, fd, r;
	struct anpu_bo cmd;
	double ver, rtt;
	uint32_t ctx;

	if (argc == 3 && !strcmp(argv[1], "--iters"))
		iters = atoi(argv[2]);
	if (iters < 16) {
		fprintf(stderr, "usage: bench_kmod [--iters N>=16]\n");
		return 2;
	}
	fd = anpu_open();
	if (fd < 0)
		die("no ANPU accel node", fd);
	r = anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx);
	if (r)
		die("CTX_CREATE", r);
	r = anpu_nop_bo(fd, 1, &cmd, NULL);
	if (r)
		die("NOP stream BO", r);

	/* warm up both paths (runtime PM resume, caches) */
	version_us(fd, 50);
	run_jobs(fd, ctx, &cmd, 20, 1);

	ver = version_us(fd, iters * 4);
	rtt = (double)run_jobs(fd, ctx, &cmd, iters, 1) / 1e3 / iters;
	emit("kmod.ioctl.version_us", ver, "us");
	emit("kmod.submit.rtt_us", rtt, "us");
	emit("kmod.submit.rtt_ratio", rtt / ver, "x");
	emit("kmod.jobs_per_s.inflight1", 1e6 / rtt, "jobs/s");
	emit("kmod.jobs_per_s.inflight16",
	     (double)iters * 2 * 1e9 / (double)run_jobs(fd, ctx, &cmd, iters * 2, 16), "jobs/s");
	anpu_bo_free(fd, &cmd);
	close(fd);
	return 0;
}
