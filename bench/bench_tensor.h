/* SPDX-License-Identifier: MIT */
/*
 * bench_tensor() - a dense 2-D simulator tensor over caller memory, for the
 * benchmarks that drive sim/ ops directly (anpu-bench-sim's matmul and
 * attention parts): @ne0 elements per row, @ne1 rows, row size from the
 * dtype's block layout (hw/anpu_hwif.h), at NPU address @addr.
 */
#ifndef BENCH_TENSOR_H
#define BENCH_TENSOR_H

#include <stdint.h>
#include <string.h>

#include "hw/anpu_hwif.h"
#include "sim/sim_ops.h"

static inline void bench_tensor(struct sim_tensor *t, uint32_t dtype, uint32_t ne0,
				uint32_t ne1, void *data, uint64_t addr)
{
	unsigned int block_elems = 1, block_bytes = 4;

	anpu_dtype_layout(dtype, &block_elems, &block_bytes);
	memset(t, 0, sizeof(*t));
	t->data = data;
	t->npu_addr = addr;
	t->dtype = dtype;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->ne[2] = t->ne[3] = 1;
	t->row_bytes = (size_t)ne0 / block_elems * block_bytes;
	t->nb[0] = block_bytes;
	t->nb[1] = t->row_bytes;
	t->nb[2] = t->nb[3] = t->row_bytes * ne1;
	t->extent = t->row_bytes * ne1;
}

#endif /* BENCH_TENSOR_H */
