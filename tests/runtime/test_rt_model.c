/* SPDX-License-Identifier: MIT */
/*
 * Model descriptions (anpurt_model_open) on tiny models of each architecture
 * built by lib_gguf_build: hyper-parameters and their defaults, every tensor's
 * shape checked (each one made wrong in turn), tied/untied output, RoPE style
 * and scaling, and what is refused: other architectures, experts, vision,
 * scaling types, weight types.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "anpurt.h"
#include "lib_gguf_build.h"
#include "model/gguf.h"
#include "model/model.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_rt_model.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* Write @b (freed) and open it. */
static int open_built(struct gb *b, struct anpurt_model **m)
{
	assert_int_equal(gb_write_file(b, path), 0);
	gb_free(b);
	return anpurt_model_open(path, NULL, m);
}

static void expect_refused(struct gb *b, int err, const char *want)
{
	struct anpurt_model *m = (struct anpurt_model *)1;
	int ret = open_built(b, &m);

	if (ret != err || !strstr(anpurt_last_error(), want))
		fail_msg("got %d \"%s\", want %d with \"%s\"", ret, anpurt_last_error(), err, want);
	assert_null(m);
	/* the message starts with the file's path */
	assert_memory_equal(anpurt_last_error(), path, strlen(path));
}

static struct gb *tiny(const char *arch)
{
	struct gb_model_spec s = gb_model_spec_tiny(arch);
	struct gb *b = gb_new();

	gb_model(b, &s);
	return b;
}

static void test_qwen2_description(void **state)
{
	const struct anpurt_model_info *in;
	struct anpurt_model *m;

	(void)state;
	assert_int_equal(open_built(tiny("qwen2"), &m), 0);
	assert_string_equal(anpurt_last_error(), "");
	in = anpurt_model_info(m);
	assert_string_equal(in->architecture, "qwen2");
	assert_string_equal(in->name, "tiny test model");
	assert_int_equal(in->n_layer, 2);
	assert_int_equal(in->n_embd, 64);
	assert_int_equal(in->n_ff, 128);
	assert_int_equal(in->n_head, 4);
	assert_int_equal(in->n_head_kv, 2);
	assert_int_equal(in->head_dim_k, 16);
	assert_int_equal(in->head_dim_v, 16);
	assert_int_equal(in->n_vocab, 320);
	assert_int_equal(in->n_ctx_train, 256);
	assert_true(in->rope_freq_base == 1e6f);
	assert_true(in->rms_norm_eps == 1e-6f);
	assert_int_equal(in->rope_style, ANPURT_ROPE_NEOX);
	assert_int_equal(in->rope_scaling, ANPURT_ROPE_SCALING_NONE);
	assert_true(in->tied_output);
	assert_true(in->has_qkv_bias);
	assert_false(in->has_qk_norm);
	/* embd 64x320; per layer: 2 norms 64, q 64x64, k, v 64x32, o 64x64, biases 64+32+32,
	 * gate, up 64x128, down 128x64; output_norm 64 */
	assert_int_equal(in->n_params, 64 * 320 + 2 * (2 * 64 + 4096 + 2 * 2048 + 4096 + 128 +
						     3 * 8192) + 64);
	assert_int_equal(in->n_tensors, 1 + 2 * 12 + 1);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_Q8_0], 1 + 2 * 7);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_F32], 2 * 5 + 1);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_Q4_K], 0);
	assert_int_equal(in->weight_bytes, (64 * 320 + 2 * (4096 + 2 * 2048 + 4096 + 3 * 8192)) / 32 * 34 +
				  4 * (2 * (2 * 64 + 128) + 64));
	assert_true(in->file_bytes > in->weight_bytes);
	assert_string_equal(in->chat_template, "unknown");
	anpurt_model_free(m);
}

static void test_qwen3_and_llama_descriptions(void **state)
{
	struct gb_model_spec s = gb_model_spec_tiny("qwen3");
	const struct anpurt_model_info *in;
	struct anpurt_model *m;
	struct gb *b;

	(void)state;
	b = gb_new();
	s.tied = 0;
	s.chat_template = "{%- if add_generation_prompt %}<|im_start|>assistant\n"
			  "{%- if enable_thinking is defined and enable_thinking is false %}"
			  "<think>\n\n</think>\n\n{%- endif %}{%- endif %}";
	gb_model(b, &s);
	assert_int_equal(open_built(b, &m), 0);
	in = anpurt_model_info(m);
	assert_string_equal(in->architecture, "qwen3");
	assert_int_equal(in->head_dim_k, 32);	/* key_length, not 64 / 4 */
	assert_false(in->tied_output);
	assert_false(in->has_qkv_bias);
	assert_true(in->has_qk_norm);
	assert_int_equal(in->rope_style, ANPURT_ROPE_NEOX);
	assert_string_equal(in->chat_template, "qwen3");
	anpurt_model_free(m);

	s = gb_model_spec_tiny("llama");
	s.rope_freqs = 1;
	b = gb_new();
	gb_model(b, &s);
	assert_int_equal(open_built(b, &m), 0);
	in = anpurt_model_info(m);
	assert_string_equal(in->architecture, "llama");
	assert_int_equal(in->rope_style, ANPURT_ROPE_NORMAL);
	assert_int_equal(in->rope_scaling, ANPURT_ROPE_SCALING_LLAMA3);
	assert_true(in->rope_freq_base == 5e5f);
	assert_true(in->rms_norm_eps == 1e-5f);
	assert_false(in->has_qkv_bias);
	assert_false(in->has_qk_norm);
	anpurt_model_free(m);

	/* llama3 scaling declared without the factors */
	b = gb_new();
	gb_model(b, &s);
	gb_tensor_remove(b, "rope_freqs.weight");
	expect_refused(b, -EINVAL, "llama.rope.scaling.type is llama3 but tensor 'rope_freqs.weight' is missing");
	/* the factors without the key: llama3 scaling too (what llama.cpp's converter writes) */
	b = gb_new();
	gb_model(b, &s);
	gb_kv_remove(b, "llama.rope.scaling.type");
	assert_int_equal(open_built(b, &m), 0);
	assert_int_equal(anpurt_model_info(m)->rope_scaling, ANPURT_ROPE_SCALING_LLAMA3);
	anpurt_model_free(m);
}

static void test_defaults(void **state)
{
	struct gb_model_spec s = gb_model_spec_tiny("qwen2");
	const struct anpurt_model_info *in;
	struct anpurt_model *m;
	struct gb *b = gb_new();

	(void)state;
	s.n_head_kv = s.n_head;
	gb_model(b, &s);
	gb_kv_remove(b, "qwen2.attention.head_count_kv");
	gb_kv_remove(b, "qwen2.rope.freq_base");
	gb_kv_remove(b, "qwen2.attention.layer_norm_rms_epsilon");
	gb_kv_remove(b, "general.name");
	assert_int_equal(open_built(b, &m), 0);
	in = anpurt_model_info(m);
	assert_int_equal(in->n_head_kv, 4);
	assert_int_equal(in->head_dim_k, 16);
	assert_true(in->rope_freq_base == 10000.0f);
	assert_true(in->rms_norm_eps == 1e-6f);
	assert_string_equal(in->name, "");
	anpurt_model_free(m);
}

static void shape_str(char *buf, size_t n, const uint64_t *ne, uint32_t n_dims)
{
	int len = snprintf(buf, n, "[%" PRIu64, ne[0]);
	uint32_t d;

	for (d = 1; d < n_dims; d++)
		len += snprintf(buf + len, n - (size_t)len, ", %" PRIu64, ne[d]);
	snprintf(buf + len, n - (size_t)len, "]");
}

/* Every tensor of @arch's tiny model, once too wide and once missing. */
static void every_tensor_checked(const char *arch, int rope_freqs)
{
	struct gb_model_spec s = gb_model_spec_tiny(arch);
	struct gguf_file *g;
	struct gb *b = gb_new();
	size_t size, i;
	uint8_t *img;

	s.rope_freqs = rope_freqs;
	s.tied = 0;
	gb_model(b, &s);
	img = gb_build(b, &size);
	gb_free(b);
	assert_int_equal(gguf_parse(img, size, &g), 0);
	for (i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];
		uint64_t wrong[4] = { t->ne[0] + (t->n_dims == 1 ? 1 : 32), t->ne[1] };
		char name[GGUF_MAX_NAME], want[256], found[64], expected[64];

		snprintf(name, sizeof(name), "%.*s", (int)t->name.len, t->name.ptr);
		shape_str(found, sizeof(found), wrong, t->n_dims);
		shape_str(expected, sizeof(expected), t->ne, t->n_dims);
		snprintf(want, sizeof(want), "tensor '%s': shape %s, expected %s", name, found,
			 expected);
		b = gb_new();
		gb_model(b, &s);
		assert_int_equal(gb_tensor_set_dims(b, name, t->n_dims, wrong), 0);
		expect_refused(b, -EINVAL, want);

		/* a wrong type for a 1-D tensor, a 2-D one where 1-D belongs */
		if (t->n_dims == 1) {
			b = gb_new();
			gb_model(b, &s);
			gb_tensor_set_type(b, name, 1);
			snprintf(want, sizeof(want), "tensor '%s': type f16, expected f32", name);
			expect_refused(b, -EINVAL, want);
		}

		b = gb_new();
		gb_model(b, &s);
		assert_int_equal(gb_tensor_remove(b, name), 0);
		snprintf(want, sizeof(want), "tensor '%s' is missing (a %s model has it)", name, arch);
		if (!strcmp(name, "output.weight") || !strcmp(name, "rope_freqs.weight")) {
			struct anpurt_model *m;

			/* optional: tied output / no llama3 scaling (after dropping the key) */
			if (rope_freqs)
				gb_kv_remove(b, "llama.rope.scaling.type");
			assert_int_equal(open_built(b, &m), 0);
			anpurt_model_free(m);
		} else {
			expect_refused(b, -EINVAL, want);
		}
	}
	gguf_close(g);
	free(img);
}

static void test_every_tensor_shape_qwen2(void **state)
{
	(void)state;
	every_tensor_checked("qwen2", 0);
}

static void test_every_tensor_shape_qwen3(void **state)
{
	(void)state;
	every_tensor_checked("qwen3", 0);
}

static void test_every_tensor_shape_llama(void **state)
{
	(void)state;
	every_tensor_checked("llama", 1);
}

static void test_refused(void **state)
{
	struct gb *b;

	(void)state;
	b = tiny("qwen2");
	gb_kv_remove(b, "general.architecture");
	gb_kv_str(b, "general.architecture", "qwen2moe");
	expect_refused(b, -ENOTSUP, "architecture 'qwen2moe' (mixture of experts) is not supported"
		       " (the runtime runs qwen2, qwen3 and llama)");
	b = tiny("qwen2");
	gb_kv_remove(b, "general.architecture");
	gb_kv_str(b, "general.architecture", "gemma3");
	expect_refused(b, -ENOTSUP, "architecture 'gemma3' is not supported");
	b = tiny("qwen2");
	gb_kv_remove(b, "general.architecture");
	expect_refused(b, -EINVAL, "general.architecture is missing");
	b = tiny("qwen3");
	gb_kv_u32(b, "qwen3.expert_count", 8);
	expect_refused(b, -ENOTSUP, "qwen3.expert_count is 8: mixture-of-experts models are not supported");
	b = tiny("qwen2");
	gb_kv_u32(b, "clip.vision.image_size", 448);
	expect_refused(b, -ENOTSUP, "key 'clip.vision.image_size': vision towers are not supported");
	b = tiny("qwen2");
	gb_tensor_1d(b, "v.blk.0.attn_q.weight", 0, 8);
	expect_refused(b, -ENOTSUP, "tensor 'v.blk.0.attn_q.weight' is not part of a qwen2 model with 2 layers");
	b = tiny("qwen2");
	gb_tensor_1d(b, "blk.2.attn_norm.weight", 0, 64);
	expect_refused(b, -ENOTSUP, "tensor 'blk.2.attn_norm.weight' is not part of a qwen2 model");
	b = tiny("qwen2");
	gb_kv_str(b, "qwen2.rope.scaling.type", "yarn");
	expect_refused(b, -ENOTSUP, "RoPE scaling 'yarn' (qwen2.rope.scaling.type) is not supported (none and llama3 are)");
	b = tiny("qwen2");
	gb_kv_str(b, "qwen2.rope.scaling.type", "llama3");
	expect_refused(b, -ENOTSUP, "RoPE scaling 'llama3' (qwen2.rope.scaling.type) is not supported");
	b = tiny("llama");
	gb_kv_str(b, "llama.rope.scaling.type", "linear");
	expect_refused(b, -ENOTSUP, "RoPE scaling 'linear'");
	b = tiny("llama");
	gb_kv_f32(b, "llama.rope.scale_linear", 4.0f);
	expect_refused(b, -ENOTSUP, "RoPE scaling 'linear' (llama.rope.scale_linear 4) is not supported");
	b = tiny("llama");
	gb_kv_u32(b, "llama.rope.dimension_count", 8);
	expect_refused(b, -ENOTSUP, "llama.rope.dimension_count is 8: partial rotary embeddings are not supported");
	b = tiny("qwen2");
	gb_tensor_set_type(b, "blk.1.ffn_down.weight", 20);	/* iq4_nl */
	expect_refused(b, -ENOTSUP, "tensor 'blk.1.ffn_down.weight' has type iq4_nl, which the runtime does not read");
}

static void test_bad_hparams(void **state)
{
	struct gb *b;

	(void)state;
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.block_count");
	expect_refused(b, -EINVAL, "qwen2.block_count is missing");
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.block_count");
	gb_kv_u32(b, "qwen2.block_count", 4000000);
	expect_refused(b, -EINVAL, "qwen2.block_count is 4000000 but the file has only 26 tensors");
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.embedding_length");
	gb_kv_u32(b, "qwen2.embedding_length", 0);
	expect_refused(b, -EINVAL, "qwen2.embedding_length is 0 (must be 1 to 2147483647)");
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.attention.head_count_kv");
	gb_kv_u32(b, "qwen2.attention.head_count_kv", 3);
	expect_refused(b, -EINVAL, "qwen2.attention.head_count 4 is not a multiple of head_count_kv 3");
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.context_length");
	gb_kv_str(b, "qwen2.context_length", "4096");
	expect_refused(b, -EINVAL, "qwen2.context_length has type string (must be an integer)");
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.attention.layer_norm_rms_epsilon");
	gb_kv_f32(b, "qwen2.attention.layer_norm_rms_epsilon", -1.0f);
	expect_refused(b, -EINVAL, "qwen2.attention.layer_norm_rms_epsilon is -1 (must be above 0");
	b = tiny("qwen2");
	gb_kv_remove(b, "qwen2.attention.key_length");
	gb_kv_u32(b, "qwen2.attention.key_length", 15);
	expect_refused(b, -EINVAL, "head size 15");
}

static void test_vocab(void **state)
{
	struct gb *b;

	(void)state;
	b = tiny("qwen2");
	gb_kv_remove(b, "tokenizer.ggml.tokens");
	gb_kv_arr_str(b, "tokenizer.ggml.tokens", 2, (const char *const[]){ "a", "b" });
	expect_refused(b, -EINVAL, "tokenizer.ggml.tokens has 2 entries but token_embd.weight has 320 rows");
	b = tiny("qwen2");
	gb_kv_remove(b, "tokenizer.ggml.tokens");
	expect_refused(b, -EINVAL, "tokenizer.ggml.tokens is missing");
	b = tiny("qwen2");
	gb_kv_remove(b, "tokenizer.ggml.token_type");
	gb_kv_arr_i32(b, "tokenizer.ggml.token_type", 1, (const int32_t[]){ 1 });
	expect_refused(b, -EINVAL, "tokenizer.ggml.token_type has 1 entries for 320 tokens");
	b = tiny("qwen2");
	gb_kv_remove(b, "tokenizer.ggml.eos_token_id");
	gb_kv_u32(b, "tokenizer.ggml.eos_token_id", 320);
	expect_refused(b, -EINVAL, "tokenizer.ggml.eos_token_id is 320, past the 320 tokens");
}

static void test_chat_template_override(void **state)
{
	struct anpurt_model_params p = anpurt_model_default_params();
	struct anpurt_model *m;
	struct gb *b;

	(void)state;
	assert_null(p.chat_template);
	b = tiny("llama");
	assert_int_equal(gb_write_file(b, path), 0);
	gb_free(b);
	p.chat_template = "llama3.1";
	assert_int_equal(anpurt_model_open(path, &p, &m), 0);
	assert_string_equal(anpurt_model_info(m)->chat_template, "llama3.1");
	anpurt_model_free(m);
	p.chat_template = "chatgpt";
	assert_int_equal(anpurt_model_open(path, &p, &m), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "unknown chat template 'chatgpt' (the choices: qwen2.5, qwen3,"));
	assert_null(m);
	assert_int_equal(anpurt_model_open("/nonexistent/x.gguf", NULL, &m), -ENOENT);
	assert_string_equal(anpurt_last_error(), "/nonexistent/x.gguf: No such file or directory");
}

static void test_qwen25_05b_q4_k_m_shapes_and_mix(void **state)
{
	const struct anpurt_model_info *in;
	struct anpurt_model *m;
	struct gb *b = gb_new();

	(void)state;
	gb_model_qwen25_05b_q4_k_m(b);
	assert_int_equal(gb_write_file_sparse(b, path), 0);
	gb_free(b);
	assert_int_equal(anpurt_model_open(path, NULL, &m), 0);
	in = anpurt_model_info(m);
	assert_int_equal(in->n_tensors, 290);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_F32], 121);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_Q5_0], 132);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_Q8_0], 13);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_Q4_K], 12);
	assert_int_equal(in->tensor_count[ANPURT_TYPE_Q6_K], 12);
	assert_int_equal(in->n_params, 494032768);	/* Qwen2.5-0.5B's published count */
	assert_int_equal(in->n_vocab, 151936);
	assert_int_equal(in->head_dim_k, 64);
	assert_true(in->tied_output);
	anpurt_model_free(m);
}

/* Describe an in-memory image the way anpurt_model_open does (without the file). */
static int describe(const uint8_t *img, size_t size)
{
	struct anpurt_model m;
	int ret;

	memset(&m, 0, sizeof(m));
	ret = gguf_parse(img, size, &m.gguf);
	if (ret)
		return ret;
	ret = model_read_hparams(&m);
	if (!ret)
		ret = model_bind_tensors(&m);
	if (!ret)
		ret = model_read_vocab(&m);
	free(m.layers);
	gguf_close(m.gguf);
	return ret;
}

/* Every metadata byte of a model flipped: described or refused with a message, never a crash. */
static void test_mutated_models(void **state)
{
	static const uint8_t xors[] = { 0x01, 0x80, 0xff };
	struct gb_model_spec s = gb_model_spec_tiny("qwen3");
	size_t size, at, x, ok = 0, refused = 0;
	struct gb *b = gb_new();
	uint8_t *img;

	(void)state;
	s.n_layer = 1;
	s.n_vocab = 258;	/* the 256 byte tokens and two more: small metadata */
	gb_model(b, &s);
	img = gb_build(b, &size);
	assert_int_equal(describe(img, size), 0);
	for (at = 0; at < gb_data_offset(b); at++) {
		for (x = 0; x < sizeof(xors); x++) {
			uint8_t *copy = malloc(size);

			assert_non_null(copy);
			memcpy(copy, img, size);
			copy[at] ^= xors[x];
			if (describe(copy, size) == 0) {
				ok++;
			} else {
				assert_true(anpurt_last_error()[0] != '\0');
				refused++;
			}
			free(copy);
		}
	}
	assert_true(ok > 0);
	assert_true(refused > 0);
	free(img);
	gb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen2_description),
		cmocka_unit_test(test_qwen3_and_llama_descriptions),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_tensor_shape_qwen2),
		cmocka_unit_test(test_every_tensor_shape_qwen3),
		cmocka_unit_test(test_every_tensor_shape_llama),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bad_hparams),
		cmocka_unit_test(test_vocab),
		cmocka_unit_test(test_chat_template_override),
		cmocka_unit_test(test_qwen25_05b_q4_k_m_shapes_and_mix),
		cmocka_unit_test(test_mutated_models),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
