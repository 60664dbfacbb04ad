// SPDX-License-Identifier: MIT
/*
 * A stand-in for libanpusim's device, linked into anpu-sim only while
 * build/lib/libanpusim.a does not define anpusim_create() yet (mk/daemon.mk
 * decides). It implements the register interface of hw/anpu_hw.h without
 * executing command streams: identity registers, control commands, power,
 * and rings whose jobs complete with ANPU_RESULT_OK at once (or FAULT when
 * fault injection asks for it). Enough to bring up the driver; the real
 * model replaces it as soon as it links.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpusim.h"
#include "hw/anpu_hw.h"

struct anpusim {
	uint8_t *bar;
	uint64_t size;
	anpusim_irq_fn irq;
	void *irq_ctx;
	atomic_flag busy;
};

static uint32_t rd32(struct anpusim *s, uint64_t off)
{
	return atomic_load_explicit((_Atomic uint32_t *)(void *)(s->bar + off),
				    memory_order_acquire);
}

static uint64_t rd64(struct anpusim *s, uint64_t off)
{
	return atomic_load_explicit((_Atomic uint64_t *)(void *)(s->bar + off),
				    memory_order_acquire);
}

static void wr32(struct anpusim *s, uint64_t off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)(s->bar + off), v,
			      memory_order_release);
}

static void wr64(struct anpusim *s, uint64_t off, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)(void *)(s->bar + off), v,
			      memory_order_release);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void raise_irq(struct anpusim *s, unsigned int v)
{
	if (s->irq)
		s->irq(s->irq_ctx, v);
}

static void device_error(struct anpusim *s, uint32_t err)
{
	wr32(s, ANPU_REG_LAST_ERROR, err);
	wr32(s, ANPU_REG_DEVICE_ERRORS, rd32(s, ANPU_REG_DEVICE_ERRORS) + 1);
}

static void reset_regs(struct anpusim *s)
{
	memset(s->bar, 0, ANPU_REG_PAGE_SIZE);
	wr32(s, ANPU_REG_ID, ANPU_HW_ID_MAGIC);
	wr32(s, ANPU_REG_VERSION, ANPU_HW_VERSION);
	wr32(s, ANPU_REG_ISA_VERSION, (ANPU_ISA_VERSION_MAJOR << 16) | ANPU_ISA_VERSION_MINOR);
	wr32(s, ANPU_REG_CAPS, ANPU_CAP_FAULT_INJECTION);
	wr32(s, ANPU_REG_NUM_QUEUES, ANPU_HW_NUM_QUEUES);
	wr32(s, ANPU_REG_NUM_AS, ANPU_HW_NUM_AS);
	wr64(s, ANPU_REG_DEVMEM_BASE, ANPU_DEVMEM_BASE);
	wr64(s, ANPU_REG_DEVMEM_SIZE, s->size - ANPU_DEVMEM_BASE);
	wr32(s, ANPU_REG_POWER_STATE, ANPU_POWER_ON);
	wr32(s, ANPU_REG_MODEL_THREADS, 1);
}

static void run_queue(struct anpusim *s, unsigned int q)
{
	uint64_t base = rd64(s, ANPU_QREG(q, ANPU_QREG_RING_BASE));
	uint32_t entries = rd32(s, ANPU_QREG(q, ANPU_QREG_RING_ENTRIES));
	uint32_t tail = rd32(s, ANPU_QREG(q, ANPU_QREG_RING_TAIL));
	uint32_t head = rd32(s, ANPU_QREG(q, ANPU_QREG_RING_HEAD));

	if (rd32(s, ANPU_REG_POWER_STATE) != ANPU_POWER_ON)
		return;
	if (entries < 2 || entries > 4096 || (entries & (entries - 1)) || base & 63 ||
	    base < ANPU_DEVMEM_BASE || base > s->size - (uint64_t)entries * 64 ||
	    tail - head > entries) {
		wr32(s, ANPU_QREG(q, ANPU_QREG_STATE), ANPU_QSTATE_ERROR);
		device_error(s, ANPU_DEVERR_RING_CONFIG);
		return;
	}
	while (head != tail) {
		struct anpu_hw_job_desc desc;
		struct anpu_hw_job_status st = { 0 };
		uint32_t mode = rd32(s, ANPU_QREG(q, ANPU_QREG_FI_MODE));
		uint32_t fseq = rd32(s, ANPU_QREG(q, ANPU_QREG_FI_SEQ));
		int fault = 0;

		memcpy(&desc, s->bar + base + (uint64_t)(head & (entries - 1)) * 64,
		       sizeof(desc));
		if ((mode & ANPU_FI_ACTION_MASK) == ANPU_FI_FAULT &&
		    ((mode & ANPU_FI_STICKY) || fseq != rd32(s, ANPU_QREG(q, ANPU_QREG_FI_ACK)))) {
			fault = 1;
			wr32(s, ANPU_QREG(q, ANPU_QREG_FI_ACK), fseq);
		}
		st.seqno = desc.seqno;
		st.start_ns = now_ns();
		st.end_ns = st.start_ns;
		st.queue = q;
		if (fault) {
			st.result = ANPU_RESULT_FAULT;
			st.cause = ANPU_CAUSE_INJECTED;
		}
		head++;
		if (desc.status_addr < ANPU_DEVMEM_BASE || desc.status_addr & 63 ||
		    desc.status_addr > s->size - sizeof(st)) {
			device_error(s, ANPU_DEVERR_STATUS_ADDR);
		} else {
			memcpy(s->bar + desc.status_addr, &st, sizeof(st));
		}
		if (fault)
			wr32(s, ANPU_QREG(q, ANPU_QREG_ERRORS),
			     rd32(s, ANPU_QREG(q, ANPU_QREG_ERRORS)) + 1);
		wr32(s, ANPU_QREG(q, ANPU_QREG_JOBS_DONE),
		     rd32(s, ANPU_QREG(q, ANPU_QREG_JOBS_DONE)) + 1);
		wr32(s, ANPU_QREG(q, ANPU_QREG_RING_HEAD), head);
		wr64(s, ANPU_QREG(q, ANPU_QREG_COMPLETED_SEQ), desc.seqno);
		if (fault)
			raise_irq(s, ANPU_IRQ_ERROR);
		raise_irq(s, ANPU_IRQ_JOB);
	}
}

static void run_ctrl(struct anpusim *s)
{
	uint32_t seq = rd32(s, ANPU_REG_CTRL_SEQ);
	uint32_t cmd = rd32(s, ANPU_REG_CTRL_CMD);
	uint32_t arg = rd32(s, ANPU_REG_CTRL_ARG);
	uint32_t res = ANPU_CTRL_R_OK;

	if (seq == rd32(s, ANPU_REG_CTRL_ACK_SEQ))
		return;
	switch (cmd) {
	case ANPU_CTRL_NOP:
		break;
	case ANPU_CTRL_POWER_UP:
		wr32(s, ANPU_REG_POWER_STATE, ANPU_POWER_ON);
		break;
	case ANPU_CTRL_POWER_DOWN:
		wr32(s, ANPU_REG_POWER_STATE, ANPU_POWER_OFF);
		break;
	case ANPU_CTRL_RESET_QUEUE:
		if (arg >= ANPU_HW_NUM_QUEUES) {
			res = ANPU_CTRL_R_INVALID;
			break;
		}
		wr32(s, ANPU_QREG(arg, ANPU_QREG_RING_HEAD), rd32(s, ANPU_QREG(arg, ANPU_QREG_RING_TAIL)));
		wr32(s, ANPU_QREG(arg, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
		break;
	case ANPU_CTRL_RESET_DEVICE: {
		uint32_t resets = rd32(s, ANPU_REG_RESETS) + 1;

		reset_regs(s);
		wr32(s, ANPU_REG_RESETS, resets);
		wr32(s, ANPU_REG_CTRL_SEQ, seq);
		break;
	}
	case ANPU_CTRL_LATCH_CLOCK:
		wr64(s, ANPU_REG_CLOCK, now_ns());
		break;
	default:
		res = ANPU_CTRL_R_INVALID;
		device_error(s, ANPU_DEVERR_CTRL_CMD);
		break;
	}
	wr32(s, ANPU_REG_CTRL_RESULT, res);
	wr32(s, ANPU_REG_CTRL_ACK_SEQ, seq);
	raise_irq(s, ANPU_IRQ_CTRL);
}

void anpusim_default_params(struct anpusim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->bar_size = 4ull << 30;
	p->spin_us = 50;
}

int anpusim_create(const struct anpusim_params *p, struct anpusim **out)
{
	struct anpusim *s;

	if (!p->bar || !p->irq || p->bar_size < ANPU_BAR_MIN_SIZE ||
	    (p->bar_size & (p->bar_size - 1)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->bar = p->bar;
	s->size = p->bar_size;
	s->irq = p->irq;
	s->irq_ctx = p->irq_ctx;
	reset_regs(s);
	*out = s;
	return 0;
}

void anpusim_destroy(struct anpusim *s)
{
	free(s);
}

void *anpusim_bar(struct anpusim *s)
{
	return s->bar;
}

uint64_t anpusim_bar_size(const struct anpusim *s)
{
	return s->size;
}

/* Called from the daemon's single thread only. */
void anpusim_doorbell(struct anpusim *s, unsigned int v)
{
	if (v < ANPU_HW_NUM_QUEUES)
		run_queue(s, v);
	else if (v == ANPU_DB_CTRL)
		run_ctrl(s);
	else
		wr32(s, ANPU_REG_BAD_DOORBELLS, rd32(s, ANPU_REG_BAD_DOORBELLS) + 1);
}

int anpusim_irq_fd(const struct anpusim *s, unsigned int v)
{
	(void)s;
	(void)v;
	return -1;
}

const char *anpusim_simd_path(void)
{
	return "stub";
}

unsigned int anpusim_threads(const struct anpusim *s)
{
	(void)s;
	return 1;
}
