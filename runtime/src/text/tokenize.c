/* SPDX-License-Identifier: MIT */
/*
 * Text -> ids. Template text is first cut at the added tokens (matched whole,
 * leftmost-longest, on the raw text: every added token of the supported
 * vocabularies has normalized = false, lstrip = rstrip = single_word = false);
 * each piece between them, or the whole text for user content, is NFC-normalised
 * when the pre-tokenizer says so, split by the pre-tokenizer regex, and each
 * pre-token is byte-pair merged.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "anpurt.h"
#include "rt_error.h"
#include "tok_bpe.h"
#include "tok_internal.h"
#include "tok_pre.h"
#include "tok_utf8.h"

struct tok_run {
	const struct anpurt_tokenizer *tok;
	pcre2_match_data *md;
	struct tok_bpe_work bpe;
	struct tok_out out;
};

static int pretoken(struct tok_run *run, const uint8_t *s, size_t len)
{
	const struct anpurt_tokenizer *tok = run->tok;

	if (tok->pre->ignore_merges) {
		int32_t id = tok_str_map_find(&tok->regular, tok->piece, tok->piece_off,
					      (const char *)s, len);

		if (id >= 0) {
			tok_out_push(&run->out, id);
			return 0;
		}
	}
	if (tok_bpe(tok, s, len, &run->bpe, &run->out))
		return rt_error(-ENOMEM, "tokenize: out of memory");
	return 0;
}

/* Split valid UTF-8 by the pre-tokenizer regex (Split, behaviour Isolated: gaps are pre-tokens too). */
static int split(struct tok_run *run, const uint8_t *s, size_t len)
{
	const struct anpurt_tokenizer *tok = run->tok;
	size_t pos = 0;
	int err = 0;

	while (pos < len && !err) {
		PCRE2_SIZE *ov;
		size_t start, end;
		int rc = tok->re_jit ? pcre2_jit_match(tok->re, s, len, pos, 0, run->md, NULL)
				     : pcre2_match(tok->re, s, len, pos, PCRE2_NO_UTF_CHECK, run->md, NULL);

		if (rc == PCRE2_ERROR_NOMATCH)
			return pretoken(run, s + pos, len - pos);
		if (rc < 0) {
			PCRE2_UCHAR msg[128];

			pcre2_get_error_message(rc, msg, sizeof(msg));
			return rt_error(-EINVAL, "tokenize: pre-tokenizer regex failed at byte %zu: %s",
					pos, (const char *)msg);
		}
		ov = pcre2_get_ovector_pointer(run->md);
		start = ov[0];
		end = ov[1];
		if (end == start) {	/* the patterns never match empty; step a character if one did */
			uint32_t cp;
			int n = tok_utf8_next(s + start, len - start, &cp);

			end = start + (size_t)(n > 0 ? n : 1);
		}
		if (start > pos)
			err = pretoken(run, s + pos, start - pos);
		if (!err)
			err = pretoken(run, s + start, end - start);
		pos = end;
	}
	return err;
}

static int has_non_ascii(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] & 0x80)
			return 1;
	return 0;
}

static int normalize_and_split(struct tok_run *run, const uint8_t *s, size_t len)
{
	utf8proc_uint8_t *nfc = NULL;
	utf8proc_ssize_t n;
	int err;

	if (!run->tok->pre->nfc || !has_non_ascii(s, len))	/* ASCII is NFC already */
		return split(run, s, len);
	n = utf8proc_map(s, (utf8proc_ssize_t)len, &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (n < 0)
		return rt_error(n == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EINVAL, "tokenize: NFC: %s",
				utf8proc_errmsg(n));
	err = split(run, nfc, (size_t)n);
	free(nfc);
	return err;
}

/* A stretch of text without added tokens: valid UTF-8 runs, invalid bytes as byte tokens. */
static int plain_text(struct tok_run *run, const uint8_t *s, size_t len)
{
	while (len) {
		size_t valid = tok_utf8_valid_prefix(s, len);
		int err;

		if (valid) {
			err = normalize_and_split(run, s, valid);
			if (err)
				return err;
			s += valid;
			len -= valid;
			continue;
		}
		tok_out_push(&run->out, run->tok->byte_id[s[0]]);
		s++;
		len--;
	}
	return 0;
}

/* The longest added token at @s, or -1. */
static int32_t added_at(const struct anpurt_tokenizer *tok, const uint8_t *s, size_t len)
{
	for (uint32_t i = tok->added_start[s[0]]; i < tok->added_start[s[0] + 1]; i++) {
		size_t plen;
		const char *p = tok_piece(tok, tok->added[i], &plen);

		if (plen <= len && !memcmp(p, s, plen))
			return tok->added[i];
	}
	return -1;
}

static int template_text(struct tok_run *run, const uint8_t *s, size_t len)
{
	const struct anpurt_tokenizer *tok = run->tok;
	size_t plain = 0;

	for (size_t i = 0; i < len;) {
		int32_t id;
		size_t plen;

		if (tok->added_start[s[i]] == tok->added_start[s[i] + 1] ||
		    (id = added_at(tok, s + i, len - i)) < 0) {
			i++;
			continue;
		}
		if (i > plain) {
			int err = plain_text(run, s + plain, i - plain);

			if (err)
				return err;
		}
		tok_out_push(&run->out, id);
		tok_piece(tok, id, &plen);
		i += plen;
		plain = i;
	}
	return plain < len ? plain_text(run, s + plain, len - plain) : 0;
}

int anpurt_tokenize(const struct anpurt_tokenizer *tok, const char *text, size_t len,
		    unsigned int flags, int32_t *ids, size_t n_max)
{
	const uint8_t *s = (const uint8_t *)text;
	struct tok_run run = { .tok = tok, .out = { .ids = ids, .n_max = ids ? n_max : 0 } };
	int special = !(flags & ANPURT_TOKENIZE_NO_SPECIAL);
	int err;

	if (!tok || (!text && len))
		return rt_error(-EINVAL, "tokenize: no tokenizer or no text");
	if (flags & ~(ANPURT_TOKENIZE_ADD_BOS | ANPURT_TOKENIZE_NO_SPECIAL))
		return rt_error(-EINVAL, "tokenize: unknown flags 0x%x", flags);
	/* BOS never twice: a rendered Llama template starts with <|begin_of_text|> */
	if ((flags & ANPURT_TOKENIZE_ADD_BOS) && tok->add_bos &&
	    !(special && len && added_at(tok, s, len) == tok->bos_id))
		tok_out_push(&run.out, tok->bos_id);
	run.md = pcre2_match_data_create_from_pattern(tok->re, NULL);
	if (!run.md)
		return rt_error(-ENOMEM, "tokenize: out of memory");
	err = special ? template_text(&run, s, len) : plain_text(&run, s, len);
	pcre2_match_data_free(run.md);
	tok_bpe_work_free(&run.bpe);
	if (err)
		return err;
	if (run.out.n > INT_MAX)
		return rt_error(-EOVERFLOW, "tokenize: %zu tokens do not fit an int", run.out.n);
	rt_error_clear();
	return (int)run.out.n;
}
