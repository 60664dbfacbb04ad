/* SPDX-License-Identifier: MIT */
/*
 * The sampling distribution over many candidates (a whole 150k vocabulary,
 * no top-k) without sorting them: a full sort costs ~25 ms a token there,
 * where a decode step is ~30 ms. In O(n):
 *  - probabilities with an exp that vectorizes (relative error ~2e-7);
 *  - top-p: the candidates are bucketed by the top bits of their
 *    probability's float (exponent and 3 mantissa bits: buckets a factor
 *    at most 1.125 wide, ordered like the values); walking the buckets from the
 *    top finds the one where the mass reaches top_p; that bucket is cut
 *    again by the next 8 bits (sub-buckets) and only the sub-bucket where
 *    the mass reaches top_p is sorted, to cut it exactly. The kept set is
 *    exactly the one a full sort gives; the candidates come out bucket by
 *    bucket (descending), ids ascending within a bucket, the cut bucket
 *    likewise by sub-buckets, the cut sub-bucket in exact order;
 *  - min-p and the renormalisation as in the sorted path.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/sampler.h"
#include "session/sampler_div.h"

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
 * have -inf logits; 0 for NaN too, which a broken model's logits may hold: a
 * NaN probability's bucket id would be past the histograms). Cephes' expf:
 * x = k ln 2 + r, |r| <= ln 2 / 2, a degree
 * 7 polynomial for e^r, 2^k from the exponent bits; 8 or 16 lanes at a time
 * in GCC vector types (AVX-512, AVX2 + FMA where the CPU has it, else SSE2:
 * see exp_buckets). Every lane is the same sequence of IEEE operations, the
 * reduction's and the polynomial's multiply-adds written as fused ones
 * (the instruction, or fmaf() on the SSE2 path: a CPU without FMA computes
 * it in software, many times slower, as it runs the model's portable
 * kernels; nothing else is contracted in C11 mode), so every width gives the
 * same bits. Fused, the exp pass over a 150k vocabulary took 232 -> 184 us
 * on an AVX-512 Xeon (the separate multiplies and adds: a fifth of it).
 */
typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

/* *v = exp(*v) for vector type VF (int twin VI; FMA(d, x, y, a): d = x * y + a, one rounding) */
#define EXP_LE0_BODY(VF, VI, FMA)							\
	VF x = *v;									\
	VI under = ~(x >= -87.0f);	/* and NaN: p = 0, never drawn */		\
	VF xc = (VF)(((VI)x & ~under) | ((VI)(x - x + -87.0f) & under));		\
	VF k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;	/* round */	\
	VF r, y, t;									\
											\
	/* r = x - k ln 2, ln 2 in two parts (k times the first is exact) */		\
	FMA(r, k, (VF){} - 0.693359375f, xc);						\
	FMA(r, k, (VF){} + 2.12194440e-4f, r);						\
	FMA(y, r, (VF){} + 1.9875691500e-4f, (VF){} + 1.3981999507e-3f);		\
	FMA(y, y, r, (VF){} + 8.3334519073e-3f);					\
	FMA(y, y, r, (VF){} + 4.1665795894e-2f);					\
	FMA(y, y, r, (VF){} + 1.6666665459e-1f);					\
	FMA(y, y, r, (VF){} + 5.0000001201e-1f);					\
	t = y * r;									\
	FMA(y, t, r, r);								\
	y = y + 1.0f;									\
	y *= (VF)((__builtin_convertvector(k, VI) + 127) << 23);			\
	*v = (VF)((VI)y & ~under)

#define FMA16(d, x, y, a)	\
	((d) = (v16f)_mm512_fmadd_ps((__m512)(x), (__m512)(y), (__m512)(a)))
#define FMA8(d, x, y, a)	\
	((d) = (v8f)_mm256_fmadd_ps((__m256)(x), (__m256)(y), (__m256)(a)))
#define FMA8_LANES(d, x, y, a) do {						\
	const v8f fx_ = (x), fy_ = (y), fa_ = (a);				\
										\
	for (int fl_ = 0; fl_ < 8; fl_++)					\
		(d)[fl_] = fmaf(fx_[fl_], fy_[fl_], fa_[fl_]);			\
} while (0)

/* *v = exp(*v), in place: a vector argument by value would change the ABI between clones */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
exp16_le0(v16f *v)
{
	EXP_LE0_BODY(v16f, v16i, FMA16);
}

/* exp_buckets_8_avx2's (inlined there: the same target) */
__attribute__((target("avx2,fma"))) static inline void exp8_le0_fma(v8f *v)
{
	EXP_LE0_BODY(v8f, v8i, FMA8);
}

static inline __attribute__((always_inline)) void exp8_le0_soft(v8f *v)
{
	EXP_LE0_BODY(v8f, v8i, FMA8_LANES);
}

typedef uint16_t v8h __attribute__((vector_size(16)));
typedef uint16_t v16h __attribute__((vector_size(32)));

/* *m = lane-wise *v where *v > *m (a NaN never wins); by pointer, as exp16_le0 */
static inline __attribute__((always_inline)) void max8_skip_nan(v8f *m, const v8f *v)
{
	const v8i gt = *v > *m;

	*m = (v8f)(((v8i)*v & gt) | ((v8i)*m & ~gt));
}

/*
 * p[i] = exp(x[i] / by - max) and bucket[i] = bucket_of(p[i]) of 8 values at
 * @x; *@top: the largest x[i] / by - max so far (NaNs skipped), which is
 * above 0 only when @max was not the largest (a caller's wrong hint).
 */
static inline __attribute__((always_inline)) void
exp_buckets8(float *p, uint16_t *bucket, const float *x, float by, float max, v8f *top,
	     const int hw_fma)
{
	v8f v;
	v8h b;

	memcpy(&v, x, sizeof(v));
	v = v / by - max;
	max8_skip_nan(top, &v);
	if (hw_fma)
		exp8_le0_fma(&v);
	else
		exp8_le0_soft(&v);
	b = __builtin_convertvector((v8i)v >> BUCKET_SHIFT, v8h);
	memcpy(p, &v, sizeof(v));
	memcpy(bucket, &b, sizeof(b));
}

/*
 * The loops below are each built twice, for AVX2 and for the baseline, and
 * picked per call from the CPU (AVX2_OR_BASE; by hand where the two builds
 * differ, as exp_buckets_8_*'s FMA): GCC's target_clones would pick once
 * through an ifunc resolver, but that runs before a sanitizer's runtime is
 * set up and crashed the TSan build at start.
 */
#define AVX2_OR_BASE(ret, name, params, args)					\
	__attribute__((target("avx2"))) static ret name##_avx2 params		\
	{									\
		return name##_body args;					\
	}									\
	static ret name##_base params						\
	{									\
		return name##_body args;					\
	}									\
	static ret name params							\
	{									\
		return __builtin_cpu_supports("avx2") ? name##_avx2 args	\
						      : name##_base args;	\
	}

/*
 * exp_buckets8() over n values (a tail through a padded copy), and the sum of
 * the probabilities in lane[16]: lane[l] = the sum of p[i] for i % 16 == l, in
 * ascending i. Every width keeps that order (and it is only IEEE adds), so the
 * lanes, and the sum of them in order, are the same bits on every CPU.
 */
static inline __attribute__((always_inline)) void
exp_buckets_8_body(float *p, uint16_t *bucket, const float *x, float by, float max, size_t n,
		   double *lane, float *top, const int hw_fma)
{
	v8f tv = { -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
		   -INFINITY };
	v4d acc[4] = { { 0 } };
	size_t i;

	for (i = 0; i + 16 <= n; i += 16) {
		exp_buckets8(p + i, bucket + i, x + i, by, max, &tv, hw_fma);
		exp_buckets8(p + i + 8, bucket + i + 8, x + i + 8, by, max, &tv, hw_fma);
		for (int k = 0; k < 4; k++) {	/* 4 lanes at a time: wider spills on AVX2 */
			v4f a;

			memcpy(&a, p + i + 4 * k, sizeof(a));
			acc[k] += __builtin_convertvector(a, v4d);
		}
	}
	memcpy(lane, acc, sizeof(acc));
	if (i < n) {
		/* padded with -inf: -inf / by - max never raises tv, its p is 0, unused */
		float xt[16], pt[16];
		uint16_t bt[16];

		for (int l = 0; l < 16; l++)
			xt[l] = -INFINITY;
		memcpy(xt, x + i, (n - i) * sizeof(*x));
		exp_buckets8(pt, bt, xt, by, max, &tv, hw_fma);
		exp_buckets8(pt + 8, bt + 8, xt + 8, by, max, &tv, hw_fma);
		memcpy(p + i, pt, (n - i) * sizeof(*p));
		memcpy(bucket + i, bt, (n - i) * sizeof(*bucket));
		for (size_t l = 0; l < n - i; l++)
			lane[l] += pt[l];
	}
	*top = -INFINITY;
	for (int l = 0; l < 8; l++)
		*top = tv[l] > *top ? tv[l] : *top;
}

/* exp_buckets_8_body() for AVX2 + FMA, and for the baseline (fmaf()) */
__attribute__((target("avx2,fma"))) static void
exp_buckets_8_avx2(float *p, uint16_t *bucket, const float *x, float by, float max, size_t n,
		   double *lane, float *top)
{
	exp_buckets_8_body(p, bucket, x, by, max, n, lane, top, 1);
}

static void exp_buckets_8_base(float *p, uint16_t *bucket, const float *x, float by, float max,
			       size_t n, double *lane, float *top)
{
	exp_buckets_8_body(p, bucket, x, by, max, n, lane, top, 0);
}

/*
 * exp_buckets_8_body() 16 lanes at a time, for AVX-512 (the tail through the
 * 8-lane one). Two vectors a step: each exp is a chain of ~15 dependent
 * operations, and two independent ones keep the pipes busier (a whole draw
 * 254 -> 221 us on an AVX-512 Xeon); the lane sums still take the values in
 * ascending i.
 */
__attribute__((target("avx512f"))) static inline void
exp_buckets16(float *p, uint16_t *bucket, const float *x, const struct sampler_div *div,
	      float max, __m512d *lo, __m512d *hi, __m512 *top)
{
	v16f v;
	__m512 e = _mm512_sub_ps(sampler_div_by(_mm512_loadu_ps(x), div), _mm512_set1_ps(max));

	*top = _mm512_max_ps(e, *top);	/* a NaN in e keeps *top */
	memcpy(&v, &e, sizeof(v));
	exp16_le0(&v);
	memcpy(&e, &v, sizeof(e));
	_mm512_storeu_ps(p, e);
	/* the ids (bits >> 20 < 0x400) narrowed by truncation, one instruction */
	_mm256_storeu_si256((__m256i *)(void *)bucket,
			    _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(e),
								    BUCKET_SHIFT)));
	*lo = _mm512_add_pd(*lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
	*hi = _mm512_add_pd(*hi, _mm512_cvtps_pd(_mm256_castpd_ps(
		_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
}

__attribute__((target("avx512f,fma"))) static void
exp_buckets_avx512(float *p, uint16_t *bucket, const float *x, float by, float max, size_t n,
		   double *lane, float *top)
{
	const struct sampler_div div = sampler_div_make(by);
	__m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
	__m512 tv = _mm512_set1_ps(-INFINITY);
	double tail[16];
	float tail_top;
	size_t i;

	for (i = 0; i + 32 <= n; i += 32) {
		exp_buckets16(p + i, bucket + i, x + i, &div, max, &lo, &hi, &tv);
		exp_buckets16(p + i + 16, bucket + i + 16, x + i + 16, &div, max, &lo, &hi, &tv);
	}
	if (i + 16 <= n) {
		exp_buckets16(p + i, bucket + i, x + i, &div, max, &lo, &hi, &tv);
		i += 16;
	}
	/* fewer than 16 left: each tail lane holds one value at most, 0 + p = p */
	exp_buckets_8_body(p + i, bucket + i, x + i, by, max, n - i, tail, &tail_top, 1);
	_mm512_storeu_pd(lane, lo);
	_mm512_storeu_pd(lane + 8, hi);
	for (int l = 0; l < 16; l++)
		lane[l] += tail[l];
	*top = _mm512_reduce_max_ps(tv);
	*top = tail_top > *top ? tail_top : *top;
}

/*
 * exp_buckets_8_body()'s probabilities and buckets; returns the sum of the
 * probabilities, and in *@top the largest x / by - max (> 0: @max was not
 * the largest, nothing is valid).
 */
static double exp_buckets(float *p, uint16_t *bucket, const float *x, float by, float max,
			  size_t n, float *top)
{
	double lane[16], sum = 0;

	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"))
		exp_buckets_avx512(p, bucket, x, by, max, n, lane, top);
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		exp_buckets_8_avx2(p, bucket, x, by, max, n, lane, top);
	else
		exp_buckets_8_base(p, bucket, x, by, max, n, lane, top);
	for (int l = 0; l < 16; l++)
		sum += lane[l];
	return sum;
}

/*
 * The largest of x[0..n). Divided by a temperature > 0 it is the largest of
 * the x[i] / temperature the exp pass computes: rounding keeps the order.
 * Four running maxima (32 values a step): one was a chain of compare and
 * blend per 8 values, ~15% of a wide draw's time. NaNs never win
 * (v > m is false), in any lane and in the final combine alike.
 */
static inline __attribute__((always_inline)) float max_of_body(const float *x, size_t n)
{
	v8f m[4], v;
	float r = -INFINITY;
	size_t i;

	for (int k = 0; k < 4; k++)
		for (int l = 0; l < 8; l++)
			m[k][l] = -INFINITY;
	for (i = 0; i + 32 <= n; i += 32) {
		for (int k = 0; k < 4; k++) {
			memcpy(&v, x + i + 8 * k, sizeof(v));
			max8_skip_nan(&m[k], &v);
		}
	}
	for (int k = 0; k < 4; k++)
		for (int l = 0; l < 8; l++)
			r = m[k][l] > r ? m[k][l] : r;
	for (; i < n; i++)
		r = x[i] > r ? x[i] : r;
	return r;
}
AVX2_OR_BASE(float, max_of, (const float *x, size_t n), (x, n))

/* The first i >= @from with @lo <= bucket[i] <= @hi, or @n: 16 at a time. */
static inline __attribute__((always_inline)) size_t
next_in_range_body(const uint16_t *bucket, size_t from, size_t n, uint16_t lo, uint16_t hi)
{
	size_t i = from;

	for (; i + 16 <= n; i += 16) {
		v16h v, in;
		uint64_t any[4];

		memcpy(&v, bucket + i, sizeof(v));
		in = (v >= lo) & (v <= hi);
		memcpy(any, &in, sizeof(any));
		if (any[0] | any[1] | any[2] | any[3])
			break;
	}
	for (; i < n; i++)
		if (bucket[i] >= lo && bucket[i] <= hi)
			return i;
	return n;
}

/* next_in_range_body() 32 ids a step, each one compare to a mask */
__attribute__((target("avx512f,avx512bw"))) static size_t
next_in_range_avx512(const uint16_t *bucket, size_t from, size_t n, uint16_t lo, uint16_t hi)
{
	size_t i = from;

	const __m512i base = _mm512_set1_epi16((short)lo);
	const __m512i width = _mm512_set1_epi16((short)(uint16_t)(hi - lo));

	for (; i + 32 <= n; i += 32) {
		/* lo <= v <= hi as v - lo <= hi - lo, unsigned */
		const __m512i v = _mm512_sub_epi16(_mm512_loadu_si512(bucket + i), base);

		if (_mm512_cmple_epu16_mask(v, width))
			break;
	}
	return next_in_range_body(bucket, i, n, lo, hi);
}

__attribute__((target("avx2"))) static size_t
next_in_range_avx2(const uint16_t *bucket, size_t from, size_t n, uint16_t lo, uint16_t hi)
{
	return next_in_range_body(bucket, from, n, lo, hi);
}

static size_t next_in_range_base(const uint16_t *bucket, size_t from, size_t n, uint16_t lo,
				 uint16_t hi)
{
	return next_in_range_body(bucket, from, n, lo, hi);
}

static size_t next_in_range(const uint16_t *bucket, size_t from, size_t n, uint16_t lo,
			    uint16_t hi)
{
	if (__builtin_cpu_supports("avx512bw"))
		return next_in_range_avx512(bucket, from, n, lo, hi);
	return __builtin_cpu_supports("avx2") ? next_in_range_avx2(bucket, from, n, lo, hi) :
						next_in_range_base(bucket, from, n, lo, hi);
}

/* The first i >= @from with bucket[i] == @b, or @n. */
static size_t next_in_bucket(const uint16_t *bucket, size_t from, size_t n, uint16_t b)
{
	return next_in_range(bucket, from, n, b, b);
}

/* The first i >= @from with bucket[i] >= @b, or @n. */
static size_t next_at_least(const uint16_t *bucket, size_t from, size_t n, uint16_t b)
{
	return next_in_range(bucket, from, n, b, UINT16_MAX);
}

static int by_p_then_id(const void *a, const void *b)
{
	const struct sampler_cand *x = a, *y = b;

	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/*
 * What the distribution and the draw share, for candidates 0..n) whose
 * logits are x[i] / by (by: the temperature, or 1 for logits already divided),
 * their largest max: their probabilities
 * exp(x / by - max) in prob[], bucket in s->bucket_id[], the histograms, and the
 * lowest bucket the top-p set reaches (want: the mass it must reach, from the
 * top; above: the mass of the buckets over it); when head_histogram() found
 * it, also the list of the candidates from the cut up, so that walking a
 * bucket there is not a scan of all n.
 */
struct wide {
	const float *x;
	float by, *prob;
	uint32_t *count, cut;
	double *mass, want, above;
	const uint32_t *head;	/* NULL, or the candidates of the buckets from the cut up, ascending */
	size_t n_head;
};

/*
 * Top-p usually keeps the head of the distribution: a few candidates of
 * high probability. The histogram of only the buckets from @floor up (p >=
 * 2^-8, then 2^-16: their members are found by a vector scan of the bucket
 * ids, and there are at most sum / p of them) finds the cut when the mass
 * there reaches w->want; only the buckets from the cut up are read after it.
 * The full histogram (wide_prepare) is for the flat distributions where it
 * does not. 0 with w->cut and w->above set; -1 when the cut is below @floor.
 */
static const uint16_t head_floor[] = { 119 << 3, 111 << 3 };	/* buckets of 2^-8, 2^-16 */

static int head_histogram(struct anpurt_sampler *s, size_t n, uint16_t floor, struct wide *w)
{
	const uint16_t *bucket = s->bucket_id;
	size_t k = 0;

	memset(w->count + floor, 0, (N_BUCKETS - floor) * sizeof(*w->count));
	memset(w->mass + floor, 0, (N_BUCKETS - floor) * sizeof(*w->mass));
	for (size_t i = next_at_least(bucket, 0, n, floor); i < n;
	     i = next_at_least(bucket, i + 1, n, floor)) {
		w->count[bucket[i]]++;
		w->mass[bucket[i]] += w->prob[i];
		if (k < SAMPLER_HEAD_MAX)
			s->head[k] = (uint32_t)i;
		k++;
	}
	w->above = 0;
	for (uint32_t b = N_BUCKETS; b-- > floor;) {
		if (w->above + w->mass[b] >= w->want) {
			w->cut = b;
			w->head = k <= SAMPLER_HEAD_MAX ? s->head : NULL;
			w->n_head = k;
			return 0;
		}
		w->above += w->mass[b];
	}
	return -1;
}

/*
 * The first candidate i >= @from of bucket @b (>= the cut), or @n: from the
 * head list where there is one (*@k: where in it to go on; 0 at the start).
 */
static size_t next_member(const struct anpurt_sampler *s, const struct wide *w, size_t n,
			  uint32_t b, size_t from, size_t *k)
{
	if (!w->head)
		return next_in_bucket(s->bucket_id, from, n, (uint16_t)b);
	for (; *k < w->n_head; (*k)++)
		if (w->head[*k] >= from && s->bucket_id[w->head[*k]] == b)
			return w->head[(*k)++];
	return n;
}

/*
 * 0, or -1 when every candidate is banned (@max -inf). @max_id: the index of
 * a largest x (NaNs skipped), or -1 to find it.
 */
static int wide_prepare(struct anpurt_sampler *s, size_t n, const float *x, float by,
			int32_t max_id, struct wide *w)
{
	const float *prob = s->work + s->n_vocab;
	/* an all-NaN row's ARGMAX is 0, a NaN: then the scan (which gives -inf) */
	float max = (max_id >= 0 && (size_t)max_id < n && !isnan(x[max_id]) ? x[max_id] :
		     max_of(x, n)) / by;
	const uint16_t *bucket = s->bucket_id;
	uint32_t *count = s->bucket_count;
	double *mass = s->bucket_mass, sum;
	float top;
	size_t i;

	w->x = x;
	w->by = by;
	w->prob = s->work + s->n_vocab;
	w->head = NULL;
	w->count = s->bucket_count;
	w->mass = s->bucket_mass;
	if (max == -INFINITY)
		return -1;
	sum = exp_buckets(w->prob, s->bucket_id, x, by, max, n, &top);
	if (top > 0.0f) {	/* @max_id was not a largest logit (a stale hint): scan */
		max = max_of(x, n) / by;
		sum = exp_buckets(w->prob, s->bucket_id, x, by, max, n, &top);
	}
	if (s->params.top_p < 1.0f) {
		w->want = (s->params.top_p - 1e-6) * sum;
		for (size_t l = 0; l < sizeof(head_floor) / sizeof(head_floor[0]); l++)
			if (!head_histogram(s, n, head_floor[l], w))
				return 0;
	}
	/*
	 * SAMPLER_HISTS histograms, candidate i into histogram i % SAMPLER_HISTS:
	 * consecutive candidates often fall in one bucket, and one histogram
	 * would chain every add to the one before through memory. They are
	 * SAMPLER_HIST_STRIDE apart, not a multiple of 4 KiB, so that one bucket
	 * of two histograms is not a false dependency of the CPU's store-to-load
	 * check (4K aliasing).
	 */
	memset(count, 0, SAMPLER_HISTS * SAMPLER_HIST_STRIDE * sizeof(*count));
	memset(mass, 0, SAMPLER_HISTS * SAMPLER_HIST_STRIDE * sizeof(*mass));
	for (i = 0; i + 4 <= n; i += 4) {
		uint32_t b0 = bucket[i], b1 = SAMPLER_HIST_STRIDE + bucket[i + 1];
		uint32_t b2 = 2 * SAMPLER_HIST_STRIDE + bucket[i + 2];
		uint32_t b3 = 3 * SAMPLER_HIST_STRIDE + bucket[i + 3];

		count[b0]++;
		mass[b0] += prob[i];
		count[b1]++;
		mass[b1] += prob[i + 1];
		count[b2]++;
		mass[b2] += prob[i + 2];
		count[b3]++;
		mass[b3] += prob[i + 3];
	}
	for (; i < n; i++) {
		count[bucket[i]]++;
		mass[bucket[i]] += prob[i];
	}
	for (uint32_t b = 0; b < N_BUCKETS; b++) {
		count[b] += count[b + SAMPLER_HIST_STRIDE] + count[b + 2 * SAMPLER_HIST_STRIDE] +
			    count[b + 3 * SAMPLER_HIST_STRIDE];
		mass[b] = (mass[b] + mass[b + SAMPLER_HIST_STRIDE]) +
			  (mass[b + 2 * SAMPLER_HIST_STRIDE] + mass[b + 3 * SAMPLER_HIST_STRIDE]);
	}
	/* the top-p bucket: where the mass from the top reaches top_p (all: bucket 0) */
	if (s->params.top_p >= 1.0f)
		w->want = INFINITY;
	w->above = 0;
	for (w->cut = N_BUCKETS - 1; w->cut > 0; w->cut--) {
		if (w->above + w->mass[w->cut] >= w->want)
			break;
		w->above += w->mass[w->cut];
	}
	return 0;
}

/* Within a bucket: the next 8 bits of the float below the bucket's */
#define SUB_SHIFT	12
#define N_SUBS		256u
/* a cut bucket this small is sorted whole */
#define CUT_SORT_MAX	64

static inline uint32_t sub_of(float p)
{
	uint32_t bits;

	memcpy(&bits, &p, sizeof(bits));
	return (bits >> SUB_SHIFT) & (N_SUBS - 1);
}

/*
 * The first members of @m[0..k) (one bucket, ids ascending) that bring the
 * mass @acc to @want, in the order a full sort gives them up to sub-buckets:
 * the bucket is cut again by the next 8 bits of the probability's float
 * (sub-buckets ordered like the values), the members of the sub-buckets above
 * the one where the mass reaches @want come first, sub-bucket by sub-bucket
 * (ids ascending within), then that sub-bucket's members that top-p keeps, in
 * exact order. Only that sub-bucket is sorted: a near-flat distribution puts
 * thousands of candidates in one bucket. @tmp holds k. Returns how many.
 */
static size_t cut_sub_buckets(struct sampler_cand *m, size_t k, double acc, double want,
			      struct sampler_cand *tmp)
{
	uint32_t count[N_SUBS] = { 0 }, start[N_SUBS], cut, at = 0;
	double mass[N_SUBS] = { 0 };
	size_t i, n_cut;

	for (i = 0; i < k; i++) {
		count[sub_of(m[i].p)]++;
		mass[sub_of(m[i].p)] += m[i].p;
	}
	for (cut = N_SUBS - 1; cut > 0; cut--) {
		if (acc + mass[cut] >= want)
			break;
		acc += mass[cut];
	}
	for (uint32_t b = N_SUBS; b-- > cut;) {
		start[b] = at;
		at += count[b];
	}
	for (i = 0; i < k; i++) {
		uint32_t b = sub_of(m[i].p);

		if (b >= cut)
			tmp[start[b]++] = m[i];
	}
	memcpy(m, tmp, at * sizeof(*m));
	n_cut = count[cut];
	at -= (uint32_t)n_cut;	/* where the cut sub-bucket starts */
	qsort(m + at, n_cut, sizeof(*m), by_p_then_id);
	for (i = 0; i < n_cut; i++) {
		acc += m[at + i].p;
		if (acc >= want)
			return at + i + 1;
	}
	return at + n_cut;
}

/*
 * The cut bucket's members that top-p keeps, in exact order up to
 * sub-buckets (cut_sub_buckets), into @out; returns how many. Without top-p:
 * all of them, in candidate order. Candidate i is token @c[i].id (@c NULL:
 * token i). @tmp: room for the bucket's members, written after @c is read.
 */
static size_t cut_members(const struct anpurt_sampler *s, const struct sampler_cand *c, size_t n,
			  const struct wide *w, struct sampler_cand *out, struct sampler_cand *tmp)
{
	size_t k = 0;
	double acc = w->above;

	size_t at = 0;

	for (size_t i = next_member(s, w, n, w->cut, 0, &at); i < n;
	     i = next_member(s, w, n, w->cut, i + 1, &at))
		out[k++] = (struct sampler_cand){ .id = c ? c[i].id : (int32_t)i,
						  .logit = w->x[i] / w->by, .p = w->prob[i] };
	if (s->params.top_p >= 1.0f)
		return k;
	if (k > CUT_SORT_MAX)
		return cut_sub_buckets(out, k, acc, w->want, tmp);
	qsort(out, k, sizeof(*out), by_p_then_id);
	for (size_t i = 0; i < k; i++) {
		acc += out[i].p;
		if (acc >= w->want)
			return i + 1;
	}
	return k;
}

/* Kept by min-p (the top token's p is exp(0) = 1, so its floor is min_p), and not p = 0. */
static int min_p_keeps(const struct anpurt_sampler *s, float prob)
{
	return prob > 0.0f && prob >= s->params.min_p;
}

size_t sampler_dist_wide(struct anpurt_sampler *s, size_t n)
{
	struct sampler_cand *c = s->cand, *out = s->kept;
	uint32_t start[N_BUCKETS];
	struct wide w;
	size_t i, k, kept;
	double sum = 0;

	for (i = 0; i < n; i++)
		s->work[i] = c[i].logit;
	if (wide_prepare(s, n, s->work, 1.0f, -1, &w)) {	/* everything banned: the lowest id */
		size_t lowest = 0;

		for (i = 1; i < n; i++)
			if (c[i].id < c[lowest].id)
				lowest = i;
		s->cand[0] = c[lowest];
		s->cand[0].p = 1.0f;
		return 1;
	}
	/* the buckets above the cut, descending, ids ascending within (counting sort) */
	for (uint32_t b = N_BUCKETS, at = 0; b-- > w.cut + 1;) {
		start[b] = (uint32_t)at;
		at += w.count[b];
	}
	kept = w.cut + 1 < N_BUCKETS ? start[w.cut + 1] + w.count[w.cut + 1] : 0;
	for (size_t h = 0; h < (w.head ? w.n_head : n); h++) {
		size_t j = w.head ? w.head[h] : h;	/* the head list, else every candidate */
		uint32_t b = s->bucket_id[j];

		if (b > w.cut) {
			out[start[b]] = c[j];
			out[start[b]++].p = w.prob[j];
		}
	}
	/* then the cut bucket's kept members (cut_members' order) */
	kept += cut_members(s, c, n, &w, out + kept, c);	/* c is read by then */
	/* min-p, and no p = 0 */
	for (i = k = 0; i < kept; i++)
		if (min_p_keeps(s, out[i].p))
			out[k++] = out[i];
	kept = k;
	for (i = 0; i < kept; i++)
		sum += out[i].p;
	for (i = 0; i < kept; i++)
		out[i].p = (float)(out[i].p / sum);
	/* the result where the draw reads it */
	s->kept = s->cand;
	s->cand = out;
	return kept;
}

/*
 * The draw of anpurt_sampler_sample() for a whole vocabulary without top-k,
 * as a walk of sampler_dist_wide()'s list would make it, without building
 * the list: the uniform @u times the kept mass is walked down the buckets'
 * kept masses to one bucket, then down that bucket's members (ids ascending;
 * the cut bucket in cut_members' order). O(n), no sort but the cut sub-bucket's.
 */
int32_t sampler_draw_wide(struct anpurt_sampler *s, const float *logits, float u,
			  int32_t max_id)
{
	uint32_t n = s->n_vocab, floor_b = bucket_of(s->params.min_p), lo, b;
	struct sampler_cand *cut = s->kept;
	double keep[N_BUCKETS], total = 0, left;
	size_t n_cut, i;
	struct wide w;

	/* without biases or penalties the logits are read where they are (no copy) */
	if (sampler_adjusts_logits(s)) {
		sampler_adjust_logits(s, logits, s->work);
		logits = s->work;
		max_id = -1;	/* the NPU's maximum was of the logits before */
	}
	if (wide_prepare(s, n, logits, s->params.temperature, max_id, &w))
		return 0;	/* everything banned: the lowest id */
	n_cut = cut_members(s, NULL, n, &w, cut, s->cand);
	/* bucket 0 holds p = 0 (banned, underflowed): never drawn */
	lo = w.cut > 0 ? w.cut : 1;
	for (b = lo; b < N_BUCKETS; b++) {
		keep[b] = b > floor_b ? w.mass[b] : 0;
		if (b == floor_b || b == w.cut) {	/* partly kept: count the members */
			keep[b] = 0;
			if (b == w.cut) {
				for (i = 0; i < n_cut; i++)
					if (min_p_keeps(s, cut[i].p))
						keep[b] += cut[i].p;
			} else {
				size_t at = 0;

				for (i = next_member(s, &w, n, b, 0, &at); i < n;
				     i = next_member(s, &w, n, b, i + 1, &at))
					if (min_p_keeps(s, w.prob[i]))
						keep[b] += w.prob[i];
			}
		}
		total += keep[b];
	}
	if (!(total > 0))
		return 0;
	left = (double)u * total;
	for (b = N_BUCKETS; b-- > lo;) {
		if (left < keep[b] || b == lo)
			break;
		left -= keep[b];
	}
	/* float sums fall just short at the end: the last member then */
	if (b == w.cut) {
		int32_t last = cut[0].id;

		for (i = 0; i < n_cut; i++) {
			if (!min_p_keeps(s, cut[i].p))
				continue;
			last = cut[i].id;
			if (left < cut[i].p)
				break;
			left -= cut[i].p;
		}
		return last;
	}
	{
		int32_t last = -1;

		size_t at = 0;

		for (i = next_member(s, &w, n, b, 0, &at); i < n;
		     i = next_member(s, &w, n, b, i + 1, &at)) {
			if (!min_p_keeps(s, w.prob[i]))
				continue;
			last = (int32_t)i;
			if (left < w.prob[i])
				break;
			left -= w.prob[i];
		}
		return last >= 0 ? last : 0;
	}
}
