/* SPDX-License-Identifier: MIT */
/*
 * GGUF/ggml weight block formats and their row decoders.
 *
 * The block layouts are ggml's, byte for byte, plus Q5_0L (ISA 1.2: Q5_0's
 * blocks regrouped, hw/anpu_hwif.h). Decoders evaluate the same float expressions in
 * the same order as ggml's dequantize_row_*, so they give the same bits.
 */
#ifndef SIM_KERNELS_QUANT_H
#define SIM_KERNELS_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "hw/anpu_hwif.h"

#define SIM_QK 32	/* elements of a Q4_0/Q5_0/Q8_0 block */
#define SIM_QK_K 256	/* elements of a K-quant super-block */

/* All fp16 fields are IEEE half bit patterns. */
struct sim_block_q4_0 {
	uint16_t d;
	uint8_t qs[SIM_QK / 2];	/* element j: low nibble of qs[j], j+16: high */
};

struct sim_block_q5_0 {
	uint16_t d;
	uint8_t qh[4];		/* bit j: 5th bit of element j (little endian u32) */
	uint8_t qs[SIM_QK / 2];
};

/* Q4_1/Q5_1 (ISA 1.1): w = d * q + m, q unsigned */
struct sim_block_q4_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qs[SIM_QK / 2];
};

struct sim_block_q5_1 {
	uint16_t d;
	uint16_t m;
	uint8_t qh[4];
	uint8_t qs[SIM_QK / 2];
};

struct sim_block_q8_0 {
	uint16_t d;
	int8_t qs[SIM_QK];
};

struct sim_block_q4_K {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[12];	/* 8 x (6-bit scale, 6-bit min) */
	uint8_t qs[SIM_QK_K / 2];
};

struct sim_block_q5_K {
	uint16_t d;
	uint16_t dmin;
	uint8_t scales[12];
	uint8_t qh[SIM_QK_K / 8];
	uint8_t qs[SIM_QK_K / 2];
};

struct sim_block_q6_K {
	uint8_t ql[SIM_QK_K / 2];
	uint8_t qh[SIM_QK_K / 4];
	int8_t scales[SIM_QK_K / 16];
	uint16_t d;
};

_Static_assert(sizeof(struct sim_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(struct sim_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(struct sim_block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(struct sim_block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(struct sim_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(struct sim_block_q4_K) == 144, "q4_K block");
_Static_assert(sizeof(struct sim_block_q5_K) == 176, "q5_K block");
_Static_assert(sizeof(struct sim_block_q6_K) == 210, "q6_K block");

/*
 * Activations quantized once per op for the integer dot products.
 * q8_0-style for the 32-element weight blocks: d = amax / 127, and the sum of
 * the quants so a weight offset (q4_0's -8, q5_0's -16) folds into the
 * integer sum exactly, and a weight minimum (q4_1's and q5_1's m) adds
 * m * d * sum.
 */
struct sim_xblock_q8 {
	float d;
	int32_t sum;
	int8_t qs[SIM_QK];
};

/*
 * Two sim_xblock_q8 (blocks 2p, 2p+1 of a row) laid out for the 512-bit Q8_0
 * kernels: both blocks' quants in one zmm. Scales and offsets are per group
 * of 8 pairs (16 blocks), in the group's first pair and in the kernels' lane
 * order: d[4 * (2h + b % 2) + b % 8 / 2] is the d of block b (h = b % 16 / 8)
 * of the group, off[] there its -128 * sum; the other pairs' are zero. A row is whole groups: missing blocks
 * and pairs at its end are all zero. The same values as sim_quantize_row_q8.
 */
static inline unsigned int sim_xpair_lane(size_t b)
{
	return (unsigned int)(4 * (2 * (b % 16 / 8) + b % 2) + b % 8 / 2);
}

struct sim_xpair_q8 {
	int8_t qs[2 * SIM_QK];
	float d[16];
	int32_t off[16];	/* -128 * sum, in d's lanes (the kernels take w + 128) */
};

_Static_assert(sizeof(struct sim_xpair_q8) == 192, "q8 pair");

/*
 * Four sim_xblock_q8 (blocks 4q..4q+3) for the 512-bit Q4_0/Q5_0 kernels,
 * in the order of the weights' nibbles: lo holds elements 0..15 of each
 * block, hi elements 16..31 (block k of the quad at 16 * k). Scales and
 * offsets are per group of 4 quads (16 blocks), in the group's first quad
 * (4g) and in the kernels' lane order: d[4k + q] is the d of block
 * 16g + 4q + k, off[o][4k + q] its -8 * sum (SIM_XQUAD_OFF8, Q4_0) or
 * -16 * sum (SIM_XQUAD_OFF16, Q5_0); the other quads' d and off are zero.
 * A row is whole groups: missing blocks and quads at its end are all zero.
 */
enum { SIM_XQUAD_OFF8, SIM_XQUAD_OFF16, SIM_XQUAD_NOFF };

struct sim_xquad_q8 {
	int8_t lo[64];
	int8_t hi[64];
	float d[16];
	int32_t off[SIM_XQUAD_NOFF][16];
};

_Static_assert(sizeof(struct sim_xquad_q8) == 320, "q8 quad");

/* the lane of block b's d and off (and of its partial sum in the kernels) */
static inline unsigned int sim_xquad_lane(size_t b)
{
	return (unsigned int)(4 * (b % 4) + b / 4 % 4);
}

/* q8_K-style for K-quants: one scale per 256, sums per 16 elements. */
struct sim_xblock_q8K {
	float d;
	int8_t qs[SIM_QK_K];
	int16_t bsums[SIM_QK_K / 16];
};

/*
 * One super-block of SIM_PANEL_ROWS sim_xblock_q8K rows, interleaved for the
 * K-quant panel kernels, which keep one x row per 32-bit lane (AVX-512: 16
 * per zmm; AVX2: rows 0..7 and 8..15 in two ymm): qs[g]
 * holds quants 4g..4g+3 of every row (row r at 4r), bsum16[k] the 16-element
 * sums 2k and 2k+1 of row r as an int16 pair at 2r, bsum32[k] likewise the
 * 32-element sums 2k and 2k+1 (sums of bsums pairs), d the rows' scales.
 * Rows past a panel's end are all zero.
 */
#define SIM_PANEL_ROWS 16

struct sim_xpanel_q8K {
	int8_t qs[SIM_QK_K / 4][SIM_PANEL_ROWS * 4];
	int16_t bsum16[SIM_QK_K / 32][SIM_PANEL_ROWS * 2];
	int16_t bsum32[SIM_QK_K / 64][SIM_PANEL_ROWS * 2];
	float d[SIM_PANEL_ROWS];
};

_Static_assert(sizeof(struct sim_xpanel_q8K) % 64 == 0, "q8K panel: whole cache lines");

/*
 * One 32-element block of SIM_PANEL_ROWS rows for the Q4_0/Q5_0/Q8_0 panel
 * kernels, x rows in 32-bit lanes as above: qs[g] quants 4g..4g+3 of row r at
 * 4r (Q8_0: x + 128, unsigned), off the rows' -8 * sum (Q4_0) or -16 * sum
 * (Q5_0; 0 for Q8_0), d their scales (sim_q8_to_panel). The lane form
 * (sim_q8_to_lanes) reuses it for 16 blocks of one row, a block in a lane:
 * x as it is (Q8_0 too, with off its -128 * sum).
 */
struct sim_xpanel_q8 {
	int8_t qs[SIM_QK / 4][SIM_PANEL_ROWS * 4];
	int32_t off[SIM_PANEL_ROWS];
	float d[SIM_PANEL_ROWS];
};

_Static_assert(sizeof(struct sim_xpanel_q8) % 64 == 0, "q8 panel: whole cache lines");

/* 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block. */
static inline void sim_q4k_scale_min(unsigned int j, const uint8_t *s,
				     uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (uint8_t)((s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4));
		*m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
	}
}

/* Elements per block and bytes per block of a weight dtype (0 if not one). */
unsigned int sim_weight_block_elems(uint32_t dtype);
size_t sim_weight_row_bytes(uint32_t dtype, size_t n);

/*
 * Decode n elements (a whole number of blocks) of a weight row of @dtype.
 * Unknown dtypes, and Q6_KL and Q4_0L (whose rows need their lane: sim_dequant_part()),
 * write zeros (op check() rejects unknown ones before any run).
 */
void sim_dequant_row(uint32_t dtype, const void *src, float *dst, size_t n);

/*
 * Elements [j, j + n) of a weight row of @row_n elements (j and n whole
 * blocks): sim_dequant_row() of that part, for layouts such as Q5_0L whose
 * blocks' places depend on the whole row. Q4_KL/Q6_KL/Q4_0L: @row is
 * sim_tensor_row()'s, @lane the row's index % 16 (ignored by other types).
 */
void sim_dequant_part(uint32_t dtype, const void *row, unsigned int lane, size_t row_n, size_t j,
		      float *dst, size_t n);

/* Block @b of a Q5_0L row of @nb blocks (hw/anpu_hwif.h) as the Q5_0 block it holds. */
static inline void sim_q5_0l_block(const void *row, size_t nb, size_t b, struct sim_block_q5_0 *out)
{
	const uint8_t *r = row;
	uint32_t qs, plane, qh, d;

	anpu_q5_0l_offsets((uint32_t)nb, (uint32_t)b, &qs, &plane, &qh, &d);
	memcpy(&out->d, r + d, sizeof(out->d));
	memcpy(out->qh, r + qh, sizeof(out->qh));
	for (unsigned int t = 0; t < 4; t++)
		memcpy(out->qs + 4 * t, r + qs + t * plane, 4);
}

/*
 * Block @i of a Q4_KL row (hw/anpu_hwif.h) as the Q4_K block it holds; @row
 * is the row's first dword in its group (sim_tensor_row()), so dword p of
 * block i is at row + anpu_q4_kl_offset(i, p, 0).
 */
static inline void sim_q4_kl_block(const void *row, size_t i, struct sim_block_q4_K *out)
{
	const uint8_t *r = (const uint8_t *)row + anpu_q4_kl_offset((uint32_t)i, 0, 0);
	uint8_t *o = (uint8_t *)out;

	for (unsigned int p = 0; p < ANPU_Q4_KL_DWORDS; p++)
		memcpy(o + 4 * p, r + 64 * p, 4);
}

/*
 * Dwords 0 .. @ndw - 1 (a multiple of 4) of four lanes' block, 64 bytes a
 * dword apart from @s (lane l's first dword), to four rows at @d, @dst_stride
 * bytes apart: 4 x 4 dwords at a time.
 */
static inline void sim_kl_dwords4(const uint8_t *s, unsigned int ndw, uint8_t *d, size_t dst_stride)
{
	for (unsigned int p = 0; p < ndw; p += 4) {
#if defined(__SSE2__)
		__m128 a = _mm_loadu_ps((const float *)(s + 64 * p));
		__m128 b = _mm_loadu_ps((const float *)(s + 64 * p + 64));
		__m128 c = _mm_loadu_ps((const float *)(s + 64 * p + 128));
		__m128 e = _mm_loadu_ps((const float *)(s + 64 * p + 192));

		_MM_TRANSPOSE4_PS(a, b, c, e);	/* a: lane l's dwords p .. p + 3 */
		_mm_storeu_ps((float *)(d + 4 * p), a);
		_mm_storeu_ps((float *)(d + dst_stride + 4 * p), b);
		_mm_storeu_ps((float *)(d + 2 * dst_stride + 4 * p), c);
		_mm_storeu_ps((float *)(d + 3 * dst_stride + 4 * p), e);
#else
		for (unsigned int q = 0; q < 4; q++)
			for (unsigned int r = 0; r < 4; r++)
				memcpy(d + r * dst_stride + 4 * (p + q), s + 64 * (p + q) + 4 * r, 4);
#endif
	}
}

/*
 * Rows l .. l + 3 of a Q4_KL group (@row: row l's first dword, l a multiple
 * of 4; blocks 0 .. @nsb - 1) as four Q4_K rows at @dst, @dst_stride bytes
 * apart.
 */
static inline void sim_q4_kl_rows4(const void *row, size_t nsb, uint8_t *dst, size_t dst_stride)
{
	for (size_t i = 0; i < nsb; i++)
		sim_kl_dwords4((const uint8_t *)row + anpu_q4_kl_offset((uint32_t)i, 0, 0),
			       ANPU_Q4_KL_DWORDS, dst + i * sizeof(struct sim_block_q4_K), dst_stride);
}

/*
 * Block @i of a Q6_KL row (hw/anpu_hwif.h) as the Q6_K block it holds; @row
 * is the row's first dword in its group (sim_tensor_row()) and @lane its
 * place there (the row index % 16): its d is 2 bytes a lane apart, not 4.
 */
static inline void sim_q6_kl_block(const void *row, unsigned int lane, size_t i,
				   struct sim_block_q6_K *out)
{
	const uint8_t *r = (const uint8_t *)row + anpu_q6_kl_offset((uint32_t)i, 0, 0);
	uint8_t *o = (uint8_t *)out;

	for (unsigned int p = 0; p < ANPU_Q6_KL_DWORDS; p++)
		memcpy(o + 4 * p, r + 64 * p, 4);
	memcpy(&out->d, r + 64 * ANPU_Q6_KL_DWORDS - 2 * lane, sizeof(out->d));
}

/*
 * Rows l .. l + 3 of a group of 16 rows of @nb blocks of @block_bytes whose
 * @ndw dwords and f16 d are interleaved as Q6_KL's and Q4_0L's (@row: row
 * l's first dword, @lane = l a multiple of 4) as plain rows at @dst,
 * @dst_stride bytes apart, a block's dwords at @dw_at and its d at @d_at.
 */
static inline void sim_kl_rows4_d(const void *row, unsigned int lane, size_t nb, size_t block_bytes,
				  unsigned int ndw, size_t dw_at, size_t d_at, uint8_t *dst,
				  size_t dst_stride)
{
	for (size_t i = 0; i < nb; i++) {
		const uint8_t *s = (const uint8_t *)row + i * ANPU_Q4_KL_GROUP * block_bytes;
		uint8_t *d = dst + i * block_bytes;

		sim_kl_dwords4(s, ndw, d + dw_at, dst_stride);
		for (unsigned int r = 0; r < 4; r++)	/* lane + r's d */
			memcpy(d + r * dst_stride + d_at, s + 64 * ndw - 2 * lane + 2 * r, 2);
	}
}

/* Rows l .. l + 3 of a Q6_KL group (@row: row l's first dword, @lane = l a multiple of 4) as Q6_K rows. */
static inline void sim_q6_kl_rows4(const void *row, unsigned int lane, size_t nsb, uint8_t *dst,
				   size_t dst_stride)
{
	sim_kl_rows4_d(row, lane, nsb, sizeof(struct sim_block_q6_K), ANPU_Q6_KL_DWORDS, 0,
		       offsetof(struct sim_block_q6_K, d), dst, dst_stride);
}

/*
 * Block @i of a Q4_0L row (hw/anpu_hwif.h) as the Q4_0 block it holds; @row
 * is the row's first dword in its group (sim_tensor_row()) and @lane its
 * place there (the row index % 16): its d is 2 bytes a lane apart, not 4.
 */
static inline void sim_q4_0l_block(const void *row, unsigned int lane, size_t i,
				   struct sim_block_q4_0 *out)
{
	const uint8_t *r = (const uint8_t *)row + anpu_q4_0l_offset((uint32_t)i, 0, 0);

	for (unsigned int t = 0; t < ANPU_Q4_0L_DWORDS; t++)
		memcpy(out->qs + 4 * t, r + 64 * t, 4);
	memcpy(&out->d, r + 64 * ANPU_Q4_0L_DWORDS - 2 * lane, sizeof(out->d));
}

/* Rows l .. l + 3 of a Q4_0L group (@row: row l's first dword, @lane = l a multiple of 4) as Q4_0 rows. */
static inline void sim_q4_0l_rows4(const void *row, unsigned int lane, size_t nb, uint8_t *dst,
				   size_t dst_stride)
{
	sim_kl_rows4_d(row, lane, nb, sizeof(struct sim_block_q4_0), ANPU_Q4_0L_DWORDS,
		       offsetof(struct sim_block_q4_0, qs), offsetof(struct sim_block_q4_0, d), dst,
		       dst_stride);
}

/* Activation quantizers (portable; exact same results on every path). */
void sim_quantize_row_q8(const float *x, struct sim_xblock_q8 *y, size_t n);
void sim_quantize_row_q8K(const float *x, struct sim_xblock_q8K *y, size_t n);

/* Pair form from q8 blocks (nb blocks -> (nb + 15) / 16 * 8 pairs). */
void sim_q8_to_pairs(const struct sim_xblock_q8 *b, struct sim_xpair_q8 *y, size_t nb);
/*
 * Panel form of rows[0 .. nrows - 1] (nrows <= SIM_PANEL_ROWS), each nsb
 * super-blocks: y[0 .. nsb - 1].
 */
void sim_q8K_to_panel(const struct sim_xblock_q8K *const *rows, unsigned int nrows,
		      struct sim_xpanel_q8K *y, size_t nsb);
/*
 * Panel form of q8 block rows[0 .. nrows - 1] (each nb blocks): the rows'
 * off_per_sum * sum as off (-8: Q4_0, -16: Q5_0, 0: Q8_0), each quant dword
 * xor @qs_xor (0x80808080: Q8_0's x + 128): y[0 .. nb - 1].
 */
void sim_q8_to_panel(const struct sim_xblock_q8 *const *rows, unsigned int nrows,
		     int32_t off_per_sum, uint32_t qs_xor, struct sim_xpanel_q8 *y, size_t nb);
/* Which lane of a lane-form group holds block i of the group. */
enum sim_lane_order {
	SIM_LANES_QUAD,		/* sim_xquad_lane(i): Q4_0/Q5_0 */
	SIM_LANES_PAIR,		/* sim_xpair_lane(i): Q8_0 */
	SIM_LANES_BLOCK,	/* lane i: Q5_0L, whose groups are stored that way */
};

/*
 * Lane form from q8 blocks (nb blocks -> (nb + 15) / 16 groups): group g is a
 * struct sim_xpanel_q8 whose lane (by @order) for block 16 g + i holds it as
 * sim_q8_to_panel() would hold a row (no xor), lanes past the row zero.
 */
void sim_q8_to_lanes(const struct sim_xblock_q8 *b, size_t nb, int32_t off_per_sum,
		     enum sim_lane_order order, struct sim_xpanel_q8 *y);
/* Quad form from q8 blocks (nb blocks -> (nb + 15) / 16 * 4 quads). */
void sim_q8_to_quads(const struct sim_xblock_q8 *b, struct sim_xquad_q8 *y, size_t nb);

#endif /* SIM_KERNELS_QUANT_H */
