/* SPDX-License-Identifier: MIT */
/*
 * Compute-peak probes: the inner instruction sequences of the model's
 * MATMUL kernels on independent accumulators, so only throughput counts.
 * Each returns a value derived from its accumulators (so the work is kept).
 * The step loops are unrolled so the accumulators live in registers: rolled,
 * gcc kept them in memory and the probes timed store-to-load forwarding
 * (AVX-512 int8 436 GOP/s instead of 935 on the 2-core Zen 4 test host, f32
 * 104 GFLOP/s instead of 234), and the AVX2 int8 probe's one maddubs per
 * round was shared by its 8 steps; each step now reads its own operand.
 */
#ifndef BENCH_PEAK_H
#define BENCH_PEAK_H

#include <stdint.h>

/*
 * @iters rounds of 8 int8 dot steps of 32 u8*s8 products each, the way the
 * path's kernels do them (AVX2: maddubs + madd + add; AVX-VNNI: vpdpbusd on
 * 256 bits; AVX-512: vpdpbusd on 512 bits, 64 products a step): ops = 2 *
 * products.
 */
int64_t peak_int8_avx2(uint64_t iters);
int64_t peak_int8_avxvnni(uint64_t iters);
int64_t peak_int8_avx512(uint64_t iters);
#define PEAK_INT8_OPS_AVX2(iters)   ((iters) * 8ull * 32 * 2)
#define PEAK_INT8_OPS_AVX512(iters) ((iters) * 8ull * 64 * 2)

/* @iters rounds of 8 FMAs of 8 (AVX2) or 16 (AVX-512) lanes: 2 flops a lane. */
float peak_f32_avx2(uint64_t iters);
float peak_f32_avx512(uint64_t iters);
#define PEAK_F32_OPS_AVX2(iters)   ((iters) * 8ull * 8 * 2)
#define PEAK_F32_OPS_AVX512(iters) ((iters) * 8ull * 16 * 2)

#endif
