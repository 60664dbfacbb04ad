/* SPDX-License-Identifier: MIT */
/*
 * anpu-trace's in-memory trace: what every source adds to and what the Chrome
 * trace writer reads. All times are CLOCK_MONOTONIC ns.
 *
 * Sources (the input interface):
 *  - libaccel's trace-mode file (ANPU_TRACE, trace_load.c): devices, command
 *    buffer descriptions, jobs with per-op records, CPU spans;
 *  - the driver's tracepoints from tracefs (tracefs.c): instant events;
 *  - the kernel's netlink job events (family "anpu", built on another branch):
 *    a collector calls tr_merge_kernel_job() for each event it receives. A job
 *    libaccel also saw (same device id, context, sequence) gets the kernel's
 *    timestamps as extra args; any other job (another process, or a run without
 *    libaccel's file) becomes a job of its own, without op records.
 */
#ifndef TRACE_MODEL_H
#define TRACE_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct tr_op_desc {
	char *op;		/* "MATMUL" */
	char *label;		/* "blk.3.attn_q" ("" if none) */
	char *shapes;		/* "x:F32[896,1] w:Q4_K[896,896] y:F32[896,1]" */
};

struct tr_cmdbuf {
	uint32_t id;
	char *label;		/* the command buffer's label ("decode") */
	uint32_t n_ops;
	struct tr_op_desc *ops;
};

struct tr_op {
	uint32_t index;
	int64_t start_ns, end_ns;
	uint64_t cycles, bytes, macs;	/* modeled (cycles at 1 GHz) */
};

struct tr_job {
	char device[32];
	uint32_t device_id, ctx, queue, cmdbuf, op_count, ops_done;
	uint64_t seq;
	int error;
	int64_t submit_ns, start_ns, end_ns;
	/* the kernel's view (netlink), 0 if none */
	int64_t kernel_submit_ns, kernel_start_ns, kernel_end_ns;
	int pid;			/* netlink: the submitting process; 0: the traced one */
	uint32_t n_ops;
	struct tr_op *ops;
};

struct tr_span {
	int tid;
	char *name;
	int64_t begin_ns, end_ns;
};

struct tr_instant {		/* a driver tracepoint */
	char *name;		/* "anpu_done" */
	char *args;		/* its printed fields */
	int cpu;
	int64_t ts_ns;
};

struct tr_device {
	char name[32];
	char backend[16];
	uint32_t queues;
};

struct tr_trace {
	int pid;
	int64_t start_ns;
	struct tr_device *devices;
	size_t n_devices;
	struct tr_cmdbuf *cmdbufs;
	size_t n_cmdbufs;
	struct tr_job *jobs;
	size_t n_jobs, cap_jobs;
	struct tr_span *spans;
	size_t n_spans, cap_spans;
	struct tr_instant *instants;
	size_t n_instants, cap_instants;
	size_t bad_lines;	/* lines of the file that did not parse (a truncated last one) */
};

/* Read libaccel's trace-mode file @path into @t (zeroed first); 0 or -errno. */
int tr_load_libaccel(struct tr_trace *t, const char *path);
/* The source interface: add a job (copied; ops too) / merge a kernel job event. */
int tr_add_job(struct tr_trace *t, const struct tr_job *job);
int tr_merge_kernel_job(struct tr_trace *t, const struct tr_job *kernel_job);
int tr_add_instant(struct tr_trace *t, const char *name, const char *args, int cpu, int64_t ts_ns);
const struct tr_cmdbuf *tr_cmdbuf(const struct tr_trace *t, uint32_t id);
void tr_free(struct tr_trace *t);

/* Write @t as Chrome trace JSON (the Trace Event Format) to @path; 0 or -errno. */
int tr_write_chrome(const struct tr_trace *t, const char *path);

/* Layer number of an op label "blk.N.xxx", -1 if it has none. */
int tr_label_layer(const char *label);

#endif /* TRACE_MODEL_H */
