// SPDX-License-Identifier: MIT
/*
 * anpu-trace report --html: a self-contained timeline page. The trace's
 * tracks and complete events are embedded as one JSON object; the renderer
 * (html_page.h: inline CSS and JS, no network) draws one canvas per track,
 * zooms with the wheel, pans by dragging and shows an event's details on
 * click. Below it, the report's summary (NPU busy, CPU overhead per token,
 * time per op type measured and modeled) as static HTML. When it has drawn every track it sets the title to
 * "anpu-trace timeline: N tracks" (an error sets "anpu-trace error: ...").
 */
#include "anpu_trace.h"
#include "html_page.h"
#include "report_analyse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A JSON string that is also safe inside <script>: '<', '>' and '&' escaped. */
static void html_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void track_name(FILE *f, const struct rep_track *t)
{
	char name[160];

	snprintf(name, sizeof(name), "%s / %s", *t->process ? t->process : "process",
		 *t->thread ? t->thread : "thread");
	html_json_str(f, name);
}

/* The event's detail line: its args, as the page shows them on click. */
static void detail(FILE *f, const struct rep_event *e)
{
	char text[512];

	if (!strcmp(e->cat, "op"))
		snprintf(text, sizeof(text), "%s | %s | measured %lld ns | modeled %lld ns | %lld bytes",
			 e->name, e->shapes, (long long)(e->t1 - e->t0), (long long)e->modeled_ns,
			 (long long)e->bytes);
	else
		snprintf(text, sizeof(text), "%s (%s) | %lld ns", e->name, e->cat,
			 (long long)(e->t1 - e->t0));
	html_json_str(f, text);
}

/* @s as HTML text. */
static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

static void summary(FILE *f, const struct report *r)
{
	int64_t wall = r->wall_t1 - r->wall_t0;

	fprintf(f, "<section id=\"summary\"><h2>Where the time went</h2>\n<p>wall time %.3f ms, "
		"%llu NPU jobs, NPU busy %.3f ms (%.1f%%); %llu ops: measured %.3f ms, modeled "
		"phone NPU %.3f ms", (double)wall / 1e6, (unsigned long long)r->jobs,
		(double)r->npu_busy_ns / 1e6, report_pct(r->npu_busy_ns, wall),
		(unsigned long long)r->ops, (double)r->op_measured_ns / 1e6,
		(double)r->op_modeled_ns / 1e6);
	if (r->decode_steps)
		fprintf(f, "; %llu decode steps, CPU overhead per token %.3f ms",
			(unsigned long long)r->decode_steps,
			(double)report_overhead_per_token(r) / 1e6);
	fputs(".</p>\n<table><tr><th>op type</th><th>count</th><th>measured ms</th>"
	      "<th>share</th><th>modeled ms</th></tr>\n", f);
	for (size_t i = 0; i < r->n_types; i++) {
		fputs("<tr><td>", f);
		html_text(f, r->types[i].op);
		fprintf(f, "</td><td>%llu</td><td>%.3f</td><td>%.1f%%</td><td>%.3f</td></tr>\n",
			(unsigned long long)r->types[i].count, (double)r->types[i].measured_ns / 1e6,
			report_pct(r->types[i].measured_ns, r->op_measured_ns),
			(double)r->types[i].modeled_ns / 1e6);
	}
	fputs("</table></section>\n", f);
}

int trace_html(const struct rep_data *d, const struct report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t x = 0;

	if (!f)
		return -errno;
	fputs(html_page_head, f);
	summary(f, r);
	fputs("<script>\nconst TRACE = {\"tracks\":[", f);
	for (size_t t = 0; t < d->n_tracks; t++) {
		int64_t open_end[64];
		int depth = 0;

		fputs(t ? ",\n{\"name\":" : "\n{\"name\":", f);
		track_name(f, &d->tracks[t]);
		fputs(",\"events\":[", f);
		/* the events of track t follow each other in d->x (sorted by track) */
		for (int first = 1; x < d->n_x && d->x[x].pid == d->tracks[t].pid &&
		     d->x[x].tid == d->tracks[t].tid; x++, first = 0) {
			const struct rep_event *e = &d->x[x];

			while (depth && open_end[depth - 1] <= e->t0)
				depth--;
			fprintf(f, "%s[%lld,%lld,%d,", first ? "" : ",", (long long)e->t0,
				(long long)(e->t1 - e->t0), depth);
			html_json_str(f, e->cat);
			fputc(',', f);
			html_json_str(f, e->name);
			fputc(',', f);
			detail(f, e);
			fputc(']', f);
			if (depth < 64)
				open_end[depth++] = e->t1;
		}
		fputs("]}", f);
	}
	fputs("]};\n</script>\n", f);
	fputs(html_page_script, f);
	if (fclose(f))
		return -errno;
	return 0;
}
