// SPDX-License-Identifier: MIT
/*
 * RMSNORM and SOFTMAX against the double-precision reference.
 *
 * Tolerances: RMSNORM rounds the row scale to float and does two float
 * multiplies, so it is within ~3 ulp of the reference: rtol 1e-6 (8 ulp).
 * SOFTMAX uses float x*scale (1 rounding, amplified by |z| <= 8 through
 * exp to ~8 * 2^-24 relative), expf (<= 1 ulp), a double sum and one
 * rounding: rtol 2e-6 with atol 1e-12 for tiny probabilities.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../ref/ref_ops.h"
#include "sim/kernels/kernels.h"

static void make_rmsnorm(struct sim_op *op, const uint32_t x_ne[4],
			 uint32_t pad, float eps, int in_place)
{
	const uint32_t w_ne[4] = { x_ne[0], 1, 1, 1 };

	memset(op, 0, sizeof(*op));
	op->opcode = ANPU_OP_RMSNORM;
	op->n_tensors = 3;
	op->params.rmsnorm.eps = eps;
	assert_int_equal(ref_tensor_alloc(&op->t[0], ANPU_DTYPE_F32, x_ne, pad, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op->t[1], ANPU_DTYPE_F32, w_ne, 0, 0x20000), 0);
	if (in_place)
		op->t[2] = op->t[0];
	else
		assert_int_equal(ref_tensor_alloc(&op->t[2], ANPU_DTYPE_F32, x_ne,
						  pad + 1, 0x30000), 0);
}

static void free_op(struct sim_op *op, int in_place)
{
	for (unsigned int i = 0; i < op->n_tensors; i++)
		if (!(in_place && i == op->n_tensors - 1))
			ref_tensor_free(&op->t[i]);
}

/* Runs RMSNORM on random data and compares with the reference. */
static void check_rmsnorm(const uint32_t ne[4], uint32_t pad, int in_place,
			  unsigned int threads)
{
	struct sim_op op;
	uint64_t n = (uint64_t)ne[0] * ne[1] * ne[2] * ne[3];
	float *x = malloc(n * 4), *w = malloc(ne[0] * 4);
	float *want = malloc(n * 4), *got = malloc(n * 4);

	make_rmsnorm(&op, ne, pad, 1e-6f, in_place);
	ref_fill_uniform(x, n, 1, -3.0f, 3.0f);
	ref_fill_uniform(w, ne[0], 2, 0.5f, 1.5f);
	ref_tensor_store(&op.t[0], x);
	ref_tensor_store(&op.t[1], w);
	ref_rmsnorm(x, w, want, ne[0], n / ne[0], 1e-6f);
	assert_int_equal(ref_run_op(&sim_op_rmsnorm, &op, threads), 0);
	ref_tensor_load(&op.t[2], got);
	assert_true(ref_close(got, want, n, 0.0, 1e-6));
	assert_true(ref_tensor_gaps_intact(&op.t[2]));
	free_op(&op, in_place);
	free(x);
	free(w);
	free(want);
	free(got);
}

static void test_rmsnorm_matches_reference_odd_shape(void **state)
{
	const uint32_t ne[4] = { 37, 5, 3, 2 };

	(void)state;
	check_rmsnorm(ne, 0, 0, 2);
}

static void test_rmsnorm_matches_reference_strided(void **state)
{
	const uint32_t ne[4] = { 64, 7, 2, 1 };

	(void)state;
	check_rmsnorm(ne, 3, 0, 2);
}

static void test_rmsnorm_in_place(void **state)
{
	const uint32_t ne[4] = { 129, 9, 1, 1 };

	(void)state;
	check_rmsnorm(ne, 1, 1, 3);
}

static void test_rmsnorm_many_rows_uses_pool(void **state)
{
	const uint32_t ne[4] = { 128, 1024, 1, 1 };	/* per-head q-norm view */

	(void)state;
	check_rmsnorm(ne, 0, 0, 3);
}

static void run_rmsnorm_threads(unsigned int threads, float *out, size_t n)
{
	const uint32_t ne[4] = { 1000, 300, 1, 1 };
	struct sim_op op;
	float *x = malloc(n * 4), *w = malloc(ne[0] * 4);

	make_rmsnorm(&op, ne, 0, 1e-5f, 0);
	ref_fill_uniform(x, n, 3, -10.0f, 10.0f);
	ref_fill_uniform(w, ne[0], 4, -1.0f, 1.0f);
	ref_tensor_store(&op.t[0], x);
	ref_tensor_store(&op.t[1], w);
	assert_int_equal(ref_run_op(&sim_op_rmsnorm, &op, threads), 0);
	ref_tensor_load(&op.t[2], out);
	free_op(&op, 0);
	free(x);
	free(w);
}

static void test_rmsnorm_bit_identical_for_1_2_3_threads(void **state)
{
	size_t n = 1000 * 300;
	float *a = malloc(n * 4), *b = malloc(n * 4);

	(void)state;
	run_rmsnorm_threads(1, a, n);
	for (unsigned int t = 2; t <= 3; t++) {
		run_rmsnorm_threads(t, b, n);
		assert_memory_equal(a, b, n * 4);
	}
	free(a);
	free(b);
}

/*
 * Every SIMD path's row loop gives the portable bits: row lengths with and
 * without a tail of 4 and of 8, in place and not, rows of very different
 * magnitudes, each row's bits the same whatever rows share the call (1 to
 * SIM_RMSNORM_ROWS).
 */
static void test_rmsnorm_same_bits_on_every_path(void **state)
{
	static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
	static const uint32_t ds[] = { 1, 7, 12, 64, 128, 131, 896, 1024 };
	const char *prev = sim_kernels_get()->name;
	enum { R = SIM_RMSNORM_ROWS };
	float x[R][1024], w[1024], want[R][1024], got[R][1024];

	(void)state;
	for (unsigned int r = 0; r < R; r++) {
		ref_fill_uniform(x[r], 1024, 3 + 7 * r, -3.0f, 3.0f);
		for (int i = r; i < 1024; i += 17)
			x[r][i] *= r % 2 ? 1e-4f : 1e6f;
	}
	ref_fill_uniform(w, 1024, 4, 0.5f, 1.5f);
	for (size_t d = 0; d < sizeof(ds) / sizeof(ds[0]); d++) {
		assert_int_equal(sim_kernels_select("portable"), 0);
		for (unsigned int r = 0; r < R; r++) {
			const float *xr = x[r];
			float *yr = want[r];

			sim_kernels_get()->rmsnorm_rows(&xr, &yr, w, ds[d], 1, 1e-6f);
		}
		for (size_t p = 1; p < sizeof(paths) / sizeof(paths[0]); p++) {
			if (!sim_kernels_supported(paths[p]))
				continue;
			assert_int_equal(sim_kernels_select(paths[p]), 0);
			for (unsigned int rows = 1; rows <= R; rows++) {
				const float *xs[R];
				float *ys[R];

				for (unsigned int r = 0; r < rows; r++) {
					xs[r] = x[R - rows + r];
					ys[r] = got[r];
				}
				sim_kernels_get()->rmsnorm_rows(xs, ys, w, ds[d], rows, 1e-6f);
				for (unsigned int r = 0; r < rows; r++)
					assert_memory_equal(want[R - rows + r], got[r],
							    ds[d] * sizeof(float));
				/* in place */
				for (unsigned int r = 0; r < rows; r++) {
					memcpy(got[r], x[R - rows + r], ds[d] * sizeof(float));
					xs[r] = got[r];
				}
				sim_kernels_get()->rmsnorm_rows(xs, ys, w, ds[d], rows, 1e-6f);
				for (unsigned int r = 0; r < rows; r++)
					assert_memory_equal(want[R - rows + r], got[r],
							    ds[d] * sizeof(float));
			}
		}
	}
	assert_int_equal(sim_kernels_select(prev), 0);
}

static void test_rmsnorm_rejects_bad_eps(void **state)
{
	const uint32_t ne[4] = { 8, 2, 1, 1 };
	const float bad[] = { 0.0f, -1e-6f, NAN, INFINITY };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_rmsnorm(&op, ne, 0, 1e-6f, 0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		op.params.rmsnorm.eps = bad[i];
		assert_int_equal(ref_check_op(&sim_op_rmsnorm, &op, &fa),
				 ANPU_CAUSE_PARAM);
	}
	free_op(&op, 0);
}

static void test_rmsnorm_rejects_weight_shape(void **state)
{
	const uint32_t ne[4] = { 8, 2, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_rmsnorm(&op, ne, 0, 1e-6f, 0);
	op.t[1].ne[0] = 7;
	assert_int_equal(ref_check_op(&sim_op_rmsnorm, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	op.t[1].ne[0] = 8;
	op.t[1].ne[1] = 2;
	assert_int_equal(ref_check_op(&sim_op_rmsnorm, &op, &fa), ANPU_CAUSE_SHAPE);
	free_op(&op, 0);
}

static void test_rmsnorm_rejects_output_shape(void **state)
{
	const uint32_t ne[4] = { 8, 2, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_rmsnorm(&op, ne, 0, 1e-6f, 0);
	op.t[2].ne[1] = 1;
	assert_int_equal(ref_check_op(&sim_op_rmsnorm, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x30000);
	free_op(&op, 0);
}

static void test_rmsnorm_rejects_non_f32(void **state)
{
	const uint32_t ne[4] = { 8, 2, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_rmsnorm(&op, ne, 0, 1e-6f, 0);
	op.t[1].dtype = ANPU_DTYPE_F16;
	assert_int_equal(ref_check_op(&sim_op_rmsnorm, &op, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x20000);
	free_op(&op, 0);
}

/* ---- SOFTMAX ---- */

static void make_softmax(struct sim_op *op, const uint32_t ne[4], uint32_t pad,
			 float scale, int in_place)
{
	memset(op, 0, sizeof(*op));
	op->opcode = ANPU_OP_SOFTMAX;
	op->n_tensors = 2;
	op->params.softmax.scale = scale;
	assert_int_equal(ref_tensor_alloc(&op->t[0], ANPU_DTYPE_F32, ne, pad, 0x10000), 0);
	if (in_place)
		op->t[1] = op->t[0];
	else
		assert_int_equal(ref_tensor_alloc(&op->t[1], ANPU_DTYPE_F32, ne,
						  pad + 2, 0x20000), 0);
}

static void check_softmax(const uint32_t ne[4], uint32_t pad, float scale,
			  int in_place, unsigned int threads)
{
	struct sim_op op;
	uint64_t n = (uint64_t)ne[0] * ne[1] * ne[2] * ne[3];
	float *x = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);

	make_softmax(&op, ne, pad, scale, in_place);
	ref_fill_uniform(x, n, 5, -4.0f, 4.0f);
	ref_tensor_store(&op.t[0], x);
	ref_softmax(x, want, ne[0], n / ne[0], scale);
	assert_int_equal(ref_run_op(&sim_op_softmax, &op, threads), 0);
	ref_tensor_load(&op.t[1], got);
	assert_true(ref_close(got, want, n, 1e-12, 2e-6));
	assert_true(ref_tensor_gaps_intact(&op.t[1]));
	free_op(&op, in_place);
	free(x);
	free(want);
	free(got);
}

static void test_softmax_matches_reference_odd_shape(void **state)
{
	const uint32_t ne[4] = { 33, 3, 2, 2 };

	(void)state;
	check_softmax(ne, 0, 0.7f, 0, 2);
}

static void test_softmax_negative_scale_strided(void **state)
{
	const uint32_t ne[4] = { 16, 5, 1, 1 };

	(void)state;
	check_softmax(ne, 3, -2.0f, 0, 1);
}

static void test_softmax_in_place(void **state)
{
	const uint32_t ne[4] = { 151, 4, 1, 1 };

	(void)state;
	check_softmax(ne, 1, 1.0f, 1, 3);
}

static void test_softmax_large_values_stay_finite(void **state)
{
	const uint32_t ne[4] = { 3, 1, 1, 1 };
	const float x[3] = { 1000.0f, 999.0f, -1000.0f };
	float got[3];
	struct sim_op op;

	(void)state;
	make_softmax(&op, ne, 0, 1.0f, 0);
	ref_tensor_store(&op.t[0], x);
	assert_int_equal(ref_run_op(&sim_op_softmax, &op, 1), 0);
	ref_tensor_load(&op.t[1], got);
	assert_true(fabsf(got[0] - 0.7310586f) < 1e-6f);
	assert_true(fabsf(got[1] - 0.2689414f) < 1e-6f);
	assert_true(got[2] == 0.0f);
	free_op(&op, 0);
}

static void test_softmax_rejects_non_finite_scale(void **state)
{
	const uint32_t ne[4] = { 4, 1, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_softmax(&op, ne, 0, NAN, 0);
	assert_int_equal(ref_check_op(&sim_op_softmax, &op, &fa), ANPU_CAUSE_PARAM);
	op.params.softmax.scale = -INFINITY;
	assert_int_equal(ref_check_op(&sim_op_softmax, &op, &fa), ANPU_CAUSE_PARAM);
	free_op(&op, 0);
}

static void test_softmax_rejects_shape_mismatch(void **state)
{
	const uint32_t ne[4] = { 4, 2, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_softmax(&op, ne, 0, 1.0f, 0);
	op.t[1].ne[0] = 3;
	assert_int_equal(ref_check_op(&sim_op_softmax, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	free_op(&op, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmsnorm_matches_reference_odd_shape),
		cmocka_unit_test(test_rmsnorm_matches_reference_strided),
		cmocka_unit_test(test_rmsnorm_in_place),
		cmocka_unit_test(test_rmsnorm_many_rows_uses_pool),
		cmocka_unit_test(test_rmsnorm_bit_identical_for_1_2_3_threads),
		cmocka_unit_test(test_rmsnorm_same_bits_on_every_path),
		cmocka_unit_test(test_rmsnorm_rejects_bad_eps),
		cmocka_unit_test(test_rmsnorm_rejects_weight_shape),
		cmocka_unit_test(test_rmsnorm_rejects_output_shape),
		cmocka_unit_test(test_rmsnorm_rejects_non_f32),
		cmocka_unit_test(test_softmax_matches_reference_odd_shape),
		cmocka_unit_test(test_softmax_negative_scale_strided),
		cmocka_unit_test(test_softmax_in_place),
		cmocka_unit_test(test_softmax_large_values_stay_finite),
		cmocka_unit_test(test_softmax_rejects_non_finite_scale),
		cmocka_unit_test(test_softmax_rejects_shape_mismatch),
	};

	return cmocka_run_group_tests_name("ops_norm", tests, NULL, NULL);
}
