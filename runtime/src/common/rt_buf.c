/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_buf.h"
#include "common/rt_error.h"

static int reserve(struct rt_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (n <= b->cap - b->len)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void rt_buf_put(struct rt_buf *b, const char *s, size_t n)
{
	if (reserve(b, n + 1))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void rt_buf_puts(struct rt_buf *b, const char *s)
{
	rt_buf_put(b, s, strlen(s));
}

int rt_buf_finish(struct rt_buf *b, char **out, size_t *len)
{
	if (reserve(b, 1)) {
		rt_buf_release(b);
		return rt_error(-ENOMEM, "out of memory");
	}
	b->p[b->len] = '\0';
	*out = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return 0;
}

void rt_buf_release(struct rt_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
