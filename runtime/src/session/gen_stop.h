/* SPDX-License-Identifier: MIT */
/* Stop strings over streamed text: what may be emitted, what is held back. */
#ifndef RT_GEN_STOP_H
#define RT_GEN_STOP_H

#include <stddef.h>

#include "common/rt_buf.h"

struct gen_stop {
	char **stop;		/* copies of the stop strings (non-empty ones) */
	size_t n_stop;
	struct rt_buf held;	/* text not handed out yet */
	struct rt_buf out;	/* the text handed out by the last call */
};

int gen_stop_init(struct gen_stop *g, const char *const *stop, size_t n_stop);
void gen_stop_free(struct gen_stop *g);
/*
 * Append @len bytes of @text; g->out gets what can be emitted now. Returns 1
 * when a stop string was found (g->out is the text before it; the rest is
 * dropped), 0 otherwise, < 0 on allocation failure.
 */
int gen_stop_push(struct gen_stop *g, const char *text, size_t len);
/* The end: g->out gets everything still held. */
int gen_stop_flush(struct gen_stop *g);

#endif
