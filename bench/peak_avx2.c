// SPDX-License-Identifier: MIT
#include <immintrin.h>
#include <string.h>

#include "peak.h"

/* maddubs + madd + add: the AVX2 kernels' int8 step */
#define STEP(acc, u, s) \
	_mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1)))
#include "peak_int8_256.inc"

int64_t peak_int8_avx2(uint64_t iters)
{
	return peak_int8_256(iters);
}

float peak_f32_avx2(uint64_t iters)
{
	__m256 x = _mm256_set1_ps(1.0f), m = _mm256_set1_ps(0.999f);
	__m256 a[8];

	for (int j = 0; j < 8; j++)
		a[j] = _mm256_set1_ps((float)j);
	for (uint64_t i = 0; i < iters; i++) {
		__asm__ volatile("" : "+x"(x), "+x"(m));
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 8; j++)
			a[j] = _mm256_fmadd_ps(a[j], m, x);
	}
	for (int j = 1; j < 8; j++)
		a[0] = _mm256_add_ps(a[0], a[j]);
	return _mm256_cvtss_f32(a[0]);
}
