/* SPDX-License-Identifier: MIT */
/* Read-bandwidth probes: sum a buffer with the widest loads the CPU has. */
#ifndef BENCH_BW_READ_H
#define BENCH_BW_READ_H

#include <stddef.h>
#include <stdint.h>

/* Read every byte of [p, p + n) (n a multiple of 256, p 64-aligned). */
uint64_t bw_read_avx2(const void *p, size_t n);
uint64_t bw_read_avx512(const void *p, size_t n);

#endif
