/* SPDX-License-Identifier: MIT */
/*
 * mk_quant.h - ggml weight types: block geometry, quantizers and decoders.
 *
 * The quantizers follow ggml's reference rounding (ggml-quants.c quantize_row_*_ref:
 * max/-8 style scales for the 32-element types, make_qkx2_quants' weighted min/scale
 * search for Q4_K/Q5_K, make_qx_quants' scale search for Q6_K), so a file written
 * here dequantises like one written by llama-quantize from the same floats.
 * The decoders are independent of the quantizers and are what the unit test checks
 * against hand-built blocks.
 */
#ifndef MK_QUANT_H
#define MK_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ggml type ids as GGUF stores them */
enum mk_type {
	MK_F32 = 0, MK_F16 = 1, MK_Q4_0 = 2, MK_Q4_1 = 3, MK_Q5_0 = 6, MK_Q5_1 = 7,
	MK_Q8_0 = 8, MK_Q4_K = 12, MK_Q5_K = 13, MK_Q6_K = 14, MK_BF16 = 30,
};

#define MK_QK_K 256

/* elements per block (1 for the float types) and bytes per block */
int mk_type_block(enum mk_type t);
int mk_type_block_bytes(enum mk_type t);
/* ggml's name ("q4_K"), NULL for a type this tool does not know */
const char *mk_type_name(enum mk_type t);
int mk_type_known(int id);
/* bytes of one row of n elements (n a multiple of the block) */
size_t mk_row_bytes(enum mk_type t, int64_t n);

uint16_t mk_fp32_to_fp16(float f);
float mk_fp16_to_fp32(uint16_t h);
uint16_t mk_fp32_to_bf16(float f);
float mk_bf16_to_fp32(uint16_t h);

/* x: n floats (n a multiple of mk_type_block(t)); out: mk_row_bytes(t, n) bytes */
void mk_quantize_row(enum mk_type t, const float *x, void *out, int64_t n);
void mk_dequantize_row(enum mk_type t, const void *in, float *y, int64_t n);

#endif
