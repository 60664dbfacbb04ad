// SPDX-License-Identifier: MIT
/*
 * Seed-corpus generator for fuzz_gguf: tiny valid models of each architecture
 * (qwen2, qwen3 untied, llama with rope_freqs), one of each weight type, and a
 * few near-misses (version 2, alignment 64, nested arrays), written by the
 * test image builder into the directory given as argv[1].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/runtime/lib_gguf_build.h"

static int write_seed(struct gb *b, const char *dir, const char *name)
{
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ret = gb_write_file(b, path);
	gb_free(b);
	if (ret)
		fprintf(stderr, "gen_gguf_seeds: cannot write %s\n", path);
	return ret;
}

static struct gb *model(const char *arch, int tied, int rope_freqs, uint32_t type)
{
	struct gb_model_spec s = gb_model_spec_tiny(arch);
	struct gb *b = gb_new();

	/* one narrow layer, vocabulary of 8: seeds well under -max_len */
	s.n_layer = 1;
	s.n_embd = 32;
	s.n_ff = 32;
	s.n_head = 2;
	s.n_head_kv = 1;
	s.n_vocab = 8;
	s.tied = tied;
	s.rope_freqs = rope_freqs;
	s.weight_type = type;
	s.chat_template = "{{ bos_token }}<|im_start|>enable_thinking</think>";
	gb_model(b, &s);
	return b;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; uint32_t type; } types[] = {
		{ "f32", 0 }, { "f16", 1 }, { "bf16", 30 }, { "q8_0", 8 }, { "q4_0", 2 },
		{ "q4_1", 3 }, { "q5_0", 6 }, { "q5_1", 7 },
	};
	uint8_t nested[64] = { 0 };
	char name[64];
	struct gb *b;
	size_t i;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_gguf_seeds DIR\n");
		return 2;
	}
	err |= write_seed(model("qwen2", 1, 0, 8), argv[1], "qwen2_tied");
	err |= write_seed(model("qwen3", 0, 0, 8), argv[1], "qwen3_untied");
	err |= write_seed(model("llama", 1, 1, 8), argv[1], "llama_rope_freqs");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(name, sizeof(name), "qwen2_%s", types[i].name);
		err |= write_seed(model("qwen2", 1, 0, types[i].type), argv[1], name);
	}
	b = gb_new();
	gb_set_version(b, 2);
	gb_kv_u32(b, "general.alignment", 64);
	gb_set_layout_alignment(b, 64);
	gb_kv_str(b, "general.architecture", "qwen2");
	/* [[u8 x2], [u8 x0]] */
	memcpy(nested, &(uint32_t){ 9 }, 4);
	memcpy(nested + 4, &(uint64_t){ 2 }, 8);
	memcpy(nested + 12, &(uint32_t){ 0 }, 4);
	memcpy(nested + 16, &(uint64_t){ 2 }, 8);
	nested[24] = 7;
	nested[25] = 9;
	memcpy(nested + 26, &(uint32_t){ 0 }, 4);
	memcpy(nested + 30, &(uint64_t){ 0 }, 8);
	gb_kv_raw(b, "x.nested", 9, nested, 38);
	gb_kv_f64(b, "x.f64", 0.25);
	gb_kv_bool(b, "x.bool", 1);
	gb_tensor_2d(b, "a", 12, 256, 2);
	gb_tensor_2d(b, "b", 14, 256, 1);
	gb_tensor_1d(b, "c", 13, 256);
	err |= write_seed(b, argv[1], "v2_align64_nested_kquants");
	return err ? 1 : 0;
}
