// SPDX-License-Identifier: MIT
/* Command processor: validate everything, then run the ops in order. */
#include "sim_cp.h"

#include <stdlib.h>
#include <string.h>

#include "sim_cp_validate.h"
#include "sim_mmu.h"
#include "sim_profile.h"

void sim_cp_init(struct sim_cp *cp)
{
	memset(cp, 0, sizeof(*cp));
}

void sim_cp_fini(struct sim_cp *cp)
{
	free(cp->stream);
	free(cp->ops);
	free(cp->rope.cs);
	free(cp->rope.freq);
	memset(cp, 0, sizeof(*cp));
}

/* Translate the profiling buffer (writable by the job). Returns 0 or PROFILE_BUFFER. */
static uint32_t profile_buffer(const struct sim_cp_job *job, uint8_t **host, uint64_t *fault_addr)
{
	struct sim_mmu mmu = { .bar = job->bar, .bar_size = job->bar_size, .root = job->root };
	uint64_t dpa;

	*fault_addr = job->profile_addr;
	if ((job->profile_addr & 7) || job->profile_size < SIM_PROFILE_MIN_SIZE)
		return ANPU_CAUSE_PROFILE_BUFFER;
	if (sim_mmu_translate(&mmu, job->profile_addr, job->profile_size, true, &dpa, fault_addr))
		return ANPU_CAUSE_PROFILE_BUFFER;
	*host = job->bar + dpa;
	return 0;
}

static uint64_t job_now(const struct sim_cp_job *job)
{
	return job->clock_ns ? job->clock_ns(job->clock_ctx) : 0;
}

/*
 * A translation failure is an MMU fault (RESULT_FAULT, so a driver can mark
 * the context guilty of touching memory it does not own) even though the
 * model finds it while validating; every other validation cause means the
 * job was malformed (RESULT_INVALID). Either way no op ran.
 */
static uint32_t validation_result(uint32_t cause)
{
	switch (cause) {
	case ANPU_CAUSE_UNMAPPED:
	case ANPU_CAUSE_PERMISSION:
	case ANPU_CAUSE_STRADDLE:
	case ANPU_CAUSE_PAGE_TABLE:
		return ANPU_RESULT_FAULT;
	default:
		return ANPU_RESULT_INVALID;
	}
}

void sim_cp_run(struct sim_cp *cp, const struct sim_cp_job *job, struct sim_cp_result *res)
{
	struct sim_profile prof = { 0 };
	struct sim_cp_error err;
	struct sim_exec ex = {
		.pool = job->pool,
		.rope = &cp->rope,
		.clock_ns = job->clock_ns,
		.clock_ctx = job->clock_ctx,
	};
	uint8_t *prof_buf = NULL;
	uint32_t n;

	memset(res, 0, sizeof(*res));
	if (job->flags & ANPU_DESC_F_PROFILE) {
		uint64_t fault_addr;

		res->cause = profile_buffer(job, &prof_buf, &fault_addr);
		if (res->cause) {
			res->result = ANPU_RESULT_INVALID;
			res->fault_addr = fault_addr;
			return;
		}
	}
	n = sim_cp_validate(cp, job, &err);
	if (!n) {
		res->result = validation_result(err.cause);
		res->cause = err.cause;
		res->fault_addr = err.fault_addr;
		res->op_index = err.op_index;
		return;
	}
	if (prof_buf)
		sim_profile_begin(&prof, prof_buf, job->profile_size);

	for (uint32_t i = 0; i < n; i++) {
		const struct sim_op *op = &cp->ops[i];
		uint64_t start = prof_buf ? job_now(job) : 0;
		uint32_t cause;

		ex.fault_addr = 0;
		cause = sim_op_classes[op->opcode]->run(&ex, op);
		if (prof_buf)
			sim_profile_record(&prof, op, start, job_now(job));
		if (cause) {
			res->result = ANPU_RESULT_FAULT;
			res->cause = cause;
			res->fault_addr = ex.fault_addr;
			res->op_index = i;
			res->ops_done = i;
			sim_profile_end(&prof);
			return;
		}
		if (job->op_done)
			job->op_done(job->op_done_ctx);
	}
	sim_profile_end(&prof);
	res->result = ANPU_RESULT_OK;
	res->op_index = n;
	res->ops_done = n;
}
