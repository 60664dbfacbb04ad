// SPDX-License-Identifier: MIT
/*
 * Trace mode (accel.h, "Trace mode"): the process-wide state, the CPU-span
 * hook and the writer.
 *
 * Global state (documented exception to "no mutable globals": ANPU_TRACE is
 * per process): `state` says off/on once decided, `tr` holds the trace file,
 * the queue of lines and captured jobs, and the writer thread. Producers
 * (span ends on the caller's threads, job captures on completion threads)
 * only append to the queue under tr.lock; the writer thread formats the jobs
 * (command-buffer descriptions, op records) and writes, every WRITE_PERIOD_MS
 * or when the queue is long, so the hot paths never format or write.
 */
#include "accel_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TRACE_FORMAT_VERSION	1
#define WRITE_PERIOD_MS		200
#define WAKE_AFTER_JOBS		256	/* queued jobs that wake the writer early */
#define SPAN_NAME_MAX		64

enum { STATE_UNKNOWN, STATE_OFF, STATE_ON };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_int state;		/* STATE_* */
static int open_error;			/* why ANPU_TRACE's file could not be created */

static struct {
	/* lock protects: lines, jobs, jobs_tail, n_jobs, stop */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct accel_trace_text lines;	/* complete lines, '\n'-terminated */
	struct accel_trace_job *jobs, **jobs_tail;
	unsigned int n_jobs;
	bool stop;
	/* write_lock serialises formatting and writing: protects fd, next_cb_id */
	pthread_mutex_t write_lock;
	int fd;
	uint32_t next_cb_id;
	pthread_t thread;
	bool thread_started;
	pid_t pid;			/* the traced process (a forked child is not) */
} tr = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.write_lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
	.next_cb_id = 1,
};

/* ---- text ---- */

static bool text_reserve(struct accel_trace_text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : 4096;
	char *p;

	if (t->len + more + 1 <= t->cap)
		return true;
	if (t->fixed)
		return false;
	while (cap < t->len + more + 1)
		cap *= 2;
	p = realloc(t->p, cap);
	if (!p)
		return false;
	t->p = p;
	t->cap = cap;
	return true;
}

void accel_trace_printf(struct accel_trace_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int attempt = 0; attempt < 2; attempt++) {
		size_t room = t->cap > t->len ? t->cap - t->len : 0;

		va_start(ap, fmt);
		n = vsnprintf(room ? t->p + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		if (!text_reserve(t, (size_t)n))
			return;
	}
}

void accel_trace_json_str(struct accel_trace_text *t, const char *s)
{
	accel_trace_printf(t, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			accel_trace_printf(t, "\\%c", c);
		else if (c < 0x20)
			accel_trace_printf(t, "\\u%04x", c);
		else if (text_reserve(t, 1))
			t->p[t->len++] = (char)c;
	}
	accel_trace_printf(t, "\"");
}

/* ---- writing ---- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a full disk loses the rest of the trace, not the program */
		p += w;
		n -= (size_t)w;
	}
}

/* Take the queue, format it and write it (caller holds write_lock). */
static void drain_locked(void)
{
	struct accel_trace_text lines, out = { 0 };
	struct accel_trace_job *jobs;

	pthread_mutex_lock(&tr.lock);
	lines = tr.lines;
	tr.lines = (struct accel_trace_text){ 0 };
	jobs = tr.jobs;
	tr.jobs = NULL;
	tr.jobs_tail = &tr.jobs;
	tr.n_jobs = 0;
	pthread_mutex_unlock(&tr.lock);

	if (lines.len)
		write_all(tr.fd, lines.p, lines.len);
	free(lines.p);
	while (jobs) {
		struct accel_trace_job *next = jobs->next;

		accel_trace_format_job(&out, jobs, &tr.next_cb_id);
		accel_cmdbuf_unref(jobs->cb);
		free(jobs);
		jobs = next;
		if (out.len >= (1u << 20) || !jobs) {
			write_all(tr.fd, out.p, out.len);
			out.len = 0;
		}
	}
	free(out.p);
}

void accel_trace_drain(void)
{
	if (atomic_load(&state) != STATE_ON)
		return;
	pthread_mutex_lock(&tr.write_lock);
	drain_locked();
	pthread_mutex_unlock(&tr.write_lock);
}

static void *writer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&tr.lock);
	while (!tr.stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WRITE_PERIOD_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&tr.wake, &tr.lock, &until);
		if (tr.stop)
			break;
		pthread_mutex_unlock(&tr.lock);
		accel_trace_drain();
		pthread_mutex_lock(&tr.lock);
	}
	pthread_mutex_unlock(&tr.lock);
	return NULL;
}

static void at_exit(void)
{
	/* a forked child has neither the writer thread nor a right to the file */
	if (getpid() != tr.pid)
		return;
	pthread_mutex_lock(&tr.lock);
	tr.stop = true;
	pthread_cond_signal(&tr.wake);
	pthread_mutex_unlock(&tr.lock);
	if (tr.thread_started)
		pthread_join(tr.thread, NULL);
	tr.thread_started = false;
	accel_trace_drain();
	pthread_mutex_lock(&tr.write_lock);
	fsync(tr.fd);
	pthread_mutex_unlock(&tr.write_lock);
}

/* The child of a fork stops tracing: its parent owns the file and the writer. */
static void after_fork_in_child(void)
{
	atomic_store(&state, STATE_OFF);
}

static void init(void)
{
	const char *path = getenv(ACCEL_TRACE_ENV);
	struct accel_trace_text head = { 0 };

	if (!path || !*path) {
		atomic_store(&state, STATE_OFF);
		return;
	}
	tr.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tr.fd < 0) {
		open_error = -errno;
		atomic_store(&state, STATE_OFF);
		return;
	}
	tr.jobs_tail = &tr.jobs;
	tr.pid = getpid();
	pthread_atfork(NULL, NULL, after_fork_in_child);
	accel_trace_printf(&head, "{\"type\":\"header\",\"format\":\"anpu-trace\",\"version\":%d,"
			   "\"pid\":%d,\"clock\":\"CLOCK_MONOTONIC\",\"start_ns\":%lld}\n",
			   TRACE_FORMAT_VERSION, (int)getpid(), (long long)accel_now_ns());
	write_all(tr.fd, head.p, head.len);
	free(head.p);
	atomic_store(&state, STATE_ON);
	if (atexit(at_exit) == 0 && pthread_create(&tr.thread, NULL, writer_main, NULL) == 0)
		tr.thread_started = true;
}

int accel_trace_on(void)
{
	int s = atomic_load_explicit(&state, memory_order_acquire);

	if (s == STATE_UNKNOWN) {
		pthread_once(&init_once, init);
		s = atomic_load(&state);
	}
	return s == STATE_ON;
}

int accel_trace_enabled(void)
{
	if (accel_trace_on())
		return 1;
	return open_error;
}

void accel_trace_emit_line(const struct accel_trace_text *line)
{
	pthread_mutex_lock(&tr.lock);
	if (text_reserve(&tr.lines, line->len + 1)) {
		memcpy(tr.lines.p + tr.lines.len, line->p, line->len);
		tr.lines.len += line->len;
		tr.lines.p[tr.lines.len++] = '\n';
	}
	pthread_mutex_unlock(&tr.lock);
}

void accel_trace_emit_job(struct accel_trace_job *job)
{
	bool wake;

	job->next = NULL;
	pthread_mutex_lock(&tr.lock);
	*tr.jobs_tail = job;
	tr.jobs_tail = &job->next;
	wake = ++tr.n_jobs == WAKE_AFTER_JOBS;
	if (wake)
		pthread_cond_signal(&tr.wake);
	pthread_mutex_unlock(&tr.lock);
}

int accel_trace_flush(void)
{
	if (!accel_trace_on())
		return open_error ? open_error : -ENODATA;
	accel_trace_drain();
	return 0;
}

/* ---- CPU spans ---- */

int64_t accel_trace_span_begin(void)
{
	int s = atomic_load_explicit(&state, memory_order_relaxed);

	if (s == STATE_OFF || (s == STATE_UNKNOWN && !accel_trace_on()))
		return 0;
	return accel_now_ns();
}

static int thread_id(void)
{
	static _Thread_local int tid;

	if (!tid)
		tid = (int)syscall(SYS_gettid);
	return tid;
}

void accel_trace_span_end(const char *name, int64_t begin_ns)
{
	char buf[512], short_name[SPAN_NAME_MAX];
	struct accel_trace_text line = { .p = buf, .cap = sizeof(buf), .fixed = true };
	int64_t end = accel_now_ns();

	if (!begin_ns || !name)
		return;
	snprintf(short_name, sizeof(short_name), "%s", name);
	accel_trace_printf(&line, "{\"type\":\"span\",\"tid\":%d,\"name\":", thread_id());
	accel_trace_json_str(&line, short_name);
	accel_trace_printf(&line, ",\"begin_ns\":%lld,\"end_ns\":%lld}",
			   (long long)begin_ns, (long long)end);
	accel_trace_emit_line(&line);
}
