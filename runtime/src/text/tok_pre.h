/* SPDX-License-Identifier: MIT */
/* Pre-tokenizers, chosen by tokenizer.ggml.pre. */
#ifndef TOK_PRE_H
#define TOK_PRE_H

#include <stddef.h>

struct tok_pre_desc {
	const char *name;	/* tokenizer.ggml.pre */
	const char *regex;	/* the Split pattern, in PCRE2 syntax (UTF + UCP) */
	int nfc;		/* NFC normalizer before the split */
	int ignore_merges;	/* a pre-token that is a token is taken whole */
};

/* The description named @name (@len bytes), or NULL. */
const struct tok_pre_desc *tok_pre_find(const char *name, size_t len);

/* "qwen2, deepseek-r1-qwen, llama-bpe": for error messages. */
const char *tok_pre_names(void);

#endif
