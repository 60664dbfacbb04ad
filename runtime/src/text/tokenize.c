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

#include "accel.h"
#include "anpurt.h"
#include "rt_error.h"
#include "tok_bpe.h"
#include "tok_internal.h"
#include "tok_nfc.h"
#include "tok_pre.h"
#include "tok_utf8.h"

/* Where ids go: written while there is room, always counted. */
struct tok_out {
	int32_t *ids;
	size_t n_max;
	size_t n;
};

static inline void tok_out_push(struct tok_out *o, int32_t id)
{
	if (o->n < o->n_max)
		o->ids[o->n] = id;
	o->n++;
}

/*
 * Pre-token -> ids cache of one call (texts of CACHE_MIN_TEXT bytes and more):
 * words repeat, and a hit costs one hash instead of a BPE run whose pair
 * lookups miss the CPU caches. Direct-mapped; pre-tokens up to CACHE_KEY
 * bytes (a run of CJK characters is one pre-token: 19 of them fit).
 */
#define CACHE_SLOTS	4096
#define CACHE_KEY	58
#define CACHE_IDS	16
#define CACHE_MIN_TEXT	4096

struct tok_cache_ent {
	uint32_t tag;
	uint8_t len;		/* 0: empty */
	uint8_t n_ids;
	char key[CACHE_KEY];
	int32_t ids[CACHE_IDS];
};

struct tok_run {
	const struct anpurt_tokenizer *tok;
	pcre2_match_data *md;
	struct tok_bpe_work bpe;
	struct tok_out out;
	struct tok_cache_ent *cache;	/* CACHE_SLOTS entries, or NULL */
	char *whole;			/* ignore_merges: 2 * max_piece bytes for whole_token() */
};

/*
 * ignore_merges: the regular token standing for all of @s, if there is one
 * (the pre-token's byte-level text looked up in the text map), else -1.
 */
static int32_t whole_token(const struct tok_run *run, const uint8_t *s, size_t len)
{
	const struct anpurt_tokenizer *tok = run->tok;
	size_t n;
	int32_t id;

	if (len > tok->max_piece)
		return -1;
	n = tok_bytes_to_text(s, len, run->whole);
	id = tok_str_map_find(&tok->by_text, tok->text, tok->text_off, run->whole, n);
	return id >= 0 && tok_is_regular(tok->types[id]) ? id : -1;
}

static int pretoken(struct tok_run *run, const uint8_t *s, size_t len)
{
	const struct anpurt_tokenizer *tok = run->tok;
	struct tok_cache_ent *ent = NULL;
	uint64_t h = 0;
	long n;

	if (run->cache && len <= CACHE_KEY) {
		h = tok_hash_bytes((const char *)s, len);
		ent = &run->cache[h & (CACHE_SLOTS - 1)];
		if (ent->len == len && ent->tag == (uint32_t)(h >> 32) && !memcmp(ent->key, s, len)) {
			for (int i = 0; i < ent->n_ids; i++)
				tok_out_push(&run->out, ent->ids[i]);
			return 0;
		}
	}
	if (tok->pre->ignore_merges) {
		int32_t id = whole_token(run, s, len);

		if (id >= 0) {
			tok_out_push(&run->out, id);
			return 0;
		}
	}
	n = tok_bpe(tok, s, len, &run->bpe);
	if (n < 0)
		return rt_error(-ENOMEM, "tokenize: out of memory");
	for (long i = 0; i < n; i++)
		tok_out_push(&run->out, run->bpe.result[i]);
	if (ent && n <= CACHE_IDS) {
		ent->tag = (uint32_t)(h >> 32);
		ent->len = (uint8_t)len;
		ent->n_ids = (uint8_t)n;
		memcpy(ent->key, s, len);
		memcpy(ent->ids, run->bpe.result, (size_t)n * sizeof(int32_t));
	}
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

static int normalize_and_split(struct tok_run *run, const uint8_t *s, size_t len)
{
	const uint8_t *nfc;
	uint8_t *owned;
	size_t n;
	int err;

	if (!run->tok->pre->nfc)
		return split(run, s, len);
	err = tok_nfc(s, len, &nfc, &n, &owned);
	if (err)
		return rt_error(err, "tokenize: NFC normalisation failed");
	err = split(run, nfc, n);
	free(owned);
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

static int tokenize(const struct anpurt_tokenizer *tok, const char *text, size_t len,
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
	if (tok->pre->ignore_merges)
		run.whole = malloc(2 * (size_t)tok->max_piece + 1);
	if (len >= CACHE_MIN_TEXT)
		run.cache = calloc(CACHE_SLOTS, sizeof(*run.cache));	/* optional: NULL is fine */
	if (!run.md || (tok->pre->ignore_merges && !run.whole))
		err = rt_error(-ENOMEM, "tokenize: out of memory");
	else
		err = special ? template_text(&run, s, len) : plain_text(&run, s, len);
	pcre2_match_data_free(run.md);
	free(run.whole);
	free(run.cache);
	tok_bpe_work_free(&run.bpe);
	if (err)
		return err;
	if (run.out.n > INT_MAX)
		return rt_error(-EOVERFLOW, "tokenize: %zu tokens do not fit an int", run.out.n);
	rt_error_clear();
	return (int)run.out.n;
}

int anpurt_tokenize(const struct anpurt_tokenizer *tok, const char *text, size_t len,
		    unsigned int flags, int32_t *ids, size_t n_max)
{
	int64_t span = accel_trace_span_begin();	/* trace mode: a CPU span */
	int ret = tokenize(tok, text, len, flags, ids, n_max);

	accel_trace_span_end("tokenize", span);
	return ret;
}
