// SPDX-License-Identifier: MIT
/*
 * runtime.bw.read_gbs: the read bandwidth the decode roofline divides by,
 * measured in the same `make bench-runtime` run as the decode figures. All
 * online threads read disjoint parts of a 256 MiB slice with the widest loads
 * (bench/bw_read.h, the simulator benchmark's probes); consecutive reads take
 * the two halves of a 512 MiB buffer in turn so none is served from cache.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_runtime.h"
#include "bench/bw_read.h"

#define BW_SLICE	(256ull << 20)
#define BW_MAX_THREADS	64

struct bw_part {
	const uint8_t *p;
	size_t n;
	int avx512;
	uint64_t sink;
};

static void *bw_thread(void *arg)
{
	struct bw_part *part = arg;

	part->sink = part->avx512 ? bw_read_avx512(part->p, part->n) : bw_read_avx2(part->p, part->n);
	return NULL;
}

int bench_bw_read(int runs)
{
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	uint8_t *buf = aligned_alloc(4096, 2 * BW_SLICE);
	struct bw_part part[BW_MAX_THREADS];
	pthread_t tid[BW_MAX_THREADS];
	double best = 0;
	size_t per;
	int avx512;

	if (!buf) {
		fprintf(stderr, "anpu-bench-runtime: no memory for the bandwidth buffer\n");
		return 1;
	}
	nthreads = nthreads < 1 ? 1 : nthreads > BW_MAX_THREADS ? BW_MAX_THREADS : nthreads;
	per = BW_SLICE / (size_t)nthreads & ~(size_t)255;
	memset(buf, 1, 2 * BW_SLICE);
	__builtin_cpu_init();
	avx512 = __builtin_cpu_supports("avx512f");
	for (int r = 0; r <= runs; r++) {	/* read 0 warms up */
		const uint8_t *base = buf + (size_t)(r & 1) * BW_SLICE;
		double t0 = now_ms(), gbs;

		for (long i = 0; i < nthreads; i++) {
			part[i] = (struct bw_part){ base + (size_t)i * per, per, avx512, 0 };
			if (pthread_create(&tid[i], NULL, bw_thread, &part[i])) {
				fprintf(stderr, "anpu-bench-runtime: pthread_create failed\n");
				exit(1);
			}
		}
		for (long i = 0; i < nthreads; i++)
			pthread_join(tid[i], NULL);
		gbs = (double)per * (double)nthreads / ((now_ms() - t0) / 1e3) / 1e9;
		if (r && gbs > best)
			best = gbs;
	}
	free(buf);
	printf("{\"name\":\"runtime.bw.read_gbs\",\"value\":%.3f,\"unit\":\"GB/s\",\"threads\":%ld,"
	       "\"runs\":%d,\"avx512\":%d}\n", best, nthreads, runs, avx512);
	return 0;
}
