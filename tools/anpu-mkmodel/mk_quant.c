// SPDX-License-Identifier: MIT
/* ggml weight types: quantizers with ggml's reference rounding, and decoders. */
#include "mk_quant.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define QK 32
#define GROUP_MAX_EPS 1e-15f

static const struct {
	enum mk_type type;
	const char *name;
	int block, bytes;
} types[] = {
	{ MK_F32, "f32", 1, 4 },       { MK_F16, "f16", 1, 2 },       { MK_BF16, "bf16", 1, 2 },
	{ MK_Q4_0, "q4_0", 32, 18 },   { MK_Q4_1, "q4_1", 32, 20 },   { MK_Q5_0, "q5_0", 32, 22 },
	{ MK_Q5_1, "q5_1", 32, 24 },   { MK_Q8_0, "q8_0", 32, 34 },   { MK_Q4_K, "q4_K", 256, 144 },
	{ MK_Q5_K, "q5_K", 256, 176 }, { MK_Q6_K, "q6_K", 256, 210 },
};

static int type_index(int id)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((int)types[i].type == id)
			return (int)i;
	return -1;
}

int mk_type_known(int id) { return type_index(id) >= 0; }
int mk_type_block(enum mk_type t) { return types[type_index(t)].block; }
int mk_type_block_bytes(enum mk_type t) { return types[type_index(t)].bytes; }

const char *mk_type_name(enum mk_type t)
{
	int i = type_index(t);

	return i < 0 ? NULL : types[i].name;
}

size_t mk_row_bytes(enum mk_type t, int64_t n)
{
	return (size_t)(n / mk_type_block(t)) * (size_t)mk_type_block_bytes(t);
}

/* ---- half and bfloat16 (round to nearest even, as ggml's conversions) ---- */

uint16_t mk_fp32_to_fp16(float f)
{
	uint32_t x, sign, absx, mant, h, rem;

	memcpy(&x, &f, 4);
	sign = (x >> 16) & 0x8000;
	absx = x & 0x7fffffff;
	if (absx > 0x7f800000)
		return (uint16_t)(sign | 0x7e00);
	if (absx >= 0x477ff000) /* 65520 and up round to infinity */
		return (uint16_t)(sign | 0x7c00);
	if (absx < 0x38800000) /* below 2^-14: subnormal; exact scaling, then RNE */
		return (uint16_t)(sign | (uint32_t)nearbyintf(fabsf(f) * 16777216.0f));
	mant = absx & 0x7fffff;
	h = ((((absx >> 23) - 127 + 15)) << 10) | (mant >> 13);
	rem = mant & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;
	return (uint16_t)(sign | h);
}

float mk_fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 1023, x;
	float f;

	if (e == 0) {
		f = ldexpf((float)m, -24);
		return sign ? -f : f;
	}
	if (e == 31)
		x = sign | 0x7f800000 | (m << 13);
	else
		x = sign | ((e - 15 + 127) << 23) | (m << 13);
	memcpy(&f, &x, 4);
	return f;
}

uint16_t mk_fp32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffff) > 0x7f800000) /* NaN stays quiet NaN */
		return (uint16_t)((u >> 16) | 64);
	return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

float mk_bf16_to_fp32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* ggml's nearest_int: round half to even through the float mantissa */
static int nearest_int(float fval)
{
	float val = fval + 12582912.f;
	int i;

	memcpy(&i, &val, 4);
	return (i & 0x007fffff) - 0x00400000;
}

static void put_f16(uint8_t *p, float f)
{
	uint16_t h = mk_fp32_to_fp16(f);

	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(h >> 8);
}

static float get_f16(const uint8_t *p) { return mk_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); }

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- 32-element types ---- */

/* value of largest magnitude (with its sign) */
static float signed_absmax(const float *x, float *amax_out)
{
	float amax = 0, max = 0;

	for (int j = 0; j < QK; j++)
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	if (amax_out)
		*amax_out = amax;
	return max;
}

static void min_max(const float *x, float *mn, float *mx)
{
	*mn = INFINITY;
	*mx = -INFINITY;
	for (int j = 0; j < QK; j++) {
		*mn = x[j] < *mn ? x[j] : *mn;
		*mx = x[j] > *mx ? x[j] : *mx;
	}
}

static void q4_0_block(const float *x, uint8_t *b)
{
	float d = signed_absmax(x, NULL) / -8, id = d ? 1.0f / d : 0.0f;

	put_f16(b, d);
	for (int j = 0; j < QK / 2; j++) {
		int x0 = (int8_t)(x[j] * id + 8.5f), x1 = (int8_t)(x[QK / 2 + j] * id + 8.5f);

		x0 = x0 < 15 ? x0 : 15;
		x1 = x1 < 15 ? x1 : 15;
		b[2 + j] = (uint8_t)(x0 | x1 << 4);
	}
}

static void q4_1_block(const float *x, uint8_t *b)
{
	float mn, mx, d, id;

	min_max(x, &mn, &mx);
	d = (mx - mn) / 15;
	id = d ? 1.0f / d : 0.0f;
	put_f16(b, d);
	put_f16(b + 2, mn);
	for (int j = 0; j < QK / 2; j++) {
		int x0 = (int8_t)((x[j] - mn) * id + 0.5f), x1 = (int8_t)((x[QK / 2 + j] - mn) * id + 0.5f);

		x0 = x0 < 15 ? x0 : 15;
		x1 = x1 < 15 ? x1 : 15;
		b[4 + j] = (uint8_t)(x0 | x1 << 4);
	}
}

/* five-bit values q[32] -> qh (u32 at qh_at) + nibbles at qs_at, the Q5_0/Q5_1 layout */
static void pack5(const int *q, uint8_t *qh_at, uint8_t *qs_at)
{
	uint32_t qh = 0;

	for (int j = 0; j < QK / 2; j++) {
		qs_at[j] = (uint8_t)((q[j] & 15) | (q[j + 16] & 15) << 4);
		qh |= (uint32_t)((q[j] >> 4) & 1) << j;
		qh |= (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
	}
	put_u32(qh_at, qh);
}

static void q5_0_block(const float *x, uint8_t *b)
{
	float d = signed_absmax(x, NULL) / -16, id = d ? 1.0f / d : 0.0f;
	int q[QK];

	put_f16(b, d);
	for (int j = 0; j < QK; j++) {
		q[j] = (int8_t)(x[j] * id + 16.5f);
		q[j] = q[j] < 31 ? q[j] : 31;
	}
	pack5(q, b + 2, b + 6);
}

static void q5_1_block(const float *x, uint8_t *b)
{
	float mn, mx, d, id;
	int q[QK];

	min_max(x, &mn, &mx);
	d = (mx - mn) / 31;
	id = d ? 1.0f / d : 0.0f;
	put_f16(b, d);
	put_f16(b + 2, mn);
	for (int j = 0; j < QK; j++)
		q[j] = (uint8_t)((x[j] - mn) * id + 0.5f);
	pack5(q, b + 4, b + 8);
}

static void q8_0_block(const float *x, uint8_t *b)
{
	float amax, d, id;

	signed_absmax(x, &amax);
	d = amax / 127;
	id = d ? 1.0f / d : 0.0f;
	put_f16(b, d);
	for (int j = 0; j < QK; j++)
		b[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

/* ---- K-quants ---- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ggml's make_qkx2_quants: weighted search of (scale, min) for levels 0..nmax */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w, uint8_t *L,
			      float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep)
{
	float mn = x[0], mx = x[0], sum_w = w[0], sum_x = w[0] * x[0], iscale, scale, best_error = 0;

	for (int i = 1; i < n; i++) {
		mn = x[i] < mn ? x[i] : mn;
		mx = x[i] > mx ? x[i] : mx;
		sum_w += w[i];
		sum_x += w[i] * x[i];
	}
	if (mn > 0)
		mn = 0;
	if (mx == mn) {
		memset(L, 0, (size_t)n);
		*the_min = -mn;
		return 0.f;
	}
	iscale = nmax / (mx - mn);
	scale = 1 / iscale;
	for (int i = 0; i < n; i++) {
		float diff;

		L[i] = (uint8_t)clampi(nearest_int(iscale * (x[i] - mn)), 0, nmax);
		diff = scale * L[i] + mn - x[i];
		best_error += w[i] * diff * diff;
	}
	for (int is = 0; is <= nstep; is++) {
		float sum_l = 0, sum_l2 = 0, sum_xl = 0, D;

		iscale = (rmin + rdelta * is + nmax) / (mx - mn);
		for (int i = 0; i < n; i++) {
			int l = clampi(nearest_int(iscale * (x[i] - mn)), 0, nmax);

			Laux[i] = (uint8_t)l;
			sum_l += w[i] * l;
			sum_l2 += w[i] * l * l;
			sum_xl += w[i] * l * x[i];
		}
		D = sum_w * sum_l2 - sum_l * sum_l;
		if (D > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D, cur_error = 0;

			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			for (int i = 0; i < n; i++) {
				float diff = this_scale * Laux[i] + this_min - x[i];

				cur_error += w[i] * diff * diff;
			}
			if (cur_error < best_error) {
				memcpy(L, Laux, (size_t)n);
				best_error = cur_error;
				scale = this_scale;
				mn = this_min;
			}
		}
	}
	*the_min = -mn;
	return scale;
}

static void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
	if (j < 4) {
		*d = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
	}
}

/*
 * The shared part of Q4_K and Q5_K: per-sub-block (scale, min) search, 6-bit scales
 * packed into sc[12], d/dmin at b[0..3], levels 0..nmax into L[256].
 */
static void kquant_scales(const float *x, uint8_t *b, uint8_t *sc, uint8_t *L, int nmax,
			  float rmin, int nstep)
{
	float mins[8], scales[8], weights[32], max_scale = 0, max_min = 0, inv_scale, inv_min;
	uint8_t Laux[32];

	for (int j = 0; j < 8; j++) {
		float sum_x2 = 0, av_x;

		for (int l = 0; l < 32; l++)
			sum_x2 += x[32 * j + l] * x[32 * j + l];
		av_x = sqrtf(sum_x2 / 32);
		for (int l = 0; l < 32; l++)
			weights[l] = av_x + fabsf(x[32 * j + l]);
		scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
					     rmin, 0.1f, nstep);
		max_scale = scales[j] > max_scale ? scales[j] : max_scale;
		max_min = mins[j] > max_min ? mins[j] : max_min;
	}
	inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	inv_min = max_min > 0 ? 63.f / max_min : 0.f;
	memset(sc, 0, 12);
	for (int j = 0; j < 8; j++) {
		int ls = nearest_int(inv_scale * scales[j]), lm = nearest_int(inv_min * mins[j]);

		ls = ls < 63 ? ls : 63;
		lm = lm < 63 ? lm : 63;
		if (j < 4) {
			sc[j] = (uint8_t)ls;
			sc[j + 4] = (uint8_t)lm;
		} else {
			sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
			sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
			sc[j - 0] |= (uint8_t)((lm >> 4) << 6);
		}
	}
	put_f16(b, max_scale / 63.f);
	put_f16(b + 2, max_min / 63.f);
	for (int j = 0; j < 8; j++) {
		uint8_t s, m;
		float d, dm;

		get_scale_min_k4(j, sc, &s, &m);
		d = get_f16(b) * s;
		if (!d)
			continue;
		dm = get_f16(b + 2) * m;
		for (int ii = 0; ii < 32; ii++)
			L[32 * j + ii] = (uint8_t)clampi(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
	}
}

/* block_q4_K: d, dmin, scales[12], qs[128] */
static void q4_k_block(const float *x, uint8_t *b)
{
	uint8_t L[MK_QK_K], *q = b + 16;

	kquant_scales(x, b, b + 4, L, 15, -1.f, 20);
	for (int j = 0; j < MK_QK_K; j += 64, q += 32)
		for (int l = 0; l < 32; l++)
			q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
}

/* block_q5_K: d, dmin, scales[12], qh[32], qs[128] */
static void q5_k_block(const float *x, uint8_t *b)
{
	uint8_t L[MK_QK_K], *qh = b + 16, *ql = b + 48, m1 = 1, m2 = 2;

	kquant_scales(x, b, b + 4, L, 31, -0.5f, 15);
	memset(qh, 0, 32);
	for (int n = 0; n < MK_QK_K; n += 64, ql += 32) {
		for (int j = 0; j < 32; j++) {
			int l1 = L[n + j], l2 = L[n + j + 32];

			if (l1 > 15) {
				l1 -= 16;
				qh[j] |= m1;
			}
			if (l2 > 15) {
				l2 -= 16;
				qh[j] |= m2;
			}
			ql[j] = (uint8_t)(l1 | (l2 << 4));
		}
		m1 = (uint8_t)(m1 << 2);
		m2 = (uint8_t)(m2 << 2);
	}
}

/* ggml's make_qx_quants with rmse_type 1 (weights x^2): symmetric levels -nmax..nmax-1 */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
	float max = 0, amax = 0, iscale, sumlx = 0, suml2 = 0, scale, best;

	for (int i = 0; i < n; i++)
		if (fabsf(x[i]) > amax) {
			amax = fabsf(x[i]);
			max = x[i];
		}
	if (amax < GROUP_MAX_EPS) {
		memset(L, 0, (size_t)n);
		return 0.f;
	}
	iscale = -nmax / max;
	for (int i = 0; i < n; i++) {
		int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
		float w = x[i] * x[i];

		L[i] = (int8_t)(l + nmax);
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	scale = suml2 ? sumlx / suml2 : 0.0f;
	best = scale * sumlx;
	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = suml2 = 0;
		for (int i = 0; i < n; i++) {
			int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
			float w = x[i] * x[i];

			sumlx += w * x[i] * l;
			suml2 += w * l * l;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (int i = 0; i < n; i++)
				L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

/* block_q6_K: ql[128], qh[64], int8 scales[16], d */
static void q6_k_block(const float *x, uint8_t *b)
{
	int8_t L[MK_QK_K], *bsc = (int8_t *)(b + 192);
	float scales[16], max_scale = 0, max_abs_scale = 0, iscale;
	uint8_t *ql = b, *qh = b + 128;

	for (int ib = 0; ib < 16; ib++) {
		scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
		if (fabsf(scales[ib]) > max_abs_scale) {
			max_abs_scale = fabsf(scales[ib]);
			max_scale = scales[ib];
		}
	}
	memset(b, 0, 210);
	if (max_abs_scale < GROUP_MAX_EPS)
		return;
	iscale = -128.f / max_scale;
	put_f16(b + 208, 1 / iscale);
	for (int ib = 0; ib < 16; ib++) {
		int s = nearest_int(iscale * scales[ib]);

		bsc[ib] = (int8_t)(s < 127 ? s : 127);
	}
	for (int j = 0; j < 16; j++) {
		float d = get_f16(b + 208) * bsc[j];

		if (!d)
			continue;
		for (int ii = 0; ii < 16; ii++)
			L[16 * j + ii] = (int8_t)(clampi(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
	}
	for (int j = 0; j < MK_QK_K; j += 128, ql += 64, qh += 32) {
		for (int l = 0; l < 32; l++) {
			const int8_t *p = L + j + l;

			ql[l] = (uint8_t)((p[0] & 0xF) | ((p[64] & 0xF) << 4));
			ql[l + 32] = (uint8_t)((p[32] & 0xF) | ((p[96] & 0xF) << 4));
			qh[l] = (uint8_t)((p[0] >> 4) | ((p[32] >> 4) << 2) | ((p[64] >> 4) << 4) |
					  ((p[96] >> 4) << 6));
		}
	}
}

void mk_quantize_row(enum mk_type t, const float *x, void *out, int64_t n)
{
	uint8_t *o = out;
	int bs = mk_type_block(t), bb = mk_type_block_bytes(t);
	void (*block)(const float *, uint8_t *) = NULL;

	switch (t) {
	case MK_F32:
		memcpy(out, x, (size_t)n * 4);
		return;
	case MK_F16:
	case MK_BF16:
		for (int64_t i = 0; i < n; i++) {
			uint16_t h = t == MK_F16 ? mk_fp32_to_fp16(x[i]) : mk_fp32_to_bf16(x[i]);

			o[2 * i] = (uint8_t)h;
			o[2 * i + 1] = (uint8_t)(h >> 8);
		}
		return;
	case MK_Q4_0: block = q4_0_block; break;
	case MK_Q4_1: block = q4_1_block; break;
	case MK_Q5_0: block = q5_0_block; break;
	case MK_Q5_1: block = q5_1_block; break;
	case MK_Q8_0: block = q8_0_block; break;
	case MK_Q4_K: block = q4_k_block; break;
	case MK_Q5_K: block = q5_k_block; break;
	case MK_Q6_K: block = q6_k_block; break;
	}
	for (int64_t i = 0; i < n / bs; i++)
		block(x + i * bs, o + i * bb);
}

/* ---- decoders ---- */

static void dq_q4_0(const uint8_t *b, float *y)
{
	float d = get_f16(b);

	for (int j = 0; j < 16; j++) {
		y[j] = ((b[2 + j] & 15) - 8) * d;
		y[j + 16] = ((b[2 + j] >> 4) - 8) * d;
	}
}

static void dq_q4_1(const uint8_t *b, float *y)
{
	float d = get_f16(b), m = get_f16(b + 2);

	for (int j = 0; j < 16; j++) {
		y[j] = (b[4 + j] & 15) * d + m;
		y[j + 16] = (b[4 + j] >> 4) * d + m;
	}
}

/* five-bit value j (0..31) of a Q5_0/Q5_1 block */
static int q5_value(const uint8_t *qh_at, const uint8_t *qs, int j)
{
	uint32_t qh = get_u32(qh_at);
	int nib = j < 16 ? qs[j] & 15 : qs[j - 16] >> 4;

	return nib | (int)((qh >> j) & 1) << 4;
}

static void dq_q5_0(const uint8_t *b, float *y)
{
	float d = get_f16(b);

	for (int j = 0; j < 32; j++)
		y[j] = (q5_value(b + 2, b + 6, j) - 16) * d;
}

static void dq_q5_1(const uint8_t *b, float *y)
{
	float d = get_f16(b), m = get_f16(b + 2);

	for (int j = 0; j < 32; j++)
		y[j] = q5_value(b + 4, b + 8, j) * d + m;
}

static void dq_q8_0(const uint8_t *b, float *y)
{
	float d = get_f16(b);

	for (int j = 0; j < 32; j++)
		y[j] = (int8_t)b[2 + j] * d;
}

/* Q4_K (qh NULL) and Q5_K: 64-element chunks, low nibbles sub-block 2c, high 2c + 1 */
static void dq_kq(const uint8_t *b, const uint8_t *qh, const uint8_t *qs, float *y)
{
	float d = get_f16(b), dmin = get_f16(b + 2);

	for (int c = 0; c < 4; c++) {
		for (int half = 0; half < 2; half++) {
			uint8_t sc, m;

			get_scale_min_k4(2 * c + half, b + 4, &sc, &m);
			for (int l = 0; l < 32; l++) {
				int q = half ? qs[32 * c + l] >> 4 : qs[32 * c + l] & 15;

				if (qh)
					q |= ((qh[l] >> (2 * c + half)) & 1) << 4;
				y[64 * c + 32 * half + l] = d * sc * q - dmin * m;
			}
		}
	}
}

static void dq_q4_k(const uint8_t *b, float *y) { dq_kq(b, NULL, b + 16, y); }
static void dq_q5_k(const uint8_t *b, float *y) { dq_kq(b, b + 16, b + 48, y); }

static void dq_q6_k(const uint8_t *b, float *y)
{
	float d = get_f16(b + 208);
	const int8_t *sc = (const int8_t *)(b + 192);

	for (int h = 0; h < 2; h++) {
		const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
		const int8_t *s = sc + 8 * h;
		float *o = y + 128 * h;

		for (int l = 0; l < 32; l++) {
			int is = l / 16;

			o[l] = d * s[is] * (((ql[l] & 15) | ((qh[l] >> 0 & 3) << 4)) - 32);
			o[l + 32] = d * s[is + 2] * (((ql[l + 32] & 15) | ((qh[l] >> 2 & 3) << 4)) - 32);
			o[l + 64] = d * s[is + 4] * (((ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4)) - 32);
			o[l + 96] = d * s[is + 6] * (((ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)) - 32);
		}
	}
}

void mk_dequantize_row(enum mk_type t, const void *in, float *y, int64_t n)
{
	const uint8_t *p = in;
	int bs = mk_type_block(t), bb = mk_type_block_bytes(t);
	void (*block)(const uint8_t *, float *) = NULL;

	switch (t) {
	case MK_F32:
		memcpy(y, in, (size_t)n * 4);
		return;
	case MK_F16:
	case MK_BF16:
		for (int64_t i = 0; i < n; i++) {
			uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);

			y[i] = t == MK_F16 ? mk_fp16_to_fp32(h) : mk_bf16_to_fp32(h);
		}
		return;
	case MK_Q4_0: block = dq_q4_0; break;
	case MK_Q4_1: block = dq_q4_1; break;
	case MK_Q5_0: block = dq_q5_0; break;
	case MK_Q5_1: block = dq_q5_1; break;
	case MK_Q8_0: block = dq_q8_0; break;
	case MK_Q4_K: block = dq_q4_k; break;
	case MK_Q5_K: block = dq_q5_k; break;
	case MK_Q6_K: block = dq_q6_k; break;
	}
	for (int64_t i = 0; i < n / bs; i++)
		block(p + i * bb, y + i * bs);
}
