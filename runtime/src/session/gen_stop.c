/* SPDX-License-Identifier: MIT */
/*
 * Stop strings matched across token boundaries: the text not handed out yet
 * is searched for a whole stop string; without one, its longest tail that is
 * the start of some stop string is held back and the rest goes out.
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "session/gen_stop.h"

int gen_stop_init(struct gen_stop *g, const char *const *stop, size_t n_stop)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	if (!n_stop)
		return 0;
	g->stop = calloc(n_stop, sizeof(*g->stop));
	if (!g->stop)
		return rt_error(-ENOMEM, "stop strings: out of memory");
	for (i = 0; i < n_stop; i++) {
		if (!stop[i] || !stop[i][0])
			continue;
		g->stop[g->n_stop] = strdup(stop[i]);
		if (!g->stop[g->n_stop++]) {
			gen_stop_free(g);
			return rt_error(-ENOMEM, "stop strings: out of memory");
		}
	}
	return 0;
}

void gen_stop_free(struct gen_stop *g)
{
	size_t i;

	for (i = 0; i < g->n_stop; i++)
		free(g->stop[i]);
	free(g->stop);
	rt_buf_release(&g->held);
	rt_buf_release(&g->out);
	memset(g, 0, sizeof(*g));
}

/* Length of the longest tail of @s[0..n) that starts some stop string. */
static size_t held_tail(const struct gen_stop *g, const char *s, size_t n)
{
	size_t i, k, best = 0;

	for (i = 0; i < g->n_stop; i++) {
		size_t sl = strlen(g->stop[i]);

		for (k = (sl - 1 < n ? sl - 1 : n); k > best; k--)
			if (!memcmp(s + n - k, g->stop[i], k)) {
				best = k;
				break;
			}
	}
	return best;
}

static int move_out(struct gen_stop *g, size_t n)
{
	g->out.len = 0;
	if (n)
		rt_buf_put(&g->out, g->held.p, n);
	if (g->held.len > n)
		memmove(g->held.p, g->held.p + n, g->held.len - n);
	g->held.len -= n;
	return g->out.failed ? rt_error(-ENOMEM, "generated text: out of memory") : 0;
}

int gen_stop_push(struct gen_stop *g, const char *text, size_t len)
{
	size_t i, first = (size_t)-1;
	int ret;

	rt_buf_put(&g->held, text, len);
	if (g->held.failed)
		return rt_error(-ENOMEM, "generated text: out of memory");
	for (i = 0; i < g->n_stop; i++) {
		const char *at = memmem(g->held.p ? g->held.p : "", g->held.len, g->stop[i],
					strlen(g->stop[i]));

		if (at && (size_t)(at - g->held.p) < first)
			first = (size_t)(at - g->held.p);
	}
	if (first != (size_t)-1) {
		ret = move_out(g, first);
		g->held.len = 0;
		return ret ? ret : 1;
	}
	return move_out(g, g->held.len - held_tail(g, g->held.p, g->held.len));
}

int gen_stop_flush(struct gen_stop *g)
{
	return move_out(g, g->held.len);
}
