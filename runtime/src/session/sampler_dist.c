/* SPDX-License-Identifier: MIT */
/*
 * The sampling chain on the host: argmax for temperature <= 0, otherwise
 * temperature, top-k (a quickselect, so a 150k vocabulary is not fully sorted
 * each token), softmax, top-p, min-p and a draw from the sampler's generator.
 * More than SAMPLER_SORT_MAX candidates (no top-k) take sampler_wide.c's O(n) path.
 */
#include <math.h>
#include <stdlib.h>

#include "session/sampler.h"

/* Descending logit, then ascending id: a total order, so results are reproducible. */
static int cand_before(const struct sampler_cand *a, const struct sampler_cand *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cmp_cand(const void *a, const void *b)
{
	const struct sampler_cand *x = a, *y = b;

	return cand_before(x, y) ? -1 : cand_before(y, x) ? 1 : 0;
}

static void swap_cand(struct sampler_cand *a, struct sampler_cand *b)
{
	struct sampler_cand t = *a;

	*a = *b;
	*b = t;
}

/* Move the k best candidates of c[0..n) to c[0..k) (unordered). */
static void select_top(struct sampler_cand *c, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		size_t i = lo, j, mid = lo + (hi - lo) / 2;

		swap_cand(&c[mid], &c[hi]);
		for (j = lo; j < hi; j++)
			if (cand_before(&c[j], &c[hi]))
				swap_cand(&c[i++], &c[j]);
		swap_cand(&c[i], &c[hi]);
		if (i == k)
			return;
		if (i < k)
			lo = i + 1;
		else
			hi = i - 1;
	}
}

static int32_t argmax(const struct sampler_cand *c, size_t n)
{
	size_t i, best = 0;

	for (i = 1; i < n; i++)
		if (cand_before(&c[i], &c[best]))
			best = i;
	return c[best].id;
}

size_t sampler_dist(struct anpurt_sampler *s, const float *logits)
{
	const struct anpurt_sampler_params *p = &s->params;
	struct sampler_cand *c = s->cand;
	size_t i, n = s->n_vocab;
	double sum = 0.0, cum = 0.0;

	sampler_adjust(s, logits);
	for (i = 0; i < n; i++)
		c[i].logit /= p->temperature;
	if (p->top_k && p->top_k < n) {
		select_top(c, n, p->top_k);
		n = p->top_k;
	}
	if (n > SAMPLER_SORT_MAX)
		return sampler_dist_wide(s, n);
	qsort(c, n, sizeof(*c), cmp_cand);
	if (c[0].logit == -INFINITY) {	/* everything banned: the lowest id */
		c[0].p = 1.0f;
		return 1;
	}
	for (i = 0; i < n; i++) {
		c[i].p = expf(c[i].logit - c[0].logit);
		sum += c[i].p;
	}
	for (i = 0; i < n; i++)
		c[i].p = (float)(c[i].p / sum);
	if (p->top_p < 1.0f) {
		for (i = 0; i < n; i++) {
			cum += c[i].p;
			if (cum >= p->top_p - 1e-6) {	/* float sums fall just short */
				n = i + 1;
				break;
			}
		}
	}
	if (p->min_p > 0.0f) {
		float floor_p = p->min_p * c[0].p;

		for (i = 1; i < n && c[i].p >= floor_p; i++)
			;
		n = i;
	}
	for (i = 0, sum = 0.0; i < n; i++)
		sum += c[i].p;
	for (i = 0; i < n; i++)
		c[i].p = (float)(c[i].p / sum);
	return n;
}

int32_t anpurt_sampler_sample(struct anpurt_sampler *s, const float *logits)
{
	return sampler_sample_at_max(s, logits, -1);
}

int32_t sampler_sample_at_max(struct anpurt_sampler *s, const float *logits, int32_t max_id)
{
	size_t i, n;
	float u, cum = 0.0f;

	if (s->params.temperature <= 0.0f) {
		sampler_adjust(s, logits);
		return argmax(s->cand, s->n_vocab);
	}
	if (s->n_vocab > SAMPLER_SORT_MAX && (!s->params.top_k || s->params.top_k >= s->n_vocab))
		return sampler_draw_wide(s, logits, sampler_uniform(s), max_id);
	n = sampler_dist(s, logits);
	u = sampler_uniform(s);
	for (i = 0; i + 1 < n; i++) {
		cum += s->cand[i].p;
		if (u < cum)
			break;
	}
	return s->cand[i].id;
}
