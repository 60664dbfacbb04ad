/* SPDX-License-Identifier: MIT */
/*
 * Batched decoding (anpurt_batch_*): sessions stepped together in one NPU job
 * give exactly what each gives alone, the same greedy tokens and the same
 * logits bit for bit, whatever their positions, KV cache types and the order
 * of the batch; bad batches and steps are refused with nothing changed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "anpurt.h"
#include "lib_model_file.h"

#define N_SESSIONS	4
#define N_PROMPT_MAX	24
#define N_GEN		12
#define N_VOCAB		48
#define N_CTX		64

struct fixture {
	struct model_file f;
	struct anpurt_model *model;
	struct anpurt_engine *engine;
};

static void open_engine(struct fixture *fx, const char *arch, uint32_t weight_type)
{
	struct gb_model_spec spec = gb_model_spec_tiny(arch);
	struct anpurt_engine_params ep = anpurt_engine_default_params();

	spec.n_vocab = N_VOCAB;
	if (weight_type)
		spec.weight_type = weight_type;
	model_file_make(&fx->f, &spec, 11);
	if (anpurt_model_open(fx->f.path, NULL, &fx->model))
		fail_msg("%s", anpurt_last_error());
	ep.device = "sim";
	ep.n_sessions = 2 * N_SESSIONS;
	ep.n_ctx = N_CTX;
	if (anpurt_engine_load(fx->model, &ep, &fx->engine))
		fail_msg("%s", anpurt_last_error());
}

static void close_engine(struct fixture *fx)
{
	anpurt_engine_free(fx->engine);
	anpurt_model_free(fx->model);
	model_file_remove(&fx->f);
}

/* Session @i: its own prompt length and content, KV type and chunk; prefilled. */
static struct anpurt_session *prefilled(struct fixture *fx, int i,
					enum anpurt_priority priority)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	uint32_t n = 3 + 6 * (uint32_t)i;
	int32_t prompt[N_PROMPT_MAX];
	struct anpurt_session *s;

	for (uint32_t k = 0; k < n; k++)
		prompt[k] = (int32_t)((k * 5u + 7u * (uint32_t)i + 2u) % N_VOCAB);
	sp.n_ctx = N_CTX;
	sp.kv_type = i % 2 ? ANPURT_KV_F32 : ANPURT_KV_F16;
	sp.prefill_chunk = 4;
	sp.priority = priority;
	if (anpurt_session_create(fx->engine, &sp, &s) || anpurt_session_prefill(s, prompt, n, NULL))
		fail_msg("session %d: %s", i, anpurt_last_error());
	return s;
}

/* The tokens and last logits of session @i decoding alone. */
static void alone(struct fixture *fx, int i, int32_t *tokens, float *logits)
{
	struct anpurt_session *s = prefilled(fx, i, ANPURT_PRIORITY_NORMAL);

	if (anpurt_session_generate_greedy(s, N_GEN, tokens) != N_GEN ||
	    anpurt_session_logits(s, logits, N_VOCAB))
		fail_msg("session %d alone: %s", i, anpurt_last_error());
	anpurt_session_free(s);
}

/* @n sessions (2..N_SESSIONS) stepped as a batch, in two orders */
static void batch_matches_alone(const char *arch, uint32_t weight_type, int n)
{
	const int orders[2][N_SESSIONS] = {
		{ 0, 1, 2, 3 }, { n > 2 ? 2 : 1, 0, n > 3 ? 3 : 1, 1 },
	};
	int32_t want[N_SESSIONS][N_GEN], got[N_SESSIONS][N_GEN], next[N_SESSIONS];
	float want_l[N_SESSIONS][N_VOCAB], got_l[N_VOCAB];
	struct fixture fx;
	int distinct = 0;

	open_engine(&fx, arch, weight_type);
	for (int i = 0; i < n; i++)
		alone(&fx, i, want[i], want_l[i]);
	for (int o = 0; o < 2; o++) {
		struct anpurt_session *s[N_SESSIONS];
		struct anpurt_batch *b;

		for (int r = 0; r < n; r++)
			s[r] = prefilled(&fx, orders[o][r], ANPURT_PRIORITY_NORMAL);
		if (anpurt_batch_create(s, n, &b))
			fail_msg("%s", anpurt_last_error());
		for (int t = 0; t < N_GEN; t++) {
			if (anpurt_batch_step(b, next))
				fail_msg("step %d: %s", t, anpurt_last_error());
			for (int r = 0; r < n; r++)
				got[orders[o][r]][t] = next[r];
		}
		for (int r = 0; r < n; r++) {
			int i = orders[o][r];

			assert_memory_equal(got[i], want[i], sizeof(want[i]));
			assert_int_equal(anpurt_session_logits(s[r], got_l, N_VOCAB), 0);
			assert_memory_equal(got_l, want_l[i], sizeof(got_l));
			assert_int_equal(anpurt_session_position(s[r]), 3 + 6 * i + N_GEN);
		}
		anpurt_batch_free(b);
		for (int r = 0; r < n; r++)
			anpurt_session_free(s[r]);
	}
	/* the sessions really differ (else the comparison proves little) */
	for (int i = 1; i < n; i++)
		distinct += memcmp(want[i], want[0], sizeof(want[0])) != 0;
	assert_true(distinct >= 1);
	close_engine(&fx);
}

static void test_batch_matches_alone_qwen2(void **state)
{
	(void)state;
	batch_matches_alone("qwen2", 0, N_SESSIONS);
}

/* qwen3 (q/k norms) with Q5_0 weights (ggml type 6): another MATMUL kernel's rows */
static void test_batch_matches_alone_qwen3_q5_0(void **state)
{
	(void)state;
	batch_matches_alone("qwen3", 6, N_SESSIONS);
}

/*
 * Batches of 2 and 3 sessions of Q4_0, Q5_0 and Q8_0 weights: the MATMULs'
 * rows in the lane form (dot_lanes on AVX-512; Q8_0's batches of 4 too, as
 * in the qwen2 test above), whose bits must still be each row's alone.
 */
static void test_batch_of_2_and_3_matches_alone(void **state)
{
	(void)state;
	batch_matches_alone("qwen2", 2, 2);
	batch_matches_alone("qwen2", 2, 3);
	batch_matches_alone("qwen3", 6, 3);
	batch_matches_alone("qwen2", 8, 2);
}

/* llama with F16 weights (ggml type 1) */
static void test_batch_matches_alone_llama_f16(void **state)
{
	(void)state;
	batch_matches_alone("llama", 1, N_SESSIONS);
}

/*
 * A session of a batch also runs alone between steps (teacher forcing a
 * token), and the batch goes on from there as that session alone would.
 */
static void test_batch_session_used_alone_between_steps(void **state)
{
	int32_t next[2], want[3], got[3];
	struct anpurt_session *s[2], *ref;
	struct anpurt_batch *b;
	struct fixture fx;

	(void)state;
	open_engine(&fx, "qwen2", 0);
	ref = prefilled(&fx, 1, ANPURT_PRIORITY_NORMAL);
	assert_int_equal(anpurt_session_generate_greedy(ref, 1, &want[0]), 1);
	assert_int_equal(anpurt_session_decode(ref, 5, &want[1]), 0);
	assert_int_equal(anpurt_session_generate_greedy(ref, 1, &want[2]), 1);
	s[0] = prefilled(&fx, 0, ANPURT_PRIORITY_NORMAL);
	s[1] = prefilled(&fx, 1, ANPURT_PRIORITY_NORMAL);
	assert_int_equal(anpurt_batch_create(s, 2, &b), 0);
	assert_int_equal(anpurt_batch_step(b, next), 0);
	got[0] = next[1];
	assert_int_equal(anpurt_session_decode(s[1], 5, &got[1]), 0);
	assert_int_equal(anpurt_batch_step(b, next), 0);
	got[2] = next[1];
	assert_memory_equal(got, want, sizeof(want));
	anpurt_batch_free(b);
	anpurt_session_free(s[0]);
	anpurt_session_free(s[1]);
	anpurt_session_free(ref);
	close_engine(&fx);
}

static void test_batch_refuses_bad_batches_and_steps(void **state)
{
	struct anpurt_session *s[ANPURT_BATCH_MAX + 1] = { 0 }, *fresh, *hi;
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_batch *b = (struct anpurt_batch *)&b;
	int32_t next[2] = { -1, -1 }, tok;
	struct fixture fx;

	(void)state;
	open_engine(&fx, "qwen2", 0);
	s[0] = prefilled(&fx, 0, ANPURT_PRIORITY_NORMAL);
	s[1] = s[0];
	assert_int_equal(anpurt_batch_create(s, 0, &b), -EINVAL);
	assert_null(b);
	assert_int_equal(anpurt_batch_create(s, ANPURT_BATCH_MAX + 1, &b), -EINVAL);
	assert_int_equal(anpurt_batch_create(s, 2, &b), -EINVAL);	/* twice */
	assert_non_null(strstr(anpurt_last_error(), "the same"));
	hi = prefilled(&fx, 1, ANPURT_PRIORITY_HIGH);
	s[1] = hi;
	assert_int_equal(anpurt_batch_create(s, 2, &b), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "priorities"));
	/* a session that has run no position: refused, nothing runs */
	sp.n_ctx = N_CTX;
	assert_int_equal(anpurt_session_create(fx.engine, &sp, &fresh), 0);
	s[1] = fresh;
	assert_int_equal(anpurt_batch_create(s, 2, &b), 0);
	assert_int_equal(anpurt_batch_step(b, next), -ENODATA);
	assert_non_null(strstr(anpurt_last_error(), "session 1"));
	assert_int_equal(anpurt_session_position(s[0]), 3);
	assert_int_equal(next[0], -1);
	/* once it has, the batch steps both */
	assert_int_equal(anpurt_session_decode(fresh, 1, &tok), 0);
	assert_int_equal(anpurt_batch_step(b, next), 0);
	assert_int_equal(anpurt_session_position(s[0]), 4);
	assert_int_equal(anpurt_session_position(fresh), 2);
	anpurt_batch_free(b);
	anpurt_batch_free(NULL);
	anpurt_session_free(fresh);
	anpurt_session_free(hi);
	anpurt_session_free(s[0]);
	close_engine(&fx);
}

/* A full context: -ENOSPC before anything runs. */
static void test_batch_step_at_full_context(void **state)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	int32_t prompt[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, next[2] = { -1, -1 };
	struct anpurt_session *s[2];
	struct anpurt_batch *b;
	struct fixture fx;

	(void)state;
	open_engine(&fx, "qwen2", 0);
	s[0] = prefilled(&fx, 0, ANPURT_PRIORITY_NORMAL);
	sp.n_ctx = 8;
	assert_int_equal(anpurt_session_create(fx.engine, &sp, &s[1]), 0);
	assert_int_equal(anpurt_session_prefill(s[1], prompt, 8, NULL), 0);
	assert_int_equal(anpurt_batch_create(s, 2, &b), 0);
	assert_int_equal(anpurt_batch_step(b, next), -ENOSPC);
	assert_int_equal(anpurt_session_position(s[0]), 3);
	assert_int_equal(next[0], -1);
	anpurt_batch_free(b);
	anpurt_session_free(s[0]);
	anpurt_session_free(s[1]);
	close_engine(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_matches_alone_qwen2),
		cmocka_unit_test(test_batch_matches_alone_qwen3_q5_0),
		cmocka_unit_test(test_batch_matches_alone_llama_f16),
		cmocka_unit_test(test_batch_of_2_and_3_matches_alone),
		cmocka_unit_test(test_batch_session_used_alone_between_steps),
		cmocka_unit_test(test_batch_refuses_bad_batches_and_steps),
		cmocka_unit_test(test_batch_step_at_full_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
