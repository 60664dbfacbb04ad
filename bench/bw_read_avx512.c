// SPDX-License-Identifier: MIT
#include <immintrin.h>

#include "bw_read.h"

uint64_t bw_read_avx512(const void *p, size_t n)
{
	const __m512i *v = p;
	__m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;

	for (size_t i = 0; i < n / 64; i += 4) {
		a = _mm512_xor_si512(a, _mm512_load_si512(v + i));
		b = _mm512_xor_si512(b, _mm512_load_si512(v + i + 1));
		c = _mm512_xor_si512(c, _mm512_load_si512(v + i + 2));
		d = _mm512_xor_si512(d, _mm512_load_si512(v + i + 3));
	}
	a = _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d));
	return (uint64_t)_mm_cvtsi128_si64(_mm512_castsi512_si128(a));
}
