// SPDX-License-Identifier: MIT
/*
 * SWIGLU: gate F32, up F32, y[w] F32, all one shape:
 *   y = silu(gate) * up,  silu(g) = g / (1 + exp(-g))   (float, this order)
 * exp is the unit's own (sim/kernels/att_exp.h, the same bits on every host),
 * +inf where -g > 88: for g -> -inf silu gives -0 (g / inf), never NaN. The
 * loop is the kernel path's swiglu (att_vec.inc: 8 lanes at a time).
 * y may be the very same tensor as gate or as up.
 * Elements (a decode step's one row too) are spread over the worker pool;
 * results do not depend on the thread count.
 * Errors: DTYPE if any tensor is not F32; SHAPE if up's or y's shape differs
 * from gate's.
 */
#include "../kernels/kernels.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

/*
 * ~0.3 ns an element (libm's expf one at a time took ~3): a decode row of
 * 4864 is one task, a 64-row prefill chunk 19
 */
#define SWIGLU_TASK_ELEMS	16384u
#define SWIGLU_MAX_TASKS	1024u

static uint32_t swiglu_check(const struct sim_op *op, uint64_t *fault_addr)
{
	for (unsigned int i = 0; i < 3; i++) {
		if (op->t[i].dtype != ANPU_DTYPE_F32) {
			*fault_addr = op->t[i].npu_addr;
			return ANPU_CAUSE_DTYPE;
		}
	}
	for (unsigned int i = 1; i < 3; i++) {
		if (!sim_tensor_same_shape(&op->t[0], &op->t[i])) {
			*fault_addr = op->t[i].npu_addr;
			return ANPU_CAUSE_SHAPE;
		}
	}
	return 0;
}

struct swiglu_job {
	const struct sim_op *op;
	const struct sim_kernels *k;
	uint64_t elems;		/* rows x row length */
	uint32_t n_tasks;
};

/* Task @task: flat elements [elems * task / n_tasks, elems * (task + 1) / n_tasks). */
static void swiglu_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct swiglu_job *job = ctx;
	const struct sim_op *op = job->op;
	const struct sim_kernels *k = job->k;
	uint32_t n = op->t[0].ne[0];
	uint64_t e0 = job->elems * task / job->n_tasks;
	uint64_t e1 = job->elems * (task + 1) / job->n_tasks;

	(void)thread;
	while (e0 < e1) {
		uint64_t r = e0 / n;
		uint32_t i0 = (uint32_t)(e0 % n);
		uint32_t i1 = e1 - r * n < n ? (uint32_t)(e1 - r * n) : n;
		const float *g = (const float *)sim_tensor_flat_row(&op->t[0], r);
		const float *u = (const float *)sim_tensor_flat_row(&op->t[1], r);
		float *y = (float *)sim_tensor_flat_row(&op->t[2], r);

		k->swiglu(y + i0, g + i0, u + i0, i1 - i0);
		e0 = r * n + i1;
	}
}

static uint32_t swiglu_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct swiglu_job job = {
		.op = op,
		.k = sim_kernels_get(),
		.elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0],
	};
	uint64_t n = job.elems / SWIGLU_TASK_ELEMS;

	if (n > SWIGLU_MAX_TASKS)
		n = SWIGLU_MAX_TASKS;
	job.n_tasks = n ? (uint32_t)n : 1;
	sim_pool_run(ex->pool, job.n_tasks, swiglu_task, &job);
	return 0;
}

static void swiglu_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0];

	cost->macs = 4 * elems;		/* exp, add, divide, multiply */
	cost->bytes = 12 * elems;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_swiglu = {
	.name = "SWIGLU",
	.min_tensors = 3,
	.max_tensors = 3,
	.out_mask = 1u << 2,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = swiglu_check,
	.run = swiglu_run,
	.cost = swiglu_cost,
};
