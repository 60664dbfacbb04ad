/* SPDX-License-Identifier: MIT */
/* A growing byte buffer that remembers an allocation failure (checked once at the end). */
#ifndef RT_BUF_H
#define RT_BUF_H

#include <stddef.h>

struct rt_buf {
	char *p;
	size_t len, cap;
	int failed;	/* an allocation failed: the content is incomplete */
};

void rt_buf_put(struct rt_buf *b, const char *s, size_t n);
void rt_buf_puts(struct rt_buf *b, const char *s);
/* NUL-terminate and hand the bytes over (*@out owns them), or -ENOMEM. */
int rt_buf_finish(struct rt_buf *b, char **out, size_t *len);
void rt_buf_release(struct rt_buf *b);

#endif
