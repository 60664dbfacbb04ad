// SPDX-License-Identifier: MIT
/*
 * ATTENTION and KV_STORE against the double-precision reference.
 *
 * Tolerance (attention): the kernel accumulates scores and the weighted sum
 * of V in float. With inputs in [-1, 1], a dot of head_dim terms is off by
 * at most ~head_dim * 2^-24 (< 1e-5 for 128), which moves a softmax weight
 * by the same relative amount; the V accumulation over kv_len <= ~400 rows
 * of weights summing to 1 adds < kv_len * 2^-24 relative in the worst case.
 * Outputs are <= 1 in magnitude, so atol 3e-5 plus rtol 1e-4 bounds both
 * with margin while still catching any masking/GQA/indexing mistake (those
 * give errors of order 0.1). F16 caches are compared against the reference
 * fed with the same F16-rounded values, so F16 adds no tolerance.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../sim/kernels/att_exp.h"
#include "../../sim/kernels/kernels.h"
#include "../../sim/sim_fp16.h"
#include "../ref/ref_ops.h"

struct att_case {
	uint32_t head_dim, n_head, n_kv_head, m_rows, ctx, pos;
	uint32_t k_dtype, v_dtype;
	uint32_t pad;
};

static void make_attention(struct sim_op *op, const struct att_case *c)
{
	const uint32_t q_ne[4] = { c->head_dim, c->n_head, c->m_rows, 1 };
	const uint32_t kv_ne[4] = { c->head_dim * c->n_kv_head, c->ctx, 1, 1 };

	memset(op, 0, sizeof(*op));
	op->opcode = ANPU_OP_ATTENTION;
	op->n_tensors = 4;
	op->params.attention.scale = 1.0f / sqrtf((float)c->head_dim);
	op->pos = c->pos;
	assert_int_equal(ref_tensor_alloc(&op->t[0], ANPU_DTYPE_F32, q_ne, c->pad, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op->t[1], c->k_dtype, kv_ne, c->pad, 0x20000), 0);
	assert_int_equal(ref_tensor_alloc(&op->t[2], c->v_dtype, kv_ne, c->pad, 0x30000), 0);
	assert_int_equal(ref_tensor_alloc(&op->t[3], ANPU_DTYPE_F32, q_ne, c->pad + 1, 0x40000), 0);
}

static void free_op(struct sim_op *op)
{
	for (unsigned int i = 0; i < op->n_tensors; i++)
		ref_tensor_free(&op->t[i]);
}

/*
 * Fill q and the cache rows 0..pos+M-1 with random values and the cache
 * rows beyond with NaN, so reading past the causal limit poisons the output.
 */
static void fill_attention(struct sim_op *op, const struct att_case *c,
			   uint64_t seed, float *k_used, float *v_used)
{
	uint64_t nq = ref_tensor_nelems(&op->t[0]);
	uint64_t nkv = ref_tensor_nelems(&op->t[1]);
	uint64_t used = (uint64_t)(c->pos + c->m_rows) * op->t[1].ne[0];
	float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4);

	ref_fill_uniform(q, nq, seed, -1.0f, 1.0f);
	ref_fill_uniform(k, nkv, seed + 1, -1.0f, 1.0f);
	ref_fill_uniform(v, nkv, seed + 2, -1.0f, 1.0f);
	for (uint64_t i = used; i < nkv; i++)
		k[i] = v[i] = NAN;
	ref_tensor_store(&op->t[0], q);
	ref_tensor_store(&op->t[1], k);
	ref_tensor_store(&op->t[2], v);
	/* the reference sees exactly what the cache holds (F16-rounded) */
	if (k_used)
		ref_tensor_load(&op->t[1], k_used);
	if (v_used)
		ref_tensor_load(&op->t[2], v_used);
	free(q);
	free(k);
	free(v);
}

/* make_attention() and fill_attention(); *q, *k, *v: what q and the caches hold (the caller frees) */
static uint64_t setup_attention(struct sim_op *op, const struct att_case *c, uint64_t seed,
				float **q, float **k, float **v)
{
	uint64_t nq, nkv;

	make_attention(op, c);
	nq = ref_tensor_nelems(&op->t[0]);
	nkv = ref_tensor_nelems(&op->t[1]);
	*q = malloc(nq * 4);
	*k = malloc(nkv * 4);
	*v = malloc(nkv * 4);
	fill_attention(op, c, seed, *k, *v);
	ref_tensor_load(&op->t[0], *q);
	return nq;
}

static void check_attention(const struct att_case *c, unsigned int threads)
{
	struct sim_op op;
	float *q, *k, *v;
	uint64_t nq = setup_attention(&op, c, 11, &q, &k, &v);
	float *want = malloc(nq * 4), *got = malloc(nq * 4);

	ref_attention(q, k, v, want, c->head_dim, c->n_head, c->n_kv_head,
		      c->m_rows, c->pos, op.params.attention.scale);
	assert_int_equal(ref_run_op(&sim_op_attention, &op, threads), 0);
	ref_tensor_load(&op.t[3], got);
	assert_true(ref_close(got, want, nq, 3e-5, 1e-4));
	assert_true(ref_tensor_gaps_intact(&op.t[3]));
	free_op(&op);
	free(q);
	free(k);
	free(v);
	free(want);
	free(got);
}

/*
 * Each query row of a prefill gets the bits it gets alone (M = 1 at its own
 * position, which runs as span tasks and a merge pass): however the op cuts
 * rows into tasks, a row's operations and their order are its own.
 */
static void check_rows_match_rows_alone(const struct att_case *c, unsigned int threads)
{
	struct sim_op op, one;
	struct att_case c1 = *c;
	uint64_t row = (uint64_t)c->head_dim * c->n_head;
	float *q, *k, *v;
	uint64_t nq = setup_attention(&op, c, 29, &q, &k, &v);
	float *all = malloc(nq * 4), *got = malloc(row * 4);

	assert_int_equal(ref_run_op(&sim_op_attention, &op, threads), 0);
	ref_tensor_load(&op.t[3], all);
	c1.m_rows = 1;
	for (uint32_t m = 0; m < c->m_rows; m++) {
		c1.pos = c->pos + m;
		make_attention(&one, &c1);
		ref_tensor_store(&one.t[0], q + m * row);
		ref_tensor_store(&one.t[1], k);
		ref_tensor_store(&one.t[2], v);
		assert_int_equal(ref_run_op(&sim_op_attention, &one, threads), 0);
		ref_tensor_load(&one.t[3], got);
		if (memcmp(got, all + m * row, row * 4))
			fail_msg("row %u of %u (pos %u): not its bits alone", m, c->m_rows, c->pos);
		free_op(&one);
	}
	free_op(&op);
	free(q);
	free(k);
	free(v);
	free(all);
	free(got);
}

static void test_attention_prefill_rows_match_rows_alone(void **state)
{
	static const struct att_case cases[] = {
		/* Qwen3-like: 2 query heads per kv head, spans crossed */
		{ 128, 4, 2, 39, 700, 230, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		/* Qwen2.5-0.5B-like: 7 per kv head, from position 0 */
		{ 64, 14, 2, 33, 300, 0, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 40, 6, 3, 21, 300, 250, ANPU_DTYPE_F32, ANPU_DTYPE_F16, 1 },
		/* enough rows for row tasks of several rows on 2 threads, the last short */
		{ 128, 4, 2, 70, 700, 230, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 14, 2, 66, 600, 190, ANPU_DTYPE_F16, ANPU_DTYPE_F32, 0 },
		/* tasks of 8 rows: att_scores_qt where the path has it (2, 6, 7 heads a kv head) */
		{ 128, 4, 2, 130, 400, 100, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 12, 2, 131, 300, 37, ANPU_DTYPE_F32, ANPU_DTYPE_F16, 2 },
		{ 64, 14, 2, 129, 400, 250, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		/* one head a kv head, head_dim 256, padded F16 rows */
		{ 256, 4, 4, 130, 300, 40, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_rows_match_rows_alone(&cases[i], 2);
		check_rows_match_rows_alone(&cases[i], 1);
		if (cases[i].m_rows > 100)	/* 4-row tasks on 3 threads */
			check_rows_match_rows_alone(&cases[i], 3);
	}
}

static void test_attention_decode_f32_cache_mha(void **state)
{
	const struct att_case c = { 64, 4, 4, 1, 256, 200,
				    ANPU_DTYPE_F32, ANPU_DTYPE_F32, 0 };

	(void)state;
	check_attention(&c, 2);
}

static void test_attention_decode_f16_cache_gqa2(void **state)
{
	const struct att_case c = { 128, 8, 4, 1, 300, 299,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

	(void)state;
	check_attention(&c, 2);
}

static void test_attention_prefill_causal_with_pos(void **state)
{
	const struct att_case c = { 64, 4, 2, 6, 160, 70,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

	(void)state;
	check_attention(&c, 3);
}

static void test_attention_prefill_from_zero(void **state)
{
	const struct att_case c = { 32, 2, 1, 9, 9, 0,
				    ANPU_DTYPE_F32, ANPU_DTYPE_F32, 0 };

	(void)state;
	check_attention(&c, 1);
}

static void test_attention_gqa7_mixed_cache_dtypes(void **state)
{
	const struct att_case c = { 128, 14, 2, 3, 200, 130,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F32, 0 };

	(void)state;
	check_attention(&c, 2);
}

static void test_attention_odd_head_dim_strided(void **state)
{
	const struct att_case c = { 21, 6, 3, 4, 90, 65,
				    ANPU_DTYPE_F32, ANPU_DTYPE_F16, 5 };

	(void)state;
	check_attention(&c, 2);
}

/*
 * 24 query heads of head_dim 1024 on one kv head: a task holds the state of
 * at most 16 of that size, so two tasks share the kv head.
 */
static void test_attention_group_larger_than_task_batch(void **state)
{
	const struct att_case c = { 1024, 24, 1, 2, 100, 80,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

	(void)state;
	check_attention(&c, 3);
}

/* A long decode step: six spans of 256 positions, computed apart and merged. */
static void test_attention_decode_long_context_spans(void **state)
{
	const struct att_case c = { 64, 14, 2, 1, 1600, 1500,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

	(void)state;
	check_attention(&c, 2);
}

/* head_dim 256: cache rows are converted 32 at a time within a 64-row block. */
static void test_attention_head_dim_256(void **state)
{
	const struct att_case c = { 256, 4, 2, 2, 140, 100,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

	(void)state;
	check_attention(&c, 2);
}

static const struct att_case threads_case = { 64, 8, 2, 4, 400, 300,
					       ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

/* Runs case @c (q scaled by @q_scale: a wider spread of scores) into @out. */
static void run_attention(const struct att_case *c, float q_scale, unsigned int threads,
			  float *out)
{
	struct sim_op op;

	make_attention(&op, c);
	fill_attention(&op, c, 21, NULL, NULL);
	if (q_scale != 1.0f) {
		uint64_t nq = ref_tensor_nelems(&op.t[0]);
		float *q = malloc(nq * 4);

		ref_tensor_load(&op.t[0], q);
		for (uint64_t i = 0; i < nq; i++)
			q[i] *= q_scale;
		ref_tensor_store(&op.t[0], q);
		free(q);
	}
	assert_int_equal(ref_run_op(&sim_op_attention, &op, threads), 0);
	ref_tensor_load(&op.t[3], out);
	free_op(&op);
}

/*
 * A decode step just past a span: 2 and 3 threads cut it into half-head
 * span tasks (the whole span is most of the work), 1 thread does not.
 */
static const struct att_case threads_decode_case = { 128, 8, 2, 1, 300, 270,
						      ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

static void check_bit_identical_for_1_2_3_threads(const struct att_case *c)
{
	size_t n = (size_t)c->head_dim * c->n_head * c->m_rows;
	float *a = malloc(n * 4), *b = malloc(n * 4);

	run_attention(c, 1.0f, 1, a);
	for (unsigned int t = 2; t <= 3; t++) {
		run_attention(c, 1.0f, t, b);
		assert_memory_equal(a, b, n * 4);
	}
	free(a);
	free(b);
}

static void test_attention_bit_identical_for_1_2_3_threads(void **state)
{
	(void)state;
	check_bit_identical_for_1_2_3_threads(&threads_case);
	check_bit_identical_for_1_2_3_threads(&threads_decode_case);
}

/*
 * With one cache row (pos 0, M 1) every softmax weight is exactly 1, so the
 * output is the V row as the kernel converts it. 64 heads of 1024 cover all
 * 65536 F16 bit patterns; each must convert exactly (NaN stays NaN; the
 * sign of zero is lost in 0 + 1 * -0).
 */
static void test_attention_converts_every_f16_value_exactly(void **state)
{
	const struct att_case c = { 1024, 64, 64, 1, 1, 0,
				    ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };
	struct sim_op op;
	float *got = malloc(65536 * 4);

	(void)state;
	make_attention(&op, &c);
	memset(op.t[0].data, 0, op.t[0].extent);
	memset(op.t[1].data, 0, op.t[1].extent);
	for (uint32_t i = 0; i < 65536; i++) {
		uint16_t h = (uint16_t)i;

		memcpy(op.t[2].data + 2 * i, &h, 2);
	}
	assert_int_equal(ref_run_op(&sim_op_attention, &op, 2), 0);
	ref_tensor_load(&op.t[3], got);
	for (uint32_t i = 0; i < 65536; i++) {
		float want = sim_f16_to_f32((uint16_t)i);

		if (isnan(want))
			assert_true(isnan(got[i]));
		else if (got[i] != want)
			fail_msg("f16 0x%04x: got %a want %a", i, got[i], want);
	}
	free_op(&op);
	free(got);
}

/*
 * Every SIMD path gives the portable path's bits (docs/hardware.md 10.8):
 * a head_dim that is a whole number of vectors and one that is not, F16 and
 * F32 caches, F16 rows read as they are (few heads per kv head, or several
 * heads a call) and converted first (many), block tails of every length mod 8,
 * q rows with gaps between heads, and scores
 * spread over exp's whole range (some weights underflow to 0).
 */
static void test_attention_every_path_gives_portable_bits(void **state)
{
	static const char *const paths[] = { "avx2", "avxvnni", "avx512" };
	static const struct att_case cases[] = {
		{ 64, 8, 2, 4, 400, 300, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 43, 6, 3, 9, 200, 131, ANPU_DTYPE_F32, ANPU_DTYPE_F16, 3 },
		{ 128, 4, 1, 2, 150, 97, ANPU_DTYPE_F16, ANPU_DTYPE_F32, 0 },
		{ 64, 14, 2, 3, 300, 200, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 40, 8, 1, 2, 150, 90, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 1 },
		/*
		 * AVX-512's multi-head kernels: every count of heads of a kv
		 * head from 2 to 8 at head_dim 64 and 128 (odd row counts:
		 * the rows after the kernels' whole steps), decode steps of
		 * several spans among them
		 */
		{ 64, 10, 2, 5, 300, 170, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 12, 2, 3, 250, 187, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 128, 6, 1, 3, 300, 200, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 6, 2, 2, 200, 150, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 2 },
		{ 64, 16, 2, 1, 700, 620, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 14, 2, 1, 900, 777, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 1 },
		{ 64, 6, 1, 3, 300, 101, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 5, 1, 2, 300, 58, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 128, 12, 2, 1, 700, 600, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 128, 8, 2, 3, 300, 133, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 3 },
		{ 128, 3, 1, 2, 300, 77, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 128, 10, 2, 1, 600, 519, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 128, 7, 1, 2, 300, 90, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 128, 8, 1, 1, 600, 555, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 2 },
		/* prefill tasks of 8 rows (AVX-512: att_scores_qt) */
		{ 128, 4, 2, 129, 300, 100, ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 },
		{ 64, 14, 2, 130, 260, 40, ANPU_DTYPE_F16, ANPU_DTYPE_F32, 1 },
	};
	static const float q_scales[] = { 1.0f, 40.0f };
	const char *prev = sim_kernels_get()->name;
	unsigned int checked = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t n = (size_t)cases[c].head_dim * cases[c].n_head * cases[c].m_rows;
		float *want = malloc(n * 4), *got = malloc(n * 4);

		for (size_t s = 0; s < sizeof(q_scales) / sizeof(q_scales[0]); s++) {
			assert_int_equal(sim_kernels_select("portable"), 0);
			run_attention(&cases[c], q_scales[s], 2, want);
			for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
				if (!sim_kernels_supported(paths[p]))
					continue;
				assert_int_equal(sim_kernels_select(paths[p]), 0);
				run_attention(&cases[c], q_scales[s], 2, got);
				if (memcmp(want, got, n * 4))
					fail_msg("%s: case %zu, q x %g: not the portable bits",
						 paths[p], c, (double)q_scales[s]);
				checked++;
			}
		}
		free(want);
		free(got);
	}
	assert_int_equal(sim_kernels_select(prev), 0);
	if (!checked) {
		print_message("host lacks AVX2/F16C: only the portable path exists\n");
		skip();
	}
}

/*
 * att_scores_qt (the paths that have it) gives each of its 16 queries
 * att_scores's bits: head sizes of 1 to 16 vectors, rows in fours and the
 * rest, a row stride past the head, large and small queries.
 */
static void test_attention_scores_qt_is_att_scores(void **state)
{
	static const char *const paths[] = { "avx2", "avxvnni", "avx512" };
	static const uint32_t hds[] = { 16, 64, 128, 192 }, ns[] = { 1, 3, 4, 7, 64 };
	const char *prev = sim_kernels_get()->name;
	const uint32_t stride_pad = 5;
	unsigned int checked = 0;

	(void)state;
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		if (!sim_kernels_supported(paths[p]))
			continue;
		assert_int_equal(sim_kernels_select(paths[p]), 0);
		if (!sim_kernels_get()->att_scores_qt)
			continue;
		for (size_t a = 0; a < sizeof(hds) / sizeof(hds[0]); a++) {
			const uint32_t hd = hds[a], stride = hd + stride_pad;
			float *q = malloc(16 * hd * 4), *qt = aligned_alloc(64, 16 * hd * 4);
			float *rows = malloc(64 * stride * 4), *got = malloc(16 * 64 * 4);
			float want[64], *dst[16];

			ref_fill_uniform(q, 16 * hd, 40 + a, -1.0f, 1.0f);
			ref_fill_uniform(rows, 64 * stride, 50 + a, -1.0f, 1.0f);
			for (uint32_t v = 0; v < 16; v++) {
				if (v % 5 == 1)	/* large products: rounding in every lane */
					for (uint32_t d = 0; d < hd; d++)
						q[v * hd + d] *= 1000.0f;
				for (uint32_t d = 0; d < hd; d++)
					qt[16 * d + v] = q[v * hd + d];
				dst[v] = got + 64 * v;
			}
			for (size_t b = 0; b < sizeof(ns) / sizeof(ns[0]); b++) {
				sim_kernels_get()->att_scores_qt(dst, qt, rows, stride, ns[b], hd, 0.125f);
				for (uint32_t v = 0; v < 16; v++) {
					sim_kernels_get()->att_scores(want, q + v * hd, rows, stride, ns[b],
								      hd, 0.125f);
					if (memcmp(want, dst[v], ns[b] * 4))
						fail_msg("%s: hd %u, %u rows, query %u: not att_scores's bits",
							 paths[p], hd, ns[b], v);
				}
				checked++;
			}
			free(q);
			free(qt);
			free(rows);
			free(got);
		}
	}
	assert_int_equal(sim_kernels_select(prev), 0);
	if (!checked) {
		print_message("no path here has att_scores_qt (AVX-512)\n");
		skip();
	}
}

/*
 * The kernel path's att_softmax_step for @nh heads of @n scores against the
 * scalar definition (sim_att_exp, lanes j % 8): head h starts from -inf (the
 * block sets the maximum), above every score (no rescale) or in the middle
 * (the block raises it: sum and accumulator rescaled); one score is -inf,
 * every fifth head's scores are all -inf and every seventh head has a NaN.
 */
static void check_softmax_step(const char *path, uint32_t n, uint32_t nh)
{
	enum { HD = 20, MAXH = 18 };
	float got[MAXH][64], xs[MAXH][64], max[MAXH], sum[MAXH], acc[MAXH][HD];
	float want_acc[MAXH][HD];

	for (uint32_t h = 0; h < nh; h++) {
		for (uint32_t j = 0; j < 64; j++)
			xs[h][j] = got[h][j] = -100.0f + 3.1f * (float)((j * 7 + n + h) % 64);
		xs[h][(n + h) / 2 % n] = got[h][(n + h) / 2 % n] = -INFINITY;
		if (h % 5 == 4)
			for (uint32_t j = 0; j < 64; j++)
				xs[h][j] = got[h][j] = -INFINITY;
		if (h % 7 == 6)
			xs[h][n - 1] = got[h][n - 1] = NAN;
		max[h] = h % 3 == 0 ? -INFINITY : h % 3 == 1 ? 200.0f : -50.0f;
		sum[h] = h % 3 == 0 ? 0.0f : 1.5f + (float)h;
		for (uint32_t d = 0; d < HD; d++)
			acc[h][d] = want_acc[h][d] = h % 3 == 0 ? 0.0f : 0.25f * (float)(d + h);
	}
	sim_kernels_get()->att_softmax_step(&got[0][0], 64, n, max, sum, &acc[0][0], HD, nh);
	for (uint32_t h = 0; h < nh; h++) {
		float m = h % 3 == 0 ? -INFINITY : h % 3 == 1 ? 200.0f : -50.0f;
		float want_sum = h % 3 == 0 ? 0.0f : 1.5f + (float)h, bmax = -INFINITY;
		float l[8] = { 0 }, part;

		for (uint32_t j = 0; j < n; j++)
			bmax = xs[h][j] > bmax ? xs[h][j] : bmax;
		if (bmax > m) {
			float corr = sim_att_exp(m - bmax);

			want_sum *= corr;
			for (uint32_t d = 0; d < HD; d++)
				want_acc[h][d] *= corr;
			m = bmax;
		}
		for (uint32_t j = 0; j < n; j++) {
			float want = sim_att_exp(xs[h][j] - m);

			if (memcmp(&got[h][j], &want, 4))
				fail_msg("%s: n %u head %u lane %u: %a, scalar %a", path, n, h, j,
					 (double)got[h][j], (double)want);
			l[j % 8] += want;
		}
		part = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
		want_sum += part;
		assert_memory_equal(&max[h], &m, 4);
		assert_memory_equal(&sum[h], &want_sum, 4);
		assert_memory_equal(acc[h], want_acc[h], sizeof(acc[h]));
	}
}

/*
 * ATTENTION's exp (kernels/att_exp.h): exp(0) is exactly 1, within 2 ulp of
 * exp(x) wherever the result is a normal float, 0 below -87 and for -inf or
 * NaN, and each path's block softmax step (its vector exponentials) gives the
 * scalar's bits.
 */
static void test_attention_exp_accuracy_and_lanes(void **state)
{
	static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
	const char *prev = sim_kernels_get()->name;
	double max_ulp = 0;

	(void)state;
	assert_true(sim_att_exp(0.0f) == 1.0f);
	assert_true(sim_att_exp(-87.5f) == 0.0f);
	assert_true(sim_att_exp(-INFINITY) == 0.0f);
	assert_true(sim_att_exp(NAN) == 0.0f);
	for (float x = -87.0f; x <= 88.0f; x += 0.001953125f) {
		double want = exp((double)x), e = sim_att_exp(x);
		int ex;

		if (want < 0x1p-126)
			continue;
		frexp(want, &ex);
		if (fabs(e - want) / ldexp(1.0, ex - 24) > max_ulp)
			max_ulp = fabs(e - want) / ldexp(1.0, ex - 24);
	}
	print_message("att exp: max error %.2f ulp\n", max_ulp);
	assert_true(max_ulp <= 2.0);
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		if (!sim_kernels_supported(paths[p]))
			continue;
		assert_int_equal(sim_kernels_select(paths[p]), 0);
		for (uint32_t n = 1; n <= 64; n++)
			for (uint32_t nh = 1; nh <= 18; nh += 4)
				check_softmax_step(paths[p], n, nh);
	}
	assert_int_equal(sim_kernels_select(prev), 0);
}

/*
 * The kernel path's att_merge against the scalar definition (m = the larger
 * maximum, a = exp(max - m), b = exp(max_s - m), sum * a + sum_s * b, acc *
 * a + acc_s * b, each step rounded) for 1..18 heads of head_dim 20, states
 * packed as the span partials (acc, max, sum: stride 22) into separate
 * arrays; maxima on either side, equal for one head, -inf on both for one.
 */
static void test_attention_merge_matches_scalar(void **state)
{
	static const char *const paths[] = { "portable", "avx2", "avxvnni", "avx512" };
	enum { HD = 20, MAXH = 18, PS = HD + 2 };
	const char *prev = sim_kernels_get()->name;

	(void)state;
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		if (!sim_kernels_supported(paths[p]))
			continue;
		assert_int_equal(sim_kernels_select(paths[p]), 0);
		for (uint32_t nh = 1; nh <= MAXH; nh++) {
			float acc[MAXH][HD], max[MAXH], sum[MAXH], part[MAXH][PS];
			float want_acc[MAXH][HD], want_max[MAXH], want_sum[MAXH];

			for (uint32_t h = 0; h < nh; h++) {
				float a, b, t, u;

				max[h] = h == 3 ? -INFINITY : 0.7f * (float)h - 4.0f;
				sum[h] = h == 3 ? 0.0f : 1.0f + 0.3f * (float)h;
				part[h][HD] = h == 3 ? -INFINITY : h == 5 ? max[h] : 5.0f - 0.9f * (float)h;
				part[h][HD + 1] = h == 3 ? 0.0f : 2.0f + 0.1f * (float)h;
				for (uint32_t d = 0; d < HD; d++) {
					acc[h][d] = 0.1f * (float)(d * 3 + h) - 1.0f;
					part[h][d] = 0.05f * (float)(d * 7 + h) - 2.0f;
				}
				want_max[h] = part[h][HD] > max[h] ? part[h][HD] : max[h];
				a = sim_att_exp(max[h] - want_max[h]);
				b = sim_att_exp(part[h][HD] - want_max[h]);
				t = sum[h] * a;
				u = part[h][HD + 1] * b;
				want_sum[h] = t + u;
				for (uint32_t d = 0; d < HD; d++) {
					t = acc[h][d] * a;
					u = part[h][d] * b;
					want_acc[h][d] = t + u;
				}
			}
			sim_kernels_get()->att_merge(
				&(struct sim_att_heads){ &acc[0][0], max, sum, HD, 1 },
				&(struct sim_att_heads){ &part[0][0], &part[0][HD], &part[0][HD + 1],
							 PS, PS },
				HD, nh);
			assert_memory_equal(max, want_max, nh * sizeof(float));
			assert_memory_equal(sum, want_sum, nh * sizeof(float));
			assert_memory_equal(acc, want_acc, nh * sizeof(acc[0]));
		}
	}
	assert_int_equal(sim_kernels_select(prev), 0);
}

static uint32_t check_case(const struct att_case *c,
			   void (*mutate)(struct sim_op *op), uint64_t *fa)
{
	struct sim_op op;
	uint32_t cause;

	make_attention(&op, c);
	if (mutate)
		mutate(&op);
	cause = ref_check_op(&sim_op_attention, &op, fa);
	free_op(&op);
	return cause;
}

static const struct att_case small = { 16, 4, 2, 2, 8, 6,
				       ANPU_DTYPE_F16, ANPU_DTYPE_F16, 0 };

static void test_attention_accepts_last_cache_row(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, NULL, &fa), 0);
}

static void pos_past_cache(struct sim_op *op)
{
	op->pos = 7;		/* 7 + 2 > 8 rows */
}

static void test_attention_rejects_pos_past_cache(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, pos_past_cache, &fa),
			 ANPU_CAUSE_STEP_PARAM);
	assert_int_equal(fa, 0x20000);
}

static void heads_not_multiple(struct sim_op *op)
{
	op->t[0].ne[1] = 3;
	op->t[3].ne[1] = 3;
}

static void test_attention_rejects_n_head_not_multiple_of_kv_heads(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, heads_not_multiple, &fa),
			 ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x10000);
}

static void kv_dim_not_multiple(struct sim_op *op)
{
	op->t[1].ne[0] = 40;
	op->t[2].ne[0] = 40;
}

static void test_attention_rejects_head_dim_mismatch(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, kv_dim_not_multiple, &fa),
			 ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
}

static void v_shape_differs(struct sim_op *op)
{
	op->t[2].ne[1] = 7;
}

static void test_attention_rejects_v_shape(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, v_shape_differs, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x30000);
}

static void reserved_set(struct sim_op *op)
{
	op->params.attention.reserved = 1;
}

static void test_attention_rejects_reserved_nonzero(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, reserved_set, &fa),
			 ANPU_CAUSE_RESERVED_NONZERO);
}

static void scale_nan(struct sim_op *op)
{
	op->params.attention.scale = NAN;
}

static void test_attention_rejects_nan_scale(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, scale_nan, &fa), ANPU_CAUSE_PARAM);
}

static void k_i32(struct sim_op *op)
{
	op->t[1].dtype = ANPU_DTYPE_I32;
}

static void test_attention_rejects_i32_cache(void **state)
{
	uint64_t fa;

	(void)state;
	assert_int_equal(check_case(&small, k_i32, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x20000);
}

/* ---- KV_STORE ---- */

static void make_kv_store(struct sim_op *op, uint32_t kv_dim, uint32_t m_rows,
			  uint32_t ctx, uint32_t dtype, uint32_t pos, uint32_t pad)
{
	const uint32_t src_ne[4] = { kv_dim, m_rows, 1, 1 };
	const uint32_t cache_ne[4] = { kv_dim, ctx, 1, 1 };

	memset(op, 0, sizeof(*op));
	op->opcode = ANPU_OP_KV_STORE;
	op->n_tensors = 2;
	op->pos = pos;
	assert_int_equal(ref_tensor_alloc(&op->t[0], ANPU_DTYPE_F32, src_ne, pad, 0x10000), 0);
	assert_int_equal(ref_tensor_alloc(&op->t[1], dtype, cache_ne, pad, 0x20000), 0);
}

static void check_kv_store(uint32_t dtype, uint32_t pad)
{
	const uint32_t kv_dim = 35, m_rows = 3, ctx = 10, pos = 6;
	struct sim_op op;
	float src[35 * 3], before[35 * 10], after[35 * 10];

	make_kv_store(&op, kv_dim, m_rows, ctx, dtype, pos, pad);
	ref_fill_uniform(src, kv_dim * m_rows, 7, -70000.0f, 70000.0f);
	src[4] = 1.0f + 1.0f / 2048.0f;		/* tie: rounds to even (1.0) */
	ref_fill_uniform(before, kv_dim * ctx, 8, -1.0f, 1.0f);
	ref_tensor_store(&op.t[0], src);
	ref_tensor_store(&op.t[1], before);
	ref_tensor_load(&op.t[1], before);
	assert_int_equal(ref_run_op(&sim_op_kv_store, &op, 2), 0);
	ref_tensor_load(&op.t[1], after);
	for (uint32_t r = 0; r < ctx; r++) {
		for (uint32_t i = 0; i < kv_dim; i++) {
			float got = after[r * kv_dim + i], want;

			if (r < pos || r >= pos + m_rows)
				want = before[r * kv_dim + i];
			else if (dtype == ANPU_DTYPE_F16)
				want = sim_f16_to_f32(sim_f32_to_f16(src[(r - pos) * kv_dim + i]));
			else
				want = src[(r - pos) * kv_dim + i];
			assert_memory_equal(&got, &want, 4);
		}
	}
	if (dtype == ANPU_DTYPE_F16)
		assert_true(after[pos * kv_dim + 4] == 1.0f);
	assert_true(ref_tensor_gaps_intact(&op.t[1]));
	free_op(&op);
}

static void test_kv_store_f32_cache_rows_at_pos(void **state)
{
	(void)state;
	check_kv_store(ANPU_DTYPE_F32, 0);
}

static void test_kv_store_f16_cache_rounds_nearest_even(void **state)
{
	(void)state;
	check_kv_store(ANPU_DTYPE_F16, 3);
}

/*
 * src inside the F32 or F16 cache it is stored to (the ISA leaves the values
 * undefined): the op completes, on 3 threads as on 1, and writes nothing
 * outside the cache (memcpy of overlapping bytes under ASan before).
 */
static void test_kv_store_overlapping_src_completes(void **state)
{
	const uint32_t dtypes[] = { ANPU_DTYPE_F32, ANPU_DTYPE_F16 };
	float *buf = malloc(4 * (64 * 200 + 64));

	(void)state;
	for (unsigned int d = 0; d < 2; d++) {
		for (unsigned int threads = 1; threads <= 3; threads += 2) {
			struct sim_op op;
			size_t cache_floats = dtypes[d] == ANPU_DTYPE_F32 ? 64 * 200 : 32 * 200;

			for (unsigned int i = 0; i < 64 * 200 + 64; i++)
				buf[i] = (float)i;
			memset(&op, 0, sizeof(op));
			op.opcode = ANPU_OP_KV_STORE;
			op.n_tensors = 2;
			op.pos = 3;
			/* F32: each src row 4 floats into the cache row it goes to */
			sim_tensor_dense(&op.t[0], ANPU_DTYPE_F32, 64, 150, 1, 1, buf + 228, 0x10000);
			sim_tensor_dense(&op.t[1], dtypes[d], 64, 200, 1, 1, buf + 32, 0x10000);
			assert_int_equal(ref_run_op(&sim_op_kv_store, &op, threads), 0);
			for (unsigned int i = 0; i < 32; i++)
				assert_true(buf[i] == (float)i);
			for (size_t i = 32 + cache_floats; i < 64 * 200 + 64; i++)
				if (i >= 228 + 64 * 150)	/* past src too: untouched */
					assert_true(buf[i] == (float)i);
		}
	}
	free(buf);
}

/*
 * Every path's F32 -> F16 gives sim_f32_to_f16()'s bits: ties to even, the
 * largest finite values and what rounds past them, subnormals and their
 * ties, zeros of both signs, infinities, and NaNs (payloads dropped), in a
 * length that ends in a partial vector.
 */
static void test_f32_to_f16_same_bits_on_every_path(void **state)
{
	static const char *const names[] = { "portable", "avx2", "avxvnni", "avx512" };
	static const uint32_t specials[] = {
		0x3f801000u, 0x3f803000u, 0x477fe000u, 0x477fefffu, 0x477ff000u, 0x47800000u,
		0x33800000u, 0x33000000u, 0x33000001u, 0x387fc000u, 0x38800000u, 0x387fe000u,
		0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
		0x7f800001u, 0x7fbfffffu, 0x00000001u, 0x80800000u, 0x4b000001u, 0xc77fe000u,
	};
	const uint32_t n = 1000 + 3;
	const char *prev = sim_kernels_get()->name;
	float src[1003];
	uint16_t want[1003], got[1003];

	(void)state;
	ref_fill_uniform(src, n, 11, -70000.0f, 70000.0f);
	for (uint32_t i = 0; i < 500; i++)
		src[i] *= 1e-9f;	/* subnormal halves */
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		memcpy(&src[7 * i + 3], &specials[i], 4);
		memcpy(&src[n - 1 - i], &specials[i], 4);
	}
	for (uint32_t i = 0; i < n; i++)
		want[i] = sim_f32_to_f16(src[i]);
	for (size_t p = 0; p < sizeof(names) / sizeof(names[0]); p++) {
		if (!sim_kernels_supported(names[p]))
			continue;
		assert_int_equal(sim_kernels_select(names[p]), 0);
		memset(got, 0, sizeof(got));
		sim_kernels_get()->f32_to_f16(got, src, n);
		assert_memory_equal(want, got, sizeof(want));
	}
	assert_int_equal(sim_kernels_select(prev), 0);
}

static void test_kv_store_rejects_pos_past_cache(void **state)
{
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_kv_store(&op, 8, 3, 10, ANPU_DTYPE_F16, 8, 0);
	assert_int_equal(ref_check_op(&sim_op_kv_store, &op, &fa),
			 ANPU_CAUSE_STEP_PARAM);
	assert_int_equal(fa, 0x20000);
	op.pos = 7;
	assert_int_equal(ref_check_op(&sim_op_kv_store, &op, &fa), 0);
	free_op(&op);
}

static void test_kv_store_rejects_row_length_mismatch(void **state)
{
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_kv_store(&op, 8, 3, 10, ANPU_DTYPE_F32, 0, 0);
	op.t[1].ne[0] = 9;
	assert_int_equal(ref_check_op(&sim_op_kv_store, &op, &fa), ANPU_CAUSE_SHAPE);
	assert_int_equal(fa, 0x20000);
	free_op(&op);
}

static void test_kv_store_rejects_bf16_cache(void **state)
{
	struct sim_op op;
	uint64_t fa;

	(void)state;
	make_kv_store(&op, 8, 3, 10, ANPU_DTYPE_F16, 0, 0);
	op.t[1].dtype = ANPU_DTYPE_BF16;
	assert_int_equal(ref_check_op(&sim_op_kv_store, &op, &fa), ANPU_CAUSE_DTYPE);
	assert_int_equal(fa, 0x20000);
	free_op(&op);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attention_decode_f32_cache_mha),
		cmocka_unit_test(test_attention_decode_f16_cache_gqa2),
		cmocka_unit_test(test_attention_prefill_causal_with_pos),
		cmocka_unit_test(test_attention_prefill_from_zero),
		cmocka_unit_test(test_attention_gqa7_mixed_cache_dtypes),
		cmocka_unit_test(test_attention_odd_head_dim_strided),
		cmocka_unit_test(test_attention_group_larger_than_task_batch),
		cmocka_unit_test(test_attention_decode_long_context_spans),
		cmocka_unit_test(test_attention_head_dim_256),
		cmocka_unit_test(test_attention_bit_identical_for_1_2_3_threads),
		cmocka_unit_test(test_attention_prefill_rows_match_rows_alone),
		cmocka_unit_test(test_attention_converts_every_f16_value_exactly),
		cmocka_unit_test(test_attention_every_path_gives_portable_bits),
		cmocka_unit_test(test_attention_scores_qt_is_att_scores),
		cmocka_unit_test(test_attention_exp_accuracy_and_lanes),
		cmocka_unit_test(test_attention_merge_matches_scalar),
		cmocka_unit_test(test_attention_accepts_last_cache_row),
		cmocka_unit_test(test_attention_rejects_pos_past_cache),
		cmocka_unit_test(test_attention_rejects_n_head_not_multiple_of_kv_heads),
		cmocka_unit_test(test_attention_rejects_head_dim_mismatch),
		cmocka_unit_test(test_attention_rejects_v_shape),
		cmocka_unit_test(test_attention_rejects_reserved_nonzero),
		cmocka_unit_test(test_attention_rejects_nan_scale),
		cmocka_unit_test(test_attention_rejects_i32_cache),
		cmocka_unit_test(test_kv_store_f32_cache_rows_at_pos),
		cmocka_unit_test(test_kv_store_f16_cache_rounds_nearest_even),
		cmocka_unit_test(test_kv_store_overlapping_src_completes),
		cmocka_unit_test(test_f32_to_f16_same_bits_on_every_path),
		cmocka_unit_test(test_kv_store_rejects_pos_past_cache),
		cmocka_unit_test(test_kv_store_rejects_row_length_mismatch),
		cmocka_unit_test(test_kv_store_rejects_bf16_cache),
	};

	return cmocka_run_group_tests_name("ops_attention", tests, NULL, NULL);
}
