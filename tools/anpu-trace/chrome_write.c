// SPDX-License-Identifier: MIT
/*
 * The trace as Chrome trace JSON (Trace Event Format; Perfetto and
 * chrome://tracing open it). Layout:
 *  - one process per NPU device; one thread (track) per hardware queue, with
 *    each job as a complete event ("X", cat "job") and its ops nested inside
 *    ("X", cat "op"). Jobs that overlap on a queue (the kernel path can start
 *    a job before the previous one's end is reported) go to an extra lane
 *    "queue N (lane L)" so every track nests strictly;
 *  - each job's life from submit to end as an async pair ("b"/"e",
 *    cat "job_flight"): jobs in flight overlap freely there;
 *  - one process for the traced program's CPU spans, a thread per thread id;
 *  - one process for the driver's tracepoints (instant events), if any.
 * ts/dur are microseconds from the earliest event, printed exactly (ns / 1000).
 */
#include "trace_model.h"
#include "tools/common/tool_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* above any real pid (pid_max <= 4194304): the CPU process keeps the program's pid */
#define PID_DEVICE_BASE	10000000
#define PID_DRIVER	20000000
#define MAX_LANES	8	/* overlapping jobs of one queue before they share a lane */

struct writer {
	FILE *f;
	int64_t base;
	int first;
	unsigned long adjusted_ops;	/* op records moved to nest inside their job */
};

static void us(FILE *f, int64_t ns)
{
	if (ns < 0) {
		fputc('-', f);
		ns = -ns;
	}
	fprintf(f, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
}

static void ev_begin(struct writer *w)
{
	fputs(w->first ? "\n" : ",\n", w->f);
	w->first = 0;
}

static void meta(struct writer *w, const char *what, int pid, int tid, const char *name, int sort)
{
	ev_begin(w);
	fprintf(w->f, "{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
		what, pid, tid);
	tool_json_string(w->f, name);
	fputs("}}", w->f);
	if (sort < 0)
		return;
	ev_begin(w);
	fprintf(w->f, "{\"ph\":\"M\",\"name\":\"%s_sort_index\",\"pid\":%d,\"tid\":%d,"
		"\"args\":{\"sort_index\":%d}}", strcmp(what, "process_name") ? "thread" : "process",
		pid, tid, sort);
}

static void x_event(struct writer *w, int pid, int tid, const char *cat, int64_t t0, int64_t t1)
{
	ev_begin(w);
	fprintf(w->f, "{\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":", cat, pid, tid);
	us(w->f, t0 - w->base);
	fputs(",\"dur\":", w->f);
	us(w->f, t1 - t0);
}

static int device_index(const struct tr_trace *t, const char *name)
{
	for (size_t i = 0; i < t->n_devices; i++)
		if (!strcmp(t->devices[i].name, name))
			return (int)i;
	return 0;
}

/* The shape an op's name shows: its weight's (" w:"), else its first tensor's. */
static void name_shape(const char *shapes, char *out, size_t n)
{
	const char *p = strstr(shapes, " w:");

	p = p ? p + 3 : strchr(shapes, ':');
	if (p && *p == ':')
		p++;
	snprintf(out, n, "%.*s", p ? (int)strcspn(p, " ") : 0, p ? p : "");
}

static void write_ops(struct writer *w, const struct tr_trace *t, const struct tr_job *j,
		      int pid, int tid)
{
	const struct tr_cmdbuf *cb = tr_cmdbuf(t, j->cmdbuf);
	int64_t prev_end = j->start_ns;
	char title[224], shape[64];

	for (uint32_t i = 0; i < j->n_ops; i++) {
		const struct tr_op *op = &j->ops[i];
		const struct tr_op_desc *d = cb && op->index < cb->n_ops ? &cb->ops[op->index] : NULL;
		const char *label = d ? d->label : "", *name = d ? d->op : "?";
		int64_t s = op->start_ns, e = op->end_ns;

		/* strict nesting: inside the job, after the previous op */
		if (s < prev_end)
			s = prev_end;
		if (e > j->end_ns)
			e = j->end_ns;
		if (e < s)
			e = s;
		if (s != op->start_ns || e != op->end_ns)
			w->adjusted_ops++;
		prev_end = e;
		x_event(w, pid, tid, "op", s, e);
		/* "blk.3.attn_q MATMUL Q4_K[896,896]": layer, op and shape at a glance */
		name_shape(d ? d->shapes : "", shape, sizeof(shape));
		snprintf(title, sizeof(title), "%s%s%s%s%s", label, *label ? " " : "", name,
			 *shape ? " " : "", shape);
		fputs(",\"name\":", w->f);
		tool_json_string(w->f, title);
		fprintf(w->f, ",\"args\":{\"op\":\"%s\",\"index\":%u,\"label\":", name, op->index);
		tool_json_string(w->f, label);
		fprintf(w->f, ",\"layer\":%d,\"shapes\":", tr_label_layer(label));
		tool_json_string(w->f, d ? d->shapes : "");
		fprintf(w->f, ",\"modeled_cycles\":%llu,\"modeled_bytes\":%llu,\"macs\":%llu,"
			"\"modeled_ns\":%llu,\"measured_ns\":%lld,\"job_seq\":%llu}}",
			(unsigned long long)op->cycles, (unsigned long long)op->bytes,
			(unsigned long long)op->macs, (unsigned long long)op->cycles,
			(long long)(op->end_ns - op->start_ns), (unsigned long long)j->seq);
	}
}

static void write_job(struct writer *w, const struct tr_trace *t, const struct tr_job *j,
		      int pid, int tid)
{
	const struct tr_cmdbuf *cb = tr_cmdbuf(t, j->cmdbuf);
	const char *label = cb && *cb->label ? cb->label : "job";
	uint64_t modeled = 0;

	for (uint32_t i = 0; i < j->n_ops; i++)
		modeled += j->ops[i].cycles;
	x_event(w, pid, tid, "job", j->start_ns, j->end_ns);
	fputs(",\"name\":", w->f);
	tool_json_string(w->f, label);
	fprintf(w->f, ",\"args\":{\"ctx\":%u,\"seq\":%llu,\"queue\":%u,\"op_count\":%u,"
		"\"ops_done\":%u,\"error\":%d,\"queued_ns\":%lld,\"measured_ns\":%lld,"
		"\"modeled_ns\":%llu,\"op_records\":%u",
		j->ctx, (unsigned long long)j->seq, j->queue, j->op_count, j->ops_done, j->error,
		(long long)(j->start_ns - j->submit_ns), (long long)(j->end_ns - j->start_ns),
		(unsigned long long)modeled, j->n_ops);
	if (j->pid)
		fprintf(w->f, ",\"pid\":%d", j->pid);
	if (j->kernel_end_ns)
		fprintf(w->f, ",\"kernel_submit_ns\":%lld,\"kernel_start_ns\":%lld,"
			"\"kernel_end_ns\":%lld", (long long)j->kernel_submit_ns,
			(long long)j->kernel_start_ns, (long long)j->kernel_end_ns);
	fputs("}}", w->f);
	write_ops(w, t, j, pid, tid);

	/* its time in flight (submit -> end): async, so overlapping jobs are fine */
	for (int phase = 0; phase < 2; phase++) {
		ev_begin(w);
		fprintf(w->f, "{\"ph\":\"%s\",\"cat\":\"job_flight\",\"id\":\"%u.%llu\",\"pid\":%d,"
			"\"tid\":0,\"name\":", phase ? "e" : "b", j->ctx, (unsigned long long)j->seq, pid);
		tool_json_string(w->f, label);
		fputs(",\"ts\":", w->f);
		us(w->f, (phase ? j->end_ns : j->submit_ns) - w->base);
		fputs("}", w->f);
	}
}

static int cmp_job_start(const void *a, const void *b)
{
	const struct tr_job *x = *(const struct tr_job *const *)a, *y = *(const struct tr_job *const *)b;

	return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

/* Jobs by start time, each on its queue's first lane that is free by then. */
static int write_jobs(struct writer *w, const struct tr_trace *t)
{
	const struct tr_job **order = malloc((t->n_jobs ? t->n_jobs : 1) * sizeof(*order));
	int64_t (*lane_end)[MAX_LANES];
	size_t n_dev = t->n_devices ? t->n_devices : 1;
	unsigned int queues = 8;
	char name[64];

	for (size_t i = 0; i < t->n_devices; i++)
		if (t->devices[i].queues > queues)
			queues = t->devices[i].queues;
	lane_end = calloc(n_dev * queues, sizeof(*lane_end));
	if (!order || !lane_end) {
		free(order);
		free(lane_end);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_jobs; i++)
		order[i] = &t->jobs[i];
	qsort(order, t->n_jobs, sizeof(*order), cmp_job_start);
	for (size_t i = 0; i < t->n_jobs; i++) {
		const struct tr_job *j = order[i];
		int di = device_index(t, j->device), lane = 0;
		unsigned int q = j->queue < queues ? j->queue : queues - 1;
		int64_t *ends = lane_end[(size_t)di * queues + q];
		int tid;

		while (lane < MAX_LANES - 1 && ends[lane] && ends[lane] > j->start_ns)
			lane++;
		tid = (int)q * MAX_LANES + lane + 1;
		if (!ends[lane]) {
			if (lane)
				snprintf(name, sizeof(name), "queue %u (lane %d)", q, lane);
			else
				snprintf(name, sizeof(name), "queue %u", q);
			meta(w, "thread_name", PID_DEVICE_BASE + di, tid, name, tid);
		}
		ends[lane] = j->end_ns > ends[lane] ? j->end_ns : ends[lane];
		if (!ends[lane])
			ends[lane] = 1;
		write_job(w, t, j, PID_DEVICE_BASE + di, tid);
	}
	free(order);
	free(lane_end);
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct tr_span *x = a, *y = b;

	if (x->tid != y->tid)
		return (x->tid > y->tid) - (x->tid < y->tid);
	if (x->begin_ns != y->begin_ns)
		return (x->begin_ns > y->begin_ns) - (x->begin_ns < y->begin_ns);
	return (x->end_ns < y->end_ns) - (x->end_ns > y->end_ns);	/* parents first */
}

#define SPAN_DEPTH	32

static void write_spans(struct writer *w, const struct tr_trace *t, struct tr_span *spans)
{
	int64_t open_end[SPAN_DEPTH];
	int depth = 0, tid = -1;
	char name[64];

	qsort(spans, t->n_spans, sizeof(*spans), cmp_span);
	for (size_t i = 0; i < t->n_spans; i++) {
		struct tr_span *s = &spans[i];
		int64_t end = s->end_ns;

		if (s->tid != tid) {
			tid = s->tid;
			depth = 0;
			snprintf(name, sizeof(name), tid == t->pid ? "main thread %d" : "thread %d", tid);
			meta(w, "thread_name", t->pid, tid, name, tid == t->pid ? 0 : tid);
		}
		while (depth && open_end[depth - 1] <= s->begin_ns)
			depth--;
		if (depth && end > open_end[depth - 1])
			end = open_end[depth - 1];	/* clipped to its parent: tracks nest */
		if (depth < SPAN_DEPTH)
			open_end[depth++] = end;
		x_event(w, t->pid, tid, "cpu", s->begin_ns, end);
		fputs(",\"name\":", w->f);
		tool_json_string(w->f, s->name);
		fputs("}", w->f);
	}
}

static int64_t earliest(const struct tr_trace *t)
{
	int64_t base = t->start_ns;

	for (size_t i = 0; i < t->n_jobs; i++)
		if (!base || (t->jobs[i].submit_ns && t->jobs[i].submit_ns < base))
			base = t->jobs[i].submit_ns;
	for (size_t i = 0; i < t->n_spans; i++)
		if (!base || t->spans[i].begin_ns < base)
			base = t->spans[i].begin_ns;
	for (size_t i = 0; i < t->n_instants; i++)
		if (!base || t->instants[i].ts_ns < base)
			base = t->instants[i].ts_ns;
	return base;
}

int tr_write_chrome(const struct tr_trace *t, const char *path)
{
	struct writer w = { .first = 1 };
	struct tr_span *spans = NULL;
	char name[96];
	int ret = 0;

	w.f = fopen(path, "w");
	if (!w.f)
		return -errno;
	w.base = earliest(t);
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", w.f);
	for (size_t i = 0; i < t->n_devices; i++) {
		snprintf(name, sizeof(name), "NPU %s (%s)", t->devices[i].name,
			 strcmp(t->devices[i].backend, "sim") ? "kernel driver" : "in-process");
		meta(&w, "process_name", PID_DEVICE_BASE + (int)i, 0, name, (int)i + 1);
	}
	if (t->n_spans) {
		snprintf(name, sizeof(name), "CPU (pid %d)", t->pid);
		meta(&w, "process_name", t->pid, 0, name, 0);
		spans = malloc(t->n_spans * sizeof(*spans));
		if (!spans)
			ret = -ENOMEM;
		else
			memcpy(spans, t->spans, t->n_spans * sizeof(*spans));
	}
	if (!ret)
		ret = write_jobs(&w, t);
	if (!ret && spans)
		write_spans(&w, t, spans);
	if (t->n_instants)
		meta(&w, "process_name", PID_DRIVER, 0, "anpu driver (tracefs)", 100);
	for (size_t i = 0; i < t->n_instants; i++) {
		ev_begin(&w);
		fprintf(w.f, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"driver\",\"pid\":%d,\"tid\":%d,"
			"\"name\":", PID_DRIVER, t->instants[i].cpu + 1);
		tool_json_string(w.f, t->instants[i].name);
		fputs(",\"ts\":", w.f);
		us(w.f, t->instants[i].ts_ns - w.base);
		fputs(",\"args\":{\"fields\":", w.f);
		tool_json_string(w.f, t->instants[i].args);
		fputs("}}", w.f);
	}
	fprintf(w.f, "\n],\"otherData\":{\"tool\":\"anpu-trace\",\"clock\":\"CLOCK_MONOTONIC\","
		"\"base_ns\":%lld,\"pid\":%d,\"jobs\":%zu,\"spans\":%zu,\"adjusted_ops\":%lu,"
		"\"bad_lines\":%zu}}\n", (long long)w.base, t->pid, t->n_jobs, t->n_spans,
		w.adjusted_ops, t->bad_lines);
	free(spans);
	if (fclose(w.f) && !ret)
		ret = -errno;
	return ret;
}
