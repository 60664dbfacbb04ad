/* SPDX-License-Identifier: MIT */
/*
 * The sampling distribution over many candidates (a whole 150k vocabulary,
 * no top-k) without sorting them: a full sort costs ~25 ms a token there,
 * where a decode step is ~30 ms. In O(n):
 *  - probabilities with an exp that vectorizes (relative error ~2e-7);
 *  - top-p: the candidates are bucketed by the top bits of their
 *    probability's float (exponent and 3 mantissa bits: buckets a factor
 *    at most 1.125 wide, ordered like the values); walking the buckets from the
 *    top finds the one where the mass reaches top_p; only that bucket is
 *    sorted, to cut it exactly. The kept set is exactly the one a full sort
 *    gives; the candidates come out bucket by bucket (descending), ids
 *    ascending within a bucket, the cut bucket in exact order;
 *  - min-p and the renormalisation as in the sorted path.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/sampler.h"

/* p in [0, 1]: its float's sign-less top 11 bits (8 of exponent, 3 of mantissa) */
#define BUCKET_SHIFT	20
#define N_BUCKETS	SAMPLER_BUCKETS		/* 0x40000000 >> 20: every p < 2 (p = 1 is 0x3f8) */
_Static_assert(SAMPLER_BUCKETS == 0x40000000u >> BUCKET_SHIFT, "buckets cover [0, 2)");

static inline uint32_t bucket_of(float p)
{
	uint32_t bits;

	memcpy(&bits, &p, sizeof(bits));
	return bits >> BUCKET_SHIFT;
}

/*
 * exp(x) for x <= 0 (0 below -87, where float exp underflows: banned tokens
 * have -inf logits). Cephes' expf: x = k ln 2 + r, |r| <= ln 2 / 2, a degree
 * 7 polynomial for e^r, 2^k from the exponent bits; 8 lanes at a time in
 * GCC vector types (target_clones: AVX2 where the CPU has it, else SSE2).
 */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* *v = exp(*v), in place: a vector argument by value would change the ABI between clones */
static inline void exp8_le0(v8f *v)
{
	v8f x = *v;
	v8i under = x < -87.0f;
	v8f xc = (v8f)(((v8i)x & ~under) | ((v8i)(x - x + -87.0f) & under));
	v8f k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;	/* round */
	v8f r = xc - k * 0.693359375f + k * 2.12194440e-4f;
	v8f y = r * 1.9875691500e-4f + 1.3981999507e-3f;

	y = y * r + 8.3334519073e-3f;
	y = y * r + 4.1665795894e-2f;
	y = y * r + 1.6666665459e-1f;
	y = y * r + 5.0000001201e-1f;
	y = y * r * r + r + 1.0f;
	y *= (v8f)((__builtin_convertvector(k, v8i) + 127) << 23);
	*v = (v8f)((v8i)y & ~under);
}

__attribute__((target_clones("avx2", "default")))
static void exp_all(float *p, const float *x, float max, size_t n)
{
	size_t i;
	v8f v;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&v, x + i, sizeof(v));
		v -= max;
		exp8_le0(&v);
		memcpy(p + i, &v, sizeof(v));
	}
	if (i < n) {
		v8f tail = { 0 };

		memcpy(&tail, x + i, (n - i) * sizeof(*x));
		tail -= max;
		exp8_le0(&tail);
		memcpy(p + i, &tail, (n - i) * sizeof(*p));
	}
}

__attribute__((target_clones("avx2", "default")))
static float max_of(const float *x, size_t n)
{
	v8f m = { -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
		  -INFINITY }, v;
	float r = -INFINITY;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		v8i gt;

		memcpy(&v, x + i, sizeof(v));
		gt = v > m;
		m = (v8f)(((v8i)v & gt) | ((v8i)m & ~gt));
	}
	for (int l = 0; l < 8; l++)
		r = m[l] > r ? m[l] : r;
	for (; i < n; i++)
		r = x[i] > r ? x[i] : r;
	return r;
}

static int by_p_then_id(const void *a, const void *b)
{
	const struct sampler_cand *x = a, *y = b;

	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

size_t sampler_dist_wide(struct anpurt_sampler *s, size_t n)
{
	const struct anpurt_sampler_params *p = &s->params;
	struct sampler_cand *c = s->cand, *out = s->kept;
	float *x = s->work, *prob = s->work + s->n_vocab, max = -INFINITY;
	uint32_t *count = s->bucket_count, start[N_BUCKETS], cut = 0;
	double *mass = s->bucket_mass, part[4] = { 0 }, sum, want, acc = 0;
	size_t i, kept = 0;

	for (i = 0; i < n; i++)
		x[i] = c[i].logit;
	max = max_of(x, n);
	if (max == -INFINITY) {		/* everything banned: the lowest id */
		size_t lowest = 0;

		for (i = 1; i < n; i++)
			if (c[i].id < c[lowest].id)
				lowest = i;
		s->cand[0] = c[lowest];
		s->cand[0].p = 1.0f;
		return 1;
	}
	exp_all(prob, x, max, n);
	/*
	 * Four histograms, element i into histogram i % 4: consecutive
	 * candidates often fall in one bucket, and one histogram would chain
	 * every add to the one before.
	 */
	memset(count, 0, 4 * N_BUCKETS * sizeof(*count));
	memset(mass, 0, 4 * N_BUCKETS * sizeof(*mass));
	for (i = 0; i < n; i++) {
		uint32_t b = bucket_of(prob[i]) + (uint32_t)(i & 3) * N_BUCKETS;

		c[i].p = prob[i];
		count[b]++;
		mass[b] += prob[i];
		part[i & 3] += prob[i];
	}
	for (uint32_t b = 0; b < N_BUCKETS; b++) {
		count[b] += count[b + N_BUCKETS] + count[b + 2 * N_BUCKETS] + count[b + 3 * N_BUCKETS];
		mass[b] = (mass[b] + mass[b + N_BUCKETS]) +
			  (mass[b + 2 * N_BUCKETS] + mass[b + 3 * N_BUCKETS]);
	}
	sum = (part[0] + part[1]) + (part[2] + part[3]);

	/* the top-p bucket: where the mass from the top reaches top_p (all: bucket 0) */
	want = p->top_p < 1.0f ? (p->top_p - 1e-6) * sum : INFINITY;
	for (cut = N_BUCKETS - 1; cut > 0; cut--) {
		if (acc + mass[cut] >= want)
			break;
		acc += mass[cut];
	}
	/* counting sort of the buckets >= cut, descending, stable (ids ascending) */
	for (uint32_t b = N_BUCKETS, at = 0; b-- > cut;) {
		start[b] = at;
		at += count[b];
	}
	for (i = 0; i < n; i++) {
		uint32_t b = bucket_of(c[i].p);

		if (b >= cut)
			out[start[b]++] = c[i];
	}
	kept = start[cut];
	if (p->top_p < 1.0f) {
		/* the cut bucket in exact order, up to where the mass reaches top_p */
		size_t first = kept - count[cut];

		qsort(out + first, count[cut], sizeof(*out), by_p_then_id);
		for (i = first; i < kept; i++) {
			acc += out[i].p;
			if (acc >= want) {
				kept = i + 1;
				break;
			}
		}
	}
	{
		/*
		 * min-p (the top token's p is exp(0) = 1, so its floor is min_p),
		 * and no p = 0 (banned, or underflowed): never drawn
		 */
		size_t k = 0;

		for (i = 0; i < kept; i++)
			if (out[i].p > 0.0f && out[i].p >= p->min_p)
				out[k++] = out[i];
		kept = k;
	}
	for (i = 0, sum = 0.0; i < kept; i++)
		sum += out[i].p;
	for (i = 0; i < kept; i++)
		out[i].p = (float)(out[i].p / sum);
	/* the result where the draw reads it */
	s->kept = s->cand;
	s->cand = out;
	return kept;
}
