/* SPDX-License-Identifier: MIT */
/*
 * Inference on the NPU against the independent reference (ref_forward.c):
 * tiny qwen2, qwen3 and llama models with random weights in every weight type
 * of the ISA (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K), built by
 * lib_gguf_build, run on the in-process NPU.
 *  - teacher-forced logits (both sides fed the same tokens) within a
 *    tolerance per weight type, relative to the reference logits' RMS;
 *  - the NPU's greedy token equals the reference's top-1 wherever the
 *    reference's top-1/top-2 margin exceeds top1_margin();
 *  - prefill of n tokens gives the same logits as n single decode steps, and
 *    chunked prefill the same as whole prefill, BIT FOR BIT: every op works
 *    row by row (MATMUL quantizes each activation row by itself, ATTENTION
 *    handles each query row over its own causal range, RMSNORM per row), so a
 *    token's result does not depend on which other tokens share its command
 *    buffer;
 *  - greedy generation on the device equals decoding the same tokens one by one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>

#include "anpurt.h"
#include "lib_gguf_build.h"
#include "lib_model_file.h"
#include "ref_forward.h"

#define N_TOKENS	12
#define N_GREEDY	8
#define MAX_VOCAB	64

struct fw_case {
	const char *name;
	const char *arch;
	uint32_t weight_type;		/* ggml id of the matrices */
	int untied;			/* with output.weight */
	enum anpurt_kv_type kv;
	float tol;			/* max |npu - ref| / rms(ref) */
	int rope_freqs;			/* llama: with rope_freqs.weight (Llama 3.1+) */
};

struct fw_run {
	struct model_file f;
	struct gb_model_spec spec;
	struct ref_model *ref;
	struct anpurt_model *model;
	struct anpurt_engine *engine;
};

static void fw_setup(struct fw_run *r, const struct fw_case *c)
{
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	int kquant = c->weight_type >= 12 && c->weight_type <= 14;

	r->spec = gb_model_spec_tiny(c->arch);
	r->spec.weight_type = c->weight_type;
	r->spec.tied = !c->untied;
	r->spec.rope_freqs = c->rope_freqs;
	r->spec.n_vocab = 48;
	if (kquant) {	/* every K a multiple of 256 */
		r->spec.n_embd = 256;
		r->spec.n_ff = 512;
		r->spec.head_dim = 64;
		r->spec.write_head_dim = 1;
	}
	model_file_make(&r->f, &r->spec, 0x5eed0000u + c->weight_type * 7u + (uint32_t)c->arch[4]);
	r->ref = ref_model_new(&r->spec, r->f.b);
	assert_non_null(r->ref);
	if (anpurt_model_open(r->f.path, NULL, &r->model))
		fail_msg("%s", anpurt_last_error());
	ep.device = "sim";
	ep.n_ctx = 64;
	if (anpurt_engine_load(r->model, &ep, &r->engine))
		fail_msg("%s", anpurt_last_error());
}

static void fw_teardown(struct fw_run *r)
{
	anpurt_engine_free(r->engine);
	anpurt_model_free(r->model);
	ref_model_free(r->ref);
	model_file_remove(&r->f);
}

static struct anpurt_session *new_session(struct fw_run *r, enum anpurt_kv_type kv, uint32_t chunk)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_session *s;

	sp.n_ctx = 64;
	sp.kv_type = kv;
	sp.prefill_chunk = chunk;
	if (anpurt_session_create(r->engine, &sp, &s))
		fail_msg("%s", anpurt_last_error());
	return s;
}

/*
 * The top-1 is checked where the reference's top-1/top-2 margin exceeds twice
 * the logit tolerance (the error of a difference of two logits), at least
 * 0.05 of the logits' RMS.
 */
static float top1_margin(const struct fw_case *c)
{
	return c->tol * 2 > 0.05f ? c->tol * 2 : 0.05f;
}

static void top2(const float *l, uint32_t n, uint32_t *top, float *margin)
{
	uint32_t i, a = 0, b = 1;

	if (l[b] > l[a]) {
		a = 1;
		b = 0;
	}
	for (i = 2; i < n; i++) {
		if (l[i] > l[a]) {
			b = a;
			a = i;
		} else if (l[i] > l[b]) {
			b = i;
		}
	}
	*top = a;
	*margin = l[a] - l[b];
}

/* max |a - ref| / rms(ref) */
static float rel_err(const float *a, const float *ref, uint32_t n)
{
	double ss = 0, mx = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		ss += (double)ref[i] * ref[i];
		if (fabs((double)a[i] - ref[i]) > mx || isnan(a[i]))
			mx = isnan(a[i]) ? INFINITY : fabs((double)a[i] - ref[i]);
	}
	return (float)(mx / sqrt(ss / n));
}

static float rms(const float *l, uint32_t n)
{
	double ss = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		ss += (double)l[i] * l[i];
	return (float)sqrt(ss / n);
}

static void run_case(const struct fw_case *c)
{
	float npu[N_TOKENS][MAX_VOCAB], ref[MAX_VOCAB], whole[MAX_VOCAB], chunked[MAX_VOCAB];
	int32_t tokens[N_TOKENS], greedy[N_GREEDY], next, next2;
	struct anpurt_session *steps, *pre, *pre_chunked;
	uint32_t n_vocab, i, top, checked = 0;
	float worst = 0, margin;
	struct fw_run r;

	fw_setup(&r, c);
	n_vocab = r.spec.n_vocab;
	for (i = 0; i < N_TOKENS; i++)
		tokens[i] = (int32_t)((i * 17u + 5u) % n_vocab);

	/* teacher-forced, one decode step per token, against the reference */
	steps = new_session(&r, c->kv, 0);
	for (i = 0; i < N_TOKENS; i++) {
		float e;

		if (anpurt_session_decode(steps, tokens[i], &next))
			fail_msg("%s", anpurt_last_error());
		assert_int_equal(anpurt_session_logits(steps, npu[i], MAX_VOCAB), 0);
		ref_forward_token(r.ref, tokens[i], ref);
		e = rel_err(npu[i], ref, n_vocab);
		if (e > worst)
			worst = e;
		if (e > c->tol)
			fail_msg("%s type %u: position %u: logits differ by %g of their RMS "
				 "(tolerance %g)", c->arch, c->weight_type, i, e, c->tol);
		top2(ref, n_vocab, &top, &margin);
		if (margin > top1_margin(c) * rms(ref, n_vocab)) {
			assert_int_equal(next, (int32_t)top);
			checked++;
		}
	}
	print_message("%s type %u kv %s: worst logit error %.3g of RMS, top-1 checked at %u of %u\n",
		      c->arch, c->weight_type, c->kv == ANPURT_KV_F16 ? "f16" : "f32", worst,
		      checked, N_TOKENS);
	assert_true(checked >= N_TOKENS / 4);

	/* whole prefill = the decode steps; chunks of 5 = whole, bit for bit */
	pre = new_session(&r, c->kv, 0);
	pre_chunked = new_session(&r, c->kv, 5);
	if (anpurt_session_prefill(pre, tokens, N_TOKENS, &next2) ||
	    anpurt_session_prefill(pre_chunked, tokens, N_TOKENS, NULL))
		fail_msg("%s", anpurt_last_error());
	assert_int_equal(next2, next);
	assert_int_equal(anpurt_session_logits(pre, whole, MAX_VOCAB), 0);
	assert_int_equal(anpurt_session_logits(pre_chunked, chunked, MAX_VOCAB), 0);
	assert_memory_equal(whole, npu[N_TOKENS - 1], n_vocab * sizeof(float));
	assert_memory_equal(chunked, whole, n_vocab * sizeof(float));
	assert_int_equal(anpurt_session_position(pre), N_TOKENS);

	/* greedy on the device = feeding those tokens back one by one */
	assert_int_equal(anpurt_session_generate_greedy(pre, N_GREEDY, greedy), N_GREEDY);
	for (i = 0; i < N_GREEDY; i++) {
		if (anpurt_session_decode(steps, i ? greedy[i - 1] : next2, &next))
			fail_msg("%s", anpurt_last_error());
		assert_int_equal(next, greedy[i]);
	}
	assert_int_equal(anpurt_session_position(pre), N_TOKENS + N_GREEDY);

	anpurt_session_free(steps);
	anpurt_session_free(pre);
	anpurt_session_free(pre_chunked);
	fw_teardown(&r);
}

/*
 * Tolerances (max |npu - ref| over the vocabulary, divided by the RMS of the
 * reference logits; measured worst cases of these seeds in brackets):
 *  - F32 and BF16 weights, F32 cache: 1e-4 [1.6e-6]: f32 sums in another order;
 *  - F16 weights, F16 cache: 1e-2 [1.7e-3]: the cache rounds K and V to f16;
 *  - Q8_0, Q4_0, Q5_0: 0.10 [0.058]; Q4_K, Q5_K, Q6_K: 0.15 [0.089]: the NPU quantizes
 *    every activation row to 8 bits (per 32 or per 256 elements) before the
 *    integer dot products (docs/hardware.md 10.4), the reference does not.
 * A wrong dequantisation or graph gives errors of order 1.
 */
static const struct fw_case cases[] = {
	{ "qwen2_f32", "qwen2", 0, 0, ANPURT_KV_F32, 1e-4f, 0 },
	{ "qwen3_f32_untied", "qwen3", 0, 1, ANPURT_KV_F32, 1e-4f, 0 },
	{ "llama_f32_untied", "llama", 0, 1, ANPURT_KV_F32, 1e-4f, 0 },
	{ "qwen2_f16", "qwen2", 1, 0, ANPURT_KV_F16, 1e-2f, 0 },
	{ "qwen2_q8_0", "qwen2", 8, 0, ANPURT_KV_F16, 0.10f, 0 },
	{ "qwen3_q8_0_kv_f32", "qwen3", 8, 0, ANPURT_KV_F32, 0.10f, 0 },
	{ "llama_q4_0_untied", "llama", 2, 1, ANPURT_KV_F16, 0.10f, 0 },
	{ "qwen2_q4_k", "qwen2", 12, 0, ANPURT_KV_F16, 0.15f, 0 },
	{ "qwen3_q6_k_untied", "qwen3", 14, 1, ANPURT_KV_F16, 0.15f, 0 },
	{ "llama_q4_k_kv_f32", "llama", 12, 0, ANPURT_KV_F32, 0.15f, 0 },
	{ "qwen2_bf16", "qwen2", 30, 0, ANPURT_KV_F32, 1e-4f, 0 },
	{ "qwen2_q5_0", "qwen2", 6, 0, ANPURT_KV_F16, 0.10f, 0 },
	{ "qwen2_q4_1", "qwen2", 3, 0, ANPURT_KV_F16, 0.10f, 0 },
	{ "llama_q5_1_untied", "llama", 7, 1, ANPURT_KV_F16, 0.10f, 0 },
	/* Llama 3.1+: ROPE divides each pair's angle by its rope_freqs factor */
	{ "llama_f32_rope_freqs", "llama", 0, 0, ANPURT_KV_F32, 1e-4f, 1 },
	{ "llama_q8_0_rope_freqs", "llama", 8, 1, ANPURT_KV_F16, 0.10f, 1 },
	{ "qwen3_q5_k", "qwen3", 13, 0, ANPURT_KV_F16, 0.15f, 0 },
};

static void test_case(void **state)
{
	run_case(*state);
}

/* A full context stops with -ENOSPC and runs nothing; bad token ids are -EINVAL. */
static void test_context_full_and_bad_tokens(void **state)
{
	static const struct fw_case c = { "ctx", "qwen2", 0, 0, ANPURT_KV_F16, 1e-2f, 0 };
	struct anpurt_session_params sp = anpurt_session_default_params();
	int32_t tokens[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[4], bad = 48, next;
	struct anpurt_session *s;
	struct fw_run r;

	(void)state;
	fw_setup(&r, &c);
	sp.n_ctx = 8;
	if (anpurt_session_create(r.engine, &sp, &s))
		fail_msg("%s", anpurt_last_error());
	assert_int_equal(anpurt_session_generate_greedy(s, 1, out), -ENODATA);
	assert_int_equal(anpurt_session_decode(s, bad, &next), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "vocabulary"));
	assert_int_equal(anpurt_session_prefill(s, tokens, 6, NULL), 0);
	assert_int_equal(anpurt_session_prefill(s, tokens, 3, NULL), -ENOSPC);
	assert_non_null(strstr(anpurt_last_error(), "context full"));
	assert_int_equal(anpurt_session_position(s), 6);
	assert_int_equal(anpurt_session_generate_greedy(s, 4, out), 2);
	assert_int_equal(anpurt_session_position(s), 8);
	assert_int_equal(anpurt_session_generate_greedy(s, 1, out), -ENOSPC);
	anpurt_session_free(s);
	fw_teardown(&r);
}

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

int main(void)
{
	struct CMUnitTest tests[N_CASES + 1] = {
		cmocka_unit_test(test_context_full_and_bad_tokens),
	};
	size_t i;

	for (i = 0; i < N_CASES; i++)
		tests[1 + i] = (struct CMUnitTest){ cases[i].name, test_case, NULL, NULL,
						    (void *)&cases[i] };
	return _cmocka_run_group_tests("test_rt_forward", tests, N_CASES + 1, NULL, NULL);
}
