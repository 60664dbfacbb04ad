// SPDX-License-Identifier: MIT
/*
 * Job engine: ring doorbells, priority arbitration, descriptor snapshot and
 * validation, fault injection, status records and completion.
 */
#include "sim_device.h"

#include <string.h>

#include "sim_mmu.h"
#include "sim_pool.h"
#include "sim_regs.h"

#define DESC_SIZE	sizeof(struct anpu_hw_job_desc)

static uint32_t qreg(unsigned int q, uint32_t reg)
{
	return ANPU_QREG(q, reg);
}

static void set_state(struct anpusim *sim, unsigned int q, uint32_t state)
{
	sim_reg_write32(sim->bar, qreg(q, ANPU_QREG_STATE), state);
}

static bool ring_config_ok(const struct anpusim *sim, uint64_t base, uint32_t entries)
{
	return entries >= 2 && entries <= 4096 && (entries & (entries - 1)) == 0 &&
	       (base & 63) == 0 && sim_mmu_dpa_ok(sim->bar_size, base, (uint64_t)entries * DESC_SIZE);
}

void sim_device_queue_doorbell(struct anpusim *sim, unsigned int q)
{
	struct sim_queue *sq = &sim->q[q];
	uint64_t base;
	uint32_t entries, tail;

	/* a powered-down device drops queue doorbells; an errored queue waits for a reset */
	if (!sim->powered || sq->error)
		return;
	base = sim_reg_read64(sim->bar, qreg(q, ANPU_QREG_RING_BASE));
	entries = sim_reg_read32(sim->bar, qreg(q, ANPU_QREG_RING_ENTRIES));
	tail = sim_reg_read32(sim->bar, qreg(q, ANPU_QREG_RING_TAIL));
	if (!ring_config_ok(sim, base, entries) || tail - sq->head > entries) {
		sq->configured = false;
		sq->error = true;
		set_state(sim, q, ANPU_QSTATE_ERROR);
		sim_device_error(sim, ANPU_DEVERR_RING_CONFIG);
		return;
	}
	sq->ring_base = base;
	sq->entries = entries;
	sq->tail = tail;
	sq->configured = true;
}

static bool engine_hung(const struct anpusim *sim)
{
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		if (sim->q[q].hung.active)
			return true;
	return false;
}

/* IRQ_JOB for the job that just moved JOBS_FINISHED (docs/hardware.md 4.1). */
static bool job_irq_wanted(const struct anpusim *sim)
{
	if (!(sim->irq_config & ANPU_IRQ_CFG_JOB_EVENT))
		return true;
	return sim_reg_read32(sim->bar, ANPU_REG_IRQ_JOB_EVENT) == sim->jobs_finished - 1;
}

/* Status record, counters, queue state, COMPLETED_SEQ, then the interrupts. */
static void complete(struct anpusim *sim, unsigned int q, uint64_t seqno, uint64_t status_addr,
		     const struct anpu_hw_job_status *st, bool ok)
{
	struct sim_queue *sq = &sim->q[q];

	if (st)
		memcpy(sim->bar + status_addr, st, sizeof(*st));
	sq->jobs_done++;
	if (!ok)
		sq->errors++;
	sim_reg_write32(sim->bar, qreg(q, ANPU_QREG_ERRORS), sq->errors);
	sim_reg_write32(sim->bar, qreg(q, ANPU_QREG_JOBS_DONE), sq->jobs_done);
	/* a driver that sees the new COMPLETED_SEQ also sees the queue settled */
	sim_reg_write64(sim->bar, qreg(q, ANPU_QREG_CURRENT_SEQ), 0);
	sq->head++;
	sim_reg_write32(sim->bar, qreg(q, ANPU_QREG_RING_HEAD), sq->head);
	set_state(sim, q, ANPU_QSTATE_IDLE);
	sim_reg_publish64(sim->bar, qreg(q, ANPU_QREG_COMPLETED_SEQ), seqno);
	sim->jobs_finished++;
	sim_reg_publish32(sim->bar, ANPU_REG_JOBS_FINISHED, sim->jobs_finished);
	/* pairs with the driver's barrier between writing IRQ_JOB_EVENT and re-reading */
	atomic_thread_fence(memory_order_seq_cst);
	if (job_irq_wanted(sim))
		sim_device_raise(sim, ANPU_IRQ_JOB);
	if (!ok)
		sim_device_raise(sim, ANPU_IRQ_ERROR);
}

void sim_device_abort_hung(struct anpusim *sim, unsigned int q, uint32_t cause)
{
	struct sim_hung_job *h = &sim->q[q].hung;
	struct anpu_hw_job_status st = {
		.seqno = h->seqno,
		.result = ANPU_RESULT_ABORTED,
		.cause = cause,
		.start_ns = h->start_ns,
		.end_ns = sim_clock_now(&sim->clock),
		.queue = q,
	};

	if (!h->active)
		return;
	h->active = false;
	complete(sim, q, st.seqno, h->status_addr, &st, false);
}

/* Is fault injection action @action armed on queue @q? Consumes a one-shot. */
bool sim_device_fi_fire(struct anpusim *sim, unsigned int q, uint32_t action)
{
	uint32_t mode = sim_reg_read32(sim->bar, qreg(q, ANPU_QREG_FI_MODE));
	uint32_t seq = sim_reg_read32(sim->bar, qreg(q, ANPU_QREG_FI_SEQ));

	if ((mode & ANPU_FI_ACTION_MASK) != action)
		return false;
	if (mode & ANPU_FI_STICKY)
		return true;
	if (seq == sim->q[q].fi_ack)
		return false;
	sim->q[q].fi_ack = seq;
	sim_reg_write32(sim->bar, qreg(q, ANPU_QREG_FI_ACK), seq);
	return true;
}

static uint32_t check_desc(const struct anpu_hw_job_desc *d)
{
	if (d->seqno == 0 || (d->flags & ~ANPU_DESC_F_ALL) || d->reserved0 ||
	    d->reserved[0] || d->reserved[1] || (d->cmd_addr & 7) ||
	    d->cmd_size < sizeof(struct anpu_stream_header))
		return ANPU_CAUSE_DESCRIPTOR;
	if (d->asid >= ANPU_HW_NUM_AS)
		return ANPU_CAUSE_ADDRESS_SPACE;
	return 0;
}

struct progress_ctx {
	struct anpusim *sim;
	unsigned int q;
};

/* PROGRESS advances after every op that ran to completion (hang detection). */
static void progress_reg(void *ctx)
{
	struct progress_ctx *pc = ctx;

	struct sim_queue *sq = &pc->sim->q[pc->q];

	sq->progress++;
	sim_reg_write32(pc->sim->bar, qreg(pc->q, ANPU_QREG_PROGRESS), sq->progress);
}

/* Validate the descriptor and run the stream; fills everything of *st but times/queue. */
static void execute(struct anpusim *sim, unsigned int q, const struct anpu_hw_job_desc *d,
		    struct anpu_hw_job_status *st)
{
	struct progress_ctx pc = { sim, q };
	struct sim_cp_result res;
	struct sim_cp_job job;
	uint64_t root = 0;

	if (sim_device_fi_fire(sim, q, ANPU_FI_FAULT)) {
		st->result = ANPU_RESULT_FAULT;
		st->cause = ANPU_CAUSE_INJECTED;
		return;
	}
	st->cause = check_desc(d);
	if (!st->cause) {
		root = sim_reg_read64(sim->bar, ANPU_REG_AS_ROOT(d->asid));
		if (!root)
			st->cause = ANPU_CAUSE_ADDRESS_SPACE;
	}
	if (st->cause) {
		st->result = ANPU_RESULT_INVALID;
		return;
	}
	job = (struct sim_cp_job){
		.bar = sim->bar,
		.bar_size = sim->bar_size,
		.root = root,
		.cmd_addr = d->cmd_addr,
		.cmd_size = d->cmd_size,
		.flags = d->flags,
		.profile_addr = d->profile_addr,
		.profile_size = d->profile_size,
		.pool = sim->pool,
		.clock_ns = sim_clock_now_cb,
		.clock_ctx = &sim->clock,
		.op_done = progress_reg,
		.op_done_ctx = &pc,
	};
	sim_pool_hold(sim->pool, true);
	sim_cp_run(&sim->cp, &job, &res);
	sim_pool_hold(sim->pool, false);
	st->result = res.result;
	st->cause = res.cause;
	st->fault_addr = res.fault_addr;
	st->op_index = res.op_index;
	st->ops_done = res.ops_done;
}

static void run_job(struct anpusim *sim, unsigned int q)
{
	struct sim_queue *sq = &sim->q[q];
	struct anpu_hw_job_desc d;
	struct anpu_hw_job_status st = { 0 };

	/* snapshot the descriptor: nothing below reads the ring again */
	memcpy(&d, sim->bar + sq->ring_base + (uint64_t)(sq->head & (sq->entries - 1)) * DESC_SIZE,
	       sizeof(d));
	st.seqno = d.seqno;
	st.queue = q;
	st.start_ns = sim_clock_now(&sim->clock);
	sim_reg_write64(sim->bar, qreg(q, ANPU_QREG_CURRENT_SEQ), d.seqno);

	if ((d.status_addr & 63) || !sim_mmu_dpa_ok(sim->bar_size, d.status_addr, sizeof(st))) {
		/* nowhere to report: count it on the device and complete the job */
		sim_device_error(sim, ANPU_DEVERR_STATUS_ADDR);
		complete(sim, q, d.seqno, 0, NULL, false);
		return;
	}
	if (sim_device_fi_fire(sim, q, ANPU_FI_HANG)) {
		sq->hung = (struct sim_hung_job){
			.active = true,
			.seqno = d.seqno,
			.status_addr = d.status_addr,
			.start_ns = st.start_ns,
		};
		set_state(sim, q, ANPU_QSTATE_HUNG);
		return;
	}
	set_state(sim, q, ANPU_QSTATE_RUNNING);
	execute(sim, q, &d, &st);
	st.end_ns = sim_clock_now(&sim->clock);
	complete(sim, q, d.seqno, d.status_addr, &st, st.result == ANPU_RESULT_OK);
}

bool sim_device_run_next(struct anpusim *sim)
{
	if (!sim->powered || engine_hung(sim))
		return false;
	for (int q = ANPU_HW_NUM_QUEUES - 1; q >= 0; q--) {
		struct sim_queue *sq = &sim->q[q];

		if (sq->configured && !sq->error && sq->head != sq->tail) {
			run_job(sim, (unsigned int)q);
			return true;
		}
	}
	return false;
}
