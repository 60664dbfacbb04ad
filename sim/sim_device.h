/* SPDX-License-Identifier: MIT */
/*
 * Internal state of one device (struct anpusim). The device thread is the only
 * writer of model-owned ("M") registers and of everything in here except
 * @pending, which doorbells set from any thread.
 */
#ifndef SIM_DEVICE_H
#define SIM_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "anpusim.h"
#include "sim_clock.h"
#include "sim_cp.h"

/* Bits of anpusim.pending: one per doorbell vector, plus these. */
#define SIM_PENDING_SLEEPING	(1u << 29)	/* the device thread sleeps on the futex */
#define SIM_PENDING_BAD		(1u << 30)	/* a doorbell outside the vector space */
#define SIM_PENDING_STOP	(1u << 31)	/* anpusim_destroy() */

/* A job that fault injection hung: it holds the engine until a reset. */
struct sim_hung_job {
	bool active;
	uint64_t seqno;
	uint64_t status_addr;	/* validated DPA of its status record */
	uint64_t start_ns;
};

/* The model's view of a queue (the registers it owns are mirrored here). */
struct sim_queue {
	bool configured;	/* ring registers read and valid at the last doorbell */
	bool error;		/* STATE = ERROR until a reset */
	uint64_t ring_base;
	uint32_t entries;
	uint32_t tail;		/* RING_TAIL as read at the last doorbell */
	uint32_t head;		/* RING_HEAD */
	uint32_t progress, errors, jobs_done;
	uint32_t fi_ack;	/* FI_ACK */
	struct sim_hung_job hung;
};

struct anpusim {
	uint8_t *bar;
	uint64_t bar_size;
	bool own_bar;

	struct sim_pool *pool;
	unsigned int threads;
	anpusim_irq_fn irq;
	void *irq_ctx;
	int irq_fd[ANPU_HW_NUM_VECTORS];

	struct sim_clock clock;
	struct sim_cp cp;
	pthread_t thread;

	/* device thread state */
	bool powered;
	uint32_t device_errors, resets, bad_doorbells;
	uint32_t jobs_finished;	/* JOBS_FINISHED */
	uint32_t irq_config;	/* IRQ_CONFIG */
	uint32_t ctrl_ack;	/* CTRL_ACK_SEQ (never read back from BAR2) */
	struct sim_queue q[ANPU_HW_NUM_QUEUES];

	/* doorbells not yet seen by the device thread (+ SIM_PENDING_SLEEPING); futex word */
	_Alignas(64) atomic_uint pending;
};

/* Device thread entry (sim_device_thread.c). */
void *sim_device_thread(void *arg);

/* Control commands (sim_device_ctrl.c): executes the command in CTRL_* registers. */
void sim_device_ctrl(struct anpusim *sim);

/* Job engine (sim_device_jobs.c). */
void sim_device_queue_doorbell(struct anpusim *sim, unsigned int q);
/* Run the next job by priority; false when none can run. */
bool sim_device_run_next(struct anpusim *sim);
/* End hung job of queue @q with ABORTED/@cause (no-op when none). */
void sim_device_abort_hung(struct anpusim *sim, unsigned int q, uint32_t cause);

/* Is fault injection @action armed on queue @q? Consumes a one-shot. */
bool sim_device_fi_fire(struct anpusim *sim, unsigned int q, uint32_t action);

/* Helpers shared by the device files (sim_device.c). */
void sim_device_raise(struct anpusim *sim, unsigned int vector);
void sim_device_error(struct anpusim *sim, uint32_t deverr);

#endif /* SIM_DEVICE_H */
