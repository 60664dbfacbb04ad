// SPDX-License-Identifier: MIT
/*
 * libaccel conformance: results of real ops through the whole stack
 * (command buffer -> ring -> model) against the independent references in
 * tests/ref: MATMUL in several weight types, ATTENTION with GQA, ROPE with
 * frequency factors and COPY (ISA 1.1).
 */
#include "accel_test_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_ops.h"
#include "tests/ref/ref_quant.h"

static struct accel_device *dev;
static struct accel_context *ctx;

static int setup(void **state)
{
	(void)state;
	dev = accel_test_open(NULL);
	return accel_context_create(dev, NULL, &ctx);
}

static int teardown(void **state)
{
	(void)state;
	accel_context_free(ctx);
	return accel_device_close(dev);
}

static void run(struct accel_cmdbuf *cb)
{
	struct accel_fence f;

	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	assert_int_equal(accel_fence_wait(dev, &f, 10000000000ll), 0);
}

static void matmul_matches_reference(uint32_t dtype)
{
	enum { K = 256, N = 24, M = 3 };
	size_t row = ref_row_bytes(dtype, K);
	struct accel_bo *wbo, *abo;
	struct accel_cmdbuf *cb;
	double want[N * M], bound[N * M];
	uint64_t seed = 42 + dtype;
	uint8_t *w;
	float *x, *bias, *y;

	assert_int_equal(accel_bo_create(dev, row * N, ACCEL_BO_NPU_READ_ONLY, &wbo), 0);
	assert_int_equal(accel_bo_create(dev, sizeof(float) * (K * M + N + N * M), 0, &abo), 0);
	w = accel_bo_map(wbo);
	x = accel_bo_map(abo);
	bias = x + K * M;
	y = bias + N;
	for (int n = 0; n < N; n++)
		ref_fill_weight_row(dtype, w + row * n, K, &seed);
	for (int i = 0; i < K * M; i++)
		x[i] = ref_rand_float(&seed);
	for (int n = 0; n < N; n++)
		bias[n] = ref_rand_float(&seed);
	struct accel_tensor tw = accel_tensor_packed(wbo, 0, dtype, K, N, 1, 1);
	struct accel_tensor tx = accel_tensor_packed(abo, 0, ACCEL_F32, K, M, 1, 1);
	struct accel_tensor tb = accel_tensor_packed(abo, sizeof(float) * K * M, ACCEL_F32, N, 1, 1, 1);
	struct accel_tensor ty = accel_tensor_packed(abo, sizeof(float) * (K * M + N), ACCEL_F32, N, M, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_matmul(cb, &tx, &tw, &tb, &ty, 0), 0);
	run(cb);
	ref_matmul(dtype, w, row, x, bias, NULL, K, N, M, want, bound);
	for (int i = 0; i < N * M; i++)
		assert_true(fabs(y[i] - want[i]) <= bound[i] + 1e-6);
	accel_cmdbuf_free(cb);
	accel_bo_free(wbo);
	accel_bo_free(abo);
}

static void matmul_f32_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_F32); }
static void matmul_f16_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_F16); }
static void matmul_q8_0_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_Q8_0); }
static void matmul_q4_k_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_Q4_K); }
static void matmul_q6_k_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_Q6_K); }
/* ISA 1.1 types: the encoder takes them and marks the stream 1.1 */
static void matmul_q4_1_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_Q4_1); }
static void matmul_q5_1_weights(void **state) { (void)state; matmul_matches_reference(ACCEL_Q5_1); }

static void attention_with_gqa_matches_reference(void **state)
{
	enum { HD = 64, NH = 4, NKV = 2, M = 2, CTX = 16, POS = 5 };
	size_t qn = HD * NH * M, kn = HD * NKV * CTX;
	struct accel_bo *bo;
	struct accel_cmdbuf *cb;
	float *q, *k, *v, *out, want[HD * NH * M];
	float scale = 1.0f / 8.0f;

	(void)state;
	assert_int_equal(accel_bo_create(dev, sizeof(float) * (2 * qn + 2 * kn), 0, &bo), 0);
	q = accel_bo_map(bo);
	k = q + qn;
	v = k + kn;
	out = v + kn;
	ref_fill_uniform(q, qn, 1, -1, 1);
	ref_fill_uniform(k, kn, 2, -1, 1);
	ref_fill_uniform(v, kn, 3, -1, 1);
	struct accel_tensor tq = accel_tensor_packed(bo, 0, ACCEL_F32, HD, NH, M, 1);
	struct accel_tensor tk = accel_tensor_packed(bo, sizeof(float) * qn, ACCEL_F32, HD * NKV, CTX, 1, 1);
	struct accel_tensor tv = accel_tensor_packed(bo, sizeof(float) * (qn + kn), ACCEL_F32, HD * NKV, CTX, 1, 1);
	struct accel_tensor to = accel_tensor_packed(bo, sizeof(float) * (qn + 2 * kn), ACCEL_F32, HD, NH, M, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_attention(cb, &tq, &tk, &tv, &to, scale, accel_imm(POS)), 0);
	run(cb);
	ref_attention(q, k, v, want, HD, NH, NKV, M, POS, scale);
	assert_true(ref_close(out, want, qn, 1e-5, 1e-4));
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

/* Llama 3.1's rope_freqs: each pair's angle divided by its factor. */
static void rope_with_frequency_factors_matches_reference(void **state)
{
	enum { HD = 64, NH = 2, M = 3, POS = 40 };
	size_t n = HD * NH * M;
	struct accel_rope_params p = accel_rope_default_params();
	struct accel_cmdbuf *cb;
	struct accel_bo *bo;
	float *x, *y, *f, want[HD * NH * M];

	(void)state;
	assert_int_equal(accel_bo_create(dev, sizeof(float) * (2 * n + HD / 2), 0, &bo), 0);
	x = accel_bo_map(bo);
	y = x + n;
	f = y + n;
	ref_fill_uniform(x, n, 7, -1, 1);
	ref_fill_uniform(f, HD / 2, 8, 1, 8);
	struct accel_tensor tx = accel_tensor_packed(bo, 0, ACCEL_F32, HD, NH, M, 1);
	struct accel_tensor ty = accel_tensor_packed(bo, sizeof(float) * n, ACCEL_F32, HD, NH, M, 1);
	struct accel_tensor tf = accel_tensor_packed(bo, sizeof(float) * 2 * n, ACCEL_F32, HD / 2, 1, 1, 1);

	assert_int_equal(p.mode, ACCEL_ROPE_NORMAL);
	assert_true(p.theta_base == 10000.0f && p.freq_scale == 1.0f && !p.freq_factors);
	p.n_rot = HD;
	p.theta_base = 5e5f;
	p.pos = accel_imm(POS);
	p.freq_factors = &tf;
	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	tf.ne[0] = HD / 4;	/* not n_rot / 2 */
	assert_int_equal(accel_cmd_rope(cb, &tx, &ty, &p), -EINVAL);
	assert_non_null(strstr(accel_cmdbuf_error(cb), "freq_factors"));
	tf.ne[0] = HD / 2;
	assert_int_equal(accel_cmd_rope(cb, &tx, &ty, &p), 0);
	run(cb);
	ref_rope_ext(x, want, HD, NH, M, ANPU_ROPE_NORMAL, HD, 5e5f, 1.0f, POS, f);
	assert_true(ref_close(y, want, n, 2e-7, 0.0));
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

/* Fork a KV cache: the first rows of one F16 cache into another, the rest untouched. */
static void copy_forks_cache_rows(void **state)
{
	enum { KVD = 128, CTX = 16, ROWS = 9 };
	size_t cache = KVD * CTX * 2;
	struct accel_cmdbuf *cb;
	struct accel_bo *bo;
	uint8_t *a, *b;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 2 * cache, 0, &bo), 0);
	a = accel_bo_map(bo);
	b = a + cache;
	for (size_t i = 0; i < cache; i++) {
		a[i] = (uint8_t)(i * 7 + 3);
		b[i] = 0x5a;
	}
	struct accel_tensor src = accel_tensor_packed(bo, 0, ACCEL_F16, KVD, ROWS, 1, 1);
	struct accel_tensor dst = accel_tensor_packed(bo, cache, ACCEL_F16, KVD, ROWS, 1, 1);
	struct accel_tensor dst32 = accel_tensor_packed(bo, cache, ACCEL_F32, KVD / 2, ROWS, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_copy(cb, &src, &dst32), -EINVAL);	/* no conversion */
	assert_int_equal(accel_cmd_copy(cb, &src, &dst), 0);
	run(cb);
	assert_memory_equal(b, a, KVD * ROWS * 2);
	for (size_t i = KVD * ROWS * 2; i < cache; i++)
		assert_int_equal(b[i], 0x5a);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matmul_f32_weights),
		cmocka_unit_test(matmul_f16_weights),
		cmocka_unit_test(matmul_q8_0_weights),
		cmocka_unit_test(matmul_q4_k_weights),
		cmocka_unit_test(matmul_q6_k_weights),
		cmocka_unit_test(matmul_q4_1_weights),
		cmocka_unit_test(matmul_q5_1_weights),
		cmocka_unit_test(attention_with_gqa_matches_reference),
		cmocka_unit_test(rope_with_frequency_factors_matches_reference),
		cmocka_unit_test(copy_forks_cache_rows),
	};

	return cmocka_run_group_tests_name("accel_ops", tests, setup, teardown);
}
