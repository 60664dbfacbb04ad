/* SPDX-License-Identifier: MIT */
/*
 * Scalar IEEE half and bfloat16 conversions (round to nearest even), shared
 * by the portable kernels and the tests. SIMD paths use F16C/AVX-512 forms
 * that give the same bits.
 */
#ifndef SIM_FP16_H
#define SIM_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t sim_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float sim_bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline float sim_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu;
	uint32_t man = h & 0x3ffu;

	if (exp == 0x1f)		/* inf / nan */
		return sim_bits_f32(sign | 0x7f800000u | (man << 13));
	if (exp == 0) {
		if (man == 0)
			return sim_bits_f32(sign);
		/* subnormal: man * 2^-24 */
		float v = (float)man * (1.0f / 16777216.0f);

		return sign ? -v : v;
	}
	return sim_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

static inline uint16_t sim_f32_to_f16(float f)
{
	uint32_t x = sim_f32_bits(f);
	uint32_t sign = (x >> 16) & 0x8000u;
	uint32_t ax = x & 0x7fffffffu;

	if (ax >= 0x7f800000u)		/* inf / nan (keep nan quiet) */
		return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
	if (ax >= 0x477ff000u)		/* rounds to >= 65520: inf */
		return (uint16_t)(sign | 0x7c00u);
	if (ax < 0x38800000u) {		/* below the smallest normal half */
		/* add 0.5 so the FPU rounds to nearest even at 2^-24 units */
		float v = sim_bits_f32(ax) + 0.5f;

		return (uint16_t)(sign | (sim_f32_bits(v) - 0x3f000000u));
	}
	/* normal: rebias and round to nearest even */
	uint32_t mant_odd = (ax >> 13) & 1u;

	ax += ((uint32_t)(15 - 127) << 23) + 0xfffu + mant_odd;
	return (uint16_t)(sign | (ax >> 13));
}

static inline float sim_bf16_to_f32(uint16_t b)
{
	return sim_bits_f32((uint32_t)b << 16);
}

static inline uint16_t sim_f32_to_bf16(float f)
{
	uint32_t x = sim_f32_bits(f);

	if ((x & 0x7fffffffu) > 0x7f800000u)	/* nan: keep it a quiet nan */
		return (uint16_t)((x >> 16) | 0x40u);
	x += 0x7fffu + ((x >> 16) & 1u);
	return (uint16_t)(x >> 16);
}

#endif /* SIM_FP16_H */
