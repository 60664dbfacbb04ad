/* SPDX-License-Identifier: MIT */
/* The sampler on hand-made logits: exact picks and exact distributions. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "anpurt.h"
#include "session/sampler.h"
#include "session/sampler_div.h"

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

/* A reference for the wide path: the sorted chain with libm's expf, in double. */
struct ref_cand {
	int32_t id;
	double logit, p;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* The kept ids (marked in @in) and their probabilities (@p by id) of the sorted chain. */
static size_t ref_dist(const float *logits, size_t n, float temp, float top_p, float min_p,
		       unsigned char *in, double *p)
{
	struct ref_cand *c = calloc(n, sizeof(*c));
	double sum = 0, cum = 0;
	size_t i, kept = n;

	assert_non_null(c);
	for (i = 0; i < n; i++)
		c[i] = (struct ref_cand){ .id = (int32_t)i, .logit = logits[i] / temp };
	qsort(c, n, sizeof(*c), ref_cmp);
	for (i = 0; i < n; i++)
		sum += c[i].p = exp(c[i].logit - c[0].logit);
	for (i = 0; i < n && top_p < 1.0f; i++) {
		cum += c[i].p / sum;
		if (cum >= top_p - 1e-6) {
			kept = i + 1;
			break;
		}
	}
	for (i = 1; i < kept && c[i].p >= min_p; i++)
		;
	kept = i;
	memset(in, 0, n);
	for (i = 0, sum = 0; i < kept; i++)
		sum += c[i].p;
	for (i = 0; i < kept; i++) {
		in[c[i].id] = 1;
		p[c[i].id] = c[i].p / sum;
	}
	free(c);
	return kept;
}

/*
 * A whole vocabulary without top-k (the O(n) path): the kept set is exactly
 * the sorted chain's (top-p away from a tie), each probability within 1e-5 of
 * it, bucket by bucket in descending order (buckets at most a factor 1.125 wide);
 * banned tokens never kept.
 */
static void test_wide_distribution_matches_the_sorted_chain(void **state)
{
	enum { N = 151936 };
	static float logits[N];
	static unsigned char in[N];
	static double ref_p[N];
	const float top_ps[] = { 0.95f, 0.5f, 1.0f, 0.9f };
	const float min_ps[] = { 0.0f, 0.0f, 0.0f, 0.05f };
	uint64_t rng = 42;

	(void)state;
	for (int i = 0; i < N; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		/* spread like a model's logits: a few high, a long tail */
		logits[i] = (float)((rng >> 40) % 100000) / 10000.0f;
		if (i % 1000 == 0)
			logits[i] += 6.0f;
	}
	logits[7] = -INFINITY;	/* banned */
	for (size_t t = 0; t < sizeof(top_ps) / sizeof(top_ps[0]); t++) {
		struct anpurt_sampler_params p = plain();
		struct anpurt_sampler *s;
		size_t n, want;
		double sum = 0;

		p.temperature = 0.8f;
		p.top_p = top_ps[t];
		p.min_p = min_ps[t];
		s = make(&p, N);
		n = sampler_dist(s, logits);
		want = ref_dist(logits, N, 0.8f, top_ps[t], min_ps[t], in, ref_p);
		if (top_ps[t] >= 1.0f)
			want--;		/* the sorted chain keeps the banned token at p = 0 */
		assert_int_equal(n, want);
		for (size_t i = 0; i < n; i++) {
			const struct sampler_cand *c = &s->cand[i];

			assert_true(in[c->id]);
			assert_int_not_equal(c->id, 7);
			assert_float_equal(c->p, ref_p[c->id], 1e-5 * ref_p[c->id] + 1e-12);
			sum += c->p;
			/* bucket by bucket: nothing later exceeds an earlier one by a bucket's width */
			if (i)
				assert_true(c->p <= c[-1].p * 1.125f);
		}
		assert_float_equal(sum, 1.0, 1e-4);
		anpurt_sampler_free(s);
	}
}

/*
 * The draw told where the maximum is (the NPU's ARGMAX) is the draw that
 * scans for it, token for token; a hint that is not a maximum (a stale one)
 * is caught by the exp pass and changes nothing either. Negative logits: the
 * padding of a vector tail must not count as above the maximum.
 */
static void test_wide_draw_with_the_maximum_given(void **state)
{
	enum { N = 151936 + 5, DRAWS = 64 };
	static float logits[N];
	uint64_t rng = 11;
	int32_t best = 0, worst = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		logits[i] = (float)((rng >> 40) % 100000) / 10000.0f - 20.0f;
		if (i % 997 == 0)
			logits[i] += 8.0f;
		best = logits[i] > logits[best] ? i : best;
		worst = logits[i] < logits[worst] ? i : worst;
	}
	logits[3] = NAN;
	logits[worst] = -150.0f;	/* exp(x / t - it) overflows: nothing would be right */
	for (int variant = 0; variant < 2; variant++) {
		struct anpurt_sampler_params p = plain();
		struct anpurt_sampler *scan, *told;

		p.temperature = 0.8f;
		p.top_p = 0.95f;
		scan = make(&p, N);
		told = make(&p, N);
		for (int d = 0; d < DRAWS; d++) {
			int32_t a = anpurt_sampler_sample(scan, logits);
			int32_t b = sampler_sample_at_max(told, logits, variant ? worst : best);

			assert_int_equal(a, b);
			assert_int_not_equal(a, 3);
		}
		anpurt_sampler_free(scan);
		anpurt_sampler_free(told);
	}
}

/*
 * The wide path divides by the temperature as a product and an FMA
 * correction (session/sampler_div.h): the same bits as the division for
 * random floats of every exponent and the special values, at temperatures
 * that include all-ones mantissas, the ends of the fast path's range and
 * beyond (all 2^32 floats were checked for 75 temperatures when it was
 * written, among them 40 random ones).
 */
__attribute__((target("avx512f"))) static void check_div_by(float by, const float *x, size_t n)
{
	const struct sampler_div div = sampler_div_make(by);

	for (size_t i = 0; i + 16 <= n; i += 16) {
		float q[16];

		_mm512_storeu_ps(q, sampler_div_by(_mm512_loadu_ps(x + i), &div));
		for (int l = 0; l < 16; l++) {
			const float want = x[i + l] / by;

			if (isnan(want))
				assert_true(isnan(q[l]));
			else
				assert_memory_equal(&q[l], &want, sizeof(want));
		}
	}
}

static void test_wide_division_is_the_division(void **state)
{
	enum { N = 1 << 20 };
	static float x[N];
	const float temps[] = { 0.8f, 0.7f, 1.0f, 0.1f, 1.5f, 0x1.fffffep-1f, 0x1.fffffep+0f,
				0x1.555556p-2f, 1e-30f, 1e30f, 2.7182817f, 0.013f, 0x1p-60f,
				0x1p60f, 0x1.000002p-60f, 0x1.fffffep59f, FLT_MAX, 1e-40f };
	const float special[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MIN, -FLT_MIN,
				  FLT_MAX, -FLT_MAX, 0x1p-149f, -0x1p-149f, 0x1.8p-149f,
				  3 * 0x1p-149f, 0x1p-126f, 0x1.fffffep-127f, 1.0f };
	uint64_t rng = 7;

	(void)state;
	if (!__builtin_cpu_supports("avx512f"))
		skip();
	for (size_t i = 0; i < N; i++) {
		uint32_t bits;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		bits = (uint32_t)(rng >> 32);
		memcpy(&x[i], &bits, sizeof(bits));
	}
	memcpy(x, special, sizeof(special));
	for (size_t t = 0; t < sizeof(temps) / sizeof(temps[0]); t++)
		check_div_by(temps[t], x, N);
}

/*
 * The wide path's draw (no list built) against its distribution: 4000
 * draws on 16384 logits (20 strong tokens and a long tail), the frequency of
 * each strong token and of the tail as a whole within 0.02 of
 * sampler_dist's probabilities, every drawn token in the kept set.
 */
static void test_wide_draws_follow_the_distribution(void **state)
{
	enum { N = 16384, DRAWS = 4000, STRIDE = 800 };
	static float logits[N];
	static double want[N];
	static unsigned int got[N];
	const float top_ps[] = { 0.95f, 1.0f };
	uint64_t rng = 7;

	(void)state;
	for (int i = 0; i < N; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		logits[i] = (float)((rng >> 40) % 30000) / 10000.0f;
	}
	for (int k = 0; k < 20; k++)
		logits[k * STRIDE + 3] = 9.0f + 0.1f * (float)k;
	for (size_t t = 0; t < sizeof(top_ps) / sizeof(top_ps[0]); t++) {
		struct anpurt_sampler_params p = plain();
		struct anpurt_sampler *s;
		double tail_want = 0, tail_got = 0;
		size_t n;

		p.top_p = top_ps[t];
		s = make(&p, N);
		memset(want, 0, sizeof(want));
		memset(got, 0, sizeof(got));
		n = sampler_dist(s, logits);
		for (size_t i = 0; i < n; i++)
			want[s->cand[i].id] = s->cand[i].p;
		for (int d = 0; d < DRAWS; d++) {
			int32_t tok = anpurt_sampler_sample(s, logits);

			assert_true(tok >= 0 && tok < N);
			assert_true(want[tok] > 0);
			got[tok]++;
		}
		for (int i = 0; i < N; i++) {
			if (i % STRIDE == 3 && i / STRIDE < 20) {
				assert_true(fabs(got[i] / (double)DRAWS - want[i]) < 0.02);
			} else {
				tail_want += want[i];
				tail_got += got[i] / (double)DRAWS;
			}
		}
		assert_true(fabs(tail_got - tail_want) < 0.02);
		if (top_ps[t] >= 1.0f)
			assert_true(tail_want > 0.02);	/* the tail is drawn from too */
		anpurt_sampler_free(s);
	}
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
		cmocka_unit_test(test_wide_distribution_matches_the_sorted_chain),
		cmocka_unit_test(test_wide_draws_follow_the_distribution),
		cmocka_unit_test(test_wide_division_is_the_division),
		cmocka_unit_test(test_wide_draw_with_the_maximum_given),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
