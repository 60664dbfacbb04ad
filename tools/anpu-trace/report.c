// SPDX-License-Identifier: MIT
/* anpu-trace report: the figures of report_analyse.c as text or JSON, or the page. */
#include "anpu_trace.h"
#include "report_analyse.h"
#include "tools/common/tool_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_group_json(FILE *f, const struct group *g, int by_type)
{
	fputs("{", f);
	if (by_type) {
		fputs("\"op\":", f);
		tool_json_string(f, g->op);
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
		report_pct(r->npu_busy_ns, wall), (unsigned long long)r->ops, (long long)r->op_measured_ns,
		(long long)r->op_modeled_ns, (long long)r->op_bytes,
		(unsigned long long)r->decode_steps, (long long)r->decode_ns,
		(long long)r->decode_npu_ns, (long long)r->sample_ns,
		(long long)report_overhead_per_token(r));
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
		tool_json_string(f, e->name);
		fputs(",\"op\":", f);
		tool_json_string(f, e->op);
		fputs(",\"shapes\":", f);
		tool_json_string(f, e->shapes);
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
		report_pct(r->npu_busy_ns, wall));
	fprintf(f, "ops: %llu, measured %.3f ms, modeled phone NPU %.3f ms (1 GHz), %.1f MB moved\n",
		(unsigned long long)r->ops, (double)r->op_measured_ns / 1e6,
		(double)r->op_modeled_ns / 1e6, (double)r->op_bytes / 1e6);
	if (r->decode_steps)
		fprintf(f, "decode: %llu steps, %.3f ms/step, CPU overhead per token %.3f ms "
			"(host time outside NPU jobs + sampling)\n",
			(unsigned long long)r->decode_steps,
			(double)r->decode_ns / 1e6 / (double)r->decode_steps,
			(double)report_overhead_per_token(r) / 1e6);
	fprintf(f, "\n%-12s %8s %12s %7s %14s\n", "op type", "count", "measured ms", "share",
		"modeled ms");
	for (size_t i = 0; i < r->n_types; i++)
		fprintf(f, "%-12s %8llu %12.3f %6.1f%% %14.3f\n", r->types[i].op,
			(unsigned long long)r->types[i].count, (double)r->types[i].measured_ns / 1e6,
			report_pct(r->types[i].measured_ns, r->op_measured_ns),
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
			report_pct(r->layers[i].measured_ns, r->op_measured_ns),
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
	ret = report_analyse(&d, o->top, &r);
	if (!ret && o->html) {
		ret = trace_html(&d, &r, o->html);
		if (ret)
			trace_fail(o->html, ret);
	} else if (!ret) {
		if (o->json)
			print_json(stdout, &r);
		else
			print_text(stdout, &r);
	} else {
		trace_fail("report", ret);
	}
	report_free(&r);
	rep_free(&d);
	return ret ? 1 : 0;
}
