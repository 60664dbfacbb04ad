/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer.ggml.* keys as a struct tok_vocab (text/tok_vocab.h), so that
 * the tokenizer never sees the file format. Strings point into the mapping;
 * the arrays of (pointer, length) pairs and the token types (unaligned in the
 * file) are copied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "model/model.h"

static int read_id(struct anpurt_model *m, const char *key, int32_t *out)
{
	uint64_t v;
	int ret = gguf_get_uint(m->gguf, key, &v);

	*out = -1;
	if (ret <= 0)
		return ret;
	if (v >= m->vocab.n_tokens)
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s is %" PRIu64 ", past the %zu tokens",
				gguf_find_kv(m->gguf, key)->offset, key, v, m->vocab.n_tokens);
	*out = (int32_t)v;
	return 0;
}

static int read_strings(struct anpurt_model *m, const char *key, struct gguf_array *arr,
			struct rt_str **out)
{
	int ret = gguf_get_array(m->gguf, key, GGUF_STRING, arr);

	if (ret <= 0)
		return ret;
	/* arr->n is bounded by the file's size (each string takes at least 8 bytes) */
	*out = malloc((arr->n ? arr->n : 1) * sizeof(**out));
	if (!*out)
		return rt_error(-ENOMEM, "out of memory for %s", key);
	gguf_array_strings(m->gguf, arr, *out);
	return 1;
}

int model_has_no_vocab(const struct anpurt_model *m)
{
	return m->vocab.model.len == 8 && !memcmp(m->vocab.model.ptr, "no_vocab", 8);
}

int model_read_vocab(struct anpurt_model *m)
{
	struct tok_vocab *v = &m->vocab;
	struct gguf_array arr, types;
	uint64_t i;
	int ret;

	memset(v, 0, sizeof(*v));
	if ((ret = gguf_get_str(m->gguf, "tokenizer.ggml.model", &v->model)) < 0 ||
	    (ret = gguf_get_str(m->gguf, "tokenizer.ggml.pre", &v->pre)) < 0)
		return ret;
	/* llama.cpp's "no_vocab": a model that takes token ids only (no tokenizer) */
	if (model_has_no_vocab(m))
		return 0;
	ret = read_strings(m, "tokenizer.ggml.tokens", &arr, &m->vocab_tokens);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return rt_error(-EINVAL, "tokenizer.ggml.tokens is missing");
	if (arr.n != m->info.n_vocab)
		return rt_error(-EINVAL, "tokenizer.ggml.tokens has %" PRIu64 " entries but"
				" token_embd.weight has %" PRIu32 " rows", arr.n, m->info.n_vocab);
	v->n_tokens = arr.n;
	v->tokens = m->vocab_tokens;
	ret = gguf_get_array(m->gguf, "tokenizer.ggml.token_type", GGUF_I32, &types);
	if (ret < 0)
		return ret;
	if (ret) {
		if (types.n != arr.n)
			return rt_error(-EINVAL, "tokenizer.ggml.token_type has %" PRIu64 " entries"
					" for %" PRIu64 " tokens", types.n, arr.n);
		m->vocab_types = malloc((types.n ? types.n : 1) * sizeof(*m->vocab_types));
		if (!m->vocab_types)
			return rt_error(-ENOMEM, "out of memory for tokenizer.ggml.token_type");
		for (i = 0; i < types.n; i++)
			m->vocab_types[i] = gguf_array_i32(m->gguf, &types, i);
		v->token_types = m->vocab_types;
	}
	ret = read_strings(m, "tokenizer.ggml.merges", &arr, &m->vocab_merges);
	if (ret < 0)
		return ret;
	v->n_merges = ret ? arr.n : 0;
	v->merges = m->vocab_merges;
	if ((ret = read_id(m, "tokenizer.ggml.bos_token_id", &v->bos_id)) < 0 ||
	    (ret = read_id(m, "tokenizer.ggml.eos_token_id", &v->eos_id)) < 0 ||
	    (ret = read_id(m, "tokenizer.ggml.eot_token_id", &v->eot_id)) < 0 ||
	    (ret = read_id(m, "tokenizer.ggml.padding_token_id", &v->pad_id)) < 0)
		return ret;
	ret = gguf_get_bool(m->gguf, "tokenizer.ggml.add_bos_token", &v->add_bos);
	return ret < 0 ? ret : 0;
}

void model_free_vocab(struct anpurt_model *m)
{
	free(m->vocab_tokens);
	free(m->vocab_merges);
	free(m->vocab_types);
	m->vocab_tokens = m->vocab_merges = NULL;
	m->vocab_types = NULL;
}
