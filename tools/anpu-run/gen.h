/* SPDX-License-Identifier: MIT */
/* anpu-run's generation state, shared by one-shot generation and the interactive chat. */
#ifndef ANPU_RUN_GEN_H
#define ANPU_RUN_GEN_H

#include "anpu_run.h"

struct gen {
	const struct run_opts *o;
	struct anpurt_model *model;
	struct anpurt_engine *engine;
	struct anpurt_session *session;
	struct anpurt_sampler *sampler;		/* NULL: greedy on the NPU */
	FILE *logits_file;			/* --logits */
	int logits_failed;
	int32_t *ids;				/* this turn's generated ids */
	size_t n_ids;
	char *text;				/* and its text (NUL-terminated) */
	size_t text_len;
};

/* Model, engine, session, sampler, logits file; errors printed. 0 or < 0. */
int gen_open(const struct run_opts *o, struct gen *g);
void gen_close(struct gen *g);
/* Generate after @prompt (the whole conversation: the cached prefix is reused), streaming; exit status. */
int gen_turn(struct gen *g, const int32_t *prompt, size_t n, struct anpurt_generate_stats *st);
/* Prompt tokens, speeds, time to first token and the stop reason on stderr. */
void gen_report(const struct anpurt_generate_stats *st);

#endif
