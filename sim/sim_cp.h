/* SPDX-License-Identifier: MIT */
/*
 * Command processor: runs one job's command stream.
 *
 * It snapshots the stream (and the step parameters) out of device memory
 * through the MMU before looking at it, validates every op of the stream
 * (structure, each tensor generically, then the op class's own check) and
 * only then executes the ops in order. Nothing read from BAR memory is
 * trusted after its snapshot; tensors become host pointers into BAR memory
 * whose whole extent was translated with the permission the op needs.
 *
 * sim_cp_run() is synchronous and independent of the device thread, so the
 * fuzzer can drive it directly.
 */
#ifndef SIM_CP_H
#define SIM_CP_H

#include <stddef.h>
#include <stdint.h>

#include "sim_ops.h"

/* Reusable buffers: a job allocates nothing once they are large enough. */
struct sim_cp {
	uint8_t *stream;	/* snapshot of the stream */
	size_t stream_cap;
	struct sim_op *ops;	/* decoded, validated ops */
	size_t ops_cap;
	struct sim_rope_table rope;	/* ROPE's angles, reused between ops */
};

struct sim_cp_job {
	uint8_t *bar;
	uint64_t bar_size;
	uint64_t root;		/* AS_ROOT snapshot (DPA of the level-0 table) */
	uint64_t cmd_addr;
	uint32_t cmd_size;
	uint16_t flags;		/* ANPU_DESC_F_* */
	uint64_t profile_addr;
	uint32_t profile_size;
	struct sim_pool *pool;
	uint64_t (*clock_ns)(void *ctx);
	void *clock_ctx;
	/* called after each op that ran to completion (PROGRESS register) */
	void (*op_done)(void *ctx);
	void *op_done_ctx;
};

struct sim_cp_result {
	uint32_t result;	/* enum anpu_job_result */
	uint32_t cause;		/* enum anpu_job_cause */
	uint64_t fault_addr;
	uint32_t op_index;	/* op where the job stopped; op_count when done */
	uint32_t ops_done;
};

void sim_cp_init(struct sim_cp *cp);
void sim_cp_fini(struct sim_cp *cp);

/* Validate and run a job. Never fails as a function: every outcome is in *res. */
void sim_cp_run(struct sim_cp *cp, const struct sim_cp_job *job, struct sim_cp_result *res);

#endif /* SIM_CP_H */
