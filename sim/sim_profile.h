/* SPDX-License-Identifier: MIT */
/*
 * Profiling buffer writer (ANPU_DESC_F_PROFILE): a struct
 * anpu_hw_profile_header followed by one struct anpu_hw_profile_record per
 * op, with cycle counts from the cost profile in hw/anpu_hwif.h.
 */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include <stdint.h>

#include "sim_ops.h"

struct sim_profile {
	uint8_t *buf;		/* host address of the (validated) buffer, NULL: off */
	uint32_t capacity;	/* records that fit */
	uint32_t count;
	uint32_t dropped;
};

/* Bytes a buffer needs at least (the header). */
#define SIM_PROFILE_MIN_SIZE	sizeof(struct anpu_hw_profile_header)

/*
 * cycles = ANPU_COST_OP_OVERHEAD_CYCLES + max(ceil(macs / macs_per_cycle),
 *	    ceil(bytes / ANPU_COST_DRAM_BYTES_PER_CYCLE)).
 * A macs_per_cycle of 0 counts as ANPU_COST_MACS_PER_CYCLE_F32.
 */
uint64_t sim_profile_cycles(const struct sim_op_cost *cost);

/* Start a job's profile in @buf (@size >= SIM_PROFILE_MIN_SIZE): writes the header. */
void sim_profile_begin(struct sim_profile *prof, uint8_t *buf, uint32_t size);
/* Record op @op that ran from @start_ns to @end_ns (no-op when profiling is off). */
void sim_profile_record(struct sim_profile *prof, const struct sim_op *op,
			uint64_t start_ns, uint64_t end_ns);
/* Publish count and dropped in the header. */
void sim_profile_end(struct sim_profile *prof);

#endif /* SIM_PROFILE_H */
