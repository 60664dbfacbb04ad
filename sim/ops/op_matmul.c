// SPDX-License-Identifier: MIT
/*
 * MATMUL: y[N, M...] = x[K, M...] . W[K, N]^T (+ bias[N]) (+ y if ACCUMULATE).
 *   t0 x F32 [K, M, M2, M3]
 *   t1 W (weight dtype) [K, N, 1, 1], K a whole number of blocks
 *   t2 y[w] F32 [N, M, M2, M3]
 *   t3 bias F32 [N, 1, 1, 1] (optional)
 * x and y may have batch dims (rows = M * M2 * M3, the same for both); W and
 * bias may not. Anything else is ANPU_CAUSE_SHAPE.
 */
#include <string.h>

#include "sim/kernels/quant.h"
#include "sim/sim_ops.h"
#include "sim/sim_pool.h"

enum { MM_X, MM_W, MM_Y, MM_BIAS };

static uint32_t shape_fault(const struct sim_tensor *t, uint64_t *fault_addr)
{
	*fault_addr = t->npu_addr;
	return ANPU_CAUSE_SHAPE;
}

static uint32_t dtype_fault(const struct sim_tensor *t, uint64_t *fault_addr)
{
	*fault_addr = t->npu_addr;
	return ANPU_CAUSE_DTYPE;
}

static uint32_t matmul_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *x = &op->t[MM_X];
	const struct sim_tensor *w = &op->t[MM_W];
	const struct sim_tensor *y = &op->t[MM_Y];
	unsigned int be = sim_weight_block_elems(w->dtype);

	if (x->dtype != ANPU_DTYPE_F32)
		return dtype_fault(x, fault_addr);
	if (!be)
		return dtype_fault(w, fault_addr);
	if (y->dtype != ANPU_DTYPE_F32)
		return dtype_fault(y, fault_addr);
	if (op->n_tensors > MM_BIAS && op->t[MM_BIAS].dtype != ANPU_DTYPE_F32)
		return dtype_fault(&op->t[MM_BIAS], fault_addr);

	if (w->ne[0] % be || w->ne[2] != 1 || w->ne[3] != 1)
		return shape_fault(w, fault_addr);
	if (x->ne[0] != w->ne[0])
		return shape_fault(x, fault_addr);
	if (y->ne[0] != w->ne[1] || y->ne[1] != x->ne[1] ||
	    y->ne[2] != x->ne[2] || y->ne[3] != x->ne[3])
		return shape_fault(y, fault_addr);
	if (op->n_tensors > MM_BIAS) {
		const struct sim_tensor *b = &op->t[MM_BIAS];

		if (b->ne[0] != w->ne[1] || b->ne[1] != 1 || b->ne[2] != 1 ||
		    b->ne[3] != 1)
			return shape_fault(b, fault_addr);
	}
	return ANPU_CAUSE_NONE;
}

/* Output columns per task: small enough to balance, large enough to stream. */
#define MM_CHUNK 16u

struct mm_ctx {
	struct sim_pool *pool;
	const struct sim_op *op;
	uint32_t n;
	uint64_t rows;
};

static void mm_task(void *arg, uint32_t task, unsigned int thread)
{
	const struct mm_ctx *c = arg;
	const struct sim_op *op = c->op;
	const struct sim_tensor *x = &op->t[MM_X];
	const struct sim_tensor *w = &op->t[MM_W];
	const struct sim_tensor *y = &op->t[MM_Y];
	const float *bias = op->n_tensors > MM_BIAS ? (const float *)op->t[MM_BIAS].data : NULL;
	size_t k = w->ne[0];
	uint32_t n0 = task * MM_CHUNK;
	uint32_t n1 = n0 + MM_CHUNK < c->n ? n0 + MM_CHUNK : c->n;
	float *wrow = sim_pool_scratch(c->pool, thread, k * sizeof(float));

	if (!wrow)
		return;
	for (uint32_t j = n0; j < n1; j++) {
		sim_dequant_row(w->dtype, sim_tensor_row(w, j, 0, 0), wrow, k);
		for (uint64_t r = 0; r < c->rows; r++) {
			const float *xr = (const float *)sim_tensor_flat_row(x, r);
			float *yr = (float *)sim_tensor_flat_row(y, r);
			float s = 0.0f;

			for (size_t i = 0; i < k; i++)
				s += xr[i] * wrow[i];
			if (bias)
				s += bias[j];
			if (op->flags & ANPU_MATMUL_ACCUMULATE)
				s += yr[j];
			yr[j] = s;
		}
	}
}

static uint32_t matmul_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct mm_ctx c = {
		.pool = ex->pool,
		.op = op,
		.n = op->t[MM_W].ne[1],
		.rows = sim_tensor_nrows(&op->t[MM_X]),
	};

	sim_pool_run(ex->pool, (c.n + MM_CHUNK - 1) / MM_CHUNK, mm_task, &c);
	return ANPU_CAUSE_NONE;
}

static void matmul_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	const struct sim_tensor *x = &op->t[MM_X];
	const struct sim_tensor *w = &op->t[MM_W];
	uint64_t rows = sim_tensor_nrows(x);
	uint64_t n = w->ne[1];

	cost->macs = (uint64_t)w->ne[0] * n * rows;
	cost->bytes = n * w->row_bytes + rows * x->row_bytes +
		      rows * op->t[MM_Y].row_bytes *
			      ((op->flags & ANPU_MATMUL_ACCUMULATE) ? 2 : 1);
	if (op->n_tensors > MM_BIAS)
		cost->bytes += op->t[MM_BIAS].row_bytes;
	switch (w->dtype) {
	case ANPU_DTYPE_F32:
		cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_F32;
		break;
	case ANPU_DTYPE_F16:
	case ANPU_DTYPE_BF16:
		cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_F16;
		break;
	default:
		cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_INT8;
		break;
	}
}

const struct sim_op_class sim_op_matmul = {
	.name = "matmul",
	.min_tensors = 3,
	.max_tensors = 4,
	.out_mask = 1u << MM_Y,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = ANPU_MATMUL_FLAGS_ALL,
	.check = matmul_check,
	.run = matmul_run,
	.cost = matmul_cost,
};
