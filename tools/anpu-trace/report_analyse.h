/* SPDX-License-Identifier: MIT */
/*
 * anpu-trace report: the figures (report_analyse.c), shared by the text and
 * JSON reports (report.c) and the timeline page's summary (html.c).
 */
#ifndef REPORT_ANALYSE_H
#define REPORT_ANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "report_data.h"

struct group {
	const char *op;		/* per type */
	int layer;		/* per layer */
	uint64_t count;
	int64_t measured_ns, modeled_ns, bytes;
};

struct report {
	int64_t wall_t0, wall_t1;
	uint64_t jobs, ops, decode_steps;
	int64_t npu_busy_ns, op_measured_ns, op_modeled_ns, op_bytes;
	int64_t decode_ns, decode_npu_ns, sample_ns;
	struct group *types, *layers;
	size_t n_types, n_layers;
	const struct rep_event **top;
	size_t n_top;
};

/* The figures of @d with the @top slowest ops; 0 or -ENOMEM. Free with report_free(). */
int report_analyse(const struct rep_data *d, unsigned int top, struct report *r);
void report_free(struct report *r);
/* 100 * part / whole (0 for an empty whole). */
double report_pct(int64_t part, int64_t whole);
/* Per decode step: host time outside NPU jobs plus sampling, ns. */
int64_t report_overhead_per_token(const struct report *r);

/* Write the timeline page of @d, with @r's summary, to @path (html.c); 0 or -errno. */
int trace_html(const struct rep_data *d, const struct report *r, const char *path);

#endif /* REPORT_ANALYSE_H */
