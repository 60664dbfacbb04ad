// SPDX-License-Identifier: MIT
/* Seeded tensor values: xoshiro256** per tensor, Box-Muller normals. */
#include "mk_weights.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void mk_rng_seed(struct mk_rng *r, uint64_t seed, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the tensor name */

	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	h ^= seed * 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&h);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next(struct mk_rng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float mk_rng_normal(struct mk_rng *r)
{
	/* u1 in (0, 1], u2 in [0, 1): one of the Box-Muller pair (simple, fast enough) */
	double u1 = ((next(r) >> 11) + 1) * 0x1.0p-53, u2 = (next(r) >> 11) * 0x1.0p-53;

	return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* convert_hf_to_gguf.py's llama3 rope factors (LlamaModel.generate_extra_tensors) */
static void rope_freqs(const struct mk_preset *p, float *x)
{
	double lo_wavelen = p->rope_orig_ctx / p->rope_low_freq;
	double hi_wavelen = p->rope_orig_ctx / p->rope_high_freq;

	for (int i = 0; i < p->head_dim / 2; i++) {
		double freq = 1.0 / pow(p->rope_theta, (2.0 * i) / p->head_dim);
		double wavelen = 2 * M_PI / freq;

		if (wavelen < hi_wavelen) {
			x[i] = 1.0f;
		} else if (wavelen > lo_wavelen) {
			x[i] = p->rope_factor;
		} else {
			double smooth = (p->rope_orig_ctx / wavelen - p->rope_low_freq) /
					(p->rope_high_freq - p->rope_low_freq);

			x[i] = (float)(1.0 / ((1 - smooth) / p->rope_factor + smooth));
		}
	}
}

void mk_weights_row(const struct mk_preset *p, const struct mk_tensor *t, struct mk_rng *r,
		    int64_t row, float *x)
{
	(void)row;
	switch (t->init) {
	case MK_INIT_ROPE_FREQS:
		rope_freqs(p, x);
		break;
	case MK_INIT_NORM_WEIGHT:
		for (int64_t i = 0; i < t->ne[0]; i++)
			x[i] = 1.0f + 0.05f * mk_rng_normal(r);
		break;
	case MK_INIT_NORMAL:
		for (int64_t i = 0; i < t->ne[0]; i++)
			x[i] = t->std * mk_rng_normal(r);
		break;
	}
}
