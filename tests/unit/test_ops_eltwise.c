// SPDX-License-Identifier: MIT
/*
 * ADD, MUL, SCALE, SWIGLU against the reference.
 *
 * Tolerances: ADD/MUL/SCALE do one float operation per element, which is
 * the correctly rounded result; the reference computes in double and rounds
 * once. A product of two floats is exact in double, and with inputs drawn
 * on a 2^-24 grid in [-2, 2] so is every sum, so the results must be
 * bit-identical. SWIGLU: the unit's exp (<= 2 ulp), an add, a divide and a
 * multiply in float: rtol 1e-6 (~8 ulp); every kernel path gives the same bits.
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
#include "sim/kernels/att_exp.h"
#include "sim/kernels/kernels.h"

static uint64_t nelems(const uint32_t ne[4])
{
	return (uint64_t)ne[0] * ne[1] * ne[2] * ne[3];
}

/* op_kind: 0 add, 1 mul; y_alias: 0 separate, 1 y is a, 2 y is b */
static void check_binary(int op_kind, const uint32_t a_ne[4],
			 const uint32_t b_ne[4], uint32_t pad, int y_alias,
			 unsigned int threads)
{
	struct sim_op op;
	uint64_t na = nelems(a_ne), nb = nelems(b_ne);
	float *a = malloc(na * 4), *b = malloc(nb * 4);
	float *want = malloc(na * 4), *got = malloc(na * 4);

	memset(&op, 0, sizeof(op));
	op.opcode = op_kind ? ANPU_OP_MUL : ANPU_OP_ADD;
	op.n_tensors = 3;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, a_ne, pad, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_F32, b_ne, pad + 1, 0x20000), 0);
	if (y_alias)
		op.t[2] = op.t[y_alias - 1];
	else
		assert_int_equal(ref_tensor_alloc(&op.t[2], ANPU_DTYPE_F32, a_ne,
						  pad + 2, 0x30000), 0);
	ref_fill_uniform(a, na, 31, -2.0f, 2.0f);
	ref_fill_uniform(b, nb, 32, -2.0f, 2.0f);
	ref_tensor_store(&op.t[0], a);
	ref_tensor_store(&op.t[1], b);
	ref_binary(op_kind, a, a_ne, b, b_ne, want);
	assert_int_equal(ref_run_op(op_kind ? &sim_op_mul : &sim_op_add, &op,
				    threads), 0);
	ref_tensor_load(&op.t[2], got);
	assert_memory_equal(got, want, na * 4);
	assert_true(ref_tensor_gaps_intact(&op.t[2]));
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
	if (!y_alias)
		ref_tensor_free(&op.t[2]);
	free(a);
	free(b);
	free(want);
	free(got);
}

static void test_add_same_shape_odd(void **state)
{
	const uint32_t ne[4] = { 13, 3, 2, 2 };

	(void)state;
	check_binary(0, ne, ne, 0, 0, 2);
}

static void test_add_broadcast_row_vector(void **state)
{
	const uint32_t a_ne[4] = { 37, 5, 3, 1 }, b_ne[4] = { 37, 1, 1, 1 };

	(void)state;
	check_binary(0, a_ne, b_ne, 1, 0, 2);
}

static void test_add_broadcast_per_row_scalar(void **state)
{
	const uint32_t a_ne[4] = { 9, 4, 3, 2 }, b_ne[4] = { 1, 4, 1, 2 };

	(void)state;
	check_binary(0, a_ne, b_ne, 2, 0, 3);
}

static void test_add_in_place_into_a(void **state)
{
	const uint32_t ne[4] = { 1000, 70, 1, 1 };

	(void)state;
	check_binary(0, ne, ne, 0, 1, 3);
}

static void test_mul_broadcast_middle_dims(void **state)
{
	const uint32_t a_ne[4] = { 6, 5, 4, 3 }, b_ne[4] = { 6, 1, 4, 1 };

	(void)state;
	check_binary(1, a_ne, b_ne, 3, 0, 2);
}

static void test_mul_in_place_into_b(void **state)
{
	const uint32_t ne[4] = { 31, 7, 2, 1 };

	(void)state;
	check_binary(1, ne, ne, 0, 2, 2);
}

static void test_mul_large_tensor_uses_pool(void **state)
{
	const uint32_t ne[4] = { 4096, 64, 1, 1 }, b_ne[4] = { 4096, 1, 1, 1 };

	(void)state;
	check_binary(1, ne, b_ne, 0, 0, 3);
}

static void test_binary_rejects_bad_broadcast(void **state)
{
	const uint32_t a_ne[4] = { 8, 4, 1, 1 }, b_ne[4] = { 8, 2, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 3;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, a_ne, 0, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_F32, b_ne, 0, 0x20000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[2], ANPU_DTYPE_F32, a_ne, 0, 0x30000), 0);
	assert_int_equal(ref_check_op(&sim_op_add, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	op.t[1].ne[1] = 1;
	assert_int_equal(ref_check_op(&sim_op_mul, &op, &fa), 0);
	op.t[2].ne[0] = 1;	/* y must have a's shape, b's is not enough */
	assert_int_equal(ref_check_op(&sim_op_mul, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x30000);
	op.t[2].ne[0] = 8;
	op.t[0].dtype = ANPU_DTYPE_F16;
	assert_int_equal(ref_check_op(&sim_op_add, &op, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x10000);
	for (unsigned int i = 0; i < 3; i++)
		ref_tensor_free(&op.t[i]);
}

/* ---- SCALE ---- */

static void test_scale_matches_reference_strided(void **state)
{
	const uint32_t ne[4] = { 19, 3, 2, 1 };
	uint64_t n = nelems(ne);
	float x[114], want[114], got[114];
	struct sim_op op;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 2;
	op.params.scale.s = -0.37f;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, ne, 2, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_F32, ne, 3, 0x20000), 0);
	ref_fill_uniform(x, n, 41, -2.0f, 2.0f);
	ref_tensor_store(&op.t[0], x);
	ref_scale(x, want, n, -0.37f);
	assert_int_equal(ref_run_op(&sim_op_scale, &op, 2), 0);
	ref_tensor_load(&op.t[1], got);
	assert_memory_equal(got, want, n * 4);
	assert_true(ref_tensor_gaps_intact(&op.t[1]));
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
}

static void test_scale_in_place(void **state)
{
	const uint32_t ne[4] = { 100, 3, 1, 1 };
	float x[300], want[300], got[300];
	struct sim_op op;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 2;
	op.params.scale.s = 3.0f;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, ne, 1, 0x10000), 0);
	op.t[1] = op.t[0];
	ref_fill_uniform(x, 300, 42, -2.0f, 2.0f);
	ref_tensor_store(&op.t[0], x);
	ref_scale(x, want, 300, 3.0f);
	assert_int_equal(ref_run_op(&sim_op_scale, &op, 1), 0);
	ref_tensor_load(&op.t[1], got);
	assert_memory_equal(got, want, sizeof(got));
	ref_tensor_free(&op.t[0]);
}

static void test_scale_rejects_non_finite_s(void **state)
{
	const uint32_t ne[4] = { 4, 1, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 2;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, ne, 0, 0x10000), 0);
	op.t[1] = op.t[0];
	op.params.scale.s = INFINITY;
	assert_int_equal(ref_check_op(&sim_op_scale, &op, &fa), ANPU_CAUSE_PARAM);
	op.params.scale.s = NAN;
	assert_int_equal(ref_check_op(&sim_op_scale, &op, &fa), ANPU_CAUSE_PARAM);
	op.params.scale.s = 0.0f;
	assert_int_equal(ref_check_op(&sim_op_scale, &op, &fa), 0);
	ref_tensor_free(&op.t[0]);
}

/* ---- SWIGLU ---- */

/* y_alias: 0 separate, 1 y is gate, 2 y is up */
static void run_swiglu(const uint32_t ne[4], uint32_t pad, int y_alias,
		       unsigned int threads, float *got, float *want)
{
	struct sim_op op;
	uint64_t n = nelems(ne);
	float *g = malloc(n * 4), *u = malloc(n * 4);

	memset(&op, 0, sizeof(op));
	op.opcode = ANPU_OP_SWIGLU;
	op.n_tensors = 3;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, ne, pad, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_F32, ne, pad + 1, 0x20000), 0);
	if (y_alias)
		op.t[2] = op.t[y_alias - 1];
	else
		assert_int_equal(ref_tensor_alloc(&op.t[2], ANPU_DTYPE_F32, ne,
						  pad + 2, 0x30000), 0);
	ref_fill_uniform(g, n, 51, -30.0f, 30.0f);
	ref_fill_uniform(u, n, 52, -3.0f, 3.0f);
	ref_tensor_store(&op.t[0], g);
	ref_tensor_store(&op.t[1], u);
	if (want)
		ref_swiglu(g, u, want, n);
	assert_int_equal(ref_run_op(&sim_op_swiglu, &op, threads), 0);
	ref_tensor_load(&op.t[2], got);
	assert_true(ref_tensor_gaps_intact(&op.t[2]));
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
	if (!y_alias)
		ref_tensor_free(&op.t[2]);
	free(g);
	free(u);
}

static void check_swiglu(const uint32_t ne[4], uint32_t pad, int y_alias,
			 unsigned int threads)
{
	uint64_t n = nelems(ne);
	float *got = malloc(n * 4), *want = malloc(n * 4);

	run_swiglu(ne, pad, y_alias, threads, got, want);
	assert_true(ref_close(got, want, n, 1e-30, 1e-6));
	free(got);
	free(want);
}

static void test_swiglu_matches_reference_strided(void **state)
{
	const uint32_t ne[4] = { 45, 3, 2, 1 };

	(void)state;
	check_swiglu(ne, 2, 0, 2);
}

static void test_swiglu_in_place_into_gate(void **state)
{
	const uint32_t ne[4] = { 77, 5, 1, 1 };

	(void)state;
	check_swiglu(ne, 0, 1, 2);
}

static void test_swiglu_in_place_into_up(void **state)
{
	const uint32_t ne[4] = { 77, 5, 1, 1 };

	(void)state;
	check_swiglu(ne, 1, 2, 1);
}

static void test_swiglu_very_negative_gate_gives_zero(void **state)
{
	const uint32_t ne[4] = { 2, 1, 1, 1 };
	const float g[2] = { -1000.0f, 1000.0f }, u[2] = { 2.0f, 2.0f };
	float y[2];
	struct sim_op op;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 3;
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(ref_tensor_alloc(&op.t[i], ANPU_DTYPE_F32, ne, 0,
						  0x10000 * (i + 1)), 0);
	ref_tensor_store(&op.t[0], g);
	ref_tensor_store(&op.t[1], u);
	assert_int_equal(ref_run_op(&sim_op_swiglu, &op, 1), 0);
	ref_tensor_load(&op.t[2], y);
	assert_true(y[0] == 0.0f);
	assert_true(y[1] == 2000.0f);
	for (unsigned int i = 0; i < 3; i++)
		ref_tensor_free(&op.t[i]);
}

static void test_swiglu_bit_identical_for_1_2_3_threads(void **state)
{
	const uint32_t ne[4] = { 3000, 40, 1, 1 };
	size_t n = 3000 * 40;
	float *a = malloc(n * 4), *b = malloc(n * 4);

	(void)state;
	run_swiglu(ne, 0, 0, 1, a, NULL);
	for (unsigned int t = 2; t <= 3; t++) {
		run_swiglu(ne, 0, 0, t, b, NULL);
		assert_memory_equal(a, b, n * 4);
	}
	free(a);
	free(b);
}

/*
 * The kernel paths' SWIGLU loops against sim_swiglu1() one element at a time:
 * the exp's edges (capped at 88 = +inf, zero below -87), +-inf, zeros,
 * subnormals and random values, a length that leaves a tail of 5.
 */
static void test_swiglu_same_bits_on_every_path(void **state)
{
	static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
	static const float edge[] = {
		-INFINITY, INFINITY, 0.0f, -0.0f, 1e-40f, -1e-40f, -88.0f, -88.01f, -87.99f,
		87.0f, 87.01f, 86.99f, -1000.0f, 1000.0f, 3.4e38f, -3.4e38f, 1.0f, -1.0f,
	};
	const char *prev = sim_kernels_get()->name;
	const size_t n = 1029;
	float *g = malloc(n * 4), *u = malloc(n * 4), *y = malloc(n * 4);
	unsigned int checked = 0;

	(void)state;
	ref_fill_uniform(g, n, 61, -100.0f, 100.0f);
	ref_fill_uniform(u, n, 62, -3.0f, 3.0f);
	memcpy(g, edge, sizeof(edge));
	memcpy(g + n - sizeof(edge) / sizeof(edge[0]), edge, sizeof(edge));
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		if (!sim_kernels_supported(paths[p]))
			continue;
		assert_int_equal(sim_kernels_select(paths[p]), 0);
		sim_kernels_get()->swiglu(y, g, u, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			float want = sim_swiglu1(g[i], u[i]);

			if (isnan(want) ? !isnan(y[i]) : memcmp(&want, &y[i], 4))	/* -inf / inf */
				fail_msg("%s: g %g u %g: %a, not %a", paths[p], (double)g[i],
					 (double)u[i], (double)y[i], (double)want);
		}
		checked++;
	}
	assert_int_equal(sim_kernels_select(prev), 0);
	assert_true(checked >= 1);
	free(g);
	free(u);
	free(y);
}

static void test_swiglu_rejects_shape_mismatch(void **state)
{
	const uint32_t ne[4] = { 8, 2, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 3;
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(ref_tensor_alloc(&op.t[i], ANPU_DTYPE_F32, ne, 0,
						  0x10000 * (i + 1)), 0);
	op.t[1].ne[1] = 1;
	assert_int_equal(ref_check_op(&sim_op_swiglu, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	for (unsigned int i = 0; i < 3; i++)
		ref_tensor_free(&op.t[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_same_shape_odd),
		cmocka_unit_test(test_add_broadcast_row_vector),
		cmocka_unit_test(test_add_broadcast_per_row_scalar),
		cmocka_unit_test(test_add_in_place_into_a),
		cmocka_unit_test(test_mul_broadcast_middle_dims),
		cmocka_unit_test(test_mul_in_place_into_b),
		cmocka_unit_test(test_mul_large_tensor_uses_pool),
		cmocka_unit_test(test_binary_rejects_bad_broadcast),
		cmocka_unit_test(test_scale_matches_reference_strided),
		cmocka_unit_test(test_scale_in_place),
		cmocka_unit_test(test_scale_rejects_non_finite_s),
		cmocka_unit_test(test_swiglu_matches_reference_strided),
		cmocka_unit_test(test_swiglu_in_place_into_gate),
		cmocka_unit_test(test_swiglu_in_place_into_up),
		cmocka_unit_test(test_swiglu_very_negative_gate_gives_zero),
		cmocka_unit_test(test_swiglu_bit_identical_for_1_2_3_threads),
		cmocka_unit_test(test_swiglu_same_bits_on_every_path),
		cmocka_unit_test(test_swiglu_rejects_shape_mismatch),
	};

	return cmocka_run_group_tests_name("ops_eltwise", tests, NULL, NULL);
}
