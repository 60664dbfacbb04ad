// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the GGUF reader (gguf_parse) on arbitrary bytes and, when
 * a file parses, everything the model code reads from it: every KV through the
 * typed getters, string arrays, and the model description (hyper-parameters,
 * tensor binding, vocabulary) and the tokenizer built from that vocabulary
 * (its string lists read packed, straight from the buffer). The input is
 * copied into a buffer of exactly its size so that ASan sees any read past
 * the end.
 */
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"
#include "model/model.h"
#include "text/tok_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_every_kv(const struct gguf_file *g)
{
	char key[256];
	size_t i;

	for (i = 0; i < g->n_kv; i++) {
		const struct gguf_kv *kv = &g->kv[i];
		struct gguf_array arr;
		struct rt_str s;
		uint64_t u;
		double f;
		int b;

		if (kv->key.len >= sizeof(key) || memchr(kv->key.ptr, '\0', kv->key.len))
			continue;
		memcpy(key, kv->key.ptr, kv->key.len);
		key[kv->key.len] = '\0';
		if (gguf_find_kv(g, key) != kv)
			abort();	/* keys are unique: lookup finds this one */
		(void)gguf_get_uint(g, key, &u);
		(void)gguf_get_float(g, key, &f);
		(void)gguf_get_bool(g, key, &b);
		(void)gguf_get_str(g, key, &s);
		if (gguf_get_array(g, key, GGUF_STRING, &arr) == 1) {
			struct rt_str *strs = malloc((arr.n ? arr.n : 1) * sizeof(*strs));

			if (!strs)
				abort();
			gguf_array_strings(g, &arr, strs);
			free(strs);
		}
		if (gguf_get_array(g, key, GGUF_I32, &arr) == 1 && arr.n)
			(void)gguf_array_i32(g, &arr, arr.n - 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct anpurt_model m;
	struct gguf_file *g;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (gguf_parse(copy, size, &g) == 0) {
		read_every_kv(g);
		memset(&m, 0, sizeof(m));
		m.gguf = g;
		if (model_read_hparams(&m) == 0 && model_bind_tensors(&m) == 0 &&
		    model_read_vocab(&m) == 0 && !model_has_no_vocab(&m) &&
		    tok_create(&m.vocab, &m.tokenizer) == 0)
			tok_free(m.tokenizer);
		free(m.layers);
		gguf_close(g);
	}
	free(copy);
	return 0;
}
