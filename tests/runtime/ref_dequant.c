/* SPDX-License-Identifier: MIT */
/* The reference's dequantisation, written from docs/hardware.md section 12. */
#include <math.h>
#include <string.h>

#include "ref_forward.h"

static float f16(const uint8_t *p)
{
	uint16_t h = (uint16_t)(p[0] | p[1] << 8);
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	float v;

	if (e == 0)
		v = ldexpf((float)m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexpf((float)(m | 0x400), e - 25);
	return h & 0x8000 ? -v : v;
}

static void q8_0(const uint8_t *b, float *y)
{
	float d = f16(b);
	int j;

	for (j = 0; j < 32; j++)
		y[j] = d * (float)(int8_t)b[2 + j];
}

static void q4_0(const uint8_t *b, float *y)
{
	float d = f16(b);
	int j;

	for (j = 0; j < 16; j++) {
		y[j] = (float)((b[2 + j] & 0x0f) - 8) * d;
		y[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
	}
}

static void q5_0(const uint8_t *b, float *y)
{
	float d = f16(b);
	uint32_t qh = (uint32_t)b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24;
	int j;

	for (j = 0; j < 16; j++) {
		int lo = (b[6 + j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
		int hi = (b[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);

		y[j] = (float)(lo - 16) * d;
		y[j + 16] = (float)(hi - 16) * d;
	}
}

/* Q4_1 (@qh NULL) and Q5_1: f16 d, f16 m, [u8 qh[4]], u8 qs[16]; y = q * d + m */
static void q_1(const uint8_t *b, const uint8_t *qh8, const uint8_t *qs, float *y)
{
	float d = f16(b), m = f16(b + 2);
	uint32_t qh = qh8 ? (uint32_t)qh8[0] | (uint32_t)qh8[1] << 8 |
			    (uint32_t)qh8[2] << 16 | (uint32_t)qh8[3] << 24 : 0;
	int j;

	for (j = 0; j < 16; j++) {
		int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
		int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);

		y[j] = (float)lo * d + m;
		y[j + 16] = (float)hi * d + m;
	}
}

static void scale_min(const uint8_t *s, int j, int *sc, int *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
		*m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
	}
}

/* Q4_K (qh NULL) and Q5_K share the layout of scales and quants */
static void qk_45(const uint8_t *b, const uint8_t *qh, const uint8_t *qs, float *y)
{
	float d = f16(b), dmin = f16(b + 2);
	int c, l, sc1, m1, sc2, m2;

	for (c = 0; c < 4; c++) {
		scale_min(b + 4, 2 * c, &sc1, &m1);
		scale_min(b + 4, 2 * c + 1, &sc2, &m2);
		for (l = 0; l < 32; l++) {
			int lo = qs[32 * c + l] & 0x0f, hi = qs[32 * c + l] >> 4;

			if (qh) {
				lo |= ((qh[l] >> (2 * c)) & 1) << 4;
				hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
			}
			y[64 * c + l] = d * (float)sc1 * (float)lo - dmin * (float)m1;
			y[64 * c + 32 + l] = d * (float)sc2 * (float)hi - dmin * (float)m2;
		}
	}
}

static void q6_k(const uint8_t *b, float *y)
{
	float d = f16(b + 208);
	int h, l;

	for (h = 0; h < 2; h++) {
		const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
		const int8_t *sc = (const int8_t *)(b + 192 + 8 * h);

		for (l = 0; l < 32; l++) {
			int is = l / 16;
			int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
			int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
			int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
			int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

			y[128 * h + l] = d * (float)sc[is] * (float)q1;
			y[128 * h + l + 32] = d * (float)sc[is + 2] * (float)q2;
			y[128 * h + l + 64] = d * (float)sc[is + 4] * (float)q3;
			y[128 * h + l + 96] = d * (float)sc[is + 6] * (float)q4;
		}
	}
}

int ref_dequant(uint32_t type, const uint8_t *src, size_t n, float *dst)
{
	size_t i;

	switch (type) {
	case 0:
		memcpy(dst, src, n * 4);
		return 0;
	case 1:
		for (i = 0; i < n; i++)
			dst[i] = f16(src + 2 * i);
		return 0;
	case 30:
		for (i = 0; i < n; i++) {
			uint32_t bits = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;

			memcpy(&dst[i], &bits, 4);
		}
		return 0;
	case 8:
		for (i = 0; i < n / 32; i++)
			q8_0(src + 34 * i, dst + 32 * i);
		return 0;
	case 2:
		for (i = 0; i < n / 32; i++)
			q4_0(src + 18 * i, dst + 32 * i);
		return 0;
	case 6:
		for (i = 0; i < n / 32; i++)
			q5_0(src + 22 * i, dst + 32 * i);
		return 0;
	case 3:
		for (i = 0; i < n / 32; i++)
			q_1(src + 20 * i, NULL, src + 20 * i + 4, dst + 32 * i);
		return 0;
	case 7:
		for (i = 0; i < n / 32; i++)
			q_1(src + 24 * i, src + 24 * i + 4, src + 24 * i + 8, dst + 32 * i);
		return 0;
	case 12:
		for (i = 0; i < n / 256; i++)
			qk_45(src + 144 * i, NULL, src + 144 * i + 16, dst + 256 * i);
		return 0;
	case 13:
		for (i = 0; i < n / 256; i++)
			qk_45(src + 176 * i, src + 176 * i + 16, src + 176 * i + 48, dst + 256 * i);
		return 0;
	case 14:
		for (i = 0; i < n / 256; i++)
			q6_k(src + 210 * i, dst + 256 * i);
		return 0;
	}
	return -1;
}
