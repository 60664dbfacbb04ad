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

#include "sim/kernels/kernels.h"
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

/*
 * Execution: x rows are converted once per op into the activation form of
 * the weight dtype (8-bit blocks for quantized weights, see kernels.h), in
 * batches of MM_ROW_BATCH rows that live in thread 0's scratch. Then output
 * columns are split into chunks, one pool task each; a task walks its x rows
 * in groups of SIM_DOT_MAX_ROWS and, per group, every weight row of its
 * chunk, so one unpacked weight block serves up to 4 x rows. Each output
 * element is one kernel call with a fixed reduction order, whatever the
 * thread count or chunk size.
 */
#define MM_ROW_BATCH 64u

struct mm_ctx {
	const struct sim_kernels *kern;
	const struct sim_op *op;
	enum sim_act act;
	size_t act_bytes;	/* bytes of one converted x row */
	uint8_t *xbuf;		/* converted rows of this batch (quantized dtypes) */
	uint64_t row0;		/* first x row of this batch */
	uint32_t nrows;		/* rows in this batch */
	uint32_t chunk;		/* output columns per task */
};

static const void *mm_xrow(const struct mm_ctx *c, uint32_t r)
{
	if (c->act == SIM_ACT_F32)
		return sim_tensor_flat_row(&c->op->t[MM_X], c->row0 + r);
	return c->xbuf + (size_t)r * c->act_bytes;
}

static void mm_quantize_row(const struct mm_ctx *c, uint32_t r)
{
	const float *xr = (const float *)sim_tensor_flat_row(&c->op->t[MM_X], c->row0 + r);
	size_t k = c->op->t[MM_X].ne[0];
	void *dst = c->xbuf + (size_t)r * c->act_bytes;

	if (c->act == SIM_ACT_Q8)
		c->kern->quantize_q8(xr, dst, k);
	else if (c->act == SIM_ACT_Q8X2)
		c->kern->quantize_q8x2(xr, dst, k);
	else if (c->act == SIM_ACT_Q8X4)
		c->kern->quantize_q8x4(xr, dst, k);
	else
		c->kern->quantize_q8K(xr, dst, k);
}

static void mm_quantize_task(void *arg, uint32_t task, unsigned int thread)
{
	(void)thread;
	mm_quantize_row(arg, task);
}

static void mm_dot_task(void *arg, uint32_t task, unsigned int thread)
{
	const struct mm_ctx *c = arg;
	const struct sim_op *op = c->op;
	const struct sim_tensor *w = &op->t[MM_W];
	const struct sim_tensor *y = &op->t[MM_Y];
	const float *bias = op->n_tensors > MM_BIAS ? (const float *)op->t[MM_BIAS].data : NULL;
	const int accumulate = (op->flags & ANPU_MATMUL_ACCUMULATE) != 0;
	const sim_dot_fn dot = c->kern->dot[w->dtype];
	const sim_dot_w2_fn dot_w2 = c->kern->dot_w2[w->dtype];
	size_t k = w->ne[0];
	uint32_t n0 = task * c->chunk;
	uint32_t n1 = n0 + c->chunk < w->ne[1] ? n0 + c->chunk : w->ne[1];

	(void)thread;
	for (uint32_t r0 = 0; r0 < c->nrows; r0 += SIM_DOT_MAX_ROWS) {
		unsigned int nx = c->nrows - r0 < SIM_DOT_MAX_ROWS ? c->nrows - r0 : SIM_DOT_MAX_ROWS;
		const void *xr[SIM_DOT_MAX_ROWS];
		float *yr[SIM_DOT_MAX_ROWS];

		for (unsigned int i = 0; i < nx; i++) {
			xr[i] = mm_xrow(c, r0 + i);
			yr[i] = (float *)sim_tensor_flat_row(y, c->row0 + r0 + i);
		}
		uint32_t j = n0;

		/*
		 * M = 1: rows j and j + h of the task's range per call (x loads
		 * shared; two long sequential weight streams prefetch well, rows
		 * j, j + 1 streamed ~30% slower); each out bit-identical to dot().
		 */
		if (nx == 1 && dot_w2) {
			const uint32_t h = (n1 - n0) / 2;

			for (; j < n0 + h; j++) {
				float out[2];

				dot_w2(k, sim_tensor_row(w, j, 0, 0),
				       sim_tensor_row(w, j + h, 0, 0), xr[0], out);
				for (unsigned int i = 0; i < 2; i++) {
					float s = out[i];
					const uint32_t jj = j + i * h;

					if (bias)
						s += bias[jj];
					if (accumulate)
						s += yr[0][jj];
					yr[0][jj] = s;
				}
			}
			j = n0 + 2 * h;
		}
		for (; j < n1; j++) {
			float out[SIM_DOT_MAX_ROWS];

			dot(k, sim_tensor_row(w, j, 0, 0), xr, nx, out);
			for (unsigned int i = 0; i < nx; i++) {
				float s = out[i];

				if (bias)
					s += bias[j];
				if (accumulate)
					s += yr[i][j];
				yr[i][j] = s;
			}
		}
	}
}

static uint32_t matmul_run(struct sim_exec *ex, const struct sim_op *op)
{
	const struct sim_tensor *w = &op->t[MM_W];
	uint64_t rows = sim_tensor_nrows(&op->t[MM_X]);
	unsigned int threads = sim_pool_threads(ex->pool);
	uint32_t n = w->ne[1];
	struct mm_ctx c = {
		.kern = sim_kernels_get(),
		.op = op,
	};

	c.act = sim_kernels_act(c.kern, w->dtype);
	/*
	 * ~4 tasks per thread: each task starts a new weight stream, which costs
	 * (a decode step of 175 ops ran ~15% slower with 16 per thread, ~30% with
	 * 64); 4 still lets a thread that runs ahead take over a preempted one.
	 */
	c.chunk = n / (threads * 4u);
	c.chunk = c.chunk < 16 ? 16 : (c.chunk + 3) & ~3u;
	c.act_bytes = sim_act_row_bytes(c.act, w->ne[0]);
	if (c.act != SIM_ACT_F32) {
		uint64_t batch = rows < MM_ROW_BATCH ? rows : MM_ROW_BATCH;

		c.xbuf = sim_pool_scratch(ex->pool, 0, batch * c.act_bytes);
		if (!c.xbuf)	/* host out of memory: nothing fits the ISA better */
			return ANPU_CAUSE_SIZE_OVERFLOW;
	}
	for (c.row0 = 0; c.row0 < rows; c.row0 += c.nrows) {
		c.nrows = rows - c.row0 < MM_ROW_BATCH ? (uint32_t)(rows - c.row0) : MM_ROW_BATCH;
		if (c.act != SIM_ACT_F32) {
			if (c.nrows == 1)
				mm_quantize_row(&c, 0);
			else
				sim_pool_run(ex->pool, c.nrows, mm_quantize_task, &c);
		}
		sim_pool_run(ex->pool, (n + c.chunk - 1) / c.chunk, mm_dot_task, &c);
	}
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
