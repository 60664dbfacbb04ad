// SPDX-License-Identifier: MIT
#include <immintrin.h>

#include "bw_read.h"

uint64_t bw_read_avx2(const void *p, size_t n)
{
	const __m256i *v = p;
	__m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;

	for (size_t i = 0; i < n / 32; i += 8) {
		a = _mm256_xor_si256(a, _mm256_load_si256(v + i));
		b = _mm256_xor_si256(b, _mm256_load_si256(v + i + 1));
		c = _mm256_xor_si256(c, _mm256_load_si256(v + i + 2));
		d = _mm256_xor_si256(d, _mm256_load_si256(v + i + 3));
		a = _mm256_xor_si256(a, _mm256_load_si256(v + i + 4));
		b = _mm256_xor_si256(b, _mm256_load_si256(v + i + 5));
		c = _mm256_xor_si256(c, _mm256_load_si256(v + i + 6));
		d = _mm256_xor_si256(d, _mm256_load_si256(v + i + 7));
	}
	a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
	return (uint64_t)_mm256_extract_epi64(a, 0);
}
