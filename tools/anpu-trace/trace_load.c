// SPDX-License-Identifier: MIT
/* Reading libaccel's trace-mode file (JSON lines, docs/libaccel.md "Trace mode"). */
#include "trace_model.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t get_i64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s = json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";

	return strdup(s ? s : "");
}

static void get_name(struct json_object *o, const char *key, char *dst, size_t n)
{
	char *s = get_str(o, key);

	snprintf(dst, n, "%s", s ? s : "");
	free(s);
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return p;
	q = realloc(p, c * size);
	if (q)
		*cap = c;
	return q;
}

int tr_add_job(struct tr_trace *t, const struct tr_job *job)
{
	struct tr_job *jobs = grow(t->jobs, &t->cap_jobs, t->n_jobs, sizeof(*jobs));
	struct tr_job *j;

	if (!jobs)
		return -ENOMEM;
	t->jobs = jobs;
	j = &jobs[t->n_jobs];
	*j = *job;
	j->ops = NULL;
	if (job->n_ops) {
		j->ops = malloc(job->n_ops * sizeof(*j->ops));
		if (!j->ops)
			return -ENOMEM;
		memcpy(j->ops, job->ops, job->n_ops * sizeof(*j->ops));
	}
	t->n_jobs++;
	return 0;
}

int tr_merge_kernel_job(struct tr_trace *t, const struct tr_job *kj)
{
	for (size_t i = 0; i < t->n_jobs; i++) {
		struct tr_job *j = &t->jobs[i];

		if (j->device_id == kj->device_id && j->ctx == kj->ctx && j->seq == kj->seq &&
		    !j->pid) {
			j->kernel_submit_ns = kj->submit_ns;
			j->kernel_start_ns = kj->start_ns;
			j->kernel_end_ns = kj->end_ns;
			return 0;
		}
	}
	return tr_add_job(t, kj);
}

int tr_add_instant(struct tr_trace *t, const char *name, const char *args, int cpu, int64_t ts_ns)
{
	struct tr_instant *in = grow(t->instants, &t->cap_instants, t->n_instants, sizeof(*in));

	if (!in)
		return -ENOMEM;
	t->instants = in;
	in[t->n_instants] = (struct tr_instant){ strdup(name), strdup(args), cpu, ts_ns };
	t->n_instants++;
	return 0;
}

const struct tr_cmdbuf *tr_cmdbuf(const struct tr_trace *t, uint32_t id)
{
	for (size_t i = 0; i < t->n_cmdbufs; i++)
		if (t->cmdbufs[i].id == id)
			return &t->cmdbufs[i];
	return NULL;
}

int tr_label_layer(const char *label)
{
	int layer;

	return sscanf(label, "blk.%d.", &layer) == 1 ? layer : -1;
}

static int load_device(struct tr_trace *t, struct json_object *o)
{
	struct tr_device *d = realloc(t->devices, (t->n_devices + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	t->devices = d;
	d += t->n_devices++;
	memset(d, 0, sizeof(*d));
	get_name(o, "device", d->name, sizeof(d->name));
	get_name(o, "backend", d->backend, sizeof(d->backend));
	d->queues = (uint32_t)get_i64(o, "queues");
	return 0;
}

static int load_cmdbuf(struct tr_trace *t, struct json_object *o)
{
	struct tr_cmdbuf *c = realloc(t->cmdbufs, (t->n_cmdbufs + 1) * sizeof(*c));
	struct json_object *ops;
	size_t n;

	if (!c)
		return -ENOMEM;
	t->cmdbufs = c;
	c += t->n_cmdbufs++;
	memset(c, 0, sizeof(*c));
	c->id = (uint32_t)get_i64(o, "id");
	c->label = get_str(o, "label");
	if (!json_object_object_get_ex(o, "ops", &ops) || !json_object_is_type(ops, json_type_array))
		return 0;
	n = json_object_array_length(ops);
	c->ops = calloc(n ? n : 1, sizeof(*c->ops));
	if (!c->ops)
		return -ENOMEM;
	c->n_ops = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *op = json_object_array_get_idx(ops, i);

		c->ops[i].op = get_str(op, "op");
		c->ops[i].label = get_str(op, "label");
		c->ops[i].shapes = get_str(op, "shapes");
	}
	return 0;
}

static int load_job(struct tr_trace *t, struct json_object *o)
{
	struct tr_job j = { 0 };
	struct json_object *ops;
	int ret;

	get_name(o, "device", j.device, sizeof(j.device));
	j.device_id = (uint32_t)get_i64(o, "device_id");
	j.ctx = (uint32_t)get_i64(o, "ctx");
	j.seq = (uint64_t)get_i64(o, "seq");
	j.queue = (uint32_t)get_i64(o, "queue");
	j.cmdbuf = (uint32_t)get_i64(o, "cmdbuf");
	j.op_count = (uint32_t)get_i64(o, "op_count");
	j.ops_done = (uint32_t)get_i64(o, "ops_done");
	j.error = (int)get_i64(o, "error");
	j.submit_ns = get_i64(o, "submit_ns");
	j.start_ns = get_i64(o, "start_ns");
	j.end_ns = get_i64(o, "end_ns");
	if (json_object_object_get_ex(o, "ops", &ops) && json_object_is_type(ops, json_type_array)) {
		size_t n = json_object_array_length(ops);

		j.ops = calloc(n ? n : 1, sizeof(*j.ops));
		if (!j.ops)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct json_object *r = json_object_array_get_idx(ops, i);

			if (!json_object_is_type(r, json_type_array) || json_object_array_length(r) < 6)
				continue;
			j.ops[j.n_ops++] = (struct tr_op){
				.index = (uint32_t)json_object_get_int64(json_object_array_get_idx(r, 0)),
				.start_ns = json_object_get_int64(json_object_array_get_idx(r, 1)),
				.end_ns = json_object_get_int64(json_object_array_get_idx(r, 2)),
				.cycles = (uint64_t)json_object_get_int64(json_object_array_get_idx(r, 3)),
				.bytes = (uint64_t)json_object_get_int64(json_object_array_get_idx(r, 4)),
				.macs = (uint64_t)json_object_get_int64(json_object_array_get_idx(r, 5)),
			};
		}
	}
	ret = tr_add_job(t, &j);
	free(j.ops);
	return ret;
}

static int load_span(struct tr_trace *t, struct json_object *o)
{
	struct tr_span *s = grow(t->spans, &t->cap_spans, t->n_spans, sizeof(*s));

	if (!s)
		return -ENOMEM;
	t->spans = s;
	s[t->n_spans] = (struct tr_span){
		.tid = (int)get_i64(o, "tid"), .name = get_str(o, "name"),
		.begin_ns = get_i64(o, "begin_ns"), .end_ns = get_i64(o, "end_ns"),
	};
	t->n_spans++;
	return 0;
}

static int load_line(struct tr_trace *t, const char *line)
{
	struct json_object *o = json_tokener_parse(line), *type;
	const char *ty;
	int ret = 0;

	if (!o || !json_object_object_get_ex(o, "type", &type)) {
		t->bad_lines++;
		json_object_put(o);
		return 0;
	}
	ty = json_object_get_string(type);
	if (!strcmp(ty, "header")) {
		t->pid = (int)get_i64(o, "pid");
		t->start_ns = get_i64(o, "start_ns");
	} else if (!strcmp(ty, "device")) {
		ret = load_device(t, o);
	} else if (!strcmp(ty, "cmdbuf")) {
		ret = load_cmdbuf(t, o);
	} else if (!strcmp(ty, "job")) {
		ret = load_job(t, o);
	} else if (!strcmp(ty, "span")) {
		ret = load_span(t, o);
	}
	json_object_put(o);
	return ret;
}

int tr_load_libaccel(struct tr_trace *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	if (!f)
		return -errno;
	while (!ret && getline(&line, &cap, f) > 0)
		ret = load_line(t, line);
	free(line);
	fclose(f);
	return ret;
}

void tr_free(struct tr_trace *t)
{
	for (size_t i = 0; i < t->n_cmdbufs; i++) {
		for (uint32_t k = 0; k < t->cmdbufs[i].n_ops; k++) {
			free(t->cmdbufs[i].ops[k].op);
			free(t->cmdbufs[i].ops[k].label);
			free(t->cmdbufs[i].ops[k].shapes);
		}
		free(t->cmdbufs[i].ops);
		free(t->cmdbufs[i].label);
	}
	for (size_t i = 0; i < t->n_jobs; i++)
		free(t->jobs[i].ops);
	for (size_t i = 0; i < t->n_spans; i++)
		free(t->spans[i].name);
	for (size_t i = 0; i < t->n_instants; i++) {
		free(t->instants[i].name);
		free(t->instants[i].args);
	}
	free(t->devices);
	free(t->cmdbufs);
	free(t->jobs);
	free(t->spans);
	free(t->instants);
	memset(t, 0, sizeof(*t));
}
