/* SPDX-License-Identifier: MIT */
/*
 * Random weights for the test models (see gb_random_weights()). The block
 * types are written field by field from their layouts (docs/hardware.md 12),
 * with the scales chosen so that each block's values are centred and of the
 * wanted size; the quants themselves are random bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib_gguf_build.h"

struct rng {
	uint64_t s;
};

static uint64_t next_u64(struct rng *r)	/* splitmix64 */
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static float uniform(struct rng *r, float lo, float hi)	/* [lo, hi) */
{
	return lo + (hi - lo) * (float)((next_u64(r) >> 40) * (1.0 / 16777216.0));
}

static int irand(struct rng *r, int lo, int hi)	/* [lo, hi] */
{
	return lo + (int)(next_u64(r) % (uint64_t)(hi - lo + 1));
}

/* f32 -> IEEE binary16, round to nearest even, for the finite normal range used here */
static uint16_t to_f16(float f)
{
	uint32_t x;
	uint32_t sign, mant;
	int exp;

	memcpy(&x, &f, 4);
	sign = (x >> 16) & 0x8000;
	exp = (int)((x >> 23) & 0xff) - 127 + 15;
	mant = x & 0x7fffff;
	if (exp <= 0) {		/* subnormal or zero: shift with the implicit bit */
		uint32_t m = mant | 0x800000, shift = (uint32_t)(14 - exp), r;

		if (shift > 24)
			return (uint16_t)sign;
		r = m >> shift;
		if ((m & ((1u << shift) - 1)) > (1u << (shift - 1)) ||
		    ((m & ((1u << shift) - 1)) == (1u << (shift - 1)) && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	{
		uint32_t h = ((uint32_t)exp << 10) | (mant >> 13), rest = mant & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;
		return (uint16_t)(sign | h);
	}
}

static void put_f16(uint8_t *p, float f)
{
	uint16_t h = to_f16(f);

	memcpy(p, &h, 2);
}

/* f32 -> bfloat16: the high half, rounded to nearest even (finite values) */
static void put_bf16(uint8_t *p, float f)
{
	uint32_t x;
	uint16_t h;

	memcpy(&x, &f, 4);
	h = (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
	memcpy(p, &h, 2);
}

static void fill_random_bytes(struct rng *r, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)next_u64(r);
}

/* Q4_K's 12 scale bytes from 8 six-bit scales and 8 six-bit mins */
static void pack_q4k_scales(uint8_t s[12], const uint8_t sc[8], const uint8_t m[8])
{
	int j;

	for (j = 0; j < 4; j++) {
		s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
		s[j + 4] = (uint8_t)(m[j] | ((m[j + 4] >> 4) << 6));
		s[j + 8] = (uint8_t)((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
	}
}

/* one block of @type at @p, elements of standard deviation about @a */
static void random_block(struct rng *r, uint32_t type, uint8_t *p, float a)
{
	int j;

	switch (type) {
	case 8:		/* Q8_0: f16 d, i8 qs[32]; q uniform in [-127, 127] has std 73 */
		put_f16(p, a / 73.0f);
		for (j = 0; j < 32; j++)
			p[2 + j] = (uint8_t)(int8_t)irand(r, -127, 127);
		break;
	case 2:		/* Q4_0: f16 d, u8 qs[16]; q - 8 has std 4.6 */
		put_f16(p, a / 4.6f);
		fill_random_bytes(r, p + 2, 16);
		break;
	case 6:		/* Q5_0: f16 d, u8 qh[4], u8 qs[16]; q - 16 has std 9.2 */
		put_f16(p, a / 9.2f);
		fill_random_bytes(r, p + 2, 20);
		break;
	case 3:		/* Q4_1: f16 d, f16 m, u8 qs[16]; q*d + m, m = -7.5 d centres it, std 4.6 */
	case 7:		/* Q5_1: f16 d, f16 m, u8 qh[4], u8 qs[16]; m = -15.5 d, std 9.2 */
		put_f16(p, a / (type == 3 ? 4.6f : 9.2f));
		put_f16(p + 2, -(type == 3 ? 7.5f : 15.5f) * a / (type == 3 ? 4.6f : 9.2f));
		fill_random_bytes(r, p + 4, type == 3 ? 16 : 20);
		break;
	case 12:	/* Q4_K: d, dmin, scales[12], qs[128]; d*sc*q - dmin*m, dmin*m ~ d*sc*7.5 */
	case 13: {	/* Q5_K: the same plus qh[32] before qs; q 0..31, dmin*m ~ d*sc*15.5 */
		float half = type == 12 ? 7.5f : 15.5f, d = a / (36.0f * (type == 12 ? 4.6f : 9.2f));
		uint8_t sc[8], m[8];

		for (j = 0; j < 8; j++) {
			sc[j] = (uint8_t)irand(r, 8, 63);
			m[j] = (uint8_t)irand(r, sc[j] > 4 ? sc[j] - 4 : 0, sc[j] + 4 > 63 ? 63 : sc[j] + 4);
		}
		put_f16(p, d);
		put_f16(p + 2, d * half);
		pack_q4k_scales(p + 4, sc, m);
		fill_random_bytes(r, p + 16, type == 12 ? 128 : 160);
		break;
	}
	case 14:	/* Q6_K: ql[128], qh[64], i8 scales[16], d; d*sc*(q - 32) */
		fill_random_bytes(r, p, 192);
		for (j = 0; j < 16; j++)
			p[192 + j] = (uint8_t)(int8_t)(irand(r, 8, 63) * (irand(r, 0, 1) ? 1 : -1));
		put_f16(p + 208, a / (36.0f * 18.5f));
		break;
	default:
		abort();
	}
}

static uint32_t block_elems(uint32_t type)
{
	return type >= 12 && type <= 14 ? 256 : type == 0 || type == 1 || type == 30 ? 1 : 32;
}

static uint32_t block_bytes(uint32_t type)
{
	switch (type) {
	case 0: return 4;
	case 1: return 2;
	case 30: return 2;
	case 2: return 18;
	case 3: return 20;
	case 6: return 22;
	case 7: return 24;
	case 8: return 34;
	case 12: return 144;
	case 13: return 176;
	case 14: return 210;
	}
	abort();
}

/* a tensor's values: norms near 1, biases small, matrices of std 1/sqrt(K) */
static void random_tensor(struct rng *r, const char *name, uint32_t type, const uint64_t *dims,
			  uint8_t *out)
{
	uint64_t n = dims[0] * dims[1] * dims[2] * dims[3], i;
	int norm = strstr(name, "norm") != NULL, bias = strstr(name, ".bias") != NULL;
	int freqs = !strcmp(name, "rope_freqs.weight");	/* Llama 3's factors: 1..8 */
	float a = 1.0f / sqrtf((float)dims[0]);

	if (type == 0 || type == 1 || type == 30) {
		for (i = 0; i < n; i++) {
			float v = freqs ? uniform(r, 1.0f, 8.0f) :
				  norm ? 1.0f + uniform(r, -0.2f, 0.2f) :
				  bias ? uniform(r, -0.1f, 0.1f) : uniform(r, -1.732f, 1.732f) * a;

			if (type == 0)
				memcpy(out + 4 * i, &v, 4);
			else if (type == 1)
				put_f16(out + 2 * i, v);
			else
				put_bf16(out + 2 * i, v);
		}
		return;
	}
	for (i = 0; i < n / block_elems(type); i++)
		random_block(r, type, out + i * block_bytes(type), a);
}

void gb_random_weights(struct gb *b, uint64_t seed)
{
	struct rng r = { seed };
	size_t i, len;

	for (i = 0; i < gb_tensor_count(b); i++) {
		const uint8_t *data;
		uint64_t dims[4];
		uint32_t type;
		const char *name = gb_tensor_get(b, i, &type, dims, &data, &len);
		uint8_t *buf = malloc(len ? len : 1);

		if (!buf)
			abort();
		random_tensor(&r, name, type, dims, buf);
		if (gb_tensor_set_data(b, name, buf, len))
			abort();
		free(buf);
	}
}
