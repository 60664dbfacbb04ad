// SPDX-License-Identifier: MIT
#include <immintrin.h>
#include <string.h>

#include "peak.h"

int64_t peak_int8_avx2(uint64_t iters)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i u = _mm256_set1_epi8(3), a[8];
	/* one signed operand per step, read from L1 as the kernels read theirs */
	int8_t s[8][32] __attribute__((aligned(32)));

	for (int j = 0; j < 8; j++) {
		a[j] = _mm256_setzero_si256();
		memset(s[j], -5 + j, sizeof(s[j]));
	}
	/*
	 * The asm barrier keeps u and s opaque so the loop is not folded and
	 * no step is shared; unrolled so the accumulators stay in registers.
	 */
	for (uint64_t i = 0; i < iters; i++) {
		const int8_t *sp = &s[0][0];

		__asm__ volatile("" : "+x"(u), "+r"(sp));
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 8; j++)
			a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(
				_mm256_maddubs_epi16(u, _mm256_load_si256((const __m256i *)(sp + 32 * j))),
				ones));
	}
	for (int j = 1; j < 8; j++)
		a[0] = _mm256_add_epi32(a[0], a[j]);
	return _mm256_extract_epi32(a[0], 0);
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
