/* SPDX-License-Identifier: MIT */
/*
 * The weights in the NPU's own layouts (Q5_0 as Q5_0L) as a cache file that
 * loads map like the model file (weights_cache.c).
 */
#ifndef RT_WEIGHTS_CACHE_H
#define RT_WEIGHTS_CACHE_H

#include <accel.h>

struct anpurt_engine;

/*
 * The cache file of @e's model (open as @model_fd), written first if it is
 * not there or does not match the model: 0 with @src set to its tensor data
 * (src->fd is the caller's to close), or -1 where no cache is used (not the
 * in-process NPU, no Q5_0 tensor, ANPU_WEIGHT_CACHE=0, no cache directory,
 * a write error): then the model file is loaded as it is.
 */
int weights_cache_open(const struct anpurt_engine *e, int model_fd, struct accel_bo_file *src);

#endif
