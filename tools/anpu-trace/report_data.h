/* SPDX-License-Identifier: MIT */
/* anpu-trace report: a Chrome trace written by record, read back for reports. */
#ifndef REPORT_DATA_H
#define REPORT_DATA_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* One complete event ("X"); times in ns from the trace's base. */
struct rep_event {
	struct json_object *ev;		/* borrowed from the parsed file */
	const char *cat, *name;
	int pid, tid;
	int64_t t0, t1;
	/* ops: their args */
	const char *op, *label, *shapes;
	int layer;
	int64_t modeled_ns, bytes;
};

struct rep_track {
	int pid, tid;
	const char *process, *thread;	/* metadata names ("" if none) */
};

struct rep_data {
	struct json_object *root;
	struct rep_event *x;		/* every X event, sorted by track then start */
	size_t n_x;
	struct rep_track *tracks;	/* the tracks of the X events, in that order */
	size_t n_tracks;
};

/* Parse @path; 0 or -errno (-EINVAL: not a trace anpu-trace wrote). */
int rep_load(struct rep_data *d, const char *path);
void rep_free(struct rep_data *d);

#endif /* REPORT_DATA_H */
