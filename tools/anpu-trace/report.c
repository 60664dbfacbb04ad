// SPDX-License-Identifier: MIT
/*
 * anpu-trace report: where the time went. From the complete events of a
 * trace record wrote:
 *  - wall time: first to last event;
 *  - NPU busy: the union of the jobs' run intervals (per device), and its
 *    share of the wall time;
 *  - per op type and per layer ("blk.N." labels; other ops are layer -1):
 *    count, measured ns, the modeled phone-NPU ns (cycles at 1 GHz), bytes;
 *  - CPU overhead per token: per decode step, its host time not covered by
 *    NPU jobs plus the sampling time;
 *  - the N slowest ops.
 * The sums of the per-type and per-layer tables equal the op totals.
 */
#include "anpu_trace.h"
#include "report_data.h"
#include "trace_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static struct group *group_of(struct group **g, size_t *n, const char *op, int layer)
{
	struct group *grown;

	for (size_t i = 0; i < *n; i++)
		if ((op && !strcmp((*g)[i].op, op)) || (!op && (*g)[i].layer == layer))
			return &(*g)[i];
	grown = realloc(*g, (*n + 1) * sizeof(**g));
	if (!grown)
		return NULL;
	*g = grown;
	grown[*n] = (struct group){ .op = op, .layer = layer };
	return &grown[(*n)++];
}

static int add_op(struct report *r, const struct rep_event *e)
{
	struct group *g[2] = {
		group_of(&r->types, &r->n_types, e->op, 0),
		NULL,
	};

	g[1] = group_of(&r->layers, &r->n_layers, NULL, e->layer);
	if (!g[0] || !g[1])
		return -ENOMEM;
	for (int k = 0; k < 2; k++) {
		g[k]->count++;
		g[k]->measured_ns += e->t1 - e->t0;
		g[k]->modeled_ns += e->modeled_ns;
		g[k]->bytes += e->bytes;
	}
	r->ops++;
	r->op_measured_ns += e->t1 - e->t0;
	r->op_modeled_ns += e->modeled_ns;
	r->op_bytes += e->bytes;
	return 0;
}

/* ns of [t0, t1) covered by the jobs (sorted by start on each track). */
static int64_t job_overlap(const struct rep_data *d, int64_t t0, int64_t t1)
{
	int64_t sum = 0;

	for (size_t i = 0; i < d->n_x; i++) {
		const struct rep_event *j = &d->x[i];
		int64_t a, b;

		if (strcmp(j->cat, "job"))
			continue;
		a = j->t0 > t0 ? j->t0 : t0;
		b = j->t1 < t1 ? j->t1 : t1;
		if (b > a)
			sum += b - a;
	}
	return sum;
}

/* Union of the job intervals of each device (its tracks: one pid). */
static int64_t busy_ns(const struct rep_data *d)
{
	int64_t *iv, busy = 0, end = 0;
	size_t n = 0;
	int pid = -1;

	/* jobs of one pid are contiguous; within it, sort their intervals */
	iv = malloc((d->n_x ? d->n_x : 1) * 2 * sizeof(*iv));
	if (!iv)
		return 0;
	for (size_t i = 0; i <= d->n_x; i++) {
		const struct rep_event *j = i < d->n_x ? &d->x[i] : NULL;

		if (j && strcmp(j->cat, "job"))
			continue;
		if (!j || j->pid != pid) {
			/* close the previous device: insertion-sorted already */
			end = 0;
			for (size_t k = 0; k < n; k++) {
				int64_t a = iv[2 * k], b = iv[2 * k + 1];

				if (a < end)
					a = end;
				if (b > a)
					busy += b - a;
				if (b > end)
					end = b;
			}
			n = 0;
			if (!j)
				break;
			pid = j->pid;
		}
		/* insert (t0, t1) in start order */
		size_t k = n++;

		while (k && iv[2 * (k - 1)] > j->t0) {
			iv[2 * k] = iv[2 * (k - 1)];
			iv[2 * k + 1] = iv[2 * (k - 1) + 1];
			k--;
		}
		iv[2 * k] = j->t0;
		iv[2 * k + 1] = j->t1;
	}
	free(iv);
	return busy;
}

static int cmp_measured(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int64_t dx = x->measured_ns, dy = y->measured_ns;

	return (dx < dy) - (dx > dy);
}

static int cmp_layer(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->layer > y->layer) - (x->layer < y->layer);
}

static int cmp_slowest(const void *a, const void *b)
{
	const struct rep_event *x = *(const struct rep_event *const *)a;
	const struct rep_event *y = *(const struct rep_event *const *)b;
	int64_t dx = x->t1 - x->t0, dy = y->t1 - y->t0;

	return (dx < dy) - (dx > dy);
}

static int analyse(const struct rep_data *d, unsigned int top, struct report *r)
{
	const struct rep_event **ops;
	size_t n_ops = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	ops = malloc((d->n_x ? d->n_x : 1) * sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_x; i++) {
		const struct rep_event *e = &d->x[i];

		if (!i || e->t0 < r->wall_t0)
			r->wall_t0 = e->t0;
		if (!i || e->t1 > r->wall_t1)
			r->wall_t1 = e->t1;
		if (!strcmp(e->cat, "job")) {
			r->jobs++;
		} else if (!strcmp(e->cat, "op")) {
			ops[n_ops++] = e;
			if ((ret = add_op(r, e))) {
				free(ops);
				return ret;
			}
		} else if (!strcmp(e->cat, "cpu") && !strcmp(e->name, "decode_step")) {
			r->decode_steps++;
			r->decode_ns += e->t1 - e->t0;
			r->decode_npu_ns += job_overlap(d, e->t0, e->t1);
		} else if (!strcmp(e->cat, "cpu") && !strcmp(e->name, "sample")) {
			r->sample_ns += e->t1 - e->t0;
		}
	}
	r->npu_busy_ns = busy_ns(d);
	qsort(r->types, r->n_types, sizeof(*r->types), cmp_measured);
	qsort(r->layers, r->n_layers, sizeof(*r->layers), cmp_layer);
	qsort(ops, n_ops, sizeof(*ops), cmp_slowest);
	r->top = ops;
	r->n_top = n_ops < top ? n_ops : top;
	return 0;
}

static double pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static int64_t overhead_per_token(const struct report *r)
{
	if (!r->decode_steps)
		return 0;
	return (r->decode_ns - r->decode_npu_ns + r->sample_ns) / (int64_t)r->decode_steps;
}

static void print_group_json(FILE *f, const struct group *g, int by_type)
{
	fputs("{", f);
	if (by_type) {
		fputs("\"op\":", f);
		json_str(f, g->op);
	} else {
		fprintf(f, "\"layer\":%d", g->layer);
	}
	fprintf(f, ",\"count\":%llu,\"measured_ns\":%lld,\"modeled_ns\":%lld,\"modeled_bytes\":%lld}",
		(unsigned long long)g->count, (long long)g->measured_ns, (long long)g->modeled_ns,
		(long long)g->bytes);
}

static void print_json(FILE *f, const struct report *r)
{
	int64_t wall = r->wall_t1 - r->wall_t0;

	fprintf(f, "{\"wall_ns\":%lld,\"jobs\":%llu,\"npu_busy_ns\":%lld,\"npu_busy_pct\":%.3f,"
		"\"ops\":{\"count\":%llu,\"measured_ns\":%lld,\"modeled_ns\":%lld,"
		"\"modeled_bytes\":%lld},\"decode_steps\":%llu,\"decode_step_ns\":%lld,"
		"\"decode_npu_ns\":%lld,\"sample_ns\":%lld,\"cpu_overhead_per_token_ns\":%lld,"
		"\"by_op_type\":[",
		(long long)wall, (unsigned long long)r->jobs, (long long)r->npu_busy_ns,
		pct(r->npu_busy_ns, wall), (unsigned long long)r->ops, (long long)r->op_measured_ns,
		(long long)r->op_modeled_ns, (long long)r->op_bytes,
		(unsigned long long)r->decode_steps, (long long)r->decode_ns,
		(long long)r->decode_npu_ns, (long long)r->sample_ns,
		(long long)overhead_per_token(r));
	for (size_t i = 0; i < r->n_types; i++) {
		fputs(i ? "," : "", f);
		print_group_json(f, &r->types[i], 1);
	}
	fputs("],\"by_layer\":[", f);
	for (size_t i = 0; i < r->n_layers; i++) {
		fputs(i ? "," : "", f);
		print_group_json(f, &r->layers[i], 0);
	}
	fputs("],\"top\":[", f);
	for (size_t i = 0; i < r->n_top; i++) {
		const struct rep_event *e = r->top[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, e->name);
		fputs(",\"op\":", f);
		json_str(f, e->op);
		fputs(",\"shapes\":", f);
		json_str(f, e->shapes);
		fprintf(f, ",\"measured_ns\":%lld,\"modeled_ns\":%lld,\"start_ns\":%lld}",
			(long long)(e->t1 - e->t0), (long long)e->modeled_ns, (long long)e->t0);
	}
	fputs("]}\n", f);
}

static void print_text(FILE *f, const struct report *r)
{
	int64_t wall = r->wall_t1 - r->wall_t0;
	char layer[16];

	fprintf(f, "wall time %.3f ms, %llu NPU jobs, NPU busy %.3f ms (%.1f%%)\n",
		(double)wall / 1e6, (unsigned long long)r->jobs, (double)r->npu_busy_ns / 1e6,
		pct(r->npu_busy_ns, wall));
	fprintf(f, "ops: %llu, measured %.3f ms, modeled phone NPU %.3f ms (1 GHz), %.1f MB moved\n",
		(unsigned long long)r->ops, (double)r->op_measured_ns / 1e6,
		(double)r->op_modeled_ns / 1e6, (double)r->op_bytes / 1e6);
	if (r->decode_steps)
		fprintf(f, "decode: %llu steps, %.3f ms/step, CPU overhead per token %.3f ms "
			"(host time outside NPU jobs + sampling)\n",
			(unsigned long long)r->decode_steps,
			(double)r->decode_ns / 1e6 / (double)r->decode_steps,
			(double)overhead_per_token(r) / 1e6);
	fprintf(f, "\n%-12s %8s %12s %7s %14s\n", "op type", "count", "measured ms", "share",
		"modeled ms");
	for (size_t i = 0; i < r->n_types; i++)
		fprintf(f, "%-12s %8llu %12.3f %6.1f%% %14.3f\n", r->types[i].op,
			(unsigned long long)r->types[i].count, (double)r->types[i].measured_ns / 1e6,
			pct(r->types[i].measured_ns, r->op_measured_ns),
			(double)r->types[i].modeled_ns / 1e6);
	fprintf(f, "\n%-12s %8s %12s %7s %14s\n", "layer", "count", "measured ms", "share",
		"modeled ms");
	for (size_t i = 0; i < r->n_layers; i++) {
		if (r->layers[i].layer < 0)
			snprintf(layer, sizeof(layer), "other");
		else
			snprintf(layer, sizeof(layer), "blk.%d", r->layers[i].layer);
		fprintf(f, "%-12s %8llu %12.3f %6.1f%% %14.3f\n", layer,
			(unsigned long long)r->layers[i].count, (double)r->layers[i].measured_ns / 1e6,
			pct(r->layers[i].measured_ns, r->op_measured_ns),
			(double)r->layers[i].modeled_ns / 1e6);
	}
	if (r->n_top)
		fprintf(f, "\nslowest ops:\n%12s %12s  %s\n", "measured us", "modeled us", "op");
	for (size_t i = 0; i < r->n_top; i++)
		fprintf(f, "%12.1f %12.1f  %s  %s\n", (double)(r->top[i]->t1 - r->top[i]->t0) / 1e3,
			(double)r->top[i]->modeled_ns / 1e3, r->top[i]->name, r->top[i]->shapes);
}

int trace_report(const struct report_opts *o)
{
	struct rep_data d;
	struct report r;
	int ret = rep_load(&d, o->in);

	if (ret == -EINVAL) {
		fprintf(stderr, PROG ": %s: not a Chrome trace (no traceEvents array)\n", o->in);
		return 1;
	}
	if (ret)
		return trace_fail(o->in, ret);
	if (o->html) {
		ret = trace_html(&d, o->html);
		rep_free(&d);
		return ret ? trace_fail(o->html, ret) : 0;
	}
	ret = analyse(&d, o->top, &r);
	if (!ret) {
		if (o->json)
			print_json(stdout, &r);
		else
			print_text(stdout, &r);
	}
	free(r.types);
	free(r.layers);
	free(r.top);
	rep_free(&d);
	return ret ? trace_fail("report", ret) : 0;
}
