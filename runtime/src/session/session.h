/* SPDX-License-Identifier: MIT */
/* The session behind struct anpurt_session: its device buffers, command buffers and counters. */
#ifndef RT_SESSION_H
#define RT_SESSION_H

#include <stdatomic.h>

#include "graph/graph.h"

struct anpurt_session {
	struct anpurt_engine *engine;
	struct accel_context *ctx;
	struct anpurt_session_params params;	/* as created, n_ctx and chunk resolved */
	struct graph_bufs bufs;
	struct graph_cmd decode;	/* recorded once, resubmitted every token */
	struct graph_cmd prefill;	/* a full chunk without the logits (every chunk
					 * but a prompt's last), recorded at first use */
	uint32_t pos;			/* tokens in the KV cache */
	int32_t *hist;			/* [n_ctx]: the tokens in the KV cache, [0, pos) */
	int have_next;			/* lay.next holds a greedy token */
	struct anpurt_session_stats stats;
	atomic_int cancel;		/* set by anpurt_session_cancel, any thread */
};

/*
 * Submit @g in @ctx with step parameters @steps[0..n_steps) and wait for it;
 * errors name the job's failure (the op's label). *@submits counts the
 * submission.
 */
int graph_run(struct anpurt_engine *e, struct accel_context *ctx, struct graph_cmd *g,
	      const uint32_t *steps, unsigned int n_steps, uint64_t *submits);
/* graph_run() of one of the session's graphs at position @pos, in its context. */
int session_run(struct anpurt_session *s, struct graph_cmd *g, uint32_t pos);
/* The greedy token the last run left on the device. */
int32_t session_next_token(const struct anpurt_session *s);
/*
 * The last run's logits (n_vocab floats) where the NPU wrote them, in the
 * session's scratch BO: valid until the next run; NULL before the first.
 * The sampler reads them there once instead of copying them first.
 */
const float *session_logits(const struct anpurt_session *s);

#endif
