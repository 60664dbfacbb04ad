/* SPDX-License-Identifier: MIT */
/*
 * Worker pool of the reference model: runs tasks 0..n-1 of a parallel loop on
 * a fixed set of threads, the caller being thread 0.
 *
 * Tasks are claimed dynamically, so which thread runs a task varies; results
 * stay deterministic because every task writes its own outputs and reduces in
 * a fixed order whatever thread runs it.
 */
#ifndef SIM_POOL_H
#define SIM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_pool;

typedef void (*sim_task_fn)(void *ctx, uint32_t task, unsigned int thread);

/*
 * threads: total threads including the caller (>= 1).
 * spin_us: how long an idle worker polls for new work before sleeping on a
 * futex; 0 never spins (the VM daemon, which shares the host with TCG vCPUs).
 * Returns NULL with errno set on failure.
 */
struct sim_pool *sim_pool_create(unsigned int threads, unsigned int spin_us);
void sim_pool_destroy(struct sim_pool *pool);
unsigned int sim_pool_threads(const struct sim_pool *pool);

/*
 * While @held, idle workers (and a caller waiting for them) poll for up to
 * 200 us instead of sleeping at once: the device holds its pool for the
 * length of a job, whose parallel loops follow each other within
 * microseconds. A futex wake per loop cost a decode step ~20% (Qwen2.5-0.5B,
 * ~250 loops per step) where the wake is a cross-core IPI, as on a VM.
 */
void sim_pool_hold(struct sim_pool *pool, bool held);

/* Run fn(ctx, task, thread) for task in [0, n_tasks); returns when all are done. */
void sim_pool_run(struct sim_pool *pool, uint32_t n_tasks, sim_task_fn fn, void *ctx);

/*
 * Per-thread scratch of at least @size bytes, 64-byte aligned, valid until the
 * next call for the same thread with a larger size. NULL if out of memory.
 * Call it from inside a task (thread = the task's thread) or between runs.
 */
void *sim_pool_scratch(struct sim_pool *pool, unsigned int thread, size_t size);

#endif /* SIM_POOL_H */
