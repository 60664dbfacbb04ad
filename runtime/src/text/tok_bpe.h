/* SPDX-License-Identifier: MIT */
/* BPE on one pre-token: merges by rank, lowest first, leftmost on ties (as Hugging Face). */
#ifndef TOK_BPE_H
#define TOK_BPE_H

#include <stddef.h>
#include <stdint.h>

struct anpurt_tokenizer;

/* Work arrays of one tokenize call, grown to the longest pre-token. */
struct tok_bpe_work {
	int32_t *id;		/* symbol's token, -1 once merged into its left neighbour */
	int32_t *prev, *next;
	int32_t *result;	/* the pre-token's ids, in order */
	struct tok_bpe_cand *heap;
	size_t cap;
};

void tok_bpe_work_free(struct tok_bpe_work *w);

/* The ids of the pre-token @s (@len > 0 bytes) into w->result; their count, or -ENOMEM. */
long tok_bpe(const struct anpurt_tokenizer *tok, const uint8_t *s, size_t len, struct tok_bpe_work *w);

#endif
