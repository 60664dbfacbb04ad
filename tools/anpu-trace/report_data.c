// SPDX-License-Identifier: MIT
/* anpu-trace report: reading a Chrome trace back (report_data.h). */
#include "report_data.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str(struct json_object *o, const char *key)
{
	const char *s = json_object_get_string(field(o, key));

	return s ? s : "";
}

static int64_t ns(struct json_object *o, const char *key)
{
	return (int64_t)llround(json_object_get_double(field(o, key)) * 1000.0);
}

static int cmp_event(const void *a, const void *b)
{
	const struct rep_event *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	if (x->tid != y->tid)
		return (x->tid > y->tid) - (x->tid < y->tid);
	if (x->t0 != y->t0)
		return (x->t0 > y->t0) - (x->t0 < y->t0);
	return (x->t1 < y->t1) - (x->t1 > y->t1);
}

static const char *meta_name(struct json_object *events, const char *what, int pid, int tid)
{
	size_t n = json_object_array_length(events);

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(events, i);

		if (!strcmp(str(e, "ph"), "M") && !strcmp(str(e, "name"), what) &&
		    json_object_get_int(field(e, "pid")) == pid &&
		    (tid < 0 || json_object_get_int(field(e, "tid")) == tid))
			return str(field(e, "args"), "name");
	}
	return "";
}

static int collect(struct rep_data *d, struct json_object *events)
{
	size_t n = json_object_array_length(events);

	d->x = calloc(n ? n : 1, sizeof(*d->x));
	if (!d->x)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(events, i), *args;
		struct rep_event *x = &d->x[d->n_x];

		if (strcmp(str(e, "ph"), "X"))
			continue;
		args = field(e, "args");
		*x = (struct rep_event){
			.ev = e, .cat = str(e, "cat"), .name = str(e, "name"),
			.pid = json_object_get_int(field(e, "pid")),
			.tid = json_object_get_int(field(e, "tid")),
			.t0 = ns(e, "ts"),
		};
		x->t1 = x->t0 + ns(e, "dur");
		if (!strcmp(x->cat, "op")) {
			x->op = str(args, "op");
			x->label = str(args, "label");
			x->shapes = str(args, "shapes");
			x->layer = json_object_get_int(field(args, "layer"));
			x->modeled_ns = json_object_get_int64(field(args, "modeled_ns"));
			x->bytes = json_object_get_int64(field(args, "modeled_bytes"));
		}
		d->n_x++;
	}
	qsort(d->x, d->n_x, sizeof(*d->x), cmp_event);
	d->tracks = calloc(d->n_x ? d->n_x : 1, sizeof(*d->tracks));
	if (!d->tracks)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_x; i++) {
		struct rep_track *t;

		if (i && d->x[i].pid == d->x[i - 1].pid && d->x[i].tid == d->x[i - 1].tid)
			continue;
		t = &d->tracks[d->n_tracks++];
		t->pid = d->x[i].pid;
		t->tid = d->x[i].tid;
		t->process = meta_name(events, "process_name", t->pid, -1);
		t->thread = meta_name(events, "thread_name", t->pid, t->tid);
	}
	return 0;
}

int rep_load(struct rep_data *d, const char *path)
{
	struct json_object *events;
	int fd, ret;

	memset(d, 0, sizeof(*d));
	/* json-c does not say why a file could not be read: open it first */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d->root = json_object_from_fd(fd);
	close(fd);
	if (!d->root || !(events = field(d->root, "traceEvents")) ||
	    !json_object_is_type(events, json_type_array)) {
		rep_free(d);
		return -EINVAL;
	}
	ret = collect(d, events);
	if (ret)
		rep_free(d);
	return ret;
}

void rep_free(struct rep_data *d)
{
	free(d->x);
	free(d->tracks);
	json_object_put(d->root);
	memset(d, 0, sizeof(*d));
}
