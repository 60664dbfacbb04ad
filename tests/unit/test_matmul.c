// SPDX-License-Identifier: MIT
/*
 * MATMUL against the independent reference (tests/ref/ref_quant.c) for every
 * weight dtype, shape class (M = 1, 3, 37; K = 32..768 as the block allows;
 * N below, at and past a task chunk), bias and ACCUMULATE, on every SIMD path
 * this CPU runs. Tolerances: the bound ref_matmul() derives per element (see
 * ref_quant.h): 8-bit activation rounding plus the float summation bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/kernels/kernels.h"
#include "sim/sim_ops.h"
#include "sim/sim_pool.h"
#include "tests/ref/ref_quant.h"

static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
#define N_PATHS 4

/* Path @p's kernels, selected, or NULL where this CPU lacks it. */
static const struct sim_kernels *select_path(int p)
{
	if (!sim_kernels_supported(paths[p]) || sim_kernels_select(paths[p]))
		return NULL;
	return sim_kernels_get();
}

#define X_ADDR 0x100000ull
#define W_ADDR 0x200000ull
#define Y_ADDR 0x300000ull
#define B_ADDR 0x400000ull

static void mk_tensor(struct sim_tensor *t, uint32_t dtype, uint32_t ne0,
		      uint32_t ne1, uint32_t ne2, uint32_t ne3, void *data,
		      uint64_t addr)
{
	assert_true(sim_tensor_dense(t, dtype, ne0, ne1, ne2, ne3, data, addr));
}

struct mm_case {
	uint32_t dtype;
	size_t k, n, m;
	uint8_t *w;
	float *x, *bias, *y0;
	double *ref, *bound;	/* without bias and y0 */
};

static void case_init(struct mm_case *c, uint32_t dtype, size_t k, size_t n,
		      size_t m, uint64_t seed)
{
	size_t rb = ref_row_bytes(dtype, k);

	c->dtype = dtype;
	c->k = k;
	c->n = n;
	c->m = m;
	c->w = malloc(rb * n);
	c->x = malloc(sizeof(float) * k * m);
	c->bias = malloc(sizeof(float) * n);
	c->y0 = malloc(sizeof(float) * n * m);
	c->ref = malloc(sizeof(double) * n * m);
	c->bound = malloc(sizeof(double) * n * m);
	assert_non_null(c->w);
	assert_non_null(c->bound);
	for (size_t j = 0; j < n; j++)
		ref_fill_weight_row(dtype, c->w + j * rb, k, &seed);
	for (size_t i = 0; i < k * m; i++)
		c->x[i] = ref_rand_float(&seed) * (i % 7 == 0 ? 4.0f : 1.0f);
	for (size_t j = 0; j < n; j++)
		c->bias[j] = ref_rand_float(&seed);
	for (size_t i = 0; i < n * m; i++)
		c->y0[i] = ref_rand_float(&seed);
	ref_matmul(dtype, c->w, rb, c->x, NULL, NULL, k, n, m, c->ref, c->bound);
}

static void case_free(struct mm_case *c)
{
	free(c->w);
	free(c->x);
	free(c->bias);
	free(c->y0);
	free(c->ref);
	free(c->bound);
}

/* Run the op on path @path with @threads threads; y gets the result. */
static uint32_t case_run(const struct mm_case *c, const char *path,
			 unsigned int threads, int with_bias, int accumulate,
			 float *y)
{
	struct sim_op op;
	struct sim_exec ex = { 0 };
	uint64_t fault = 0;
	uint32_t cause;

	assert_int_equal(sim_kernels_select(path), 0);
	memset(&op, 0, sizeof(op));
	op.opcode = ANPU_OP_MATMUL;
	op.n_tensors = with_bias ? 4 : 3;
	op.flags = accumulate ? ANPU_MATMUL_ACCUMULATE : 0;
	mk_tensor(&op.t[0], ANPU_DTYPE_F32, (uint32_t)c->k, (uint32_t)c->m, 1, 1, c->x, X_ADDR);
	mk_tensor(&op.t[1], c->dtype, (uint32_t)c->k, (uint32_t)c->n, 1, 1, c->w, W_ADDR);
	mk_tensor(&op.t[2], ANPU_DTYPE_F32, (uint32_t)c->n, (uint32_t)c->m, 1, 1, y, Y_ADDR);
	mk_tensor(&op.t[3], ANPU_DTYPE_F32, (uint32_t)c->n, 1, 1, 1, c->bias, B_ADDR);
	if (accumulate)
		memcpy(y, c->y0, sizeof(float) * c->n * c->m);
	else
		for (size_t i = 0; i < c->n * c->m; i++)
			y[i] = NAN;	/* must be overwritten */
	cause = sim_op_matmul.check(&op, &fault);
	if (cause)
		return cause;
	ex.pool = sim_pool_create(threads, 0);
	assert_non_null(ex.pool);
	cause = sim_op_matmul.run(&ex, &op);
	sim_pool_destroy(ex.pool);
	return cause;
}

static void check_case(const struct mm_case *c, const char *path,
		       int with_bias, int accumulate)
{
	float *y = malloc(sizeof(float) * c->n * c->m);
	const double u = ldexp(1, -24);

	assert_non_null(y);
	assert_int_equal(case_run(c, path, 2, with_bias, accumulate, y), 0);
	for (size_t r = 0; r < c->m; r++) {
		for (size_t j = 0; j < c->n; j++) {
			size_t i = r * c->n + j;
			double want = c->ref[i], bound = c->bound[i];

			if (with_bias) {
				want += c->bias[j];
				bound += 2 * u * fabs(want) + u * fabs(c->bias[j]);
			}
			if (accumulate) {
				want += c->y0[i];
				bound += 2 * u * fabs(want) + u * fabs(c->y0[i]);
			}
			if (!(fabs(y[i] - want) <= bound)) {
				print_error("%s dtype %u K %zu N %zu M %zu bias %d acc %d: "
					    "y[%zu][%zu] = %.9g want %.9g bound %.3g\n",
					    path, c->dtype, c->k, c->n, c->m, with_bias,
					    accumulate, r, j, y[i], want, bound);
				free(y);
				fail();
			}
		}
	}
	free(y);
}

static void matches_reference(uint32_t dtype)
{
	/* 96, 224: odd block counts (a pair-form row ends with half a pair) */
	static const size_t ks[] = { 32, 64, 96, 224, 256, 512, 768 };
	static const size_t ns[] = { 7, 16, 33, 130 };
	static const size_t ms[] = { 1, 3, 37 };
	unsigned int be = sim_weight_block_elems(dtype);
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ dtype;

	for (size_t a = 0; a < sizeof(ks) / sizeof(ks[0]); a++) {
		if (ks[a] % be)
			continue;
		for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
			for (size_t d = 0; d < sizeof(ms) / sizeof(ms[0]); d++) {
				struct mm_case c;

				case_init(&c, dtype, ks[a], ns[b], ms[d], seed++);
				for (int p = 0; p < N_PATHS; p++) {
					if (!sim_kernels_supported(paths[p]))
						continue;
					for (int v = 0; v < 4; v++)
						check_case(&c, paths[p], v & 1, v >> 1);
				}
				case_free(&c);
			}
		}
	}
}

#define DTYPE_TEST(name, dt) \
	static void matmul_##name##_matches_reference(void **state) \
	{ (void)state; matches_reference(dt); }

DTYPE_TEST(f32, ANPU_DTYPE_F32)
DTYPE_TEST(f16, ANPU_DTYPE_F16)
DTYPE_TEST(bf16, ANPU_DTYPE_BF16)
DTYPE_TEST(q8_0, ANPU_DTYPE_Q8_0)
DTYPE_TEST(q4_0, ANPU_DTYPE_Q4_0)
DTYPE_TEST(q5_0, ANPU_DTYPE_Q5_0)
DTYPE_TEST(q4_1, ANPU_DTYPE_Q4_1)
DTYPE_TEST(q5_1, ANPU_DTYPE_Q5_1)
DTYPE_TEST(q4_k, ANPU_DTYPE_Q4_K)
DTYPE_TEST(q5_k, ANPU_DTYPE_Q5_K)
DTYPE_TEST(q6_k, ANPU_DTYPE_Q6_K)

static const uint32_t all_dtypes[] = {
	ANPU_DTYPE_F32, ANPU_DTYPE_F16, ANPU_DTYPE_BF16, ANPU_DTYPE_Q8_0,
	ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_K,
	ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q4_1, ANPU_DTYPE_Q5_1,
};

/*
 * The case gives the same bits with 1, 2 and 3 threads on every SIMD path,
 * with bias and ACCUMULATE (so a column computed twice would show).
 */
static void assert_thread_count_independent(const struct mm_case *c)
{
	size_t ny = c->n * c->m;
	float *y1 = malloc(ny * 4), *y2 = malloc(ny * 4), *y3 = malloc(ny * 4);

	assert_non_null(y1);
	assert_non_null(y2);
	assert_non_null(y3);
	for (int p = 0; p < N_PATHS; p++) {
		if (!sim_kernels_supported(paths[p]))
			continue;
		assert_int_equal(case_run(c, paths[p], 1, 1, 1, y1), 0);
		assert_int_equal(case_run(c, paths[p], 2, 1, 1, y2), 0);
		assert_int_equal(case_run(c, paths[p], 3, 1, 1, y3), 0);
		assert_memory_equal(y1, y2, ny * 4);
		assert_memory_equal(y1, y3, ny * 4);
	}
	free(y1);
	free(y2);
	free(y3);
}

/* M = 37 (chunks of columns) and M = 1 (a range per thread, stolen pieces) */
static void matmul_is_bit_identical_for_1_2_3_threads(void **state)
{
	static const size_t ms[] = { 37, 1 };

	(void)state;
	for (size_t t = 0; t < sizeof(all_dtypes) / sizeof(all_dtypes[0]); t++) {
		for (size_t mi = 0; mi < sizeof(ms) / sizeof(ms[0]); mi++) {
			struct mm_case c;

			case_init(&c, all_dtypes[t], 256, 1100, ms[mi], 42 + t);
			assert_thread_count_independent(&c);
			case_free(&c);
		}
	}
}

/*
 * Prefill (M > 1) gives each row the bits M = 1 gives it alone: the runtime's
 * "prefill equals single steps" and "chunked equals whole prefill" rest on it.
 * Ragged M (row groups of 4 with a remainder, partial panels, batches of 128 rows
 * whose 8 panels take two dot_panel() calls, 100: 4 + 2 panels and 4 rows, 140:
 * 8 panels, then a batch of one partial panel) and N not a multiple of any column
 * tile, with 1, 2 and 3 threads, on every SIMD path.
 */
static void matmul_rows_match_single_row_runs(void **state)
{
	static const size_t ms[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 26, 70, 100, 140 };
	const size_t n = 101;

	(void)state;
	for (size_t t = 0; t < sizeof(all_dtypes) / sizeof(all_dtypes[0]); t++) {
		size_t k = sim_weight_block_elems(all_dtypes[t]) == 256 ? 512 : 224;

		for (size_t mi = 0; mi < sizeof(ms) / sizeof(ms[0]); mi++) {
			struct mm_case c, one;
			size_t m = ms[mi];
			float *y = malloc(sizeof(float) * n * m), *y1 = malloc(sizeof(float) * n);

			assert_non_null(y);
			assert_non_null(y1);
			case_init(&c, all_dtypes[t], k, n, m, 1000 + 17 * t + mi);
			case_init(&one, all_dtypes[t], k, n, 1, 5);
			for (int p = 0; p < N_PATHS; p++) {
				if (!sim_kernels_supported(paths[p]))
					continue;
				for (unsigned int th = 1; th <= 3; th++) {
					assert_int_equal(case_run(&c, paths[p], th, 1, 1, y), 0);
					for (size_t r = 0; r < m; r++) {
						/* row r alone: same weights, bias, x row and y0 row */
						memcpy(one.w, c.w, ref_row_bytes(c.dtype, k) * n);
						memcpy(one.bias, c.bias, sizeof(float) * n);
						memcpy(one.x, c.x + r * k, sizeof(float) * k);
						memcpy(one.y0, c.y0 + r * n, sizeof(float) * n);
						assert_int_equal(case_run(&one, paths[p], th, 1, 1, y1), 0);
						if (memcmp(y1, y + r * n, sizeof(float) * n)) {
							print_error("%s dtype %u M %zu row %zu threads %u\n",
								    paths[p], c.dtype, m, r, th);
							fail();
						}
					}
				}
			}
			case_free(&one);
			case_free(&c);
			free(y);
			free(y1);
		}
	}
}

/*
 * docs/hardware.md 10.4: for the K-quants every SIMD path gives the portable
 * bits; M = 40: two panels of 16 rows and 8 rows in groups of 4 on AVX-512.
 */
static void matmul_kquants_give_portable_bits_on_every_path(void **state)
{
	static const uint32_t dts[] = { ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_K, ANPU_DTYPE_Q6_K };
	const size_t k = 768, n = 37;

	(void)state;
	for (size_t t = 0; t < 2 * sizeof(dts) / sizeof(dts[0]); t++) {
		const size_t m = t < 3 ? 6 : 40;
		struct mm_case c;
		float *want = malloc(sizeof(float) * n * m), *y = malloc(sizeof(float) * n * m);

		assert_non_null(want);
		assert_non_null(y);
		case_init(&c, dts[t % 3], k, n, m, 77 + t);
		assert_int_equal(case_run(&c, "portable", 2, 1, 1, want), 0);
		for (int p = 1; p < N_PATHS; p++) {
			if (!sim_kernels_supported(paths[p]))
				continue;
			assert_int_equal(case_run(&c, paths[p], 2, 1, 1, y), 0);
			assert_memory_equal(want, y, sizeof(float) * n * m);
		}
		case_free(&c);
		free(want);
		free(y);
	}
}

/*
 * docs/hardware.md 10.4: the AVX2 and AVX-512 paths sum Q4_0, Q5_0 and Q8_0
 * in one order, so they give the same bits: M = 1 (decode), 6 (rows in
 * groups of 4 and alone), 40 (two panels and the rest); K = 896 and 1184
 * end in a partial group of 16 blocks.
 */
/*
 * Paths @pa and @pb give the same bits for @dtype at K = @ks[0..1] (21 weight
 * rows), M = 1 (decode), 6 (rows in groups of 4 and alone) and 40 (two
 * panels and the rest).
 */
/* @n rows of @k elements from @src's layout to the converted one at @dst */
typedef void (*layout_fn)(uint8_t *dst, const uint8_t *src, size_t k, size_t n, size_t rb);

static void to_q5_0l(uint8_t *dst, const uint8_t *src, size_t k, size_t n, size_t rb)
{
	for (size_t j = 0; j < n; j++)
		anpu_q5_0_to_q5_0l(dst + j * rb, src + j * rb, (uint32_t)(k / SIM_QK));
}

static void to_q4_kl(uint8_t *dst, const uint8_t *src, size_t k, size_t n, size_t rb)
{
	for (size_t g = 0; g < n / ANPU_Q4_KL_GROUP; g++)
		anpu_q4_k_to_q4_kl(dst + g * ANPU_Q4_KL_GROUP * rb, src + g * ANPU_Q4_KL_GROUP * rb,
				   (uint32_t)(k / SIM_QK_K));
}

/*
 * MATMUL with weights of dtype @to (made by @conv) gives the bits of @from's
 * on every path, with 1-3 threads, with and without bias and ACCUMULATE, for
 * every K of @ks, N of @ns and M of @ms (each list ends with 0).
 */
static void check_layout_gives_bits(uint32_t from, uint32_t to, layout_fn conv, const size_t *ks,
				    const size_t *ns, const size_t *ms, uint64_t seed)
{
	for (const size_t *kp = ks; *kp; kp++) {
		for (const size_t *np = ns; *np; np++) {
			for (const size_t *mp = ms; *mp; mp++) {
				const size_t k = *kp, n = *np, m = *mp;
				const size_t rb = ref_row_bytes(from, k);
				float *y0 = malloc(sizeof(float) * n * m);
				float *y1 = malloc(sizeof(float) * n * m);
				uint8_t *wf = malloc(rb * n), *wt = malloc(rb * n);
				struct mm_case c;

				assert_non_null(y0);
				assert_non_null(y1);
				assert_non_null(wf);
				assert_non_null(wt);
				case_init(&c, from, k, n, m, seed++);
				memcpy(wf, c.w, rb * n);
				conv(wt, wf, k, n, rb);
				for (int p = 0; p < N_PATHS; p++) {
					if (!sim_kernels_supported(paths[p]))
						continue;
					for (int v = 0; v < 3; v++) {	/* bias and ACCUMULATE too */
						c.dtype = from;
						memcpy(c.w, wf, rb * n);
						assert_int_equal(case_run(&c, paths[p], 2, v & 1, v & 1, y0), 0);
						c.dtype = to;
						memcpy(c.w, wt, rb * n);
						assert_int_equal(case_run(&c, paths[p], 1 + v, v & 1, v & 1, y1), 0);
						if (memcmp(y0, y1, sizeof(float) * n * m)) {
							print_error("%s K %zu N %zu M %zu threads %d: dtype %u differs\n",
								    paths[p], k, n, m, 1 + v, to);
							fail();
						}
					}
				}
				case_free(&c);
				free(wf);
				free(wt);
				free(y0);
				free(y1);
			}
		}
	}
}

/*
 * Q5_0L (ISA 1.2) holds a Q5_0 row's blocks regrouped: MATMUL gives the Q5_0
 * row's bits on every path, for rows with a partial last group (K = 96, 544,
 * 896) or none, single rows (decode), 2-5 (lanes, batched decode) and 16+
 * (panels, prefill).
 */
static void matmul_q5_0l_gives_q5_0s_bits_on_every_path(void **state)
{
	static const size_t ks[] = { 32, 96, 512, 544, 896, 1024, 0 };
	static const size_t ns[] = { 7, 34, 0 };
	static const size_t ms[] = { 1, 2, 3, 4, 5, 16, 37, 0 };

	(void)state;
	check_layout_gives_bits(ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q5_0L, to_q5_0l, ks, ns, ms,
				0x5a5a0001ull);
}

/*
 * Q4_KL (ISA 1.3) holds 16 Q4_K rows interleaved: MATMUL gives the Q4_K
 * rows' bits on every path and thread count, for single rows (decode), 2-5
 * (batched decode, a call per 1-4 rows), 16+ (panels, prefill, and the
 * rows after them) and N a multiple of 64 columns or not.
 */
static void matmul_q4_kl_gives_q4_ks_bits_on_every_path(void **state)
{
	static const size_t ks[] = { 256, 1024, 2560, 0 };
	static const size_t ns[] = { 16, 80, 272, 0 };
	static const size_t ms[] = { 1, 2, 3, 4, 5, 16, 37, 0 };

	(void)state;
	check_layout_gives_bits(ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q4_KL, to_q4_kl, ks, ns, ms,
				0x4b4c0001ull);
}

static void to_q6_kl(uint8_t *dst, const uint8_t *src, size_t k, size_t n, size_t rb)
{
	for (size_t g = 0; g < n / ANPU_Q4_KL_GROUP; g++)
		anpu_q6_k_to_q6_kl(dst + g * ANPU_Q4_KL_GROUP * rb, src + g * ANPU_Q4_KL_GROUP * rb,
				   (uint32_t)(k / SIM_QK_K));
}

/*
 * Q6_KL (ISA 1.4) holds 16 Q6_K rows interleaved: MATMUL gives the Q6_K
 * rows' bits as Q4_KL gives Q4_K's, including rows too long to be
 * de-interleaved for the panel kernels (K = 10240: every row through the
 * row-group kernel) and an odd number of blocks (K = 2304: every other block
 * of 16 rows starts half-way into a cache line).
 */
static void matmul_q6_kl_gives_q6_ks_bits_on_every_path(void **state)
{
	static const size_t ks[] = { 256, 1024, 2304, 0 }, long_k[] = { 10240, 0 };
	static const size_t ns[] = { 16, 80, 272, 0 }, long_n[] = { 32, 0 };
	static const size_t ms[] = { 1, 2, 3, 4, 5, 16, 37, 0 }, long_m[] = { 1, 16, 37, 0 };

	(void)state;
	check_layout_gives_bits(ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q6_KL, to_q6_kl, ks, ns, ms,
				0x364c0001ull);
	check_layout_gives_bits(ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q6_KL, to_q6_kl, long_k, long_n, long_m,
				0x364c1001ull);
}

static void to_q4_0l(uint8_t *dst, const uint8_t *src, size_t k, size_t n, size_t rb)
{
	for (size_t g = 0; g < n / ANPU_Q4_KL_GROUP; g++)
		anpu_q4_0_to_q4_0l(dst + g * ANPU_Q4_KL_GROUP * rb, src + g * ANPU_Q4_KL_GROUP * rb,
				   (uint32_t)(k / SIM_QK));
}

/*
 * Q4_0L (ISA 1.5) holds 16 Q4_0 rows interleaved: MATMUL gives the Q4_0
 * rows' bits on every path (the portable one's sum in row order, the x86
 * paths' 16 partial sums) and thread count, for K of one block, of a
 * partial last 16 blocks (96, 544, 896) or none (512), every other block
 * half-way into a cache line, rows too long to be de-interleaved for the
 * panel kernels (K = 14592), M 1 (decode), 2-5 (batched decode), 16+
 * (panels, prefill, and the rows after them).
 */
static void matmul_q4_0l_gives_q4_0s_bits_on_every_path(void **state)
{
	static const size_t ks[] = { 32, 96, 512, 544, 896, 4864, 0 }, long_k[] = { 14592, 0 };
	static const size_t ns[] = { 16, 80, 272, 0 }, long_n[] = { 32, 0 };
	static const size_t ms[] = { 1, 2, 3, 4, 5, 16, 37, 0 }, long_m[] = { 1, 16, 37, 0 };

	(void)state;
	check_layout_gives_bits(ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q4_0L, to_q4_0l, ks, ns, ms,
				0x34300001ull);
	check_layout_gives_bits(ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q4_0L, to_q4_0l, long_k, long_n, long_m,
				0x34301001ull);
}

static void check_paths_agree(const char *pa, const char *pb, uint32_t dtype, const size_t *ks,
			      unsigned int seed)
{
	static const size_t ms[] = { 1, 6, 40 };
	const size_t n = 21;

	for (size_t i = 0; i < 2 * 3; i++) {
		const size_t k = ks[i / 3], m = ms[i % 3];
		float *a = malloc(sizeof(float) * n * m), *b = malloc(sizeof(float) * n * m);
		struct mm_case c;

		assert_non_null(a);
		assert_non_null(b);
		case_init(&c, dtype, k, n, m, seed + (unsigned int)i);
		assert_int_equal(case_run(&c, pa, 2, 1, 0, a), 0);
		assert_int_equal(case_run(&c, pb, 2, 1, 0, b), 0);
		assert_memory_equal(a, b, sizeof(float) * n * m);
		case_free(&c);
		free(a);
		free(b);
	}
}

static void matmul_x86_paths_give_the_same_bits_for_32_element_blocks(void **state)
{
	static const uint32_t dts[] = { ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q8_0 };
	static const size_t ks[] = { 896, 1184 };

	(void)state;
	if (!sim_kernels_supported("avx2") || !sim_kernels_supported("avx512")) {
		printf("this CPU cannot run both x86 paths\n");
		skip();
	}
	for (size_t t = 0; t < sizeof(dts) / sizeof(dts[0]); t++)
		check_paths_agree("avx2", "avx512", dts[t], ks, 300 + 10 * (unsigned int)t);
}

/*
 * The AVX-VNNI path is the AVX2 path with its int8 steps as vpdpbusd /
 * vpdpwssd: exact integer sums either way, so the same bits for every
 * quantized type, decode (rows, columns) and prefill (panels), with blocks
 * and super-blocks left over.
 */
static void matmul_avxvnni_gives_the_avx2_paths_bits(void **state)
{
	static const uint32_t dts[] = { ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q8_0,
					ANPU_DTYPE_Q4_1, ANPU_DTYPE_Q5_1, ANPU_DTYPE_Q4_K,
					ANPU_DTYPE_Q5_K, ANPU_DTYPE_Q6_K };
	static const size_t ks32[] = { 896, 1184 }, ks256[] = { 768, 1280 };

	(void)state;
	if (!sim_kernels_supported("avx2") || !sim_kernels_supported("avxvnni")) {
		printf("this CPU cannot run the AVX-VNNI path\n");
		skip();
	}
	for (size_t t = 0; t < sizeof(dts) / sizeof(dts[0]); t++)
		check_paths_agree("avx2", "avxvnni", dts[t],
				  sim_act_for(dts[t]) == SIM_ACT_Q8K ? ks256 : ks32,
				  500 + 10 * (unsigned int)t);
}

/*
 * A prefill whose y passes 32 MiB is written with non-temporal stores
 * (op_matmul.c, mm_stream_y): each row the bits of its own M = 1 run (which
 * stores as usual), with a bias, 2 threads, every path with panel kernels.
 * K = 32 keeps the dot products cheap. M = 128 against 65536 columns (y:
 * 32 MiB; weights past 1 MiB: the column split), and M = 1100 against 8200
 * (36 MiB; 279 KiB of Q8_0 weights: the row split, batches of 128 rows and a
 * last one of 76 in a partial panel, a last tile of 8 columns stored as usual).
 */
static void matmul_streamed_y_rows_match_single_row_runs(void **state)
{
	static const struct {
		uint32_t dtype;
		size_t n, m, rows[3];
	} cases[] = {
		{ ANPU_DTYPE_Q4_0, 65536, 128, { 0, 77, 127 } },
		{ ANPU_DTYPE_Q8_0, 65536, 128, { 0, 77, 127 } },
		{ ANPU_DTYPE_Q8_0, 8200, 1100, { 5, 700, 1099 } },
	};
	const size_t k = 32;

	(void)state;
	for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
		const size_t n = cases[t].n, m = cases[t].m, rb = ref_row_bytes(cases[t].dtype, k);
		struct mm_case c = { .dtype = cases[t].dtype, .k = k, .n = n, .m = m };
		struct mm_case one = { .dtype = cases[t].dtype, .k = k, .n = n, .m = 1 };
		float *y = malloc(sizeof(float) * n * m), *y1 = malloc(sizeof(float) * n);
		uint64_t seed = 77 + t;

		c.w = malloc(rb * n);
		c.x = malloc(sizeof(float) * k * m);
		c.bias = malloc(sizeof(float) * n);
		assert_non_null(y);
		assert_non_null(y1);
		assert_non_null(c.w);
		assert_non_null(c.x);
		assert_non_null(c.bias);
		for (size_t j = 0; j < n; j++)
			ref_fill_weight_row(c.dtype, c.w + j * rb, k, &seed);
		for (size_t i = 0; i < k * m; i++)
			c.x[i] = ref_rand_float(&seed);
		for (size_t j = 0; j < n; j++)
			c.bias[j] = ref_rand_float(&seed);
		one.w = c.w;
		one.bias = c.bias;
		for (int p = 0; p < N_PATHS; p++) {
			if (!sim_kernels_supported(paths[p]))
				continue;
			assert_int_equal(case_run(&c, paths[p], 2, 1, 0, y), 0);
			for (size_t i = 0; i < 3; i++) {
				const size_t r = cases[t].rows[i];

				one.x = c.x + r * k;
				assert_int_equal(case_run(&one, paths[p], 2, 1, 0, y1), 0);
				if (memcmp(y1, y + r * n, sizeof(float) * n)) {
					print_error("%s dtype %u M %zu row %zu\n", paths[p], c.dtype, m, r);
					fail();
				}
			}
		}
		free(c.w);
		free(c.x);
		free(c.bias);
		free(y);
		free(y1);
	}
}

/*
 * A y of 32 MiB whose batch dimension's stride is a multiple of 4 bytes but
 * not of 16 (legal): rows that would not start 16-byte aligned, so the stores
 * stay ordinary (non-temporal ones fault there); rows still their M = 1 bits.
 */
static void matmul_unaligned_batch_y_is_not_streamed(void **state)
{
	const uint32_t k = 32, n = 65536, m2 = 64;
	const size_t y_nb2 = 2 * (size_t)n * sizeof(float) + 4;
	const size_t rb = ref_row_bytes(ANPU_DTYPE_Q8_0, k);
	struct mm_case one = { .dtype = ANPU_DTYPE_Q8_0, .k = k, .n = n, .m = 1 };
	uint8_t *w = malloc(rb * n);
	float *x = malloc(sizeof(float) * k * 2 * m2), *y1 = malloc(sizeof(float) * n);
	float *bias = calloc(n, sizeof(float));
	uint8_t *y = aligned_alloc(64, (y_nb2 * m2 + 63) / 64 * 64);
	uint64_t seed = 99, fault = 0;
	struct sim_exec ex = { 0 };
	struct sim_op op;

	(void)state;
	assert_non_null(w);
	assert_non_null(x);
	assert_non_null(y1);
	assert_non_null(bias);
	assert_non_null(y);
	for (size_t j = 0; j < n; j++)
		ref_fill_weight_row(ANPU_DTYPE_Q8_0, w + j * rb, k, &seed);
	for (size_t i = 0; i < (size_t)k * 2 * m2; i++)
		x[i] = ref_rand_float(&seed);
	one.w = w;
	one.bias = bias;
	for (int p = 0; p < N_PATHS; p++) {
		if (!sim_kernels_supported(paths[p]))
			continue;
		assert_int_equal(sim_kernels_select(paths[p]), 0);
		memset(&op, 0, sizeof(op));
		op.opcode = ANPU_OP_MATMUL;
		op.n_tensors = 3;
		mk_tensor(&op.t[0], ANPU_DTYPE_F32, k, 2, m2, 1, x, X_ADDR);
		mk_tensor(&op.t[1], ANPU_DTYPE_Q8_0, k, n, 1, 1, w, W_ADDR);
		mk_tensor(&op.t[2], ANPU_DTYPE_F32, n, 2, m2, 1, y, Y_ADDR);
		op.t[2].nb[2] = y_nb2;
		op.t[2].nb[3] = y_nb2 * m2;
		op.t[2].extent = y_nb2 * m2;
		assert_int_equal(sim_op_matmul.check(&op, &fault), 0);
		ex.pool = sim_pool_create(2, 0);
		assert_non_null(ex.pool);
		assert_int_equal(sim_op_matmul.run(&ex, &op), 0);
		sim_pool_destroy(ex.pool);
		for (uint32_t i2 = 0; i2 < m2; i2 += 21) {
			const uint8_t *yr = y + (size_t)i2 * y_nb2 + n * sizeof(float);

			one.x = x + ((size_t)i2 * 2 + 1) * k;	/* row (1, i2) */
			assert_int_equal(case_run(&one, paths[p], 2, 0, 0, y1), 0);
			assert_memory_equal(y1, yr, sizeof(float) * n);
		}
	}
	free(w);
	free(x);
	free(y1);
	free(bias);
	free(y);
}

/* M = 1 with >= 1 MiB of Q4_0/Q5_0 weights: chunks of two-row calls, not ranges */
static void matmul_large_two_row_decode_is_bit_identical_for_1_2_3_threads(void **state)
{
	static const uint32_t dts[] = { ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0 };
	const size_t k = 896, n = 2400;

	(void)state;
	for (size_t t = 0; t < sizeof(dts) / sizeof(dts[0]); t++) {
		struct mm_case c;

		case_init(&c, dts[t], k, n, 1, 7 + t);
		assert_true(n * sim_weight_row_bytes(dts[t], k) >= (1u << 20));
		assert_thread_count_independent(&c);
		case_free(&c);
	}
}

static void matmul_simd_paths_are_available(void **state)
{
	(void)state;
	for (int p = 1; p < N_PATHS; p++) {
		if (!sim_kernels_supported(paths[p])) {
			printf("this CPU cannot run the %s path: its tests were skipped\n",
			       paths[p]);
			skip();
		}
	}
}

/* x (k floats) in the activation form path @kn's dot kernels take for @dtype */
static void quantize_for(const struct sim_kernels *kn, uint32_t dtype, const float *x, size_t k,
			 void *dst)
{
	switch (sim_kernels_act(kn, dtype)) {
	case SIM_ACT_Q8K:
		kn->quantize_q8K(x, dst, k);
		break;
	case SIM_ACT_Q8X2:
		kn->quantize_q8x2(x, dst, k);
		break;
	case SIM_ACT_Q8X4:
		kn->quantize_q8x4(x, dst, k);
		break;
	default:
		fail_msg("dtype %u: not a quantized x form", dtype);
	}
}

/* dot_cols (consecutive weight rows, M = 1) gives each row the bits of dot() */
static void matmul_dot_cols_is_bit_identical_to_dot(void **state)
{
	static const uint32_t dts[] = { ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q8_0,
					ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_K, ANPU_DTYPE_Q6_K };
	/* 896: a group of 16 blocks and 12 past it; 11 columns: a batch of 8 and 3 */
	static const size_t ks[] = { 256, 768, 896, 1024 };
	const unsigned int ncols = 11;
	const char *prev = sim_kernels_get()->name;
	int ran = 0;

	(void)state;
	for (int p = 0; p < N_PATHS; p++) {
		const struct sim_kernels *kn = select_path(p);

		if (!kn)
			continue;

		for (size_t t = 0; t < sizeof(dts) / sizeof(dts[0]); t++) {
			if (!kn->dot_cols[dts[t]])
				continue;
			for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
				if (ks[i] % sim_weight_block_elems(dts[t]))
					continue;
				struct mm_case c;
				const size_t k = ks[i], rb = ref_row_bytes(dts[t], k);
				enum sim_act act = sim_kernels_act(kn, dts[t]);
				void *xq = aligned_alloc(64, (sim_act_row_bytes(act, k) + 127) & ~(size_t)63);
				const void *xr = xq;
				float got[11], want;

				assert_non_null(xq);
				case_init(&c, dts[t], k, ncols, 1, 500 + 10 * t + i);
				quantize_for(kn, dts[t], c.x, k, xq);
				kn->dot_cols[dts[t]](k, c.w, rb, ncols, xq, got);
				for (unsigned int j = 0; j < ncols; j++) {
					kn->dot[dts[t]](k, c.w + j * rb, &xr, 1, &want);
					assert_memory_equal(&want, &got[j], sizeof(want));
				}
				ran++;
				case_free(&c);
				free(xq);
			}
		}
	}
	sim_kernels_select(prev);
	if (!ran) {
		printf("no SIMD path this CPU runs has a columns (dot_cols) kernel\n");
		skip();
	}
}

/* dot_w2 (two weight rows, M = 1) gives each row the bits of dot() */
static void matmul_dot_w2_is_bit_identical_to_dot(void **state)
{
	static const uint32_t dts[] = { ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0 };
	static const size_t ks[] = { 32, 64, 96, 128, 160, 224, 256, 288, 896 };
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	const char *prev = sim_kernels_get()->name;
	int ran = 0;

	(void)state;
	for (int p = 0; p < N_PATHS; p++) {
		const struct sim_kernels *kn = select_path(p);

		if (!kn)
			continue;

		for (size_t t = 0; t < sizeof(dts) / sizeof(dts[0]); t++) {
			if (!kn->dot_w2[dts[t]])
				continue;
			for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
				const size_t k = ks[i];
				const size_t rb = sim_weight_row_bytes(dts[t], k);
				const size_t bb = rb / (k / 32);
				uint8_t *w = malloc(2 * rb);
				float xf[896], o2[2], o1[2];
				void *xq = aligned_alloc(64, sim_act_row_bytes(SIM_ACT_Q8X4, k) + 64);
				const void *xr = xq;

				assert_non_null(w);
				assert_non_null(xq);
				for (size_t b = 0; b < 2 * rb; b++) {
					rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
					w[b] = (uint8_t)rng;
				}
				for (size_t b = 0; b < 2 * rb / bb; b++) {
					w[b * bb] = (uint8_t)(rng >> (b % 32));
					w[b * bb + 1] = 0x2c;	/* f16 scale ~ 0.06 */
				}
				for (size_t j = 0; j < k; j++) {
					rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
					xf[j] = (float)((int)(rng % 2001) - 1000) / 1000.0f;
				}
				assert_int_equal(sim_kernels_act(kn, dts[t]), SIM_ACT_Q8X4);
				kn->quantize_q8x4(xf, xq, k);
				kn->dot_w2[dts[t]](k, w, w + rb, xq, o2);
				kn->dot[dts[t]](k, w, &xr, 1, &o1[0]);
				kn->dot[dts[t]](k, w + rb, &xr, 1, &o1[1]);
				assert_memory_equal(o1, o2, sizeof(o1));
				ran++;
				free(w);
				free(xq);
			}
		}
	}
	sim_kernels_select(prev);
	if (!ran) {
		/* only the AVX-512 path has two-row kernels */
		printf("no SIMD path this CPU runs has a two-row (dot_w2) kernel\n");
		skip();
	}
}

/* x rows xf[l * k ..] in panel form for @dtype on path @kn: dot()'s rows and the panels */
static void panel_rows(const struct sim_kernels *kn, uint32_t dtype, const float *xf, size_t k,
		       unsigned int nx, uint8_t *xrows, size_t row_bytes, void *panels)
{
	const int kq = sim_weight_block_elems(dtype) == 256;
	const size_t units = kq ? k / 256 : k / 32;
	const size_t pbytes = units * (kq ? sizeof(struct sim_xpanel_q8K) : sizeof(struct sim_xpanel_q8));
	const void *rows[SIM_PANEL_ROWS];

	for (unsigned int l = 0; l < nx; l++)
		quantize_for(kn, dtype, xf + l * k, k, xrows + l * row_bytes);
	for (unsigned int q = 0; q < nx / SIM_PANEL_ROWS; q++) {
		struct sim_xblock_q8 *blk[SIM_PANEL_ROWS];

		for (unsigned int l = 0; l < SIM_PANEL_ROWS; l++) {
			rows[l] = xrows + (q * SIM_PANEL_ROWS + l) * row_bytes;
			blk[l] = NULL;
			if (kq)
				continue;
			/* the 32-element types' panels take plain q8 blocks */
			blk[l] = malloc(units * sizeof(*blk[l]));
			assert_non_null(blk[l]);
			kn->quantize_q8(xf + (q * SIM_PANEL_ROWS + l) * k, blk[l], k);
		}
		if (kq)
			sim_q8K_to_panel((const struct sim_xblock_q8K *const *)rows, SIM_PANEL_ROWS,
					 (void *)((uint8_t *)panels + q * pbytes), units);
		else
			sim_q8_to_panel((const struct sim_xblock_q8 *const *)blk, SIM_PANEL_ROWS,
					dtype == ANPU_DTYPE_Q4_0 ? -8 : dtype == ANPU_DTYPE_Q5_0 ? -16 : 0,
					dtype == ANPU_DTYPE_Q8_0 ? 0x80808080u : 0,
					(void *)((uint8_t *)panels + q * pbytes), units);
		for (unsigned int l = 0; l < SIM_PANEL_ROWS; l++)
			free(blk[l]);
	}
}

/*
 * A path's q8_to_panel writes sim_q8_to_panel()'s bytes: every row count
 * (missing rows zero), both the Q4_0/Q5_0 offsets and Q8_0's x + 128.
 */
static void matmul_q8_to_panel_matches_the_reference(void **state)
{
	enum { NB = 3 };
	static const unsigned int counts[] = { 1, 5, 8, 9, 15, 16 };
	static const struct { int32_t off; uint32_t flip; } forms[] = {
		{ -8, 0 }, { -16, 0 }, { 0, 0x80808080u },
	};
	struct sim_xblock_q8 blocks[SIM_PANEL_ROWS][NB];
	const struct sim_xblock_q8 *rows[SIM_PANEL_ROWS];
	struct sim_xpanel_q8 want[NB], got[NB];
	const char *prev = sim_kernels_get()->name;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int ran = 0;

	(void)state;
	for (unsigned int l = 0; l < SIM_PANEL_ROWS; l++) {
		rows[l] = blocks[l];
		for (unsigned int b = 0; b < NB; b++) {
			for (unsigned int i = 0; i < SIM_QK; i++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				blocks[l][b].qs[i] = (int8_t)(rng >> 24);
			}
			blocks[l][b].d = 0.01f * (float)(l + 1) + (float)b;
			blocks[l][b].sum = (int32_t)(rng % 8001) - 4000;
		}
	}
	for (int p = 0; p < N_PATHS; p++) {
		const struct sim_kernels *kn = select_path(p);

		if (!kn)
			continue;

		if (!kn->q8_to_panel)
			continue;
		for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
				memset(want, 0x5a, sizeof(want));
				memset(got, 0xa5, sizeof(got));
				sim_q8_to_panel(rows, counts[c], forms[f].off, forms[f].flip, want, NB);
				kn->q8_to_panel(rows, counts[c], forms[f].off, forms[f].flip, got, NB);
				assert_memory_equal(want, got, sizeof(want));
				ran++;
			}
		}
	}
	sim_kernels_select(prev);
	if (!ran) {
		printf("no SIMD path this CPU runs has panel kernels\n");
		skip();
	}
}

/*
 * dot_panel (prefill, x rows in vector lanes) gives each weight row and x row
 * the bits of dot(): 1..4 weight rows, 1..4 panels, K of 1 to 16 K-quant
 * super-blocks (unpacked 8 at a time) or 1 to 152 blocks of 32 (16 at a time,
 * Q4_0's four at a time: whole and partial quads; Q4_0, Q5_0, Q8_0).
 */
static void matmul_dot_panel_is_bit_identical_to_dot(void **state)
{
	static const struct { uint32_t dtype; size_t k; } cases[] = {
		{ ANPU_DTYPE_Q4_K, 256 }, { ANPU_DTYPE_Q4_K, 2304 }, { ANPU_DTYPE_Q4_K, 4096 },
		{ ANPU_DTYPE_Q5_K, 768 }, { ANPU_DTYPE_Q5_K, 2304 },
		{ ANPU_DTYPE_Q6_K, 256 }, { ANPU_DTYPE_Q6_K, 2304 }, { ANPU_DTYPE_Q6_K, 4096 },
		{ ANPU_DTYPE_Q4_0, 32 }, { ANPU_DTYPE_Q4_0, 96 }, { ANPU_DTYPE_Q4_0, 224 },
		{ ANPU_DTYPE_Q4_0, 544 }, { ANPU_DTYPE_Q4_0, 896 }, { ANPU_DTYPE_Q4_0, 4864 },
		{ ANPU_DTYPE_Q5_0, 32 }, { ANPU_DTYPE_Q5_0, 224 },
		{ ANPU_DTYPE_Q5_0, 512 }, { ANPU_DTYPE_Q5_0, 896 },
		{ ANPU_DTYPE_Q8_0, 32 }, { ANPU_DTYPE_Q8_0, 96 }, { ANPU_DTYPE_Q8_0, 544 },
		{ ANPU_DTYPE_Q8_0, 896 }, { ANPU_DTYPE_Q8_0, 4864 },
	};
	const unsigned int nx = SIM_PANEL_MAX * SIM_PANEL_ROWS;
	const char *prev = sim_kernels_get()->name;
	int ran = 0;

	(void)state;
	for (int p = 0; p < N_PATHS; p++) {
		const struct sim_kernels *kn = select_path(p);

		if (!kn)
			continue;

		for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
			const uint32_t dt = cases[t].dtype;
			const size_t k = cases[t].k;

			if (!kn->dot_panel[dt])
				continue;
			const size_t rb = sim_weight_row_bytes(dt, k);
			const size_t xb = sim_act_row_bytes(sim_kernels_act(kn, dt), k);
			uint64_t seed = 31 + 7 * t;
			uint8_t *w = malloc(SIM_DOT_MAX_ROWS * rb);
			float *xf = malloc(sizeof(float) * k * nx);
			uint8_t *xq = aligned_alloc(64, (xb * nx + 63) & ~(size_t)63);
			const size_t pb = sim_weight_block_elems(dt) == 256 ?
					  k / 256 * sizeof(struct sim_xpanel_q8K) :
					  k / 32 * sizeof(struct sim_xpanel_q8);
			void *xp = aligned_alloc(64, pb * SIM_PANEL_MAX);
			float out[SIM_DOT_MAX_ROWS * SIM_PANEL_MAX * SIM_PANEL_ROWS];

			assert_non_null(w);
			assert_non_null(xf);
			assert_non_null(xq);
			assert_non_null(xp);
			for (unsigned int r = 0; r < SIM_DOT_MAX_ROWS; r++)
				ref_fill_weight_row(dt, w + r * rb, k, &seed);
			for (size_t j = 0; j < k * nx; j++)
				xf[j] = ref_rand_float(&seed) * (j % 5 ? 1.0f : 8.0f);
			panel_rows(kn, dt, xf, k, nx, xq, xb, xp);
			for (unsigned int nw = 1; nw <= SIM_DOT_MAX_ROWS; nw++) {
				for (unsigned int np = 1; np <= SIM_PANEL_MAX; np++) {
					kn->dot_panel[dt](k, w, rb, nw, xp, np, out);
					for (unsigned int r = 0; r < nw; r++) {
						for (unsigned int l = 0; l < np * SIM_PANEL_ROWS; l++) {
							const void *xr = xq + l * xb;
							float o;

							kn->dot[dt](k, w + r * rb, &xr, 1, &o);
							if (memcmp(&o, &out[r * np * SIM_PANEL_ROWS + l], sizeof(o))) {
								print_error("%s dtype %u k %zu nw %u np %u row %u x %u\n",
									    paths[p], dt, k, nw, np, r, l);
								fail();
							}
						}
					}
				}
			}
			ran++;
			free(w);
			free(xf);
			free(xq);
			free(xp);
		}
	}
	sim_kernels_select(prev);
	if (!ran) {
		/* only the x86 paths have panel kernels */
		printf("no SIMD path this CPU runs has a panel (dot_panel) kernel\n");
		skip();
	}
}

/*
 * dot_lanes(): nw weight rows against nx x rows in the lane form give dot()'s
 * bits for every pair, with whole and partial last groups (K = 32 .. 4864:
 * 1 .. 152 blocks), scales of both signs and large activations.
 */
static void matmul_dot_lanes_is_bit_identical_to_dot(void **state)
{
	static const struct { uint32_t dtype; size_t k; } cases[] = {
		{ ANPU_DTYPE_Q4_0, 32 }, { ANPU_DTYPE_Q4_0, 480 }, { ANPU_DTYPE_Q4_0, 512 },
		{ ANPU_DTYPE_Q4_0, 544 }, { ANPU_DTYPE_Q4_0, 896 }, { ANPU_DTYPE_Q4_0, 4864 },
		{ ANPU_DTYPE_Q5_0, 32 }, { ANPU_DTYPE_Q5_0, 224 }, { ANPU_DTYPE_Q5_0, 512 },
		{ ANPU_DTYPE_Q5_0, 896 }, { ANPU_DTYPE_Q5_0, 1056 }, { ANPU_DTYPE_Q5_0, 4864 },
		{ ANPU_DTYPE_Q8_0, 32 }, { ANPU_DTYPE_Q8_0, 64 }, { ANPU_DTYPE_Q8_0, 480 },
		{ ANPU_DTYPE_Q8_0, 512 }, { ANPU_DTYPE_Q8_0, 896 }, { ANPU_DTYPE_Q8_0, 4864 },
	};
	const char *prev = sim_kernels_get()->name;
	int ran = 0;

	(void)state;
	for (int p = 0; p < N_PATHS; p++) {
		const struct sim_kernels *kn = select_path(p);

		if (!kn)
			continue;

		for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
			const uint32_t dt = cases[t].dtype;
			const size_t k = cases[t].k, nb = k / SIM_QK;

			if (!kn->dot_lanes[dt])
				continue;
			const size_t rb = sim_weight_row_bytes(dt, k);
			const size_t xb = sim_act_row_bytes(sim_kernels_act(kn, dt), k);
			const size_t lb = (nb + SIM_LANE_BLOCKS - 1) / SIM_LANE_BLOCKS *
					  sizeof(struct sim_xpanel_q8);
			uint64_t seed = 57 + 11 * t;
			uint8_t *w = malloc(SIM_LANE_WROWS * rb);
			float *xf = malloc(sizeof(float) * k);
			uint8_t *xq = aligned_alloc(64, (xb * SIM_DOT_MAX_ROWS + 63) & ~(size_t)63);
			uint8_t *xl = aligned_alloc(64, lb * SIM_DOT_MAX_ROWS);
			struct sim_xblock_q8 *blk = malloc(nb * sizeof(*blk));
			const void *xr[SIM_DOT_MAX_ROWS], *xlr[SIM_DOT_MAX_ROWS];

			assert_non_null(w);
			assert_non_null(xf);
			assert_non_null(xq);
			assert_non_null(xl);
			assert_non_null(blk);
			for (unsigned int i = 0; i < SIM_LANE_WROWS; i++)
				ref_fill_weight_row(dt, w + i * rb, k, &seed);
			for (unsigned int r = 0; r < SIM_DOT_MAX_ROWS; r++) {
				for (size_t j = 0; j < k; j++)
					xf[j] = ref_rand_float(&seed) * (j % 5 ? 1.0f : 8.0f);
				quantize_for(kn, dt, xf, k, xq + r * xb);
				kn->quantize_q8(xf, blk, k);
				sim_q8_to_lanes(blk, nb, dt == ANPU_DTYPE_Q4_0 ? -8 :
							 dt == ANPU_DTYPE_Q5_0 ? -16 : -128,
						dt == ANPU_DTYPE_Q8_0 ? SIM_LANES_PAIR : SIM_LANES_QUAD,
						(struct sim_xpanel_q8 *)(xl + r * lb));
				xr[r] = xq + r * xb;
				xlr[r] = xl + r * lb;
			}
			for (unsigned int nw = 1; nw <= SIM_LANE_WROWS; nw++) {
				for (unsigned int nx = 1; nx <= SIM_DOT_MAX_ROWS; nx++) {
					float out[SIM_LANE_WROWS * SIM_DOT_MAX_ROWS];

					kn->dot_lanes[dt](k, w, rb, nw, xlr, nx, out);
					for (unsigned int i = 0; i < nw; i++) {
						for (unsigned int r = 0; r < nx; r++) {
							float o;

							kn->dot[dt](k, w + i * rb, &xr[r], 1, &o);
							if (memcmp(&o, &out[i * nx + r], sizeof(o))) {
								print_error("%s dtype %u k %zu nw %u nx %u row %u x %u\n",
									    paths[p], dt, k, nw, nx, i, r);
								fail();
							}
						}
					}
				}
			}
			ran++;
			free(w);
			free(xf);
			free(xq);
			free(xl);
			free(blk);
		}
	}
	sim_kernels_select(prev);
	if (!ran) {
		/* only the AVX-512 path has lane-form kernels */
		printf("no SIMD path this CPU runs has a lane-form (dot_lanes) kernel\n");
		skip();
	}
}

/* ---- check() ---- */

struct bad_op {
	struct sim_op op;
	float x[64 * 2], y[16 * 2], bias[16];
	uint8_t w[34 * 2 * 16];
};

static void bad_op_init(struct bad_op *b)
{
	memset(b, 0, sizeof(*b));
	b->op.opcode = ANPU_OP_MATMUL;
	b->op.n_tensors = 4;
	mk_tensor(&b->op.t[0], ANPU_DTYPE_F32, 64, 2, 1, 1, b->x, X_ADDR);
	mk_tensor(&b->op.t[1], ANPU_DTYPE_Q8_0, 64, 16, 1, 1, b->w, W_ADDR);
	mk_tensor(&b->op.t[2], ANPU_DTYPE_F32, 16, 2, 1, 1, b->y, Y_ADDR);
	mk_tensor(&b->op.t[3], ANPU_DTYPE_F32, 16, 1, 1, 1, b->bias, B_ADDR);
}

static void expect_fault(const struct bad_op *b, uint32_t cause, uint64_t addr)
{
	uint64_t fault = 0;

	assert_int_equal(sim_op_matmul.check(&b->op, &fault), cause);
	assert_int_equal(fault, addr);
}

static void matmul_check_accepts_valid_op(void **state)
{
	struct bad_op b;
	uint64_t fault = 0;

	(void)state;
	bad_op_init(&b);
	assert_int_equal(sim_op_matmul.check(&b.op, &fault), 0);
	b.op.n_tensors = 3;
	assert_int_equal(sim_op_matmul.check(&b.op, &fault), 0);
}

static void matmul_check_rejects_wrong_dtypes(void **state)
{
	struct bad_op b;

	(void)state;
	bad_op_init(&b);
	b.op.t[0].dtype = ANPU_DTYPE_F16;
	expect_fault(&b, ANPU_CAUSE_DTYPE, X_ADDR);
	bad_op_init(&b);
	b.op.t[1].dtype = ANPU_DTYPE_I32;
	expect_fault(&b, ANPU_CAUSE_DTYPE, W_ADDR);
	bad_op_init(&b);
	b.op.t[2].dtype = ANPU_DTYPE_F16;
	expect_fault(&b, ANPU_CAUSE_DTYPE, Y_ADDR);
	bad_op_init(&b);
	b.op.t[3].dtype = ANPU_DTYPE_F16;
	expect_fault(&b, ANPU_CAUSE_DTYPE, B_ADDR);
}

static void matmul_check_rejects_mismatched_shapes(void **state)
{
	struct bad_op b;

	(void)state;
	bad_op_init(&b);
	b.op.t[0].ne[0] = 32;			/* K differs */
	expect_fault(&b, ANPU_CAUSE_SHAPE, X_ADDR);
	bad_op_init(&b);
	b.op.t[1].ne[2] = 2;			/* batched weights */
	expect_fault(&b, ANPU_CAUSE_SHAPE, W_ADDR);
	bad_op_init(&b);
	b.op.t[2].ne[0] = 15;			/* N differs */
	expect_fault(&b, ANPU_CAUSE_SHAPE, Y_ADDR);
	bad_op_init(&b);
	b.op.t[2].ne[1] = 1;			/* M differs */
	expect_fault(&b, ANPU_CAUSE_SHAPE, Y_ADDR);
	bad_op_init(&b);
	b.op.t[3].ne[0] = 8;			/* bias not [N] */
	expect_fault(&b, ANPU_CAUSE_SHAPE, B_ADDR);
	bad_op_init(&b);
	b.op.t[3].ne[1] = 2;
	expect_fault(&b, ANPU_CAUSE_SHAPE, B_ADDR);
}

static void matmul_check_rejects_partial_block_rows(void **state)
{
	struct bad_op b;

	(void)state;
	bad_op_init(&b);
	b.op.t[0].ne[0] = 48;
	b.op.t[1].ne[0] = 48;			/* 1.5 Q8_0 blocks */
	expect_fault(&b, ANPU_CAUSE_SHAPE, W_ADDR);
}

static void matmul_accepts_batch_dims_of_x_and_y(void **state)
{
	struct mm_case c;
	float y[7 * 6];
	struct sim_op op;
	struct sim_exec ex = { 0 };
	uint64_t fault = 0;

	(void)state;
	case_init(&c, ANPU_DTYPE_Q4_0, 64, 7, 6, 7);
	memset(&op, 0, sizeof(op));
	op.n_tensors = 3;
	mk_tensor(&op.t[0], ANPU_DTYPE_F32, 64, 2, 3, 1, c.x, X_ADDR);
	mk_tensor(&op.t[1], ANPU_DTYPE_Q4_0, 64, 7, 1, 1, c.w, W_ADDR);
	mk_tensor(&op.t[2], ANPU_DTYPE_F32, 7, 2, 3, 1, y, Y_ADDR);
	assert_int_equal(sim_op_matmul.check(&op, &fault), 0);
	ex.pool = sim_pool_create(2, 0);
	assert_int_equal(sim_op_matmul.run(&ex, &op), 0);
	sim_pool_destroy(ex.pool);
	for (size_t i = 0; i < 7 * 6; i++)
		assert_true(fabs(y[i] - c.ref[i]) <= c.bound[i]);
	case_free(&c);
}

static void matmul_cost_counts_macs_and_bytes(void **state)
{
	struct bad_op b;
	struct sim_op_cost cost;

	(void)state;
	bad_op_init(&b);
	sim_op_matmul.cost(&b.op, &cost);
	assert_int_equal(cost.macs, 64 * 16 * 2);
	assert_int_equal(cost.macs_per_cycle, ANPU_COST_MACS_PER_CYCLE_INT8);
	/* weights + x + y + bias */
	assert_int_equal(cost.bytes, 16 * 68 + 2 * 256 + 2 * 64 + 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matmul_f32_matches_reference),
		cmocka_unit_test(matmul_f16_matches_reference),
		cmocka_unit_test(matmul_bf16_matches_reference),
		cmocka_unit_test(matmul_q8_0_matches_reference),
		cmocka_unit_test(matmul_q4_0_matches_reference),
		cmocka_unit_test(matmul_q5_0_matches_reference),
		cmocka_unit_test(matmul_q4_1_matches_reference),
		cmocka_unit_test(matmul_q5_1_matches_reference),
		cmocka_unit_test(matmul_q4_k_matches_reference),
		cmocka_unit_test(matmul_q5_k_matches_reference),
		cmocka_unit_test(matmul_q6_k_matches_reference),
		cmocka_unit_test(matmul_is_bit_identical_for_1_2_3_threads),
		cmocka_unit_test(matmul_large_two_row_decode_is_bit_identical_for_1_2_3_threads),
		cmocka_unit_test(matmul_rows_match_single_row_runs),
		cmocka_unit_test(matmul_kquants_give_portable_bits_on_every_path),
		cmocka_unit_test(matmul_x86_paths_give_the_same_bits_for_32_element_blocks),
		cmocka_unit_test(matmul_avxvnni_gives_the_avx2_paths_bits),
		cmocka_unit_test(matmul_simd_paths_are_available),
		cmocka_unit_test(matmul_dot_cols_is_bit_identical_to_dot),
		cmocka_unit_test(matmul_dot_w2_is_bit_identical_to_dot),
		cmocka_unit_test(matmul_q8_to_panel_matches_the_reference),
		cmocka_unit_test(matmul_dot_panel_is_bit_identical_to_dot),
		cmocka_unit_test(matmul_dot_lanes_is_bit_identical_to_dot),
		cmocka_unit_test(matmul_q5_0l_gives_q5_0s_bits_on_every_path),
		cmocka_unit_test(matmul_q4_kl_gives_q4_ks_bits_on_every_path),
		cmocka_unit_test(matmul_q6_kl_gives_q6_ks_bits_on_every_path),
		cmocka_unit_test(matmul_q4_0l_gives_q4_0s_bits_on_every_path),
		cmocka_unit_test(matmul_check_accepts_valid_op),
		cmocka_unit_test(matmul_check_rejects_wrong_dtypes),
		cmocka_unit_test(matmul_check_rejects_mismatched_shapes),
		cmocka_unit_test(matmul_check_rejects_partial_block_rows),
		cmocka_unit_test(matmul_accepts_batch_dims_of_x_and_y),
		cmocka_unit_test(matmul_streamed_y_rows_match_single_row_runs),
		cmocka_unit_test(matmul_unaligned_batch_y_is_not_streamed),
		cmocka_unit_test(matmul_cost_counts_macs_and_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
