// SPDX-License-Identifier: MIT
/*
 * COPY (ISA 1.1): src F16/F32 [ne0, ne1, ne2, ne3], dst[w] the same dtype and
 * shape: every row of dst = the same row of src, bit for bit. Strides may
 * differ (e.g. the first n rows of one session's KV cache into another's, to
 * fork it on the device). src and dst must not overlap (undefined values); if
 * they do, the op still runs as defined host code: one task, row by row with
 * memmove (memcpy of overlapping bytes, or two threads on them, would be
 * undefined behaviour of the model itself; the fuzzer found it).
 * Errors: DTYPE if src is not F16/F32 or dst's dtype differs; SHAPE if the
 * shapes differ (fault address: dst).
 */
#include <string.h>

#include "../sim_ops.h"
#include "../sim_pool.h"

#define COPY_TASK_BYTES	(256u * 1024u)

static uint32_t copy_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *src = &op->t[0], *dst = &op->t[1];

	if (src->dtype != ANPU_DTYPE_F32 && src->dtype != ANPU_DTYPE_F16) {
		*fault_addr = src->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (dst->dtype != src->dtype) {
		*fault_addr = dst->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (!sim_tensor_same_shape(src, dst)) {
		*fault_addr = dst->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	return 0;
}

struct copy_job {
	const struct sim_op *op;
	uint64_t rows;
	uint32_t n_tasks;
};

/* memmove: the same cost as memcpy where src and dst are apart, defined where they meet */
static void copy_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct copy_job *job = ctx;
	const struct sim_tensor *src = &job->op->t[0], *dst = &job->op->t[1];
	uint64_t r0 = job->rows * task / job->n_tasks;
	uint64_t r1 = job->rows * (task + 1) / job->n_tasks;

	(void)thread;
	for (uint64_t r = r0; r < r1; r++)
		memmove(sim_tensor_flat_row(dst, r), sim_tensor_flat_row(src, r), src->row_bytes);
}

static uint32_t copy_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct copy_job job = { .op = op, .rows = sim_tensor_nrows(&op->t[0]) };
	uint64_t n = job.rows * op->t[0].row_bytes / COPY_TASK_BYTES;

	if (n > job.rows)
		n = job.rows;
	if (sim_tensors_overlap(&op->t[0], &op->t[1]))	/* rows in order, one thread */
		n = 1;
	job.n_tasks = n ? (uint32_t)(n < UINT32_MAX ? n : UINT32_MAX) : 1;
	sim_pool_run(ex->pool, job.n_tasks, copy_task, &job);
	return 0;
}

static void copy_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t bytes = sim_tensor_nrows(&op->t[0]) * op->t[0].row_bytes;

	cost->macs = 0;
	cost->bytes = 2 * bytes;	/* read once, written once */
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_copy = {
	.name = "COPY",
	.min_tensors = 2,
	.max_tensors = 2,
	.out_mask = 1u << 1,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = copy_check,
	.run = copy_run,
	.cost = copy_cost,
};
