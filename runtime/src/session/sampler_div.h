/* SPDX-License-Identifier: MIT */
/*
 * The wide sampler's division by the temperature without vdivps (internal;
 * x86-64, the caller's function built for AVX-512F). In a header of its own
 * so that the unit tests check its bits against the division.
 */
#ifndef ANPURT_SESSION_SAMPLER_DIV_H
#define ANPURT_SESSION_SAMPLER_DIV_H

#include <immintrin.h>
#include <math.h>

/* What sampler_div_by() needs of a divisor @by (> 0): sampler_div_make(). */
struct sampler_div {
	float by, inv;		/* @by, and 1 / by rounded to float */
	float lo, hi;		/* |x| in [lo, hi]: the product and its correction hold */
};

/*
 * Outside 2^-60 .. 2^60 (temperatures nobody samples at) 1 / by may round
 * to a subnormal or overflow, which the theorem below excludes: an empty
 * [lo, hi], every vector divided.
 */
static inline struct sampler_div sampler_div_make(float by)
{
	const int ok = by >= 0x1p-60f && by <= 0x1p60f;

	return (struct sampler_div){
		.by = by,
		.inv = 1.0f / by,
		.lo = ok ? 0x1p-96f * fmaxf(1.0f, by) : INFINITY,
		.hi = ok ? 0x1p96f * fminf(1.0f, by) : 0.0f,
	};
}

/*
 * x / by for 16 floats, correctly rounded like the division: q0 = x * inv,
 * the remainder r = x - q0 * by (exact: one FMA), q = q0 + r * inv (one FMA).
 * Markstein's theorem: with inv within half an ulp of 1 / by and q0 within
 * an ulp of x / by, q is the correctly rounded quotient when nothing
 * overflows or underflows. [lo, hi] keeps |x| and |x / by| within 2^-96 ..
 * 2^96, where nothing does; vectors with any other value (0, subnormals,
 * infinities, NaN, or extreme temperatures' logits) take the division. The
 * product in double it replaced (a conversion each way, two multiplies, the
 * halves split and joined) was a fifth of the exp pass.
 */
__attribute__((target("avx512f"))) static inline __m512 sampler_div_by(__m512 x,
								    const struct sampler_div *d)
{
	const __m512 by = _mm512_set1_ps(d->by), inv = _mm512_set1_ps(d->inv);
	const __m512 ax = _mm512_abs_ps(x);
	__m512 q0, r;

	/* not lo <= |x| <= hi (NaN: unordered, out) */
	if (_mm512_cmp_ps_mask(ax, _mm512_set1_ps(d->lo), _CMP_NGE_UQ) |
	    _mm512_cmp_ps_mask(ax, _mm512_set1_ps(d->hi), _CMP_NLE_UQ))
		return _mm512_div_ps(x, by);
	q0 = _mm512_mul_ps(x, inv);
	r = _mm512_fnmadd_ps(q0, by, x);
	return _mm512_fmadd_ps(r, inv, q0);
}

#endif
