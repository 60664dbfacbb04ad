// SPDX-License-Identifier: MIT
/* One decode step's ATTENTION ops for anpu-bench-sim (bench_sim_attention.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_sim_attention.h"

/* sized by its initializer: a count other than BENCH_ATT_SHAPES conflicts with the header */
const struct att_shape bench_att_shapes[] = {
	{ "qwen2.5-0.5b", 24, 64, 14, 2 },
	{ "qwen3-0.6b", 28, 128, 16, 8 },
	{ "qwen2.5-1.5b", 28, 128, 12, 2 },
};

struct att_step {
	const struct att_shape *sh;
	uint32_t pos;
	struct sim_op *ops;	/* one per layer */
	uint16_t *cache;	/* every layer's K then V, F16 */
	float *q, *out;
	size_t cache_row;	/* F16 values of one cache row (all kv heads) */
};

struct att_step *att_step_create(const struct att_shape *sh, uint32_t pos)
{
	struct att_step *s = calloc(1, sizeof(*s));
	uint32_t ctx = pos + 1;
	size_t layer_vals, q_vals = (size_t)sh->head_dim * sh->n_head;
	uint32_t x = 0x9e3779b9u;

	if (!s)
		return NULL;
	s->sh = sh;
	s->pos = pos;
	s->cache_row = (size_t)sh->head_dim * sh->n_kv_head;
	layer_vals = s->cache_row * ctx;
	s->ops = calloc(sh->layers, sizeof(*s->ops));
	s->cache = aligned_alloc(64, 2 * layer_vals * sh->layers * 2);
	s->q = aligned_alloc(64, q_vals * 4);
	s->out = aligned_alloc(64, q_vals * 4);
	if (!s->ops || !s->cache || !s->q || !s->out) {
		att_step_free(s);
		return NULL;
	}
	/* F16 values of magnitude [2^-7, 2) (exponents 8..15), either sign */
	for (size_t i = 0; i < 2 * layer_vals * sh->layers; i++) {
		x = x * 1664525u + 1013904223u;
		s->cache[i] = (uint16_t)(((x >> 16) & 0x9fff) | 0x2000);
	}
	for (size_t i = 0; i < q_vals; i++)
		s->q[i] = (float)((int)(i * 37 % 200) - 100) / 100.0f;
	for (uint32_t l = 0; l < sh->layers; l++) {
		struct sim_op *op = &s->ops[l];
		uint16_t *k = s->cache + 2 * layer_vals * l;

		op->index = l;
		op->opcode = ANPU_OP_ATTENTION;
		op->n_tensors = 4;
		op->params.attention.scale = 1.0f / sqrtf((float)sh->head_dim);
		op->pos = pos;
		sim_tensor_dense(&op->t[0], ANPU_DTYPE_F32, sh->head_dim, sh->n_head, 1, 1,
				 s->q, 0x10000);
		sim_tensor_dense(&op->t[1], ANPU_DTYPE_F16, (uint32_t)s->cache_row, ctx, 1, 1,
				 k, 0x20000000);
		sim_tensor_dense(&op->t[2], ANPU_DTYPE_F16, (uint32_t)s->cache_row, ctx, 1, 1,
				 k + layer_vals, 0x40000000);
		sim_tensor_dense(&op->t[3], ANPU_DTYPE_F32, sh->head_dim, sh->n_head, 1, 1,
				 s->out, 0x30000);
	}
	return s;
}

double att_step_run(struct sim_exec *ex, struct att_step *s)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t l = 0; l < s->sh->layers; l++)
		sim_op_attention.run(ex, &s->ops[l]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

uint64_t att_step_bytes(const struct att_step *s)
{
	return 2ull * 2 * s->cache_row * (s->pos + 1ull) * s->sh->layers;
}

void att_step_free(struct att_step *s)
{
	if (!s)
		return;
	free(s->ops);
	free(s->cache);
	free(s->q);
	free(s->out);
	free(s);
}
