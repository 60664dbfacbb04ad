// SPDX-License-Identifier: MIT
/*
 * EMBED: dst[:, i] = decode(table row ids[i]) for i < M.
 *   t0 table (any weight dtype) [dim, vocab, 1, 1]
 *   t1 ids I32 [M, 1, 1, 1]
 *   t2 dst[w] F32/F16 [dim, M, 1, 1]
 * An id outside [0, vocab) stops the op with ANPU_CAUSE_INDEX and the NPU
 * address of that id; rows before it have been written.
 */
#include <string.h>

#include "sim/kernels/quant.h"
#include "sim/sim_fp16.h"
#include "sim/sim_ops.h"

enum { EMB_TABLE, EMB_IDS, EMB_DST };

static uint32_t embed_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *tab = &op->t[EMB_TABLE];
	const struct sim_tensor *ids = &op->t[EMB_IDS];
	const struct sim_tensor *dst = &op->t[EMB_DST];
	unsigned int be = sim_weight_block_elems(tab->dtype);

	if (!be) {
		*fault_addr = tab->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (ids->dtype != ANPU_DTYPE_I32) {
		*fault_addr = ids->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (dst->dtype != ANPU_DTYPE_F32 && dst->dtype != ANPU_DTYPE_F16) {
		*fault_addr = dst->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (tab->ne[0] % be || tab->ne[2] != 1 || tab->ne[3] != 1) {
		*fault_addr = tab->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (ids->ne[1] != 1 || ids->ne[2] != 1 || ids->ne[3] != 1) {
		*fault_addr = ids->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	if (dst->ne[0] != tab->ne[0] || dst->ne[1] != ids->ne[0] ||
	    dst->ne[2] != 1 || dst->ne[3] != 1) {
		*fault_addr = dst->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	return ANPU_CAUSE_NONE;
}


/* Decode rows r0..r1-1; returns the first row with a bad id or UINT32_MAX. */
static uint32_t embed_rows(const struct sim_op *op, uint32_t r0, uint32_t r1)
{
	const struct sim_tensor *tab = &op->t[EMB_TABLE];
	const struct sim_tensor *ids = &op->t[EMB_IDS];
	const struct sim_tensor *dst = &op->t[EMB_DST];
	size_t dim = tab->ne[0];

	for (uint32_t r = r0; r < r1; r++) {
		int32_t id;

		memcpy(&id, ids->data + 4 * (size_t)r, sizeof(id));
		if (id < 0 || (uint32_t)id >= tab->ne[1])
			return r;
		const uint8_t *src = sim_tensor_row(tab, (uint32_t)id, 0, 0);
		const unsigned int lane = (uint32_t)id % ANPU_Q4_KL_GROUP;	/* Q6_KL's, Q4_0L's d */
		uint8_t *out = sim_tensor_row(dst, r, 0, 0);

		if (dst->dtype == ANPU_DTYPE_F32) {
			sim_dequant_part(tab->dtype, src, lane, dim, 0, (float *)out, dim);
			continue;
		}
		/* F16: 256 elements at a time (a whole number of any block) */
		uint16_t *h = (uint16_t *)out;
		float tmp[SIM_QK_K];

		for (size_t j = 0; j < dim; j += SIM_QK_K) {
			size_t n = dim - j < SIM_QK_K ? dim - j : SIM_QK_K;

			sim_dequant_part(tab->dtype, src, lane, dim, j, tmp, n);
			for (size_t k = 0; k < n; k++)
				h[j + k] = sim_f32_to_f16(tmp[k]);
		}
	}
	return UINT32_MAX;
}

static uint32_t embed_run(struct sim_exec *ex, const struct sim_op *op)
{
	const struct sim_tensor *ids = &op->t[EMB_IDS];
	uint32_t m = ids->ne[0];
	/* Rows are cheap: run them on the calling thread, in order. */
	uint32_t bad = embed_rows(op, 0, m);

	if (bad != UINT32_MAX) {
		ex->fault_addr = ids->npu_addr + 4ull * bad;
		return ANPU_CAUSE_INDEX;
	}
	return ANPU_CAUSE_NONE;
}

static void embed_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	const struct sim_tensor *tab = &op->t[EMB_TABLE];
	const struct sim_tensor *dst = &op->t[EMB_DST];
	uint64_t m = op->t[EMB_IDS].ne[0];

	cost->macs = (uint64_t)tab->ne[0] * m;
	cost->bytes = m * tab->row_bytes + 4 * m + m * dst->row_bytes;
	cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_embed = {
	.name = "embed",
	.min_tensors = 3,
	.max_tensors = 3,
	.out_mask = 1u << EMB_DST,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = embed_check,
	.run = embed_run,
	.cost = embed_cost,
};
