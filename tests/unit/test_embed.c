// SPDX-License-Identifier: MIT
/*
 * EMBED: every table dtype into F32 and F16 rows, checked against the
 * independent reference decoder; out-of-range ids stop the op with
 * ANPU_CAUSE_INDEX at the address of the offending id; check() rejects
 * wrong dtypes and shapes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_fp16.h"
#include "sim/sim_ops.h"
#include "sim/sim_pool.h"
#include "tests/ref/ref_quant.h"

#define TAB_ADDR 0x100000ull
#define IDS_ADDR 0x200000ull
#define DST_ADDR 0x300000ull
#define DIM 512
#define VOCAB 5

static void mk_tensor(struct sim_tensor *t, uint32_t dtype, uint32_t ne0,
		      uint32_t ne1, void *data, uint64_t addr)
{
	assert_true(sim_tensor_dense(t, dtype, ne0, ne1, 1, 1, data, addr));
}

struct emb {
	struct sim_op op;
	uint8_t table[DIM * 4 * VOCAB];
	int32_t ids[4];
	float dst[DIM * 4];
};

static void emb_init(struct emb *e, uint32_t tab_dtype, uint32_t dst_dtype, uint64_t seed)
{
	size_t rb = ref_row_bytes(tab_dtype, DIM);

	memset(e, 0, sizeof(*e));
	for (int v = 0; v < VOCAB; v++)
		ref_fill_weight_row(tab_dtype, e->table + v * rb, DIM, &seed);
	e->ids[0] = 3;
	e->ids[1] = 0;
	e->ids[2] = 4;
	e->ids[3] = 3;
	e->op.opcode = ANPU_OP_EMBED;
	e->op.n_tensors = 3;
	mk_tensor(&e->op.t[0], tab_dtype, DIM, VOCAB, e->table, TAB_ADDR);
	mk_tensor(&e->op.t[1], ANPU_DTYPE_I32, 4, 1, e->ids, IDS_ADDR);
	mk_tensor(&e->op.t[2], dst_dtype, DIM, 4, e->dst, DST_ADDR);
}

static uint32_t emb_run(struct emb *e, uint64_t *fault)
{
	struct sim_exec ex = { 0 };
	uint32_t cause = sim_op_embed.check(&e->op, fault);

	if (cause)
		return cause;
	ex.pool = sim_pool_create(2, 0);
	assert_non_null(ex.pool);
	cause = sim_op_embed.run(&ex, &e->op);
	*fault = ex.fault_addr;
	sim_pool_destroy(ex.pool);
	return cause;
}

static const uint32_t all_dtypes[] = {
	ANPU_DTYPE_F32, ANPU_DTYPE_F16, ANPU_DTYPE_BF16, ANPU_DTYPE_Q8_0,
	ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_K,
	ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q4_1, ANPU_DTYPE_Q5_1,
};

/*
 * F32 rows: the decoder's float evaluation of d * sc * q - dmin * m is within
 * a few ulps of the exact value (1e-6 relative). F16 rows add the rounding
 * to half: 2^-11 relative, or 2^-25 absolute in the subnormal range.
 */
static void embed_rows(uint32_t dst_dtype)
{
	for (size_t t = 0; t < sizeof(all_dtypes) / sizeof(all_dtypes[0]); t++) {
		struct emb *e = malloc(sizeof(*e));
		size_t rb = ref_row_bytes(all_dtypes[t], DIM);
		uint64_t fault = 0;

		assert_non_null(e);
		emb_init(e, all_dtypes[t], dst_dtype, 99 + t);
		assert_int_equal(emb_run(e, &fault), 0);
		for (int r = 0; r < 4; r++) {
			for (int i = 0; i < DIM; i++) {
				double want = ref_weight_elem(all_dtypes[t],
							      e->table + e->ids[r] * rb, i);
				double got, tol;

				if (dst_dtype == ANPU_DTYPE_F32) {
					got = e->dst[r * DIM + i];
					tol = 1e-6 * fabs(want) + 1e-12;
				} else {
					got = sim_f16_to_f32(((uint16_t *)e->dst)[r * DIM + i]);
					tol = ldexp(fabs(want), -11) * 1.0001 + ldexp(1, -25);
				}
				if (!(fabs(got - want) <= tol))
					fail_msg("dtype %u row %d elem %d: %.9g want %.9g",
						 all_dtypes[t], r, i, got, want);
			}
		}
		free(e);
	}
}

static void embed_decodes_every_dtype_into_f32(void **state)
{
	(void)state;
	embed_rows(ANPU_DTYPE_F32);
}

static void embed_decodes_every_dtype_into_f16(void **state)
{
	(void)state;
	embed_rows(ANPU_DTYPE_F16);
}

/*
 * EMBED of rows @ids[0 .. m - 1] from a table of @v rows of @d elements, as
 * @from (@tf) and as @to (@tt, the same rows in another layout), into F32
 * and F16: the same bits.
 */
static void check_tables_agree(uint32_t from, const uint8_t *tf, uint32_t to, const uint8_t *tt,
			       uint32_t d, uint32_t v, const int32_t *ids, uint32_t m)
{
	const uint32_t dsts[] = { ANPU_DTYPE_F32, ANPU_DTYPE_F16 };
	float *y[2] = { calloc((size_t)m * d, sizeof(float)), calloc((size_t)m * d, sizeof(float)) };

	assert_non_null(y[0]);
	assert_non_null(y[1]);
	for (size_t k = 0; k < 2; k++) {
		for (int l = 0; l < 2; l++) {
			struct sim_exec ex = { 0 };
			struct sim_op op = { .opcode = ANPU_OP_EMBED, .n_tensors = 3 };
			uint64_t fault = 0;

			mk_tensor(&op.t[0], l ? to : from, d, v, (void *)(l ? tt : tf), TAB_ADDR);
			mk_tensor(&op.t[1], ANPU_DTYPE_I32, m, 1, (void *)ids, IDS_ADDR);
			mk_tensor(&op.t[2], dsts[k], d, m, y[l], DST_ADDR);
			assert_int_equal(sim_op_embed.check(&op, &fault), 0);
			ex.pool = sim_pool_create(2, 0);
			assert_non_null(ex.pool);
			assert_int_equal(sim_op_embed.run(&ex, &op), 0);
			sim_pool_destroy(ex.pool);
		}
		assert_memory_equal(y[0], y[1], (dsts[k] == ANPU_DTYPE_F32 ? 4 : 2) * (size_t)m * d);
	}
	free(y[0]);
	free(y[1]);
}

/*
 * Q5_0L (ISA 1.2) tables give the rows of the Q5_0 table they were made
 * from, bit for bit, in F32 and F16 (whose 256-element pieces split a
 * 16-block group), with a partial last group (896 = 28 blocks).
 */
static void embed_q5_0l_gives_the_q5_0_tables_rows(void **state)
{
	enum { D = 896, V = 3 };
	const size_t rb = ref_row_bytes(ANPU_DTYPE_Q5_0, D);
	static uint8_t t5[V * 616], tl[V * 616];
	static const int32_t ids[2] = { 2, 0 };
	uint64_t seed = 7;

	(void)state;
	assert_int_equal(rb, 616);
	for (int v = 0; v < V; v++) {
		ref_fill_weight_row(ANPU_DTYPE_Q5_0, t5 + v * rb, D, &seed);
		anpu_q5_0_to_q5_0l(tl + v * rb, t5 + v * rb, D / 32);
	}
	check_tables_agree(ANPU_DTYPE_Q5_0, t5, ANPU_DTYPE_Q5_0L, tl, D, V, ids, 2);
}

/*
 * Q4_KL (ISA 1.3), Q6_KL (1.4) and Q4_0L (1.5) tables give the rows of the
 * Q4_K (Q6_K, Q4_0) table they were made from, bit for bit, in F32 and F16,
 * for rows in every lane of two groups (Q6_KL, Q4_0L: 3 blocks a row, so the
 * second group's blocks start half-way into a cache line).
 */
static void embed_row_groups_give_the_tables_rows(void **state)
{
	enum { V = 32, M = 6 };
	static const struct {
		uint32_t from, to, d, block;
		void (*conv)(void *dst, const void *src, __u32 nb);
	} kinds[] = {
		{ ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q4_KL, 512, 256, anpu_q4_k_to_q4_kl },
		{ ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q6_KL, 768, 256, anpu_q6_k_to_q6_kl },
		{ ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q4_0L, 96, 32, anpu_q4_0_to_q4_0l },
	};
	static const int32_t ids[M] = { 0, 15, 16, 31, 7, 22 };
	uint64_t seed = 11;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const uint32_t d = kinds[k].d;
		const size_t rb = ref_row_bytes(kinds[k].from, d);
		uint8_t *tf = malloc(V * rb), *tt = malloc(V * rb);

		assert_non_null(tf);
		assert_non_null(tt);
		for (int v = 0; v < V; v++)
			ref_fill_weight_row(kinds[k].from, tf + v * rb, d, &seed);
		for (int g = 0; g < V / 16; g++)
			kinds[k].conv(tt + g * 16 * rb, tf + g * 16 * rb, d / kinds[k].block);
		check_tables_agree(kinds[k].from, tf, kinds[k].to, tt, d, V, ids, M);
		free(tf);
		free(tt);
	}
}

static void embed_id_past_vocab_faults_at_that_id(void **state)
{
	struct emb *e = malloc(sizeof(*e));
	uint64_t fault = 0;

	(void)state;
	emb_init(e, ANPU_DTYPE_Q8_0, ANPU_DTYPE_F32, 1);
	e->ids[2] = VOCAB;
	assert_int_equal(emb_run(e, &fault), ANPU_CAUSE_INDEX);
	assert_int_equal(fault, IDS_ADDR + 4 * 2);
	free(e);
}

static void embed_negative_id_faults_at_that_id(void **state)
{
	struct emb *e = malloc(sizeof(*e));
	uint64_t fault = 0;

	(void)state;
	emb_init(e, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 1);
	e->ids[1] = -1;
	e->ids[3] = 1000;	/* later bad ids do not matter: the first one is reported */
	assert_int_equal(emb_run(e, &fault), ANPU_CAUSE_INDEX);
	assert_int_equal(fault, IDS_ADDR + 4 * 1);
	free(e);
}

/*
 * An F32 table whose rows overlap the output (the ISA leaves the values
 * undefined): the op completes and writes nothing outside dst (a memcpy of
 * overlapping bytes under ASan before; the fuzzer's case).
 */
static void embed_output_overlapping_f32_table_completes(void **state)
{
	struct emb *e = malloc(sizeof(*e));
	float *buf = malloc(sizeof(float) * (DIM * (VOCAB + 4) + 64));
	uint64_t fault = 0;

	(void)state;
	emb_init(e, ANPU_DTYPE_F32, ANPU_DTYPE_F32, 1);
	for (unsigned int i = 0; i < DIM * (VOCAB + 4) + 64; i++)
		buf[i] = (float)i;
	/* table rows from buf + 8, output rows from buf + DIM + 16: row 1 meets row 0 */
	mk_tensor(&e->op.t[0], ANPU_DTYPE_F32, DIM, VOCAB, buf + 8, TAB_ADDR);
	mk_tensor(&e->op.t[2], ANPU_DTYPE_F32, DIM, 4, buf + DIM + 16, DST_ADDR);
	assert_int_equal(emb_run(e, &fault), 0);
	for (unsigned int i = 0; i < 8; i++)
		assert_true(buf[i] == (float)i);
	for (unsigned int i = DIM * (VOCAB + 1) + 8; i < DIM * (VOCAB + 4) + 64; i++)
		assert_true(buf[i] == (float)i);
	free(buf);
	free(e);
}

static void assert_check_fault(struct emb *e, uint32_t cause, uint64_t addr)
{
	uint64_t fault = 0;

	assert_int_equal(sim_op_embed.check(&e->op, &fault), cause);
	assert_int_equal(fault, addr);
}

static void embed_check_rejects_wrong_dtypes(void **state)
{
	struct emb *e = malloc(sizeof(*e));

	(void)state;
	emb_init(e, ANPU_DTYPE_Q4_0, ANPU_DTYPE_F32, 1);
	e->op.t[0].dtype = ANPU_DTYPE_I32;
	assert_check_fault(e, ANPU_CAUSE_DTYPE, TAB_ADDR);
	emb_init(e, ANPU_DTYPE_Q4_0, ANPU_DTYPE_F32, 1);
	e->op.t[1].dtype = ANPU_DTYPE_F32;
	assert_check_fault(e, ANPU_CAUSE_DTYPE, IDS_ADDR);
	emb_init(e, ANPU_DTYPE_Q4_0, ANPU_DTYPE_F32, 1);
	e->op.t[2].dtype = ANPU_DTYPE_BF16;
	assert_check_fault(e, ANPU_CAUSE_DTYPE, DST_ADDR);
	free(e);
}

static void embed_check_rejects_mismatched_shapes(void **state)
{
	struct emb *e = malloc(sizeof(*e));

	(void)state;
	emb_init(e, ANPU_DTYPE_F32, ANPU_DTYPE_F32, 1);
	e->op.t[2].ne[0] = DIM - 1;		/* dim differs */
	assert_check_fault(e, ANPU_CAUSE_SHAPE, DST_ADDR);
	emb_init(e, ANPU_DTYPE_F32, ANPU_DTYPE_F32, 1);
	e->op.t[2].ne[1] = 3;			/* M differs */
	assert_check_fault(e, ANPU_CAUSE_SHAPE, DST_ADDR);
	emb_init(e, ANPU_DTYPE_F32, ANPU_DTYPE_F32, 1);
	e->op.t[1].ne[1] = 2;			/* ids not [M] */
	assert_check_fault(e, ANPU_CAUSE_SHAPE, IDS_ADDR);
	emb_init(e, ANPU_DTYPE_F32, ANPU_DTYPE_F32, 1);
	e->op.t[0].ne[2] = 2;			/* table not 2-d */
	assert_check_fault(e, ANPU_CAUSE_SHAPE, TAB_ADDR);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(embed_decodes_every_dtype_into_f32),
		cmocka_unit_test(embed_decodes_every_dtype_into_f16),
		cmocka_unit_test(embed_q5_0l_gives_the_q5_0_tables_rows),
		cmocka_unit_test(embed_row_groups_give_the_tables_rows),
		cmocka_unit_test(embed_id_past_vocab_faults_at_that_id),
		cmocka_unit_test(embed_negative_id_faults_at_that_id),
		cmocka_unit_test(embed_output_overlapping_f32_table_completes),
		cmocka_unit_test(embed_check_rejects_wrong_dtypes),
		cmocka_unit_test(embed_check_rejects_mismatched_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
