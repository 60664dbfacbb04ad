/* SPDX-License-Identifier: MIT */
/* Ids -> text: all at once (exact bytes) or streaming (always valid UTF-8). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "anpurt.h"
#include "rt_error.h"
#include "tok_internal.h"
#include "tok_utf8.h"

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/* What @id renders as: control tokens only with ANPURT_DETOK_SPECIAL. */
static const char *render(const struct anpurt_tokenizer *tok, int32_t id, unsigned int flags,
			  size_t *len)
{
	const char *p = tok_piece(tok, id, len);

	if (tok->types[id] == TOK_TYPE_CONTROL && !(flags & ANPURT_DETOK_SPECIAL))
		*len = 0;
	return p;
}

long anpurt_detokenize(const struct anpurt_tokenizer *tok, const int32_t *ids, size_t n_ids,
		       unsigned int flags, char *out, size_t cap)
{
	size_t need = 0;

	if (!tok || (!ids && n_ids) || (!out && cap))
		return rt_error(-EINVAL, "detokenize: no tokenizer, ids or buffer");
	for (size_t i = 0; i < n_ids; i++) {
		size_t len;
		const char *p;

		if (ids[i] < 0 || (size_t)ids[i] >= tok->n_tokens)
			return rt_error(-EINVAL, "detokenize: id %d (at %zu) is outside the vocabulary "
					"(%zu tokens)", ids[i], i, tok->n_tokens);
		p = render(tok, ids[i], flags, &len);
		if (need < cap)
			memcpy(out + need, p, len < cap - need ? len : cap - need);
		need += len;
		if (need > LONG_MAX)
			return rt_error(-EOVERFLOW, "detokenize: text too long");
	}
	if (need < cap)
		out[need] = '\0';
	rt_error_clear();
	return (long)need;
}

struct anpurt_detok {
	const struct anpurt_tokenizer *tok;
	unsigned int flags;
	uint8_t *in;		/* held-back bytes (an unfinished UTF-8 sequence), then new ones */
	size_t n_pending;
	char *buf;		/* the text handed out by the last call */
	size_t cap;		/* of in and of buf */
};

int anpurt_detok_create(const struct anpurt_tokenizer *tok, unsigned int flags,
			struct anpurt_detok **out)
{
	struct anpurt_detok *dt;

	*out = NULL;
	if (!tok)
		return rt_error(-EINVAL, "detokenizer: no tokenizer");
	if (flags & ~ANPURT_DETOK_SPECIAL)
		return rt_error(-EINVAL, "detokenizer: unknown flags 0x%x", flags);
	dt = calloc(1, sizeof(*dt));
	if (!dt)
		return rt_error(-ENOMEM, "detokenizer: out of memory");
	dt->tok = tok;
	dt->flags = flags;
	*out = dt;
	return 0;
}

void anpurt_detok_free(struct anpurt_detok *dt)
{
	if (!dt)
		return;
	free(dt->in);
	free(dt->buf);
	free(dt);
}

/* Room for the held-back bytes plus @n, each of which may become U+FFFD (3 bytes). */
static int reserve(struct anpurt_detok *dt, size_t n)
{
	size_t want = 3 * (n + 4) + 1;
	uint8_t *ni;
	char *nb;

	if (want <= dt->cap)
		return 0;
	ni = realloc(dt->in, want);
	if (ni)
		dt->in = ni;
	nb = ni ? realloc(dt->buf, want) : NULL;
	if (!nb)
		return rt_error(-ENOMEM, "detokenizer: out of memory");
	dt->buf = nb;
	dt->cap = want;
	return 0;
}

/*
 * Decode the held-back bytes and @p into buf: complete sequences are copied,
 * ill-formed ones become U+FFFD (one per maximal subpart), an unfinished
 * sequence at the end is held back again unless @final.
 */
static size_t emit(struct anpurt_detok *dt, const uint8_t *p, size_t len, int final)
{
	uint8_t *s = dt->in;
	size_t n = dt->n_pending + len, i = 0, o = 0;

	if (len)
		memcpy(s + dt->n_pending, p, len);
	while (i < n) {
		uint32_t cp;
		int k = tok_utf8_next(s + i, n - i, &cp);

		if (k > 0) {
			memcpy(dt->buf + o, s + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
		} else if (k == 0 && !final) {
			break;
		} else {
			memcpy(dt->buf + o, replacement, 3);
			o += 3;
			i += k < 0 ? (size_t)-k : n - i;
		}
	}
	memmove(s, s + i, n - i);
	dt->n_pending = n - i;
	dt->buf[o] = '\0';
	return o;
}

int anpurt_detok_push(struct anpurt_detok *dt, int32_t id, const char **text, size_t *len)
{
	const struct anpurt_tokenizer *tok = dt->tok;
	size_t n;
	const char *p;
	int err;

	*text = "";
	*len = 0;
	if (id < 0 || (size_t)id >= tok->n_tokens)
		return rt_error(-EINVAL, "detokenizer: id %d is outside the vocabulary (%zu tokens)", id,
				tok->n_tokens);
	p = render(tok, id, dt->flags, &n);
	err = reserve(dt, n);
	if (err)
		return err;
	*len = emit(dt, (const uint8_t *)p, n, 0);
	*text = dt->buf;
	return 0;
}

int anpurt_detok_flush(struct anpurt_detok *dt, const char **text, size_t *len)
{
	int err = reserve(dt, 0);

	*text = "";
	*len = 0;
	if (err)
		return err;
	*len = emit(dt, NULL, 0, 1);
	*text = dt->buf;
	return 0;
}
