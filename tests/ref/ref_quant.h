/* SPDX-License-Identifier: MIT */
/*
 * Independent scalar reference for the weight formats and MATMUL, written
 * from the format table (docs / qwen-and-gguf.md), not from sim/kernels:
 * element-by-element decoders in double, a double-accumulating matmul, the
 * error bound the simulator's result must meet, and random weight rows.
 */
#ifndef REF_QUANT_H
#define REF_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* IEEE half -> double, from the bit fields. */
double ref_half_to_double(uint16_t h);
/* Nearest half (ties to even is not needed: used only to make test data). */
uint16_t ref_double_to_half(double v);

/* Element i of a weight row of @dtype (any of the nine weight types). */
double ref_weight_elem(uint32_t dtype, const uint8_t *row, size_t i);

/* Bytes of a row of n elements of @dtype. */
size_t ref_row_bytes(uint32_t dtype, size_t n);

/*
 * Fill a weight row of n elements of @dtype with random quants and sane
 * scales (|d| about 2^-6, never inf/nan), deterministic for @seed.
 */
void ref_fill_weight_row(uint32_t dtype, uint8_t *row, size_t n, uint64_t *seed);
float ref_rand_float(uint64_t *seed);	/* uniform in [-1, 1) */

/*
 * y[m*n + j] = sum_i x[m*k + i] * w_j[i] (+ bias[j]) (+ y0[m*n + j]), in
 * double, with bound[m*n + j] the largest error the simulator may make:
 *   float weights: gamma_{k+3} * (sum |w x| + |bias| + |y0|), the classical
 *     bound of a float sum of k products in any order (gamma_n = n u / (1 - n u),
 *     u = 2^-24), plus two float additions;
 *   8-bit paths: x is quantized per block b (32 or 256 elements) to
 *     d_b * q with d_b = amax_b / 127 and round-to-nearest, so each x_i moves
 *     by at most d_b / 2 = amax_b / 254 (times 1 + 1e-4 for the float
 *     rounding of d_b and 1 / d_b); the dot moves by at most
 *     sum |w_i| amax_b(i) / 254, plus the float bound above applied to
 *     sum |w_i| (|x_i| + amax_b(i) / 254) (the quantized products).
 */
void ref_matmul(uint32_t dtype, const uint8_t *w, size_t w_stride,
		const float *x, const float *bias, const float *y0,
		size_t k, size_t n, size_t m, double *y, double *bound);

#endif /* REF_QUANT_H */
