/* SPDX-License-Identifier: MIT */
/*
 * simdev: a small test-side driver for libanpusim. It programs the model
 * through its hardware interface only (BAR2 registers, page tables, rings,
 * doorbells, interrupt eventfds), like libaccel's in-process backend will.
 *
 * Device memory is handed out by a bump allocator (never freed); page tables
 * use the hw/ encoders with 4 KiB and 2 MiB mappings. Functions return 0 or a
 * negative errno unless stated otherwise.
 */
#ifndef TESTS_SIMDEV_H
#define TESTS_SIMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anpusim.h"
#include "hw/anpu_hwif.h"

#define SIMDEV_RING_ENTRIES	64

struct simdev_queue {
	uint64_t ring_dpa;
	uint32_t entries;
	uint32_t tail;		/* our produce index */
	uint64_t next_seqno;
};

struct simdev {
	struct anpusim *sim;
	uint8_t *bar;
	uint64_t bar_size;
	uint64_t next_free;		/* bump allocator: next free DPA */
	uint64_t root[ANPU_HW_NUM_AS];	/* page-table root per address space, 0: none */
	uint32_t ctrl_seq;
	struct simdev_queue q[ANPU_HW_NUM_QUEUES];
};

/* A buffer: device memory mapped at an NPU address of an address space. */
struct simdev_buf {
	uint64_t va;
	uint64_t dpa;
	uint64_t size;
	void *host;
};

/* A submitted job. */
struct simdev_job {
	unsigned int queue;
	uint64_t seqno;
	uint64_t status_dpa;
};

/* Create a device (@bar_size 0: 64 MiB; @threads 0: 1) and set up every queue's ring. */
int simdev_open(struct simdev *d, uint64_t bar_size, unsigned int threads);
void simdev_close(struct simdev *d);

/* Registers. */
uint32_t simdev_rd32(struct simdev *d, uint32_t off);
uint64_t simdev_rd64(struct simdev *d, uint32_t off);
void simdev_wr32(struct simdev *d, uint32_t off, uint32_t v);
void simdev_wr64(struct simdev *d, uint32_t off, uint64_t v);

/* Device memory: returns a DPA aligned to @align (power of two), 0 when full. Zeroed. */
uint64_t simdev_alloc(struct simdev *d, uint64_t size, uint64_t align);
void *simdev_host(struct simdev *d, uint64_t dpa);

/* Address spaces and mappings. */
int simdev_as_create(struct simdev *d, unsigned int asid);
/* Map [va, va+size) to [dpa, ...): 2 MiB pages where both are 2 MiB aligned (if @large). */
int simdev_map(struct simdev *d, unsigned int asid, uint64_t va, uint64_t dpa, uint64_t size,
	       bool writable, bool large);
/*
 * Pointer to the page-table entry for @va at @level (0..2), creating the
 * tables above it; NULL if a level above is a large page or memory is full.
 */
uint64_t *simdev_pte(struct simdev *d, unsigned int asid, uint64_t va, unsigned int level);
/* Allocate @size bytes (page granular) and map them at @va. */
int simdev_buf(struct simdev *d, unsigned int asid, uint64_t va, uint64_t size, bool writable,
	       struct simdev_buf *buf);

/* Queues. (Re)initialise queue @q's ring: RING_BASE, RING_ENTRIES, TAIL = 0. */
int simdev_queue_init(struct simdev *d, unsigned int q, uint32_t entries);
/*
 * Write @desc (seqno and status_addr filled in here; a fresh status record is
 * allocated unless desc->status_addr is set) into queue @q's ring and bump
 * RING_TAIL. simdev_submit() also rings the doorbell.
 */
int simdev_enqueue(struct simdev *d, unsigned int q, const struct anpu_hw_job_desc *desc,
		   struct simdev_job *job);
void simdev_doorbell(struct simdev *d, unsigned int vector);
int simdev_submit(struct simdev *d, unsigned int q, const struct anpu_hw_job_desc *desc,
		  struct simdev_job *job);
/* Wait until the queue's COMPLETED_SEQ reaches the job. -ETIMEDOUT after @timeout_ms. */
int simdev_wait(struct simdev *d, const struct simdev_job *job, int timeout_ms);
void simdev_status(struct simdev *d, const struct simdev_job *job, struct anpu_hw_job_status *st);
/* Submit and wait (5 s), then read the status. */
int simdev_run(struct simdev *d, unsigned int q, const struct anpu_hw_job_desc *desc,
	       struct anpu_hw_job_status *st);

/* Control command: returns CTRL_RESULT (>= 0) or -ETIMEDOUT. */
int simdev_ctrl(struct simdev *d, uint32_t cmd, uint32_t arg, int timeout_ms);
/* Fault injection: FI_MODE = mode, and arm a one-shot (FI_SEQ++). */
void simdev_fi_arm(struct simdev *d, unsigned int q, uint32_t mode);

/* Command-stream builder. */
struct simdev_stream {
	uint8_t *buf;
	size_t size, cap;
	uint32_t op_count;
	int oom;
};
void simdev_stream_init(struct simdev_stream *s);
void simdev_stream_free(struct simdev_stream *s);
/* Append an op; @params may be NULL (all zero). */
void simdev_stream_op(struct simdev_stream *s, uint16_t opcode, uint32_t flags,
		      const void *params, size_t params_len, const struct anpu_tensor *t,
		      unsigned int n_tensors);
/* Fill in the header. Returns the stream's bytes (0 if out of memory). */
size_t simdev_stream_finish(struct simdev_stream *s, uint32_t step_count, uint64_t step_addr);
/* A packed tensor of @dtype and shape ne0..ne3 at @addr. */
struct anpu_tensor simdev_tensor(uint64_t addr, uint32_t dtype, uint32_t ne0, uint32_t ne1,
				 uint32_t ne2, uint32_t ne3);
/* Copy a finished stream into a new read-only buffer at @va; fills *desc's cmd fields. */
int simdev_stream_upload(struct simdev *d, unsigned int asid, uint64_t va,
			 const struct simdev_stream *s, struct anpu_hw_job_desc *desc);

#endif /* TESTS_SIMDEV_H */
