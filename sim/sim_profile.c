// SPDX-License-Identifier: MIT
#include "sim_profile.h"

#include <string.h>

static uint64_t div_ceil(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

uint64_t sim_profile_cycles(const struct sim_op_cost *cost)
{
	uint64_t mpc = cost->macs_per_cycle ? cost->macs_per_cycle : ANPU_COST_MACS_PER_CYCLE_F32;
	uint64_t compute = div_ceil(cost->macs, mpc);
	uint64_t memory = div_ceil(cost->bytes, ANPU_COST_DRAM_BYTES_PER_CYCLE);

	return ANPU_COST_OP_OVERHEAD_CYCLES + (compute > memory ? compute : memory);
}

void sim_profile_begin(struct sim_profile *prof, uint8_t *buf, uint32_t size)
{
	struct anpu_hw_profile_header h = {
		.magic = ANPU_PROFILE_MAGIC,
		.version = ANPU_PROFILE_VERSION,
		.capacity = (uint32_t)((size - sizeof(h)) / sizeof(struct anpu_hw_profile_record)),
		.clock_hz_div1k = (uint32_t)(ANPU_COST_CLOCK_HZ / 1000),
	};

	prof->buf = buf;
	prof->capacity = h.capacity;
	prof->count = 0;
	prof->dropped = 0;
	memcpy(buf, &h, sizeof(h));
}

/* The dtype a record reports: the weight for EMBED/MATMUL, else the first input. */
static uint16_t record_dtype(const struct sim_op *op)
{
	if (op->opcode == ANPU_OP_MATMUL && op->n_tensors > 1)
		return (uint16_t)op->t[1].dtype;
	return op->n_tensors ? (uint16_t)op->t[0].dtype : 0;
}

void sim_profile_record(struct sim_profile *prof, const struct sim_op *op,
			uint64_t start_ns, uint64_t end_ns)
{
	const struct sim_op_class *cls = sim_op_classes[op->opcode];
	struct sim_op_cost cost = { 0, 0, ANPU_COST_MACS_PER_CYCLE_F32 };
	struct anpu_hw_profile_record r;

	if (!prof->buf)
		return;
	if (prof->count >= prof->capacity) {
		prof->dropped++;
		return;
	}
	if (cls->cost)
		cls->cost(op, &cost);
	r = (struct anpu_hw_profile_record){
		.op_index = op->index,
		.opcode = op->opcode,
		.dtype = record_dtype(op),
		.start_ns = start_ns,
		.end_ns = end_ns,
		.cycles = sim_profile_cycles(&cost),
		.bytes = cost.bytes,
		.macs = cost.macs,
	};
	memcpy(prof->buf + sizeof(struct anpu_hw_profile_header) +
	       (size_t)prof->count * sizeof(r), &r, sizeof(r));
	prof->count++;
}

void sim_profile_end(struct sim_profile *prof)
{
	struct anpu_hw_profile_header *h = (struct anpu_hw_profile_header *)(void *)prof->buf;

	if (!prof->buf)
		return;
	memcpy(&h->count, &prof->count, sizeof(prof->count));
	memcpy(&h->dropped, &prof->dropped, sizeof(prof->dropped));
}
