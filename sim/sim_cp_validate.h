/* SPDX-License-Identifier: MIT */
/*
 * Generic validation of a snapshotted command stream (sim_cp_validate.c):
 * header, step parameters, op structure, tensors and translation.
 */
#ifndef SIM_CP_VALIDATE_H
#define SIM_CP_VALIDATE_H

#include "sim_cp.h"

/* What validation found; cause 0 means the stream is runnable. */
struct sim_cp_error {
	uint32_t cause;
	uint64_t fault_addr;
	uint32_t op_index;
};

/*
 * Snapshot and validate the job's stream into cp->ops. Returns the number of
 * ops (>= 1), or 0 with *err filled.
 */
uint32_t sim_cp_validate(struct sim_cp *cp, const struct sim_cp_job *job,
			 struct sim_cp_error *err);

/*
 * Check one tensor descriptor generically and translate it (@write: the op
 * writes it). Fills *t. Returns 0 or an ANPU_CAUSE_* with *fault_addr.
 */
uint32_t sim_cp_check_tensor(const struct sim_cp_job *job, const struct anpu_tensor *d,
			     int write, struct sim_tensor *t, uint64_t *fault_addr);

#endif /* SIM_CP_VALIDATE_H */
