/* SPDX-License-Identifier: MIT */
/*
 * anpu-trace record's extra sources, started before the traced program and
 * collected after it (see trace_model.h for how their events join the trace).
 */
#ifndef TRACE_SOURCES_H
#define TRACE_SOURCES_H

#include "trace_model.h"

/*
 * The driver's tracepoints (kmod/anpu_trace.h: anpu_submit, anpu_done, ...)
 * through tracefs, with trace_clock "mono" (= CLOCK_MONOTONIC, the trace's
 * clock). Needs root and a loaded anpu.ko: otherwise start returns a negative
 * errno and @why says why (the record goes on without them).
 */
struct tracefs_session;
int tracefs_start(struct tracefs_session **out, const char **why);
/* Stop, add every event as an instant to @t, restore the tracing settings. */
int tracefs_collect(struct tracefs_session *s, struct tr_trace *t);

/*
 * The kernel's per-job events (generic netlink family "anpu", multicast
 * group "jobs", uapi/drm/anpu_netlink.h). Start subscribes before the program
 * starts (-EPERM without CAP_SYS_ADMIN, -ENOENT without anpu.ko: @why says
 * so); collect, after it ended, passes every received event to
 * tr_merge_kernel_job() (device id, context, sequence, submit/start/end on
 * CLOCK_MONOTONIC, status, pid) and frees the session. With @t NULL it only
 * frees it. Lost events (a full socket buffer) are a note, not an error.
 */
struct netlink_session;
int netlink_jobs_start(struct netlink_session **out, const char **why);
int netlink_jobs_collect(struct netlink_session *s, struct tr_trace *t);

#endif /* TRACE_SOURCES_H */
