/* SPDX-License-Identifier: MIT */
/*
 * anpu-mkmodel's weight types: decoders against blocks built by hand from the format
 * description (docs of ggml's block layouts), quantizer round trips within each
 * format's usual error, half/bfloat16 rounding, and llama.cpp's per-tensor type
 * choice for the Q4_K_M / Q5_K_M mixes (the counts of the real Qwen2.5-0.5B file).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mk_model.h"
#include "mk_quant.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* ---- half / bfloat16 ---- */

static void test_fp16_rounding(void **state)
{
	(void)state;
	assert_int_equal(mk_fp32_to_fp16(1.0f), 0x3c00);
	assert_int_equal(mk_fp32_to_fp16(-2.0f), 0xc000);
	assert_int_equal(mk_fp32_to_fp16(0.1f), 0x2e66);
	assert_int_equal(mk_fp32_to_fp16(65504.0f), 0x7bff);
	assert_int_equal(mk_fp32_to_fp16(65519.0f), 0x7bff);
	assert_int_equal(mk_fp32_to_fp16(65520.0f), 0x7c00);   /* rounds to infinity */
	assert_int_equal(mk_fp32_to_fp16(ldexpf(1, -24)), 0x0001); /* smallest subnormal */
	assert_int_equal(mk_fp32_to_fp16(ldexpf(1, -25)), 0x0000); /* tie -> even (zero) */
	assert_int_equal(mk_fp32_to_fp16(ldexpf(3, -25)), 0x0002); /* tie -> even (two) */
	assert_int_equal(mk_fp32_to_fp16(1.0f + ldexpf(1, -11)), 0x3c00); /* tie -> even */
	assert_int_equal(mk_fp32_to_fp16(1.0f + ldexpf(3, -11)), 0x3c02);
	assert_true(isnan(mk_fp16_to_fp32(mk_fp32_to_fp16(NAN))));
	/* every finite half survives half -> float -> half */
	for (uint32_t h = 0; h < 65536; h++) {
		if ((h & 0x7c00) == 0x7c00)
			continue;
		assert_int_equal(mk_fp32_to_fp16(mk_fp16_to_fp32((uint16_t)h)), h);
	}
}

static void test_bf16_rounding(void **state)
{
	(void)state;
	assert_int_equal(mk_fp32_to_bf16(1.0f), 0x3f80);
	assert_int_equal(mk_fp32_to_bf16(-3.0f), 0xc040);
	/* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even (1) */
	assert_int_equal(mk_fp32_to_bf16(1.0f + ldexpf(1, -8)), 0x3f80);
	assert_int_equal(mk_fp32_to_bf16(1.0f + ldexpf(3, -8)), 0x3f82);
	assert_true(mk_bf16_to_fp32(0x3f81) == 1.0f + ldexpf(1, -7));
	assert_true(isnan(mk_bf16_to_fp32(mk_fp32_to_bf16(NAN))));
}

/* ---- decoders on hand-built blocks ---- */

static void decode_one(enum mk_type t, const uint8_t *block, float *y)
{
	mk_dequantize_row(t, block, y, mk_type_block(t));
}

static void test_decode_float_types(void **state)
{
	uint8_t b[8];
	float y[2], f[2] = { 1.5f, -0.25f };

	(void)state;
	memcpy(b, f, 8);
	mk_dequantize_row(MK_F32, b, y, 2);
	assert_true(y[0] == 1.5f && y[1] == -0.25f);
	put16(b, 0x3e00);   /* 1.5 */
	put16(b + 2, 0xb400); /* -0.25 */
	mk_dequantize_row(MK_F16, b, y, 2);
	assert_true(y[0] == 1.5f && y[1] == -0.25f);
	put16(b, 0x3fc0);   /* 1.5 */
	put16(b + 2, 0xbe80); /* -0.25 */
	mk_dequantize_row(MK_BF16, b, y, 2);
	assert_true(y[0] == 1.5f && y[1] == -0.25f);
}

static void test_decode_q4_0_q4_1(void **state)
{
	uint8_t b[20];
	float y[32];

	(void)state;
	put16(b, 0x3800); /* d = 0.5 */
	for (int j = 0; j < 16; j++)
		b[2 + j] = (uint8_t)(j | (15 - j) << 4);
	decode_one(MK_Q4_0, b, y);
	for (int j = 0; j < 16; j++) {
		assert_true(y[j] == (j - 8) * 0.5f);
		assert_true(y[j + 16] == (7 - j) * 0.5f);
	}
	put16(b, 0x3400); /* d = 0.25 */
	put16(b + 2, 0xbc00); /* m = -1 */
	for (int j = 0; j < 16; j++)
		b[4 + j] = (uint8_t)(j | (15 - j) << 4);
	decode_one(MK_Q4_1, b, y);
	for (int j = 0; j < 16; j++) {
		assert_true(y[j] == j * 0.25f - 1);
		assert_true(y[j + 16] == (15 - j) * 0.25f - 1);
	}
}

static void test_decode_q5_0_q5_1(void **state)
{
	uint8_t b[24];
	float y[32];
	uint32_t qh = 0xa5a5c33cu;

	(void)state;
	/* Q5_0: d = 2, nibble j -> element j (low) and j + 16 (high), fifth bit = bit j of qh */
	put16(b, 0x4000);
	memcpy(b + 2, &qh, 4); /* little endian on x86, as the format stores it */
	for (int j = 0; j < 16; j++)
		b[6 + j] = (uint8_t)((j * 3 & 15) | (j * 5 & 15) << 4);
	decode_one(MK_Q5_0, b, y);
	for (int j = 0; j < 16; j++) {
		int lo = (j * 3 & 15) | (int)((qh >> j) & 1) << 4;
		int hi = (j * 5 & 15) | (int)((qh >> (j + 16)) & 1) << 4;

		assert_true(y[j] == (lo - 16) * 2.0f);
		assert_true(y[j + 16] == (hi - 16) * 2.0f);
	}
	/* Q5_1: d = 0.5, m = 3, no offset */
	put16(b, 0x3800);
	put16(b + 2, 0x4200);
	memcpy(b + 4, &qh, 4);
	for (int j = 0; j < 16; j++)
		b[8 + j] = (uint8_t)((j * 7 & 15) | (j * 11 & 15) << 4);
	decode_one(MK_Q5_1, b, y);
	for (int j = 0; j < 16; j++) {
		int lo = (j * 7 & 15) | (int)((qh >> j) & 1) << 4;
		int hi = (j * 11 & 15) | (int)((qh >> (j + 16)) & 1) << 4;

		assert_true(y[j] == lo * 0.5f + 3);
		assert_true(y[j + 16] == hi * 0.5f + 3);
	}
}

static void test_decode_q8_0(void **state)
{
	uint8_t b[34];
	float y[32];

	(void)state;
	put16(b, 0x3000); /* 0.125 */
	for (int j = 0; j < 32; j++)
		b[2 + j] = (uint8_t)(int8_t)(j * 8 - 128);
	decode_one(MK_Q8_0, b, y);
	for (int j = 0; j < 32; j++)
		assert_true(y[j] == (j * 8 - 128) * 0.125f);
}

/* 6-bit scales/mins of the 8 sub-blocks packed into 12 bytes (format description) */
static void pack_k4_scales(const int *sc, const int *m, uint8_t *s)
{
	memset(s, 0, 12);
	for (int j = 0; j < 4; j++) {
		s[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
		s[j + 4] = (uint8_t)(m[j] | (m[j + 4] >> 4) << 6);
		s[j + 8] = (uint8_t)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
	}
}

static const int k_sc[8] = { 1, 2, 3, 4, 17, 33, 49, 63 };
static const int k_m[8] = { 0, 5, 10, 63, 16, 32, 48, 1 };

/* Q4_K (with_qh 0) / Q5_K: d = 1, dmin = 0.5; element 64c + 32h + l uses sub-block 2c + h */
static void check_kq(int with_qh)
{
	uint8_t b[176], *qs = b + (with_qh ? 48 : 16), *qh = b + 16;
	float y[256];

	put16(b, 0x3c00);
	put16(b + 2, 0x3800);
	pack_k4_scales(k_sc, k_m, b + 4);
	for (int i = 0; i < 128; i++)
		qs[i] = (uint8_t)((i % 16) | (15 - i % 13) << 4);
	if (with_qh)
		for (int l = 0; l < 32; l++)
			qh[l] = (uint8_t)(l * 37 + 11);
	decode_one(with_qh ? MK_Q5_K : MK_Q4_K, b, y);
	for (int c = 0; c < 4; c++)
		for (int h = 0; h < 2; h++)
			for (int l = 0; l < 32; l++) {
				int sb = 2 * c + h, i = 32 * c + l;
				int q = h ? 15 - i % 13 : i % 16;

				if (with_qh)
					q += ((qh[l] >> sb) & 1) * 16;
				assert_true(y[64 * c + 32 * h + l] == (float)(k_sc[sb] * q) - 0.5f * k_m[sb]);
			}
}

static void test_decode_q4_k_q5_k(void **state)
{
	(void)state;
	check_kq(0);
	check_kq(1);
}

static void test_decode_q6_k(void **state)
{
	uint8_t b[210], *ql = b, *qh = b + 128;
	int8_t *sc = (int8_t *)(b + 192);
	int q[256];
	float y[256];

	(void)state;
	/* the 6-bit value of element e: low 4 bits in ql, high 2 in qh (format description) */
	for (int e = 0; e < 256; e++)
		q[e] = (e * 29 + 7) & 63;
	memset(b, 0, sizeof(b));
	for (int half = 0; half < 2; half++)
		for (int l = 0; l < 32; l++)
			for (int k = 0; k < 4; k++) {
				int e = 128 * half + 32 * k + l, v = q[e];
				int qli = 64 * half + l + (k & 1) * 32;

				ql[qli] |= (uint8_t)((v & 15) << (k >= 2 ? 4 : 0));
				qh[32 * half + l] |= (uint8_t)((v >> 4) << (2 * k));
			}
	for (int i = 0; i < 16; i++)
		sc[i] = (int8_t)(i * 9 - 70);
	put16(b + 208, 0x3400); /* 0.25 */
	decode_one(MK_Q6_K, b, y);
	for (int e = 0; e < 256; e++)
		assert_true(y[e] == 0.25f * sc[e / 16] * (q[e] - 32));
}

/* ---- quantizer round trips ---- */

static float gauss(uint64_t *s)
{
	double u1, u2;

	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	u1 = ((*s >> 11) + 1) * 0x1.0p-53;
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	u2 = (*s >> 11) * 0x1.0p-53;
	return (float)(sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

/* relative RMS error of quantize + dequantize of n gaussian values */
static double roundtrip_rel_rmse(enum mk_type t, int n, uint64_t seed)
{
	float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
	void *q = malloc(mk_row_bytes(t, n));
	double err = 0, ref = 0;

	assert_non_null(x);
	assert_non_null(y);
	assert_non_null(q);
	for (int i = 0; i < n; i++)
		x[i] = gauss(&seed) * 0.02f;
	mk_quantize_row(t, x, q, n);
	mk_dequantize_row(t, q, y, n);
	for (int i = 0; i < n; i++) {
		err += (double)(x[i] - y[i]) * (x[i] - y[i]);
		ref += (double)x[i] * x[i];
	}
	free(x);
	free(y);
	free(q);
	return sqrt(err / ref);
}

static void test_quantize_roundtrip_error(void **state)
{
	/* bounds: about 1.3x the error of uniform rounding at each format's step */
	static const struct {
		enum mk_type t;
		double bound;
	} cases[] = {
		{ MK_F32, 0 },       { MK_F16, 0.0005 },  { MK_BF16, 0.004 }, { MK_Q8_0, 0.01 },
		{ MK_Q6_K, 0.03 },   { MK_Q5_0, 0.06 },   { MK_Q5_1, 0.06 },  { MK_Q5_K, 0.05 },
		{ MK_Q4_0, 0.12 },   { MK_Q4_1, 0.12 },   { MK_Q4_K, 0.10 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double e = roundtrip_rel_rmse(cases[i].t, 4096, 1234 + i);

		print_message("%-5s rel rmse %.5f (bound %.4f)\n", mk_type_name(cases[i].t), e, cases[i].bound);
		assert_true(e <= cases[i].bound);
	}
	/* the K-quants' searched scales beat their 32-element siblings */
	assert_true(roundtrip_rel_rmse(MK_Q4_K, 4096, 7) < roundtrip_rel_rmse(MK_Q4_1, 4096, 7));
	assert_true(roundtrip_rel_rmse(MK_Q5_K, 4096, 7) < roundtrip_rel_rmse(MK_Q5_1, 4096, 7));
}

static void test_quantize_zero_and_constant_rows(void **state)
{
	static const enum mk_type all[] = { MK_Q4_0, MK_Q4_1, MK_Q5_0, MK_Q5_1, MK_Q8_0,
					     MK_Q4_K, MK_Q5_K, MK_Q6_K };
	float x[256], y[256];
	uint8_t q[8 * 34]; /* the largest: 256 elements of Q8_0 */

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		memset(x, 0, sizeof(x));
		mk_quantize_row(all[i], x, q, 256);
		mk_dequantize_row(all[i], q, y, 256);
		for (int j = 0; j < 256; j++)
			assert_true(y[j] == 0.0f);
		/* a constant row: every element equal, so every element decodes alike */
		for (int j = 0; j < 256; j++)
			x[j] = 0.75f;
		mk_quantize_row(all[i], x, q, 256);
		mk_dequantize_row(all[i], q, y, 256);
		for (int j = 0; j < 256; j++) {
			assert_true(y[j] == y[0]);
			assert_true(fabsf(y[j] - 0.75f) < 0.75f * 0.01f);
		}
	}
}

/* Q8_0 and Q4_0 round to the nearest level: error at most half a step (+ d's fp16 rounding) */
static void test_quantize_nearest_level(void **state)
{
	float x[32], y[32];
	uint8_t q[34];
	uint64_t s = 99;

	(void)state;
	for (int round = 0; round < 100; round++) {
		float amax = 0, d;

		for (int j = 0; j < 32; j++) {
			x[j] = gauss(&s);
			amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
		}
		mk_quantize_row(MK_Q8_0, x, q, 32);
		mk_dequantize_row(MK_Q8_0, q, y, 32);
		d = amax / 127;
		for (int j = 0; j < 32; j++)
			assert_true(fabsf(x[j] - y[j]) <= d * 0.5f + amax * 1e-3f);
	}
}

/* ---- llama.cpp's type choice ---- */

static void count_types(const struct mk_tensor *t, int n, int *counts)
{
	memset(counts, 0, 32 * sizeof(int));
	for (int i = 0; i < n; i++)
		counts[t[i].type]++;
}

static struct mk_tensor *find(struct mk_tensor *t, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	fail_msg("no tensor %s", name);
	return NULL;
}

static void test_mix_qwen25_05b_q4_k_m(void **state)
{
	static const int more_bits[] = { 0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23 };
	struct mk_tensor *t;
	int n, c[32], k = 0;
	char name[48];

	(void)state;
	n = mk_model_tensors(mk_preset_find("qwen2.5-0.5b"), MK_FT_Q4_K_M, 32, &t);
	assert_int_equal(n, 290);
	count_types(t, n, c);
	/* what the real Qwen2.5-0.5B-Instruct-Q4_K_M.gguf holds */
	assert_int_equal(c[MK_F32], 121);
	assert_int_equal(c[MK_Q5_0], 132);
	assert_int_equal(c[MK_Q8_0], 13);
	assert_int_equal(c[MK_Q4_K], 12);
	assert_int_equal(c[MK_Q6_K], 12);
	assert_int_equal(find(t, n, "token_embd.weight")->type, MK_Q8_0);
	for (int i = 0; i < 24; i++) {
		int more = k < 12 && more_bits[k] == i;

		k += more;
		snprintf(name, sizeof(name), "blk.%d.attn_v.weight", i);
		assert_int_equal(find(t, n, name)->type, more ? MK_Q8_0 : MK_Q5_0);
		snprintf(name, sizeof(name), "blk.%d.ffn_down.weight", i);
		assert_int_equal(find(t, n, name)->type, more ? MK_Q6_K : MK_Q4_K);
		snprintf(name, sizeof(name), "blk.%d.attn_q.bias", i);
		assert_int_equal(find(t, n, name)->type, MK_F32);
	}
	/* offsets aligned, in order, sizes from the types */
	for (int i = 0; i < n; i++) {
		assert_int_equal(t[i].offset % 32, 0);
		assert_int_equal(t[i].bytes, mk_row_bytes(t[i].type, t[i].ne[0]) * (uint64_t)t[i].ne[1]);
		if (i)
			assert_true(t[i].offset >= t[i - 1].offset + t[i - 1].bytes);
	}
	free(t);
}

static void test_mix_fallbacks(void **state)
{
	struct mk_tensor *t;
	int n, c[32];

	(void)state;
	/* Q5_K_M on 896-wide rows: Q5_K -> Q5_1, attn_v's Q6_K -> Q8_0; ffn_down (4864) stays K */
	n = mk_model_tensors(mk_preset_find("qwen2.5-0.5b"), MK_FT_Q5_K_M, 32, &t);
	count_types(t, n, c);
	assert_int_equal(c[MK_F32], 121);
	assert_int_equal(c[MK_Q5_1], 5 * 24 + 12);
	assert_int_equal(c[MK_Q8_0], 1 + 12);
	assert_int_equal(c[MK_Q5_K], 12);
	assert_int_equal(c[MK_Q6_K], 12);
	free(t);
	/* Qwen3-0.6B Q4_K_M: every row a multiple of 256: Q6_K embedding, half of attn_v/ffn_down */
	n = mk_model_tensors(mk_preset_find("qwen3-0.6b"), MK_FT_Q4_K_M, 32, &t);
	count_types(t, n, c);
	assert_int_equal(find(t, n, "token_embd.weight")->type, MK_Q6_K);
	assert_int_equal(c[MK_F32], 28 * 4 + 1);
	assert_int_equal(c[MK_Q6_K], 1 + 2 * 14);
	assert_int_equal(c[MK_Q4_K], 28 * 7 - 2 * 14);
	free(t);
	/* a plain type: every 2-D weight, fallback only where rows do not fit */
	n = mk_model_tensors(mk_preset_find("qwen2.5-0.5b"), MK_FT_Q6_K, 32, &t);
	count_types(t, n, c);
	assert_int_equal(c[MK_Q6_K], 24);           /* ffn_down: 4864 = 19 * 256 */
	assert_int_equal(c[MK_Q8_0], 1 + 24 * 6);   /* 896-wide rows */
	free(t);
	/* Llama: rope_freqs (1-D) stays F32 */
	n = mk_model_tensors(mk_preset_find("llama-3.2-1b"), MK_FT_Q4_0, 32, &t);
	assert_int_equal(find(t, n, "rope_freqs.weight")->type, MK_F32);
	assert_int_equal(find(t, n, "rope_freqs.weight")->ne[0], 32);
	assert_int_equal(find(t, n, "token_embd.weight")->type, MK_Q4_0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp16_rounding),
		cmocka_unit_test(test_bf16_rounding),
		cmocka_unit_test(test_decode_float_types),
		cmocka_unit_test(test_decode_q4_0_q4_1),
		cmocka_unit_test(test_decode_q5_0_q5_1),
		cmocka_unit_test(test_decode_q8_0),
		cmocka_unit_test(test_decode_q4_k_q5_k),
		cmocka_unit_test(test_decode_q6_k),
		cmocka_unit_test(test_quantize_roundtrip_error),
		cmocka_unit_test(test_quantize_zero_and_constant_rows),
		cmocka_unit_test(test_quantize_nearest_level),
		cmocka_unit_test(test_mix_qwen25_05b_q4_k_m),
		cmocka_unit_test(test_mix_fallbacks),
	};

	return cmocka_run_group_tests_name("rt_mkmodel_quant", tests, NULL, NULL);
}
