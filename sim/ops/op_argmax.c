// SPDX-License-Identifier: MIT
/*
 * ARGMAX: x F32 [N, rows...], y[w] I32 [1, rows...] (y.ne[1..3] = x.ne[1..3]).
 * y row r = the index of the largest element of x row r. Ties: the first
 * (lowest index) maximum wins. NaN never wins: NaN elements are skipped; a
 * row of only NaN gives 0. -0 and +0 compare equal (the first wins).
 * Errors: DTYPE if x is not F32 or y not I32; SHAPE if y.ne[0] != 1,
 * y.ne[1..3] differ from x's, or N > INT32_MAX (an index must fit in I32;
 * fault address: x).
 */
#include <math.h>

#include "../sim_ops.h"
#include "../sim_pool.h"

#define ARGMAX_TASK_ELEMS	65536u
#define ARGMAX_MAX_TASKS	1024u

static uint32_t argmax_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *x = &op->t[0], *y = &op->t[1];

	if (x->dtype != ANPU_DTYPE_F32) {
		*fault_addr = x->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (y->dtype != ANPU_DTYPE_I32) {
		*fault_addr = y->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (x->ne[0] > INT32_MAX) {
		*fault_addr = x->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (y->ne[0] != 1 || y->ne[1] != x->ne[1] || y->ne[2] != x->ne[2] ||
	    y->ne[3] != x->ne[3]) {
		*fault_addr = y->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	return 0;
}

#define ARGMAX_CHUNK	64u
#define ARGMAX_LANES	8u

/*
 * The largest element of x[0..n) (n a multiple of ARGMAX_LANES) that is
 * above @floor, else @floor: independent lanes, so no loop-carried load of
 * x[best] (a 151936-wide row took 520 us one element at a time). NaN never
 * compares above.
 */
static float chunk_max(const float *x, uint32_t n, float floor)
{
	float lane[ARGMAX_LANES];
	float m = floor;

	for (unsigned int l = 0; l < ARGMAX_LANES; l++)
		lane[l] = floor;
	for (uint32_t i = 0; i < n; i += ARGMAX_LANES)
		for (unsigned int l = 0; l < ARGMAX_LANES; l++)
			lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
	for (unsigned int l = 0; l < ARGMAX_LANES; l++)
		m = lane[l] > m ? lane[l] : m;
	return m;
}

/*
 * The first index of the maximum: per chunk, its maximum if above the best
 * so far, then the chunk's first element equal to it (-0 == +0, so a chunk
 * never moves past an equal earlier maximum).
 */
static int32_t argmax_row(const float *x, uint32_t n)
{
	uint32_t i = 0, best;
	float m;

	while (i < n && isnan(x[i]))
		i++;
	if (i == n)
		return 0;
	best = i;
	m = x[i];
	for (i++; i < n && i % ARGMAX_CHUNK; i++)
		if (x[i] > m) {	/* false for NaN and for ties */
			best = i;
			m = x[i];
		}
	for (; i + ARGMAX_CHUNK <= n; i += ARGMAX_CHUNK) {
		float cm = chunk_max(x + i, ARGMAX_CHUNK, m);

		if (cm > m) {
			uint32_t j = i;

			while (!(x[j] == cm))
				j++;
			best = j;
			m = cm;
		}
	}
	for (; i < n; i++)
		if (x[i] > m) {
			best = i;
			m = x[i];
		}
	return (int32_t)best;
}

struct argmax_job {
	const struct sim_op *op;
	uint64_t rows;
	uint32_t n_tasks;
};

static void argmax_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct argmax_job *job = ctx;
	const struct sim_op *op = job->op;
	uint64_t r0 = job->rows * task / job->n_tasks;
	uint64_t r1 = job->rows * (task + 1) / job->n_tasks;

	(void)thread;
	for (uint64_t r = r0; r < r1; r++) {
		int32_t *y = (int32_t *)sim_tensor_flat_row(&op->t[1], r);

		*y = argmax_row((const float *)sim_tensor_flat_row(&op->t[0], r),
				op->t[0].ne[0]);
	}
}

static uint32_t argmax_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct argmax_job job = { .op = op, .rows = sim_tensor_nrows(&op->t[0]) };
	uint64_t n = job.rows * op->t[0].ne[0] / ARGMAX_TASK_ELEMS;

	if (n > job.rows)
		n = job.rows;
	if (n > ARGMAX_MAX_TASKS)
		n = ARGMAX_MAX_TASKS;
	job.n_tasks = n ? (uint32_t)n : 1;
	sim_pool_run(ex->pool, job.n_tasks, argmax_task, &job);
	return 0;
}

static void argmax_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t rows = sim_tensor_nrows(&op->t[0]);
	uint64_t elems = rows * op->t[0].ne[0];

	cost->macs = elems;
	cost->bytes = 4 * elems + 4 * rows;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_argmax = {
	.name = "ARGMAX",
	.min_tensors = 2,
	.max_tensors = 2,
	.out_mask = 1u << 1,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = argmax_check,
	.run = argmax_run,
	.cost = argmax_cost,
};
