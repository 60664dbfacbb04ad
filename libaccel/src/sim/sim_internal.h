/* SPDX-License-Identifier: MIT */
/*
 * The in-process backend: a userspace driver for the ANPU hardware interface
 * (hw/anpu_hwif.h) of the reference model (libanpusim).
 *
 * One NPU per process (struct asim_hw, created by the first "sim" open and
 * destroyed by the last close), shared by every "sim" device handle. Each
 * handle is a struct asim_file with its own address space (ASID, page
 * tables, NPU virtual-address allocator), like an open fd of the kernel
 * driver.
 *
 * Threads: the model's own threads, and one completion thread per NPU that
 * sleeps on the model's IRQ_JOB eventfd, retires finished jobs, releases
 * jobs whose dependencies are now met, runs the hang watchdog and delivers
 * completions (callbacks, observers, fence fds).
 */
#ifndef ACCEL_SIM_INTERNAL_H
#define ACCEL_SIM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "anpusim.h"
#include "hw/anpu_hwif.h"
#include "libaccel/src/accel_internal.h"

#define ASIM_RING_ENTRIES	2048	/* >= 2 x the largest job pool */
#define ASIM_MAX_JOBS		1024
#define ASIM_DEFAULT_JOBS	256
#define ASIM_MAX_CONTEXTS	1024	/* context ids: generation << 10 | slot */
#define ASIM_HISTORY		256	/* finished-job records kept per context */
#define ASIM_DEFAULT_MEM	(1ull << 30)
#define ASIM_VA_BASE		(1ull << 20)

/* ---- range allocator (device memory, NPU virtual addresses) ---- */
struct asim_range {
	uint64_t start, size;
};

/* Free ranges sorted by address; frees coalesce with their neighbours. */
struct asim_ranges {
	struct asim_range *v;
	size_t n, cap;
};

int asim_ranges_init(struct asim_ranges *r, uint64_t start, uint64_t size);
void asim_ranges_fini(struct asim_ranges *r);
/* First fit of @size bytes aligned to @align (power of two). -ENOMEM when none fits. */
int asim_ranges_alloc(struct asim_ranges *r, uint64_t size, uint64_t align, uint64_t *out);
int asim_ranges_free(struct asim_ranges *r, uint64_t start, uint64_t size);
uint64_t asim_ranges_free_bytes(const struct asim_ranges *r);

/* ---- jobs and contexts ---- */
struct asim_dep {
	uint32_t ctx_id;
	bool strict;		/* must be finished, not merely ahead on the same ring */
	uint64_t seqno;
};

struct asim_ctx;

struct asim_job {
	struct asim_job *next;		/* free list, or the context's pending list */
	struct asim_ctx *ctx;
	struct accel_cmdbuf *cb;
	struct accel_profile *prof;
	uint64_t ctx_seq;
	uint64_t hw_seqno;
	uint64_t status_dpa;
	struct anpu_hw_job_status *status;	/* host view of status_dpa */
	int64_t submit_ns;
	accel_complete_fn fn;
	void *user;
	unsigned int n_deps;
	struct asim_dep deps[ACCEL_MAX_DEPS + 1];	/* + the step-parameter order */
	unsigned int n_step;
	uint32_t step[ANPU_STEP_PARAMS_MAX];
};

struct asim_hist {
	uint64_t seqno;
	struct accel_job_status status;
};

struct asim_file;

struct asim_ctx {
	uint32_t id;
	unsigned int queue;
	unsigned int hang_timeout_ms;
	struct asim_file *file;
	struct accel_context *front;
	uint64_t submitted_seq;		/* last seqno handed out */
	uint64_t ringed_seq;		/* last seqno written to the ring */
	uint64_t completed_seq;		/* last seqno finished */
	uint64_t delivered_seq;		/* last seqno whose completion was delivered */
	struct asim_job *pend_head, *pend_tail;	/* held back: dependencies or order */
	bool on_pending_list;
	struct asim_ctx *pend_next;
	struct asim_hist hist[ASIM_HISTORY];
};

/* A fence fd waiting for a job: the completion thread writes the eventfd. */
struct asim_fd_waiter {
	struct asim_fd_waiter *next;
	uint32_t ctx_id;
	uint64_t seqno;
	int fd;				/* our own dup of the eventfd */
};

struct asim_queue {
	uint64_t ring_dpa;
	struct anpu_hw_job_desc *ring;	/* host view */
	uint32_t tail;			/* our produce index */
	uint64_t next_seqno;		/* next hardware seqno */
	uint64_t retired_seqno;		/* every job <= this is retired */
	struct asim_job *jobs[ASIM_RING_ENTRIES];	/* by hw seqno & mask */
	/* watchdog */
	uint32_t wd_progress;
	uint64_t wd_retired;
	int64_t wd_since_ns;
};

struct asim_hw {
	uint32_t id;			/* accel_fence.device_id */
	int refs;			/* open files; under the global sim lock */
	struct anpusim *sim;
	uint8_t *bar;
	uint64_t bar_size;
	uint32_t caps, hw_version, isa_version;
	int64_t clock_offset_ns;
	uint64_t clock_uncertainty_ns;
	unsigned int max_jobs;

	/* mem_lock protects: arena, ASIDs, exports */
	pthread_mutex_t mem_lock;
	struct asim_ranges arena;
	bool asid_used[ANPU_HW_NUM_AS];
	struct asim_mem *exports;
	uint32_t next_export;

	/*
	 * lock protects everything about jobs: queues, the job pool, contexts,
	 * pending lists, fd waiters, statistics, control commands.
	 */
	pthread_mutex_t lock;
	pthread_cond_t done_cond;	/* a job finished */
	pthread_cond_t delivered_cond;	/* a completion batch was delivered */
	pthread_cond_t slot_cond;	/* a job slot was freed */
	unsigned int done_waiters, delivered_waiters, slot_waiters;
	struct asim_queue q[ANPU_HW_NUM_QUEUES];
	struct asim_job *jobs;		/* the pool */
	struct asim_job *free_jobs;
	unsigned int ringed;		/* jobs on rings, not retired */
	struct asim_ctx *ctx[ASIM_MAX_CONTEXTS];
	uint32_t ctx_gen[ASIM_MAX_CONTEXTS];
	struct asim_ctx *pending;	/* contexts with held-back jobs */
	struct asim_fd_waiter *fd_waiters;
	unsigned int delivering;	/* completion batches being delivered */
	bool thread_sleeping;		/* the completion thread waits without timeout */
	bool stop;
	struct accel_device_stats stats;
	uint32_t ctrl_seq;
	struct asim_job *tmp_jobs[ANPU_HW_NUM_QUEUES][ASIM_MAX_JOBS];	/* recovery scratch */

	int irq_fd;			/* IRQ_JOB eventfd */
	int wake_fd;			/* wakes the completion thread */
	pthread_t thread;
};

/* Device memory shared by the BOs that map it (an export and its imports). */
struct asim_mem {
	uint64_t dpa, bytes;
	bool large;
	int refs;			/* under mem_lock */
	uint32_t export_id;		/* 0: not exported */
	uint32_t flags;
	uint64_t size;			/* the size the creator asked for */
	struct asim_mem *next_export;
};

/* A device handle: one address space. */
struct asim_file {
	struct asim_hw *hw;
	unsigned int asid;
	uint64_t root;			/* DPA of the level-0 table */
	struct asim_ranges va;		/* under hw->mem_lock */
	uint64_t *tables;		/* DPAs of every page table, for close */
	size_t n_tables, cap_tables;
};

/* A BO's backend part: memory + where it is mapped. */
struct asim_mapping {
	struct asim_mem *mem;
	uint64_t va, va_bytes;
};

/* ---- sim_hw.c ---- */
int asim_hw_get(const struct accel_device_params *params, struct asim_hw **out);
void asim_hw_put(struct asim_hw *hw);
uint32_t asim_rd32(struct asim_hw *hw, uint32_t off);
uint64_t asim_rd64(struct asim_hw *hw, uint32_t off);
void asim_wr32(struct asim_hw *hw, uint32_t off, uint32_t v);
void asim_wr64(struct asim_hw *hw, uint32_t off, uint64_t v);
/* Control command (caller serialises); returns CTRL_RESULT or -ETIMEDOUT. */
int asim_ctrl(struct asim_hw *hw, uint32_t cmd, uint32_t arg, int timeout_ms);
/* Device memory, zeroed. Under mem_lock. */
int asim_mem_alloc_locked(struct asim_hw *hw, uint64_t bytes, uint64_t align, uint64_t *dpa);
void asim_mem_free_locked(struct asim_hw *hw, uint64_t dpa, uint64_t bytes);

/* ---- sim_vm.c ---- */
int asim_file_vm_init(struct asim_file *f);
void asim_file_vm_fini(struct asim_file *f);
/* Map @mem into @f's address space (under mem_lock). */
int asim_vm_map_locked(struct asim_file *f, struct asim_mem *mem, bool writable, uint64_t *va,
		       uint64_t *va_bytes);
void asim_vm_unmap_locked(struct asim_file *f, uint64_t va, uint64_t va_bytes,
			  const struct asim_mem *mem);

/* ---- sim_sched.c ---- */
int asim_sched_init(struct asim_hw *hw);	/* job pool, rings; starts the thread */
void asim_sched_fini(struct asim_hw *hw);
int asim_context_create(struct accel_device *dev, struct accel_context *ctx);
void asim_context_destroy(struct accel_device *dev, struct accel_context *ctx);
int asim_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
		const struct accel_submit_params *p, struct accel_fence *out, int64_t submit_ns);
int asim_fence_wait(struct accel_device *dev, const struct accel_fence *f, int64_t timeout_ns);
int asim_fence_poll(struct accel_device *dev, const struct accel_fence *f);
int asim_fence_status(struct accel_device *dev, const struct accel_fence *f,
		      struct accel_job_status *st);
int asim_fence_export_fd(struct accel_device *dev, const struct accel_fence *f, int *fd);
int asim_inject_fault(struct accel_device *dev, unsigned int queue, uint32_t mode);
int asim_stats(struct accel_device *dev, struct accel_device_stats *stats);

#endif /* ACCEL_SIM_INTERNAL_H */
