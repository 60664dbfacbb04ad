/* SPDX-License-Identifier: MIT */
/*
 * libanpusim: the ANPU reference model behind its hardware interface.
 *
 * The model is a device: BAR2 memory (register page + device memory, see
 * hw/anpu_hwif.h), doorbells in, interrupts out. A driver (libaccel's in-process
 * backend, the anpu-sim daemon serving QEMU, or a test) programs it exactly
 * as it would program silicon: it writes registers and rings in BAR2, then
 * rings a doorbell. The model answers on its own device thread and raises
 * interrupts, by default on one eventfd per vector.
 */
#ifndef ANPUSIM_H
#define ANPUSIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct anpusim;

/* Called on the device thread to raise interrupt @vector. */
typedef void (*anpusim_irq_fn)(void *ctx, unsigned int vector);

struct anpusim_params {
	/* BAR2 size: a power of two, ANPU_BAR_MIN_SIZE..ANPU_BAR_MAX_SIZE. */
	uint64_t bar_size;
	/*
	 * Memory backing BAR2 (bar_size bytes, page aligned), e.g. the ivshmem
	 * shared memory; NULL: the model reserves it itself, lazily (pages are
	 * only committed when touched).
	 */
	void *bar;
	/* Worker threads including the device thread; 0: online cores. */
	unsigned int threads;
	/* Microseconds an idle worker polls before sleeping; 0 never spins. */
	unsigned int spin_us;
	/* Interrupt sink; NULL: one eventfd per vector (anpusim_irq_fd()). */
	anpusim_irq_fn irq;
	void *irq_ctx;
};

/* Defaults: 4 GiB lazily reserved BAR, online cores, 50 us spin, eventfds. */
struct anpusim_params anpusim_default_params(void);

/* Create and power up a device. Returns 0 or a negative errno. */
int anpusim_create(const struct anpusim_params *params, struct anpusim **out);

/* Stop the device thread and free everything (an external BAR is not freed). */
void anpusim_destroy(struct anpusim *sim);

/* BAR2 as the driver sees it. */
void *anpusim_bar(struct anpusim *sim);
uint64_t anpusim_bar_size(const struct anpusim *sim);

/* Ring doorbell @vector (ANPU_DB_*). Never blocks; safe from any thread. */
void anpusim_doorbell(struct anpusim *sim, unsigned int vector);

/*
 * Eventfd of interrupt @vector (ANPU_IRQ_*), readable when it was raised;
 * -1 if the device was created with an irq callback or @vector is invalid.
 */
int anpusim_irq_fd(const struct anpusim *sim, unsigned int vector);

/* Name of the SIMD kernel path in use: "portable", "avx2", "avxvnni" or "avx512". */
const char *anpusim_simd_path(void);

/* Worker threads the device runs ops on. */
unsigned int anpusim_threads(const struct anpusim *sim);

#ifdef __cplusplus
}
#endif

#endif /* ANPUSIM_H */
