/* SPDX-License-Identifier: MIT */
/*
 * anpu-trace and libaccel's trace mode from the outside, on a short
 * generation of a tiny random model (lib_gguf_build): the recorded Chrome
 * trace parses, every track nests, the op records account for the run (each
 * decode step has one labelled record per op of the decode command buffer),
 * report --json adds up, the HTML page renders (headless Chromium, when
 * installed), trace mode off leaves no file and changes nothing, and the tool
 * follows the command-line conventions.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "lib_gguf_build.h"
#include "lib_model_file.h"

static char bin[PATH_MAX], dir[64], trace_path[128];
static struct model_file model;
static char gen_args[512];	/* anpu-run's arguments for the short generation */

/* Run the shell command line @fmt...; stdout+stderr in @out, the exit status. */
static int sh(char *out, size_t n, const char *fmt, ...)
{
	char cmd[4096];
	size_t len = 0, got;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1 </dev/null", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (len + 1 < n && (got = fread(out + len, 1, n - 1 - len, p)) > 0)
		len += got;
	while (fread(cmd, 1, sizeof(cmd), p) > 0)
		;
	out[len] = '\0';
	status = pclose(p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

static const char *get_s(struct json_object *o, const char *key)
{
	return json_object_get_string(get(o, key));
}

/* A ts/dur in microseconds (3 decimals) as integer ns. */
static int64_t ns_of(struct json_object *o, const char *key)
{
	return (int64_t)llround(json_object_get_double(get(o, key)) * 1000.0);
}

static int setup(void **state)
{
	struct gb_model_spec s = gb_model_spec_tiny("qwen2");
	char out[65536];
	ssize_t n = readlink("/proc/self/exe", bin, sizeof(bin) - 1);

	(void)state;
	if (n <= 0)
		return -1;
	bin[n] = '\0';
	*strrchr(bin, '/') = '\0';	/* BUILD/tests -> BUILD/bin */
	strncat(bin, "/../bin", sizeof(bin) - strlen(bin) - 1);
	snprintf(dir, sizeof(dir), "/tmp/test_rt_trace.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	model_file_make(&model, &s, 5);
	snprintf(gen_args, sizeof(gen_args), "-m %s --ctx 128 -p t0t -n 6 --json", model.path);
	snprintf(trace_path, sizeof(trace_path), "%s/run.json", dir);
	if (sh(out, sizeof(out), "%s/anpu-trace record -o %s -- %s/anpu-run %s", bin, trace_path,
	       bin, gen_args)) {
		fprintf(stderr, "anpu-trace record failed: %s\n", out);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char out[256];

	(void)state;
	model_file_remove(&model);
	sh(out, sizeof(out), "rm -rf %s", dir);
	return 0;
}

static struct json_object *load_trace(void)
{
	struct json_object *t = json_object_from_file(trace_path);

	if (!t)
		fail_msg("%s is not JSON", trace_path);
	return t;
}

struct x_event {
	struct json_object *o;
	int pid, tid;
	int64_t t0, t1;
	const char *cat;
};

static int cmp_x(const void *a, const void *b)
{
	const struct x_event *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid - y->pid;
	if (x->tid != y->tid)
		return x->tid - y->tid;
	if (x->t0 != y->t0)
		return (x->t0 > y->t0) - (x->t0 < y->t0);
	return (x->t1 < y->t1) - (x->t1 > y->t1);	/* parents first */
}

/* The X events of @events, sorted by track and start (parents before children). */
static struct x_event *x_events(struct json_object *events, size_t *n)
{
	size_t len = json_object_array_length(events), k = 0;
	struct x_event *x = calloc(len, sizeof(*x));

	assert_non_null(x);
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(events, i);

		if (strcmp(get_s(e, "ph"), "X"))
			continue;
		x[k].o = e;
		x[k].pid = json_object_get_int(get(e, "pid"));
		x[k].tid = json_object_get_int(get(e, "tid"));
		x[k].t0 = ns_of(e, "ts");
		x[k].t1 = x[k].t0 + ns_of(e, "dur");
		x[k].cat = get_s(e, "cat");
		assert_true(x[k].t1 >= x[k].t0);
		k++;
	}
	qsort(x, k, sizeof(*x), cmp_x);
	*n = k;
	return x;
}

/* Every track nests strictly; every op sits directly in a job of its track. */
static void test_tracks_nest(void **state)
{
	struct json_object *t = load_trace(), *events = get(t, "traceEvents");
	struct x_event *x, *stack[64];
	size_t n, ops = 0, jobs = 0;
	int depth = 0;

	(void)state;
	x = x_events(events, &n);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		if (i && (x[i].pid != x[i - 1].pid || x[i].tid != x[i - 1].tid))
			depth = 0;
		while (depth && stack[depth - 1]->t1 <= x[i].t0)
			depth--;
		if (depth && x[i].t1 > stack[depth - 1]->t1)
			fail_msg("%s [%lld, %lld] overlaps its parent %s [%lld, %lld] on %d/%d",
				 get_s(x[i].o, "name"), (long long)x[i].t0, (long long)x[i].t1,
				 get_s(stack[depth - 1]->o, "name"), (long long)stack[depth - 1]->t0,
				 (long long)stack[depth - 1]->t1, x[i].pid, x[i].tid);
		if (!strcmp(x[i].cat, "op")) {
			ops++;
			assert_true(depth == 1 && !strcmp(stack[0]->cat, "job"));
		}
		if (!strcmp(x[i].cat, "job")) {
			jobs++;
			assert_int_equal(depth, 0);
		}
		assert_true(depth < 64);
		stack[depth++] = &x[i];
	}
	assert_true(jobs >= 2 && ops > jobs);
	free(x);
	json_object_put(t);
}

/* Track names, CPU spans, async job pairs. */
static void test_tracks_named(void **state)
{
	struct json_object *t = load_trace(), *events = get(t, "traceEvents");
	size_t len = json_object_array_length(events);
	int npu_process = 0, queue_thread = 0, cpu_process = 0, b = 0, e = 0;
	int spans[4] = { 0 };
	static const char *const span_names[] = { "tokenize", "prefill_chunk", "decode_step",
						  "sample" };

	(void)state;
	for (size_t i = 0; i < len; i++) {
		struct json_object *ev = json_object_array_get_idx(events, i);
		const char *ph = get_s(ev, "ph");

		if (!strcmp(ph, "M")) {
			const char *what = get_s(ev, "name");
			const char *name;

			if (strcmp(what, "process_name") && strcmp(what, "thread_name"))
				continue;
			name = get_s(get(ev, "args"), "name");

			if (!strcmp(what, "process_name") && !strcmp(name, "NPU sim (in-process)"))
				npu_process = 1;
			if (!strcmp(what, "process_name") && !strncmp(name, "CPU (pid ", 9))
				cpu_process = 1;
			if (!strcmp(what, "thread_name") && !strncmp(name, "queue ", 6))
				queue_thread = 1;
		} else if (!strcmp(ph, "b") || !strcmp(ph, "e")) {
			get(ev, "id");
			*(ph[0] == 'b' ? &b : &e) += 1;
		} else if (!strcmp(ph, "X") && !strcmp(get_s(ev, "cat"), "cpu")) {
			for (int k = 0; k < 4; k++)
				spans[k] += !strcmp(get_s(ev, "name"), span_names[k]);
		}
	}
	assert_true(npu_process && queue_thread && cpu_process);
	assert_true(b > 0 && b == e);
	for (int k = 0; k < 4; k++)
		if (!spans[k])
			fail_msg("no CPU span \"%s\"", span_names[k]);
	json_object_put(t);
}

/*
 * The op records account for the run: one "decode" job per decode_step
 * span, each with exactly one record per op of its command buffer (indices
 * 0..op_count-1), each labelled, with modeled cycles and bytes.
 */
static void test_ops_account_for_the_run(void **state)
{
	struct json_object *t = load_trace(), *events = get(t, "traceEvents");
	struct x_event *x;
	size_t n, decode_jobs = 0, decode_steps = 0;

	(void)state;
	x = x_events(events, &n);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(x[i].cat, "cpu") && !strcmp(get_s(x[i].o, "name"), "decode_step"))
			decode_steps++;
		if (!strcmp(x[i].cat, "job") && !strcmp(get_s(x[i].o, "name"), "decode")) {
			struct json_object *args = get(x[i].o, "args");
			int op_count = json_object_get_int(get(args, "op_count"));
			unsigned char *seen = calloc((size_t)op_count, 1);
			size_t k;

			assert_non_null(seen);
			assert_true(op_count > 10);
			assert_int_equal(json_object_get_int(get(args, "error")), 0);
			decode_jobs++;
			for (k = i + 1; k < n && x[k].pid == x[i].pid && x[k].tid == x[i].tid &&
			     x[k].t0 < x[i].t1 && !strcmp(x[k].cat, "op"); k++) {
				struct json_object *oa = get(x[k].o, "args");
				int idx = json_object_get_int(get(oa, "index"));

				assert_true(idx >= 0 && idx < op_count);
				assert_int_equal(seen[idx], 0);
				seen[idx] = 1;
				if (!*get_s(oa, "label"))
					fail_msg("decode op %d has no label", idx);
				assert_true(json_object_get_int64(get(oa, "modeled_cycles")) > 0);
				get(oa, "modeled_bytes");
				get(oa, "measured_ns");
				assert_non_null(strchr(get_s(oa, "shapes"), '['));
			}
			assert_int_equal(k - i - 1, (size_t)op_count);
			free(seen);
		}
	}
	assert_true(decode_steps >= 1);
	assert_int_equal(decode_jobs, decode_steps);
	free(x);
	json_object_put(t);
}

/* Trace mode off: no file anywhere, and the same tokens as a traced run. */
static void test_trace_off_changes_nothing(void **state)
{
	char off[65536], on[65536], out[256], raw[160];
	struct stat st;

	(void)state;
	snprintf(raw, sizeof(raw), "%s/raw.jsonl", dir);
	assert_int_equal(sh(off, sizeof(off), "cd %s && env -u ANPU_TRACE %s/anpu-run %s "
			    "2>/dev/null", dir, bin, gen_args), 0);
	assert_int_equal(sh(out, sizeof(out), "ls %s | grep -v '^run\\.' | wc -l", dir), 0);
	assert_string_equal(out, "0\n");
	assert_int_equal(sh(on, sizeof(on), "ANPU_TRACE=%s %s/anpu-run %s 2>/dev/null", raw, bin,
			    gen_args), 0);
	assert_int_equal(stat(raw, &st), 0);
	assert_true(st.st_size > 0);
	/* the generated ids (and text) are the same; only the measured speeds differ */
	assert_non_null(strstr(off, "\"generated_ids\""));
	assert_int_equal(strncmp(strstr(off, "\"generated_ids\""), strstr(on, "\"generated_ids\""),
				 strcspn(strstr(off, "\"generated_ids\""), "]")), 0);
	unlink(raw);
}

static int64_t i64(struct json_object *o, const char *key)
{
	return json_object_get_int64(get(o, key));
}

/* report --json: the per-type and per-layer tables add up to the op totals. */
static void test_report_json_adds_up(void **state)
{
	char *out = malloc(1 << 20);
	struct json_object *r, *ops, *types, *layers, *top;
	int64_t sum_m = 0, sum_mod = 0, sum_n = 0, lay_m = 0, lay_n = 0, prev = INT64_MAX;

	(void)state;
	assert_non_null(out);
	assert_int_equal(sh(out, 1 << 20, "%s/anpu-trace report --json --top 5 %s", bin,
			    trace_path), 0);
	r = json_tokener_parse(out);
	if (!r)
		fail_msg("report --json is not JSON: %s", out);
	ops = get(r, "ops");
	types = get(r, "by_op_type");
	layers = get(r, "by_layer");
	for (size_t i = 0; i < json_object_array_length(types); i++) {
		struct json_object *g = json_object_array_get_idx(types, i);

		sum_m += i64(g, "measured_ns");
		sum_mod += i64(g, "modeled_ns");
		sum_n += i64(g, "count");
	}
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *g = json_object_array_get_idx(layers, i);

		lay_m += i64(g, "measured_ns");
		lay_n += i64(g, "count");
	}
	assert_true(i64(ops, "count") > 0);
	assert_int_equal(sum_m, i64(ops, "measured_ns"));
	assert_int_equal(lay_m, i64(ops, "measured_ns"));
	assert_int_equal(sum_mod, i64(ops, "modeled_ns"));
	assert_int_equal(sum_n, i64(ops, "count"));
	assert_int_equal(lay_n, i64(ops, "count"));
	assert_true(i64(r, "npu_busy_ns") > 0 && i64(r, "npu_busy_ns") <= i64(r, "wall_ns"));
	assert_true(json_object_get_double(get(r, "npu_busy_pct")) > 0.0 &&
		    json_object_get_double(get(r, "npu_busy_pct")) <= 100.0);
	/* the ops run inside the jobs: their measured time cannot exceed the busy time */
	assert_true(i64(ops, "measured_ns") <= i64(r, "npu_busy_ns"));
	assert_true(i64(r, "decode_steps") >= 1);
	assert_true(i64(r, "cpu_overhead_per_token_ns") >= 0);
	top = get(r, "top");
	assert_int_equal(json_object_array_length(top), 5);
	for (size_t i = 0; i < 5; i++) {
		int64_t m = i64(json_object_array_get_idx(top, i), "measured_ns");

		assert_true(m <= prev);
		prev = m;
	}
	json_object_put(r);
	/* and the text form names the same tables */
	assert_int_equal(sh(out, 1 << 20, "%s/anpu-trace report %s", bin, trace_path), 0);
	assert_non_null(strstr(out, "NPU busy"));
	assert_non_null(strstr(out, "op type"));
	assert_non_null(strstr(out, "blk.0"));
	assert_non_null(strstr(out, "slowest ops"));
	free(out);
}

static char html_path[160];

static void make_html(void)
{
	char out[1024];

	snprintf(html_path, sizeof(html_path), "%s/run.html", dir);
	if (access(html_path, R_OK) == 0)
		return;
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace report --html %s %s", bin, html_path,
			    trace_path), 0);
}

/* The page's own scripts run against a minimal DOM (node) and draw both tracks. */
static void test_html_page_runs(void **state)
{
	char out[4096];

	(void)state;
	make_html();
	if (sh(out, sizeof(out), "command -v node"))
		skip();
	if (sh(out, sizeof(out), "node tests/runtime/trace_page_check.js %s", html_path))
		fail_msg("the page's scripts failed: %s", out);
	assert_memory_equal(out, "anpu-trace timeline: ", 21);
	assert_non_null(strstr(out, "NPU sim (in-process) / queue "));
	assert_non_null(strstr(out, "CPU (pid "));
	/* the report's summary is on the page too, measured beside modeled */
	assert_int_equal(sh(out, sizeof(out), "grep -c -e 'Where the time went' -e "
			    "'<td>MATMUL</td>' -e 'modeled ms' %s", html_path), 0);
	assert_string_equal(out, "3\n");
}

/* In headless Chromium: no console errors, the title says every track was drawn. */
static void test_html_in_chromium(void **state)
{
	char *out = malloc(1 << 20);

	(void)state;
	assert_non_null(out);
	make_html();
	if (sh(out, 1 << 20, "command -v chromium")) {
		free(out);
		printf("# SKIP html-in-chromium: Debian's chromium is not installed (make deps installs it;"
		       " or apt-get install --no-install-recommends chromium)\n");
		skip();
	}
	assert_int_equal(sh(out, 1 << 20, "chromium --headless --no-sandbox --disable-gpu "
			    "--enable-logging=stderr --v=0 --dump-dom file://%s", html_path), 0);
	/*
	 * A console message is a log line "...:CONSOLE(line)] ..."; the page
	 * reports its own failures in its title. (The dumped DOM holds the
	 * page's script text, so a bare "anpu-trace error" would match it.)
	 */
	if (strstr(out, ":CONSOLE(") || strstr(out, "Uncaught") ||
	    strstr(out, "<title>anpu-trace error"))
		fail_msg("console errors: %s", out);
	assert_non_null(strstr(out, "<title>anpu-trace timeline: "));
	assert_non_null(strstr(out, "NPU sim (in-process) / queue "));
	assert_non_null(strstr(out, "CPU (pid "));
	free(out);
}

static void test_command_line(void **state)
{
	static const char *const opts[] = { "record", "report", "-o", "--output", "--raw",
					    "--json", "--top", "--html", "-h", "--help",
					    "--version" };
	char out[8192];

	(void)state;
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace --help", bin), 0);
	assert_memory_equal(out, "Usage: anpu-trace ", 18);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strstr(out, opts[i]))
			fail_msg("--help does not list %s", opts[i]);
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace --version", bin), 0);
	assert_memory_equal(out, "anpu-trace ", 11);
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace", bin), 2);
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace frobnicate", bin), 2);
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));	/* one line */
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace record", bin), 2);
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace report --top x f", bin), 2);
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace report --bogus f", bin), 2);
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace report /nonexistent.json", bin), 1);
	assert_string_equal(out, "anpu-trace: /nonexistent.json: No such file or directory\n");
	/* an output that cannot be written: said before the program runs */
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace record -o /nonexistent/x.json -- "
			    "touch %s/ran", bin, dir), 1);
	assert_string_equal(out, "anpu-trace: /nonexistent/x.json: No such file or directory\n");
	assert_int_equal(access(strcat(strcpy(out, dir), "/ran"), F_OK), -1);
	/* a program that cannot start: its status is 127 and the reason is printed */
	assert_int_equal(sh(out, sizeof(out), "%s/anpu-trace record -o %s/x.json -- /nonexistent",
			    bin, dir), 127);
	assert_non_null(strstr(out, "/nonexistent: No such file or directory"));
	unlink(strcat(strcpy(out, dir), "/x.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_tracks_nest),
		cmocka_unit_test(test_tracks_named),
		cmocka_unit_test(test_ops_account_for_the_run),
		cmocka_unit_test(test_trace_off_changes_nothing),
		cmocka_unit_test(test_report_json_adds_up),
		cmocka_unit_test(test_html_page_runs),
		cmocka_unit_test(test_html_in_chromium),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
