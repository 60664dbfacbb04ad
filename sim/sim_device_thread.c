// SPDX-License-Identifier: MIT
/*
 * The device thread: sleeps on a futex until a doorbell, then serves control
 * commands, reads rung queues' registers and runs jobs by priority. Control
 * commands are served at every job boundary and while a hung job holds the
 * engine; a job itself is never interrupted (no preemption inside a job).
 */
#include "sim_device.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sim_regs.h"

#define QUEUE_BITS	((1u << ANPU_HW_NUM_QUEUES) - 1)
/* Doorbells 5..7 are reserved: ignored and counted. */
#define RESERVED_BITS	(((1u << ANPU_HW_NUM_VECTORS) - 1) & ~QUEUE_BITS & ~(1u << ANPU_DB_CTRL))

static void sleep_until_doorbell(struct anpusim *sim)
{
	unsigned int idle = 0;

	/* announce the sleep: from now on a doorbell pays for a futex wake */
	if (!atomic_compare_exchange_strong_explicit(&sim->pending, &idle, SIM_PENDING_SLEEPING,
						     memory_order_acq_rel, memory_order_acquire))
		return;
	while (atomic_load_explicit(&sim->pending, memory_order_acquire) == SIM_PENDING_SLEEPING)
		syscall(SYS_futex, (unsigned int *)&sim->pending, FUTEX_WAIT_PRIVATE,
			SIM_PENDING_SLEEPING, NULL, NULL, 0);
}

static void count_bad_doorbells(struct anpusim *sim, unsigned int bits)
{
	unsigned int n = (unsigned int)__builtin_popcount(bits & RESERVED_BITS) +
			 ((bits & SIM_PENDING_BAD) ? 1 : 0);

	if (!n)
		return;
	sim->bad_doorbells += n;
	sim_reg_write32(sim->bar, ANPU_REG_BAD_DOORBELLS, sim->bad_doorbells);
}

/* Handle the doorbells in @bits. Returns false on stop. */
static bool serve(struct anpusim *sim, unsigned int bits)
{
	if (bits & SIM_PENDING_STOP)
		return false;
	count_bad_doorbells(sim, bits);
	/* queue doorbells first: a POWER_DOWN rung after a submit sees the job */
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		if (bits & (1u << ANPU_DB_QUEUE(q)))
			sim_device_queue_doorbell(sim, q);
	if (bits & (1u << ANPU_DB_CTRL))
		sim_device_ctrl(sim);
	return true;
}

void *sim_device_thread(void *arg)
{
	struct anpusim *sim = arg;

	for (;;) {
		unsigned int bits = atomic_exchange_explicit(&sim->pending, 0,
							     memory_order_acquire) &
				    ~SIM_PENDING_SLEEPING;

		if (!serve(sim, bits))
			break;
		/* run jobs until none is runnable or a doorbell needs serving */
		while (atomic_load_explicit(&sim->pending, memory_order_relaxed) == 0 &&
		       sim_device_run_next(sim))
			;
		if (atomic_load_explicit(&sim->pending, memory_order_relaxed) == 0)
			sleep_until_doorbell(sim);
	}
	return NULL;
}
