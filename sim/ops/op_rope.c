// SPDX-License-Identifier: MIT
/*
 * ROPE: x F32 [head_dim, n_heads, M, 1], y[w] F32 same shape; y may be the
 * very same tensor as x (in place); optionally (ISA 1.1) freq F32
 * [n_rot/2, 1, 1, 1], per-pair frequency factors (Llama 3's rope_freqs).
 *
 * Params: mode (NORMAL 0, NEOX 1), n_rot (even, 2..head_dim), theta_base and
 * freq_scale (finite, > 0), pos (immediate or step parameter).
 * Row m of every head is at position p = pos + m. For i in [0, n_rot/2):
 *   theta_i = p * freq_scale * theta_base^(-2i / n_rot) [/ freq[i]]
 *   (as ggml's rope_ext: the factor divides the angle; a factor of 0 or a
 *   non-finite one gives non-finite outputs, never a fault)
 *   NORMAL rotates the pair (x[2i], x[2i+1]), NEOX the pair (x[i], x[i + n_rot/2]):
 *     y[a] = x[a] cos(theta_i) - x[b] sin(theta_i)
 *     y[b] = x[a] sin(theta_i) + x[b] cos(theta_i)
 *   Elements n_rot..head_dim-1 are copied unchanged.
 * Precision: the angle, its cosine and sine and the rotation are computed in
 * double and each output is rounded to float once, so positions up to 2^32
 * keep an angle error far below float resolution (about p * 2^-53 rad).
 * Positions are spread over the worker pool; results do not depend on the
 * thread count. The cosines and sines are kept (struct sim_rope_table) for
 * the next ROPE op of the same angles.
 * Errors: DTYPE if x, y or freq is not F32; SHAPE if x.ne[3] != 1, y's
 * shape differs or freq is not [n_rot/2, 1, 1, 1]; PARAM for an unknown mode, an odd n_rot, n_rot < 2 or n_rot >
 * head_dim, or theta_base / freq_scale not finite or <= 0; STEP_PARAM if
 * pos + M - 1 does not fit in 32 bits.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

/* Pairs whose cos/sin are computed at once (stack buffer, any n_rot). */
#define ROPE_CHUNK	128u
/* Index of the optional frequency-factor tensor. */
#define ROPE_FREQ	2u

static uint32_t rope_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *x = &op->t[0], *y = &op->t[1];
	const struct anpu_params_rope *p = &op->params.rope;

	for (unsigned int i = 0; i < 2; i++) {
		if (op->t[i].dtype != ANPU_DTYPE_F32) {
			*fault_addr = op->t[i].npu_addr;
			return ANPU_CAUSE_DTYPE;
		}
	}
	if (x->ne[3] != 1) {
		*fault_addr = x->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (!sim_tensor_same_shape(x, y)) {
		*fault_addr = y->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (p->mode != ANPU_ROPE_NORMAL && p->mode != ANPU_ROPE_NEOX)
		return ANPU_CAUSE_PARAM;
	if (p->n_rot < 2 || (p->n_rot & 1) || p->n_rot > x->ne[0])
		return ANPU_CAUSE_PARAM;
	if (op->n_tensors > ROPE_FREQ) {
		const struct sim_tensor *f = &op->t[ROPE_FREQ];

		uint32_t cause = 0;

		if (f->dtype != ANPU_DTYPE_F32)
			cause = ANPU_CAUSE_DTYPE;
		else if (f->ne[0] != p->n_rot / 2 || f->ne[1] != 1 || f->ne[2] != 1 ||
			 f->ne[3] != 1)
			cause = ANPU_CAUSE_SHAPE;
		if (cause) {
			*fault_addr = f->npu_addr;
			return cause;
		}
	}
	if (!isfinite(p->theta_base) || !(p->theta_base > 0.0f) ||
	    !isfinite(p->freq_scale) || !(p->freq_scale > 0.0f))
		return ANPU_CAUSE_PARAM;
	if ((uint64_t)op->pos + x->ne[2] - 1 > UINT32_MAX)
		return ANPU_CAUSE_STEP_PARAM;
	return 0;
}

struct rope_job {
	const struct sim_op *op;
	const double *cs;	/* the table (rows x pairs cosines, then sines), or NULL */
};

/* cos and sin of the angles of pairs [i0, i1) of row m, in double */
static void rope_angles(const struct sim_op *op, uint32_t m, uint32_t i0, uint32_t i1,
			double *c, double *s)
{
	const struct anpu_params_rope *p = &op->params.rope;
	double pf = (double)((uint64_t)op->pos + m) * (double)p->freq_scale;
	const float *freq = op->n_tensors > ROPE_FREQ ? (const float *)op->t[ROPE_FREQ].data : NULL;

	for (uint32_t i = i0; i < i1; i++) {
		double theta = pf * pow((double)p->theta_base,
					-2.0 * (double)i / (double)p->n_rot);

		if (freq)
			theta /= (double)freq[i];

		c[i - i0] = cos(theta);
		s[i - i0] = sin(theta);
	}
}

/*
 * Rotate pairs [i0, i1) of every head of row m by the angles' c[], s[]
 * (the kernel path's rope_pairs: NEOX pairs (i, i + half), NORMAL (2i, 2i + 1)).
 */
static void rope_rotate(const struct sim_op *op, uint32_t m, uint32_t i0, uint32_t i1,
			const double *c, const double *s)
{
	const struct anpu_params_rope *p = &op->params.rope;
	const struct sim_tensor *x = &op->t[0], *y = &op->t[1];
	const struct sim_kernels *k = sim_kernels_get();
	const bool neox = p->mode == ANPU_ROPE_NEOX;
	uint32_t a = neox ? i0 : 2 * i0, b = neox ? i0 + p->n_rot / 2 : 2 * i0 + 1;

	for (uint32_t h = 0; h < x->ne[1]; h++) {
		const float *xr = (const float *)sim_tensor_row(x, h, m, 0);
		float *yr = (float *)sim_tensor_row(y, h, m, 0);

		k->rope_pairs(yr + a, yr + b, xr + a, xr + b, c, s, i1 - i0, neox ? 1 : 2);
	}
}

static void rope_task(void *ctx, uint32_t m, unsigned int thread)
{
	const struct rope_job *job = ctx;
	const struct sim_op *op = job->op;
	const struct sim_tensor *x = &op->t[0], *y = &op->t[1];
	uint32_t n_rot = op->params.rope.n_rot, half = n_rot / 2;

	(void)thread;
	if (job->cs) {
		size_t plane = (size_t)x->ne[2] * half;

		rope_rotate(op, m, 0, half, job->cs + (size_t)m * half,
			    job->cs + plane + (size_t)m * half);
	} else {
		for (uint32_t i0 = 0; i0 < half; i0 += ROPE_CHUNK) {
			uint32_t i1 = i0 + ROPE_CHUNK < half ? i0 + ROPE_CHUNK : half;
			double c[ROPE_CHUNK], s[ROPE_CHUNK];

			rope_angles(op, m, i0, i1, c, s);
			rope_rotate(op, m, i0, i1, c, s);
		}
	}
	if (n_rot == x->ne[0])
		return;
	for (uint32_t h = 0; h < x->ne[1]; h++) {
		const uint8_t *xr = sim_tensor_row(x, h, m, 0);
		uint8_t *yr = sim_tensor_row(y, h, m, 0);

		if (xr != yr)
			memmove(yr + 4 * n_rot, xr + 4 * n_rot,
				4 * (size_t)(x->ne[0] - n_rot));
	}
}

static void rope_table_task(void *ctx, uint32_t m, unsigned int thread)
{
	const struct rope_job *job = ctx;
	const struct sim_op *op = job->op;
	uint32_t half = op->params.rope.n_rot / 2;
	double *c = (double *)job->cs + (size_t)m * half;

	(void)thread;
	rope_angles(op, m, 0, half, c, c + (size_t)op->t[0].ne[2] * half);
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/*
 * The angles' table for @op: the one @t holds if it was made for the same
 * positions, n_rot, theta_base, freq_scale and frequency factors, else made
 * anew (in parallel, a task per row). NULL where there is no table (no @t,
 * or no memory for it): the rows then compute their own.
 */
static const double *rope_table(struct sim_rope_table *t, const struct sim_op *op,
				struct sim_pool *pool)
{
	const struct anpu_params_rope *p = &op->params.rope;
	uint32_t rows = op->t[0].ne[2], half = p->n_rot / 2;
	int has_freq = op->n_tensors > ROPE_FREQ;
	const float *freq = has_freq ? (const float *)op->t[ROPE_FREQ].data : NULL;
	size_t need = 2 * (size_t)rows * half;
	struct rope_job job = { .op = op };

	if (!t)
		return NULL;
	if (t->valid && t->pos == op->pos && t->rows == rows && t->n_rot == p->n_rot &&
	    t->theta_bits == f32_bits(p->theta_base) && t->scale_bits == f32_bits(p->freq_scale) &&
	    t->has_freq == has_freq && (!has_freq || !memcmp(t->freq, freq, 4 * (size_t)half)))
		return t->cs;
	t->valid = 0;
	if (need > t->cap) {
		double *cs = realloc(t->cs, need * sizeof(*cs));

		if (!cs)
			return NULL;
		t->cs = cs;
		t->cap = need;
	}
	if (has_freq && half > t->freq_cap) {
		float *f = realloc(t->freq, 4 * (size_t)half);

		if (!f)
			return NULL;
		t->freq = f;
		t->freq_cap = half;
	}
	job.cs = t->cs;
	sim_pool_run(pool, rows, rope_table_task, &job);
	if (has_freq)
		memcpy(t->freq, freq, 4 * (size_t)half);
	t->pos = op->pos;
	t->rows = rows;
	t->n_rot = p->n_rot;
	t->theta_bits = f32_bits(p->theta_base);
	t->scale_bits = f32_bits(p->freq_scale);
	t->has_freq = has_freq;
	t->valid = 1;
	return t->cs;
}

static uint32_t rope_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct rope_job job = { .op = op, .cs = rope_table(ex->rope, op, ex->pool) };

	sim_pool_run(ex->pool, op->t[0].ne[2], rope_task, &job);
	return 0;
}

static void rope_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0];

	cost->macs = 3 * elems;		/* two products and a sum per element */
	cost->bytes = 8 * elems;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_rope = {
	.name = "ROPE",
	.min_tensors = 2,
	.max_tensors = 3,
	.out_mask = 1u << 1,
	.params_bytes = sizeof(struct anpu_params_rope),
	.pos_offset = offsetof(struct anpu_params_rope, pos),
	.valid_flags = 0,
	.check = rope_check,
	.run = rope_run,
	.cost = rope_cost,
};
