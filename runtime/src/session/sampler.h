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
	struct sampler_cand *kept;		/* n_vocab: sampler_dist_wide's output (swapped with cand) */
	float *work;				/* 2 x n_vocab: sampler_dist_wide's logits, probabilities */
	uint16_t *bucket_id;			/* n_vocab: sampler_wide.c's bucket of each candidate */
	uint32_t *bucket_count;			/* SAMPLER_HISTS x SAMPLER_HIST_STRIDE: sampler_wide.c's histograms */
	double *bucket_mass;			/* SAMPLER_HISTS x SAMPLER_HIST_STRIDE */
	uint32_t *head;				/* SAMPLER_HEAD_MAX: sampler_wide.c's head candidates */
	int32_t *scratch;			/* penalty_last_n: the window, sorted */
};

/* Whether bias or penalties can change a logit (else adjusting is a plain copy). */
int sampler_adjusts_logits(const struct anpurt_sampler *s);
/* Bias and penalties applied to @logits into @x (n_vocab floats, by id). */
void sampler_adjust_logits(struct anpurt_sampler *s, const float *logits, float *x);
/* The same into s->cand[] (all n_vocab, in id order). */
void sampler_adjust(struct anpurt_sampler *s, const float *logits);
/*
 * The distribution the draw is made from, after temperature, top-k, top-p and
 * min-p: s->cand[0..n) sorted by probability (descending, ties by id), p
 * summing to 1 (beyond SAMPLER_SORT_MAX candidates: as sampler_dist_wide()
 * orders them). Only for temperature > 0.
 */
size_t sampler_dist(struct anpurt_sampler *s, const float *logits);
/*
 * Candidates beyond this many (a whole vocabulary without top-k) go through
 * sampler_dist_wide(): the same kept set, not fully sorted.
 */
#define SAMPLER_SORT_MAX	1024
/* sampler_dist_wide's probability buckets: the top 10 bits of a float in [0, 2) */
#define SAMPLER_BUCKETS		1024
/* sampler_wide.c's histogram copies (candidate i goes to copy i % SAMPLER_HISTS), their stride */
#define SAMPLER_HISTS		4
#define SAMPLER_HIST_STRIDE	(SAMPLER_BUCKETS + 24)
/* sampler_wide.c lists the head's candidates up to this many (more: it scans all) */
#define SAMPLER_HEAD_MAX	8192
/*
 * sampler_dist() for s->cand[0..n) (logits after temperature, n > SAMPLER_SORT_MAX)
 * in O(n): the top-p set exactly as a full sort gives it, then min-p, p > 0,
 * summing to 1, in s->cand[0..return) ordered by descending probability bucket
 * (at most a factor 1.125 wide), ids ascending within a bucket, the bucket the top-p
 * cut falls in sorted exactly.
 */
size_t sampler_dist_wide(struct anpurt_sampler *s, size_t n);
/*
 * anpurt_sampler_sample()'s draw with uniform @u, for a whole vocabulary
 * (n_vocab > SAMPLER_SORT_MAX, no top-k): the token a walk of
 * sampler_dist_wide()'s list would give (up to rounding at its boundaries),
 * without building the list. @max_id: as for sampler_sample_at_max().
 */
int32_t sampler_draw_wide(struct anpurt_sampler *s, const float *logits, float u,
			  int32_t max_id);
/*
 * anpurt_sampler_sample() where the caller knows @max_id, the index of a
 * largest logit (NaNs skipped, as the NPU's ARGMAX finds it), or -1: the
 * whole-vocabulary draw then skips its own pass for the maximum (a cold read
 * of every logit, ~a fifth of a sampled token's host time). The same token.
 */
int32_t sampler_sample_at_max(struct anpurt_sampler *s, const float *logits, int32_t max_id);
/* The next PCG32 output as a float in [0, 1). */
float sampler_uniform(struct anpurt_sampler *s);

#endif
