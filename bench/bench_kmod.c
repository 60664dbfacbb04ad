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
 * Prints one JSON object per line: kmod.ioctl.version_us (median of single
 * calls), kmod.submit.rtt_us (median of single jobs: SUBMIT until the out
 * syncobj's wait returns), kmod.submit.rtt_ratio (rtt / version), and
 * kmod.jobs_per_s.inflight1 and .inflight16 (timed loops of N jobs, each slot
 * resubmitted once its previous job signalled), and kmod.irqs_per_job.inflight16
 * (job interrupts the driver took per job in the .inflight16 loop, from the
 * debugfs counter irq_job: below 1 when job-interrupt moderation, hardware 1.1,
 * coalesces them; the line is left out without debugfs). Version and rtt are measured in
 * two interleaved rounds, the better of each reported. Jobs are checked (fence
 * status, JOB_INFO result) outside the timed parts.
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_us(uint64_t *ns, int n)
{
	qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
	return (double)ns[n / 2] / 1e3;
}

/* DRM_IOCTL_VERSION, each call timed: the median in microseconds. */
static double version_us(int fd, int iters, uint64_t *ns)
{
	for (int i = 0; i < iters; i++) {
		struct drm_version v = { 0 };
		uint64_t t0 = anpu_now_ns();
		int r = anpu_ioctl(fd, DRM_IOCTL_VERSION, &v);

		ns[i] = anpu_now_ns() - t0;
		if (r)
			die("DRM_IOCTL_VERSION", r);
	}
	return median_us(ns, iters);
}

static void submit_one(int fd, uint32_t ctx, const struct anpu_bo *cmd, uint32_t cmd_size,
		       uint32_t so, uint64_t *seqno)
{
	struct drm_anpu_sync out = { .handle = so };
	struct anpu_submit_args a = { .ctx_id = ctx, .cmd = cmd, .cmd_size = cmd_size,
				      .out = &out, .n_out = 1 };
	int r = anpu_submit(fd, &a, seqno);

	if (r)
		die("SUBMIT", r);
}

static void wait_one(int fd, uint32_t so)
{
	int r = anpu_syncobj_wait(fd, so, 0, 10000);

	if (r)
		die("syncobj wait", r);
}

/* The fence of @so and JOB_INFO of @seqno say the job succeeded. */
static void check_job(int fd, uint32_t ctx, uint32_t so, uint64_t seqno)
{
	struct drm_anpu_job_info ji;
	int r = anpu_syncobj_status(fd, so, 0);

	if (r != 1)
		die("job fence", r < 0 ? r : -EINPROGRESS);
	r = anpu_job_info(fd, ctx, seqno, &ji);
	if (r)
		die("JOB_INFO", r);
	if (ji.result != ANPU_RESULT_OK || ji.ops_done != 1)
		die("job result", EIO);
}

/* Submit -> out-syncobj signalled, each job timed alone: the median in microseconds. */
static double rtt_us(int fd, uint32_t ctx, const struct anpu_bo *cmd, uint32_t cmd_size,
		     int iters, uint64_t *ns)
{
	uint32_t so = anpu_syncobj(fd);
	uint64_t seqno = 0;

	if (!so)
		die("syncobj create", ENOMEM);
	for (int i = 0; i < iters; i++) {
		uint64_t t0 = anpu_now_ns();

		submit_one(fd, ctx, cmd, cmd_size, so, &seqno);
		wait_one(fd, so);
		ns[i] = anpu_now_ns() - t0;
		if (i % 64 == 0)
			check_job(fd, ctx, so, seqno);
	}
	check_job(fd, ctx, so, seqno);
	drmSyncobjDestroy(fd, so);
	return median_us(ns, iters);
}

/*
 * Jobs per second with at most @inflight outstanding: a timed loop of @iters
 * jobs, each slot's next job submitted once its previous one has signalled.
 */
static double jobs_per_s(int fd, uint32_t ctx, const struct anpu_bo *cmd, uint32_t cmd_size,
			 int iters, int inflight, long *irqs)
{
	uint64_t seq[16] = { 0 }, t0;
	long irq0 = anpu_debugfs_counter("irq_job");
	uint32_t so[16];

	for (int i = 0; i < inflight; i++) {
		so[i] = anpu_syncobj(fd);
		if (!so[i])
			die("syncobj create", ENOMEM);
	}
	t0 = anpu_now_ns();
	for (int i = 0; i < iters + inflight; i++) {
		int k = i % inflight;

		if (i >= inflight)
			wait_one(fd, so[k]);
		if (i < iters)
			submit_one(fd, ctx, cmd, cmd_size, so[k], &seq[k]);
	}
	t0 = anpu_now_ns() - t0;
	*irqs = irq0 < 0 ? -1 : anpu_debugfs_counter("irq_job") - irq0;
	/* every slot's last job succeeded (JOB_INFO remembers the most recent ones) */
	check_job(fd, ctx, so[(iters - 1) % inflight], seq[(iters - 1) % inflight]);
	for (int i = 0; i < inflight; i++) {
		if (anpu_syncobj_status(fd, so[i], 0) != 1)
			die("job fence", EIO);
		drmSyncobjDestroy(fd, so[i]);
	}
	return (double)iters * 1e9 / (double)t0;
}

static void emit(const char *name, double value, const char *unit, int iters)
{
	printf("{\"name\":\"%s\",\"value\":%.3f,\"unit\":\"%s\",\"iters\":%d}\n", name, value,
	       unit, iters);
}

int main(int argc, char **argv)
{
	int iters = 1000, fd, r;
	double ver, rtt, ver2, rtt2, j1, j16;
	long irqs1, irqs16;
	struct anpu_bo cmd;
	uint32_t ctx, cmd_size;
	uint64_t *ns;

	if (argc == 3 && !strcmp(argv[1], "--iters"))
		iters = atoi(argv[2]);
	if (iters < 16) {
		fprintf(stderr, "usage: bench_kmod [--iters N>=16]\n");
		return 2;
	}
	ns = calloc((size_t)iters * 4, sizeof(*ns));
	if (!ns)
		die("malloc", ENOMEM);
	fd = anpu_open();
	if (fd < 0)
		die("no ANPU accel node", fd);
	r = anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx);
	if (r)
		die("CTX_CREATE", r);
	r = anpu_nop_bo(fd, 1, &cmd, &cmd_size);
	if (r)
		die("NOP stream BO", r);

	/* warm up both paths (runtime PM resume, caches) */
	version_us(fd, 100, ns);
	rtt_us(fd, ctx, &cmd, cmd_size, 50, ns);

	/* two interleaved rounds; the better of each (noise on a shared host only adds) */
	ver = version_us(fd, iters * 4, ns);
	rtt = rtt_us(fd, ctx, &cmd, cmd_size, iters, ns);
	ver2 = version_us(fd, iters * 4, ns);
	rtt2 = rtt_us(fd, ctx, &cmd, cmd_size, iters, ns);
	ver = ver2 < ver ? ver2 : ver;
	rtt = rtt2 < rtt ? rtt2 : rtt;
	j1 = jobs_per_s(fd, ctx, &cmd, cmd_size, iters, 1, &irqs1);
	j16 = jobs_per_s(fd, ctx, &cmd, cmd_size, iters * 4, 16, &irqs16);

	emit("kmod.ioctl.version_us", ver, "us", iters * 4);
	emit("kmod.submit.rtt_us", rtt, "us", iters);
	emit("kmod.submit.rtt_ratio", rtt / ver, "x", iters);
	emit("kmod.jobs_per_s.inflight1", j1, "jobs/s", iters);
	emit("kmod.jobs_per_s.inflight16", j16, "jobs/s", iters * 4);
	if (irqs16 >= 0)
		emit("kmod.irqs_per_job.inflight16", (double)irqs16 / (iters * 4), "irqs/job",
		     iters * 4);
	anpu_bo_free(fd, &cmd);
	close(fd);
	free(ns);
	return 0;
}
