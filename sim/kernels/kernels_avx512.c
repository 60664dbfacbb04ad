// SPDX-License-Identifier: MIT
/* AVX-512 VNNI dot kernels: int8 dots with vpdpbusd, scaled sums with vpdpwssd. */
#include <immintrin.h>

#define KERNELS_NAME "avx512"
#define KERNELS_SYM sim_kernels_avx512
#define DOT_U8S8(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define MADD_I16(acc, p, sc) _mm256_dpwssd_epi32((acc), (p), (sc))

#include "kernels_x86.h"
