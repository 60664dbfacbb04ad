/* SPDX-License-Identifier: MIT */
/*
 * The vocabulary a tokenizer is built from: the tokenizer.ggml.* keys of a GGUF
 * file, as the model code (model/) reads them, handed to the tokenizer (text/)
 * without the tokenizer knowing the file format. Strings are (pointer, length)
 * pairs: GGUF strings are not NUL-terminated. The arrays belong to the caller;
 * the tokenizer copies what it keeps.
 *
 * The token and merge lists come either as such pairs or packed: the strings
 * back to back, each an 8-byte little-endian length and then its bytes. That
 * is how a GGUF file stores a string array, so the model code hands over the
 * mapping as it is: 16-byte pairs for 300k strings were 5 MB of fresh pages,
 * a tenth of a load. Whoever packs them has checked that they lie in memory.
 */
#ifndef TOK_VOCAB_H
#define TOK_VOCAB_H

#include <stddef.h>
#include <stdint.h>

struct rt_str {
	const char *ptr;
	size_t len;
};

/* tokenizer.ggml.token_type values (llama.cpp's llama_token_type) */
enum tok_type {
	TOK_TYPE_UNDEFINED	= 0,
	TOK_TYPE_NORMAL		= 1,
	TOK_TYPE_UNKNOWN	= 2,
	TOK_TYPE_CONTROL	= 3,	/* special added token: <|im_start|>, <|begin_of_text|> */
	TOK_TYPE_USER_DEFINED	= 4,	/* non-special added token: Qwen3's <think>, <tool_call> */
	TOK_TYPE_UNUSED		= 5,	/* padding rows ([PAD151643] ...) */
	TOK_TYPE_BYTE		= 6,
};

struct tok_vocab {
	struct rt_str model;		/* tokenizer.ggml.model: "gpt2" (byte-level BPE) */
	struct rt_str pre;		/* tokenizer.ggml.pre: "qwen2", "deepseek-r1-qwen", "llama-bpe" */
	size_t n_tokens;
	const struct rt_str *tokens;	/* tokenizer.ggml.tokens, n_tokens entries, */
	const char *tokens_packed;	/* or packed (exactly one of the two) */
	/* tokenizer.ggml.token_type: n_tokens int32 values, any alignment, or NULL */
	const void *token_types;
	size_t n_merges;
	const struct rt_str *merges;	/* tokenizer.ggml.merges: "left right", */
	const char *merges_packed;	/* or packed (one of the two where n_merges > 0) */
	int32_t bos_id;			/* tokenizer.ggml.bos_token_id, -1 if absent */
	int32_t eos_id;			/* tokenizer.ggml.eos_token_id, -1 if absent */
	int32_t eot_id;			/* tokenizer.ggml.eot_token_id, -1 if absent */
	int32_t pad_id;			/* tokenizer.ggml.padding_token_id, -1 if absent */
	int add_bos;			/* tokenizer.ggml.add_bos_token (0 if absent) */
};

#endif
