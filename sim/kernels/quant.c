// SPDX-License-Identifier: MIT
/*
 * Weight row decoders (ggml's dequantize_row_* semantics, same float
 * expressions, same order) and the activation quantizers of the integer
 * matmul path.
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "hw/anpu_hwif.h"
#include "sim/sim_fp16.h"

unsigned int sim_weight_block_elems(uint32_t dtype)
{
	unsigned int e, b;

	if (!anpu_dtype_is_weight(dtype) || !anpu_dtype_layout(dtype, &e, &b))
		return 0;
	return e;
}

size_t sim_weight_row_bytes(uint32_t dtype, size_t n)
{
	unsigned int e, b;

	if (!anpu_dtype_layout(dtype, &e, &b))
		return 0;
	return n / e * b;
}

static void dequant_q4_0(const struct sim_block_q4_0 *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, y += SIM_QK) {
		const float d = sim_f16_to_f32(x[i].d);

		for (int j = 0; j < SIM_QK / 2; j++) {
			y[j] = (float)((x[i].qs[j] & 0x0f) - 8) * d;
			y[j + SIM_QK / 2] = (float)((x[i].qs[j] >> 4) - 8) * d;
		}
	}
}

static void dequant_q4_1(const struct sim_block_q4_1 *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, y += SIM_QK) {
		const float d = sim_f16_to_f32(x[i].d);
		const float m = sim_f16_to_f32(x[i].m);

		for (int j = 0; j < SIM_QK / 2; j++) {
			y[j] = (float)(x[i].qs[j] & 0x0f) * d + m;
			y[j + SIM_QK / 2] = (float)(x[i].qs[j] >> 4) * d + m;
		}
	}
}

static void dequant_q5_1(const struct sim_block_q5_1 *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, y += SIM_QK) {
		const float d = sim_f16_to_f32(x[i].d);
		const float m = sim_f16_to_f32(x[i].m);
		uint32_t qh;

		memcpy(&qh, x[i].qh, sizeof(qh));
		for (int j = 0; j < SIM_QK / 2; j++) {
			int h0 = ((qh >> j) << 4) & 0x10;
			int h1 = (qh >> (j + 12)) & 0x10;

			y[j] = (float)((x[i].qs[j] & 0x0f) | h0) * d + m;
			y[j + SIM_QK / 2] = (float)((x[i].qs[j] >> 4) | h1) * d + m;
		}
	}
}

static void dequant_q5_0(const struct sim_block_q5_0 *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, y += SIM_QK) {
		const float d = sim_f16_to_f32(x[i].d);
		uint32_t qh;

		memcpy(&qh, x[i].qh, sizeof(qh));
		for (int j = 0; j < SIM_QK / 2; j++) {
			int h0 = ((qh >> j) << 4) & 0x10;
			int h1 = (qh >> (j + 12)) & 0x10;

			y[j] = (float)(((x[i].qs[j] & 0x0f) | h0) - 16) * d;
			y[j + SIM_QK / 2] = (float)(((x[i].qs[j] >> 4) | h1) - 16) * d;
		}
	}
}

static void dequant_q5_0l(const void *row, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		struct sim_block_q5_0 blk;

		sim_q5_0l_block(row, nb, i, &blk);
		dequant_q5_0(&blk, y + i * SIM_QK, 1);
	}
}

static void dequant_q4_K(const struct sim_block_q4_K *x, float *y, size_t nb);

static void dequant_q4_kl(const void *row, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		struct sim_block_q4_K blk;

		sim_q4_kl_block(row, i, &blk);
		dequant_q4_K(&blk, y + i * SIM_QK_K, 1);
	}
}

static void dequant_q8_0(const struct sim_block_q8_0 *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++, y += SIM_QK) {
		const float d = sim_f16_to_f32(x[i].d);

		for (int j = 0; j < SIM_QK; j++)
			y[j] = (float)x[i].qs[j] * d;
	}
}

static void dequant_q4_K(const struct sim_block_q4_K *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		const float d = sim_f16_to_f32(x[i].d);
		const float min = sim_f16_to_f32(x[i].dmin);
		const uint8_t *q = x[i].qs;

		for (unsigned int c = 0; c < 4; c++, q += 32) {
			uint8_t sc, m;

			sim_q4k_scale_min(2 * c, x[i].scales, &sc, &m);
			const float d1 = d * sc, m1 = min * m;

			sim_q4k_scale_min(2 * c + 1, x[i].scales, &sc, &m);
			const float d2 = d * sc, m2 = min * m;

			for (int l = 0; l < 32; l++)
				*y++ = d1 * (float)(q[l] & 0xf) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * (float)(q[l] >> 4) - m2;
		}
	}
}

static void dequant_q5_K(const struct sim_block_q5_K *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		const float d = sim_f16_to_f32(x[i].d);
		const float min = sim_f16_to_f32(x[i].dmin);
		const uint8_t *ql = x[i].qs, *qh = x[i].qh;
		unsigned int u1 = 1, u2 = 2;

		for (unsigned int c = 0; c < 4; c++, ql += 32, u1 <<= 2, u2 <<= 2) {
			uint8_t sc, m;

			sim_q4k_scale_min(2 * c, x[i].scales, &sc, &m);
			const float d1 = d * sc, m1 = min * m;

			sim_q4k_scale_min(2 * c + 1, x[i].scales, &sc, &m);
			const float d2 = d * sc, m2 = min * m;

			for (int l = 0; l < 32; l++)
				*y++ = d1 * (float)((ql[l] & 0xf) + (qh[l] & u1 ? 16 : 0)) - m1;
			for (int l = 0; l < 32; l++)
				*y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
		}
	}
}

static void dequant_q6_K(const struct sim_block_q6_K *x, float *y, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		const float d = sim_f16_to_f32(x[i].d);
		const uint8_t *ql = x[i].ql, *qh = x[i].qh;
		const int8_t *sc = x[i].scales;

		for (int half = 0; half < 2; half++) {
			for (int l = 0; l < 32; l++) {
				int is = l / 16;
				int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
				int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
				int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
				int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

				y[l] = d * (float)sc[is + 0] * (float)q1;
				y[l + 32] = d * (float)sc[is + 2] * (float)q2;
				y[l + 64] = d * (float)sc[is + 4] * (float)q3;
				y[l + 96] = d * (float)sc[is + 6] * (float)q4;
			}
			y += 128;
			ql += 64;
			qh += 32;
			sc += 8;
		}
	}
}

void sim_dequant_row(uint32_t dtype, const void *src, float *dst, size_t n)
{
	const uint16_t *h = src;

	switch (dtype) {
	case ANPU_DTYPE_F32:	/* EMBED's table row and output may overlap (undefined values) */
		memmove(dst, src, n * sizeof(float));
		break;
	case ANPU_DTYPE_F16:
		for (size_t i = 0; i < n; i++)
			dst[i] = sim_f16_to_f32(h[i]);
		break;
	case ANPU_DTYPE_BF16:
		for (size_t i = 0; i < n; i++)
			dst[i] = sim_bf16_to_f32(h[i]);
		break;
	case ANPU_DTYPE_Q4_0:
		dequant_q4_0(src, dst, n / SIM_QK);
		break;
	case ANPU_DTYPE_Q4_1:
		dequant_q4_1(src, dst, n / SIM_QK);
		break;
	case ANPU_DTYPE_Q5_0:
		dequant_q5_0(src, dst, n / SIM_QK);
		break;
	case ANPU_DTYPE_Q5_1:
		dequant_q5_1(src, dst, n / SIM_QK);
		break;
	case ANPU_DTYPE_Q5_0L:
		dequant_q5_0l(src, dst, n / SIM_QK);
		break;
	case ANPU_DTYPE_Q8_0:
		dequant_q8_0(src, dst, n / SIM_QK);
		break;
	case ANPU_DTYPE_Q4_K:
		dequant_q4_K(src, dst, n / SIM_QK_K);
		break;
	case ANPU_DTYPE_Q4_KL:
		dequant_q4_kl(src, dst, n / SIM_QK_K);
		break;
	case ANPU_DTYPE_Q5_K:
		dequant_q5_K(src, dst, n / SIM_QK_K);
		break;
	case ANPU_DTYPE_Q6_K:
		dequant_q6_K(src, dst, n / SIM_QK_K);
		break;
	default:
		memset(dst, 0, n * sizeof(float));
		break;
	}
}

void sim_dequant_part(uint32_t dtype, const void *row, unsigned int lane, size_t row_n, size_t j,
		      float *dst, size_t n)
{
	if (dtype == ANPU_DTYPE_Q5_0L) {	/* a block's place depends on the whole row */
		for (size_t b = j / SIM_QK; b < (j + n) / SIM_QK; b++) {
			struct sim_block_q5_0 blk;

			sim_q5_0l_block(row, row_n / SIM_QK, b, &blk);
			dequant_q5_0(&blk, dst + (b * SIM_QK - j), 1);
		}
		return;
	}
	if (dtype == ANPU_DTYPE_Q4_KL) {	/* blocks 2304 bytes apart, row bytes or not */
		sim_dequant_row(dtype, (const uint8_t *)row + anpu_q4_kl_offset(
					(uint32_t)(j / SIM_QK_K), 0, 0), dst, n);
		return;
	}
	if (dtype == ANPU_DTYPE_Q4_0L) {
		for (size_t b = j / SIM_QK; b < (j + n) / SIM_QK; b++) {
			struct sim_block_q4_0 blk;

			sim_q4_0l_block(row, lane, b, &blk);
			dequant_q4_0(&blk, dst + (b * SIM_QK - j), 1);
		}
		return;
	}
	if (dtype == ANPU_DTYPE_Q6_KL) {
		for (size_t b = j / SIM_QK_K; b < (j + n) / SIM_QK_K; b++) {
			struct sim_block_q6_K blk;

			sim_q6_kl_block(row, lane, b, &blk);
			dequant_q6_K(&blk, dst + (b * SIM_QK_K - j), 1);
		}
		return;
	}
	sim_dequant_row(dtype, (const uint8_t *)row + sim_weight_row_bytes(dtype, j), dst, n);
}

/* round half away from zero, like ggml's quantizers */
static inline int8_t quant_round(float v)
{
	return (int8_t)lroundf(v);
}

void sim_quantize_row_q8(const float *x, struct sim_xblock_q8 *y, size_t n)
{
	for (size_t i = 0; i < n / SIM_QK; i++, x += SIM_QK) {
		float amax = 0.0f;

		for (int j = 0; j < SIM_QK; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		const float d = amax / 127.0f;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;
		int32_t sum = 0;

		for (int j = 0; j < SIM_QK; j++) {
			y[i].qs[j] = quant_round(x[j] * id);
			sum += y[i].qs[j];
		}
		y[i].d = d;
		y[i].sum = sum;
	}
}

void sim_quantize_row_q8K(const float *x, struct sim_xblock_q8K *y, size_t n)
{
	for (size_t i = 0; i < n / SIM_QK_K; i++, x += SIM_QK_K) {
		float amax = 0.0f;

		for (int j = 0; j < SIM_QK_K; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		const float d = amax / 127.0f;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;

		for (int j = 0; j < SIM_QK_K; j++)
			y[i].qs[j] = quant_round(x[j] * id);
		for (int g = 0; g < SIM_QK_K / 16; g++) {
			int sum = 0;

			for (int j = 0; j < 16; j++)
				sum += y[i].qs[16 * g + j];
			y[i].bsums[g] = (int16_t)sum;
		}
		y[i].d = d;
	}
}

void sim_q8_to_pairs(const struct sim_xblock_q8 *b, struct sim_xpair_q8 *y, size_t nb)
{
	for (size_t p = 0; p < (nb + 15) / 16 * 8; p++) {
		struct sim_xpair_q8 *g = &y[p & ~(size_t)7];	/* the group's first pair */

		memset(&y[p], 0, sizeof(y[p]));
		for (size_t h = 0; h < 2 && 2 * p + h < nb; h++) {
			const struct sim_xblock_q8 *x = &b[2 * p + h];

			memcpy(y[p].qs + SIM_QK * h, x->qs, SIM_QK);
			g->d[sim_xpair_lane(2 * p + h)] = x->d;
			g->off[sim_xpair_lane(2 * p + h)] = -128 * x->sum;
		}
	}
}

void sim_q8_to_quads(const struct sim_xblock_q8 *b, struct sim_xquad_q8 *y, size_t nb)
{
	for (size_t q = 0; q < (nb + 15) / 16 * 4; q++) {
		struct sim_xquad_q8 *g = &y[q & ~(size_t)3];	/* the group's first quad */

		memset(&y[q], 0, sizeof(y[q]));
		for (size_t k = 0; k < 4 && 4 * q + k < nb; k++) {
			const struct sim_xblock_q8 *x = &b[4 * q + k];
			const size_t lane = sim_xquad_lane(4 * q + k);

			memcpy(y[q].lo + 16 * k, x->qs, 16);
			memcpy(y[q].hi + 16 * k, x->qs + 16, 16);
			g->d[lane] = x->d;
			g->off[SIM_XQUAD_OFF8][lane] = -8 * x->sum;
			g->off[SIM_XQUAD_OFF16][lane] = -16 * x->sum;
		}
	}
}

/*
 * The panel builders move whole 4-byte groups (and zero only what the rows
 * leave unset): byte by byte, they and the quantizer were half of an 896x128
 * MATMUL at M = 128.
 */
void sim_q8K_to_panel(const struct sim_xblock_q8K *const *rows, unsigned int nrows,
		      struct sim_xpanel_q8K *y, size_t nsb)
{
	for (size_t i = 0; i < nsb; i++) {
		struct sim_xpanel_q8K *p = &y[i];

		if (nrows < SIM_PANEL_ROWS)	/* full panels set every byte */
			memset(p, 0, sizeof(*p));
		for (unsigned int r = 0; r < nrows; r++) {
			const struct sim_xblock_q8K *x = &rows[r][i];

			p->d[r] = x->d;
			for (unsigned int g = 0; g < SIM_QK_K / 4; g++)
				memcpy(&p->qs[g][4 * r], &x->qs[4 * g], 4);
			for (unsigned int k = 0; k < SIM_QK_K / 32; k++) {
				p->bsum16[k][2 * r] = x->bsums[2 * k];
				p->bsum16[k][2 * r + 1] = x->bsums[2 * k + 1];
			}
			for (unsigned int k = 0; k < SIM_QK_K / 64; k++) {
				p->bsum32[k][2 * r] = (int16_t)(x->bsums[4 * k] + x->bsums[4 * k + 1]);
				p->bsum32[k][2 * r + 1] = (int16_t)(x->bsums[4 * k + 2] +
								    x->bsums[4 * k + 3]);
			}
		}
	}
}

void sim_q8_to_panel(const struct sim_xblock_q8 *const *rows, unsigned int nrows,
		     int32_t off_per_sum, uint32_t qs_xor, struct sim_xpanel_q8 *y, size_t nb)
{
	for (size_t b = 0; b < nb; b++) {
		struct sim_xpanel_q8 *p = &y[b];

		if (nrows < SIM_PANEL_ROWS)
			memset(p, 0, sizeof(*p));
		for (unsigned int r = 0; r < nrows; r++) {
			const struct sim_xblock_q8 *x = &rows[r][b];

			for (unsigned int g = 0; g < SIM_QK / 4; g++) {
				uint32_t v;

				memcpy(&v, x->qs + 4 * g, 4);
				v ^= qs_xor;
				memcpy(&p->qs[g][4 * r], &v, 4);
			}
			p->off[r] = off_per_sum * x->sum;
			p->d[r] = x->d;
		}
	}
}

void sim_q8_to_lanes(const struct sim_xblock_q8 *b, size_t nb, int32_t off_per_sum,
		     enum sim_lane_order order, struct sim_xpanel_q8 *y)
{
	for (size_t g = 0; 16 * g < nb; g++) {
		struct sim_xpanel_q8 *p = &y[g];

		memset(p, 0, sizeof(*p));
		for (unsigned int i = 0; i < 16 && 16 * g + i < nb; i++) {
			const struct sim_xblock_q8 *x = &b[16 * g + i];
			const unsigned int l = order == SIM_LANES_PAIR ? sim_xpair_lane(i) :
					       order == SIM_LANES_QUAD ? sim_xquad_lane(i) : i;

			for (unsigned int t = 0; t < SIM_QK / 4; t++)
				memcpy(&p->qs[t][4 * l], x->qs + 4 * t, 4);
			p->off[l] = off_per_sum * x->sum;
			p->d[l] = x->d;
		}
	}
}
