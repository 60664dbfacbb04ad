// SPDX-License-Identifier: MIT
/*
 * TIMESTAMP: dst[w] I32 ne=(2,1,1,1).
 * Writes the device clock (ns) as one u64, little endian: element 0 holds the
 * low 32 bits, element 1 the high 32 bits. The clock is read when the op
 * runs, i.e. after every earlier op of the job has finished. A model without
 * a clock writes 0.
 * Errors: DTYPE if dst is not I32; SHAPE if ne != (2,1,1,1).
 */
#include "../sim_ops.h"

static uint32_t timestamp_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *dst = &op->t[0];

	if (dst->dtype != ANPU_DTYPE_I32) {
		*fault_addr = dst->npu_addr;
		return ANPU_CAUSE_DTYPE;
	}
	if (dst->ne[0] != 2 || dst->ne[1] != 1 || dst->ne[2] != 1 ||
	    dst->ne[3] != 1) {
		*fault_addr = dst->npu_addr;
		return ANPU_CAUSE_SHAPE;
	}
	return 0;
}

static uint32_t timestamp_run(struct sim_exec *ex, const struct sim_op *op)
{
	uint64_t ns = ex->clock_ns ? ex->clock_ns(ex->clock_ctx) : 0;
	uint8_t *p = op->t[0].data;

	/* byte by byte: little endian whatever the host is */
	for (unsigned int i = 0; i < 8; i++)
		p[i] = (uint8_t)(ns >> (8 * i));
	return 0;
}

static void timestamp_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	(void)op;
	cost->macs = 0;
	cost->bytes = 8;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_timestamp = {
	.name = "TIMESTAMP",
	.min_tensors = 1,
	.max_tensors = 1,
	.out_mask = 1u << 0,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = timestamp_check,
	.run = timestamp_run,
	.cost = timestamp_cost,
};
