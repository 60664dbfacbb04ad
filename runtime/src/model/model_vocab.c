/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer.ggml.* keys as a struct tok_vocab (text/tok_vocab.h), so that
 * the tokenizer never sees the file format. Nothing is copied: the strings,
 * the string arrays (packed, as the file stores them) and the token types
 * point into the mapping.
 */
#include <errno.h>
#include <inttypes.h>
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

/* A STRING array as the tokenizer's packed list: the mapping itself. */
static int read_strings(struct anpurt_model *m, const char *key, struct gguf_array *arr,
			const char **packed)
{
	int ret = gguf_get_array(m->gguf, key, GGUF_STRING, arr);

	if (ret <= 0)
		return ret;
	*packed = gguf_array_data(m->gguf, arr);
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
	int ret;

	memset(v, 0, sizeof(*v));
	if ((ret = gguf_get_str(m->gguf, "tokenizer.ggml.model", &v->model)) < 0 ||
	    (ret = gguf_get_str(m->gguf, "tokenizer.ggml.pre", &v->pre)) < 0)
		return ret;
	/* llama.cpp's "no_vocab": a model that takes token ids only (no tokenizer) */
	if (model_has_no_vocab(m))
		return 0;
	ret = read_strings(m, "tokenizer.ggml.tokens", &arr, &v->tokens_packed);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return rt_error(-EINVAL, "tokenizer.ggml.tokens is missing");
	if (arr.n != m->info.n_vocab)
		return rt_error(-EINVAL, "tokenizer.ggml.tokens has %" PRIu64 " entries but"
				" token_embd.weight has %" PRIu32 " rows", arr.n, m->info.n_vocab);
	v->n_tokens = arr.n;
	ret = gguf_get_array(m->gguf, "tokenizer.ggml.token_type", GGUF_I32, &types);
	if (ret < 0)
		return ret;
	if (ret) {
		if (types.n != arr.n)
			return rt_error(-EINVAL, "tokenizer.ggml.token_type has %" PRIu64 " entries"
					" for %" PRIu64 " tokens", types.n, arr.n);
		v->token_types = gguf_array_data(m->gguf, &types);
	}
	ret = read_strings(m, "tokenizer.ggml.merges", &arr, &v->merges_packed);
	if (ret < 0)
		return ret;
	v->n_merges = ret ? arr.n : 0;
	if ((ret = read_id(m, "tokenizer.ggml.bos_token_id", &v->bos_id)) < 0 ||
	    (ret = read_id(m, "tokenizer.ggml.eos_token_id", &v->eos_id)) < 0 ||
	    (ret = read_id(m, "tokenizer.ggml.eot_token_id", &v->eot_id)) < 0 ||
	    (ret = read_id(m, "tokenizer.ggml.padding_token_id", &v->pad_id)) < 0)
		return ret;
	ret = gguf_get_bool(m->gguf, "tokenizer.ggml.add_bos_token", &v->add_bos);
	return ret < 0 ? ret : 0;
}
