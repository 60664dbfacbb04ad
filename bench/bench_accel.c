// SPDX-License-Identifier: MIT
/*
 * anpu-bench-accel: libaccel submission costs on the in-process NPU.
 *
 *   accel.sim.submit.rtt_us   one empty job (a NOP op): submit -> signal -> waiter, median
 *   accel.sim.jobs_per_s      empty jobs with up to 16 in flight (refilled 8 at a time)
 *   accel.sim.submit.cpu_us   process CPU time (all threads, getrusage) per empty job
 *                             over the jobs/s run (>= 100k jobs)
 * One JSON object per line (scripts/bench-record.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "libaccel/include/accel.h"

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
	fprintf(stderr, "anpu-bench-accel: %s failed (%d)\n", what, err);
	return 1;
}

int main(void)
{
	static struct accel_fence ring[IN_FLIGHT];
	static double rtt[RTT_ITERS];
	struct accel_device *dev;
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;
	struct accel_fence f;
	double t0, c0, wall, cpu;
	int ret;

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
