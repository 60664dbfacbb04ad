// SPDX-License-Identifier: MIT
/*
 * Device contract of the model as a driver sees it: priority arbitration,
 * progress, clock, power, resets, fault injection, control commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/simdev.h"

#define AS		1
#define VA_NOP1		0x100000ull	/* stream: 1 NOP */
#define VA_NOP5		0x200000ull	/* stream: 5 NOPs */
#define VA_TS		0x300000ull	/* stream: TIMESTAMP into VA_TS_OUT */
#define VA_TS_OUT	0x400000ull
#define TIMEOUT_MS	5000

struct fx {
	struct simdev d;
	struct anpu_hw_job_desc nop1, nop5, ts;
	struct simdev_buf ts_out;
};

static void upload_nops(struct fx *f, uint64_t va, unsigned int n, struct anpu_hw_job_desc *desc)
{
	struct simdev_stream s;

	simdev_stream_init(&s);
	for (unsigned int i = 0; i < n; i++)
		simdev_stream_op(&s, ANPU_OP_NOP, 0, NULL, 0, NULL, 0);
	assert_true(simdev_stream_finish(&s, 0, 0) > 0);
	memset(desc, 0, sizeof(*desc));
	assert_int_equal(simdev_stream_upload(&f->d, AS, va, &s, desc), 0);
	simdev_stream_free(&s);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct simdev_stream s;
	struct anpu_tensor t;

	if (!f || simdev_open(&f->d, ANPU_BAR_MIN_SIZE, 1) || simdev_as_create(&f->d, AS))
		return -1;
	upload_nops(f, VA_NOP1, 1, &f->nop1);
	upload_nops(f, VA_NOP5, 5, &f->nop5);
	if (simdev_buf(&f->d, AS, VA_TS_OUT, ANPU_PAGE_SIZE, true, &f->ts_out))
		return -1;
	t = simdev_tensor(VA_TS_OUT, ANPU_DTYPE_I32, 2, 1, 1, 1);
	simdev_stream_init(&s);
	simdev_stream_op(&s, ANPU_OP_TIMESTAMP, 0, NULL, 0, &t, 1);
	simdev_stream_finish(&s, 0, 0);
	if (simdev_stream_upload(&f->d, AS, VA_TS, &s, &f->ts))
		return -1;
	simdev_stream_free(&s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	simdev_close(&f->d);
	free(f);
	return 0;
}

static uint32_t qrd32(struct fx *f, unsigned int q, uint32_t reg)
{
	return simdev_rd32(&f->d, ANPU_QREG(q, reg));
}

static uint64_t qrd64(struct fx *f, unsigned int q, uint32_t reg)
{
	return simdev_rd64(&f->d, ANPU_QREG(q, reg));
}

/* Poll until queue @q is in @state (the hang is observed through registers). */
static void wait_state(struct fx *f, unsigned int q, uint32_t state)
{
	for (int i = 0; i < 5000 && qrd32(f, q, ANPU_QREG_STATE) != state; i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	assert_int_equal(qrd32(f, q, ANPU_QREG_STATE), state);
}

static void hang_a_job(struct fx *f, unsigned int q, uint32_t mode, struct simdev_job *job)
{
	simdev_fi_arm(&f->d, q, ANPU_FI_HANG | mode);
	assert_int_equal(simdev_submit(&f->d, q, &f->nop1, job), 0);
	wait_state(f, q, ANPU_QSTATE_HUNG);
	assert_int_equal(qrd64(f, q, ANPU_QREG_CURRENT_SEQ), job->seqno);
}

static void disarm(struct fx *f, unsigned int q)
{
	simdev_wr32(&f->d, ANPU_QREG(q, ANPU_QREG_FI_MODE), ANPU_FI_NONE);
}

static void test_registers_identify_the_device(void **state)
{
	struct fx *f = *state;

	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_ID), ANPU_HW_ID_MAGIC);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_VERSION), ANPU_HW_VERSION);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_NUM_QUEUES), ANPU_HW_NUM_QUEUES);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_NUM_AS), ANPU_HW_NUM_AS);
	assert_int_equal(simdev_rd64(&f->d, ANPU_REG_DEVMEM_BASE), ANPU_DEVMEM_BASE);
	assert_int_equal(simdev_rd64(&f->d, ANPU_REG_DEVMEM_SIZE),
			 ANPU_BAR_MIN_SIZE - ANPU_DEVMEM_BASE);
	assert_true(simdev_rd32(&f->d, ANPU_REG_CAPS) & ANPU_CAP_LARGE_PAGES);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_MODEL_THREADS), 1);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_POWER_STATE), ANPU_POWER_ON);
}

static void test_job_completes_with_status_record_and_counters(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;
	uint32_t done = qrd32(f, 1, ANPU_QREG_JOBS_DONE);

	assert_int_equal(simdev_run(&f->d, 1, &f->nop5, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	assert_int_equal(st.op_index, 5);
	assert_int_equal(st.ops_done, 5);
	assert_int_equal(st.queue, 1);
	assert_int_equal(qrd64(f, 1, ANPU_QREG_COMPLETED_SEQ), st.seqno);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_JOBS_DONE), done + 1);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_RING_HEAD), f->d.q[1].tail);
	assert_int_equal(qrd64(f, 1, ANPU_QREG_CURRENT_SEQ), 0);
}

static void test_progress_counter_advances_per_op(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;
	uint32_t before = qrd32(f, 2, ANPU_QREG_PROGRESS);

	assert_int_equal(simdev_run(&f->d, 2, &f->nop5, &st), 0);
	assert_int_equal(qrd32(f, 2, ANPU_QREG_PROGRESS), before + 5);
	assert_int_equal(simdev_run(&f->d, 2, &f->nop1, &st), 0);
	assert_int_equal(qrd32(f, 2, ANPU_QREG_PROGRESS), before + 6);
}

static void test_realtime_jobs_run_before_low_ones_queued_meanwhile(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung, low[3], rt[3];
	struct anpu_hw_job_status st;
	uint64_t last_rt_start = 0, first_low_start = UINT64_MAX;

	/* a hung job on the normal queue holds the engine */
	hang_a_job(f, 1, 0, &hung);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(simdev_submit(&f->d, 0, &f->nop1, &low[i]), 0);
		assert_int_equal(simdev_submit(&f->d, 3, &f->nop1, &rt[i]), 0);
	}
	assert_int_equal(simdev_wait(&f->d, &rt[0], 50), -ETIMEDOUT);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS), ANPU_CTRL_R_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(simdev_wait(&f->d, &low[i], TIMEOUT_MS), 0);
		assert_int_equal(simdev_wait(&f->d, &rt[i], TIMEOUT_MS), 0);
		simdev_status(&f->d, &rt[i], &st);
		assert_int_equal(st.result, ANPU_RESULT_OK);
		if (st.start_ns > last_rt_start)
			last_rt_start = st.start_ns;
		simdev_status(&f->d, &low[i], &st);
		assert_int_equal(st.result, ANPU_RESULT_OK);
		if (st.start_ns < first_low_start)
			first_low_start = st.start_ns;
	}
	assert_true(last_rt_start < first_low_start);
}

static void test_device_clock_is_monotonic_and_dates_jobs(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;
	uint64_t t0, t1, stamp;

	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_LATCH_CLOCK, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	t0 = simdev_rd64(&f->d, ANPU_REG_CLOCK);
	assert_int_equal(simdev_run(&f->d, 1, &f->ts, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_LATCH_CLOCK, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	t1 = simdev_rd64(&f->d, ANPU_REG_CLOCK);
	memcpy(&stamp, f->ts_out.host, sizeof(stamp));
	assert_true(t0 > 0);
	assert_true(t0 <= st.start_ns);
	assert_true(st.start_ns <= stamp);
	assert_true(stamp <= st.end_ns);
	assert_true(st.end_ns <= t1);
}

static void test_powered_down_device_ignores_doorbells_until_power_up(void **state)
{
	struct fx *f = *state;
	struct simdev_job job;
	struct anpu_hw_job_status st;

	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_POWER_DOWN, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_POWER_STATE), ANPU_POWER_OFF);
	assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
	assert_int_equal(simdev_wait(&f->d, &job, 100), -ETIMEDOUT);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_POWER_UP, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	/* the dropped doorbell is not remembered */
	assert_int_equal(simdev_wait(&f->d, &job, 100), -ETIMEDOUT);
	simdev_doorbell(&f->d, ANPU_DB_QUEUE(1));
	assert_int_equal(simdev_wait(&f->d, &job, TIMEOUT_MS), 0);
	simdev_status(&f->d, &job, &st);
	assert_int_equal(st.result, ANPU_RESULT_OK);
}

static void test_power_down_is_busy_while_a_job_is_hung(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung;

	hang_a_job(f, 2, 0, &hung);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_POWER_DOWN, 0, TIMEOUT_MS), ANPU_CTRL_R_BUSY);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_POWER_STATE), ANPU_POWER_ON);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 2, TIMEOUT_MS), ANPU_CTRL_R_OK);
}

static void test_queue_reset_aborts_running_job_and_drops_queued_ones(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung, queued[2], next;
	struct anpu_hw_job_status st;
	uint32_t errors = qrd32(f, 1, ANPU_QREG_ERRORS);

	hang_a_job(f, 1, 0, &hung);
	for (int i = 0; i < 2; i++)
		assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &queued[i]), 0);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS), ANPU_CTRL_R_OK);
	simdev_status(&f->d, &hung, &st);
	assert_int_equal(st.seqno, hung.seqno);
	assert_int_equal(st.result, ANPU_RESULT_ABORTED);
	assert_int_equal(st.cause, ANPU_CAUSE_QUEUE_RESET);
	assert_int_equal(qrd64(f, 1, ANPU_QREG_COMPLETED_SEQ), hung.seqno);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_ERRORS), errors + 1);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_RING_HEAD), f->d.q[1].tail);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
	assert_int_equal(qrd64(f, 1, ANPU_QREG_CURRENT_SEQ), 0);
	/* the dropped jobs never ran */
	for (int i = 0; i < 2; i++) {
		simdev_status(&f->d, &queued[i], &st);
		assert_int_equal(st.seqno, 0);
	}
	/* the queue works afterwards */
	assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &next), 0);
	assert_int_equal(simdev_wait(&f->d, &next, TIMEOUT_MS), 0);
	simdev_status(&f->d, &next, &st);
	assert_int_equal(st.result, ANPU_RESULT_OK);
}

static void test_device_reset_aborts_and_clears_registers(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung, job;
	struct anpu_hw_job_status st;
	uint32_t resets = simdev_rd32(&f->d, ANPU_REG_RESETS);

	assert_int_equal(simdev_run(&f->d, 0, &f->nop5, &st), 0);
	hang_a_job(f, 2, 0, &hung);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_DEVICE, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	simdev_status(&f->d, &hung, &st);
	assert_int_equal(st.result, ANPU_RESULT_ABORTED);
	assert_int_equal(st.cause, ANPU_CAUSE_DEVICE_RESET);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		assert_int_equal(qrd32(f, q, ANPU_QREG_RING_HEAD), 0);
		assert_int_equal(qrd64(f, q, ANPU_QREG_COMPLETED_SEQ), 0);
		assert_int_equal(qrd64(f, q, ANPU_QREG_CURRENT_SEQ), 0);
		assert_int_equal(qrd32(f, q, ANPU_QREG_PROGRESS), 0);
		assert_int_equal(qrd32(f, q, ANPU_QREG_ERRORS), 0);
		assert_int_equal(qrd32(f, q, ANPU_QREG_JOBS_DONE), 0);
		assert_int_equal(qrd32(f, q, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
		assert_int_equal(qrd32(f, q, ANPU_QREG_FI_ACK), qrd32(f, q, ANPU_QREG_FI_SEQ));
	}
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_POWER_STATE), ANPU_POWER_ON);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_RESETS), resets + 1);
	/* the driver re-initialises its rings, then jobs run again */
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		f->d.q[q].next_seqno = 1;
		assert_int_equal(simdev_queue_init(&f->d, q, SIMDEV_RING_ENTRIES), 0);
	}
	assert_int_equal(simdev_submit(&f->d, 2, &f->nop1, &job), 0);
	assert_int_equal(simdev_wait(&f->d, &job, TIMEOUT_MS), 0);
	simdev_status(&f->d, &job, &st);
	assert_int_equal(st.result, ANPU_RESULT_OK);
}

static void test_one_shot_fault_fails_only_the_next_job(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;

	simdev_fi_arm(&f->d, 1, ANPU_FI_FAULT);
	assert_int_equal(simdev_run(&f->d, 1, &f->nop5, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_FAULT);
	assert_int_equal(st.cause, ANPU_CAUSE_INJECTED);
	assert_int_equal(st.op_index, 0);
	assert_int_equal(st.ops_done, 0);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_FI_ACK), qrd32(f, 1, ANPU_QREG_FI_SEQ));
	assert_int_equal(simdev_run(&f->d, 1, &f->nop5, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	disarm(f, 1);
}

static void test_sticky_fault_fails_every_job(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;

	simdev_fi_arm(&f->d, 1, ANPU_FI_FAULT | ANPU_FI_STICKY);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(simdev_run(&f->d, 1, &f->nop1, &st), 0);
		assert_int_equal(st.result, ANPU_RESULT_FAULT);
		assert_int_equal(st.cause, ANPU_CAUSE_INJECTED);
	}
	disarm(f, 1);
	assert_int_equal(simdev_run(&f->d, 1, &f->nop1, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_OK);
}

static void test_one_shot_hang_hangs_only_the_next_job(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung;
	struct anpu_hw_job_status st;
	uint32_t progress = qrd32(f, 1, ANPU_QREG_PROGRESS);

	hang_a_job(f, 1, 0, &hung);
	assert_int_equal(simdev_wait(&f->d, &hung, 50), -ETIMEDOUT);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_PROGRESS), progress);
	/* control commands are still served while the engine is hung */
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_NOP, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_run(&f->d, 1, &f->nop1, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_OK);
}

static void test_sticky_hang_hangs_the_job_after_a_reset_too(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung;
	struct anpu_hw_job_status st;

	hang_a_job(f, 1, ANPU_FI_STICKY, &hung);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &hung), 0);
	wait_state(f, 1, ANPU_QSTATE_HUNG);
	disarm(f, 1);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_run(&f->d, 1, &f->nop1, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_OK);
}

static void test_one_shot_fail_reset_fails_one_reset_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct simdev_job hung;
	struct anpu_hw_job_status st;

	hang_a_job(f, 1, 0, &hung);
	simdev_fi_arm(&f->d, 1, ANPU_FI_FAIL_RESET);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS),
			 ANPU_CTRL_R_FAILED);
	assert_int_equal(qrd32(f, 1, ANPU_QREG_STATE), ANPU_QSTATE_HUNG);
	assert_int_equal(qrd64(f, 1, ANPU_QREG_CURRENT_SEQ), hung.seqno);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 1, TIMEOUT_MS), ANPU_CTRL_R_OK);
	simdev_status(&f->d, &hung, &st);
	assert_int_equal(st.result, ANPU_RESULT_ABORTED);
	disarm(f, 1);
}

static void test_sticky_fail_reset_fails_every_reset(void **state)
{
	struct fx *f = *state;

	simdev_fi_arm(&f->d, 3, ANPU_FI_FAIL_RESET | ANPU_FI_STICKY);
	for (int i = 0; i < 3; i++)
		assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 3, TIMEOUT_MS),
				 ANPU_CTRL_R_FAILED);
	disarm(f, 3);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 3, TIMEOUT_MS), ANPU_CTRL_R_OK);
}

static void test_unknown_control_command_is_invalid(void **state)
{
	struct fx *f = *state;
	uint32_t errs = simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS);

	assert_int_equal(simdev_ctrl(&f->d, 77, 0, TIMEOUT_MS), ANPU_CTRL_R_INVALID);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS), errs + 1);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_LAST_ERROR), ANPU_DEVERR_CTRL_CMD);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, ANPU_HW_NUM_QUEUES, TIMEOUT_MS),
			 ANPU_CTRL_R_INVALID);
}

static void test_bad_ring_config_puts_queue_in_error_until_reset(void **state)
{
	struct fx *f = *state;
	uint32_t errs = simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS);

	simdev_wr32(&f->d, ANPU_QREG(0, ANPU_QREG_RING_ENTRIES), 3);
	simdev_doorbell(&f->d, ANPU_DB_QUEUE(0));
	wait_state(f, 0, ANPU_QSTATE_ERROR);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS), errs + 1);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_LAST_ERROR), ANPU_DEVERR_RING_CONFIG);
	simdev_wr32(&f->d, ANPU_QREG(0, ANPU_QREG_RING_ENTRIES), SIMDEV_RING_ENTRIES);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(qrd32(f, 0, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
}

static void test_device_level_error_raises_the_error_interrupt(void **state)
{
	struct fx *f = *state;
	int fd = anpusim_irq_fd(f->d.sim, ANPU_IRQ_ERROR);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t n;

	/* drain what earlier tests raised */
	while (poll(&pfd, 1, 0) == 1)
		assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	simdev_wr32(&f->d, ANPU_QREG(0, ANPU_QREG_RING_ENTRIES), 3);
	simdev_doorbell(&f->d, ANPU_DB_QUEUE(0));
	assert_int_equal(poll(&pfd, 1, TIMEOUT_MS), 1);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_LAST_ERROR), ANPU_DEVERR_RING_CONFIG);
	simdev_wr32(&f->d, ANPU_QREG(0, ANPU_QREG_RING_ENTRIES), SIMDEV_RING_ENTRIES);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_QUEUE, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
}

/* Interrupts raised on @fd since the last call (the eventfd counter). */
static uint64_t irqs_raised(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&pfd, 1, 0) == 1)
		assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	return n;
}

/*
 * Poll (not the interrupt: simdev_wait() consumes it) until queue 1 finished
 * @seqno, then give a raise that follows COMPLETED_SEQ time to land.
 */
static void wait_jobs_finished(struct fx *f, uint64_t seqno)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < TIMEOUT_MS && qrd64(f, 1, ANPU_QREG_COMPLETED_SEQ) < seqno; i++)
		nanosleep(&ts, NULL);
	assert_true(qrd64(f, 1, ANPU_QREG_COMPLETED_SEQ) >= seqno);
	/* the device raises right after JOBS_FINISHED: a control command orders us after it */
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_NOP, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
}

static void set_irq_config(struct fx *f, uint32_t cfg)
{
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_SET_IRQ_CONFIG, cfg, TIMEOUT_MS),
			 ANPU_CTRL_R_OK);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_IRQ_CONFIG), cfg);
}

static void test_every_job_raises_the_job_interrupt_without_moderation(void **state)
{
	struct fx *f = *state;
	int fd = anpusim_irq_fd(f->d.sim, ANPU_IRQ_JOB);
	struct simdev_job job;
	uint32_t finished = simdev_rd32(&f->d, ANPU_REG_JOBS_FINISHED);

	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_IRQ_CONFIG), 0);	/* the default */
	irqs_raised(fd);
	for (int i = 0; i < 3; i++)
		assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
	wait_jobs_finished(f, job.seqno);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_JOBS_FINISHED), finished + 3);
	assert_int_equal(irqs_raised(fd), 3);
}

static void test_job_event_raises_only_for_the_job_after_the_seen_ones(void **state)
{
	struct fx *f = *state;
	int fd = anpusim_irq_fd(f->d.sim, ANPU_IRQ_JOB);
	struct simdev_job job;
	uint32_t seen = simdev_rd32(&f->d, ANPU_REG_JOBS_FINISHED);

	assert_true(simdev_rd32(&f->d, ANPU_REG_CAPS) & ANPU_CAP_IRQ_JOB_EVENT);
	simdev_wr32(&f->d, ANPU_REG_IRQ_JOB_EVENT, seen);
	set_irq_config(f, ANPU_IRQ_CFG_JOB_EVENT);
	irqs_raised(fd);
	/* four jobs, the driver never catches up: only the first one interrupts */
	for (int i = 0; i < 4; i++)
		assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
	wait_jobs_finished(f, job.seqno);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_JOBS_FINISHED), seen + 4);
	assert_int_equal(irqs_raised(fd), 1);
	/* a stale event value (behind) raises nothing */
	assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
	wait_jobs_finished(f, job.seqno);
	assert_int_equal(irqs_raised(fd), 0);
	/* caught up: the next job interrupts again, once */
	simdev_wr32(&f->d, ANPU_REG_IRQ_JOB_EVENT, seen + 5);
	for (int i = 0; i < 2; i++)
		assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
	wait_jobs_finished(f, job.seqno);
	assert_int_equal(irqs_raised(fd), 1);
	set_irq_config(f, 0);
}

static void test_job_event_never_suppresses_the_error_interrupt(void **state)
{
	struct fx *f = *state;
	int fd = anpusim_irq_fd(f->d.sim, ANPU_IRQ_ERROR);
	struct anpu_hw_job_status st;
	uint32_t seen = simdev_rd32(&f->d, ANPU_REG_JOBS_FINISHED);

	/* an event value far behind: no job interrupt will come */
	simdev_wr32(&f->d, ANPU_REG_IRQ_JOB_EVENT, seen - 100);
	set_irq_config(f, ANPU_IRQ_CFG_JOB_EVENT);
	irqs_raised(fd);
	simdev_fi_arm(&f->d, 1, ANPU_FI_FAULT);
	assert_int_equal(simdev_run(&f->d, 1, &f->nop1, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_FAULT);
	assert_int_equal(irqs_raised(fd), 1);
	assert_int_equal(irqs_raised(anpusim_irq_fd(f->d.sim, ANPU_IRQ_JOB)), 0);
	set_irq_config(f, 0);
}

static void test_irq_config_rejects_unknown_bits(void **state)
{
	struct fx *f = *state;
	uint32_t errs = simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS);

	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_SET_IRQ_CONFIG, 1u << 7, TIMEOUT_MS),
			 ANPU_CTRL_R_INVALID);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS), errs + 1);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_LAST_ERROR), ANPU_DEVERR_CTRL_CMD);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_IRQ_CONFIG), 0);
}

/* A driver that predates IRQ_CONFIG resets the device at probe: one interrupt per job. */
static void test_device_reset_turns_irq_moderation_off(void **state)
{
	struct fx *f = *state;
	int fd = anpusim_irq_fd(f->d.sim, ANPU_IRQ_JOB);
	struct simdev_job job;

	/* moderation on, with an event value that suppresses every job interrupt */
	simdev_wr32(&f->d, ANPU_REG_IRQ_JOB_EVENT, simdev_rd32(&f->d, ANPU_REG_JOBS_FINISHED) - 7);
	set_irq_config(f, ANPU_IRQ_CFG_JOB_EVENT);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_RESET_DEVICE, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_IRQ_CONFIG), 0);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		f->d.q[q].next_seqno = 1;
		assert_int_equal(simdev_queue_init(&f->d, q, SIMDEV_RING_ENTRIES), 0);
	}
	irqs_raised(fd);
	for (int i = 0; i < 2; i++)
		assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
	wait_jobs_finished(f, job.seqno);
	assert_int_equal(irqs_raised(fd), 2);
}

static void test_unusable_status_address_still_completes_the_job(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_desc desc = f->nop1;
	struct simdev_job job;
	uint32_t errs = simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS);

	desc.status_addr = f->d.bar_size - 32;
	assert_int_equal(simdev_submit(&f->d, 1, &desc, &job), 0);
	assert_int_equal(simdev_wait(&f->d, &job, TIMEOUT_MS), 0);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_DEVICE_ERRORS), errs + 1);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_LAST_ERROR), ANPU_DEVERR_STATUS_ADDR);
}

static void test_reserved_doorbells_are_counted(void **state)
{
	struct fx *f = *state;
	uint32_t bad = simdev_rd32(&f->d, ANPU_REG_BAD_DOORBELLS);

	simdev_doorbell(&f->d, 6);
	assert_int_equal(simdev_ctrl(&f->d, ANPU_CTRL_NOP, 0, TIMEOUT_MS), ANPU_CTRL_R_OK);
	assert_int_equal(simdev_rd32(&f->d, ANPU_REG_BAD_DOORBELLS), bad + 1);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_idle_device_does_not_spin(void **state)
{
	struct fx *f = *state;
	struct timespec nap = { 0, 200000000 };
	uint64_t before = thread_cpu_ns();

	(void)f;
	nanosleep(&nap, NULL);
	/* 200 ms idle may cost a little bookkeeping, nowhere near a spinning core */
	assert_true(thread_cpu_ns() - before < 20000000ull);
}

static void test_nop_jobs_are_cheap(void **state)
{
	struct fx *f = *state;
	struct simdev_job job;
	struct timespec t0, t1;
	const int n = 2000;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(simdev_submit(&f->d, 1, &f->nop1, &job), 0);
		assert_int_equal(simdev_wait(&f->d, &job, TIMEOUT_MS), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* round trips include two thread wake-ups; generous bound for a loaded host */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) <
		    (long long)n * 500000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_identify_the_device),
		cmocka_unit_test(test_job_completes_with_status_record_and_counters),
		cmocka_unit_test(test_progress_counter_advances_per_op),
		cmocka_unit_test(test_realtime_jobs_run_before_low_ones_queued_meanwhile),
		cmocka_unit_test(test_device_clock_is_monotonic_and_dates_jobs),
		cmocka_unit_test(test_powered_down_device_ignores_doorbells_until_power_up),
		cmocka_unit_test(test_power_down_is_busy_while_a_job_is_hung),
		cmocka_unit_test(test_queue_reset_aborts_running_job_and_drops_queued_ones),
		cmocka_unit_test(test_one_shot_fault_fails_only_the_next_job),
		cmocka_unit_test(test_sticky_fault_fails_every_job),
		cmocka_unit_test(test_one_shot_hang_hangs_only_the_next_job),
		cmocka_unit_test(test_sticky_hang_hangs_the_job_after_a_reset_too),
		cmocka_unit_test(test_one_shot_fail_reset_fails_one_reset_and_changes_nothing),
		cmocka_unit_test(test_sticky_fail_reset_fails_every_reset),
		cmocka_unit_test(test_unknown_control_command_is_invalid),
		cmocka_unit_test(test_bad_ring_config_puts_queue_in_error_until_reset),
		cmocka_unit_test(test_device_level_error_raises_the_error_interrupt),
		cmocka_unit_test(test_every_job_raises_the_job_interrupt_without_moderation),
		cmocka_unit_test(test_job_event_raises_only_for_the_job_after_the_seen_ones),
		cmocka_unit_test(test_job_event_never_suppresses_the_error_interrupt),
		cmocka_unit_test(test_irq_config_rejects_unknown_bits),
		cmocka_unit_test(test_device_reset_turns_irq_moderation_off),
		cmocka_unit_test(test_unusable_status_address_still_completes_the_job),
		cmocka_unit_test(test_reserved_doorbells_are_counted),
		cmocka_unit_test(test_idle_device_does_not_spin),
		cmocka_unit_test(test_nop_jobs_are_cheap),
		/* last: it resets everything */
		cmocka_unit_test(test_device_reset_aborts_and_clears_registers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
