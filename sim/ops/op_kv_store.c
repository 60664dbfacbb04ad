// SPDX-License-Identifier: MIT
/*
 * KV_STORE: src F32 [kv_dim, M, 1, 1], cache[w] F16/F32 [kv_dim, ctx, 1, 1].
 *
 * cache row (pos + m) = src row m for m in [0, M), converted to the cache
 * dtype: F32 copies bits, F16 rounds to nearest even (overflow to inf, NaN
 * stays a quiet NaN; sim_fp16.h). Other cache rows are untouched. src and
 * cache must not overlap (undefined values; if they do, one task, rows moved
 * with memmove: the model stays defined host code).
 * Errors: DTYPE if src is not F32 or the cache not F16/F32; SHAPE if either
 * has ne[2] or ne[3] != 1 or their row lengths differ; STEP_PARAM (fault
 * address: the cache) if pos + M > ctx.
 */
#include <string.h>

#include "../kernels/kernels.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

#define KV_STORE_TASK_ELEMS	16384u

static uint32_t kv_store_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *src = &op->t[0], *cache = &op->t[1];

	if (src->dtype != ANPU_DTYPE_F32) {
		*fault_addr = src->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (cache->dtype != ANPU_DTYPE_F32 && cache->dtype != ANPU_DTYPE_F16) {
		*fault_addr = cache->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (src->ne[2] != 1 || src->ne[3] != 1) {
		*fault_addr = src->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (cache->ne[2] != 1 || cache->ne[3] != 1 || cache->ne[0] != src->ne[0]) {
		*fault_addr = cache->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if ((uint64_t)op->pos + src->ne[1] > cache->ne[1]) {
		*fault_addr = cache->npu_addr;
		return ANPU_CAUSE_STEP_PARAM;
	}
	return 0;
}

struct kv_store_job {
	const struct sim_op *op;
	const struct sim_kernels *kern;	/* f32_to_f16 */
	uint32_t n_tasks;
};

static void kv_store_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct kv_store_job *job = ctx;
	const struct sim_op *op = job->op;
	const struct sim_tensor *src = &op->t[0], *cache = &op->t[1];
	uint32_t rows = src->ne[1], n = src->ne[0];
	uint32_t r0 = (uint32_t)((uint64_t)rows * task / job->n_tasks);
	uint32_t r1 = (uint32_t)((uint64_t)rows * (task + 1) / job->n_tasks);

	(void)thread;
	for (uint32_t m = r0; m < r1; m++) {
		const float *s = (const float *)sim_tensor_row(src, m, 0, 0);
		uint8_t *d = sim_tensor_row(cache, op->pos + m, 0, 0);

		if (cache->dtype == ANPU_DTYPE_F32) {
			memmove(d, s, 4 * (size_t)n);
		} else {
			job->kern->f32_to_f16((uint16_t *)(void *)d, s, n);
		}
	}
}

static uint32_t kv_store_run(struct sim_exec *ex, const struct sim_op *op)
{
	struct kv_store_job job = { .op = op, .kern = sim_kernels_get() };
	uint64_t rows = op->t[0].ne[1];
	uint64_t n = rows * op->t[0].ne[0] / KV_STORE_TASK_ELEMS;

	if (n > rows)
		n = rows;
	if (sim_tensors_overlap(&op->t[0], &op->t[1]))
		n = 1;
	job.n_tasks = n ? (uint32_t)n : 1;
	sim_pool_run(ex->pool, job.n_tasks, kv_store_task, &job);
	return 0;
}

static void kv_store_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	uint64_t elems = (uint64_t)op->t[0].ne[0] * op->t[0].ne[1];
	unsigned int out_size = op->t[1].dtype == ANPU_DTYPE_F16 ? 2 : 4;

	cost->macs = elems;
	cost->bytes = elems * (4 + out_size);
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_kv_store = {
	.name = "KV_STORE",
	.min_tensors = 2,
	.max_tensors = 2,
	.out_mask = 1u << 1,
	.params_bytes = sizeof(struct anpu_params_kv_store),
	.pos_offset = offsetof(struct anpu_params_kv_store, pos),
	.valid_flags = 0,
	.check = kv_store_check,
	.run = kv_store_run,
	.cost = kv_store_cost,
};
