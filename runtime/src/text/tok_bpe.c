/* SPDX-License-Identifier: MIT */
/*
 * Byte-pair merging of one pre-token, the algorithm of Hugging Face's
 * Word::merge_all: the symbols start as the pre-token's byte tokens in a linked
 * list; every adjacent pair with a merge is a candidate in a min-heap ordered by
 * (rank, position); the best candidate is merged unless it went stale (one of
 * its symbols was merged meanwhile), and the new symbol's pairs with its
 * neighbours become candidates. O(n log n) for an n-byte pre-token.
 */
#include <errno.h>
#include <stdlib.h>

#include "tok_bpe.h"
#include "tok_internal.h"

struct tok_bpe_cand {
	int32_t rank;
	int32_t left;		/* position of the pair's left symbol */
};

static int cand_less(struct tok_bpe_cand a, struct tok_bpe_cand b)
{
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left);
}

static void heap_push(struct tok_bpe_cand *h, size_t *n, struct tok_bpe_cand c)
{
	size_t i = (*n)++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!cand_less(c, h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = c;
}

static struct tok_bpe_cand heap_pop(struct tok_bpe_cand *h, size_t *n)
{
	struct tok_bpe_cand top = h[0], last = h[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && cand_less(h[c + 1], h[c]))
			c++;
		if (!cand_less(h[c], last))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = last;
	return top;
}

static int work_reserve(struct tok_bpe_work *w, size_t len)
{
	size_t cap = w->cap ? w->cap : 64;

	if (len <= w->cap)
		return 0;
	while (cap < len)
		cap *= 2;
	tok_bpe_work_free(w);
	w->id = malloc(cap * sizeof(*w->id));
	w->prev = malloc(cap * sizeof(*w->prev));
	w->next = malloc(cap * sizeof(*w->next));
	w->result = malloc(cap * sizeof(*w->result));
	/* each merge adds at most two candidates to the n - 1 initial ones */
	w->heap = malloc(3 * cap * sizeof(*w->heap));
	if (!w->id || !w->prev || !w->next || !w->result || !w->heap) {
		tok_bpe_work_free(w);
		return -ENOMEM;
	}
	w->cap = cap;
	return 0;
}

void tok_bpe_work_free(struct tok_bpe_work *w)
{
	free(w->id);
	free(w->prev);
	free(w->next);
	free(w->result);
	free(w->heap);
	*w = (struct tok_bpe_work){ 0 };
}

static void push_pair(const struct anpurt_tokenizer *tok, struct tok_bpe_work *w, size_t *n_heap,
		      int32_t left, int32_t right)
{
	const struct tok_merge *m = tok_pair_map_find(&tok->merges, w->id[left], w->id[right]);

	if (m)
		heap_push(w->heap, n_heap, (struct tok_bpe_cand){ m->rank, left });
}

/*
 * Short pre-tokens (most of them): the same order without a heap. Each symbol
 * keeps the merge of the pair it starts; every round walks the list for the
 * lowest rank (the first one met wins ties: leftmost) and only the two pairs
 * around the merged symbol are looked up again. O(n^2) in the worst case,
 * fewer hash lookups and no stale candidates.
 */
#define LINEAR_MAX 32

static long bpe_linear(const struct anpurt_tokenizer *tok, const uint8_t *s, size_t len,
		       struct tok_bpe_work *w)
{
	const struct tok_merge *m[LINEAR_MAX];	/* merge of the pair (i, next[i]), or NULL */
	int32_t *id = w->id, *next = w->next, *prev = w->prev;
	long n = 0;

	for (size_t i = 0; i < len; i++) {
		id[i] = tok->byte_id[s[i]];
		prev[i] = (int32_t)i - 1;
		next[i] = i + 1 < len ? (int32_t)i + 1 : -1;
	}
	for (size_t i = 0; i + 1 < len; i++)
		m[i] = tok_pair_map_find(&tok->merges, id[i], id[i + 1]);
	m[len - 1] = NULL;
	for (;;) {
		int32_t best = -1, r;

		for (int32_t i = 0; i >= 0; i = next[i])
			if (m[i] && (best < 0 || m[i]->rank < m[best]->rank))
				best = i;
		if (best < 0)
			break;
		r = next[best];
		id[best] = m[best]->id;
		next[best] = next[r];
		if (next[best] >= 0)
			prev[next[best]] = best;
		m[best] = next[best] >= 0 ? tok_pair_map_find(&tok->merges, id[best], id[next[best]]) : NULL;
		if (prev[best] >= 0)
			m[prev[best]] = tok_pair_map_find(&tok->merges, id[prev[best]], id[best]);
	}
	for (int32_t i = 0; i >= 0; i = next[i])
		w->result[n++] = id[i];
	return n;
}

long tok_bpe(const struct anpurt_tokenizer *tok, const uint8_t *s, size_t len, struct tok_bpe_work *w)
{
	size_t n_heap = 0;
	long n = 0;

	if (work_reserve(w, len))
		return -ENOMEM;
	if (len == 1) {
		w->result[0] = tok->byte_id[s[0]];
		return 1;
	}
	if (len <= LINEAR_MAX)
		return bpe_linear(tok, s, len, w);
	for (size_t i = 0; i < len; i++) {
		w->id[i] = tok->byte_id[s[i]];
		w->prev[i] = (int32_t)i - 1;
		w->next[i] = i + 1 < len ? (int32_t)i + 1 : -1;
	}
	for (size_t i = 0; i + 1 < len; i++)
		push_pair(tok, w, &n_heap, (int32_t)i, (int32_t)i + 1);
	while (n_heap) {
		struct tok_bpe_cand c = heap_pop(w->heap, &n_heap);
		int32_t l = c.left, r = w->next[l];
		const struct tok_merge *m;

		if (w->id[l] < 0 || r < 0)
			continue;
		m = tok_pair_map_find(&tok->merges, w->id[l], w->id[r]);
		if (!m || m->rank != c.rank)
			continue;	/* stale: a symbol of this pair changed */
		w->id[l] = m->id;
		w->id[r] = -1;
		w->next[l] = w->next[r];
		if (w->next[l] >= 0)
			w->prev[w->next[l]] = l;
		if (w->prev[l] >= 0)
			push_pair(tok, w, &n_heap, w->prev[l], l);
		if (w->next[l] >= 0)
			push_pair(tok, w, &n_heap, l, w->next[l]);
	}
	for (int32_t i = 0; i >= 0; i = w->next[i])
		w->result[n++] = w->id[i];
	return n;
}
