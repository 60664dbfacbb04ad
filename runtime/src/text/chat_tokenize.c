/* SPDX-License-Identifier: MIT */
/*
 * A conversation to token ids: render with content ranges, then tokenize the
 * markup between them as template text and each content range as user text
 * (no added-token matching), so message text can never inject control tokens.
 */
#include <errno.h>
#include <stdlib.h>

#include "anpurt.h"
#include "common/rt_error.h"

struct ids {
	int32_t *p;
	size_t n, cap;
};

static int tokenize_append(const struct anpurt_tokenizer *tok, const char *text, size_t len,
			   unsigned int flags, struct ids *out)
{
	int need;

	if (!len)
		return 0;
	need = anpurt_tokenize(tok, text, len, flags, out->p + out->n, out->cap - out->n);
	if (need < 0)
		return need;
	if ((size_t)need > out->cap - out->n) {
		size_t cap = (out->n + (size_t)need) * 2;
		int32_t *p = realloc(out->p, cap * sizeof(*p));

		if (!p)
			return rt_error(-ENOMEM, "chat tokens: out of memory");
		out->p = p;
		out->cap = cap;
		need = anpurt_tokenize(tok, text, len, flags, out->p + out->n, out->cap - out->n);
		if (need < 0)
			return need;
	}
	out->n += (size_t)need;
	return 0;
}

int anpurt_chat_tokenize(const struct anpurt_tokenizer *tok, const char *name,
			 const struct anpurt_chat_message *msgs, size_t n,
			 const struct anpurt_chat_params *params, int32_t **ids, size_t *n_ids)
{
	struct anpurt_chat_segment *segs;
	struct ids out = { 0 };
	size_t len, n_segs = 0, i, at = 0;
	char *text;
	int ret;

	*ids = NULL;
	*n_ids = 0;
	ret = anpurt_chat_render_segments(name, msgs, n, params, &text, &len, &segs, &n_segs);
	if (ret)
		return ret;
	for (i = 0; !ret && i <= n_segs; i++) {
		size_t start = i < n_segs ? segs[i].offset : len;

		ret = tokenize_append(tok, text + at, start - at, 0, &out);
		if (!ret && i < n_segs) {
			ret = tokenize_append(tok, text + start, segs[i].len,
					      ANPURT_TOKENIZE_NO_SPECIAL, &out);
			at = start + segs[i].len;
		}
	}
	free(text);
	free(segs);
	if (ret) {
		free(out.p);
		return ret;
	}
	*ids = out.p;
	*n_ids = out.n;
	rt_error_clear();
	return 0;
}
