/* SPDX-License-Identifier: MIT */
/*
 * libaccel internals shared by the front end (handles, command buffers,
 * validation) and the backends (kernel, in-process), which plug in through
 * struct accel_backend_ops.
 */
#ifndef ACCEL_INTERNAL_H
#define ACCEL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "libaccel/include/accel.h"

/* Object kinds; a live object's magic is its kind's, a freed one's ACCEL_MAGIC_DEAD. */
#define ACCEL_MAGIC_DEVICE	0x41444556u	/* "ADEV" */
#define ACCEL_MAGIC_BO		0x41424f5fu
#define ACCEL_MAGIC_CONTEXT	0x41435458u
#define ACCEL_MAGIC_CMDBUF	0x41434d44u
#define ACCEL_MAGIC_PROFILE	0x41505246u
#define ACCEL_MAGIC_DEAD	0xdeadacc1u

/* Freed objects kept recognisable per device (see accel.h, "Misuse"). */
#define ACCEL_QUARANTINE	1024
#define ACCEL_MAX_DEPS		16

/* Header of every object: what it is, whose it is, and its place in the device's lists. */
struct accel_obj {
	_Atomic uint32_t magic;
	uint32_t kind;			/* ACCEL_MAGIC_* of the live object */
	struct accel_device *dev;
	struct accel_obj *prev, *next;	/* live list or quarantine of dev */
};

struct accel_bo {
	struct accel_obj obj;
	uint64_t size;			/* bytes the caller asked for */
	uint64_t npu_addr;
	uint32_t flags;
	void *host;
	atomic_int refs;		/* the handle + command buffers that use the BO */
	bool handle_live;		/* the caller's handle is not freed yet */
	bool imported;			/* memory belongs to an exporter (not charged to dev) */
	void *priv;			/* backend */
};

struct accel_context {
	struct accel_obj obj;
	struct accel_context_params params;
	void *priv;			/* backend */
};

/* Host-side bookkeeping of one op (op_label.c): never part of the command stream. */
struct accel_op_meta {
	uint32_t stream_off;		/* byte offset of the op's struct anpu_op in stream */
	uint32_t label_off;		/* offset of its label in label_arena; 0: no label */
	uint8_t written;		/* bit i: the op writes tensor i (its output) */
};

struct accel_cmdbuf {
	struct accel_obj obj;
	unsigned int step_params;
	char label[32];
	uint8_t *stream;		/* host copy (kept after finish: op descriptions read it) */
	size_t size, cap;
	uint32_t op_count;
	struct accel_op_meta *ops;	/* [op_count], capacity cap_ops */
	uint32_t cap_ops;
	/* op labels, NUL-terminated back to back; byte 0 is the empty label */
	char *label_arena;
	uint32_t arena_size, arena_cap;
	uint16_t isa_minor;		/* highest ISA minor an op needs (header's) */
	bool finished;
	char err[192];
	struct accel_bo *stream_bo;	/* after finish: header + ops + step slots */
	uint64_t step_addr;		/* NPU address of the step-parameter slots */
	uint32_t stream_size;
	struct accel_bo **bos;		/* BOs referenced (each holds one ref) */
	uint8_t *bo_written;		/* per BO: an op writes it (an output) */
	unsigned int n_bos, cap_bos;
	atomic_int refs;		/* the handle + jobs in flight */
	bool handle_live;
	/* last submission, for serialising step-parameter writes (backend, under its lock) */
	struct accel_fence last_submit;
	void *priv;			/* backend (released by ops->cmdbuf_release) */
	uint32_t trace_id;		/* trace mode: id of its description (writer's); 0: none yet */
};

struct accel_profile {
	struct accel_obj obj;
	struct accel_bo *bo;
	unsigned int max_ops;
	/* lock protects cb: the command buffer of the job that last filled the profile
	 * (one reference, for its op labels), switched when that job is delivered */
	pthread_mutex_t lock;
	struct accel_cmdbuf *cb;
	atomic_int refs;		/* the handle + the job filling it */
	atomic_int busy;		/* a job that fills it is in flight */
	atomic_int written;
	bool handle_live;
	/* trace mode: a buffer of the trace's pool (trace_job.c), next free one */
	bool trace_owned;
	struct accel_profile *trace_next;
};

/*
 * Backend operations. Functions return 0 or a negative errno. The front end
 * validates handles and arguments; backends do the device work.
 */
struct accel_backend_ops {
	const char *name;
	int (*open)(struct accel_device *dev, const char *path,
		    const struct accel_device_params *params);
	void (*close)(struct accel_device *dev);
	/* Allocate and map bo->size bytes with bo->flags: sets npu_addr, host, priv. */
	int (*bo_alloc)(struct accel_device *dev, struct accel_bo *bo);
	void (*bo_release)(struct accel_device *dev, struct accel_bo *bo);
	/* Optional: back a new BO (bo_alloc'd, read-only) with the file's pages
	 * [offset, offset + bo->size) instead of a copy (front end checked the range);
	 * -EOPNOTSUPP: this file cannot be mapped, the front end copies it. */
	int (*bo_map_file)(struct accel_device *dev, struct accel_bo *bo, int fd, uint64_t offset);
	int (*bo_export)(struct accel_bo *bo, int64_t *token);
	/* Map the exported memory @token: sets size, flags, npu_addr, host, priv. */
	int (*bo_import)(struct accel_device *dev, int64_t token, struct accel_bo *bo);
	int (*context_create)(struct accel_device *dev, struct accel_context *ctx);
	/* Waits until the context's jobs are finished and delivered. */
	void (*context_destroy)(struct accel_device *dev, struct accel_context *ctx);
	/* The front end holds a cmdbuf ref (and profile ref) for the job; the backend
	 * drops them through accel_job_delivered() when the job is finished. */
	int (*submit)(struct accel_context *ctx, struct accel_cmdbuf *cb,
		      const struct accel_submit_params *p, struct accel_fence *out,
		      int64_t submit_ns);
	int (*fence_wait)(struct accel_device *dev, const struct accel_fence *f,
			  int64_t timeout_ns);
	int (*fence_poll)(struct accel_device *dev, const struct accel_fence *f);
	int (*fence_status)(struct accel_device *dev, const struct accel_fence *f,
			    struct accel_job_status *st);
	int (*fence_export_fd)(struct accel_device *dev, const struct accel_fence *f, int *fd);
	/* Optional: the last reference to @cb goes (before its stream BO is freed). */
	void (*cmdbuf_release)(struct accel_cmdbuf *cb);
	int (*inject_fault)(struct accel_device *dev, unsigned int queue, uint32_t mode);
	int (*stats)(struct accel_device *dev, struct accel_device_stats *stats);
};

extern const struct accel_backend_ops accel_inproc_backend;
extern const struct accel_backend_ops accel_kernel_backend;

struct accel_device {
	struct accel_obj obj;
	const struct accel_backend_ops *ops;
	void *priv;				/* backend */
	struct accel_device_info info;
	uint64_t mem_limit;
	/* lock protects: mem_used, the live lists, the quarantine */
	pthread_mutex_t lock;
	uint64_t mem_used;
	struct accel_obj live;			/* list head of live objects */
	struct accel_obj quarantine;		/* list head of freed objects, oldest first */
	unsigned int n_quarantine;
	/* the observer: replaced as a whole, old copies freed at close */
	_Atomic(struct accel_observer *) observer;
	struct accel_observer *old_observers[8];
	unsigned int n_old_observers;
	struct accel_trace_dev *trace;		/* trace mode: NULL when off (trace_job.c) */
};

/* ---- object helpers (device.c) ---- */
void accel_obj_init(struct accel_device *dev, struct accel_obj *obj, uint32_t kind);
/* Mark dead and move to the quarantine (frees the oldest beyond the bound). */
void accel_obj_bury(struct accel_obj *obj);
/* 0 if @obj is a live object of @kind; -EBADF otherwise. */
int accel_obj_check(const void *obj, uint32_t kind);

/* ---- called by backends when a job finished (completion thread) ---- */
struct accel_done {
	struct accel_device *dev;
	struct accel_cmdbuf *cb;
	struct accel_profile *prof;
	enum accel_priority priority;
	struct accel_fence fence;
	struct accel_job_status status;
	accel_complete_fn fn;
	void *user;
};
/* Observer, callback, then drops the job's cmdbuf/profile references. */
void accel_job_delivered(const struct accel_done *d);

/* ---- buffer objects (bo.c) ---- */
void accel_bo_unref(struct accel_bo *bo);
/* Front-end BO creation for internal users (the command stream). */
int accel_bo_create_internal(struct accel_device *dev, uint64_t size, uint32_t flags,
			     struct accel_bo **out);

void accel_cmdbuf_unref(struct accel_cmdbuf *cb);
void accel_profile_unref(struct accel_profile *prof);
/* The job that filled @prof is delivered: its records are those of @cb's ops. */
void accel_profile_filled_by(struct accel_profile *prof, struct accel_cmdbuf *cb);

/* ---- op metadata (op_label.c) ---- */
/*
 * Note op cb->op_count, about to be appended at stream offset @stream_off,
 * writing the tensors of bit mask @written; -ENOMEM.
 */
int accel_op_meta_add(struct accel_cmdbuf *cb, uint32_t stream_off, uint8_t written);
/* Give back the unused capacity of the op table and label arena (finish). */
void accel_op_meta_trim(struct accel_cmdbuf *cb);
/*
 * 0 if @cb may be read: a live handle, or one the caller freed that a job or
 * a profiling buffer still holds (its magic is dead, its memory not yet); -EBADF.
 */
int accel_cmdbuf_readable(const struct accel_cmdbuf *cb);
/* Label of op @i of a readable command buffer, "" if none or out of range. */
const char *accel_op_label_of(const struct accel_cmdbuf *cb, uint32_t i);

/* ---- trace mode (trace.c: state, spans, writer; trace_job.c: jobs) ---- */
/* Text the writer appends to (grows; on allocation failure the line is dropped). */
struct accel_trace_text {
	char *p;
	size_t len, cap;
	bool fixed;		/* p is the caller's array: never reallocated */
};
void accel_trace_printf(struct accel_trace_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A JSON string (quoted, escaped). */
void accel_trace_json_str(struct accel_trace_text *t, const char *s);

/* One finished job, captured on the completion thread, formatted by the writer. */
struct accel_trace_job {
	struct accel_trace_job *next;
	struct accel_cmdbuf *cb;	/* one reference, dropped after formatting */
	struct accel_fence fence;
	char device[32];		/* accel_device_info.name */
	uint32_t queue, ops_done, n_recs, dropped;
	int error;
	int64_t submit_ns, start_ns, end_ns;
	int64_t clock_offset_ns;	/* device -> CLOCK_MONOTONIC */
	void *recs;			/* n_recs struct anpu_hw_profile_record, after this struct */
};
/* 1 if trace mode is on (initialises it on first use). */
int accel_trace_on(void);
/* Queue a line (without its newline) / a job for the writer thread. */
void accel_trace_emit_line(const struct accel_trace_text *line);
void accel_trace_emit_job(struct accel_trace_job *job);
/* Format and write everything queued, on the calling thread. */
void accel_trace_drain(void);
/* Format @job as a "job" line (and its command buffer's description once). */
void accel_trace_format_job(struct accel_trace_text *out, struct accel_trace_job *job,
			    uint32_t *next_cb_id);

void accel_trace_device_open(struct accel_device *dev);
/* The device's contexts are destroyed (jobs delivered): write and release. */
void accel_trace_device_close(struct accel_device *dev);
/* A pool profiling buffer for a job of @cb (NULL: none), and back. */
struct accel_profile *accel_trace_take_profile(struct accel_device *dev,
					       const struct accel_cmdbuf *cb);
void accel_trace_give_profile(struct accel_device *dev, struct accel_profile *prof);
/* Capture the delivered job (before its references are dropped). */
void accel_trace_job_delivered(const struct accel_done *d);

/* CLOCK_MONOTONIC in ns. */
int64_t accel_now_ns(void);

/* Map a hardware status record's result/cause to an errno (accel_job_status.error). */
int accel_status_errno(uint32_t result, uint32_t cause);

#endif /* ACCEL_INTERNAL_H */
