/* SPDX-License-Identifier: MIT */
/*
 * anpu-top: samples of per-process NPU use. A sample lists every client
 * this user can see: open files of /dev/accel/accelN (from /proc/<pid>/fdinfo,
 * the DRM usage keys of kmod/anpu_fdinfo.c) and in-process NPUs (from the
 * fdinfo-format files libaccel writes under $XDG_RUNTIME_DIR/anpu/, see
 * libaccel/src/inproc/inproc_stats.c).
 */
#ifndef ANPU_TOP_H
#define ANPU_TOP_H

#include <stdbool.h>
#include <stdint.h>

#define TOP_MAX_CLIENTS 256

/* one client: an open accel file (kernel) or a process's in-process NPU */
struct top_client {
	int pid;
	char comm[32];
	char device[32];	/* "accel0", "sim" */
	uint64_t client_id;	/* drm-client-id (sim: the pid) */
	uint64_t busy_ns;	/* drm-engine-npu */
	uint64_t mem_bytes;	/* sum of drm-total-* */
	uint64_t jobs_submitted;
	double busy_pct;	/* over the last interval; 0 for a new client */
};

struct top_sample {
	int64_t time_ns;	/* CLOCK_MONOTONIC */
	int n;
	struct top_client client[TOP_MAX_CLIENTS];
};

/* Fill @s with every visible client; clients whose files are unreadable are skipped. */
void top_sample_take(struct top_sample *s);
/* Set busy_pct of @now's clients from their figures in @prev. */
void top_sample_rate(struct top_sample *now, const struct top_sample *prev);

/*
 * Parse fdinfo-format text @text (keys "name:\tvalue [unit]") into @c's
 * busy_ns, mem_bytes, jobs_submitted and client_id. Returns false when the
 * text is not an ANPU client's (no drm-driver anpu / anpu-sim).
 */
bool top_parse_usage(const char *text, struct top_client *c);

#endif /* ANPU_TOP_H */
