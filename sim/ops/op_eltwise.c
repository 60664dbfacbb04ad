// SPDX-License-Identifier: MIT
/*
 * Element-wise binary ops and SCALE.
 *
 * ADD, MUL: a F32, b F32, y[w] F32 with y's shape = a's shape. b broadcasts:
 *   each b.ne[i] is 1 or a.ne[i]; a dimension of size 1 is repeated (b.ne[0]
 *   = 1 gives one b value per row of a). y = a + b or y = a * b, one float
 *   operation per element. y may be the very same tensor as a, or as b when
 *   b has a's shape.
 * SCALE: x F32, y[w] F32 same shape; y = x * s in float; s finite. y may be
 *   the very same tensor as x.
 * Rows are spread over the worker pool; every element is computed
 * independently, so results do not depend on the thread count.
 * Errors: DTYPE if any tensor is not F32; SHAPE if b does not broadcast to a
 * or y's shape differs from a's (x's); PARAM if s is not finite.
 */
#include <math.h>

#include "../sim_ops.h"
#include "../sim_pool.h"

#define ELTWISE_TASK_ELEMS	32768u
#define ELTWISE_MAX_TASKS	1024u

enum eltwise_kind { ELTWISE_ADD, ELTWISE_MUL, ELTWISE_SCALE };

static uint32_t check_f32(const struct sim_op *op, unsigned int n,
			  uint64_t *fault_addr)
{
	for (unsigned int i = 0; i < n; i++) {
		if (op->t[i].dtype != ANPU_DTYPE_F32) {
			*fault_addr = op->t[i].npu_addr;
			return ANPU_CAUSE_DTYPE;
		}
	}
	return 0;
}

static uint32_t binary_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *a = &op->t[0], *b = &op->t[1], *y = &op->t[2];
	uint32_t cause = check_f32(op, 3, fault_addr);

	if (cause)
		return cause;
	for (unsigned int i = 0; i < ANPU_MAX_DIMS; i++) {
		if (b->ne[i] != 1 && b->ne[i] != a->ne[i]) {
			*fault_addr = b->npu_addr;
			return ANPU_CAUSE_SHAPE;
		}
	}
	if (!sim_tensor_same_shape(a, y)) {
		*fault_addr = y->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	return 0;
}

static uint32_t scale_check(const struct sim_op *op, uint64_t *fault_addr)
{
	uint32_t cause = check_f32(op, 2, fault_addr);

	if (cause)
		return cause;
	if (!sim_tensor_same_shape(&op->t[0], &op->t[1])) {
		*fault_addr = op->t[1].npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (!isfinite(op->params.scale.s))
		return ANPU_CAUSE_PARAM;
	return 0;
}

struct eltwise_job {
	const struct sim_op *op;
	enum eltwise_kind kind;
	uint64_t rows;
	uint32_t n_tasks;
};

static void binary_row(enum eltwise_kind kind, const float *a, const float *b,
		       uint32_t b_n, float *y, uint32_t n)
{
	if (b_n == 1) {
		float bv = b[0];

		if (kind == ELTWISE_ADD)
			for (uint32_t i = 0; i < n; i++)
				y[i] = a[i] + bv;
		else
			for (uint32_t i = 0; i < n; i++)
				y[i] = a[i] * bv;
	} else if (kind == ELTWISE_ADD) {
		for (uint32_t i = 0; i < n; i++)
			y[i] = a[i] + b[i];
	} else {
		for (uint32_t i = 0; i < n; i++)
			y[i] = a[i] * b[i];
	}
}

static void eltwise_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct eltwise_job *job = ctx;
	const struct sim_op *op = job->op;
	const struct sim_tensor *a = &op->t[0];
	const struct sim_tensor *y = &op->t[job->kind == ELTWISE_SCALE ? 1 : 2];
	uint64_t r0 = job->rows * task / job->n_tasks;
	uint64_t r1 = job->rows * (task + 1) / job->n_tasks;
	uint32_t n = a->ne[0];

	(void)thread;
	for (uint64_t r = r0; r < r1; r++) {
		uint32_t i1 = (uint32_t)(r % a->ne[1]);
		uint32_t i2 = (uint32_t)(r / a->ne[1] % a->ne[2]);
		uint32_t i3 = (uint32_t)(r / a->ne[1] / a->ne[2]);
		const float *ar = (const float *)sim_tensor_row(a, i1, i2, i3);
		float *yr = (float *)sim_tensor_row(y, i1, i2, i3);

		if (job->kind == ELTWISE_SCALE) {
			float s = op->params.scale.s;

			for (uint32_t i = 0; i < n; i++)
				yr[i] = ar[i] * s;
		} else {
			const struct sim_tensor *b = &op->t[1];
			const float *br = (const float *)sim_tensor_row(b,
				b->ne[1] == 1 ? 0 : i1, b->ne[2] == 1 ? 0 : i2,
				b->ne[3] == 1 ? 0 : i3);

			binary_row(job->kind, ar, br, b->ne[0], yr, n);
		}
	}
}

static uint32_t eltwise_run(struct sim_exec *ex, const struct sim_op *op,
			    enum eltwise_kind kind)
{
	struct eltwise_job job = {
		.op = op, .kind = kind, .rows = sim_tensor_nrows(&op->t[0]),
	};
	uint64_t n = job.rows * op->t[0].ne[0] / ELTWISE_TASK_ELEMS;

	if (n > job.rows)
		n = job.rows;
	if (n > ELTWISE_MAX_TASKS)
		n = ELTWISE_MAX_TASKS;
	job.n_tasks = n ? (uint32_t)n : 1;
	sim_pool_run(ex->pool, job.n_tasks, eltwise_task, &job);
	return 0;
}

static uint32_t add_run(struct sim_exec *ex, const struct sim_op *op)
{
	return eltwise_run(ex, op, ELTWISE_ADD);
}

static uint32_t mul_run(struct sim_exec *ex, const struct sim_op *op)
{
	return eltwise_run(ex, op, ELTWISE_MUL);
}

static uint32_t scale_run(struct sim_exec *ex, const struct sim_op *op)
{
	return eltwise_run(ex, op, ELTWISE_SCALE);
}

static void binary_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0];
	uint64_t b_elems = sim_tensor_nrows(&op->t[1]) * op->t[1].ne[0];

	cost->macs = elems;
	cost->bytes = 8 * elems + 4 * b_elems;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

static void scale_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = sim_tensor_nrows(&op->t[0]) * op->t[0].ne[0];

	cost->macs = elems;
	cost->bytes = 8 * elems;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_add = {
	.name = "ADD",
	.min_tensors = 3,
	.max_tensors = 3,
	.out_mask = 1u << 2,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = binary_check,
	.run = add_run,
	.cost = binary_cost,
};

const struct sim_op_class sim_op_mul = {
	.name = "MUL",
	.min_tensors = 3,
	.max_tensors = 3,
	.out_mask = 1u << 2,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = binary_check,
	.run = mul_run,
	.cost = binary_cost,
};

const struct sim_op_class sim_op_scale = {
	.name = "SCALE",
	.min_tensors = 2,
	.max_tensors = 2,
	.out_mask = 1u << 1,
	.params_bytes = sizeof(struct anpu_params_scale),
	.pos_offset = -1,
	.valid_flags = 0,
	.check = scale_check,
	.run = scale_run,
	.cost = scale_cost,
};
