// SPDX-License-Identifier: MIT
/*
 * NOP, TIMESTAMP, ARGMAX and COPY, and the class descriptions the command
 * processor relies on (tensor counts, output masks, parameter bytes, the
 * offset of the step-parameter scalar).
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

static void test_nop_takes_no_tensors_and_does_nothing(void **state)
{
	struct sim_op op;

	(void)state;
	memset(&op, 0, sizeof(op));
	assert_int_equal(sim_op_nop.min_tensors, 0);
	assert_int_equal(sim_op_nop.max_tensors, 0);
	assert_int_equal(ref_run_op(&sim_op_nop, &op, 1), 0);
}

static uint64_t fake_clock(void *ctx)
{
	return *(const uint64_t *)ctx;
}

static void test_timestamp_writes_clock_little_endian(void **state)
{
	const uint32_t ne[4] = { 2, 1, 1, 1 };
	uint64_t now = 0x0123456789abcdefull;
	struct sim_exec ex = { .clock_ns = fake_clock, .clock_ctx = &now };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 1;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_I32, ne, 0, 0x10000), 0);
	assert_int_equal(ref_check_op(&sim_op_timestamp, &op, &fa), 0);
	assert_int_equal(sim_op_timestamp.run(&ex, &op), 0);
	assert_int_equal(op.t[0].data[0], 0xef);
	assert_int_equal(op.t[0].data[7], 0x01);
	ref_tensor_free(&op.t[0]);
}

static void test_timestamp_rejects_wrong_shape_and_dtype(void **state)
{
	const uint32_t ne[4] = { 2, 1, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 1;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_I32, ne, 0, 0x10000), 0);
	op.t[0].ne[1] = 2;
	assert_int_equal(ref_check_op(&sim_op_timestamp, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x10000);
	op.t[0].ne[1] = 1;
	op.t[0].dtype = ANPU_DTYPE_F32;
	assert_int_equal(ref_check_op(&sim_op_timestamp, &op, &fa), ANPU_CAUSE_DTYPE);
	ref_tensor_free(&op.t[0]);
}

/* ---- ARGMAX ---- */

static void run_argmax(const float *x, const uint32_t ne[4], uint32_t pad,
		       unsigned int threads, int32_t *got)
{
	const uint32_t y_ne[4] = { 1, ne[1], ne[2], ne[3] };
	struct sim_op op;

	memset(&op, 0, sizeof(op));
	op.n_tensors = 2;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, ne, pad, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_I32, y_ne, pad, 0x20000), 0);
	ref_tensor_store(&op.t[0], x);
	assert_int_equal(ref_run_op(&sim_op_argmax, &op, threads), 0);
	ref_tensor_load_i32(&op.t[1], got);
	assert_true(ref_tensor_gaps_intact(&op.t[1]));
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
}

static void test_argmax_matches_reference_many_rows(void **state)
{
	const uint32_t ne[4] = { 1001, 7, 3, 1 };
	size_t n = 1001 * 21;
	float *x = malloc(n * 4);
	int32_t want[21], got[21];

	(void)state;
	ref_fill_uniform(x, n, 61, -5.0f, 5.0f);
	ref_argmax(x, want, 1001, 21);
	run_argmax(x, ne, 2, 2, got);
	assert_memory_equal(got, want, sizeof(got));
	free(x);
}

static void test_argmax_first_maximum_wins_ties(void **state)
{
	const uint32_t ne[4] = { 6, 1, 1, 1 };
	const float x[6] = { 1.0f, 3.0f, -2.0f, 3.0f, 3.0f, 0.0f };
	int32_t got;

	(void)state;
	run_argmax(x, ne, 0, 1, &got);
	assert_int_equal(got, 1);
}

static void test_argmax_nan_never_wins(void **state)
{
	const uint32_t ne[4] = { 5, 2, 1, 1 };
	const float x[10] = { NAN, -1.0f, NAN, -0.5f, NAN,
			      NAN, -INFINITY, NAN, -INFINITY, NAN };
	int32_t got[2];

	(void)state;
	run_argmax(x, ne, 0, 1, got);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[1], 1);
}

static void test_argmax_all_nan_gives_zero(void **state)
{
	const uint32_t ne[4] = { 3, 1, 1, 1 };
	const float x[3] = { NAN, NAN, NAN };
	int32_t got;

	(void)state;
	run_argmax(x, ne, 0, 1, &got);
	assert_int_equal(got, 0);
}

static void test_argmax_rejects_bad_output(void **state)
{
	const uint32_t ne[4] = { 8, 3, 1, 1 }, y_ne[4] = { 1, 3, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 2;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F32, ne, 0, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_I32, y_ne, 0, 0x20000), 0);
	assert_int_equal(ref_check_op(&sim_op_argmax, &op, &fa), 0);
	op.t[1].ne[1] = 2;
	assert_int_equal(ref_check_op(&sim_op_argmax, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	op.t[1].ne[1] = 3;
	op.t[0].ne[0] = 0x80000000u;	/* index would not fit in I32 */
	assert_int_equal(ref_check_op(&sim_op_argmax, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x10000);
	op.t[0].ne[0] = 8;
	op.t[1].dtype = ANPU_DTYPE_F32;
	assert_int_equal(ref_check_op(&sim_op_argmax, &op, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x20000);
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
}

/* ---- COPY ---- */

/* src and dst with different paddings: every row copied bit for bit, gaps untouched. */
static void copy_case(uint32_t dtype, const uint32_t ne[4], unsigned int threads)
{
	struct sim_op op;
	uint64_t n = (uint64_t)ne[0] * ne[1] * ne[2] * ne[3];
	float *x = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);

	memset(&op, 0, sizeof(op));
	op.opcode = ANPU_OP_COPY;
	op.n_tensors = 2;
	assert_int_equal(ref_tensor_alloc(&op.t[0], dtype, ne, 3, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], dtype, ne, 1, 0x20000), 0);
	ref_fill_uniform(x, n, 5, -3.0f, 3.0f);
	x[0] = NAN;			/* payloads and signs travel as bits */
	x[n - 1] = -0.0f;
	ref_tensor_store(&op.t[0], x);
	ref_tensor_load(&op.t[0], want);	/* as the source holds them (F16 rounded) */
	assert_int_equal(ref_run_op(&sim_op_copy, &op, threads), 0);
	ref_tensor_load(&op.t[1], got);
	assert_memory_equal(got, want, n * 4);
	assert_true(ref_tensor_gaps_intact(&op.t[1]));
	assert_true(ref_tensor_gaps_intact(&op.t[0]));
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
	free(x);
	free(got);
	free(want);
}

static void test_copy_f16_rows_bit_for_bit(void **state)
{
	const uint32_t ne[4] = { 128, 37, 1, 1 };	/* 37 rows of a 2-head F16 cache */

	(void)state;
	copy_case(ANPU_DTYPE_F16, ne, 1);
	copy_case(ANPU_DTYPE_F16, ne, 3);
}

static void test_copy_f32_four_dims(void **state)
{
	const uint32_t ne[4] = { 33, 5, 4, 3 };

	(void)state;
	copy_case(ANPU_DTYPE_F32, ne, 2);
}

/*
 * src and dst overlapping (the ISA leaves dst's values undefined): the op
 * still completes, writes only dst's bytes, and on 3 threads as on 1 (the
 * fuzzer's case: rows 4 bytes apart in one buffer, a memcpy of overlapping
 * bytes under ASan).
 */
static void test_copy_overlapping_tensors_complete(void **state)
{
	const uint32_t ne[4] = { 8, 300, 1, 1 };
	struct sim_op op;
	float *buf = malloc(4 * (8 * 300 + 64));

	(void)state;
	for (unsigned int threads = 1; threads <= 3; threads += 2) {
		for (unsigned int i = 0; i < 8 * 300 + 64; i++)
			buf[i] = (float)i;
		memset(&op, 0, sizeof(op));
		op.opcode = ANPU_OP_COPY;
		op.n_tensors = 2;
		sim_tensor_dense(&op.t[0], ANPU_DTYPE_F32, ne[0], ne[1], 1, 1, buf + 32, 0x10000);
		sim_tensor_dense(&op.t[1], ANPU_DTYPE_F32, ne[0], ne[1], 1, 1, buf + 33, 0x10004);
		assert_int_equal(ref_run_op(&sim_op_copy, &op, threads), 0);
		for (unsigned int i = 0; i < 33; i++)	/* before dst: untouched */
			assert_true(buf[i] == (float)i);
		for (unsigned int i = 33 + 8 * 300; i < 8 * 300 + 64; i++)	/* after it */
			assert_true(buf[i] == (float)i);
	}
	free(buf);
}

static void test_copy_rejects_mismatch(void **state)
{
	const uint32_t ne[4] = { 16, 4, 1, 1 };
	struct sim_op op;
	uint64_t fa;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.n_tensors = 2;
	assert_int_equal(ref_tensor_alloc(&op.t[0], ANPU_DTYPE_F16, ne, 0, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op.t[1], ANPU_DTYPE_F16, ne, 0, 0x20000), 0);
	assert_int_equal(ref_check_op(&sim_op_copy, &op, &fa), 0);
	op.t[1].dtype = ANPU_DTYPE_F32;		/* no conversion */
	assert_int_equal(ref_check_op(&sim_op_copy, &op, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x20000);
	op.t[1].dtype = ANPU_DTYPE_F16;
	op.t[1].ne[1] = 3;
	assert_int_equal(ref_check_op(&sim_op_copy, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	op.t[1].ne[1] = 4;
	op.t[0].dtype = op.t[1].dtype = ANPU_DTYPE_I32;
	assert_int_equal(ref_check_op(&sim_op_copy, &op, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x10000);
	op.t[0].dtype = op.t[1].dtype = ANPU_DTYPE_F16;
	ref_tensor_free(&op.t[0]);
	ref_tensor_free(&op.t[1]);
}

/* ---- class descriptions ---- */

struct class_expect {
	const struct sim_op_class *cls;
	uint8_t n_tensors, out_mask, params_bytes;
	int8_t pos_offset;
	uint8_t optional;	/* trailing optional tensors (ROPE's factors) */
};

static void test_classes_describe_tensors_params_and_pos(void **state)
{
	const struct class_expect e[] = {
		{ &sim_op_nop, 0, 0x0, 0, -1, 0 },
		{ &sim_op_timestamp, 1, 0x1, 0, -1, 0 },
		{ &sim_op_rmsnorm, 3, 0x4, 4, -1, 0 },
		{ &sim_op_rope, 2, 0x2, 24, 16, 1 },
		{ &sim_op_kv_store, 2, 0x2, 8, 0, 0 },
		{ &sim_op_attention, 4, 0x8, 16, 8, 0 },
		{ &sim_op_swiglu, 3, 0x4, 0, -1, 0 },
		{ &sim_op_add, 3, 0x4, 0, -1, 0 },
		{ &sim_op_mul, 3, 0x4, 0, -1, 0 },
		{ &sim_op_scale, 2, 0x2, 4, -1, 0 },
		{ &sim_op_softmax, 2, 0x2, 4, -1, 0 },
		{ &sim_op_argmax, 2, 0x2, 0, -1, 0 },
		{ &sim_op_copy, 2, 0x2, 0, -1, 0 },
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		const struct sim_op_class *c = e[i].cls;

		assert_int_equal(c->min_tensors, e[i].n_tensors);
		assert_int_equal(c->max_tensors, e[i].n_tensors + e[i].optional);
		assert_int_equal(c->out_mask, e[i].out_mask);
		assert_int_equal(c->params_bytes, e[i].params_bytes);
		assert_int_equal(c->pos_offset, e[i].pos_offset);
		assert_int_equal(c->valid_flags, 0);
		assert_non_null(c->check);
		assert_non_null(c->run);
		assert_non_null(c->cost);
	}
}

static void test_attention_cost_counts_kv_len_per_row(void **state)
{
	struct sim_op op;
	struct sim_op_cost cost;

	(void)state;
	memset(&op, 0, sizeof(op));
	op.t[0].ne[0] = 64;		/* head_dim */
	op.t[0].ne[1] = 4;		/* n_head */
	op.t[0].ne[2] = 2;		/* M */
	op.t[1].dtype = op.t[2].dtype = ANPU_DTYPE_F16;
	op.pos = 10;
	sim_op_attention.cost(&op, &cost);
	/* rows attend to 11 and 12 positions */
	assert_int_equal(cost.macs, 2ull * 64 * 4 * (11 + 12));
	assert_int_equal(cost.macs_per_cycle, ANPU_COST_MACS_PER_CYCLE_F32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nop_takes_no_tensors_and_does_nothing),
		cmocka_unit_test(test_timestamp_writes_clock_little_endian),
		cmocka_unit_test(test_timestamp_rejects_wrong_shape_and_dtype),
		cmocka_unit_test(test_argmax_matches_reference_many_rows),
		cmocka_unit_test(test_argmax_first_maximum_wins_ties),
		cmocka_unit_test(test_argmax_nan_never_wins),
		cmocka_unit_test(test_argmax_all_nan_gives_zero),
		cmocka_unit_test(test_argmax_rejects_bad_output),
		cmocka_unit_test(test_copy_f16_rows_bit_for_bit),
		cmocka_unit_test(test_copy_f32_four_dims),
		cmocka_unit_test(test_copy_overlapping_tensors_complete),
		cmocka_unit_test(test_copy_rejects_mismatch),
		cmocka_unit_test(test_classes_describe_tensors_params_and_pos),
		cmocka_unit_test(test_attention_cost_counts_kv_len_per_row),
	};

	return cmocka_run_group_tests_name("ops_misc", tests, NULL, NULL);
}
