/* SPDX-License-Identifier: MIT */
/*
 * anpu-bench-sim's attention figures: one decode step's ATTENTION ops (every
 * layer, M = 1, F16 caches, each layer its own cache) of a model's shape at a
 * given position, to compare with the read bandwidth (bench_sim.c).
 */
#ifndef ANPU_BENCH_SIM_ATTENTION_H
#define ANPU_BENCH_SIM_ATTENTION_H

#include <stdint.h>

#include "sim/sim_ops.h"

struct att_shape {
	const char *name;	/* figure label: "qwen2.5-0.5b" */
	uint32_t layers, head_dim, n_head, n_kv_head;
};

/* The shapes measured (a definition with another count does not compile). */
#define BENCH_ATT_SHAPES 3
extern const struct att_shape bench_att_shapes[BENCH_ATT_SHAPES];

struct att_step;

/* A step at position @pos (kv_len pos + 1); NULL when out of memory. */
struct att_step *att_step_create(const struct att_shape *sh, uint32_t pos);
/* Seconds to run the step's ops once. */
double att_step_run(struct sim_exec *ex, struct att_step *s);
/* Cache bytes one step reads (K and V rows 0..pos of every layer). */
uint64_t att_step_bytes(const struct att_step *s);
void att_step_free(struct att_step *s);

#endif
