// SPDX-License-Identifier: MIT
/* AVX2 + FMA + F16C dot kernels: int8 dots from maddubs + madd. */
#include <immintrin.h>

#define KERNELS_NAME "avx2"
#define KERNELS_SYM sim_kernels_avx2
#define DOT_U8S8(acc, u, s) \
	_mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), \
						  _mm256_set1_epi16(1)))
#define MADD_I16(acc, p, sc) _mm256_add_epi32((acc), _mm256_madd_epi16((p), (sc)))

#include "kernels_x86.h"
