/* SPDX-License-Identifier: MIT */
/*
 * ATTENTION's inner loops in AVX2/F16C (op_attention_avx2.c), chosen at run
 * time by op_attention.c. They compute bit for bit what the portable loops
 * compute (same lanes, same order, multiply then add: no FMA), so results
 * never depend on the host; only NaN payloads may differ.
 */
#ifndef OP_ATTENTION_SIMD_H
#define OP_ATTENTION_SIMD_H

#include <stdint.h>

/* F16 -> F32 of n values (F16C). */
void att_f16_to_f32_avx2(float *dst, const uint8_t *src, uint32_t n);
/* 8 partial sums, lane d % 8, combined ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)). */
float att_dot8_avx2(const float *a, const float *b, uint32_t n);
/* acc[d] += p * v[d] */
void att_axpy_avx2(float *acc, float p, const float *v, uint32_t n);

#endif /* OP_ATTENTION_SIMD_H */
