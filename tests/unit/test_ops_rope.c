// SPDX-License-Identifier: MIT
/*
 * ROPE against the double-precision reference.
 *
 * Tolerance: kernel and reference both compute angle, cos/sin and rotation
 * in double and round once; they differ only in how base^(-2i/n_rot) is
 * formed (pow vs exp(log)), a relative angle difference ~1e-16, i.e. at
 * position 32768 an absolute angle difference ~1e-11 rad. Outputs in
 * [-1.5, 1.5] may therefore differ by one float rounding: atol 2e-7
 * (= 1.7 ulp at 1.5) covers it; a wrong angle or pairing is off by > 1e-3.
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
#include "../../sim/kernels/kernels.h"
#include "../../sim/sim_pool.h"

struct rope_case {
	uint32_t head_dim, n_heads, m_rows;
	uint32_t mode, n_rot;
	float theta_base, freq_scale;
	uint32_t pos, pad;
	int in_place;
	const float *freq;	/* n_rot/2 frequency factors (ISA 1.1), or NULL */
};

static void make_rope(struct sim_op *op, const struct rope_case *c)
{
	const uint32_t ne[4] = { c->head_dim, c->n_heads, c->m_rows, 1 };

	memset(op, 0, sizeof(*op));
	op->opcode = ANPU_OP_ROPE;
	op->n_tensors = 2;
	op->params.rope.mode = c->mode;
	op->params.rope.n_rot = c->n_rot;
	op->params.rope.theta_base = c->theta_base;
	op->params.rope.freq_scale = c->freq_scale;
	op->pos = c->pos;
	assert_int_equal(ref_tensor_alloc(&op->t[0], ANPU_DTYPE_F32, ne, c->pad, 0x10000), 0);
	if (c->in_place)
		op->t[1] = op->t[0];
	else
		assert_int_equal(ref_tensor_alloc(&op->t[1], ANPU_DTYPE_F32, ne,
						  c->pad + 1, 0x20000), 0);
	if (c->freq) {
		const uint32_t fne[4] = { c->n_rot / 2, 1, 1, 1 };

		op->n_tensors = 3;
		assert_int_equal(ref_tensor_alloc(&op->t[2], ANPU_DTYPE_F32, fne, 0, 0x30000), 0);
		ref_tensor_store(&op->t[2], c->freq);
	}
}

static void free_op(struct sim_op *op, int in_place)
{
	ref_tensor_free(&op->t[0]);
	if (!in_place)
		ref_tensor_free(&op->t[1]);
	if (op->n_tensors > 2)
		ref_tensor_free(&op->t[2]);
}

static void run_rope(const struct rope_case *c, unsigned int threads,
		     float *got, float *want)
{
	struct sim_op op;
	uint64_t n = (uint64_t)c->head_dim * c->n_heads * c->m_rows;
	float *x = malloc(n * 4);

	make_rope(&op, c);
	ref_fill_uniform(x, n, 9, -1.5f, 1.5f);
	ref_tensor_store(&op.t[0], x);
	if (want)
		ref_rope_ext(x, want, c->head_dim, c->n_heads, c->m_rows, c->mode,
			     c->n_rot, c->theta_base, c->freq_scale, c->pos, c->freq);
	assert_int_equal(ref_run_op(&sim_op_rope, &op, threads), 0);
	ref_tensor_load(&op.t[1], got);
	assert_true(ref_tensor_gaps_intact(&op.t[1]));
	free_op(&op, c->in_place);
	free(x);
}

static void check_rope(const struct rope_case *c, unsigned int threads)
{
	uint64_t n = (uint64_t)c->head_dim * c->n_heads * c->m_rows;
	float *got = malloc(n * 4), *want = malloc(n * 4);

	run_rope(c, threads, got, want);
	assert_true(ref_close(got, want, n, 2e-7, 0.0));
	free(got);
	free(want);
}

static void test_rope_neox_full_rotation(void **state)
{
	const struct rope_case c = { 64, 4, 5, ANPU_ROPE_NEOX, 64, 1e6f, 1.0f,
				     17, 0, 0, NULL };

	(void)state;
	check_rope(&c, 2);
}

static void test_rope_normal_full_rotation(void **state)
{
	const struct rope_case c = { 64, 3, 4, ANPU_ROPE_NORMAL, 64, 10000.0f,
				     1.0f, 3, 0, 0, NULL };

	(void)state;
	check_rope(&c, 2);
}

static void test_rope_neox_partial_rotation_copies_tail(void **state)
{
	const struct rope_case c = { 80, 3, 3, ANPU_ROPE_NEOX, 32, 10000.0f,
				     1.0f, 100, 2, 0, NULL };

	(void)state;
	check_rope(&c, 3);
}

static void test_rope_normal_partial_rotation_strided(void **state)
{
	const struct rope_case c = { 70, 2, 3, ANPU_ROPE_NORMAL, 22, 10000.0f,
				     0.25f, 9, 3, 0, NULL };

	(void)state;
	check_rope(&c, 1);
}

static void test_rope_in_place(void **state)
{
	const struct rope_case c = { 128, 5, 7, ANPU_ROPE_NEOX, 96, 1e6f, 1.0f,
				     40, 1, 1, NULL };

	(void)state;
	check_rope(&c, 2);
}

static void test_rope_long_position_accurate(void **state)
{
	const struct rope_case c = { 128, 2, 2, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f,
				     32767, 0, 0, NULL };

	(void)state;
	check_rope(&c, 1);
}

static void test_rope_position_zero_is_identity(void **state)
{
	const struct rope_case c = { 16, 2, 1, ANPU_ROPE_NORMAL, 16, 10000.0f,
				     1.0f, 0, 0, 0, NULL };
	float got[32], x[32];

	(void)state;
	run_rope(&c, 1, got, NULL);
	ref_fill_uniform(x, 32, 9, -1.5f, 1.5f);
	assert_memory_equal(got, x, sizeof(x));
}

static void test_rope_bit_identical_for_1_2_3_threads(void **state)
{
	const struct rope_case c = { 128, 8, 33, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f,
				     500, 0, 0, NULL };
	size_t n = 128 * 8 * 33;
	float *a = malloc(n * 4), *b = malloc(n * 4);

	(void)state;
	run_rope(&c, 1, a, NULL);
	for (unsigned int t = 2; t <= 3; t++) {
		run_rope(&c, t, b, NULL);
		assert_memory_equal(a, b, n * 4);
	}
	free(a);
	free(b);
}

/*
 * Every kernel path's rotation gives the bits of the pair-at-a-time double
 * expression (docs/hardware.md): NEOX and NORMAL, whole and partial
 * rotations with pair counts that are not a multiple of the vector steps,
 * in place and not, strided rows.
 */
static void test_rope_every_path_gives_the_scalar_bits(void **state)
{
	static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
	static const struct rope_case cases[] = {
		{ 128, 4, 5, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f, 4000, 0, 0, NULL },
		{ 64, 3, 4, ANPU_ROPE_NEOX, 22, 1e4f, 0.5f, 17, 2, 0, NULL },
		{ 64, 2, 3, ANPU_ROPE_NORMAL, 64, 5e5f, 1.0f, 123456, 0, 1, NULL },
		{ 40, 3, 3, ANPU_ROPE_NORMAL, 18, 1e4f, 1.0f, 9, 1, 0, NULL },
		{ 128, 2, 2, ANPU_ROPE_NEOX, 126, 1e6f, 1.0f, 77, 0, 1, NULL },
	};
	const char *prev = sim_kernels_get()->name;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct rope_case *c = &cases[k];
		uint64_t n = (uint64_t)c->head_dim * c->n_heads * c->m_rows;
		uint32_t half = c->n_rot / 2;
		float *x = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);

		ref_fill_uniform(x, n, 9, -1.5f, 1.5f);
		memcpy(want, x, n * 4);
		for (uint32_t m = 0; m < c->m_rows; m++) {
			double pf = (double)((uint64_t)c->pos + m) * (double)c->freq_scale;

			for (uint32_t h = 0; h < c->n_heads; h++) {
				const float *xr = x + ((size_t)m * c->n_heads + h) * c->head_dim;
				float *yr = want + ((size_t)m * c->n_heads + h) * c->head_dim;

				for (uint32_t i = 0; i < half; i++) {
					double th = pf * pow((double)c->theta_base,
							     -2.0 * (double)i / (double)c->n_rot);
					double cs = cos(th), sn = sin(th);
					uint32_t ia = c->mode == ANPU_ROPE_NEOX ? i : 2 * i;
					uint32_t ib = c->mode == ANPU_ROPE_NEOX ? i + half : 2 * i + 1;
					double a = xr[ia], b = xr[ib];
					double t0 = a * cs, t1 = b * sn, t2 = a * sn, t3 = b * cs;

					yr[ia] = (float)(t0 - t1);
					yr[ib] = (float)(t2 + t3);
				}
			}
		}
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			if (!sim_kernels_supported(paths[p]))
				continue;
			assert_int_equal(sim_kernels_select(paths[p]), 0);
			run_rope(c, 2, got, NULL);
			if (memcmp(got, want, n * 4))
				fail_msg("%s: case %zu: not the scalar bits", paths[p], k);
		}
		free(x);
		free(want);
		free(got);
	}
	assert_int_equal(sim_kernels_select(prev), 0);
}

/* Llama 3.1-style factors: 1 for high frequencies, up to 8 for low ones. */
static void llama3_factors(float *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		f[i] = 1.0f + 7.0f * (float)i / (float)(n - 1);
}

/* @c run with @table kept between ops (as the command processor does) into @got */
static void run_rope_table(const struct rope_case *c, struct sim_rope_table *table,
			   struct sim_pool *pool, float *got)
{
	struct sim_exec ex = { .pool = pool, .rope = table };
	struct sim_op op;
	uint64_t n = (uint64_t)c->head_dim * c->n_heads * c->m_rows, fault = 0;
	float *x = malloc(n * 4);

	make_rope(&op, c);
	ref_fill_uniform(x, n, 9, -1.5f, 1.5f);
	ref_tensor_store(&op.t[0], x);
	assert_int_equal(sim_op_rope.check(&op, &fault), 0);
	assert_int_equal(sim_op_rope.run(&ex, &op), 0);
	ref_tensor_load(&op.t[1], got);
	free_op(&op, c->in_place);
	free(x);
}

/*
 * The angles' table kept from one ROPE op to the next gives every op the bits
 * it has without one: reused for the same angles, remade when the position,
 * the row count, n_rot, theta_base, freq_scale or the factors' values change.
 */
static void test_rope_angle_table_gives_the_same_bits(void **state)
{
	float f1[32], f2[32];
	const struct rope_case cases[] = {
		{ 128, 4, 6, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f, 40, 0, 0, NULL },
		{ 128, 2, 6, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f, 40, 0, 1, NULL },	/* reused */
		{ 128, 4, 6, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f, 41, 0, 0, NULL },	/* pos */
		{ 128, 4, 9, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f, 41, 0, 0, NULL },	/* rows */
		{ 128, 4, 9, ANPU_ROPE_NORMAL, 64, 1e6f, 1.0f, 41, 0, 0, NULL },	/* n_rot */
		{ 128, 4, 9, ANPU_ROPE_NORMAL, 64, 1e4f, 1.0f, 41, 0, 0, NULL },	/* theta */
		{ 128, 4, 9, ANPU_ROPE_NORMAL, 64, 1e4f, 0.5f, 41, 0, 0, NULL },	/* scale */
		{ 128, 4, 9, ANPU_ROPE_NORMAL, 64, 1e4f, 0.5f, 41, 0, 0, f1 },	/* factors */
		{ 128, 4, 9, ANPU_ROPE_NORMAL, 64, 1e4f, 0.5f, 41, 0, 0, f2 },	/* their values */
		{ 128, 4, 9, ANPU_ROPE_NORMAL, 64, 1e4f, 0.5f, 41, 0, 0, NULL },
	};
	struct sim_rope_table table = { 0 };
	struct sim_pool *pool = sim_pool_create(2, 0);
	float *got = malloc(128 * 4 * 9 * 4), *want = malloc(128 * 4 * 9 * 4);

	(void)state;
	assert_non_null(pool);
	llama3_factors(f1, 32);
	for (int i = 0; i < 32; i++)
		f2[i] = f1[i] * 1.5f;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rope_case *c = &cases[i];

		run_rope_table(c, &table, pool, got);
		run_rope(c, 2, want, NULL);
		assert_memory_equal(got, want, (size_t)c->head_dim * c->n_heads * c->m_rows * 4);
	}
	sim_pool_destroy(pool);
	free(table.cs);
	free(table.freq);
	free(got);
	free(want);
}


static void test_rope_frequency_factors_divide_the_angle(void **state)
{
	float f[32];
	struct rope_case c = { 128, 4, 6, ANPU_ROPE_NORMAL, 64, 5e5f, 1.0f, 1000, 0, 0, f };

	(void)state;
	llama3_factors(f, 32);
	check_rope(&c, 2);
	c.mode = ANPU_ROPE_NEOX;
	c.in_place = 1;
	check_rope(&c, 3);
}

/* All factors 1: the same bits as no factor tensor. */
static void test_rope_unit_factors_change_nothing(void **state)
{
	float ones[64], *a = malloc(128 * 8 * 5 * 4), *b = malloc(128 * 8 * 5 * 4);
	struct rope_case c = { 128, 8, 5, ANPU_ROPE_NEOX, 128, 1e6f, 1.0f, 77, 0, 0, NULL };

	(void)state;
	for (int i = 0; i < 64; i++)
		ones[i] = 1.0f;
	run_rope(&c, 1, a, NULL);
	c.freq = ones;
	run_rope(&c, 2, b, NULL);
	assert_memory_equal(a, b, 128 * 8 * 5 * 4);
	free(a);
	free(b);
}

static void test_rope_rejects_bad_factor_tensor(void **state)
{
	float f[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	const struct rope_case c = { 16, 2, 3, 0, 16, 1e4f, 1.0f, 0, 0, 0, f };
	struct sim_op op;
	uint64_t fa = 0;

	(void)state;
	make_rope(&op, &c);
	assert_int_equal(ref_check_op(&sim_op_rope, &op, &fa), 0);
	op.t[2].ne[0] = 4;	/* not n_rot / 2 */
	assert_int_equal(ref_check_op(&sim_op_rope, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x30000);
	op.t[2].ne[0] = 8;
	op.t[2].dtype = ANPU_DTYPE_F16;
	assert_int_equal(ref_check_op(&sim_op_rope, &op, &fa), ANPU_CAUSE_DTYPE);
	op.t[2].dtype = ANPU_DTYPE_F32;
	free_op(&op, 0);
}

static uint32_t check_params(uint32_t mode, uint32_t n_rot, float base,
			     float freq_scale, uint32_t pos)
{
	const struct rope_case c = { 16, 2, 3, mode, n_rot, base, freq_scale, pos,
				     0, 0, NULL };
	struct sim_op op;
	uint64_t fa;
	uint32_t cause;

	make_rope(&op, &c);
	cause = ref_check_op(&sim_op_rope, &op, &fa);
	free_op(&op, 0);
	return cause;
}

static void test_rope_rejects_odd_n_rot(void **state)
{
	(void)state;
	assert_int_equal(check_params(0, 15, 1e4f, 1.0f, 0), ANPU_CAUSE_PARAM);
}

static void test_rope_rejects_n_rot_above_head_dim(void **state)
{
	(void)state;
	assert_int_equal(check_params(0, 18, 1e4f, 1.0f, 0), ANPU_CAUSE_PARAM);
	assert_int_equal(check_params(0, 0, 1e4f, 1.0f, 0), ANPU_CAUSE_PARAM);
	assert_int_equal(check_params(0, 16, 1e4f, 1.0f, 0), 0);
}

static void test_rope_rejects_unknown_mode(void **state)
{
	(void)state;
	assert_int_equal(check_params(2, 16, 1e4f, 1.0f, 0), ANPU_CAUSE_PARAM);
}

static void test_rope_rejects_bad_theta_and_freq_scale(void **state)
{
	(void)state;
	assert_int_equal(check_params(1, 16, 0.0f, 1.0f, 0), ANPU_CAUSE_PARAM);
	assert_int_equal(check_params(1, 16, INFINITY, 1.0f, 0), ANPU_CAUSE_PARAM);
	assert_int_equal(check_params(1, 16, 1e4f, -1.0f, 0), ANPU_CAUSE_PARAM);
	assert_int_equal(check_params(1, 16, 1e4f, NAN, 0), ANPU_CAUSE_PARAM);
}

static void test_rope_rejects_position_overflow(void **state)
{
	(void)state;
	assert_int_equal(check_params(1, 16, 1e4f, 1.0f, UINT32_MAX - 1),
			 ANPU_CAUSE_STEP_PARAM);
	assert_int_equal(check_params(1, 16, 1e4f, 1.0f, UINT32_MAX - 2), 0);
}

static void test_rope_rejects_four_dims(void **state)
{
	const struct rope_case c = { 16, 2, 3, 0, 16, 1e4f, 1.0f, 0, 0, 0, NULL };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_rope(&op, &c);
	op.t[0].ne[3] = 2;
	op.t[1].ne[3] = 2;
	assert_int_equal(ref_check_op(&sim_op_rope, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x10000);
	free_op(&op, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rope_neox_full_rotation),
		cmocka_unit_test(test_rope_normal_full_rotation),
		cmocka_unit_test(test_rope_neox_partial_rotation_copies_tail),
		cmocka_unit_test(test_rope_normal_partial_rotation_strided),
		cmocka_unit_test(test_rope_in_place),
		cmocka_unit_test(test_rope_long_position_accurate),
		cmocka_unit_test(test_rope_position_zero_is_identity),
		cmocka_unit_test(test_rope_bit_identical_for_1_2_3_threads),
		cmocka_unit_test(test_rope_angle_table_gives_the_same_bits),
		cmocka_unit_test(test_rope_rejects_odd_n_rot),
		cmocka_unit_test(test_rope_rejects_n_rot_above_head_dim),
		cmocka_unit_test(test_rope_rejects_unknown_mode),
		cmocka_unit_test(test_rope_rejects_bad_theta_and_freq_scale),
		cmocka_unit_test(test_rope_rejects_position_overflow),
		cmocka_unit_test(test_rope_rejects_four_dims),
		cmocka_unit_test(test_rope_every_path_gives_the_scalar_bits),
		cmocka_unit_test(test_rope_frequency_factors_divide_the_angle),
		cmocka_unit_test(test_rope_unit_factors_change_nothing),
		cmocka_unit_test(test_rope_rejects_bad_factor_tensor),
	};

	return cmocka_run_group_tests_name("ops_rope", tests, NULL, NULL);
}
