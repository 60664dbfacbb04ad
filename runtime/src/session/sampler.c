/* SPDX-License-Identifier: MIT */
/*
 * Sampler objects: parameters, the penalty history (a ring of the last
 * penalty_last_n tokens) and a PCG32 generator per sampler, so that two
 * samplers with one seed give the same tokens whatever else runs.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "session/sampler.h"

struct anpurt_sampler_params anpurt_sampler_default_params(void)
{
	return (struct anpurt_sampler_params){
		.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
		.repeat_penalty = 1.0f, .penalty_last_n = 64, .seed = 0x5eed,
	};
}

struct anpurt_sampler_params anpurt_sampler_greedy_params(void)
{
	struct anpurt_sampler_params p = anpurt_sampler_default_params();

	p.temperature = 0.0f;
	return p;
}

/* PCG32 (O'Neill, XSH RR): 64-bit state, odd increment derived from the seed. */
static uint32_t pcg32_next(struct anpurt_sampler *s)
{
	uint64_t old = s->rng_state;
	uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
	uint32_t rot = (uint32_t)(old >> 59u);

	s->rng_state = old * 6364136223846793005ull + s->rng_inc;
	return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

float sampler_uniform(struct anpurt_sampler *s)
{
	return (float)(pcg32_next(s) >> 8) * (1.0f / 16777216.0f);
}

void anpurt_sampler_reset(struct anpurt_sampler *s)
{
	s->hist_len = 0;
	s->hist_head = 0;
	s->rng_state = 0;
	s->rng_inc = (s->params.seed << 1) | 1u;
	pcg32_next(s);
	s->rng_state += s->params.seed ^ 0x853c49e6748fea9bull;
	pcg32_next(s);
}

static int check_params(const struct anpurt_sampler_params *p, uint32_t n_vocab)
{
	size_t i;

	if (n_vocab == 0)
		return rt_error(-EINVAL, "sampler for an empty vocabulary");
	if (isnan(p->temperature) || isnan(p->top_p) || isnan(p->min_p) ||
	    !(p->repeat_penalty > 0.0f) || !isfinite(p->presence_penalty) ||
	    !isfinite(p->frequency_penalty))
		return rt_error(-EINVAL, "sampler: a parameter is NaN or the repeat penalty is not > 0");
	if (p->n_bias && !p->bias)
		return rt_error(-EINVAL, "sampler: %zu logit biases but no array", p->n_bias);
	for (i = 0; i < p->n_bias; i++)
		if (p->bias[i].token < 0 || (uint32_t)p->bias[i].token >= n_vocab ||
		    isnan(p->bias[i].bias))
			return rt_error(-EINVAL, "sampler: logit bias %zu (token %d) is invalid",
					i, p->bias[i].token);
	return 0;
}

int anpurt_sampler_create(const struct anpurt_sampler_params *params, uint32_t n_vocab,
			  struct anpurt_sampler **sampler)
{
	struct anpurt_sampler_params p = params ? *params : anpurt_sampler_default_params();
	struct anpurt_sampler *s;
	int ret = check_params(&p, n_vocab);

	*sampler = NULL;
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return rt_error(-ENOMEM, "sampler: out of memory");
	s->n_vocab = n_vocab;
	s->cand = malloc((size_t)n_vocab * sizeof(*s->cand));
	s->kept = malloc((size_t)n_vocab * sizeof(*s->kept));
	s->work = malloc((size_t)n_vocab * 2 * sizeof(*s->work));
	s->bucket_id = malloc((size_t)n_vocab * sizeof(*s->bucket_id));
	s->bucket_count = malloc(SAMPLER_HISTS * SAMPLER_HIST_STRIDE * sizeof(*s->bucket_count));
	s->bucket_mass = malloc(SAMPLER_HISTS * SAMPLER_HIST_STRIDE * sizeof(*s->bucket_mass));
	s->head = malloc(SAMPLER_HEAD_MAX * sizeof(*s->head));
	s->hist = malloc(((size_t)p.penalty_last_n + 1) * sizeof(*s->hist));
	s->scratch = malloc(((size_t)p.penalty_last_n + 1) * sizeof(*s->scratch));
	s->bias = malloc((p.n_bias + 1) * sizeof(*s->bias));
	if (!s->cand || !s->kept || !s->work || !s->bucket_id || !s->bucket_count ||
	    !s->bucket_mass || !s->head || !s->hist ||
	    !s->scratch || !s->bias) {
		anpurt_sampler_free(s);
		return rt_error(-ENOMEM, "sampler: out of memory for %u candidates", n_vocab);
	}
	if (p.n_bias)
		memcpy(s->bias, p.bias, p.n_bias * sizeof(*s->bias));
	p.bias = s->bias;
	s->params = p;
	anpurt_sampler_reset(s);
	*sampler = s;
	rt_error_clear();
	return 0;
}

void anpurt_sampler_free(struct anpurt_sampler *s)
{
	if (!s)
		return;
	free(s->cand);
	free(s->kept);
	free(s->work);
	free(s->bucket_id);
	free(s->bucket_count);
	free(s->bucket_mass);
	free(s->head);
	free(s->hist);
	free(s->scratch);
	free(s->bias);
	free(s);
}

int sampler_adjusts_logits(const struct anpurt_sampler *s)
{
	const struct anpurt_sampler_params *p = &s->params;

	/* penalise() with these is x / 1 or x * 1, minus 0: x itself */
	return p->n_bias != 0 ||
	       (p->penalty_last_n != 0 &&
		(p->repeat_penalty != 1.0f || p->presence_penalty != 0.0f ||
		 p->frequency_penalty != 0.0f));
}

int anpurt_sampler_is_greedy(const struct anpurt_sampler *s)
{
	return s->params.temperature <= 0.0f && !sampler_adjusts_logits(s);
}

void anpurt_sampler_accept(struct anpurt_sampler *s, int32_t token)
{
	uint32_t n = s->params.penalty_last_n;

	if (n == 0)
		return;
	s->hist[s->hist_head] = token;
	s->hist_head = (s->hist_head + 1) % n;
	if (s->hist_len < n)
		s->hist_len++;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static float penalise(const struct anpurt_sampler_params *p, float logit, uint32_t count)
{
	logit = logit > 0.0f ? logit / p->repeat_penalty : logit * p->repeat_penalty;
	return logit - (float)count * p->frequency_penalty - p->presence_penalty;
}

void sampler_adjust_logits(struct anpurt_sampler *s, const float *logits, float *x)
{
	uint32_t i, j, n = s->hist_len;
	size_t b;

	memcpy(x, logits, (size_t)s->n_vocab * sizeof(*x));
	for (b = 0; b < s->params.n_bias; b++)
		x[s->bias[b].token] += s->bias[b].bias;
	/* each distinct token of the window once, with its count */
	memcpy(s->scratch, s->hist, (size_t)n * sizeof(*s->scratch));
	qsort(s->scratch, n, sizeof(*s->scratch), cmp_i32);
	for (i = 0; i < n; i = j) {
		int32_t t = s->scratch[i];

		for (j = i + 1; j < n && s->scratch[j] == t; j++)
			;
		if (t >= 0 && (uint32_t)t < s->n_vocab)
			x[t] = penalise(&s->params, x[t], j - i);
	}
}

void sampler_adjust(struct anpurt_sampler *s, const float *logits)
{
	sampler_adjust_logits(s, logits, s->work);
	for (uint32_t i = 0; i < s->n_vocab; i++)
		s->cand[i] = (struct sampler_cand){ .id = (int32_t)i, .logit = s->work[i] };
}
