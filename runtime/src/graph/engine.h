/* SPDX-License-Identifier: MIT */
/*
 * The engine behind struct anpurt_engine: one libaccel device and the model's
 * weights on it, uploaded once, shared by every session.
 */
#ifndef RT_ENGINE_H
#define RT_ENGINE_H

#include <accel.h>
#include <stdbool.h>

#include "anpurt.h"
#include "model/model.h"

struct anpurt_engine {
	const struct anpurt_model *model;
	struct accel_device *dev;
	struct accel_device_info info;	/* of dev, read at load */
	/*
	 * the file's tensor data, [data_start, data_end) of the file, as it is;
	 * data_start rounded down to a page (a BO maps whole pages of the file)
	 */
	struct accel_bo *weights;
	uint64_t data_start, data_end;
	uint32_t cache_layout;		/* weights from the cache file: its WEIGHTS_CACHE_*; 0: none */
	uint64_t fingerprint;		/* model_fingerprint(), of the uploaded weights */
};

/* The weight tensor @t (of the engine's model) as a libaccel operand. */
struct accel_tensor engine_weight(const struct anpurt_engine *e, const struct gguf_tensor *t);

/*
 * e->weights: the file's tensor data on the device (in-process the file's own
 * pages, through anpu.ko a copy); progress as it goes. The errors name the
 * file, or say what device memory the weights need when they do not fit.
 */
int weights_load(struct anpurt_engine *e, anpurt_progress_fn progress, void *user);

/* Device memory one session needs: its KV cache, its scratch activations. */
struct session_size {
	uint64_t kv_bytes;		/* K and V of every layer */
	uint64_t scratch_bytes;		/* activations of one prefill chunk, logits, ids */
};

/* Sizes for a session of @n_ctx tokens, @kv_elem bytes per cache element, chunks of @chunk. */
struct session_size session_size(const struct anpurt_model_info *in, uint32_t n_ctx,
				 uint32_t kv_elem, uint32_t chunk);

/*
 * Device memory for the weights plus @n_sessions such sessions, with the
 * device's rounding (2 MiB BO alignment, guard pages, page tables, command
 * streams), for sizing the in-process NPU.
 */
uint64_t device_mem_needed(uint64_t weight_bytes, const struct session_size *s,
			   unsigned int n_sessions);

/*
 * After a buffer-object allocation failed with @ret: whether it is the device
 * being full (-ENOMEM; -EDQUOT, the kernel driver's per-process limit), and
 * the bytes still available there (*@avail, of the device handle's limit).
 */
bool engine_mem_full(const struct anpurt_engine *e, int ret, uint64_t *avail);

#endif
