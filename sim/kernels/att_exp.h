/* SPDX-License-Identifier: MIT */
/*
 * The unit's exponential (docs/hardware.md 10.8), one float at a time: the
 * softmax weights and the rescale factor of ATTENTION's online softmax, and
 * SWIGLU's sigmoid. Every kernel path computes these bits; att_vec.inc does
 * the same steps eight lanes at a time. Each step is one IEEE float operation (-std=c11 keeps
 * -ffp-contract=off, and no expression holds a multiply feeding an add), so
 * any vector width and any host give the same result.
 *
 *   x < -87 (or NaN)  -> 0
 *   x > 88            -> x = 88
 *   n = x * log2(e) rounded to nearest even (adding and subtracting 1.5 * 2^23)
 *   r = (x - n * C1) - n * C2        C1 + C2 = ln 2 (C1 has 9 bits: n * C1 is exact)
 *   p = Cephes' degree-7 polynomial in r (Horner, multiply then add)
 *   exp = p * 2^n                   (2^n built in the exponent field; n in -126..127)
 * Error: within 2 ulp of exp(x) for normal results (Cephes expf).
 */
#ifndef ANPU_SIM_ATT_EXP_H
#define ANPU_SIM_ATT_EXP_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define ATT_EXP_LO	-87.0f
#define ATT_EXP_HI	88.0f
#define ATT_EXP_LOG2E	1.44269504088896341f
#define ATT_EXP_ROUND	12582912.0f	/* 1.5 * 2^23 */
#define ATT_EXP_C1	0.693359375f
#define ATT_EXP_C2	-2.12194440e-4f
#define ATT_EXP_P0	1.9875691500e-4f
#define ATT_EXP_P1	1.3981999507e-3f
#define ATT_EXP_P2	8.3334519073e-3f
#define ATT_EXP_P3	4.1665795894e-2f
#define ATT_EXP_P4	1.6666665459e-1f
#define ATT_EXP_P5	5.0000001201e-1f

static inline float sim_att_exp(float x)
{
	float t, n, r, r2, p, two_n;
	int32_t e;

	if (!(x >= ATT_EXP_LO))
		return 0.0f;
	if (x > ATT_EXP_HI)
		x = ATT_EXP_HI;
	t = x * ATT_EXP_LOG2E;
	n = t + ATT_EXP_ROUND;
	n = n - ATT_EXP_ROUND;
	t = n * ATT_EXP_C1;
	r = x - t;
	t = n * ATT_EXP_C2;
	r = r - t;
	r2 = r * r;
	p = ATT_EXP_P0 * r;
	p = p + ATT_EXP_P1;
	p = p * r;
	p = p + ATT_EXP_P2;
	p = p * r;
	p = p + ATT_EXP_P3;
	p = p * r;
	p = p + ATT_EXP_P4;
	p = p * r;
	p = p + ATT_EXP_P5;
	p = p * r2;
	p = p + r;
	p = p + 1.0f;
	e = ((int32_t)n + 127) << 23;
	memcpy(&two_n, &e, sizeof(two_n));
	return p * two_n;
}

/*
 * SWIGLU's element (docs/hardware.md 10.9): g / (1 + e) * u with e =
 * sim_att_exp(-g), or +inf where -g > ATT_EXP_HI, so that g -> -inf gives -0
 * and never NaN. att_vec.inc's att_swiglu() does the same steps 8 lanes at a time.
 */
static inline float sim_swiglu1(float g, float u)
{
	float x = -g, e = x > ATT_EXP_HI ? INFINITY : sim_att_exp(x);

	return g / (1.0f + e) * u;
}

#endif
