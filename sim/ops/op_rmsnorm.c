// SPDX-License-Identifier: MIT
/*
 * RMSNORM: x F32 [D, rows...], w F32 [D] (ne[1..3] = 1), y[w] F32 shape of x.
 *
 * Per row of D elements:
 *   ss    = sum x[i]^2, accumulated in double in 4 interleaved partial sums
 *           (lane i % 4), combined as (s0 + s1) + (s2 + s3)
 *   scale = (float)(1 / sqrt(ss / D + eps))           (double)
 *   y[i]  = (x[i] * scale) * w[i]                     (float, in this order)
 * y may be the very same tensor as x (in place). Qwen3's per-head q/k norm is
 * this op on a [head_dim, n_head * M] view.
 * Rows are spread over the worker pool; each row is computed by one task in
 * a fixed order, so results do not depend on the thread count. The row loop
 * is the kernel path's rmsnorm_rows, a few rows a call (the same bits on
 * every path).
 * Errors: DTYPE if any tensor is not F32; SHAPE if w is not [D,1,1,1] or y's
 * shape differs from x's; PARAM if eps is not finite or <= 0.
 */
#include <math.h>

#include "../kernels/kernels.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

/* Elements per task, roughly: below this, waking workers costs more. */
#define RMSNORM_TASK_ELEMS	16384u

static uint32_t rmsnorm_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *x = &op->t[0], *w = &op->t[1], *y = &op->t[2];
	float eps = op->params.rmsnorm.eps;

	for (unsigned int i = 0; i < 3; i++) {
		if (op->t[i].dtype != ANPU_DTYPE_F32) {
			*fault_addr = op->t[i].npu_addr;
			return ANPU_CAUSE_DTYPE;
		}
	}
	if (w->ne[0] != x->ne[0] || w->ne[1] != 1 || w->ne[2] != 1 ||
	    w->ne[3] != 1) {
		*fault_addr = w->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (!sim_tensor_same_shape(x, y)) {
		*fault_addr = y->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (!isfinite(eps) || !(eps > 0.0f))
		return ANPU_CAUSE_PARAM;
	return 0;
}

struct rmsnorm_job {
	const struct sim_op *op;
	uint64_t rows;
	uint32_t n_tasks;
};

static void rmsnorm_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct rmsnorm_job *job = ctx;
	const struct sim_op *op = job->op;
	uint64_t r0 = job->rows * task / job->n_tasks;
	uint64_t r1 = job->rows * (task + 1) / job->n_tasks;
	const float *w = (const float *)op->t[1].data;
	const struct sim_kernels *k = sim_kernels_get();

	(void)thread;
	for (uint64_t r = r0; r < r1; r += SIM_RMSNORM_ROWS) {
		uint32_t n = r1 - r < SIM_RMSNORM_ROWS ? (uint32_t)(r1 - r) : SIM_RMSNORM_ROWS;
		const float *x[SIM_RMSNORM_ROWS];
		float *y[SIM_RMSNORM_ROWS];

		for (uint32_t i = 0; i < n; i++) {
			x[i] = (const float *)sim_tensor_flat_row(&op->t[0], r + i);
			y[i] = (float *)sim_tensor_flat_row(&op->t[2], r + i);
		}
		k->rmsnorm_rows(x, y, w, op->t[0].ne[0], n, op->params.rmsnorm.eps);
	}
}

static uint32_t rmsnorm_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct rmsnorm_job job = { .op = op, .rows = sim_tensor_nrows(&op->t[0]) };
	uint64_t elems = job.rows * op->t[0].ne[0];
	uint64_t n = elems / RMSNORM_TASK_ELEMS;

	if (n > job.rows)
		n = job.rows;
	if (n > 4096)
		n = 4096;
	job.n_tasks = n ? (uint32_t)n : 1;
	sim_pool_run(ex->pool, job.n_tasks, rmsnorm_task, &job);
	return 0;
}

static void rmsnorm_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0];

	cost->macs = 3 * elems;		/* square-add, scale, weight */
	cost->bytes = 8 * elems + 4ull * op->t[1].ne[0];
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_rmsnorm = {
	.name = "RMSNORM",
	.min_tensors = 3,
	.max_tensors = 3,
	.out_mask = 1u << 2,
	.params_bytes = sizeof(struct anpu_params_rmsnorm),
	.pos_offset = -1,
	.valid_flags = 0,
	.check = rmsnorm_check,
	.run = rmsnorm_run,
	.cost = rmsnorm_cost,
};
