// SPDX-License-Identifier: MIT
/*
 * Worker pool: a generation counter publishes each parallel loop; workers
 * poll it for spin_us (while the pool is held: up to HOLD_SPIN_US), then
 * sleep on it with a futex. The caller works too, then closes the loop and
 * waits only for the workers that joined it: a worker joins by incrementing
 * busy while it is open, so a worker that was not scheduled in time (a
 * loaded host) costs the caller nothing.
 */
#define _GNU_SOURCE
#include "sim_pool.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SIM_POOL_MAX_THREADS 256
#define POOL_CLOSED 0x80000000u	/* busy: the caller is done, no more joins */
/*
 * Polling bound while held: longer than the gap between two loops of a job
 * (single-threaded ops, a few us), short enough that a long serial stretch
 * does not keep a core busy for nothing.
 */
#define HOLD_SPIN_US 200u

struct sim_scratch {
	void *buf;
	size_t size;
} __attribute__((aligned(64)));

struct sim_pool {
	unsigned int threads;
	unsigned int spin_us;
	pthread_t *tids;
	struct sim_scratch *scratch;

	/* the loop being run; written by the caller before gen is bumped */
	sim_task_fn fn;
	void *ctx;
	uint32_t n_tasks;

	_Alignas(64) atomic_uint gen;		/* bumped per loop; futex word */
	atomic_uint gen_sleepers;		/* workers in futex wait on gen */
	_Alignas(64) atomic_uint next_task;	/* next task to claim */
	_Alignas(64) atomic_uint busy;		/* workers inside the loop | POOL_CLOSED;
						 * futex word */
	atomic_uint busy_sleepers;		/* caller in futex wait on busy */
	atomic_bool stop;
	_Alignas(64) atomic_bool held;		/* sim_pool_hold(): poll, do not sleep */
};

static long futex(atomic_uint *word, int op, unsigned int val)
{
	return syscall(SYS_futex, (unsigned int *)word, op, val, NULL, NULL, 0);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * Wake the sleepers on *word after changing it (with a seq_cst RMW). The
 * syscall is skipped when nobody sleeps: a sleeper counts itself (seq_cst)
 * before it re-reads *word, so it sees the change or is seen here.
 */
static void wake(atomic_uint *word, atomic_uint *sleepers)
{
	if (atomic_load(sleepers))
		futex(word, FUTEX_WAKE_PRIVATE, INT_MAX);
}

/*
 * Wait until *word != val: poll for spin_us, or while the pool is held for
 * up to HOLD_SPIN_US, then sleep.
 */
static void wait_change(const struct sim_pool *pool, atomic_uint *word, unsigned int val,
			atomic_uint *sleepers)
{
	if (pool->spin_us || atomic_load_explicit(&pool->held, memory_order_relaxed)) {
		uint64_t start = now_us();
		unsigned int n = 0;

		while (atomic_load_explicit(word, memory_order_acquire) == val) {
			cpu_relax();
			if ((++n & 255) == 0) {
				uint64_t spun = now_us() - start;

				if (spun >= pool->spin_us &&
				    (spun >= HOLD_SPIN_US ||
				     !atomic_load_explicit(&pool->held, memory_order_relaxed)))
					break;
			}
		}
	}
	if (atomic_load_explicit(word, memory_order_acquire) != val)
		return;
	atomic_fetch_add(sleepers, 1);
	while (atomic_load(word) == val)
		futex(word, FUTEX_WAIT_PRIVATE, val);
	atomic_fetch_sub(sleepers, 1);
}

static void run_tasks(struct sim_pool *pool, unsigned int thread)
{
	for (;;) {
		uint32_t t = atomic_fetch_add_explicit(&pool->next_task, 1,
						       memory_order_relaxed);
		if (t >= pool->n_tasks)
			break;
		pool->fn(pool->ctx, t, thread);
	}
}

struct worker_arg {
	struct sim_pool *pool;
	unsigned int thread;
};

static void *worker_main(void *p)
{
	struct worker_arg *arg = p;
	struct sim_pool *pool = arg->pool;
	unsigned int thread = arg->thread;
	unsigned int seen = 0;

	free(arg);
	for (;;) {
		wait_change(pool, &pool->gen, seen, &pool->gen_sleepers);
		seen = atomic_load_explicit(&pool->gen, memory_order_acquire);
		if (atomic_load_explicit(&pool->stop, memory_order_acquire))
			break;
		/* join the loop unless the caller closed it already */
		unsigned int b = atomic_load_explicit(&pool->busy, memory_order_acquire);

		do {
			if (b & POOL_CLOSED)
				break;
		} while (!atomic_compare_exchange_weak_explicit(&pool->busy, &b, b + 1,
								memory_order_acq_rel,
								memory_order_acquire));
		if (b & POOL_CLOSED)
			continue;
		run_tasks(pool, thread);
		if (atomic_fetch_sub(&pool->busy, 1) == (POOL_CLOSED | 1))
			wake(&pool->busy, &pool->busy_sleepers);
	}
	return NULL;
}

struct sim_pool *sim_pool_create(unsigned int threads, unsigned int spin_us)
{
	struct sim_pool *pool;
	unsigned int i;

	if (threads < 1 || threads > SIM_POOL_MAX_THREADS) {
		errno = EINVAL;
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	pool->threads = threads;
	pool->spin_us = spin_us;
	pool->tids = calloc(threads, sizeof(*pool->tids));
	pool->scratch = aligned_alloc(64, sizeof(*pool->scratch) * threads);
	if (!pool->tids || !pool->scratch)
		goto fail;
	memset(pool->scratch, 0, sizeof(*pool->scratch) * threads);

	for (i = 1; i < threads; i++) {
		struct worker_arg *arg = malloc(sizeof(*arg));
		int err;

		if (!arg)
			goto fail_threads;
		arg->pool = pool;
		arg->thread = i;
		err = pthread_create(&pool->tids[i], NULL, worker_main, arg);
		if (err) {
			free(arg);
			errno = err;
			goto fail_threads;
		}
	}
	return pool;

fail_threads:
	pool->threads = i;	/* threads 1..i-1 exist */
	sim_pool_destroy(pool);
	return NULL;
fail:
	free(pool->tids);
	free(pool->scratch);
	free(pool);
	return NULL;
}

void sim_pool_destroy(struct sim_pool *pool)
{
	unsigned int i;

	if (!pool)
		return;
	atomic_store_explicit(&pool->stop, true, memory_order_release);
	atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
	futex(&pool->gen, FUTEX_WAKE_PRIVATE, INT_MAX);
	for (i = 1; i < pool->threads; i++)
		pthread_join(pool->tids[i], NULL);
	for (i = 0; i < pool->threads; i++)
		free(pool->scratch[i].buf);
	free(pool->scratch);
	free(pool->tids);
	free(pool);
}

void sim_pool_hold(struct sim_pool *pool, bool held)
{
	atomic_store_explicit(&pool->held, held, memory_order_relaxed);
}

unsigned int sim_pool_threads(const struct sim_pool *pool)
{
	return pool->threads;
}

void sim_pool_run(struct sim_pool *pool, uint32_t n_tasks, sim_task_fn fn, void *ctx)
{
	unsigned int busy;

	if (n_tasks == 0)
		return;
	if (pool->threads == 1 || n_tasks == 1) {
		for (uint32_t t = 0; t < n_tasks; t++)
			fn(ctx, t, 0);
		return;
	}
	pool->fn = fn;
	pool->ctx = ctx;
	pool->n_tasks = n_tasks;
	atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
	/* open the loop: a worker that joins sees fn, ctx, n_tasks, next_task */
	atomic_store_explicit(&pool->busy, 0, memory_order_release);
	atomic_fetch_add(&pool->gen, 1);
	wake(&pool->gen, &pool->gen_sleepers);

	run_tasks(pool, 0);

	busy = atomic_fetch_or_explicit(&pool->busy, POOL_CLOSED, memory_order_acq_rel) |
	       POOL_CLOSED;
	while (busy != POOL_CLOSED) {
		wait_change(pool, &pool->busy, busy, &pool->busy_sleepers);
		busy = atomic_load_explicit(&pool->busy, memory_order_acquire);
	}
}

void *sim_pool_scratch(struct sim_pool *pool, unsigned int thread, size_t size)
{
	struct sim_scratch *s = &pool->scratch[thread];

	if (s->size < size) {
		size_t rounded = (size + 63) & ~(size_t)63;
		void *buf = aligned_alloc(64, rounded);

		if (!buf)
			return NULL;
		free(s->buf);
		s->buf = buf;
		s->size = rounded;
	}
	return s->buf;
}
