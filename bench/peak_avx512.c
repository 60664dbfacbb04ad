// SPDX-License-Identifier: MIT
#include <immintrin.h>

#include "peak.h"

int64_t peak_int8_avx512(uint64_t iters)
{
	__m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-5);
	__m512i a[8];

	for (int j = 0; j < 8; j++)
		a[j] = _mm512_setzero_si512();
	for (uint64_t i = 0; i < iters; i++) {
		__asm__ volatile("" : "+v"(u), "+v"(s));
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 8; j++)
			a[j] = _mm512_dpbusd_epi32(a[j], u, s);
	}
	for (int j = 1; j < 8; j++)
		a[0] = _mm512_add_epi32(a[0], a[j]);
	return _mm512_reduce_add_epi32(a[0]);
}

float peak_f32_avx512(uint64_t iters)
{
	__m512 x = _mm512_set1_ps(1.0f), m = _mm512_set1_ps(0.999f);
	__m512 a[8];

	for (int j = 0; j < 8; j++)
		a[j] = _mm512_set1_ps((float)j);
	for (uint64_t i = 0; i < iters; i++) {
		__asm__ volatile("" : "+v"(x), "+v"(m));
		_Pragma("GCC unroll 8")
		for (int j = 0; j < 8; j++)
			a[j] = _mm512_fmadd_ps(a[j], m, x);
	}
	for (int j = 1; j < 8; j++)
		a[0] = _mm512_add_ps(a[0], a[j]);
	return _mm512_reduce_add_ps(a[0]);
}
