/* SPDX-License-Identifier: MIT */
/*
 * Building a tokenizer from a struct tok_vocab: every string, type, id and
 * merge is checked, so a malformed vocabulary is an error naming the problem.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpurt.h"
#include "rt_error.h"
#include "tok_internal.h"
#include "tok_pre.h"
#include "tok_utf8.h"

#define MAX_TOKENS	(1u << 24)	/* far above any real vocabulary (Qwen: 151936) */
#define MAX_TEXT	(UINT32_MAX / 2)

/* Through a token or merge list one string after another, as pairs or packed (tok_vocab.h). */
struct str_iter {
	const struct rt_str *list;
	const char *packed;
	size_t i;
};

static struct str_iter str_iter_at(const struct rt_str *list, const char *packed, size_t first)
{
	struct str_iter it = { list, packed, first };
	uint64_t len;

	if (!list)
		for (size_t i = 0; i < first; i++) {
			memcpy(&len, it.packed, sizeof(len));
			it.packed += sizeof(len) + len;
		}
	return it;
}

static struct rt_str str_next(struct str_iter *it)
{
	struct rt_str s;
	uint64_t len;

	if (it->list)
		return it->list[it->i++];
	memcpy(&len, it->packed, sizeof(len));
	s.ptr = it->packed + sizeof(len);
	s.len = (size_t)len;
	it->packed = s.ptr + len;
	return s;
}

static int32_t token_type(const struct tok_vocab *v, size_t i)
{
	int32_t type = TOK_TYPE_NORMAL;

	if (v->token_types)	/* any alignment: straight from a file */
		memcpy(&type, (const char *)v->token_types + i * sizeof(type), sizeof(type));
	return type;
}

static int copy_texts(struct anpurt_tokenizer *tok, const struct tok_vocab *v)
{
	struct str_iter it = str_iter_at(v->tokens, v->tokens_packed, 0);
	size_t total = 0;
	char *p;

	for (size_t i = 0; i < v->n_tokens; i++) {
		struct rt_str t = str_next(&it);

		if (!t.ptr && t.len)
			return rt_error(-EINVAL, "tokenizer: token %zu has no text", i);
		if (t.len == 0)
			return rt_error(-EINVAL, "tokenizer: token %zu is empty", i);
		if (t.len >= MAX_TEXT - total)
			return rt_error(-E2BIG, "tokenizer: the token texts exceed %u bytes", MAX_TEXT);
		total += t.len + 1;
	}
	tok->text = malloc(total);
	tok->text_off = malloc((v->n_tokens + 1) * sizeof(*tok->text_off));
	tok->types = malloc(v->n_tokens);
	if (!tok->text || !tok->text_off || !tok->types)
		return rt_error(-ENOMEM, "tokenizer: out of memory for %zu tokens", v->n_tokens);
	p = tok->text;
	it = str_iter_at(v->tokens, v->tokens_packed, 0);
	for (size_t i = 0; i < v->n_tokens; i++) {
		struct rt_str t = str_next(&it);
		int32_t type = token_type(v, i);

		if (type < TOK_TYPE_UNDEFINED || type > TOK_TYPE_BYTE)
			return rt_error(-EINVAL, "tokenizer: token %zu \"%.*s\" has type %d (known: 0..6)",
					i, (int)t.len, t.ptr, type);
		tok->types[i] = (uint8_t)type;
		tok->text_off[i] = (uint32_t)(p - tok->text);
		memcpy(p, t.ptr, t.len);
		p += t.len;
		*p++ = '\0';
	}
	tok->text_off[v->n_tokens] = (uint32_t)(p - tok->text);
	return 0;
}

/*
 * GPT-2's byte-level characters are all below U+0144: printable ASCII or two
 * UTF-8 bytes. Those two bytes' code point -> the byte (-1: not one of them),
 * so that the loop below decodes without calls (it was the longest step of a
 * build, 4.7 ms for 150k tokens).
 */
#define BYTE_LEVEL_CP_END	0x144

static void byte_level_table(int16_t *byte_of)
{
	for (uint32_t cp = 0; cp < BYTE_LEVEL_CP_END; cp++)
		byte_of[cp] = (int16_t)tok_cp_to_byte(cp);
}

/* Regular tokens stand for the bytes their byte-level characters map back to. */
static int build_pieces(struct anpurt_tokenizer *tok)
{
	int16_t byte_of[BYTE_LEVEL_CP_END];
	size_t n = tok->n_tokens;
	char *p;

	byte_level_table(byte_of);

	/* a piece is never longer than its text */
	tok->piece = malloc(tok->text_off[n] + 1);
	tok->piece_off = malloc((n + 1) * sizeof(*tok->piece_off));
	if (!tok->piece || !tok->piece_off)
		return rt_error(-ENOMEM, "tokenizer: out of memory for the token pieces");
	p = tok->piece;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *s = (const uint8_t *)tok->text + tok->text_off[i];
		size_t len = tok->text_off[i + 1] - tok->text_off[i] - 1;
		uint8_t type = tok->types[i];

		tok->piece_off[i] = (uint32_t)(p - tok->piece);
		if (tok_is_added(type)) {
			memcpy(p, s, len);
			p += len;
			continue;
		}
		if (!tok_is_regular(type))
			continue;	/* unused padding rows stand for nothing */
		if (len > tok->max_piece)	/* a piece is at most as long as its text */
			tok->max_piece = (uint32_t)len;
		for (size_t k = 0; k < len;) {
			uint32_t cp;
			int m, b;

			if (s[k] >= 0x21 && s[k] <= 0x7e) {	/* printable ASCII stands for itself */
				*p++ = (char)s[k++];
				continue;
			}
			if (s[k] >= 0xc2 && s[k] <= 0xc5 && k + 1 < len && (s[k + 1] & 0xc0) == 0x80) {
				cp = (uint32_t)(s[k] & 0x1f) << 6 | (s[k + 1] & 0x3f);
				if (cp < BYTE_LEVEL_CP_END && byte_of[cp] >= 0) {
					*p++ = (char)byte_of[cp];
					k += 2;
					continue;
				}
			}
			m = tok_utf8_next(s + k, len - k, &cp);
			if (m <= 0)
				return rt_error(-EINVAL, "tokenizer: token %zu is not valid UTF-8 (byte %zu)",
						i, k);
			b = tok_cp_to_byte(cp);
			if (b < 0)
				return rt_error(-EINVAL,
						"tokenizer: token %zu \"%.*s\": U+%04X is not a byte-level character",
						i, (int)len, (const char *)s, cp);
			*p++ = (char)b;
			k += (size_t)m;
		}
	}
	tok->piece_off[n] = (uint32_t)(p - tok->piece);
	return 0;
}

/*
 * The maps are built and checked with each key's hash computed AHEAD keys in
 * advance and its slot prefetched: one cache miss per key otherwise, and a
 * vocabulary of 150k tokens and 150k merges makes ~600k of them.
 */
#define AHEAD	16

static uint64_t text_hash(const struct anpurt_tokenizer *tok, size_t i)
{
	return tok_hash_bytes(tok->text + tok->text_off[i], tok->text_off[i + 1] - tok->text_off[i] - 1);
}

/* Text of any token -> id. */
static int build_text_map(struct anpurt_tokenizer *tok)
{
	uint64_t h[AHEAD];

	if (tok_str_map_init(&tok->by_text, tok->n_tokens, 1))
		return rt_error(-ENOMEM, "tokenizer: out of memory for the token maps");
	for (size_t k = 0; k < tok->n_tokens + AHEAD; k++) {
		size_t i = k - AHEAD;

		if (k >= AHEAD) {
			/* token i = k - AHEAD, whose ring entry token k reuses below */
			int32_t other = tok_str_map_add_hashed(&tok->by_text, tok->text, tok->text_off,
							       (int32_t)i, h[i % AHEAD]);

			if (other >= 0)
				return rt_error(-EINVAL, "tokenizer: tokens %d and %zu are both \"%s\"",
						other, i, tok->text + tok->text_off[i]);
		}
		if (k < tok->n_tokens) {
			h[k % AHEAD] = text_hash(tok, k);
			tok_str_map_prefetch(&tok->by_text, h[k % AHEAD]);
		}
	}
	return 0;
}

static int32_t regular_by_text(const struct anpurt_tokenizer *tok, const char *s, size_t len,
			       uint64_t h)
{
	int32_t id = tok_str_map_find_hashed(&tok->by_text, tok->text, tok->text_off, s, len, h);

	return id >= 0 && tok_is_regular(tok->types[id]) ? id : -1;
}

/*
 * The regular token of each single byte: its byte-level text looked up. A
 * regular token's text and piece determine each other (the byte-level
 * alphabet is a bijection), so the text map alone finds tokens by bytes too.
 */
static int find_byte_ids(struct anpurt_tokenizer *tok)
{
	char text[2];

	for (int b = 0; b < 256; b++) {
		uint8_t c = (uint8_t)b;
		size_t n = tok_bytes_to_text(&c, 1, text);

		tok->byte_id[b] = regular_by_text(tok, text, n, tok_hash_bytes(text, n));
		if (tok->byte_id[b] < 0)
			return rt_error(-EINVAL, "tokenizer: no token for the byte 0x%02x (a byte-level "
					"vocabulary has one for each of the 256 bytes)", b);
	}
	return 0;
}

/* A merge "left right", split; its halves' hashes, their slots prefetched. */
struct merge_line {
	struct rt_str line;
	bool ok;			/* it is "left right" */
	const char *left, *right;
	size_t left_len, right_len;
	uint64_t left_hash, right_hash;
};

static void split_merge(const struct anpurt_tokenizer *tok, struct rt_str line,
			struct merge_line *ml)
{
	const char *s = line.ptr;
	size_t len = line.len;
	const char *sp = s ? memchr(s, ' ', len) : NULL;

	ml->line = line;
	ml->ok = sp && sp != s && sp != s + len - 1 &&
		 !memchr(sp + 1, ' ', (size_t)(s + len - sp - 1));
	if (!ml->ok)
		return;
	ml->left = s;
	ml->left_len = (size_t)(sp - s);
	ml->right = sp + 1;
	ml->right_len = len - ml->left_len - 1;
	ml->left_hash = tok_hash_bytes(ml->left, ml->left_len);
	ml->right_hash = tok_hash_bytes(ml->right, ml->right_len);
	tok_str_map_prefetch(&tok->by_text, ml->left_hash);
	tok_str_map_prefetch(&tok->by_text, ml->right_hash);
}

/* Token @id is the regular token "left" "right" (its text the two halves joined)? */
static bool is_joined(const struct anpurt_tokenizer *tok, int32_t id, const struct merge_line *ml)
{
	const char *t;

	if (id < 0 || (size_t)id >= tok->n_tokens || !tok_is_regular(tok->types[id]) ||
	    tok->text_off[id + 1] - tok->text_off[id] - 1 != ml->left_len + ml->right_len)
		return false;
	t = tok->text + tok->text_off[id];
	return tok_bytes_equal(t, ml->left, ml->left_len) &&
	       tok_bytes_equal(t + ml->left_len, ml->right, ml->right_len);
}

/* A resolved merge, waiting to be inserted (its rank: its index). */
struct merge_ids {
	int32_t left, right, merged;
};

/* Merge number @i (@ml) as ids; @m: the previous merged id on entry, this one's on return. */
static int resolve_merge(const struct anpurt_tokenizer *tok, const struct merge_line *ml, size_t i,
			 int32_t *m, char **both, size_t *both_cap, struct merge_ids *out)
{
	size_t n = ml->left_len + ml->right_len;
	int32_t l, r;

	if (!ml->ok)
		return rt_error(-EINVAL, "tokenizer: merge %zu \"%.*s\" is not \"left right\"", i,
				(int)ml->line.len, ml->line.ptr ? ml->line.ptr : "");
	l = regular_by_text(tok, ml->left, ml->left_len, ml->left_hash);
	r = regular_by_text(tok, ml->right, ml->right_len, ml->right_hash);
	if (l < 0 || r < 0)
		return rt_error(-EINVAL, "tokenizer: merge %zu \"%.*s %.*s\" names an unknown token \"%.*s\"",
				i, (int)ml->left_len, ml->left, (int)ml->right_len, ml->right,
				(int)(l < 0 ? ml->left_len : ml->right_len), l < 0 ? ml->left : ml->right);
	/* BPE vocabularies list merged tokens in merge order: try the next id first */
	if (!is_joined(tok, ++*m, ml)) {
		if (n > *both_cap) {
			char *nb = realloc(*both, n * 2);

			if (!nb)
				return rt_error(-ENOMEM, "tokenizer: out of memory");
			*both = nb;
			*both_cap = n * 2;
		}
		memcpy(*both, ml->left, ml->left_len);
		memcpy(*both + ml->left_len, ml->right, ml->right_len);
		*m = regular_by_text(tok, *both, n, tok_hash_bytes(*both, n));
		if (*m < 0)
			return rt_error(-EINVAL, "tokenizer: merge %zu \"%.*s %.*s\": its result \"%.*s\" is not a token",
					i, (int)ml->left_len, ml->left, (int)ml->right_len, ml->right,
					(int)n, *both);
	}
	*out = (struct merge_ids){ .left = l, .right = r, .merged = *m };
	return 0;
}

/*
 * Merges [@first, @end) as ids into ids[i - first]: read only the maps, so the
 * two threads each take a part. Two stages AHEAD apart: merge k is split (its
 * halves' slots prefetched), merge k - AHEAD resolved. (Prefetching the
 * candidate ids' text offsets and texts in two more stages was slower.)
 */
static int resolve_merges(const struct anpurt_tokenizer *tok, const struct tok_vocab *v,
			  size_t first, size_t end, struct merge_ids *ids)
{
	struct str_iter it = str_iter_at(v->merges, v->merges_packed, first);
	struct merge_line ahead[AHEAD];
	char *both = NULL;
	size_t both_cap = 0;
	int32_t m = -1;
	int err = 0;

	for (size_t k = first; k < end + AHEAD && !err; k++) {
		if (k >= first + AHEAD)
			err = resolve_merge(tok, &ahead[k % AHEAD], k - AHEAD, &m, &both, &both_cap,
					    &ids[k - AHEAD - first]);
		if (!err && k < end)
			split_merge(tok, str_next(&it), &ahead[k % AHEAD]);
	}
	free(both);
	return err;
}

/*
 * Merges [@first, @end) in merge order (the lowest rank of a pair wins), each
 * pair's slot prefetched AHEAD before.
 */
static void insert_merges(struct anpurt_tokenizer *tok, const struct merge_ids *ids, size_t first,
			  size_t end)
{
	for (size_t k = first; k < end + AHEAD; k++) {
		if (k >= first + AHEAD) {
			const struct merge_ids *p = &ids[k - AHEAD];

			tok_pair_map_add(&tok->merges, p->left, p->right, (int32_t)(k - AHEAD),
					 p->merged);
		}
		if (k < end)
			tok_pair_map_prefetch(&tok->merges, ids[k].left, ids[k].right);
	}
}

/*
 * The second thread of the build: it runs one step while the caller runs
 * another (both only read what they share, each writes its own fields).
 * Where no thread can be started, the step runs on the caller's thread after
 * its own. A failed step's message is its thread's (rt_error): copied here.
 */
struct tok_helper {
	pthread_t thread;
	bool started;
	int (*step)(struct tok_helper *h);
	struct anpurt_tokenizer *tok;
	const struct tok_vocab *v;
	size_t first, end;		/* merges to resolve */
	struct merge_ids *ids;
	int err;
	char msg[256];
};

static void *helper_main(void *arg)
{
	struct tok_helper *h = arg;

	h->err = h->step(h);
	if (h->err)
		snprintf(h->msg, sizeof(h->msg), "%s", anpurt_last_error());
	return NULL;
}

/*
 * The helper runs on a CPU other than the caller's, where the caller may run
 * on more than one: the scheduler often placed a new thread on its parent's
 * CPU, where it started only when the caller waited for it (1-3.5 ms later)
 * or shared that CPU with it: half of the builds ran one step after the other
 * (measured on a 2-vCPU VM). Its few milliseconds do not need to migrate back.
 */
static void helper_start(struct tok_helper *h, int (*step)(struct tok_helper *h))
{
	int cpu = sched_getcpu();
	pthread_attr_t attr;
	cpu_set_t cpus;

	h->step = step;
	h->err = 0;
	h->started = false;
	if (pthread_attr_init(&attr))
		return;
	if (cpu >= 0 && cpu < CPU_SETSIZE && !sched_getaffinity(0, sizeof(cpus), &cpus) &&
	    CPU_ISSET(cpu, &cpus) && CPU_COUNT(&cpus) > 1) {
		CPU_CLR(cpu, &cpus);
		(void)pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);	/* a hint */
	}
	h->started = pthread_create(&h->thread, &attr, helper_main, h) == 0;
	pthread_attr_destroy(&attr);
}

/* Waits for the helper's step (or runs it): @err, the caller's own, comes first. */
static int helper_finish(struct tok_helper *h, int err)
{
	if (h->started)
		pthread_join(h->thread, NULL);
	else if (!err)
		helper_main(h);
	if (err)
		return err;
	return h->err ? rt_error(h->err, "%s", h->msg) : 0;
}

static int pieces_step(struct tok_helper *h)
{
	return build_pieces(h->tok);
}

/* The pair map's table: 4 MiB of fresh pages, written while the texts are copied. */
static int pair_map_step(struct tok_helper *h)
{
	if (tok_pair_map_init(&h->tok->merges, h->v->n_merges))
		return rt_error(-ENOMEM, "tokenizer: out of memory for %zu merges", h->v->n_merges);
	return 0;
}

static int resolve_step(struct tok_helper *h)
{
	return resolve_merges(h->tok, h->v, h->first, h->end, h->ids + h->first);
}

/*
 * The caller's share of the merges: it also inserts them before it waits for
 * the helper's, so it takes less. Resolving took ~53 ns a merge on one
 * thread, inserting ~9: 53 / (2 * 53 + 9) = 46%.
 */
#define CALLER_MERGES_PERCENT	46

/*
 * The texts copied (here) beside the pair map's table (a helper), then the
 * pieces (a helper) beside the text map (here), then the merges resolved a
 * part each and inserted here in order. On one thread a 150k-token
 * vocabulary with 150k merges took ~27 ms, most of it cache misses on the
 * maps' slots and first touches of their pages.
 */
static int build_maps(struct anpurt_tokenizer *tok, const struct tok_vocab *v)
{
	struct tok_helper table = { .tok = tok, .v = v }, h = { .tok = tok, .v = v };
	struct merge_ids *ids;
	int err;

	if (v->n_merges > INT32_MAX)
		return rt_error(-E2BIG, "tokenizer: %zu merges", v->n_merges);
	helper_start(&table, pair_map_step);
	err = copy_texts(tok, v);
	if (!err)
		helper_start(&h, pieces_step);
	if (!err)
		err = build_text_map(tok);
	if (!err)
		err = find_byte_ids(tok);
	if (h.step)
		err = helper_finish(&h, err);
	err = helper_finish(&table, err);
	if (err || !v->n_merges)
		return err;
	ids = malloc(v->n_merges * sizeof(*ids));
	if (!ids)
		return rt_error(-ENOMEM, "tokenizer: out of memory for %zu merges", v->n_merges);
	h.first = v->n_merges * CALLER_MERGES_PERCENT / 100;
	h.end = v->n_merges;
	h.ids = ids;
	helper_start(&h, resolve_step);
	err = resolve_merges(tok, v, 0, h.first, ids);
	if (!err)
		insert_merges(tok, ids, 0, h.first);
	err = helper_finish(&h, err);
	if (!err)
		insert_merges(tok, ids, h.first, h.end);
	free(ids);
	return err;
}

static int cmp_added(const void *a, const void *b, void *arg)
{
	const struct anpurt_tokenizer *tok = arg;
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	uint8_t fx = (uint8_t)tok->piece[tok->piece_off[x]], fy = (uint8_t)tok->piece[tok->piece_off[y]];
	uint32_t lx = tok->piece_off[x + 1] - tok->piece_off[x];
	uint32_t ly = tok->piece_off[y + 1] - tok->piece_off[y];

	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (lx != ly)
		return lx > ly ? -1 : 1;	/* longest first: leftmost-longest matching */
	return x < y ? -1 : x > y;
}

static int build_added(struct anpurt_tokenizer *tok)
{
	size_t n = 0;

	for (size_t i = 0; i < tok->n_tokens; i++)
		n += tok_is_added(tok->types[i]);
	tok->added = malloc((n ? n : 1) * sizeof(*tok->added));
	if (!tok->added)
		return rt_error(-ENOMEM, "tokenizer: out of memory");
	for (size_t i = 0; i < tok->n_tokens; i++)
		if (tok_is_added(tok->types[i]))
			tok->added[tok->n_added++] = (int32_t)i;
	/* qsort_r (GNU): the comparator needs the tokenizer for the texts */
	qsort_r(tok->added, n, sizeof(*tok->added), cmp_added, tok);
	memset(tok->added_start, 0, sizeof(tok->added_start));
	for (size_t i = 0; i < n; i++)
		tok->added_start[(uint8_t)tok->piece[tok->piece_off[tok->added[i]]] + 1]++;
	for (int b = 0; b < 256; b++)
		tok->added_start[b + 1] += tok->added_start[b];
	return 0;
}

static int check_id(const struct anpurt_tokenizer *tok, int32_t id, const char *what)
{
	if (id < -1 || (id >= 0 && (size_t)id >= tok->n_tokens))
		return rt_error(-EINVAL, "tokenizer: %s id %d is outside the vocabulary (%zu tokens)",
				what, id, tok->n_tokens);
	return 0;
}

/* Like llama.cpp: without tokenizer.ggml.eot_token_id, a known end-of-turn control token. */
static int32_t find_eot(const struct anpurt_tokenizer *tok)
{
	static const char *const names[] = { "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int32_t id = tok_str_map_find(&tok->by_text, tok->text, tok->text_off, names[i],
					      strlen(names[i]));

		if (id >= 0 && tok->types[id] == TOK_TYPE_CONTROL)
			return id;
	}
	return -1;
}

static int compile_regex(struct anpurt_tokenizer *tok)
{
	int code;
	PCRE2_SIZE at;

	tok->re = pcre2_compile((PCRE2_SPTR)tok->pre->regex, PCRE2_ZERO_TERMINATED,
				PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &code, &at, NULL);
	if (!tok->re) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(code, msg, sizeof(msg));
		return rt_error(-EINVAL, "tokenizer: pre-tokenizer %s: regex error at %zu: %s",
				tok->pre->name, (size_t)at, (const char *)msg);
	}
	/* the interpreter does the same matching, slower, where the JIT is unavailable */
	tok->re_jit = pcre2_jit_compile(tok->re, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

static int build(struct anpurt_tokenizer *tok, const struct tok_vocab *v)
{
	static const char gpt2[] = "gpt2";
	int err;

	if (v->model.len != strlen(gpt2) || memcmp(v->model.ptr, gpt2, v->model.len))
		return rt_error(-EINVAL, "tokenizer: tokenizer.ggml.model \"%.*s\" is not supported "
				"(known: gpt2, byte-level BPE)", (int)v->model.len,
				v->model.ptr ? v->model.ptr : "");
	tok->pre = tok_pre_find(v->pre.ptr ? v->pre.ptr : "", v->pre.len);
	if (!tok->pre)
		return rt_error(-EINVAL, "tokenizer: tokenizer.ggml.pre \"%.*s\" is not supported (known: %s)",
				(int)v->pre.len, v->pre.ptr ? v->pre.ptr : "", tok_pre_names());
	if (v->n_tokens == 0 || (!v->tokens && !v->tokens_packed))
		return rt_error(-EINVAL, "tokenizer: the vocabulary is empty");
	if (v->n_tokens > MAX_TOKENS)
		return rt_error(-E2BIG, "tokenizer: %zu tokens (at most %u)", v->n_tokens, MAX_TOKENS);
	if (v->n_merges && !v->merges && !v->merges_packed)
		return rt_error(-EINVAL, "tokenizer: %zu merges without their texts", v->n_merges);
	tok->n_tokens = v->n_tokens;
	err = build_maps(tok, v);
	if (!err)
		err = build_added(tok);
	if (!err)
		err = check_id(tok, v->bos_id, "BOS");
	if (!err)
		err = check_id(tok, v->eos_id, "EOS");
	if (!err)
		err = check_id(tok, v->eot_id, "EOT");
	if (!err)
		err = check_id(tok, v->pad_id, "padding");
	if (err)
		return err;
	if (v->add_bos && v->bos_id < 0)
		return rt_error(-EINVAL, "tokenizer: add_bos_token is set but there is no BOS token");
	tok->bos_id = v->bos_id;
	tok->eos_id = v->eos_id;
	tok->eot_id = v->eot_id >= 0 ? v->eot_id : find_eot(tok);
	tok->pad_id = v->pad_id;
	tok->add_bos = !!v->add_bos;
	return compile_regex(tok);
}

int tok_create(const struct tok_vocab *vocab, struct anpurt_tokenizer **out)
{
	struct anpurt_tokenizer *tok;
	int err;

	*out = NULL;
	tok = calloc(1, sizeof(*tok));
	if (!tok)
		return rt_error(-ENOMEM, "tokenizer: out of memory");
	err = build(tok, vocab);
	if (err) {
		tok_free(tok);
		return err;
	}
	*out = tok;
	rt_error_clear();
	return 0;
}

void tok_free(struct anpurt_tokenizer *tok)
{
	if (!tok)
		return;
	pcre2_code_free(tok->re);
	tok_str_map_free(&tok->by_text);
	tok_pair_map_free(&tok->merges);
	free(tok->added);
	free(tok->text);
	free(tok->text_off);
	free(tok->piece);
	free(tok->piece_off);
	free(tok->types);
	free(tok);
}
