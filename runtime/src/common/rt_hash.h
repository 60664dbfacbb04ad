/* SPDX-License-Identifier: MIT */
/* FNV-1a 64: the checksums of session files and the model fingerprint. */
#ifndef RT_HASH_H
#define RT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RT_HASH_INIT	0xcbf29ce484222325ull

/* The hash of @n bytes at @p, continuing from @h (RT_HASH_INIT to start). */
uint64_t rt_hash(uint64_t h, const void *p, size_t n);

#endif
