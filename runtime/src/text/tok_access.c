/* SPDX-License-Identifier: MIT */
/* The tokenizer's read-only accessors (public API). */
#include "anpurt.h"
#include "tok_internal.h"

static int valid_id(const struct anpurt_tokenizer *tok, int32_t id)
{
	return tok && id >= 0 && (size_t)id < tok->n_tokens;
}

size_t anpurt_vocab_size(const struct anpurt_tokenizer *tok)
{
	return tok->n_tokens;
}

int32_t anpurt_token_bos(const struct anpurt_tokenizer *tok)
{
	return tok->bos_id;
}

int32_t anpurt_token_eos(const struct anpurt_tokenizer *tok)
{
	return tok->eos_id;
}

int32_t anpurt_token_eot(const struct anpurt_tokenizer *tok)
{
	return tok->eot_id;
}

int anpurt_token_is_eog(const struct anpurt_tokenizer *tok, int32_t id)
{
	return valid_id(tok, id) && (id == tok->eos_id || id == tok->eot_id);
}

int anpurt_token_is_control(const struct anpurt_tokenizer *tok, int32_t id)
{
	return valid_id(tok, id) && tok->types[id] == TOK_TYPE_CONTROL;
}

const char *anpurt_token_text(const struct anpurt_tokenizer *tok, int32_t id, size_t *len)
{
	if (!valid_id(tok, id))
		return NULL;
	if (len)
		*len = tok->text_off[id + 1] - tok->text_off[id] - 1;
	return tok->text + tok->text_off[id];
}

const char *anpurt_token_piece(const struct anpurt_tokenizer *tok, int32_t id, size_t *len)
{
	size_t n;
	const char *p;

	if (!valid_id(tok, id))
		return NULL;
	p = tok_piece(tok, id, &n);
	if (len)
		*len = n;
	return p;
}

int32_t anpurt_token_find(const struct anpurt_tokenizer *tok, const char *text, size_t len)
{
	return tok_str_map_find(&tok->by_text, tok->text, tok->text_off, text, len);
}
