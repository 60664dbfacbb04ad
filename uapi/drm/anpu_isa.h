/* SPDX-License-Identifier: MIT */
/*
 * ANPU command-stream ISA.
 *
 * A command stream is what a job executes: a header followed by a sequence of
 * ops. Userspace builds streams; the kernel never parses them (the NPU MMU is
 * the security boundary). The NPU validates every field of every op before it
 * touches memory and ends the job with a precise status if anything is wrong.
 *
 * All fields are little endian. Every field named "reserved" or "pad" must be
 * zero; the NPU rejects a stream with a nonzero reserved field
 * (ANPU_CAUSE_RESERVED_NONZERO), so later versions can give those bits meaning.
 *
 * Layout of a stream (all offsets from the stream start, 8-byte aligned):
 *
 *   struct anpu_stream_header
 *   op 0: struct anpu_op + op 0's tensors (struct anpu_tensor[n_tensors])
 *   op 1: ...
 *
 * docs/hardware.md is the programmer's manual for every op.
 *
 * This header is append-only once released: new ops, dtypes and flags get new
 * numbers; existing layouts never change.
 */
#ifndef _UAPI_ANPU_ISA_H_
#define _UAPI_ANPU_ISA_H_

#include <linux/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define ANPU_STREAM_MAGIC		0x53504e41u	/* "ANPS" */
#define ANPU_ISA_VERSION_MAJOR		1
#define ANPU_ISA_VERSION_MINOR		5

/* Most ops one stream may hold, and the largest stream, in bytes. */
#define ANPU_STREAM_MAX_OPS		65536u
#define ANPU_STREAM_MAX_SIZE		(16u << 20)
/* Step-parameter slots a stream may reference (u32 each). */
#define ANPU_STEP_PARAMS_MAX		64u
/* Tensor dimensions. */
#define ANPU_MAX_DIMS			4
#define ANPU_OP_MAX_TENSORS		6

/**
 * struct anpu_stream_header - first bytes of every command stream
 * @magic: ANPU_STREAM_MAGIC.
 * @version_major: ANPU_ISA_VERSION_MAJOR the stream was built for; a major
 *	version the NPU does not implement is rejected.
 * @version_minor: minor version; the NPU accepts any minor <= its own.
 * @size: bytes of the whole stream including this header; must equal the sum
 *	of the header and every op, and must not exceed the length the job
 *	descriptor gives.
 * @op_count: number of ops that follow (1..ANPU_STREAM_MAX_OPS).
 * @step_params_count: u32 slots at @step_params_addr (0..ANPU_STEP_PARAMS_MAX).
 *	The NPU reads them once when the job starts.
 * @step_params_addr: NPU address of the step-parameter buffer (4-byte
 *	aligned), or 0 when @step_params_count is 0.
 * @reserved: must be zero.
 */
struct anpu_stream_header {
	__u32 magic;
	__u16 version_major;
	__u16 version_minor;
	__u32 size;
	__u32 op_count;
	__u32 step_params_count;
	__u32 reserved0;
	__u64 step_params_addr;
	__u64 reserved[2];
};

/*
 * Data types. The numbering of the weight types is GGML's, so a GGUF tensor's
 * type id is its ANPU dtype. Block types (Q*) hold ANPU_DTYPE_BLOCK_ELEMS
 * elements in ANPU_DTYPE_BLOCK_BYTES bytes; rows of a block type must be a
 * whole number of blocks.
 */
enum anpu_dtype {
	ANPU_DTYPE_F32	= 0,
	ANPU_DTYPE_F16	= 1,
	ANPU_DTYPE_Q4_0	= 2,
	ANPU_DTYPE_Q4_1	= 3,	/* ISA 1.1 */
	ANPU_DTYPE_Q5_0	= 6,
	ANPU_DTYPE_Q5_1	= 7,	/* ISA 1.1 */
	ANPU_DTYPE_Q8_0	= 8,
	ANPU_DTYPE_Q4_K	= 12,
	ANPU_DTYPE_Q5_K	= 13,
	ANPU_DTYPE_Q6_K	= 14,
	ANPU_DTYPE_I32	= 26,
	ANPU_DTYPE_BF16	= 30,
	/*
	 * ISA 1.2: Q5_0 blocks regrouped 16 at a time for the dot-product
	 * lanes (docs/hardware.md, "Q5_0L"); ids from 64 are ANPU's own.
	 */
	ANPU_DTYPE_Q5_0L = 64,
	/*
	 * ISA 1.3: Q4_K rows interleaved 16 at a time, one row per dot-product
	 * lane (docs/hardware.md, "Q4_KL").
	 */
	ANPU_DTYPE_Q4_KL = 65,
	/* ISA 1.4: Q6_K rows interleaved the same way (docs/hardware.md, "Q6_KL") */
	ANPU_DTYPE_Q6_KL = 66,
	/* ISA 1.5: Q4_0 rows interleaved the same way (docs/hardware.md, "Q4_0L") */
	ANPU_DTYPE_Q4_0L = 67,
	ANPU_DTYPE_COUNT = 68,	/* one past the largest id; not every id is a type */
};

/**
 * struct anpu_tensor - a tensor operand
 * @addr: NPU address of element (0,0,0,0).
 * @ne: elements per dimension; ne[0] is the row length (innermost). Every
 *	entry is >= 1.
 * @nb: byte stride of dimensions 1..3 (nb[0] is the stride of dimension 1).
 *	Rows are contiguous: dimension 0 is packed at the dtype's size (for
 *	block types, a row is ne[0] / block_elems blocks back to back). Strides
 *	must be multiples of the dtype's alignment (4 for F32/I32, 2 for
 *	F16/BF16, the block size's natural alignment 2 for block types) and at
 *	least the extent of the dimension below, so rows never overlap.
 *	Q4_KL (ISA 1.3), Q6_KL (1.4) and Q4_0L (1.5) interleave each 16 rows: ne[1] is a
 *	multiple of 16 and nb[0] is exactly a row's bytes (docs/hardware.md,
 *	"Q4_KL").
 * @dtype: enum anpu_dtype.
 * @flags: must be zero.
 * @reserved: must be zero.
 *
 * The byte range [addr, addr + extent) where
 *	extent = row_bytes(ne[0]) + sum_i (ne[i] - 1) * nb[i - 1], i = 1..3
 * must be mapped in the job's address space with the permission the op needs
 * (read for inputs, read+write for outputs) and must lie inside one mapping
 * (one buffer object): a tensor never straddles two mappings.
 */
struct anpu_tensor {
	__u64 addr;
	__u32 ne[ANPU_MAX_DIMS];
	__u64 nb[ANPU_MAX_DIMS - 1];
	__u16 dtype;
	__u16 flags;
	__u32 reserved;
};

/*
 * A scalar that is either an immediate or read from the step-parameter
 * buffer, so one recorded stream can be resubmitted token after token with
 * new positions.
 */
enum anpu_scalar_kind {
	ANPU_SCALAR_IMM		= 0,	/* value is the scalar */
	ANPU_SCALAR_STEP	= 1,	/* value is a step-parameter slot index */
};

struct anpu_scalar {
	__u32 kind;
	__u32 value;
};

enum anpu_opcode {
	ANPU_OP_NOP		= 0,
	ANPU_OP_TIMESTAMP	= 1,
	ANPU_OP_EMBED		= 2,
	ANPU_OP_MATMUL		= 3,
	ANPU_OP_RMSNORM		= 4,
	ANPU_OP_ROPE		= 5,
	ANPU_OP_KV_STORE	= 6,
	ANPU_OP_ATTENTION	= 7,
	ANPU_OP_SWIGLU		= 8,
	ANPU_OP_ADD		= 9,
	ANPU_OP_MUL		= 10,
	ANPU_OP_SCALE		= 11,
	ANPU_OP_SOFTMAX		= 12,
	ANPU_OP_ARGMAX		= 13,
	ANPU_OP_COPY		= 14,	/* ISA 1.1 */
	ANPU_OP_COUNT		= 15,
};

/*
 * Job results and causes, as the NPU writes them into a job's status record
 * and as JOB_INFO and libaccel report them.
 */
enum anpu_job_result {
	ANPU_RESULT_OK		= 0,	/* every op ran */
	ANPU_RESULT_INVALID	= 1,	/* rejected by validation; no op ran */
	ANPU_RESULT_FAULT	= 2,	/* stopped at op_index by an error */
	ANPU_RESULT_ABORTED	= 3,	/* stopped by a queue/device reset */
};

enum anpu_job_cause {
	ANPU_CAUSE_NONE			= 0,
	/* descriptor and stream structure */
	ANPU_CAUSE_DESCRIPTOR		= 1,	/* ring descriptor: flag/reserved/size */
	ANPU_CAUSE_ADDRESS_SPACE	= 2,	/* ASID out of range or no root */
	ANPU_CAUSE_STREAM_MAGIC		= 3,
	ANPU_CAUSE_STREAM_VERSION	= 4,
	ANPU_CAUSE_STREAM_SIZE		= 5,	/* header size/op_count inconsistent */
	ANPU_CAUSE_STREAM_TRUNCATED	= 6,	/* an op runs past the stream end */
	ANPU_CAUSE_RESERVED_NONZERO	= 7,
	ANPU_CAUSE_OPCODE		= 8,	/* unknown opcode */
	ANPU_CAUSE_TENSOR_COUNT		= 9,	/* n_tensors wrong for the opcode */
	ANPU_CAUSE_OP_FLAGS		= 10,	/* undefined op or tensor flag */
	ANPU_CAUSE_PARAM		= 11,	/* op parameter out of range */
	ANPU_CAUSE_DTYPE		= 12,	/* dtype unknown or not allowed here */
	ANPU_CAUSE_SHAPE		= 13,	/* zero dim or operand shapes disagree */
	ANPU_CAUSE_STRIDE		= 14,	/* misaligned or overlapping strides */
	ANPU_CAUSE_SIZE_OVERFLOW	= 15,	/* a size computation overflows */
	ANPU_CAUSE_STEP_PARAM		= 16,	/* bad slot, or value out of range */
	/* memory */
	ANPU_CAUSE_UNMAPPED		= 17,	/* no translation for an address */
	ANPU_CAUSE_PERMISSION		= 18,	/* write to a read-only mapping */
	ANPU_CAUSE_STRADDLE		= 19,	/* tensor spans two mappings */
	ANPU_CAUSE_PAGE_TABLE		= 20,	/* malformed entry or bad table address */
	ANPU_CAUSE_ALIGNMENT		= 21,	/* tensor address misaligned for dtype */
	/* execution */
	ANPU_CAUSE_INDEX		= 22,	/* EMBED id outside the table */
	ANPU_CAUSE_PROFILE_BUFFER	= 23,	/* profiling buffer unusable */
	ANPU_CAUSE_INJECTED		= 24,	/* fault injection */
	ANPU_CAUSE_QUEUE_RESET		= 25,	/* aborted by a queue reset */
	ANPU_CAUSE_DEVICE_RESET		= 26,	/* aborted by a device reset */
	ANPU_CAUSE_COUNT		= 27,
};

/* Op parameters, one layout per opcode, overlaying anpu_op.params. */

/* MATMUL: no parameters; see ANPU_MATMUL_* flags. */

/* RMSNORM: y = x / sqrt(mean(x^2) + eps) * w, per row of ne[0]. */
struct anpu_params_rmsnorm {
	float eps;			/* > 0, finite */
};

enum anpu_rope_mode {
	ANPU_ROPE_NORMAL	= 0,	/* rotate pairs (2i, 2i+1) */
	ANPU_ROPE_NEOX		= 1,	/* rotate pairs (i, i + n_rot/2) */
};

/* ROPE: rotate the first n_rot elements of every head; position of row r is pos + r. */
struct anpu_params_rope {
	__u32 mode;			/* enum anpu_rope_mode */
	__u32 n_rot;			/* even, 2..ne[0] */
	float theta_base;		/* > 0, finite: 10000, 1e6, ... */
	float freq_scale;		/* > 0, finite: 1.0 unless scaled */
	struct anpu_scalar pos;		/* position of the first token */
};

/* KV_STORE: cache row (pos + r) = src row r, converted to the cache dtype. */
struct anpu_params_kv_store {
	struct anpu_scalar pos;
};

/*
 * ATTENTION: causal, grouped-query. Query row r (at position pos + r) attends
 * to cache rows 0..pos + r.
 */
struct anpu_params_attention {
	float scale;			/* finite, usually 1/sqrt(head_dim) */
	__u32 reserved;
	struct anpu_scalar pos;		/* position of the first query token */
};

/* SCALE: y = x * s. */
struct anpu_params_scale {
	float s;			/* finite */
};

/* SOFTMAX: y = softmax(x * scale) per row. */
struct anpu_params_softmax {
	float scale;			/* finite */
};

/* The 32 parameter bytes of an op, one layout per opcode. */
union anpu_op_params {
	__u32 raw[8];
	struct anpu_params_rmsnorm rmsnorm;
	struct anpu_params_rope rope;
	struct anpu_params_kv_store kv_store;
	struct anpu_params_attention attention;
	struct anpu_params_scale scale;
	struct anpu_params_softmax softmax;
};

/**
 * struct anpu_op - one op in a command stream
 * @opcode: enum anpu_opcode.
 * @n_tensors: number of struct anpu_tensor that follow this struct; each
 *	opcode fixes it (MATMUL: 3, or 4 with a bias; ROPE: 2, or 3 with
 *	frequency factors).
 * @reserved0: must be zero.
 * @flags: per-op flags (ANPU_MATMUL_*); undefined bits must be zero.
 * @params: opcode-specific parameters (struct anpu_params_*); bytes the
 *	opcode does not use must be zero.
 *
 * Tensor roles per opcode (inputs read, outputs [w] written):
 *   NOP        -
 *   TIMESTAMP  dst[w] I32 ne=(2,1,1,1): device clock (ns, u64 little endian)
 *   EMBED      table (any weight dtype, [dim, vocab]), ids I32 [M],
 *              dst[w] F32/F16 [dim, M]
 *   MATMUL     x F32 [K, M], w (weight dtype) [K, N], y[w] F32 [N, M]
 *              (+ bias F32 [N]): y = x . w^T (+ bias) (+ y if ACCUMULATE)
 *   RMSNORM    x F32 [D, rows...], w F32 [D], y[w] F32 same shape as x
 *   ROPE       x F32 [head_dim, heads, M], y[w] F32 same shape
 *              (+ freq F32 [n_rot/2], ISA 1.1: angle i divided by freq[i])
 *   KV_STORE   src F32 [kv_dim, M], cache[w] F16/F32 [kv_dim, ctx]
 *   ATTENTION  q F32 [head_dim, n_head, M], k cache F16/F32
 *              [head_dim * n_kv_head, ctx], v cache likewise,
 *              out[w] F32 [head_dim, n_head, M]
 *   SWIGLU     gate F32, up F32, y[w] F32, all one shape: y = silu(gate) * up
 *   ADD, MUL   a F32, b F32 (broadcast: each b.ne[i] is 1 or a.ne[i]),
 *              y[w] F32 shape of a
 *   SCALE      x F32, y[w] F32 same shape
 *   SOFTMAX    x F32, y[w] F32 same shape
 *   ARGMAX     x F32 [N, M], y[w] I32 [1, M] (first maximum wins)
 *   COPY       src F16/F32, dst[w] same dtype and shape: row for row (ISA 1.1)
 * An output may be the very same tensor as an input for the element-wise
 * ops, RMSNORM, ROPE, SCALE and SOFTMAX; any other overlap of an output
 * with an input gives undefined values (never a wider memory access).
 */
struct anpu_op {
	__u16 opcode;
	__u8 n_tensors;
	__u8 reserved0;
	__u32 flags;
	union anpu_op_params params;
	/* followed by struct anpu_tensor tensors[n_tensors] */
};

/* MATMUL flags */
#define ANPU_MATMUL_ACCUMULATE		(1u << 0)	/* y += x . w^T (+ bias) */
#define ANPU_MATMUL_FLAGS_ALL		ANPU_MATMUL_ACCUMULATE

/* Bytes op @n_tensors occupies in a stream. */
#define ANPU_OP_SIZE(n_tensors) \
	(sizeof(struct anpu_op) + (n_tensors) * sizeof(struct anpu_tensor))

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_ANPU_ISA_H_ */
