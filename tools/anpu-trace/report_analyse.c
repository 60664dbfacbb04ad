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
#include "report_analyse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


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

/* blk.0, blk.1, ..., then the ops of no layer (-1: embedding, output, argmax) */
static int cmp_layer(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	unsigned int lx = (unsigned int)x->layer, ly = (unsigned int)y->layer;

	return (lx > ly) - (lx < ly);
}

static int cmp_slowest(const void *a, const void *b)
{
	const struct rep_event *x = *(const struct rep_event *const *)a;
	const struct rep_event *y = *(const struct rep_event *const *)b;
	int64_t dx = x->t1 - x->t0, dy = y->t1 - y->t0;

	return (dx < dy) - (dx > dy);
}

int report_analyse(const struct rep_data *d, unsigned int top, struct report *r)
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

double report_pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

int64_t report_overhead_per_token(const struct report *r)
{
	if (!r->decode_steps)
		return 0;
	return (r->decode_ns - r->decode_npu_ns + r->sample_ns) / (int64_t)r->decode_steps;
}

void report_free(struct report *r)
{
	free(r->types);
	free(r->layers);
	free(r->top);
	memset(r, 0, sizeof(*r));
}
