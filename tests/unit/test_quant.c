// SPDX-License-Identifier: MIT
/*
 * Weight decoders (sim_dequant_row) against hand-built blocks with values
 * worked out by hand from the format table, then every dtype against the
 * independent reference decoder on random rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "hw/anpu_hwif.h"
#include "sim/kernels/kernels.h"
#include "sim/kernels/quant.h"
#include "tests/ref/ref_quant.h"

#define H_ONE 0x3c00	/* 1.0 */
#define H_HALF 0x3800	/* 0.5 */
#define H_TWO 0x4000	/* 2.0 */
#define H_QUARTER 0x3400	/* 0.25 */

static void decode_f32_f16_bf16_exactly(void **state)
{
	float f[3] = { 1.5f, -2.25f, 0.0f }, y[3];
	uint16_t h[3] = { H_ONE, 0xc000 /* -2 */, 0x0001 /* 2^-24 */ };
	uint16_t b[3] = { 0x3f80 /* 1 */, 0xc040 /* -3 */, 0x7f80 /* inf */ };

	(void)state;
	sim_dequant_row(ANPU_DTYPE_F32, f, y, 3);
	assert_memory_equal(f, y, sizeof(f));
	sim_dequant_row(ANPU_DTYPE_F16, h, y, 3);
	assert_true(y[0] == 1.0f && y[1] == -2.0f && y[2] == ldexpf(1, -24));
	sim_dequant_row(ANPU_DTYPE_BF16, b, y, 3);
	assert_true(y[0] == 1.0f && y[1] == -3.0f && isinf(y[2]));
}

static void decode_q8_0_scales_signed_quants(void **state)
{
	struct sim_block_q8_0 blk = { .d = H_HALF };
	float y[32];

	(void)state;
	for (int j = 0; j < 32; j++)
		blk.qs[j] = (int8_t)(j == 0 ? -128 : j == 31 ? 127 : j - 16);
	sim_dequant_row(ANPU_DTYPE_Q8_0, &blk, y, 32);
	assert_true(y[0] == -64.0f);
	assert_true(y[31] == 63.5f);
	for (int j = 1; j < 31; j++)
		assert_true(y[j] == (float)(j - 16) * 0.5f);
}

static void decode_q4_0_low_nibbles_first_then_high(void **state)
{
	struct sim_block_q4_0 blk = { .d = H_TWO };
	float y[32];

	(void)state;
	for (int j = 0; j < 16; j++)
		blk.qs[j] = (uint8_t)(j | (15 - j) << 4);
	sim_dequant_row(ANPU_DTYPE_Q4_0, &blk, y, 32);
	for (int j = 0; j < 16; j++) {
		assert_true(y[j] == (float)(j - 8) * 2.0f);
		assert_true(y[j + 16] == (float)(15 - j - 8) * 2.0f);
	}
	assert_true(y[0] == -16.0f && y[16] == 14.0f);
}

static void decode_q5_0_takes_fifth_bit_from_qh(void **state)
{
	struct sim_block_q5_0 blk = { .d = H_ONE };
	const uint32_t qh = 0xaaaa5555u;	/* bits: even set below 16, odd above */
	float y[32];

	(void)state;
	memcpy(blk.qh, &qh, 4);
	memset(blk.qs, 0x0f, sizeof(blk.qs));	/* low 15, high 0 */
	sim_dequant_row(ANPU_DTYPE_Q5_0, &blk, y, 32);
	assert_true(y[0] == 15.0f);	/* 15 | 16 - 16 */
	assert_true(y[1] == -1.0f);	/* 15 - 16 */
	assert_true(y[16] == -16.0f);	/* 0 - 16, bit 16 clear */
	assert_true(y[17] == 0.0f);	/* 16 - 16, bit 17 set */
}

static void decode_q4_1_adds_the_minimum(void **state)
{
	struct sim_block_q4_1 blk = { .d = 0x4000 /* 2.0 */, .m = 0xc400 /* -4.0 */ };
	float y[32];

	(void)state;
	for (int j = 0; j < 16; j++)
		blk.qs[j] = (uint8_t)(j | (15 - j) << 4);
	sim_dequant_row(ANPU_DTYPE_Q4_1, &blk, y, 32);
	for (int j = 0; j < 16; j++) {
		assert_true(y[j] == (float)j * 2.0f - 4.0f);
		assert_true(y[j + 16] == (float)(15 - j) * 2.0f - 4.0f);
	}
}

static void decode_q5_1_takes_fifth_bit_and_minimum(void **state)
{
	struct sim_block_q5_1 blk = { .d = H_ONE, .m = 0x3800 /* 0.5 */ };
	const uint32_t qh = 0xaaaa5555u;	/* bits: even set below 16, odd above */
	float y[32];

	(void)state;
	memcpy(blk.qh, &qh, 4);
	memset(blk.qs, 0x0f, sizeof(blk.qs));	/* low 15, high 0 */
	sim_dequant_row(ANPU_DTYPE_Q5_1, &blk, y, 32);
	assert_true(y[0] == 31.5f);	/* (15 | 16) + 0.5 */
	assert_true(y[1] == 15.5f);	/* 15 + 0.5 */
	assert_true(y[16] == 0.5f);	/* 0, bit 16 clear */
	assert_true(y[17] == 16.5f);	/* 16, bit 17 set */
}

/* Pack 6-bit scales and mins the way the format table describes. */
static void pack_k_scales(uint8_t s[12], const uint8_t sc[8], const uint8_t m[8])
{
	for (int j = 0; j < 4; j++) {
		s[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
		s[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
		s[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
	}
}

static const uint8_t k_sc[8] = { 1, 63, 0, 32, 63, 17, 48, 5 };
static const uint8_t k_m[8] = { 0, 63, 7, 1, 62, 33, 16, 63 };

static void decode_q4_k_unpacks_6bit_scales_and_mins(void **state)
{
	struct sim_block_q4_K blk = { .d = H_ONE, .dmin = H_HALF };
	float y[256];

	(void)state;
	pack_k_scales(blk.scales, k_sc, k_m);
	for (int i = 0; i < 128; i++)
		blk.qs[i] = (uint8_t)((i & 15) | (15 - (i & 15)) << 4);
	sim_dequant_row(ANPU_DTYPE_Q4_K, &blk, y, 256);
	assert_true(y[0] == 0.0f);			/* sub 0: 1*0 - 0 */
	assert_true(y[32] == 913.5f);			/* sub 1: 63*15 - 31.5 */
	assert_true(y[97] == 447.5f);			/* sub 3: 32*14 - 0.5 */
	assert_true(y[130] == 95.0f);			/* sub 4: 63*2 - 31 */
	assert_true(y[255] == -31.5f);			/* sub 7: 5*0 - 31.5 */
	for (int e = 0; e < 256; e++) {
		int c = e / 64, hi = (e % 64) >= 32, l = e % 32, sub = 2 * c + hi;
		int q = hi ? 15 - (l & 15) : l & 15;

		assert_true(y[e] == (float)(k_sc[sub] * q) - 0.5f * k_m[sub]);
	}
}

static void decode_q5_k_adds_fifth_bit_per_sub_block(void **state)
{
	struct sim_block_q5_K blk = { .d = H_ONE, .dmin = H_HALF };
	float y[256];

	(void)state;
	pack_k_scales(blk.scales, k_sc, k_m);
	for (int i = 0; i < 128; i++)
		blk.qs[i] = (uint8_t)((i & 15) | (15 - (i & 15)) << 4);
	for (int l = 0; l < 32; l++)
		blk.qh[l] = (uint8_t)(l & 1 ? 0xaa : 0x55);	/* odd l: odd subs */
	sim_dequant_row(ANPU_DTYPE_Q5_K, &blk, y, 256);
	assert_true(y[0] == 16.0f);		/* sub 0, l 0 even: (0+16)*1 - 0 */
	assert_true(y[33] == 63 * 30 - 31.5f);	/* sub 1, l 1 odd: (14+16)*63 - 31.5 */
	for (int e = 0; e < 256; e++) {
		int c = e / 64, hi = (e % 64) >= 32, l = e % 32, sub = 2 * c + hi;
		int q = (hi ? 15 - (l & 15) : l & 15) + ((sub & 1) == (l & 1) ? 16 : 0);

		assert_true(y[e] == (float)(k_sc[sub] * q) - 0.5f * k_m[sub]);
	}
}

static void decode_q6_k_signed_scales_and_2bit_highs(void **state)
{
	struct sim_block_q6_K blk;
	float y[256];

	(void)state;
	memset(&blk, 0, sizeof(blk));
	blk.d = H_QUARTER;
	for (int k = 0; k < 16; k++)
		blk.scales[k] = (int8_t)(k == 0 ? -128 : k == 15 ? 127 : k - 8);
	blk.ql[0] = 0x0f;		/* y[0] low nibble 15 */
	blk.qh[0] = 0x03 | 0x40;	/* y[0] high bits 3; y[96] high bits 1 */
	blk.ql[32] = 0xa0;		/* y[96] low nibble 10 */
	blk.ql[64 + 31] = 0x05;		/* second half, y[128 + 31] low 5 */
	sim_dequant_row(ANPU_DTYPE_Q6_K, &blk, y, 256);
	assert_true(y[0] == 0.25f * -128 * 31);		/* q 63 - 32 */
	assert_true(y[96] == 0.25f * (6 - 8) * -6);	/* q 26 - 32, scale[6] */
	assert_true(y[1] == 0.25f * -128 * -32);	/* q 0 - 32 */
	assert_true(y[159] == 0.25f * (9 - 8) * -27);	/* scale[8 + 1], q 5 - 32 */
	assert_true(y[255] == 0.25f * 127 * -32);	/* scale[15] */
}

static void decode_every_dtype_like_the_reference(void **state)
{
	static const uint32_t dts[] = {
		ANPU_DTYPE_F32, ANPU_DTYPE_F16, ANPU_DTYPE_BF16, ANPU_DTYPE_Q8_0,
		ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_K,
		ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q4_1, ANPU_DTYPE_Q5_1,
	};
	uint8_t row[1024 * 4];
	float y[1024];
	uint64_t seed = 12345;

	(void)state;
	for (size_t t = 0; t < sizeof(dts) / sizeof(dts[0]); t++) {
		for (int rep = 0; rep < 20; rep++) {
			ref_fill_weight_row(dts[t], row, 1024, &seed);
			sim_dequant_row(dts[t], row, y, 1024);
			for (size_t i = 0; i < 1024; i++) {
				double want = ref_weight_elem(dts[t], row, i);

				/* float evaluation of d * sc * q - dmin * m: a few ulps */
				if (!(fabs(y[i] - want) <= 1e-6 * fabs(want) + 1e-12))
					fail_msg("dtype %u elem %zu: %.9g want %.9g",
						 dts[t], i, y[i], want);
			}
		}
	}
}

/* Pair form: quants side by side, d per 16 blocks in the group's first pair. */
static void q8_pairs_rearrange_blocks(void **state)
{
	struct sim_xblock_q8 b[19];
	struct sim_xpair_q8 p[16];

	(void)state;
	for (int i = 0; i < 19; i++) {
		b[i].d = 0.5f * (float)(i + 1);
		b[i].sum = 0;
		for (int j = 0; j < 32; j++) {
			b[i].qs[j] = (int8_t)(j * 3 - 5 * i);
			b[i].sum += b[i].qs[j];
		}
	}
	memset(p, 0x55, sizeof(p));
	sim_q8_to_pairs(b, p, 19);
	for (int i = 0; i < 32; i++) {	/* whole groups: blocks 19..31 are zero */
		const struct sim_xpair_q8 *q = &p[i / 2], *g = &p[i / 16 * 8];
		int h = i % 2;

		for (int j = 0; j < 32; j++)
			assert_int_equal(q->qs[32 * h + j], i < 19 ? b[i].qs[j] : 0);
		assert_true(g->d[sim_xpair_lane((size_t)i)] == (i < 19 ? b[i].d : 0.0f));
		assert_int_equal(g->off[sim_xpair_lane((size_t)i)], i < 19 ? -128 * b[i].sum : 0);
		if (i % 16 >= 2)	/* not a group's first pair: no scales */
			assert_true(q->d[sim_xpair_lane((size_t)i)] == 0.0f);
	}
}

/*
 * Quad form: element j < 16 of block k in lo[16k + j], j >= 16 in hi; d and
 * the offsets of block 16g + 4q + k in lane 4k + q of the group's first quad.
 */
static void q8_quads_split_blocks_by_nibble_order(void **state)
{
	struct sim_xblock_q8 b[21];
	struct sim_xquad_q8 q[8];

	(void)state;
	for (int i = 0; i < 21; i++) {
		b[i].d = 0.25f * (float)(i + 1);
		b[i].sum = 0;
		for (int j = 0; j < 32; j++) {
			b[i].qs[j] = (int8_t)(j * 5 - 6 * i);
			b[i].sum += b[i].qs[j];
		}
	}
	memset(q, 0x55, sizeof(q));
	sim_q8_to_quads(b, q, 21);
	for (int i = 0; i < 32; i++) {	/* whole groups: quads 6 and 7 are zero */
		const struct sim_xquad_q8 *y = &q[i / 4], *g = &q[i / 16 * 4];
		int k = i % 4, lane = 4 * k + i / 4 % 4;

		for (int j = 0; j < 16; j++) {
			assert_int_equal(y->lo[16 * k + j], i < 21 ? b[i].qs[j] : 0);
			assert_int_equal(y->hi[16 * k + j], i < 21 ? b[i].qs[16 + j] : 0);
		}
		assert_true(g->d[lane] == (i < 21 ? b[i].d : 0.0f));
		assert_int_equal(g->off[SIM_XQUAD_OFF8][lane], i < 21 ? -8 * b[i].sum : 0);
		assert_int_equal(g->off[SIM_XQUAD_OFF16][lane], i < 21 ? -16 * b[i].sum : 0);
		if (i % 16 >= 4) {	/* not a group's first quad: no scales or offsets */
			assert_true(y->d[lane] == 0.0f);
			assert_int_equal(y->off[SIM_XQUAD_OFF8][lane], 0);
		}
	}
}

static void quantize_q8_rounds_to_nearest_and_sums(void **state)
{
	float x[32];
	struct sim_xblock_q8 q;

	(void)state;
	for (int j = 0; j < 32; j++)
		x[j] = (float)(j - 16) / 16.0f * 1.27f;	/* amax 1.27: d = 0.01 */
	sim_quantize_row_q8(x, &q, 32);
	int sum = 0;

	for (int j = 0; j < 32; j++) {
		assert_int_equal(q.qs[j], (int)lround((j - 16) / 16.0 * 127));
		sum += q.qs[j];
	}
	assert_int_equal(q.sum, sum);
	assert_true(fabsf(q.d - 0.01f) < 1e-8f);
}

/* The SIMD activation quantizers give the portable quantizers' bytes. */
static void quantize_simd_paths_match_portable(void **state)
{
	static const struct sim_kernels *const ks[] = { &sim_kernels_avx2, &sim_kernels_avx512 };
	enum { N = 256 * 24 };
	static float x[N];
	static struct sim_xblock_q8 a8[N / 32], b8[N / 32];
	static struct sim_xblock_q8K aK[N / 256], bK[N / 256];
	static struct sim_xpair_q8 aP[N / 64], bP[N / 64];
	static struct sim_xquad_q8 aQ[N / 128], bQ[N / 128];
	uint64_t seed = 12345;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		size_t blk = i / 256;
		float v = ref_rand_float(&seed);

		switch (blk % 8) {
		case 0: v *= 1e3f; break;
		case 1: v = 0.0f; break;			/* all-zero block */
		case 2: v = (i % 32 == 0) ? 127.0f : (float)((int)(v * 250.0f)) * 0.5f; break; /* x.5 */
		case 3: v *= 1e-35f; break;			/* tiny */
		case 4: if (i % 97 == 0) v = NAN; break;
		case 5: if (i % 101 == 0) v = INFINITY; break;
		case 6: v = (i % 32 == 0) ? 127.0f : (float)((int)(v * 127.0f)); break;
		default: break;
		}
		x[i] = v;
	}
	for (size_t p = 0; p < sizeof(ks) / sizeof(ks[0]); p++) {
		if (!sim_kernels_supported(ks[p]->name))
			continue;
		for (size_t n = 256; n <= N; n += 256 * 7) {
			memset(a8, 0, sizeof(a8));
			memset(b8, 0, sizeof(b8));
			memset(aK, 0, sizeof(aK));
			memset(bK, 0, sizeof(bK));
			sim_quantize_row_q8(x, a8, n);
			ks[p]->quantize_q8(x, b8, n);
			assert_memory_equal(a8, b8, sizeof(a8));
			sim_quantize_row_q8K(x, aK, n);
			ks[p]->quantize_q8K(x, bK, n);
			assert_memory_equal(aK, bK, sizeof(aK));
			if (ks[p]->quantize_q8x4) {
				/* quad form, block counts 0..3 mod 4 */
				for (size_t m = n - 96; m <= n; m += 32) {
					memset(aQ, 0, sizeof(aQ));
					memset(bQ, 0, sizeof(bQ));
					sim_q8_to_quads(a8, aQ, m / 32);
					ks[p]->quantize_q8x4(x, bQ, m);
					assert_memory_equal(aQ, bQ, sizeof(aQ));
				}
			}
			if (!ks[p]->quantize_q8x2)
				continue;
			/* pair form: the portable blocks rearranged, odd block counts too */
			for (size_t m = n - 32; m <= n; m += 32) {
				memset(aP, 0, sizeof(aP));
				memset(bP, 0, sizeof(bP));
				sim_q8_to_pairs(a8, aP, m / 32);
				ks[p]->quantize_q8x2(x, bP, m);
				assert_memory_equal(aP, bP, sizeof(aP));
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_f32_f16_bf16_exactly),
		cmocka_unit_test(decode_q8_0_scales_signed_quants),
		cmocka_unit_test(decode_q4_0_low_nibbles_first_then_high),
		cmocka_unit_test(decode_q5_0_takes_fifth_bit_from_qh),
		cmocka_unit_test(decode_q4_1_adds_the_minimum),
		cmocka_unit_test(decode_q5_1_takes_fifth_bit_and_minimum),
		cmocka_unit_test(decode_q4_k_unpacks_6bit_scales_and_mins),
		cmocka_unit_test(decode_q5_k_adds_fifth_bit_per_sub_block),
		cmocka_unit_test(decode_q6_k_signed_scales_and_2bit_highs),
		cmocka_unit_test(decode_every_dtype_like_the_reference),
		cmocka_unit_test(quantize_q8_rounds_to_nearest_and_sums),
		cmocka_unit_test(q8_pairs_rearrange_blocks),
		cmocka_unit_test(q8_quads_split_blocks_by_nibble_order),
		cmocka_unit_test(quantize_simd_paths_match_portable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
