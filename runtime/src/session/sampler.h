/* SPDX-License-Identifier: MIT */
/* The sampler behind struct anpurt_sampler: parameters, penalty history, generator, scratch. */
#ifndef RT_SAMPLER_H
#define RT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "anpurt.h"

struct sampler_cand {
	int32_t id;
	float logit;	/* after bias and penalties (and temperature in sampler_dist) */
	float p;
};

struct anpurt_sampler {
	struct anpurt_sampler_params params;	/* params.bias points at @bias */
	struct anpurt_logit_bias *bias;
	uint32_t n_vocab;
	int32_t *hist;				/* ring of the last penalty_last_n tokens */
	uint32_t hist_len, hist_head;
	uint64_t rng_state, rng_inc;		/* PCG32 */
	struct sampler_cand *cand;		/* n_vocab */
	int32_t *scratch;			/* penalty_last_n: the window, sorted */
};

/* Bias and penalties applied to @logits into s->cand[] (all n_vocab, in id order). */
void sampler_adjust(struct anpurt_sampler *s, const float *logits);
/*
 * The distribution the draw is made from, after temperature, top-k, top-p and
 * min-p: s->cand[0..n) sorted by probability (descending, ties by id), p
 * summing to 1. Only for temperature > 0.
 */
size_t sampler_dist(struct anpurt_sampler *s, const float *logits);
/* The next PCG32 output as a float in [0, 1). */
float sampler_uniform(struct anpurt_sampler *s);

#endif
