// SPDX-License-Identifier: MIT
/*
 * AVX2 + AVX-VNNI kernels: kernels_avx2.c with the int8 steps as VEX
 * vpdpbusd / vpdpwssd (CPUs with AVX-VNNI and no AVX-512: Intel's client
 * cores since Alder Lake, for one). The same bits as the AVX2 path.
 */
#define SIM_AVXVNNI 1
#include "kernels_avx2.c"
