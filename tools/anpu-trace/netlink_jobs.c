// SPDX-License-Identifier: MIT
/*
 * The netlink job-event source of anpu-trace record (trace_sources.h): the
 * driver's generic netlink family "anpu", group "jobs" (uapi/drm/anpu_netlink.h),
 * through the tools' libnl-genl-3 client (tools/common/anpu_nl.h).
 *
 * The group needs CAP_SYS_ADMIN (docs/kernel-abi.md), so start fails with
 * -EPERM for other users and the record goes on without kernel events. A
 * thread subscribed before the program starts keeps the socket drained (the
 * kernel drops events, counting them, when a listener's buffer is full) and
 * keeps every event until collect, which runs after the program ended.
 */
#include "trace_sources.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/common/anpu_nl.h"

struct netlink_session {
	struct anpu_nl *nl;
	pthread_t thread;
	atomic_bool stop;
	int error;			/* the receiving thread's first error */
	struct anpu_nl_job *jobs;	/* owned by the thread until it is joined */
	size_t n_jobs, cap;
};

static void keep_job(const struct anpu_nl_job *job, void *arg)
{
	struct netlink_session *s = arg;

	if (s->n_jobs == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct anpu_nl_job *p = realloc(s->jobs, cap * sizeof(*p));

		if (!p) {
			s->error = s->error ? s->error : -ENOMEM;
			return;
		}
		s->jobs = p;
		s->cap = cap;
	}
	s->jobs[s->n_jobs++] = *job;
}

static void *receive(void *arg)
{
	struct netlink_session *s = arg;

	/* 100 ms waits: collect's stop is seen soon after the program ended */
	while (!atomic_load(&s->stop)) {
		int ret = anpu_nl_jobs_poll(s->nl, 100);

		if (ret < 0 && !s->error)
			s->error = ret;
	}
	while (anpu_nl_jobs_poll(s->nl, 0) > 0)	/* what arrived meanwhile */
		;
	return NULL;
}

int netlink_jobs_start(struct netlink_session **out, const char **why)
{
	struct netlink_session *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = anpu_nl_open(&s->nl);
	if (ret) {
		*why = ret == -ENOENT ? "no netlink family anpu (anpu.ko not loaded)" :
					"cannot open the netlink family anpu";
		goto fail;
	}
	ret = anpu_nl_jobs_subscribe(s->nl, keep_job, s);
	if (ret) {
		*why = ret == -EPERM ? "joining the job events needs CAP_SYS_ADMIN" :
				       "cannot join the netlink job events";
		goto fail;
	}
	ret = -pthread_create(&s->thread, NULL, receive, s);
	if (ret) {
		*why = "cannot start the netlink receiver";
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->nl)
		anpu_nl_close(s->nl);
	free(s);
	return ret;
}

int netlink_jobs_collect(struct netlink_session *s, struct tr_trace *t)
{
	int ret;

	if (!s)
		return 0;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	ret = s->error == -ENOMEM ? -ENOMEM : 0;
	if (s->error == -ENOBUFS && t)	/* the trace stays useful: say what it lacks */
		fprintf(stderr, "anpu-trace: note: netlink job events were lost (%s): some jobs "
			"lack the kernel's timestamps\n", strerror(-s->error));
	for (size_t i = 0; t && i < s->n_jobs && ret >= 0; i++) {
		const struct anpu_nl_job *k = &s->jobs[i];
		struct tr_job job;

		memset(&job, 0, sizeof(job));
		job.device_id = k->dev_id;
		job.ctx = k->ctx_id;
		job.queue = k->queue;
		job.seq = k->seqno;
		job.error = -(int)k->error;
		job.pid = (int)k->pid;
		/*
		 * The trace's clock is CLOCK_MONOTONIC: submit and done are on
		 * it; start and end are on the device clock (ns, hardware.md
		 * section 15), so the start is placed the job's device-measured
		 * run time before the driver saw it end.
		 */
		job.submit_ns = (int64_t)k->submit_ns;
		job.end_ns = (int64_t)k->done_ns;
		job.start_ns = job.end_ns;
		if (k->end_ns >= k->start_ns && k->end_ns - k->start_ns <= k->done_ns - k->submit_ns)
			job.start_ns -= (int64_t)(k->end_ns - k->start_ns);
		job.kernel_submit_ns = job.submit_ns;
		job.kernel_start_ns = job.start_ns;
		job.kernel_end_ns = job.end_ns;
		snprintf(job.device, sizeof(job.device), "accel%u", k->dev_id);
		ret = tr_merge_kernel_job(t, &job);
	}
	anpu_nl_close(s->nl);
	free(s->jobs);
	free(s);
	return ret < 0 ? ret : 0;
}
