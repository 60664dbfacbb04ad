// SPDX-License-Identifier: MIT
/*
 * The in-process NPU: creation (probe, reset, rings, clock calibration) of
 * the one model instance a process shares, register access, control
 * commands and device memory.
 *
 * Global state: the_hw (the process's NPU, NULL when no "sim" handle is
 * open) and its file count, under inproc_global_lock.
 */
#include "inproc_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t inproc_global_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inproc_hw *the_hw;
static uint32_t next_hw_id = 1;

uint32_t inproc_rd32(struct inproc_hw *hw, uint32_t off)
{
	return atomic_load_explicit((_Atomic uint32_t *)(void *)(hw->bar + off),
				    memory_order_acquire);
}

uint64_t inproc_rd64(struct inproc_hw *hw, uint32_t off)
{
	return atomic_load_explicit((_Atomic uint64_t *)(void *)(hw->bar + off),
				    memory_order_acquire);
}

void inproc_wr32(struct inproc_hw *hw, uint32_t off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)(hw->bar + off), v,
			      memory_order_release);
}

void inproc_wr64(struct inproc_hw *hw, uint32_t off, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)(void *)(hw->bar + off), v,
			      memory_order_release);
}

int inproc_ctrl(struct inproc_hw *hw, uint32_t cmd, uint32_t arg, int timeout_ms)
{
	int64_t deadline = accel_now_ns() + (int64_t)timeout_ms * 1000000;
	uint32_t seq = ++hw->ctrl_seq;

	inproc_wr32(hw, ANPU_REG_CTRL_CMD, cmd);
	inproc_wr32(hw, ANPU_REG_CTRL_ARG, arg);
	inproc_wr32(hw, ANPU_REG_CTRL_SEQ, seq);
	atomic_thread_fence(memory_order_seq_cst);
	anpusim_doorbell(hw->sim, ANPU_DB_CTRL);
	/* poll: control commands are rare and short (docs/hardware.md 15) */
	while (inproc_rd32(hw, ANPU_REG_CTRL_ACK_SEQ) != seq) {
		struct timespec ts = { 0, 20000 };

		if (accel_now_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	return (int)inproc_rd32(hw, ANPU_REG_CTRL_RESULT);
}

/* Device clock vs CLOCK_MONOTONIC: best of 5 latches (docs/hardware.md 15). */
static void calibrate_clock(struct inproc_hw *hw)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		int64_t t0 = accel_now_ns(), t1;
		uint32_t seq = ++hw->ctrl_seq;

		inproc_wr32(hw, ANPU_REG_CTRL_CMD, ANPU_CTRL_LATCH_CLOCK);
		inproc_wr32(hw, ANPU_REG_CTRL_ARG, 0);
		inproc_wr32(hw, ANPU_REG_CTRL_SEQ, seq);
		atomic_thread_fence(memory_order_seq_cst);
		anpusim_doorbell(hw->sim, ANPU_DB_CTRL);
		while (inproc_rd32(hw, ANPU_REG_CTRL_ACK_SEQ) != seq) {
			if (accel_now_ns() - t0 > 1000000000)
				return;
		}
		t1 = accel_now_ns();
		if ((uint64_t)(t1 - t0) < best) {
			best = (uint64_t)(t1 - t0);
			hw->clock_offset_ns = (t0 + t1) / 2 - (int64_t)inproc_rd64(hw, ANPU_REG_CLOCK);
			hw->clock_uncertainty_ns = best / 2;
		}
	}
}

int inproc_mem_alloc_locked(struct inproc_hw *hw, uint64_t bytes, uint64_t align, uint64_t *dpa)
{
	int ret = inproc_ranges_alloc(&hw->arena, bytes, align, dpa);

	if (!ret)
		atomic_fetch_add_explicit(&hw->mem_used, bytes, memory_order_relaxed);
	return ret;
}

void inproc_mem_free_locked(struct inproc_hw *hw, uint64_t dpa, uint64_t bytes)
{
	/* the range array only grows; a failure to grow leaks the range, never corrupts */
	(void)inproc_ranges_free(&hw->arena, dpa, bytes);
	atomic_fetch_sub_explicit(&hw->mem_used, bytes, memory_order_relaxed);
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = ANPU_BAR_MIN_SIZE;

	while (p < v && p < ANPU_BAR_MAX_SIZE)
		p <<= 1;
	return p;
}

/* Probe and initialise (docs/hardware.md 17.2). */
static int hw_init(struct inproc_hw *hw)
{
	int ret;

	if (inproc_rd32(hw, ANPU_REG_ID) != ANPU_HW_ID_MAGIC ||
	    inproc_rd32(hw, ANPU_REG_VERSION) >> 16 != ANPU_HW_VERSION_MAJOR ||
	    inproc_rd32(hw, ANPU_REG_NUM_QUEUES) < ANPU_HW_NUM_QUEUES)
		return -ENODEV;
	hw->hw_version = inproc_rd32(hw, ANPU_REG_VERSION);
	hw->isa_version = inproc_rd32(hw, ANPU_REG_ISA_VERSION);
	hw->caps = inproc_rd32(hw, ANPU_REG_CAPS);
	hw->ctrl_seq = inproc_rd32(hw, ANPU_REG_CTRL_ACK_SEQ);
	if (inproc_ctrl(hw, ANPU_CTRL_RESET_DEVICE, 0, 2000) != ANPU_CTRL_R_OK)
		return -EIO;
	for (unsigned int i = 0; i < ANPU_HW_NUM_AS; i++)
		inproc_wr64(hw, ANPU_REG_AS_ROOT(i), 0);
	ret = inproc_ranges_init(&hw->arena, inproc_rd64(hw, ANPU_REG_DEVMEM_BASE),
				 inproc_rd64(hw, ANPU_REG_DEVMEM_SIZE));
	if (ret)
		return ret;
	if (inproc_rd32(hw, ANPU_REG_POWER_STATE) != ANPU_POWER_ON &&
	    inproc_ctrl(hw, ANPU_CTRL_POWER_UP, 0, 2000) != ANPU_CTRL_R_OK)
		return -EIO;
	calibrate_clock(hw);
	hw->asid_used[0] = true;	/* ASID 0 stays unused: a zeroed descriptor never runs */
	return 0;
}

static void hw_destroy(struct inproc_hw *hw)
{
	inproc_sched_fini(hw);
	anpusim_destroy(hw->sim);
	inproc_ranges_fini(&hw->arena);
	pthread_mutex_destroy(&hw->mem_lock);
	pthread_mutex_destroy(&hw->lock);
	pthread_cond_destroy(&hw->delivered_cond);
	pthread_cond_destroy(&hw->slot_cond);
	free(hw);
}

static int hw_create(const struct accel_device_params *params, struct inproc_hw **out)
{
	struct anpusim_params sp;
	struct inproc_hw *hw = calloc(1, sizeof(*hw));
	int ret;

	if (!hw)
		return -ENOMEM;
	pthread_mutex_init(&hw->mem_lock, NULL);
	pthread_mutex_init(&hw->lock, NULL);
	pthread_cond_init(&hw->delivered_cond, NULL);
	pthread_cond_init(&hw->slot_cond, NULL);
	hw->irq_fd = hw->wake_fd = -1;
	hw->max_jobs = params->sim_max_jobs ? params->sim_max_jobs : INPROC_DEFAULT_JOBS;
	if (hw->max_jobs > INPROC_MAX_JOBS)
		hw->max_jobs = INPROC_MAX_JOBS;
	sp = anpusim_default_params();
	/* BAR2 = register page + device memory, a power of two */
	sp.bar_size = pow2_at_least(params->sim_mem_size ? params->sim_mem_size : INPROC_DEFAULT_MEM);
	sp.threads = params->sim_threads;
	/* idle model workers sleep at once: their spinning would be charged to the process */
	sp.spin_us = 0;
	ret = anpusim_create(&sp, &hw->sim);
	if (ret) {
		free(hw);
		return ret;
	}
	hw->bar = anpusim_bar(hw->sim);
	hw->bar_size = anpusim_bar_size(hw->sim);
	ret = hw_init(hw);
	if (!ret)
		ret = inproc_sched_init(hw);
	if (ret) {
		anpusim_destroy(hw->sim);
		inproc_ranges_fini(&hw->arena);
		free(hw);
		return ret;
	}
	*out = hw;
	return 0;
}

int inproc_hw_get(const struct accel_device_params *params, struct inproc_hw **out)
{
	int ret = 0;

	pthread_mutex_lock(&inproc_global_lock);
	if (!the_hw) {
		ret = hw_create(params, &the_hw);
		if (!ret)
			the_hw->id = next_hw_id++;
	}
	if (!ret) {
		the_hw->refs++;
		*out = the_hw;
	}
	pthread_mutex_unlock(&inproc_global_lock);
	return ret;
}

void inproc_hw_put(struct inproc_hw *hw)
{
	pthread_mutex_lock(&inproc_global_lock);
	if (--hw->refs == 0) {
		the_hw = NULL;
		hw_destroy(hw);
	}
	pthread_mutex_unlock(&inproc_global_lock);
}
