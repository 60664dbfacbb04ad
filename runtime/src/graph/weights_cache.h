/* SPDX-License-Identifier: MIT */
/*
 * The weights in the NPU's own layouts (Q5_0 as Q5_0L, Q4_K as Q4_KL, Q6_K as Q6_KL,
 * Q4_0 as Q4_0L) as a
 * cache file that loads map like the model file (weights_cache.c).
 */
#ifndef RT_WEIGHTS_CACHE_H
#define RT_WEIGHTS_CACHE_H

#include <accel.h>
#include <stdint.h>

struct anpurt_engine;
struct gguf_tensor;

/* Conversions a cache file holds (its layout; the device's ISA decides) */
#define WEIGHTS_CACHE_Q5_0L	1u	/* Q5_0 tensors as Q5_0L (ISA 1.2) */
#define WEIGHTS_CACHE_Q4_KL	2u	/* Q4_K matrices of whole 16-row groups as Q4_KL (1.3) */
#define WEIGHTS_CACHE_Q6_KL	4u	/* Q6_K matrices of whole 16-row groups as Q6_KL (1.4) */
#define WEIGHTS_CACHE_Q4_0L	8u	/* Q4_0 matrices of whole 16-row groups as Q4_0L (1.5) */

/* The dtype of model tensor @t in a cache file of @layout (0: the file's own). */
uint32_t weights_cache_dtype(uint32_t layout, const struct gguf_tensor *t);

/*
 * The cache file of @e's model (open as @model_fd), written first if it is
 * not there or does not match the model: its layout (> 0) with @src set to
 * its tensor data (src->fd is the caller's to close), or 0 where no cache is
 * used (not the in-process NPU, no tensor to convert, ANPU_WEIGHT_CACHE=0,
 * no cache directory, a write error): then the model file is loaded as it is.
 */
uint32_t weights_cache_open(const struct anpurt_engine *e, int model_fd,
			    struct accel_bo_file *src);

#endif
