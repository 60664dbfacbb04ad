// SPDX-License-Identifier: MIT
/* Control commands (ANPU_CTRL_*): power, resets, clock latch, IRQ configuration. */
#include "sim_device.h"

#include "sim_regs.h"

static bool queue_busy(const struct sim_queue *sq)
{
	return sq->hung.active || (sq->configured && sq->head != sq->tail);
}

static uint32_t power_down(struct anpusim *sim)
{
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		if (queue_busy(&sim->q[q]))
			return ANPU_CTRL_R_BUSY;
	sim->powered = false;
	sim_reg_write32(sim->bar, ANPU_REG_POWER_STATE, ANPU_POWER_OFF);
	return ANPU_CTRL_R_OK;
}

static uint32_t power_up(struct anpusim *sim)
{
	sim->powered = true;
	sim_reg_write32(sim->bar, ANPU_REG_POWER_STATE, ANPU_POWER_ON);
	return ANPU_CTRL_R_OK;
}

static uint32_t reset_queue(struct anpusim *sim, uint32_t q)
{
	struct sim_queue *sq;
	uint32_t tail;

	if (q >= ANPU_HW_NUM_QUEUES) {
		sim_device_error(sim, ANPU_DEVERR_CTRL_CMD);
		return ANPU_CTRL_R_INVALID;
	}
	if (sim_device_fi_fire(sim, q, ANPU_FI_FAIL_RESET))
		return ANPU_CTRL_R_FAILED;
	sq = &sim->q[q];
	sim_device_abort_hung(sim, q, ANPU_CAUSE_QUEUE_RESET);
	/* drop what is queued: everything up to the tail as it is now */
	tail = sim_reg_read32(sim->bar, ANPU_QREG(q, ANPU_QREG_RING_TAIL));
	sq->head = tail;
	sq->tail = tail;
	sq->error = false;
	sim_reg_write32(sim->bar, ANPU_QREG(q, ANPU_QREG_RING_HEAD), tail);
	sim_reg_write64(sim->bar, ANPU_QREG(q, ANPU_QREG_CURRENT_SEQ), 0);
	sim_reg_write32(sim->bar, ANPU_QREG(q, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
	return ANPU_CTRL_R_OK;
}

static uint32_t set_irq_config(struct anpusim *sim, uint32_t cfg)
{
	if (cfg & ~ANPU_IRQ_CFG_ALL) {
		sim_device_error(sim, ANPU_DEVERR_CTRL_CMD);
		return ANPU_CTRL_R_INVALID;
	}
	sim->irq_config = cfg;
	sim_reg_write32(sim->bar, ANPU_REG_IRQ_CONFIG, cfg);
	return ANPU_CTRL_R_OK;
}

static uint32_t reset_device(struct anpusim *sim)
{
	uint8_t *bar = sim->bar;

	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		sim_device_abort_hung(sim, q, ANPU_CAUSE_DEVICE_RESET);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		struct sim_queue *sq = &sim->q[q];
		uint32_t fi_seq = sim_reg_read32(bar, ANPU_QREG(q, ANPU_QREG_FI_SEQ));

		*sq = (struct sim_queue){ .fi_ack = fi_seq };
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_RING_HEAD), 0);
		sim_reg_write64(bar, ANPU_QREG(q, ANPU_QREG_COMPLETED_SEQ), 0);
		sim_reg_write64(bar, ANPU_QREG(q, ANPU_QREG_CURRENT_SEQ), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_PROGRESS), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_ERRORS), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_JOBS_DONE), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_FI_ACK), fi_seq);
	}
	sim->irq_config = 0;
	sim_reg_write32(bar, ANPU_REG_IRQ_CONFIG, 0);
	power_up(sim);
	sim->resets++;
	sim_reg_write32(bar, ANPU_REG_RESETS, sim->resets);
	return ANPU_CTRL_R_OK;
}

void sim_device_ctrl(struct anpusim *sim)
{
	uint8_t *bar = sim->bar;
	uint32_t seq = sim_reg_read32(bar, ANPU_REG_CTRL_SEQ);
	uint32_t cmd, arg, result;

	/* a doorbell without a new CTRL_SEQ has nothing to do */
	if (seq == sim->ctrl_ack)
		return;
	atomic_thread_fence(memory_order_acquire);
	cmd = sim_reg_read32(bar, ANPU_REG_CTRL_CMD);
	arg = sim_reg_read32(bar, ANPU_REG_CTRL_ARG);
	switch (cmd) {
	case ANPU_CTRL_NOP:
		result = ANPU_CTRL_R_OK;
		break;
	case ANPU_CTRL_POWER_UP:
		result = power_up(sim);
		break;
	case ANPU_CTRL_POWER_DOWN:
		result = power_down(sim);
		break;
	case ANPU_CTRL_RESET_QUEUE:
		result = reset_queue(sim, arg);
		break;
	case ANPU_CTRL_RESET_DEVICE:
		result = reset_device(sim);
		break;
	case ANPU_CTRL_SET_IRQ_CONFIG:
		result = set_irq_config(sim, arg);
		break;
	case ANPU_CTRL_LATCH_CLOCK:
		sim_reg_write64(bar, ANPU_REG_CLOCK, sim_clock_now(&sim->clock));
		result = ANPU_CTRL_R_OK;
		break;
	default:
		sim_device_error(sim, ANPU_DEVERR_CTRL_CMD);
		result = ANPU_CTRL_R_INVALID;
		break;
	}
	sim_reg_write32(bar, ANPU_REG_CTRL_RESULT, result);
	sim->ctrl_ack = seq;
	sim_reg_publish32(bar, ANPU_REG_CTRL_ACK_SEQ, seq);
	atomic_thread_fence(memory_order_seq_cst);
	sim_device_raise(sim, ANPU_IRQ_CTRL);
}
