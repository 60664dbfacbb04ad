// SPDX-License-Identifier: MIT
#include <immintrin.h>

#include "peak.h"

/* the AVX-VNNI path's int8 step: one vpdpbusd (VEX, 256-bit) */
#define STEP(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#include "peak_int8_256.inc"

int64_t peak_int8_avxvnni(uint64_t iters)
{
	return peak_int8_256(iters);
}
