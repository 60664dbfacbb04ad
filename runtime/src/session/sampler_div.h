/* SPDX-License-Identifier: MIT */
/*
 * The wide sampler's division by the temperature without vdivps (internal;
 * x86-64, the caller's function built for AVX-512F). In a header of its own
 * so that the unit tests check its bits against the division.
 */
#ifndef ANPURT_SESSION_SAMPLER_DIV_H
#define ANPURT_SESSION_SAMPLER_DIV_H

#include <immintrin.h>

/*
 * x / by for 16 floats, correctly rounded like the division, as x times
 * @inv = 1.0 / by in double, rounded once to float: a vdivps was a quarter of the
 * exp pass. The product's relative error is below 2^-52, and a quotient of
 * two normal floats that is not a float midpoint is at least ~2^-49 from one
 * (and never is one: x = by * m with m a midpoint would need more than 24
 * significant bits), so it rounds to the same float; infinities and NaNs
 * come out as the division's. Where a quotient is near or below the
 * smallest normal (or x is subnormal) that argument fails: those vectors
 * take the division.
 */
__attribute__((target("avx512f"))) static inline __m512 sampler_div_by(__m512 x, float by,
									__m512d inv)
{
	const __m512d lo = _mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), inv);
	const __m512d hi = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_castpd_ps(
		_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))), inv);
	const __m512 q = _mm512_castpd_ps(_mm512_insertf64x4(
		_mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo))),
		_mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
	const __m512 tiny = _mm512_set1_ps(0x1p-124f);

	/* |q| or |x| below 2^-124 (not NaN): rare, exact by the division */
	if (_mm512_cmp_ps_mask(_mm512_abs_ps(q), tiny, _CMP_LT_OQ) |
	    _mm512_cmp_ps_mask(_mm512_abs_ps(x), tiny, _CMP_LT_OQ))
		return _mm512_div_ps(x, _mm512_set1_ps(by));
	return q;
}

#endif
