// SPDX-License-Identifier: MIT
/*
 * ATTENTION's inner loops with AVX2 and F16C; see op_attention_simd.h.
 * Built with -mavx2 -mfma -mf16c, but -std=c11 keeps -ffp-contract=off, so
 * the separate multiplies and adds below are never fused.
 */
#include "op_attention_simd.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

void att_f16_to_f32_avx2(float *dst, const uint8_t *src, uint32_t n)
{
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(
			(const __m128i *)(const void *)(src + 2 * (size_t)i))));
	if (i < n) {
		uint16_t h[8] = { 0 };
		float f[8];

		memcpy(h, src + 2 * (size_t)i, 2 * (size_t)(n - i));
		_mm256_storeu_ps(f, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h)));
		memcpy(dst + i, f, 4 * (size_t)(n - i));
	}
}

float att_dot8_avx2(const float *a, const float *b, uint32_t n)
{
	__m256 acc = _mm256_setzero_ps();
	float l[8];
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8)
		acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(a + i),
						       _mm256_loadu_ps(b + i)));
	_mm256_storeu_ps(l, acc);
	for (; i < n; i++)
		l[i % 8] += a[i] * b[i];
	return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
}

void att_axpy_avx2(float *acc, float p, const float *v, uint32_t n)
{
	__m256 pv = _mm256_set1_ps(p);
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(acc + i, _mm256_add_ps(_mm256_loadu_ps(acc + i),
			_mm256_mul_ps(pv, _mm256_loadu_ps(v + i))));
	for (; i < n; i++)
		acc[i] += p * v[i];
}

#else	/* never selected off x86; keep the symbols for the linker */

void att_f16_to_f32_avx2(float *dst, const uint8_t *src, uint32_t n)
{
	(void)dst;
	(void)src;
	(void)n;
}

float att_dot8_avx2(const float *a, const float *b, uint32_t n)
{
	(void)a;
	(void)b;
	(void)n;
	return 0.0f;
}

void att_axpy_avx2(float *acc, float p, const float *v, uint32_t n)
{
	(void)acc;
	(void)p;
	(void)v;
	(void)n;
}

#endif
