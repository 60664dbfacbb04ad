// SPDX-License-Identifier: MIT
#include "ref_quant.h"

#include <math.h>
#include <string.h>

#include "hw/anpu_hwif.h"

double ref_half_to_double(uint16_t h)
{
	int sign = h >> 15, e = (h >> 10) & 31, f = h & 1023;
	double v;

	if (e == 0)
		v = ldexp(f, -24);
	else if (e == 31)
		v = f ? NAN : INFINITY;
	else
		v = ldexp(1024 + f, e - 25);
	return sign ? -v : v;
}

uint16_t ref_double_to_half(double v)
{
	uint16_t sign = v < 0 ? 0x8000 : 0;
	double a = fabs(v);
	int e;

	if (a < ldexp(1, -14))	/* subnormal range: keep it simple */
		return (uint16_t)(sign | (uint16_t)lround(a / ldexp(1, -24)));
	frexp(a, &e);		/* a = m * 2^e, m in [0.5, 1) */
	long mant = lround(ldexp(a, 11 - e));	/* 1024..2048 */
	if (mant == 2048) {
		mant = 1024;
		e++;
	}
	return (uint16_t)(sign | ((e - 1 + 15) << 10) | (mant - 1024));
}

static unsigned int block_elems(uint32_t dtype)
{
	unsigned int e, b;

	return anpu_dtype_layout(dtype, &e, &b) ? e : 0;
}

size_t ref_row_bytes(uint32_t dtype, size_t n)
{
	unsigned int e, b;

	if (!anpu_dtype_layout(dtype, &e, &b))
		return 0;
	return n / e * b;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Q4_K/Q5_K 6-bit scale (want_min = 0) or min (1) of sub-block j. */
static int kscale(const uint8_t *s, int j, int want_min)
{
	if (j < 4)
		return want_min ? s[j + 4] & 63 : s[j] & 63;
	if (want_min)
		return (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
	return (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
}

double ref_weight_elem(uint32_t dtype, const uint8_t *row, size_t i)
{
	size_t be = block_elems(dtype);
	const uint8_t *b = row + ref_row_bytes(dtype, (i / be) * be);
	unsigned int e = (unsigned int)(i % be);

	switch (dtype) {
	case ANPU_DTYPE_F32: {
		float f;

		memcpy(&f, b, 4);
		return f;
	}
	case ANPU_DTYPE_F16:
		return ref_half_to_double(rd16(b));
	case ANPU_DTYPE_BF16: {
		uint32_t u = (uint32_t)rd16(b) << 16;
		float f;

		memcpy(&f, &u, 4);
		return f;
	}
	case ANPU_DTYPE_Q8_0:
		return (int8_t)b[2 + e] * ref_half_to_double(rd16(b));
	case ANPU_DTYPE_Q4_0: {
		int q = e < 16 ? b[2 + e] & 15 : b[2 + e - 16] >> 4;

		return (q - 8) * ref_half_to_double(rd16(b));
	}
	case ANPU_DTYPE_Q5_0: {
		uint32_t qh = (uint32_t)b[2] | (uint32_t)b[3] << 8 |
			      (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24;
		int q = e < 16 ? b[6 + e] & 15 : b[6 + e - 16] >> 4;

		q |= (int)((qh >> e) & 1) << 4;
		return (q - 16) * ref_half_to_double(rd16(b));
	}
	case ANPU_DTYPE_Q4_1: {
		int q = e < 16 ? b[4 + e] & 15 : b[4 + e - 16] >> 4;

		return q * ref_half_to_double(rd16(b)) + ref_half_to_double(rd16(b + 2));
	}
	case ANPU_DTYPE_Q5_1: {
		uint32_t qh = (uint32_t)b[4] | (uint32_t)b[5] << 8 |
			      (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
		int q = e < 16 ? b[8 + e] & 15 : b[8 + e - 16] >> 4;

		q |= (int)((qh >> e) & 1) << 4;
		return q * ref_half_to_double(rd16(b)) + ref_half_to_double(rd16(b + 2));
	}
	case ANPU_DTYPE_Q4_K:
	case ANPU_DTYPE_Q5_K: {
		double d = ref_half_to_double(rd16(b));
		double dmin = ref_half_to_double(rd16(b + 2));
		const uint8_t *sc = b + 4;
		const uint8_t *qh = b + 16;
		const uint8_t *qs = dtype == ANPU_DTYPE_Q4_K ? b + 16 : b + 48;
		unsigned int chunk = e / 64, l = e % 32, hi = (e % 64) >= 32;
		int sub = (int)(2 * chunk + hi);
		int q = hi ? qs[32 * chunk + l] >> 4 : qs[32 * chunk + l] & 15;

		if (dtype == ANPU_DTYPE_Q5_K)
			q |= ((qh[l] >> sub) & 1) << 4;
		return d * kscale(sc, sub, 0) * q - dmin * kscale(sc, sub, 1);
	}
	case ANPU_DTYPE_Q6_K: {
		const uint8_t *ql = b, *qh = b + 128;
		const int8_t *sc = (const int8_t *)(b + 192);
		double d = ref_half_to_double(rd16(b + 208));
		unsigned int half = e / 128, grp = (e % 128) / 32, l = e % 32;
		const uint8_t *L = ql + 64 * half + (grp & 1) * 32;
		int lo = grp < 2 ? L[l] & 15 : L[l] >> 4;
		int h = (qh[32 * half + l] >> (2 * grp)) & 3;

		return d * sc[8 * half + l / 16 + 2 * grp] * ((lo | h << 4) - 32);
	}
	default:
		return NAN;
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

float ref_rand_float(uint64_t *seed)
{
	return (float)((double)(rnd(seed) >> 11) * ldexp(1, -53) * 2.0 - 1.0);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t rand_scale(uint64_t *seed, int allow_negative)
{
	double v = ldexp(0.5 + (double)(rnd(seed) % 1000) / 1000.0, -6);

	if (allow_negative && (rnd(seed) & 1))
		v = -v;
	return ref_double_to_half(v);
}

void ref_fill_weight_row(uint32_t dtype, uint8_t *row, size_t n, uint64_t *seed)
{
	size_t bytes = ref_row_bytes(dtype, n);
	size_t be = block_elems(dtype);

	switch (dtype) {
	case ANPU_DTYPE_F32:
		for (size_t i = 0; i < n; i++) {
			float f = ref_rand_float(seed);

			memcpy(row + 4 * i, &f, 4);
		}
		return;
	case ANPU_DTYPE_F16:
		for (size_t i = 0; i < n; i++)
			put16(row + 2 * i, ref_double_to_half(ref_rand_float(seed)));
		return;
	case ANPU_DTYPE_BF16:
		for (size_t i = 0; i < n; i++) {
			float f = ref_rand_float(seed);
			uint32_t u;

			memcpy(&u, &f, 4);
			put16(row + 2 * i, (uint16_t)(u >> 16));
		}
		return;
	default:
		break;
	}
	for (size_t i = 0; i < bytes; i++)
		row[i] = (uint8_t)rnd(seed);
	for (size_t blk = 0; blk < n / be; blk++) {
		uint8_t *b = row + ref_row_bytes(dtype, blk * be);

		switch (dtype) {
		case ANPU_DTYPE_Q4_K:
		case ANPU_DTYPE_Q5_K:
			put16(b, rand_scale(seed, 0));
			put16(b + 2, rand_scale(seed, 0));
			break;
		case ANPU_DTYPE_Q6_K:
			put16(b + 208, rand_scale(seed, 1));
			break;
		case ANPU_DTYPE_Q4_1:
		case ANPU_DTYPE_Q5_1:	/* d > 0, a minimum of either sign */
			put16(b, rand_scale(seed, 0));
			put16(b + 2, rand_scale(seed, 1));
			break;
		default:
			put16(b, rand_scale(seed, 1));
			break;
		}
	}
}

static int is_8bit_path(uint32_t dtype)
{
	return dtype != ANPU_DTYPE_F32 && dtype != ANPU_DTYPE_F16 &&
	       dtype != ANPU_DTYPE_BF16;
}

void ref_matmul(uint32_t dtype, const uint8_t *w, size_t w_stride,
		const float *x, const float *bias, const float *y0,
		size_t k, size_t n, size_t m, double *y, double *bound)
{
	const double u = ldexp(1, -24);
	const double gamma = (double)(k + 3) * u / (1 - (double)(k + 3) * u);
	size_t qb = block_elems(dtype) == 256 ? 256 : 32;

	for (size_t r = 0; r < m; r++) {
		const float *xr = x + r * k;

		for (size_t j = 0; j < n; j++) {
			const uint8_t *wr = w + j * w_stride;
			double s = 0, sabs = 0, qerr = 0, amax = 0;

			for (size_t i = 0; i < k; i++) {
				double wi = ref_weight_elem(dtype, wr, i);

				if (is_8bit_path(dtype) && i % qb == 0) {
					amax = 0;
					for (size_t t = i; t < i + qb; t++)
						amax = fmax(amax, fabs(xr[t]));
				}
				s += wi * xr[i];
				if (is_8bit_path(dtype)) {
					qerr += fabs(wi) * amax / 254;
					sabs += fabs(wi) * (fabs(xr[i]) + amax / 254);
				} else {
					sabs += fabs(wi * xr[i]);
				}
			}
			if (bias) {
				s += bias[j];
				sabs += fabs(bias[j]);
			}
			if (y0) {
				s += y0[r * n + j];
				sabs += fabs(y0[r * n + j]);
			}
			y[r * n + j] = s;
			bound[r * n + j] = qerr * (1 + 1e-4) + gamma * sabs + 1e-30;
		}
	}
}
