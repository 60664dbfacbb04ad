/* SPDX-License-Identifier: MIT */
/*
 * The seam between the command processor and the op kernels.
 *
 * The command processor (sim_cp.c) snapshots a stream, checks its structure
 * and every tensor descriptor generically (dtype known, flags/reserved zero,
 * shape >= 1, strides, alignment, extent overflow, translation through the
 * page tables with the right permission), resolves step-parameter scalars,
 * and hands each op to its class here as a struct sim_op whose tensors are
 * host pointers into device memory that are known to be in bounds. An op
 * class then checks what is specific to the op (dtypes per role, how shapes
 * relate, parameter ranges) before any op of the job runs, and runs it.
 */
#ifndef SIM_OPS_H
#define SIM_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../hw/anpu_hwif.h"

struct sim_pool;

/* A validated tensor operand: every byte of it is mapped and in bounds. */
struct sim_tensor {
	uint8_t *data;		/* host address of element (0,0,0,0) */
	uint64_t npu_addr;	/* for fault reports */
	uint32_t dtype;		/* enum anpu_dtype */
	uint32_t ne[ANPU_MAX_DIMS];
	size_t nb[ANPU_MAX_DIMS]; /* nb[0]: bytes per block; nb[1..3]: strides */
	size_t row_bytes;	/* bytes of one row of ne[0] elements */
	size_t extent;		/* bytes from data to one past the last byte */
};

/* A decoded op, ready to check and run. */
struct sim_op {
	uint32_t index;		/* position in the stream */
	uint16_t opcode;
	uint32_t flags;
	unsigned int n_tensors;
	struct sim_tensor t[ANPU_OP_MAX_TENSORS];
	union anpu_op_params params;
	uint32_t pos;		/* the op's step scalar, resolved (0 if none) */
};

/*
 * ROPE's cosines and sines of the last ROPE op that made them, kept for the
 * next one with the same angles (a layer's k after its q, every layer of a
 * job): computing them (pow, cos, sin in double) was most of a decode
 * step's ROPE time. Owned by the command processor; the buffers grow and are
 * reused.
 */
struct sim_rope_table {
	double *cs;		/* rows x pairs cosines, then as many sines */
	size_t cap;		/* doubles allocated at cs */
	float *freq;		/* the frequency factors they were made with */
	size_t freq_cap;	/* floats allocated at freq */
	uint64_t pos;		/* position of row 0 */
	uint32_t rows, n_rot;
	uint32_t theta_bits, scale_bits;	/* theta_base, freq_scale as bits */
	int has_freq;
	int valid;
};

/* What an op needs while it runs. */
struct sim_exec {
	struct sim_pool *pool;
	struct sim_rope_table *rope;	/* NULL: every ROPE op computes its angles */
	/* device clock for TIMESTAMP */
	uint64_t (*clock_ns)(void *clock_ctx);
	void *clock_ctx;
	/* set by a run() that fails */
	uint64_t fault_addr;
};

/* Modeled work of an op, for the profiling cost profile. */
struct sim_op_cost {
	uint64_t macs;
	uint64_t bytes;
	unsigned int macs_per_cycle;	/* ANPU_COST_MACS_PER_CYCLE_* */
};

struct sim_op_class {
	const char *name;
	uint8_t min_tensors;
	uint8_t max_tensors;
	uint8_t out_mask;	/* bit i set: tensor i is written */
	uint8_t params_bytes;	/* bytes of params used; the rest must be zero */
	int8_t pos_offset;	/* offset of a struct anpu_scalar in params, or -1 */
	uint32_t valid_flags;
	/*
	 * Op-specific checks. Return 0 or an ANPU_CAUSE_*; may set
	 * *fault_addr to the offending tensor's NPU address.
	 */
	uint32_t (*check)(const struct sim_op *op, uint64_t *fault_addr);
	/* Execute. Return 0 or an ANPU_CAUSE_* (e.g. INDEX), ex->fault_addr set. */
	uint32_t (*run)(struct sim_exec *ex, const struct sim_op *op);
	void (*cost)(const struct sim_op *op, struct sim_op_cost *cost);
};

/* Indexed by opcode (every opcode below ANPU_OP_COUNT has a class). */
extern const struct sim_op_class *const sim_op_classes[ANPU_OP_COUNT];

/* One class per op, defined in sim/ops/op_*.c and gathered in sim_ops.c. */
extern const struct sim_op_class sim_op_nop, sim_op_timestamp, sim_op_embed,
	sim_op_matmul, sim_op_rmsnorm, sim_op_rope, sim_op_kv_store,
	sim_op_attention, sim_op_swiglu, sim_op_add, sim_op_mul, sim_op_scale,
	sim_op_softmax, sim_op_argmax, sim_op_copy;

/* Shape helpers for op classes. */
static inline uint64_t sim_tensor_nrows(const struct sim_tensor *t)
{
	return (uint64_t)t->ne[1] * t->ne[2] * t->ne[3];
}

static inline int sim_tensor_same_shape(const struct sim_tensor *a,
					const struct sim_tensor *b)
{
	return a->ne[0] == b->ne[0] && a->ne[1] == b->ne[1] &&
	       a->ne[2] == b->ne[2] && a->ne[3] == b->ne[3];
}

/*
 * Whether two tensors' byte ranges meet. Where the ISA says two operands
 * must not overlap, their values are then undefined, but the model itself
 * must stay defined host code: no memcpy of overlapping bytes, no two
 * threads on them.
 */
static inline bool sim_tensors_overlap(const struct sim_tensor *a, const struct sim_tensor *b)
{
	return a->data < b->data + b->extent && b->data < a->data + a->extent;
}

/*
 * A dense tensor over @data (rows packed, no padding), as benchmarks and
 * tests that drive ops directly build them: the row size follows the dtype's
 * block layout. Returns 0 (and leaves @t zeroed) for an unknown dtype.
 */
static inline int sim_tensor_dense(struct sim_tensor *t, uint32_t dtype,
				   uint32_t ne0, uint32_t ne1, uint32_t ne2,
				   uint32_t ne3, void *data, uint64_t addr)
{
	unsigned int block_elems, block_bytes;

	memset(t, 0, sizeof(*t));
	if (!anpu_dtype_layout(dtype, &block_elems, &block_bytes))
		return 0;
	t->data = data;
	t->npu_addr = addr;
	t->dtype = dtype;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->ne[2] = ne2;
	t->ne[3] = ne3;
	t->row_bytes = (size_t)ne0 / block_elems * block_bytes;
	t->nb[0] = block_bytes;
	t->nb[1] = t->row_bytes;
	t->nb[2] = t->nb[1] * ne1;
	t->nb[3] = t->nb[2] * ne2;
	t->extent = t->nb[3] * ne3;
	return 1;
}

/* Host address of row (i1, i2, i3). */
static inline uint8_t *sim_tensor_row(const struct sim_tensor *t, uint32_t i1,
				      uint32_t i2, uint32_t i3)
{
	/* row-grouped types: row i1's first dword in its group (its lane, hw/anpu_hwif.h) */
	if (anpu_dtype_is_row_grouped(t->dtype))
		return t->data + (i1 & ~(ANPU_Q4_KL_GROUP - 1)) * t->nb[1] +
		       4 * (i1 & (ANPU_Q4_KL_GROUP - 1)) + i2 * t->nb[2] + i3 * t->nb[3];
	return t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* Host address of flat row r (r < nrows), rows ordered i1 fastest. */
static inline uint8_t *sim_tensor_flat_row(const struct sim_tensor *t, uint64_t r)
{
	uint32_t i1 = (uint32_t)(r % t->ne[1]);
	uint64_t q = r / t->ne[1];
	uint32_t i2 = (uint32_t)(q % t->ne[2]);
	uint32_t i3 = (uint32_t)(q / t->ne[2]);

	return sim_tensor_row(t, i1, i2, i3);
}

#endif /* SIM_OPS_H */
