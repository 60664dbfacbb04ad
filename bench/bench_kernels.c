// SPDX-License-Identifier: MIT
/*
 * anpu-bench-kernels: single-thread ns per 32 weights of each dot kernel,
 * M = 1, on every SIMD path this CPU runs; "hot" = weights in L2 (compute
 * bound), "stream" = 256 MiB of weights (memory bound). A tool for kernel
 * work on a loaded machine (quote the load average with its numbers); times
 * are the thread's CPU time, so preemption by other load does not count
 * (cache and memory contention still do).
 *   [BENCH_K=K] anpu-bench-kernels [dtype...]   (K a multiple of 256)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/kernels/kernels.h"
#include "sim/kernels/quant.h"
#include "tools/common/anpu_cli.h"

static double now_s(void)
{
	struct timespec ts;

	/* this thread's CPU time: time it was preempted by other load is not counted */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(uint32_t dtype, uint8_t *w, size_t bytes, size_t bb)
{
	for (size_t i = 0; i + 8 <= bytes; i += 8) {
		uint64_t v = rnd();

		memcpy(w + i, &v, 8);
	}
	for (size_t b = 0; b < bytes / bb; b++) {
		uint16_t d = 0x2000 | (uint16_t)(rnd() & 0x3ff);

		if (dtype == ANPU_DTYPE_F16)
			continue;
		memcpy(w + b * bb + (dtype == ANPU_DTYPE_Q6_K ? 208 : 0), &d, 2);
		if (dtype == ANPU_DTYPE_Q4_K || dtype == ANPU_DTYPE_Q5_K)
			memcpy(w + b * bb + 2, &d, 2);
	}
	if (dtype == ANPU_DTYPE_F16)
		for (size_t i = 0; i < bytes / 2; i++)
			((uint16_t *)w)[i] = (uint16_t)((((uint16_t *)w)[i] & 0x83ff) | 0x2000);
}

struct dt { const char *name; uint32_t dtype; size_t k; };

static const struct dt dts[] = {
	{ "f16", ANPU_DTYPE_F16, 896 }, { "q8_0", ANPU_DTYPE_Q8_0, 896 },
	{ "q4_0", ANPU_DTYPE_Q4_0, 896 }, { "q5_0", ANPU_DTYPE_Q5_0, 896 },
	{ "q4_k", ANPU_DTYPE_Q4_K, 4864 }, { "q5_k", ANPU_DTYPE_Q5_K, 4864 },
	{ "q6_k", ANPU_DTYPE_Q6_K, 4864 },
};

static double run(const struct sim_kernels *kn, const struct dt *d, const uint8_t *w,
		  size_t rb, size_t rows, const void *xr, int reps, float *sink, int w2)
{
	double best = 1e30;

	for (int r = 0; r < reps; r++) {
		double t0 = now_s();

		/* M = 1 matmul's path: row j with row j + rows / 2 (two long streams) */
		for (size_t j = 0; w2 && j < rows / 2; j++) {
			float out[2];

			kn->dot_w2[d->dtype](d->k, w + j * rb, w + (j + rows / 2) * rb, xr, out);
			*sink += out[0] + out[1];
		}
		for (size_t j = 0; !w2 && j < rows; j++) {
			float out;

			kn->dot[d->dtype](d->k, w + j * rb, &xr, 1, &out);
			*sink += out;
		}
		double t = now_s() - t0;

		if (t < best)
			best = t;
	}
	return best * 1e9 / ((double)rows * (double)d->k / 32.0);
}

#define PROG "anpu-bench-kernels"
#define N_DTS (sizeof(dts) / sizeof(dts[0]))

static void usage(void)
{
	printf("Usage: " PROG " [DTYPE...]\n"
	       "  ns per 32 weights of each dot kernel on every SIMD path this CPU runs\n"
	       "  DTYPE           only these weight types (default all):");
	for (size_t i = 0; i < N_DTS; i++)
		printf(" %s", dts[i].name);
	printf("\n  -h, --help      print this help and exit\n"
	       "  --version       print the version and exit\n"
	       "  BENCH_K=K       (environment) K, a multiple of 256, for every type\n");
}

/* -h, --version, and every argument a dtype of dts[]: -1 to go on, else the exit status */
static int check_args(int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		int status = anpu_cli_common(PROG, argv[a], usage);
		size_t i;

		if (status >= 0)
			return status;
		for (i = 0; i < N_DTS && strcmp(argv[a], dts[i].name); i++)
			;
		if (i == N_DTS)
			return anpu_cli_usage_error(PROG, "unknown %s '%s'",
						    argv[a][0] == '-' ? "option" : "dtype", argv[a]);
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
	float sink = 0;
	int status = check_args(argc, argv);

	if (status >= 0)
		return status;

	for (size_t i = 0; i < N_DTS; i++) {
		struct dt dk = dts[i];
		const struct dt *d = &dk;
		int want = argc < 2;
		const char *ek = getenv("BENCH_K");	/* K override, e.g. 4864 */

		if (ek && atoi(ek) > 0 && atoi(ek) % 256 == 0)
			dk.k = (size_t)atoi(ek);

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], d->name);
		if (!want)
			continue;
		size_t rb = sim_weight_row_bytes(d->dtype, d->k);
		size_t bb = rb / (d->k / sim_weight_block_elems(d->dtype));
		size_t rows = (256u << 20) / rb, hot = (256u << 10) / rb;
		uint8_t *w = aligned_alloc(64, (rows * rb + 63) & ~(size_t)63);
		float *xf = malloc(sizeof(float) * d->k);
		void *xq = aligned_alloc(64, sim_act_row_bytes(SIM_ACT_Q8K, d->k) +
					 sim_act_row_bytes(SIM_ACT_Q8X2, d->k) + sim_act_row_bytes(SIM_ACT_Q8X4, d->k) + 64);
		const void *xr;

		fill(d->dtype, w, rows * rb, bb);
		for (size_t j = 0; j < d->k; j++)
			xf[j] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			if (!sim_kernels_supported(paths[p]) || sim_kernels_select(paths[p]))
				continue;
			const struct sim_kernels *kn = sim_kernels_get();

			switch (sim_kernels_act(kn, d->dtype)) {
			case SIM_ACT_Q8: kn->quantize_q8(xf, xq, d->k); xr = xq; break;
			case SIM_ACT_Q8X2: kn->quantize_q8x2(xf, xq, d->k); xr = xq; break;
			case SIM_ACT_Q8X4: kn->quantize_q8x4(xf, xq, d->k); xr = xq; break;
			case SIM_ACT_Q8K: kn->quantize_q8K(xf, xq, d->k); xr = xq; break;
			default: xr = xf; break;
			}
			for (int w2 = 0; w2 < 1 + (kn->dot_w2[d->dtype] != NULL); w2++) {
				double h = run(kn, d, w, rb, hot, xr, 200, &sink, w2);
				double st = run(kn, d, w, rb, rows, xr, 3, &sink, w2);

				printf("%-5s %-8s hot %6.3f ns/32  stream %6.3f ns/32 (%5.2f GB/s)\n",
				       d->name, w2 ? "avx512w2" : paths[p], h, st, (double)bb * 32 /
				       sim_weight_block_elems(d->dtype) / st);
			}
		}
		free(w);
		free(xf);
		free(xq);
	}
	return sink == 12345.0f;
}
