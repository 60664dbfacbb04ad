// SPDX-License-Identifier: MIT
/* AVX2 + FMA + F16C kernels: the x86 template with int8 dots from maddubs + madd. */
#include <immintrin.h>

#define DOT_U8S8(acc, u, s) \
	_mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), \
						  _mm256_set1_epi16(1)))
#define MADD_I16(acc, p, sc) _mm256_add_epi32((acc), _mm256_madd_epi16((p), (sc)))

#include "kernels_x86.inc"

const struct sim_kernels sim_kernels_avx2 = {
	.name = "avx2",
	SIM_X86_KERNELS_COMMON,
	.dot[ANPU_DTYPE_Q4_0] = dot_q4_0,
	.dot[ANPU_DTYPE_Q5_0] = dot_q5_0,
	.dot[ANPU_DTYPE_Q8_0] = dot_q8_0,
	.dot[ANPU_DTYPE_Q4_K] = dot_q4_K,
	.dot[ANPU_DTYPE_Q5_K] = dot_q5_K,
	.dot[ANPU_DTYPE_Q6_K] = dot_q6_K,
};
