/* SPDX-License-Identifier: MIT */
/*
 * libaccel: the userspace driver library of the ANPU.
 *
 * One API over two backends: the kernel driver (/dev/accel/accelN, driver
 * "anpu") and the in-process NPU "sim" (a userspace driver for the same
 * hardware interface, running the reference model in this process). Apart
 * from accel_device_info(), callers cannot tell the backends apart.
 *
 * Conventions
 *  - Every symbol starts with accel_ / ACCEL_. Handles are opaque pointers;
 *    every create or open function has a matching free or close.
 *  - Functions return 0 (or a count) on success and a negative errno on
 *    failure. The library never prints; accel_cmdbuf_error() and the job
 *    status carry details.
 *  - Structs whose options will grow are filled by *_default_params() first,
 *    then changed field by field, so new fields never break callers.
 *  - Thread safety: every function may be called from any thread, except that
 *    one command buffer is recorded (accel_cmd_*, accel_cmdbuf_set_op_label,
 *    accel_cmdbuf_finish) by one thread at a time. Finished command buffers
 *    may be submitted (to shared contexts) and their op labels read from many
 *    threads at once.
 *  - Misuse (a freed or stale handle, a double free, an object of another
 *    device) is caught and returns -EBADF or -EXDEV instead of crashing, as
 *    long as the device the object belonged to is still open: freed handles
 *    are kept recognisable in a bounded quarantine (the last 1024 freed
 *    objects of each device). Using any handle of a closed device is
 *    undefined.
 *  - Threads: the in-process backend runs the model's worker threads and ONE
 *    completion thread per NPU; the kernel backend runs ONE completion thread
 *    per device handle, started by the first submit with an on_complete
 *    callback or an observer installed (it sleeps on an eventfd the kernel
 *    signals; before it exists, completions are delivered by the library
 *    call that observes them). Neither creates a thread per job nor waits on
 *    the caller's thread except where a function says it blocks.
 *
 * Object lifetimes: a command buffer keeps the buffer objects it references
 * alive; a submitted job keeps its command buffer alive. So accel_bo_free()
 * and accel_cmdbuf_free() may be called while work that uses them is still in
 * flight. accel_device_close() frees every object created on the device.
 */
#ifndef ACCEL_H
#define ACCEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCEL_API_VERSION	1

/*
 * Marks the functions libaccel exports: the shared library is built with
 * -fvisibility=hidden, so nothing else (the backends, the reference model)
 * is visible to its users.
 */
#if defined(__GNUC__)
#define ACCEL_API	__attribute__((visibility("default")))
#else
#define ACCEL_API
#endif

struct accel_device;	/* an open device: one NPU address space (like an open fd) */
struct accel_bo;	/* a buffer object: device memory mapped into the device's address space */
struct accel_context;	/* a scheduling context: an ordered stream of jobs at one priority */
struct accel_cmdbuf;	/* a recorded command stream */
struct accel_profile;	/* a per-op profiling buffer a submit can fill */

/* ======================================================================= */
/* Devices                                                                 */
/* ======================================================================= */

enum accel_backend {
	ACCEL_BACKEND_KERNEL	= 1,	/* /dev/accel/accelN, anpu.ko */
	ACCEL_BACKEND_SIM	= 2,	/* the in-process NPU "sim" */
};

/* Capabilities (accel_device_info.caps); the values are the hardware's ANPU_CAP_*. */
#define ACCEL_CAP_PROFILING		(1u << 0)
#define ACCEL_CAP_FAULT_INJECTION	(1u << 1)
#define ACCEL_CAP_LARGE_PAGES		(1u << 2)
#define ACCEL_CAP_KV_F16		(1u << 3)

#define ACCEL_NUM_PRIORITIES	4

struct accel_device_info {
	enum accel_backend backend;
	char name[32];			/* "sim" or "accel0" ... */
	char path[64];			/* "sim" or "/dev/accel/accel0" */
	uint32_t hw_version;		/* major << 16 | minor */
	uint32_t isa_version;		/* command-stream ISA, major << 16 | minor */
	uint32_t caps;			/* ACCEL_CAP_* */
	uint32_t num_queues;		/* hardware queues (one per priority) */
	uint64_t mem_total;		/* device memory, bytes */
	uint64_t mem_limit;		/* bytes this device handle may allocate */
	uint32_t max_jobs_in_flight;	/* submitted, unfinished jobs of this NPU */
	uint32_t max_deps;		/* dependencies one submit may name */
	/* device clock -> CLOCK_MONOTONIC: host_ns = device_ns + clock_offset_ns */
	int64_t clock_offset_ns;
	uint64_t clock_uncertainty_ns;
	uint32_t model_threads;		/* sim: worker threads of the model; kernel: 0 */
	char simd[16];			/* sim: SIMD kernel path ("avx2", ...); kernel: "" */
};

/* Largest number of devices accel_device_enumerate() reports. */
#define ACCEL_MAX_DEVICES	16

/*
 * Write the paths of the ANPU kernel devices (/dev/accel/accelN whose
 * /sys/class/accel/accelN/device/driver is "anpu"), sorted by N, into
 * @paths[0..max). Returns how many exist (may exceed @max) or a negative
 * errno. The in-process "sim" is not listed: it always exists.
 */
ACCEL_API int accel_device_enumerate(char paths[][64], int max);

struct accel_device_params {
	/*
	 * Bytes of device memory this handle may allocate; 0: no limit beyond
	 * the device's memory. Allocations past it fail with -ENOMEM.
	 */
	uint64_t mem_limit;
	/*
	 * In-process NPU only, used by the first open of "sim" in a process
	 * (later opens share that NPU): device memory (power of two, 0: 1 GiB,
	 * reserved lazily), model worker threads (0: online cores), and the
	 * number of jobs in flight before submit applies back-pressure (0: 256,
	 * at most 1024).
	 */
	uint64_t sim_mem_size;
	unsigned int sim_threads;
	unsigned int sim_max_jobs;
};

ACCEL_API struct accel_device_params accel_device_default_params(void);

/*
 * Open a device. @name:
 *   NULL or ""          the default: $ANPU_DEVICE if set, else the first
 *                       kernel device, else the in-process NPU. Which one
 *                       was opened is in accel_device_info().backend.
 *   "sim"               the in-process NPU. Every "sim" handle in a process
 *                       shares one NPU (one device memory, one set of
 *                       queues) but has its own address space, like two
 *                       open fds of a kernel device.
 *   "/dev/accel/accelN" that kernel device; never falls back to "sim".
 *   "accelN"            same as /dev/accel/accelN.
 * ANPU_DEVICE takes the same values. A kernel device that cannot be opened
 * (missing, not an ANPU, no permission, kernel backend unavailable) is an
 * error (-ENODEV, -EACCES, -EOPNOTSUPP ...), never a silent switch to "sim".
 * @params may be NULL (defaults).
 */
ACCEL_API int accel_device_open(const char *name, const struct accel_device_params *params,
				struct accel_device **out);

/* Open kernel device number @index of accel_device_enumerate()'s list. */
ACCEL_API int accel_device_open_index(int index, const struct accel_device_params *params,
				      struct accel_device **out);

/*
 * Close a device: waits for its jobs (hung jobs are recovered by the device
 * watchdog), then frees every object created on it. -EBADF for a handle that
 * is not open.
 */
ACCEL_API int accel_device_close(struct accel_device *dev);

ACCEL_API int accel_device_info(const struct accel_device *dev, struct accel_device_info *info);

/* Bytes of device memory this handle has allocated now. */
ACCEL_API int accel_device_mem_used(struct accel_device *dev, uint64_t *bytes);

/* ======================================================================= */
/* Buffer objects                                                          */
/* ======================================================================= */

/* accel_bo_create() flags */
#define ACCEL_BO_NPU_READ_ONLY	(1u << 0)	/* NPU may read, never write (weights, commands) */
#define ACCEL_BO_NO_CLEAR	(1u << 1)	/* skip zeroing (the memory may hold old data of this device) */
#define ACCEL_BO_FLAGS_ALL	(ACCEL_BO_NPU_READ_ONLY | ACCEL_BO_NO_CLEAR)

/*
 * Allocate @size bytes of device memory and map them into the device's NPU
 * address space. BOs of 2 MiB and more are 2 MiB aligned and mapped with
 * 2 MiB pages; an unmapped guard page separates BOs in NPU address space.
 * -ENOMEM when the device (or this handle's mem_limit) is exhausted, -EINVAL
 * for size 0 or unknown flags.
 */
ACCEL_API int accel_bo_create(struct accel_device *dev, uint64_t size, uint32_t flags,
			      struct accel_bo **out);

/* What accel_bo_create_from_file() puts in a BO. */
struct accel_bo_file {
	int fd;			/* a regular file, open for reading */
	uint64_t offset;	/* a multiple of the host page size */
	uint64_t size;		/* > 0; offset + size within the file */
	uint32_t flags;		/* 0 (none defined yet) */
	/* optional: called as the bytes arrive (done == total at the end) */
	void (*progress)(void *user, uint64_t done, uint64_t total);
	void *progress_user;
};

/*
 * A BO holding the bytes [offset, offset + size) of a file, for weights: the
 * BO is ACCEL_BO_NPU_READ_ONLY, and not to be written through accel_bo_map()
 * either (in-process that mapping is read-only). In-process ("sim"), the
 * file's pages themselves back the device memory (mapped, not copied: a
 * model's weights are in memory once, as page cache, read as the NPU first
 * touches them); the file must not be truncated while the BO lives (as with
 * mmap). Through anpu.ko the range is read into a new BO and dropped from the
 * page cache behind the read. -EINVAL for a bad range or flags, -EBADF for a
 * bad fd (or one not open for reading), -ENOMEM as accel_bo_create(), -EIO
 * when the file ends early or a read fails.
 */
ACCEL_API int accel_bo_create_from_file(struct accel_device *dev, const struct accel_bo_file *src,
					struct accel_bo **out);

/*
 * Release the caller's handle. The memory is freed once no command buffer
 * references it any more. -EBADF for a freed or invalid handle.
 */
ACCEL_API int accel_bo_free(struct accel_bo *bo);

/* CPU pointer to the BO's memory (valid until the BO is freed); NULL for a bad handle. */
ACCEL_API void *accel_bo_map(struct accel_bo *bo);
ACCEL_API uint64_t accel_bo_size(const struct accel_bo *bo);	/* 0 for a bad handle */
	  uint64_t accel_bo_npu_addr(const struct accel_bo *bo);	/* 0 for a bad handle */
	  uint32_t accel_bo_flags(const struct accel_bo *bo);

/*
 * Share a BO with another device handle of the same NPU.
 * In-process: the token names the BO among the handles of this process's
 * "sim" NPU; import maps the same device memory into the importer's address
 * space (at its own NPU address) and returns a new handle; the memory lives
 * until every handle is freed. Importing into a device of another NPU or
 * backend gives -EXDEV; a stale token -ENOENT.
 * Kernel backend: the token is a PRIME (dma-buf) fd the caller must close.
 */
ACCEL_API int accel_bo_export(struct accel_bo *bo, int64_t *token);
ACCEL_API int accel_bo_import(struct accel_device *dev, int64_t token, struct accel_bo **out);

/* ======================================================================= */
/* Contexts                                                                */
/* ======================================================================= */

enum accel_priority {
	ACCEL_PRIORITY_LOW	= 0,
	ACCEL_PRIORITY_NORMAL	= 1,
	ACCEL_PRIORITY_HIGH	= 2,
	ACCEL_PRIORITY_REALTIME	= 3,	/* kernel backend: high and realtime need CAP_SYS_NICE */
};

struct accel_context_params {
	enum accel_priority priority;	/* default NORMAL */
	/*
	 * A job that makes no progress (no op finished) for this long while it
	 * runs is declared hung: its queue is reset, the job fails with
	 * -ETIMEDOUT, and innocent queued jobs are resubmitted. 0: 5000 ms.
	 */
	unsigned int hang_timeout_ms;
};

ACCEL_API struct accel_context_params accel_context_default_params(void);

ACCEL_API int accel_context_create(struct accel_device *dev,
				   const struct accel_context_params *params,
				   struct accel_context **out);
/* Waits for the context's submitted jobs to finish, then frees it. */
ACCEL_API int accel_context_free(struct accel_context *ctx);

/* ======================================================================= */
/* Tensors and command buffers                                             */
/* ======================================================================= */

/*
 * Data types: the numbering is GGML's (a GGUF tensor type id is its dtype);
 * ids from 64 are the NPU's own weight layouts (ISA 1.2).
 */
enum accel_dtype {
	ACCEL_F32	= 0,
	ACCEL_F16	= 1,
	ACCEL_Q4_0	= 2,
	ACCEL_Q4_1	= 3,
	ACCEL_Q5_0	= 6,
	ACCEL_Q5_1	= 7,
	ACCEL_Q8_0	= 8,
	ACCEL_Q4_K	= 12,
	ACCEL_Q5_K	= 13,
	ACCEL_Q6_K	= 14,
	ACCEL_I32	= 26,
	ACCEL_BF16	= 30,
	ACCEL_Q5_0L	= 64,	/* Q5_0 regrouped for the dot-product lanes (ISA 1.2) */
	ACCEL_Q4_KL	= 65,	/* Q4_K rows interleaved 16 at a time (ISA 1.3) */
	ACCEL_Q6_KL	= 66,	/* Q6_K rows interleaved the same way (ISA 1.4) */
	ACCEL_Q4_0L	= 67,	/* Q4_0 rows interleaved the same way (ISA 1.5) */
};

/* Name of a dtype ("F32", "Q4_K", ...), "?" if unknown. */
ACCEL_API const char *accel_dtype_name(uint32_t dtype);

/*
 * A tensor operand: @offset bytes into @bo, @ne elements per dimension
 * (ne[0] innermost, every entry >= 1), @nb byte strides of dimensions 1..3
 * (nb[0] = distance between rows). Rows are packed; block types (Q*) have
 * rows of whole blocks. Every tensor must lie inside its BO.
 */
struct accel_tensor {
	struct accel_bo *bo;
	uint64_t offset;
	uint32_t dtype;		/* enum accel_dtype */
	uint32_t ne[4];
	uint64_t nb[3];
};

/* A packed tensor of shape [ne0, ne1, ne2, ne3] (pass 1 for unused dimensions). */
ACCEL_API struct accel_tensor accel_tensor_packed(struct accel_bo *bo, uint64_t offset,
						  uint32_t dtype, uint32_t ne0, uint32_t ne1,
						  uint32_t ne2, uint32_t ne3);

/* Bytes from the first byte of @t to one past its last (its extent), 0 if malformed. */
ACCEL_API uint64_t accel_tensor_bytes(const struct accel_tensor *t);

/* A scalar operand: an immediate, or a step-parameter slot read at submit time. */
struct accel_scalar {
	uint32_t is_step;	/* 0: @value is the scalar; 1: @value is a step slot */
	uint32_t value;
};

static inline struct accel_scalar accel_imm(uint32_t value)
{
	struct accel_scalar s = { 0, value };
	return s;
}

static inline struct accel_scalar accel_step(uint32_t slot)
{
	struct accel_scalar s = { 1, slot };
	return s;
}

#define ACCEL_MAX_STEP_PARAMS	64

struct accel_cmdbuf_params {
	/* Step-parameter slots the command buffer uses (0..ACCEL_MAX_STEP_PARAMS). */
	unsigned int step_params;
	/* Short label shown to observers (e.g. "decode"); copied. May be NULL. */
	const char *label;
};

ACCEL_API struct accel_cmdbuf_params accel_cmdbuf_default_params(void);

ACCEL_API int accel_cmdbuf_create(struct accel_device *dev,
				  const struct accel_cmdbuf_params *params,
				  struct accel_cmdbuf **out);
/* Release the handle; a job still using the command buffer keeps it alive. */
ACCEL_API int accel_cmdbuf_free(struct accel_cmdbuf *cb);

/*
 * Encoders: one per ISA op. Each validates its operands against the ISA
 * (dtypes, shapes, strides, alignment, parameters) and checks that every
 * tensor lies inside a live BO of the command buffer's device, then appends
 * the op. On error nothing is appended, -EINVAL (or -EBADF/-EXDEV for a bad
 * or foreign BO, -E2BIG past the stream limits, -EBUSY after finish) is
 * returned, and accel_cmdbuf_error() names the op and the field, e.g.
 *   "op 3 MATMUL: w.ne[0] = 96 != x.ne[0] = 64".
 * Outputs need a BO without ACCEL_BO_NPU_READ_ONLY.
 */
ACCEL_API int accel_cmd_nop(struct accel_cmdbuf *cb);
/* dst I32 [2]: the device clock (ns) when the op runs, as a little-endian u64. */
ACCEL_API int accel_cmd_timestamp(struct accel_cmdbuf *cb, const struct accel_tensor *dst);
/* table (weight dtype) [dim, vocab], ids I32 [M], dst F32/F16 [dim, M] */
ACCEL_API int accel_cmd_embed(struct accel_cmdbuf *cb, const struct accel_tensor *table,
			      const struct accel_tensor *ids, const struct accel_tensor *dst);

#define ACCEL_MATMUL_ACCUMULATE	(1u << 0)	/* y += x . w^T (+ bias) */
/* x F32 [K, M, ...], w (weight dtype) [K, N], bias F32 [N] or NULL, y F32 [N, M, ...] */
ACCEL_API int accel_cmd_matmul(struct accel_cmdbuf *cb, const struct accel_tensor *x,
			       const struct accel_tensor *w, const struct accel_tensor *bias,
			       const struct accel_tensor *y, uint32_t flags);
/* y = x / sqrt(mean(x^2) + eps) * w per row; x, y F32 [D, ...], w F32 [D] */
ACCEL_API int accel_cmd_rmsnorm(struct accel_cmdbuf *cb, const struct accel_tensor *x,
				const struct accel_tensor *w, const struct accel_tensor *y, float eps);

enum accel_rope_mode {
	ACCEL_ROPE_NORMAL	= 0,	/* pairs (2i, 2i+1): Llama */
	ACCEL_ROPE_NEOX		= 1,	/* pairs (i, i + n_rot/2): Qwen */
};

/* Fill from accel_rope_default_params(): fields may be added. */
struct accel_rope_params {
	enum accel_rope_mode mode;
	uint32_t n_rot;			/* even, 2..head_dim (default 0: must be set) */
	float theta_base;		/* 10000, 1e6, ... */
	float freq_scale;		/* 1.0 unless scaled */
	struct accel_scalar pos;	/* position of token 0 */
	/*
	 * NULL, or F32 [n_rot/2]: angle i is divided by factor i (Llama 3's
	 * rope_freqs.weight, ggml's rope_ext). Needs ISA 1.1.
	 */
	const struct accel_tensor *freq_factors;
};

/* NORMAL mode, n_rot 0 (set it), theta_base 10000, freq_scale 1, pos 0, no factors. */
ACCEL_API struct accel_rope_params accel_rope_default_params(void);

/* x, y F32 [head_dim, n_heads, M] */
ACCEL_API int accel_cmd_rope(struct accel_cmdbuf *cb, const struct accel_tensor *x,
			     const struct accel_tensor *y, const struct accel_rope_params *p);
/* cache rows pos.. = src rows; src F32 [kv_dim, M], cache F16/F32 [kv_dim, ctx] */
ACCEL_API int accel_cmd_kv_store(struct accel_cmdbuf *cb, const struct accel_tensor *src,
				 const struct accel_tensor *cache, struct accel_scalar pos);
/* causal GQA attention: q, out F32 [head_dim, n_head, M]; k, v F16/F32 [head_dim*n_kv, ctx] */
ACCEL_API int accel_cmd_attention(struct accel_cmdbuf *cb, const struct accel_tensor *q,
				  const struct accel_tensor *k, const struct accel_tensor *v,
				  const struct accel_tensor *out, float scale, struct accel_scalar pos);
/* y = silu(gate) * up, all F32, one shape */
ACCEL_API int accel_cmd_swiglu(struct accel_cmdbuf *cb, const struct accel_tensor *gate,
			       const struct accel_tensor *up, const struct accel_tensor *y);
/*
 * Elementwise, all F32; y has a's shape and b broadcasts over a (each of b's
 * dimensions is 1 or a's).
 * accel_cmd_add: y = a + b.  accel_cmd_mul: y = a * b.
 */
ACCEL_API int accel_cmd_add(struct accel_cmdbuf *cb, const struct accel_tensor *a,
			    const struct accel_tensor *b, const struct accel_tensor *y);
ACCEL_API int accel_cmd_mul(struct accel_cmdbuf *cb, const struct accel_tensor *a,
			    const struct accel_tensor *b, const struct accel_tensor *y);
/* y = x * s */
ACCEL_API int accel_cmd_scale(struct accel_cmdbuf *cb, const struct accel_tensor *x,
			      const struct accel_tensor *y, float s);
/* y = softmax(x * scale) per row */
ACCEL_API int accel_cmd_softmax(struct accel_cmdbuf *cb, const struct accel_tensor *x,
				const struct accel_tensor *y, float scale);
/* y I32 [1, rows...] = index of the row maximum of x F32 [N, rows...] */
ACCEL_API int accel_cmd_argmax(struct accel_cmdbuf *cb, const struct accel_tensor *x,
			       const struct accel_tensor *y);
/*
 * dst = src row for row, bit for bit; src, dst F16/F32, the same dtype and shape,
 * strides free (e.g. a session's KV cache rows into another's, to fork it on the
 * device). src and dst must not overlap. Needs ISA 1.1.
 */
ACCEL_API int accel_cmd_copy(struct accel_cmdbuf *cb, const struct accel_tensor *src,
			     const struct accel_tensor *dst);

/*
 * End recording: the stream is written into an NPU-read-only BO. After this
 * the command buffer can be submitted any number of times and accepts no
 * more ops (-EBUSY). -EINVAL for an empty command buffer.
 */
ACCEL_API int accel_cmdbuf_finish(struct accel_cmdbuf *cb);

/* The last recording error (or "" when none). Valid until the next encoder call. */
ACCEL_API const char *accel_cmdbuf_error(const struct accel_cmdbuf *cb);
/* Ops recorded so far (readable as accel_cmdbuf_op_label() says; 0 for a bad handle). */
ACCEL_API uint32_t accel_cmdbuf_op_count(const struct accel_cmdbuf *cb);

/*
 * Op labels: names the caller gives ops (the model's layer and role, e.g.
 * "blk.3.attn_q"), kept host-side with the command buffer (the command stream
 * and the ISA do not carry them) and handed back with its profiling records
 * (accel_op_profile.label), to observers (the events' cmdbuf) and by
 * accel_cmdbuf_describe_op(), so profiles and traces speak the model's language.
 *
 * A label is attached to an op already recorded, by its index (the encoders
 * return 0, so the op just recorded is accel_cmdbuf_op_count() - 1): a graph
 * builder labels each op after its encoder succeeded, and names the op in its
 * error message when it failed. Labels are set while recording only; from
 * accel_cmdbuf_finish() on they are fixed, so a finished command buffer
 * resubmitted any number of times (a decode step) keeps them and every thread
 * may read them without locking.
 *
 * Storage: the label is copied into one string arena of the command buffer
 * (no allocation per op); labelling an op again replaces its label. Labels
 * live as long as the command buffer: until it is freed and no job or
 * profiling buffer refers to it any more.
 */
#define ACCEL_OP_LABEL_MAX	64	/* bytes of a label, with its NUL */

/*
 * Label op @op_index (0 .. op count - 1) with @label, or with "" remove its
 * label. A label is at most ACCEL_OP_LABEL_MAX - 1 bytes of text without
 * control characters (bytes 0x01-0x1f, 0x7f): traces print it as is. It is
 * refused, not truncated: -ENAMETOOLONG for a longer one, -EINVAL for NULL,
 * a control character or an op index that is not recorded, -EBUSY after
 * finish, -EBADF for a bad handle. On error the op keeps its label and
 * accel_cmdbuf_error() says why.
 */
ACCEL_API int accel_cmdbuf_set_op_label(struct accel_cmdbuf *cb, uint32_t op_index,
					const char *label);

/*
 * The label of op @op_index: "" if it has none, NULL for a bad handle or an
 * index that is not recorded. Valid until the next accel_cmdbuf_set_op_label()
 * or accel_cmdbuf_finish() on @cb, then (finished) as long as @cb lives.
 * Works on a command buffer whose handle the caller freed while a job or a
 * profiling buffer still refers to it (an observer's event, accel_profile_cmdbuf()).
 */
ACCEL_API const char *accel_cmdbuf_op_label(const struct accel_cmdbuf *cb, uint32_t op_index);

#define ACCEL_OP_MAX_TENSORS	6

/* One tensor operand of an op, as the command stream holds it. */
struct accel_op_tensor_desc {
	const char *role;		/* "x", "w", "y", "bias", "cache", ... (accel.h's encoders) */
	uint32_t dtype;			/* enum accel_dtype */
	uint32_t written;		/* 1: the op writes it (its output) */
	uint32_t ne[4];
	uint64_t nb[3];
	uint64_t npu_addr;		/* device address of its first byte */
};

/* What op i of a command buffer is: derived from the encoded op, plus its label. */
struct accel_op_desc {
	uint32_t op_index;
	uint32_t opcode;		/* ISA opcode (accel_op_name()) */
	uint32_t flags;			/* ACCEL_MATMUL_* */
	uint32_t n_tensors;
	const char *label;		/* as accel_cmdbuf_op_label() */
	struct accel_op_tensor_desc tensors[ACCEL_OP_MAX_TENSORS];	/* [n_tensors], ISA order */
};

/*
 * Describe op @op_index of @cb (recording or finished): opcode, flags, label
 * and the dtype and shape of each tensor in the order the encoder takes them
 * (MATMUL: x, w, y, bias). -EINVAL for an index that is not recorded or NULL
 * @desc, -EBADF for a bad handle. The pointers in @desc live as
 * accel_cmdbuf_op_label()'s.
 */
ACCEL_API int accel_cmdbuf_describe_op(const struct accel_cmdbuf *cb, uint32_t op_index,
				       struct accel_op_desc *desc);

/* ======================================================================= */
/* Submission and fences                                                   */
/* ======================================================================= */

/*
 * A fence names one submitted job: a point on its context's timeline.
 * It is a plain value (copy it freely); it stays valid after its context is
 * freed (it then counts as signaled).
 */
struct accel_fence {
	uint64_t seqno;		/* 1, 2, ... per context */
	uint32_t context_id;
	uint32_t device_id;	/* the NPU it belongs to */
};

#define ACCEL_SUBMIT_NONBLOCK	(1u << 0)	/* -EAGAIN instead of blocking when the NPU's job slots are full */

/* Job outcome (accel_job_status.result); the values are the hardware's. */
enum accel_job_result {
	ACCEL_RESULT_OK		= 0,
	ACCEL_RESULT_INVALID	= 1,	/* rejected by the NPU's validation; no op ran */
	ACCEL_RESULT_FAULT	= 2,	/* MMU fault, execution error or injected fault */
	ACCEL_RESULT_ABORTED	= 3,	/* hung and ended by a reset */
};

struct accel_job_status {
	int error;			/* 0; -EINVAL invalid stream; -EFAULT MMU fault;
					   -EIO execution/injected fault; -ETIMEDOUT hung
					   (ended by recovery); -ECANCELED lost in a reset */
	uint32_t result;		/* enum accel_job_result */
	uint32_t cause;			/* hardware cause (accel_cause_name()) */
	uint32_t op_index;		/* op where the job stopped (op count when it completed) */
	uint32_t ops_done;
	uint64_t fault_addr;		/* NPU address at fault, when the cause has one */
	uint32_t queue;			/* hardware queue = priority */
	uint32_t reserved;
	uint64_t device_start_ns;	/* device clock */
	uint64_t device_end_ns;
	int64_t start_ns;		/* the same on CLOCK_MONOTONIC (calibrated) */
	int64_t end_ns;
	int64_t submit_ns;		/* CLOCK_MONOTONIC when accel_submit() queued it */
};

/* Name of a hardware cause ("NONE", "UNMAPPED", "INJECTED", ...). */
ACCEL_API const char *accel_cause_name(uint32_t cause);

typedef void (*accel_complete_fn)(void *user, const struct accel_fence *fence,
				  const struct accel_job_status *status);

struct accel_submit_params {
	/* Jobs (of any context, device handle or queue of the same NPU) that must finish first. */
	const struct accel_fence *deps;
	unsigned int n_deps;
	/* Values for the command buffer's step-parameter slots (n <= its step_params). */
	const uint32_t *step_params;
	unsigned int n_step_params;
	/* Fill this profiling buffer with one record per op (NULL: no profiling). */
	struct accel_profile *profile;
	uint32_t flags;			/* ACCEL_SUBMIT_* */
	/*
	 * Called once when the job finished, on the library's completion thread
	 * (both backends; the kernel backend starts its thread with the first
	 * submit that has a callback or meets an observer). It must not block
	 * (nor free a context or close the device); it may submit with
	 * ACCEL_SUBMIT_NONBLOCK.
	 */
	accel_complete_fn on_complete;
	void *user;
};

ACCEL_API struct accel_submit_params accel_submit_default_params(void);

/*
 * Queue @cb on @ctx. Never waits for dependencies on the caller's thread:
 * a job whose dependencies are not finished is held by the library (and
 * holds back later jobs of its context: jobs of one context run in submit
 * order) and released when they finish. Blocks only while the NPU has
 * max_jobs_in_flight unfinished jobs (back-pressure), or returns -EAGAIN
 * with ACCEL_SUBMIT_NONBLOCK. A command buffer with step parameters runs its
 * submissions one after another (each waits for the previous one to finish,
 * because the values are read by the NPU when the job starts; neither backend
 * waits for that on the caller's thread).
 * @params may be NULL. On success *@out (may be NULL) names the job.
 * A dependency on a fence that is not known (never submitted) is -EINVAL.
 */
ACCEL_API int accel_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
			   const struct accel_submit_params *params, struct accel_fence *out);

/*
 * Wait until the job finished. @timeout_ns < 0 waits forever, 0 polls.
 * Returns 0 if it finished successfully, -EIO if it finished with an error
 * (accel_fence_status() says which), -ETIMEDOUT if not finished in time.
 */
ACCEL_API int accel_fence_wait(struct accel_device *dev, const struct accel_fence *fence,
			       int64_t timeout_ns);
/* Wait for all @n fences (same return values; the first error wins). */
ACCEL_API int accel_fence_wait_all(struct accel_device *dev, const struct accel_fence *fences,
				   unsigned int n, int64_t timeout_ns);
/* Non-blocking: 1 finished, 0 not yet, negative errno for a bad fence. */
ACCEL_API int accel_fence_poll(struct accel_device *dev, const struct accel_fence *fence);
/*
 * The finished job's status. -EAGAIN if it has not finished, -ENOENT if its
 * record is gone (each context keeps its last 256 jobs; a freed context none;
 * kernel backend: the kernel's last 256 per context, plus the statuses the
 * library fetched when it delivered completions).
 */
ACCEL_API int accel_fence_status(struct accel_device *dev, const struct accel_fence *fence,
				 struct accel_job_status *status);
/*
 * A file descriptor that becomes readable (POLLIN) when the job finished:
 * an eventfd in-process, a sync_file in the kernel backend. The caller
 * closes it.
 */
ACCEL_API int accel_fence_export_fd(struct accel_device *dev, const struct accel_fence *fence,
				    int *fd);

/* ======================================================================= */
/* Profiling                                                               */
/* ======================================================================= */

struct accel_op_profile {
	uint32_t op_index;
	uint32_t opcode;		/* ISA opcode (accel_op_name()) */
	uint32_t dtype;			/* MATMUL/EMBED: weight dtype; else tensor 0's */
	uint32_t reserved;
	uint64_t device_start_ns;	/* device clock */
	uint64_t device_end_ns;
	int64_t start_ns;		/* CLOCK_MONOTONIC (calibrated) */
	int64_t end_ns;
	uint64_t cycles;		/* modeled NPU cycles at 1 GHz */
	uint64_t bytes;			/* modeled DRAM bytes */
	uint64_t macs;
	/*
	 * The op's label in its command buffer ("" if none; see
	 * accel_cmdbuf_set_op_label()). Valid until @prof is freed or filled
	 * by another job: the profile keeps the command buffer of the job that
	 * filled it (accel_profile_cmdbuf()).
	 */
	const char *label;
};

/* Name of an ISA opcode ("MATMUL", ...), "?" if unknown. */
ACCEL_API const char *accel_op_name(uint32_t opcode);

/*
 * A profiling buffer for jobs of up to @max_ops ops (device memory).
 * Pass it in accel_submit_params.profile; one job at a time may fill it
 * (-EBUSY while a job that uses it is in flight).
 */
ACCEL_API int accel_profile_create(struct accel_device *dev, unsigned int max_ops,
				   struct accel_profile **out);
ACCEL_API int accel_profile_free(struct accel_profile *prof);
/*
 * Copy the records of the last job that filled @prof (after its fence
 * finished) into @records[0..max). Returns the number of records the job
 * wrote (may exceed @max), -EAGAIN while that job runs, -ENODATA if no job
 * wrote it. *@dropped (may be NULL) gets ops the buffer had no room for.
 */
ACCEL_API int accel_profile_read(struct accel_profile *prof, struct accel_op_profile *records,
				 unsigned int max, unsigned int *dropped);

/*
 * The command buffer of the last job that filled @prof (its records' op_index
 * are op indices of it: pass it to accel_cmdbuf_describe_op() for the ops'
 * shapes), NULL if it holds no records. The profile holds a reference, so
 * it stays readable even after accel_cmdbuf_free(), until @prof is freed or
 * filled by another job. Do not submit or free it through this pointer.
 */
ACCEL_API const struct accel_cmdbuf *accel_profile_cmdbuf(struct accel_profile *prof);

/* ======================================================================= */
/* Observation (tracing tools)                                             */
/* ======================================================================= */

/*
 * @cmdbuf in both events is the job's command buffer, valid during the
 * callback: its op labels and shapes are accel_cmdbuf_op_label(ev->cmdbuf, i)
 * and accel_cmdbuf_describe_op() (status.op_index names the op a failed job
 * stopped at). Do not submit or free it through this pointer.
 */
struct accel_submit_event {
	struct accel_fence fence;
	enum accel_priority priority;
	uint32_t op_count;
	const char *label;		/* the command buffer's label ("" if none) */
	unsigned int n_deps;
	int64_t submit_ns;		/* CLOCK_MONOTONIC */
	const struct accel_cmdbuf *cmdbuf;
};

struct accel_complete_event {
	struct accel_fence fence;
	enum accel_priority priority;
	const char *label;
	struct accel_job_status status;
	const struct accel_cmdbuf *cmdbuf;
};

/*
 * An observer sees every submit (on the submitting thread, after the job is
 * queued) and every completion (on the completion thread) of one device
 * handle. Callbacks must not block and must not call accel_device_set_observer().
 */
struct accel_observer {
	void (*on_submit)(void *user, const struct accel_submit_event *ev);
	void (*on_complete)(void *user, const struct accel_complete_event *ev);
	void *user;
};

/* Install (copied) or, with NULL, remove the device's observer. */
ACCEL_API int accel_device_set_observer(struct accel_device *dev, const struct accel_observer *obs);

/* ======================================================================= */
/* Trace mode (anpu-trace)                                                 */
/* ======================================================================= */

/*
 * Trace mode: when the environment variable ANPU_TRACE names a file at the
 * first device open (or first accel_trace_* call) of the process, libaccel
 * writes a trace of the process there, and otherwise does nothing at all
 * (one branch per submit). `anpu-trace record -- CMD` sets it for CMD and
 * converts the file to Chrome trace JSON; the format is described in
 * docs/libaccel.md ("Trace mode"). In trace mode libaccel
 *  - attaches a profiling buffer of its own to every submit that has none
 *    (the caller's code does not change) and records each finished job:
 *    queue, context, sequence, submit/start/end and each op's start/end,
 *    modeled cycles, bytes and MACs, all on CLOCK_MONOTONIC (device clock
 *    calibrated by the backend: accel_device_info.clock_offset_ns);
 *  - describes each command buffer once (op names, labels, tensor shapes);
 *  - records the CPU spans the caller marks with accel_trace_span_begin/end.
 * Records are buffered in memory and written by a background thread, at
 * accel_device_close() and at exit (atexit); a process killed by a signal
 * loses at most the last ~200 ms. A forked child stops tracing (the parent
 * owns the file); a program it executes inherits ANPU_TRACE and would start
 * the file again: unset it before starting other programs that use libaccel.
 */
#define ACCEL_TRACE_ENV		"ANPU_TRACE"

/*
 * 1 if trace mode is on, 0 if ANPU_TRACE is unset or empty, a negative errno
 * if it is set but its file cannot be created (trace mode then stays off).
 */
ACCEL_API int accel_trace_enabled(void);

/*
 * A CPU span of the calling thread: t = accel_trace_span_begin(); ...work...;
 * accel_trace_span_end("decode", t). begin returns CLOCK_MONOTONIC ns in
 * trace mode and 0 otherwise; end with 0 does nothing, so both cost one
 * load and a branch when tracing is off. @name is copied (at most 63 bytes
 * are kept). Spans of one thread should nest (like function calls).
 */
ACCEL_API int64_t accel_trace_span_begin(void);
ACCEL_API void accel_trace_span_end(const char *name, int64_t begin_ns);

/* Write the records buffered so far to the trace file (0, or a negative errno). */
ACCEL_API int accel_trace_flush(void);

/* ======================================================================= */
/* Test support                                                            */
/* ======================================================================= */

/* Fault injection (devices with ACCEL_CAP_FAULT_INJECTION; test use only). */
enum accel_fault {
	ACCEL_FAULT_NONE	= 0,
	ACCEL_FAULT_HANG	= 1,	/* the next job of the queue hangs (the watchdog recovers it) */
	ACCEL_FAULT_FAULT	= 2,	/* the next job fails with an injected fault */
	ACCEL_FAULT_FAIL_RESET	= 3,	/* the next queue reset fails (recovery escalates) */
};
#define ACCEL_FAULT_STICKY	(1u << 8)	/* every time instead of once */

/*
 * Arm fault @fault (| ACCEL_FAULT_STICKY) on the hardware queue of
 * @priority. Test-only: it affects every user of the NPU. -EOPNOTSUPP on
 * a device without the capability (or a kernel that hides it).
 */
ACCEL_API int accel_device_inject_fault(struct accel_device *dev, enum accel_priority priority,
					uint32_t fault);

/* Device-level recovery counters (queue resets, device resets) since the NPU was opened. */
struct accel_device_stats {
	uint64_t jobs_submitted;
	uint64_t jobs_completed;
	uint64_t jobs_failed;
	uint64_t queue_resets;
	uint64_t device_resets;
	uint64_t jobs_resubmitted;
};
ACCEL_API int accel_device_stats(struct accel_device *dev, struct accel_device_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* ACCEL_H */
