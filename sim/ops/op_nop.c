// SPDX-License-Identifier: MIT
/*
 * NOP: no tensors, no parameters, no effect. It still counts as an op
 * (progress counter, profiling record), which is what streams use it for.
 */
#include "../sim_ops.h"

static uint32_t nop_check(const struct sim_op *op, uint64_t *fault_addr)
{
	(void)op;
	(void)fault_addr;
	return 0;
}

static uint32_t nop_run(struct sim_exec *ex, const struct sim_op *op)
{
	(void)ex;
	(void)op;
	return 0;
}

static void nop_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	(void)op;
	cost->macs = 0;
	cost->bytes = 0;
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_nop = {
	.name = "NOP",
	.min_tensors = 0,
	.max_tensors = 0,
	.out_mask = 0,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = 0,
	.check = nop_check,
	.run = nop_run,
	.cost = nop_cost,
};
