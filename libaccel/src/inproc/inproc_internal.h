/* SPDX-License-Identifier: MIT */
/*
 * The in-process backend: a userspace driver for the ANPU hardware interface
 * (hw/anpu_hwif.h) of the reference model (libanpusim).
 *
 * One NPU per process (struct inproc_hw, created by the first "sim" open and
 * destroyed by the last close), shared by every "sim" device handle. Each
 * handle is a struct inproc_file with its own address space (ASID, page
 * tables, NPU virtual-address allocator), like an open fd of the kernel
 * driver.
 *
 * Threads: the model's own threads, and one completion thread per NPU that
 * sleeps on the model's IRQ_JOB eventfd, retires finished jobs, releases
 * jobs whose dependencies are now met, runs the hang watchdog and delivers
 * completions (callbacks, observers, fence fds).
 */
#ifndef ACCEL_INPROC_INTERNAL_H
#define ACCEL_INPROC_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "anpusim.h"
#include "hw/anpu_hwif.h"
#include "libaccel/src/accel_internal.h"

#define INPROC_RING_ENTRIES	2048	/* >= 2 x the largest job pool */
#define INPROC_MAX_JOBS		1024
#define INPROC_DEFAULT_JOBS	256
#define INPROC_MAX_CONTEXTS	1024	/* context ids: generation << 10 | slot */
#define INPROC_HISTORY		256	/* finished-job records kept per context */
#define INPROC_DEFAULT_MEM	(1ull << 30)
#define INPROC_VA_BASE		(1ull << 20)

/* ---- range allocator (device memory, NPU virtual addresses) ---- */
struct inproc_range {
	uint64_t start, size;
};

/* Free ranges sorted by address; frees coalesce with their neighbours. */
struct inproc_ranges {
	struct inproc_range *v;
	size_t n, cap;
};

int inproc_ranges_init(struct inproc_ranges *r, uint64_t start, uint64_t size);
void inproc_ranges_fini(struct inproc_ranges *r);
/* First fit of @size bytes aligned to @align (power of two). -ENOMEM when none fits. */
int inproc_ranges_alloc(struct inproc_ranges *r, uint64_t size, uint64_t align, uint64_t *out);
int inproc_ranges_free(struct inproc_ranges *r, uint64_t start, uint64_t size);
uint64_t inproc_ranges_free_bytes(const struct inproc_ranges *r);

/* ---- jobs and contexts ---- */
struct inproc_dep {
	uint32_t ctx_id;
	bool strict;		/* must be finished, not merely ahead on the same ring */
	uint64_t seqno;
};

struct inproc_ctx;

struct inproc_job {
	struct inproc_job *next;		/* free list, or the context's pending list */
	struct inproc_ctx *ctx;
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
	struct inproc_dep deps[ACCEL_MAX_DEPS + 1];	/* + the step-parameter order */
	unsigned int n_step;
	uint32_t step[ANPU_STEP_PARAMS_MAX];
};

struct inproc_hist {
	uint64_t seqno;
	struct accel_job_status status;
};

struct inproc_file;

struct inproc_ctx {
	uint32_t id;
	unsigned int queue;
	unsigned int hang_timeout_ms;
	struct inproc_file *file;
	struct accel_context *front;
	uint64_t submitted_seq;		/* last seqno handed out */
	uint64_t ringed_seq;		/* last seqno written to the ring */
	uint64_t completed_seq;		/* last seqno finished */
	uint64_t delivered_seq;		/* last seqno whose completion was delivered */
	struct inproc_job *pend_head, *pend_tail;	/* held back: dependencies or order */
	bool on_pending_list;
	struct inproc_ctx *pend_next;
	struct inproc_hist hist[INPROC_HISTORY];
};

/* A fence fd waiting for a job: the completion thread writes the eventfd. */
struct inproc_fd_waiter {
	struct inproc_fd_waiter *next;
	uint32_t ctx_id;
	uint64_t seqno;
	int fd;				/* our own dup of the eventfd */
};

struct inproc_queue {
	uint64_t ring_dpa;
	struct anpu_hw_job_desc *ring;	/* host view */
	uint32_t tail;			/* our produce index */
	uint64_t next_seqno;		/* next hardware seqno */
	uint64_t retired_seqno;		/* every job <= this is retired */
	struct inproc_job *jobs[INPROC_RING_ENTRIES];	/* by hw seqno & mask */
	/* watchdog */
	uint32_t wd_progress;
	uint64_t wd_retired;
	int64_t wd_since_ns;
};

struct inproc_hw {
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
	struct inproc_ranges arena;
	bool asid_used[ANPU_HW_NUM_AS];
	struct inproc_mem *exports;
	uint32_t next_export;

	/*
	 * lock protects everything about jobs: queues, the job pool, contexts,
	 * pending lists, fd waiters, statistics, control commands.
	 */
	pthread_mutex_t lock;
	/*
	 * Bumped under lock when jobs finished; fence waiters sleep on it with a
	 * futex (a condition variable's mutex re-lock marks the mutex contended,
	 * so each wait cost an extra futex wake at the unlock after it).
	 */
	atomic_uint done_gen;
	pthread_cond_t delivered_cond;	/* a completion batch was delivered */
	pthread_cond_t slot_cond;	/* a job slot was freed */
	unsigned int done_waiters, delivered_waiters, slot_waiters;
	struct inproc_queue q[ANPU_HW_NUM_QUEUES];
	struct inproc_job *jobs;		/* the pool */
	struct inproc_job *free_jobs;
	unsigned int ringed;		/* jobs on rings, not retired */
	struct inproc_ctx *ctx[INPROC_MAX_CONTEXTS];
	uint32_t ctx_gen[INPROC_MAX_CONTEXTS];
	struct inproc_ctx *pending;	/* contexts with held-back jobs */
	struct inproc_fd_waiter *fd_waiters;
	unsigned int delivering;	/* completion batches being delivered */
	bool thread_sleeping;		/* the completion thread waits without timeout */
	bool stop;
	struct accel_device_stats stats;
	uint32_t ctrl_seq;
	struct inproc_job *tmp_jobs[ANPU_HW_NUM_QUEUES][INPROC_MAX_JOBS];	/* recovery scratch */

	uint64_t busy_ns[ANPU_HW_NUM_QUEUES];	/* device time of ended jobs (under lock) */
	_Atomic uint64_t mem_used;	/* device memory allocated (written under mem_lock) */
	/* the usage statistics file (inproc_stats.c; the completion thread's) */
	char stats_path[PATH_MAX];	/* "" when there is none */
	int64_t stats_written_ns;
	uint64_t stats_written_jobs;

	int irq_fd;			/* IRQ_JOB eventfd */
	int wake_fd;			/* wakes the completion thread */
	pthread_t thread;
};

/* Device memory shared by the BOs that map it (an export and its imports). */
struct inproc_mem {
	uint64_t dpa, bytes;
	bool large;
	int refs;			/* under mem_lock */
	uint32_t export_id;		/* 0: not exported */
	uint32_t flags;
	uint64_t size;			/* the size the creator asked for */
	uint64_t file_bytes;		/* > 0: the first bytes map a file (bo_map_file) */
	struct inproc_mem *next_export;
};

/* A device handle: one address space. */
struct inproc_file {
	struct inproc_hw *hw;
	unsigned int asid;
	uint64_t root;			/* DPA of the level-0 table */
	struct inproc_ranges va;		/* under hw->mem_lock */
	uint64_t *tables;		/* DPAs of every page table, for close */
	size_t n_tables, cap_tables;
};

/* A BO's backend part: memory + where it is mapped. */
struct inproc_mapping {
	struct inproc_mem *mem;
	uint64_t va, va_bytes;
};

/* ---- inproc_hw.c ---- */
int inproc_hw_get(const struct accel_device_params *params, struct inproc_hw **out);
void inproc_hw_put(struct inproc_hw *hw);
uint32_t inproc_rd32(struct inproc_hw *hw, uint32_t off);
uint64_t inproc_rd64(struct inproc_hw *hw, uint32_t off);
void inproc_wr32(struct inproc_hw *hw, uint32_t off, uint32_t v);
void inproc_wr64(struct inproc_hw *hw, uint32_t off, uint64_t v);
/* Control command (caller serialises); returns CTRL_RESULT or -ETIMEDOUT. */
int inproc_ctrl(struct inproc_hw *hw, uint32_t cmd, uint32_t arg, int timeout_ms);
/* Device memory, zeroed. Under mem_lock. */
int inproc_mem_alloc_locked(struct inproc_hw *hw, uint64_t bytes, uint64_t align, uint64_t *dpa);
void inproc_mem_free_locked(struct inproc_hw *hw, uint64_t dpa, uint64_t bytes);

/* ---- inproc_vm.c ---- */
int inproc_file_vm_init(struct inproc_file *f);
void inproc_file_vm_fini(struct inproc_file *f);
/* Map @mem into @f's address space (under mem_lock). */
int inproc_vm_map_locked(struct inproc_file *f, struct inproc_mem *mem, bool writable, uint64_t *va,
			 uint64_t *va_bytes);
void inproc_vm_unmap_locked(struct inproc_file *f, uint64_t va, uint64_t va_bytes,
			    const struct inproc_mem *mem);

/* ---- inproc_sched.c ---- */
int inproc_sched_init(struct inproc_hw *hw);	/* job pool, rings; starts the thread */
void inproc_sched_fini(struct inproc_hw *hw);
/* Under hw->lock: whether @job's dependencies are met (same-queue jobs on the ring count). */
bool inproc_deps_ready(struct inproc_hw *hw, const struct inproc_job *job);
/* Under hw->lock: @job onto its queue's ring (not yet the doorbell); returns the queue. */
unsigned int inproc_ring_push(struct inproc_hw *hw, struct inproc_job *job);
/* Ring the doorbells of the queues in @mask (after unlocking). */
void inproc_ring_doorbells(struct inproc_hw *hw, unsigned int mask);

static inline struct inproc_ctx *inproc_ctx_lookup(struct inproc_hw *hw, uint32_t id)
{
	struct inproc_ctx *c = hw->ctx[id & (INPROC_MAX_CONTEXTS - 1)];

	return (c && c->id == id) ? c : NULL;
}

static inline struct inproc_hw *inproc_dev_hw(struct accel_device *dev)
{
	return ((struct inproc_file *)dev->priv)->hw;
}

/* ---- inproc_stats.c: $XDG_RUNTIME_DIR/anpu/<pid>.stats for monitors ---- */
void inproc_stats_file_init(struct inproc_hw *hw);
/* Completion thread, under hw->lock (dropped while the file is written). */
void inproc_stats_file_update(struct inproc_hw *hw, int64_t now_ns);
void inproc_stats_file_fini(struct inproc_hw *hw);

/* ---- inproc_submit.c ---- */
int inproc_context_create(struct accel_device *dev, struct accel_context *ctx);
void inproc_context_destroy(struct accel_device *dev, struct accel_context *ctx);
int inproc_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
		  const struct accel_submit_params *p, struct accel_fence *out, int64_t submit_ns);
int inproc_fence_wait(struct accel_device *dev, const struct accel_fence *f, int64_t timeout_ns);
int inproc_fence_poll(struct accel_device *dev, const struct accel_fence *f);
int inproc_fence_status(struct accel_device *dev, const struct accel_fence *f,
			struct accel_job_status *st);
int inproc_fence_export_fd(struct accel_device *dev, const struct accel_fence *f, int *fd);
int inproc_inject_fault(struct accel_device *dev, unsigned int queue, uint32_t mode);
int inproc_stats(struct accel_device *dev, struct accel_device_stats *stats);

#endif /* ACCEL_INPROC_INTERNAL_H */
