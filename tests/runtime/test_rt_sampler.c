/* SPDX-License-Identifier: MIT */
/* The sampler on hand-made logits: exact picks and exact distributions. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "anpurt.h"
#include "session/sampler.h"

static struct anpurt_sampler *make(const struct anpurt_sampler_params *p, uint32_t n_vocab)
{
	struct anpurt_sampler *s;

	assert_int_equal(anpurt_sampler_create(p, n_vocab, &s), 0);
	return s;
}

/* temperature 1, every filter off */
static struct anpurt_sampler_params plain(void)
{
	struct anpurt_sampler_params p = anpurt_sampler_default_params();

	p.temperature = 1.0f;
	p.top_k = 0;
	p.top_p = 1.0f;
	p.min_p = 0.0f;
	return p;
}

static void test_greedy_takes_argmax_lowest_id_on_ties(void **state)
{
	const float logits[5] = { 0.5f, 3.0f, -1.0f, 3.0f, 2.9f };
	struct anpurt_sampler_params p = anpurt_sampler_greedy_params();
	struct anpurt_sampler *s = make(&p, 5);

	(void)state;
	assert_true(anpurt_sampler_is_greedy(s));
	assert_int_equal(anpurt_sampler_sample(s, logits), 1);
	anpurt_sampler_free(s);
	/* defaults sample; a penalty or a bias needs the logits even at temperature 0 */
	s = make(NULL, 5);
	assert_false(anpurt_sampler_is_greedy(s));
	anpurt_sampler_free(s);
	p.repeat_penalty = 1.1f;
	s = make(&p, 5);
	assert_false(anpurt_sampler_is_greedy(s));
	anpurt_sampler_free(s);
}

static void test_softmax_with_temperature_is_exact(void **state)
{
	/* logits ln(1..4): probabilities 0.4 0.3 0.2 0.1; at temperature 0.5 squared: /30 */
	const float logits[4] = { logf(1), logf(2), logf(3), logf(4) };
	struct anpurt_sampler_params p = plain();
	struct anpurt_sampler *s = make(&p, 4);
	size_t n;

	(void)state;
	n = sampler_dist(s, logits);
	assert_int_equal(n, 4);
	assert_int_equal(s->cand[0].id, 3);
	assert_int_equal(s->cand[3].id, 0);
	assert_float_equal(s->cand[0].p, 0.4f, 1e-6f);
	assert_float_equal(s->cand[1].p, 0.3f, 1e-6f);
	assert_float_equal(s->cand[3].p, 0.1f, 1e-6f);
	anpurt_sampler_free(s);
	p.temperature = 0.5f;
	s = make(&p, 4);
	n = sampler_dist(s, logits);
	assert_float_equal(s->cand[0].p, 16.0f / 30.0f, 1e-6f);
	assert_float_equal(s->cand[3].p, 1.0f / 30.0f, 1e-6f);
	anpurt_sampler_free(s);
}

static void test_top_k_top_p_min_p_cut_and_renormalise(void **state)
{
	/* probabilities 0.5 0.3 0.15 0.05 (ids 2 0 1 3) */
	const float logits[4] = { logf(0.3f), logf(0.15f), logf(0.5f), logf(0.05f) };
	struct anpurt_sampler_params p = plain();
	struct anpurt_sampler *s;

	(void)state;
	p.top_k = 3;
	s = make(&p, 4);
	assert_int_equal(sampler_dist(s, logits), 3);
	assert_int_equal(s->cand[0].id, 2);
	assert_int_equal(s->cand[1].id, 0);
	assert_int_equal(s->cand[2].id, 1);
	assert_float_equal(s->cand[0].p, 0.5f / 0.95f, 1e-6f);
	anpurt_sampler_free(s);

	p = plain();
	p.top_p = 0.8f;		/* 0.5 + 0.3 reaches it */
	s = make(&p, 4);
	assert_int_equal(sampler_dist(s, logits), 2);
	assert_float_equal(s->cand[0].p, 0.625f, 1e-6f);
	assert_float_equal(s->cand[1].p, 0.375f, 1e-6f);
	anpurt_sampler_free(s);

	p = plain();
	p.min_p = 0.25f;	/* keeps p >= 0.125 */
	s = make(&p, 4);
	assert_int_equal(sampler_dist(s, logits), 3);
	assert_float_equal(s->cand[2].p, 0.15f / 0.95f, 1e-6f);
	anpurt_sampler_free(s);
}

static void test_penalties_over_last_n_tokens(void **state)
{
	const float logits[4] = { 2.0f, 1.9f, -1.0f, 1.0f };
	struct anpurt_sampler_params p = anpurt_sampler_greedy_params();
	struct anpurt_sampler *s;

	(void)state;
	p.repeat_penalty = 1.5f;
	p.penalty_last_n = 2;
	s = make(&p, 4);
	assert_int_equal(anpurt_sampler_sample(s, logits), 0);
	anpurt_sampler_accept(s, 0);		/* 2.0 / 1.5 = 1.33 < 1.9 */
	assert_int_equal(anpurt_sampler_sample(s, logits), 1);
	assert_float_equal(s->cand[0].logit, 2.0f / 1.5f, 1e-6f);
	anpurt_sampler_accept(s, 2);
	assert_float_equal((sampler_adjust(s, logits), s->cand[2].logit), -1.5f, 1e-6f);
	anpurt_sampler_accept(s, 3);		/* token 0 leaves the window of 2 */
	assert_int_equal(anpurt_sampler_sample(s, logits), 0);
	anpurt_sampler_free(s);

	p = anpurt_sampler_greedy_params();
	p.frequency_penalty = 0.5f;
	p.presence_penalty = 0.25f;
	s = make(&p, 4);
	anpurt_sampler_accept(s, 0);
	anpurt_sampler_accept(s, 0);
	anpurt_sampler_accept(s, 3);
	sampler_adjust(s, logits);
	assert_float_equal(s->cand[0].logit, 2.0f - 1.0f - 0.25f, 1e-6f);
	assert_float_equal(s->cand[3].logit, 1.0f - 0.5f - 0.25f, 1e-6f);
	assert_float_equal(s->cand[1].logit, 1.9f, 1e-6f);
	assert_int_equal(anpurt_sampler_sample(s, logits), 1);
	anpurt_sampler_reset(s);		/* history forgotten */
	assert_int_equal(anpurt_sampler_sample(s, logits), 0);
	anpurt_sampler_free(s);
}

static void test_logit_bias_and_bans(void **state)
{
	const float logits[3] = { 5.0f, 1.0f, 0.0f };
	const struct anpurt_logit_bias bias[2] = { { 0, -INFINITY }, { 2, 1.5f } };
	struct anpurt_sampler_params p = plain();
	struct anpurt_sampler *s;
	int i;

	(void)state;
	p.bias = bias;
	p.n_bias = 2;
	s = make(&p, 3);
	assert_false(anpurt_sampler_is_greedy(s));
	for (i = 0; i < 200; i++)
		assert_int_not_equal(anpurt_sampler_sample(s, logits), 0);
	anpurt_sampler_free(s);
	p.temperature = 0.0f;
	s = make(&p, 3);
	assert_int_equal(anpurt_sampler_sample(s, logits), 2);	/* 0 + 1.5 > 1 */
	anpurt_sampler_free(s);
	p.bias = (const struct anpurt_logit_bias[]){ { 3, 1.0f } };
	p.n_bias = 1;
	assert_int_equal(anpurt_sampler_create(&p, 3, &s), -EINVAL);
	assert_null(s);
}

static void test_same_seed_same_tokens_and_frequencies(void **state)
{
	const float logits[4] = { logf(1), logf(2), logf(3), logf(4) };
	struct anpurt_sampler_params p = plain();
	struct anpurt_sampler *a, *b, *c;
	int i, count[4] = { 0 }, differ = 0;

	(void)state;
	p.seed = 42;
	a = make(&p, 4);
	b = make(&p, 4);
	p.seed = 43;
	c = make(&p, 4);
	for (i = 0; i < 40000; i++) {
		int32_t t = anpurt_sampler_sample(a, logits);

		assert_int_equal(t, anpurt_sampler_sample(b, logits));
		differ += t != anpurt_sampler_sample(c, logits);
		count[t]++;
	}
	assert_true(differ > 1000);
	for (i = 0; i < 4; i++)		/* p = (i+1)/10 within 4 standard deviations */
		assert_true(fabs(count[i] / 40000.0 - (i + 1) / 10.0) < 0.01);
	anpurt_sampler_reset(a);
	anpurt_sampler_reset(b);
	p.seed = 42;
	for (i = 0; i < 10; i++)
		assert_int_equal(anpurt_sampler_sample(a, logits), anpurt_sampler_sample(b, logits));
	anpurt_sampler_free(a);
	anpurt_sampler_free(b);
	anpurt_sampler_free(c);
}

static void test_top_k_selection_on_a_large_vocabulary(void **state)
{
	enum { N = 5000 };
	static float logits[N];
	struct anpurt_sampler_params p = plain();
	struct anpurt_sampler *s;
	int i;

	(void)state;
	for (i = 0; i < N; i++)	/* a permutation of 0..N-1 */
		logits[i] = (float)((i * 7919) % N);
	p.top_k = 5;
	s = make(&p, N);
	assert_int_equal(sampler_dist(s, logits), 5);
	for (i = 0; i < 5; i++)
		assert_float_equal(s->cand[i].logit, (float)(N - 1 - i), 0.0f);
	anpurt_sampler_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greedy_takes_argmax_lowest_id_on_ties),
		cmocka_unit_test(test_softmax_with_temperature_is_exact),
		cmocka_unit_test(test_top_k_top_p_min_p_cut_and_renormalise),
		cmocka_unit_test(test_penalties_over_last_n_tokens),
		cmocka_unit_test(test_logit_bias_and_bans),
		cmocka_unit_test(test_same_seed_same_tokens_and_frequencies),
		cmocka_unit_test(test_top_k_selection_on_a_large_vocabulary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
