// SPDX-License-Identifier: MIT
/* libanpusim's public API: device creation, doorbells, interrupts. */
#include "sim_device.h"

#include <errno.h>
#include <stdatomic.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sim_pool.h"
#include "sim_regs.h"

#define DEFAULT_BAR_SIZE	(4ull << 30)
#define DEFAULT_SPIN_US		50

struct anpusim_params anpusim_default_params(void)
{
	return (struct anpusim_params){
		.bar_size = DEFAULT_BAR_SIZE,
		.spin_us = DEFAULT_SPIN_US,
	};
}

void sim_device_raise(struct anpusim *sim, unsigned int vector)
{
	uint64_t one = 1;

	if (sim->irq) {
		sim->irq(sim->irq_ctx, vector);
		return;
	}
	/* a full counter (2^64 - 2 unread raises) cannot happen; ignore the result */
	if (write(sim->irq_fd[vector], &one, sizeof(one)) < 0)
		return;
}

void sim_device_error(struct anpusim *sim, uint32_t deverr)
{
	sim->device_errors++;
	sim_reg_write32(sim->bar, ANPU_REG_DEVICE_ERRORS, sim->device_errors);
	sim_reg_write32(sim->bar, ANPU_REG_LAST_ERROR, deverr);
	/* no job to blame: without the interrupt a driver would only notice at a timeout */
	atomic_thread_fence(memory_order_seq_cst);
	sim_device_raise(sim, ANPU_IRQ_ERROR);
}

/* Read-only and model-owned registers at power-on. */
static void init_registers(struct anpusim *sim)
{
	uint8_t *bar = sim->bar;

	sim_reg_write32(bar, ANPU_REG_VERSION, ANPU_HW_VERSION);
	sim_reg_write32(bar, ANPU_REG_ISA_VERSION,
			(ANPU_ISA_VERSION_MAJOR << 16) | ANPU_ISA_VERSION_MINOR);
	sim_reg_write32(bar, ANPU_REG_CAPS, ANPU_CAP_PROFILING | ANPU_CAP_FAULT_INJECTION |
			ANPU_CAP_LARGE_PAGES | ANPU_CAP_KV_F16 | ANPU_CAP_IRQ_JOB_EVENT);
	sim_reg_write32(bar, ANPU_REG_NUM_QUEUES, ANPU_HW_NUM_QUEUES);
	sim_reg_write32(bar, ANPU_REG_NUM_AS, ANPU_HW_NUM_AS);
	sim_reg_write64(bar, ANPU_REG_DEVMEM_BASE, ANPU_DEVMEM_BASE);
	sim_reg_write64(bar, ANPU_REG_DEVMEM_SIZE, sim->bar_size - ANPU_DEVMEM_BASE);
	sim_reg_write64(bar, ANPU_REG_CLOCK, 0);
	sim_reg_write32(bar, ANPU_REG_POWER_STATE, ANPU_POWER_ON);
	sim_reg_write32(bar, ANPU_REG_DEVICE_ERRORS, 0);
	sim_reg_write32(bar, ANPU_REG_LAST_ERROR, ANPU_DEVERR_NONE);
	sim_reg_write32(bar, ANPU_REG_BAD_DOORBELLS, 0);
	sim->ctrl_ack = sim_reg_read32(bar, ANPU_REG_CTRL_SEQ);
	sim_reg_write32(bar, ANPU_REG_CTRL_ACK_SEQ, sim->ctrl_ack);
	sim_reg_write32(bar, ANPU_REG_CTRL_RESULT, ANPU_CTRL_R_OK);
	sim_reg_write32(bar, ANPU_REG_RESETS, 0);
	sim_reg_write32(bar, ANPU_REG_MODEL_THREADS, sim->threads);
	sim_reg_write32(bar, ANPU_REG_JOBS_FINISHED, 0);
	sim_reg_write32(bar, ANPU_REG_IRQ_CONFIG, 0);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_RING_HEAD), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_STATE), ANPU_QSTATE_IDLE);
		sim_reg_write64(bar, ANPU_QREG(q, ANPU_QREG_COMPLETED_SEQ), 0);
		sim_reg_write64(bar, ANPU_QREG(q, ANPU_QREG_CURRENT_SEQ), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_PROGRESS), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_ERRORS), 0);
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_JOBS_DONE), 0);
		sim->q[q].fi_ack = sim_reg_read32(bar, ANPU_QREG(q, ANPU_QREG_FI_SEQ));
		sim_reg_write32(bar, ANPU_QREG(q, ANPU_QREG_FI_ACK), sim->q[q].fi_ack);
	}
	/* ID last: a driver polling for the magic sees a complete register page */
	sim_reg_publish32(bar, ANPU_REG_ID, ANPU_HW_ID_MAGIC);
	sim->powered = true;
}

static void free_device(struct anpusim *sim)
{
	for (unsigned int v = 0; v < ANPU_HW_NUM_VECTORS; v++)
		if (sim->irq_fd[v] >= 0)
			close(sim->irq_fd[v]);
	if (sim->pool)
		sim_pool_destroy(sim->pool);
	if (sim->own_bar && sim->bar)
		munmap(sim->bar, sim->bar_size);
	sim_cp_fini(&sim->cp);
	free(sim);
}

static int setup_bar(struct anpusim *sim, const struct anpusim_params *params)
{
	uint64_t size = params->bar_size;

	if (size < ANPU_BAR_MIN_SIZE || size > ANPU_BAR_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	sim->bar_size = size;
	if (params->bar) {
		if ((uintptr_t)params->bar & 4095)
			return -EINVAL;
		sim->bar = params->bar;
		return 0;
	}
	/* lazily committed: only touched pages cost memory */
	sim->bar = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sim->bar == MAP_FAILED) {
		sim->bar = NULL;
		return -ENOMEM;
	}
	sim->own_bar = true;
	/*
	 * 2 MiB pages where the kernel has them: a KV cache streams through
	 * this memory every token, and in 4 KiB pages each page is a TLB miss.
	 * Memory is then committed 2 MiB at a time where it is touched (and
	 * khugepaged may fill a sparsely touched range). Best effort: a kernel
	 * without THP keeps small pages.
	 */
	madvise(sim->bar, size, MADV_HUGEPAGE);
	return 0;
}

int anpusim_create(const struct anpusim_params *params, struct anpusim **out)
{
	struct anpusim *sim;
	long online;
	int ret;

	*out = NULL;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	for (unsigned int v = 0; v < ANPU_HW_NUM_VECTORS; v++)
		sim->irq_fd[v] = -1;
	sim_cp_init(&sim->cp);
	ret = setup_bar(sim, params);
	if (ret)
		goto fail;

	online = sysconf(_SC_NPROCESSORS_ONLN);
	sim->threads = params->threads ? params->threads : (online > 0 ? (unsigned int)online : 1);
	sim->pool = sim_pool_create(sim->threads, params->spin_us);
	if (!sim->pool) {
		ret = errno ? -errno : -ENOMEM;
		goto fail;
	}
	sim->threads = sim_pool_threads(sim->pool);

	sim->irq = params->irq;
	sim->irq_ctx = params->irq_ctx;
	if (!sim->irq) {
		for (unsigned int v = 0; v < ANPU_HW_NUM_VECTORS; v++) {
			sim->irq_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (sim->irq_fd[v] < 0) {
				ret = -errno;
				goto fail;
			}
		}
	}
	sim_clock_init(&sim->clock);
	init_registers(sim);
	atomic_init(&sim->pending, 0);
	ret = -pthread_create(&sim->thread, NULL, sim_device_thread, sim);
	if (ret)
		goto fail;
	*out = sim;
	return 0;
fail:
	free_device(sim);
	return ret;
}

static void wake(struct anpusim *sim, unsigned int bits)
{
	/*
	 * Only the doorbell that finds the thread asleep (pending == SLEEPING
	 * alone) pays for the futex wake; a busy device sees the bits at its
	 * next job boundary.
	 */
	if (atomic_fetch_or_explicit(&sim->pending, bits, memory_order_release) ==
	    SIM_PENDING_SLEEPING)
		syscall(SYS_futex, (unsigned int *)&sim->pending, FUTEX_WAKE_PRIVATE, 1,
			NULL, NULL, 0);
}

void anpusim_destroy(struct anpusim *sim)
{
	if (!sim)
		return;
	wake(sim, SIM_PENDING_STOP);
	pthread_join(sim->thread, NULL);
	free_device(sim);
}

void *anpusim_bar(struct anpusim *sim)
{
	return sim->bar;
}

uint64_t anpusim_bar_size(const struct anpusim *sim)
{
	return sim->bar_size;
}

void anpusim_doorbell(struct anpusim *sim, unsigned int vector)
{
	wake(sim, vector < ANPU_HW_NUM_VECTORS ? 1u << vector : SIM_PENDING_BAD);
}

int anpusim_irq_fd(const struct anpusim *sim, unsigned int vector)
{
	if (vector >= ANPU_HW_NUM_VECTORS)
		return -1;
	return sim->irq_fd[vector];
}

unsigned int anpusim_threads(const struct anpusim *sim)
{
	return sim->threads;
}
