/* SPDX-License-Identifier: MIT */
/*
 * Register accessors of the model. BAR2 is shared RAM that the driver (or a
 * guest, through QEMU) writes concurrently, so every register access is an
 * atomic load or store of the register's width. Accesses are relaxed; callers
 * place explicit fences where ordering matters (status record before
 * COMPLETED_SEQ, CTRL_RESULT before CTRL_ACK_SEQ).
 */
#ifndef SIM_REGS_H
#define SIM_REGS_H

#include <stdatomic.h>
#include <stdint.h>

static inline uint32_t sim_reg_read32(uint8_t *bar, uint32_t off)
{
	return atomic_load_explicit((_Atomic uint32_t *)(void *)(bar + off),
				    memory_order_relaxed);
}

static inline uint64_t sim_reg_read64(uint8_t *bar, uint32_t off)
{
	return atomic_load_explicit((_Atomic uint64_t *)(void *)(bar + off),
				    memory_order_relaxed);
}

static inline void sim_reg_write32(uint8_t *bar, uint32_t off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)(bar + off), v,
			      memory_order_relaxed);
}

static inline void sim_reg_write64(uint8_t *bar, uint32_t off, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)(void *)(bar + off), v,
			      memory_order_relaxed);
}

/*
 * A release store: everything written (and read) before it is visible first
 * to a driver that acquire-loads the new value. A store, not a fence plus a
 * relaxed store, so ThreadSanitizer sees the edge too.
 */
static inline void sim_reg_publish64(uint8_t *bar, uint32_t off, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)(void *)(bar + off), v,
			      memory_order_release);
}

static inline void sim_reg_publish32(uint8_t *bar, uint32_t off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)(bar + off), v,
			      memory_order_release);
}

#endif /* SIM_REGS_H */
