// SPDX-License-Identifier: MIT
/*
 * SOFTMAX: x F32, y[w] F32 same shape; per row of ne[0] elements:
 *   z_i = x_i * scale                        (float)
 *   e_i = expf(z_i - max_j z_j)              (float; stable: e_i <= 1)
 *   y_i = (float)(e_i / sum_i e_i)           (sum in double, ascending i)
 * scale must be finite (negative and zero allowed). y may be the very same
 * tensor as x. A row containing NaN gives NaN in every element; so does a
 * row whose maximum z is +inf or whose every z is -inf (inf - inf). A row
 * with some finite z gives 0 for z = -inf.
 * Rows are spread over the worker pool; results do not depend on the
 * thread count.
 * Errors: DTYPE if x or y is not F32; SHAPE if the shapes differ; PARAM if
 * scale is not finite.
 */
#include <math.h>

#include "../sim_ops.h"
#include "../sim_pool.h"

#define SOFTMAX_TASK_ELEMS	16384u
#define SOFTMAX_MAX_TASKS	1024u

static uint32_t softmax_check(const struct sim_op *op, uint64_t *fault_addr)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (op->t[i].dtype != ANPU_DTYPE_F32) {
			*fault_addr = op->t[i].npu_addr;
			return ANPU_CAUSE_DTYPE;
		}
	}
	if (!sim_tensor_same_shape(&op->t[0], &op->t[1])) {
		*fault_addr = op->t[1].npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (!isfinite(op->params.softmax.scale))
		return ANPU_CAUSE_PARAM;
	return 0;
}

static void softmax_row(const float *x, float *y, uint32_t n, float scale)
{
	float max = -INFINITY;
	double sum = 0.0;
	int has_nan = 0;

	for (uint32_t i = 0; i < n; i++) {
		float z = x[i] * scale;

		has_nan |= isnan(z);
		max = z > max ? z : max;
	}
	if (has_nan)
		max = NAN;
	/* y[i] is written only after x[i] is read: fine in place */
	for (uint32_t i = 0; i < n; i++) {
		float e = expf(x[i] * scale - max);

		y[i] = e;
		sum += e;
	}
	for (uint32_t i = 0; i < n; i++)
		y[i] = (float)(y[i] / sum);
}

struct softmax_job {
	const struct sim_op *op;
	uint64_t rows;
	uint32_t n_tasks;
};

static void softmax_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct softmax_job *job = ctx;
	const struct sim_op *op = job->op;
	uint64_t r0 = job->rows * task / job->n_tasks;
	uint64_t r1 = job->rows * (task + 1) / job->n_tasks;

	(void)thread;
	for (uint64_t r = r0; r < r1; r++)
		softmax_row((const float *)sim_tensor_flat_row(&op->t[0], r),
			    (float *)sim_tensor_flat_row(&op->t[1], r),
			    op->t[0].ne[0], op->params.softmax.scale);
}

static uint32_t softmax_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct softmax_job job = { .op = op, .rows = sim_tensor_nrows(&op->t[0]) };
	uint64_t n = job.rows * op->t[0].ne[0] / SOFTMAX_TASK_ELEMS;

	if (n > job.rows)
		n = job.rows;
	if (n > SOFTMAX_MAX_TASKS)
		n = SOFTMAX_MAX_TASKS;
	job.n_tasks = n ? (uint32_t)n : 1;
	sim_pool_run(ex->pool, job.n_tasks, softmax_task, &job);
	return 0;
}

static void softmax_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0];

	cost->macs = 4 * elems;		/* scale+max, exp, sum, divide */
	cost->bytes = 8 * elems;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_softmax = {
	.name = "SOFTMAX",
	.min_tensors = 2,
	.max_tensors = 2,
	.out_mask = 1u << 1,
	.params_bytes = sizeof(struct anpu_params_softmax),
	.pos_offset = -1,
	.valid_flags = 0,
	.check = softmax_check,
	.run = softmax_run,
	.cost = softmax_cost,
};
