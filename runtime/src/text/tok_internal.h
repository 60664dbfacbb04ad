/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer's insides, shared by its files: built once by tok_create() from
 * a struct tok_vocab, then only read (one tokenizer may serve many threads).
 */
#ifndef TOK_INTERNAL_H
#define TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "tok_map.h"
#include "tok_vocab.h"

struct tok_pre_desc;

struct anpurt_tokenizer {
	size_t n_tokens;
	/* the vocabulary's strings (byte-level form for regular tokens), NUL-separated */
	char *text;
	uint32_t *text_off;		/* n_tokens + 1 offsets into text (each text + NUL) */
	/* the bytes each token stands for: regular tokens with the byte-level
	 * mapping undone, added tokens their text */
	char *piece;
	uint32_t *piece_off;		/* n_tokens + 1 offsets into piece */
	uint8_t *types;			/* enum tok_type per token */

	uint32_t max_piece;		/* bytes of the longest regular token's piece */

	int32_t byte_id[256];		/* the regular token of each single byte */
	/* text of any token -> id; regular tokens by bytes: their byte-level text */
	struct tok_str_map by_text;
	struct tok_pair_map merges;	/* (left id, right id) -> rank and merged id */

	/* added tokens (CONTROL, USER_DEFINED), matched whole in template text:
	 * sorted by first byte, longest first; added_start[b]..added_start[b + 1] */
	int32_t *added;
	size_t n_added;
	uint32_t added_start[257];

	const struct tok_pre_desc *pre;
	pcre2_code *re;
	int re_jit;			/* the pattern was JIT-compiled */

	int32_t bos_id, eos_id, eot_id, pad_id;
	int add_bos;
};

int tok_create(const struct tok_vocab *vocab, struct anpurt_tokenizer **out);
void tok_free(struct anpurt_tokenizer *tok);

static inline const char *tok_piece(const struct anpurt_tokenizer *tok, int32_t id, size_t *len)
{
	*len = tok->piece_off[id + 1] - tok->piece_off[id];
	return tok->piece + tok->piece_off[id];
}

/* NORMAL, UNDEFINED, BYTE, UNKNOWN: byte-level texts, what BPE may produce. */
static inline int tok_is_regular(uint8_t type)
{
	return type == TOK_TYPE_NORMAL || type == TOK_TYPE_UNDEFINED || type == TOK_TYPE_BYTE ||
	       type == TOK_TYPE_UNKNOWN;
}

static inline int tok_is_added(uint8_t type)
{
	return type == TOK_TYPE_CONTROL || type == TOK_TYPE_USER_DEFINED;
}

#endif
