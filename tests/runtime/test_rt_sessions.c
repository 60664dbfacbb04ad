/* SPDX-License-Identifier: MIT */
/*
 * Sessions sharing one engine: four sessions run at once on four threads (at
 * different priorities, each its own libaccel context, KV cache and scratch)
 * give exactly what each gives alone: the same greedy tokens and the same
 * logits, bit for bit.
 */
#include <pthread.h>
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
#define N_PROMPT_MAX	20
#define N_GEN		16
#define N_VOCAB		48

struct job {
	struct anpurt_engine *engine;
	int index;
	int32_t tokens[N_GEN];
	float logits[N_VOCAB];
	int ret;
	char error[256];
};

/* Session @index: its own prompt (length, content), chunk size and priority. */
static void *run_job(void *arg)
{
	struct job *j = arg;
	struct anpurt_session_params sp = anpurt_session_default_params();
	int32_t prompt[N_PROMPT_MAX];
	uint32_t n = 5 + 5 * (uint32_t)j->index, i;
	struct anpurt_session *s;

	for (i = 0; i < n; i++)
		prompt[i] = (int32_t)((i * 7u + 3u * (uint32_t)j->index + 1u) % N_VOCAB);
	sp.n_ctx = 64;
	sp.prefill_chunk = 3 + (uint32_t)j->index;
	sp.priority = (enum anpurt_priority)(j->index % 4);
	sp.kv_type = j->index % 2 ? ANPURT_KV_F32 : ANPURT_KV_F16;
	j->ret = anpurt_session_create(j->engine, &sp, &s);
	if (!j->ret) {
		j->ret = anpurt_session_prefill(s, prompt, n, NULL);
		if (!j->ret)
			j->ret = anpurt_session_generate_greedy(s, N_GEN, j->tokens) == N_GEN ? 0 : -1;
		if (!j->ret)
			j->ret = anpurt_session_logits(s, j->logits, N_VOCAB);
		anpurt_session_free(s);
	}
	if (j->ret)
		snprintf(j->error, sizeof(j->error), "%s", anpurt_last_error());
	return NULL;
}

static void test_concurrent_sessions_match_alone(void **state)
{
	struct gb_model_spec spec = gb_model_spec_tiny("qwen3");
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct job alone[N_SESSIONS], together[N_SESSIONS];
	pthread_t th[N_SESSIONS];
	struct anpurt_engine *engine;
	struct anpurt_model *model;
	struct model_file f;
	int i, distinct = 0;

	(void)state;
	spec.n_vocab = N_VOCAB;
	model_file_make(&f, &spec, 7);
	if (anpurt_model_open(f.path, NULL, &model))
		fail_msg("%s", anpurt_last_error());
	ep.device = "sim";
	ep.n_sessions = N_SESSIONS;
	ep.n_ctx = 64;
	if (anpurt_engine_load(model, &ep, &engine))
		fail_msg("%s", anpurt_last_error());
	for (i = 0; i < N_SESSIONS; i++) {
		alone[i] = (struct job){ .engine = engine, .index = i };
		together[i] = alone[i];
		run_job(&alone[i]);
		if (alone[i].ret)
			fail_msg("session %d alone: %s", i, alone[i].error);
	}
	for (i = 0; i < N_SESSIONS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, run_job, &together[i]), 0);
	for (i = 0; i < N_SESSIONS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < N_SESSIONS; i++) {
		if (together[i].ret)
			fail_msg("session %d together: %s", i, together[i].error);
		assert_memory_equal(together[i].tokens, alone[i].tokens, sizeof(alone[i].tokens));
		assert_memory_equal(together[i].logits, alone[i].logits, sizeof(alone[i].logits));
	}
	/* the sessions really differ (else the comparison proves little) */
	for (i = 1; i < N_SESSIONS; i++)
		distinct += memcmp(alone[i].tokens, alone[0].tokens, sizeof(alone[0].tokens)) != 0;
	assert_true(distinct >= 1);
	anpurt_engine_free(engine);
	anpurt_model_free(model);
	model_file_remove(&f);
}

/*
 * A LOW-priority session prefills in chunks of 16 tokens by default (a
 * higher-priority job then waits for one short chunk at most), others of 128;
 * an explicit chunk wins; the tokens and logits are the same either way.
 */
static void test_low_priority_prefills_in_short_chunks(void **state)
{
	static const struct { enum anpurt_priority prio; uint32_t chunk, submits; } cases[] = {
		{ ANPURT_PRIORITY_NORMAL, 0, 1 },
		{ ANPURT_PRIORITY_LOW, 0, 3 },		/* 16 + 16 + 8 */
		{ ANPURT_PRIORITY_LOW, 64, 1 },
		{ ANPURT_PRIORITY_HIGH, 0, 1 },
	};
	struct gb_model_spec spec = gb_model_spec_tiny("qwen2");
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	float logits[N_VOCAB], first[N_VOCAB];
	struct anpurt_engine *engine;
	struct anpurt_model *model;
	int32_t prompt[40], next, first_next = -1;
	struct model_file f;

	(void)state;
	spec.n_vocab = N_VOCAB;
	model_file_make(&f, &spec, 3);
	if (anpurt_model_open(f.path, NULL, &model))
		fail_msg("%s", anpurt_last_error());
	ep.device = "sim";
	ep.n_ctx = 64;
	if (anpurt_engine_load(model, &ep, &engine))
		fail_msg("%s", anpurt_last_error());
	for (int i = 0; i < 40; i++)
		prompt[i] = (int32_t)((i * 11 + 5) % N_VOCAB);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct anpurt_session_params sp = anpurt_session_default_params();
		struct anpurt_session_stats st;
		struct anpurt_session *s;

		sp.n_ctx = 64;
		sp.priority = cases[c].prio;
		sp.prefill_chunk = cases[c].chunk;
		assert_int_equal(anpurt_session_create(engine, &sp, &s), 0);
		assert_int_equal(anpurt_session_prefill(s, prompt, 40, &next), 0);
		assert_int_equal(anpurt_session_stats(s, &st), 0);
		assert_int_equal(st.submits, cases[c].submits);
		assert_int_equal(anpurt_session_logits(s, logits, N_VOCAB), 0);
		if (c == 0) {
			memcpy(first, logits, sizeof(first));
			first_next = next;
		}
		assert_int_equal(next, first_next);
		assert_memory_equal(logits, first, sizeof(first));
		anpurt_session_free(s);
	}
	anpurt_engine_free(engine);
	anpurt_model_free(model);
	model_file_remove(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_sessions_match_alone),
		cmocka_unit_test(test_low_priority_prefills_in_short_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
