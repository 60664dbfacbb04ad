// SPDX-License-Identifier: MIT
#include <immintrin.h>
#include <string.h>

#include "peak.h"

/* peak_int8_avx2's probe with the AVX-VNNI path's int8 step: one vpdpbusd (VEX) */
int64_t peak_int8_avxvnni(uint64_t iters)
{
	__m256i u = _mm256_set1_epi8(3), a[8];
	int8_t s[8][32] __attribute__((aligned(32)));

	for (int j = 0; j < 8; j++) {
		a[j] = _mm256_setzero_si256();
		memset(s[j], -5 + j, sizeof(s[j]));
	}
	for (uint64_t i = 0; i < iters; i++) {
		const int8_t *sp = &s[0][0];

		__asm__ volatile("" : "+x"(u), "+r"(sp));
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 8; j++)
			a[j] = _mm256_dpbusd_avx_epi32(a[j], u,
						       _mm256_load_si256((const __m256i *)(sp + 32 * j)));
	}
	for (int j = 1; j < 8; j++)
		a[0] = _mm256_add_epi32(a[0], a[j]);
	return _mm256_extract_epi32(a[0], 0);
}
