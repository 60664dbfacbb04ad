// SPDX-License-Identifier: MIT
/* anpu-trace: record and report ANPU traces (docs/tracing.md). */
#include "anpu_trace.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/common/anpu_cli.h"

static void usage_lines(FILE *f)
{
	fprintf(f, "Usage: " PROG " record [-o FILE] [--raw FILE] -- CMD [ARGS...]\n"
		"       " PROG " report [--json] [--top N] [--html OUT.html] FILE\n"
		"       " PROG " -h|--help | --version\n");
}

static void help(void)
{
	usage_lines(stdout);
	printf("Profile programs that use the ANPU: a timeline of every NPU job and op (with\n"
	       "labels, shapes, modeled cycles and bytes, measured time) and the program's CPU\n"
	       "spans, as Chrome trace JSON (open it in https://ui.perfetto.dev).\n\n"
	       "record: run CMD with libaccel's trace mode on (ANPU_TRACE) and write its trace.\n"
	       "  -o, --output FILE   the Chrome trace JSON (default anpu-trace.json)\n"
	       "  --raw FILE          also keep libaccel's trace-mode file (JSON lines) there\n"
	       "  As root with anpu.ko loaded, the driver's tracepoints (tracefs, trace_clock\n"
	       "  mono) join the timeline. The exit status is CMD's.\n\n"
	       "report: where the time went in a trace that record wrote.\n"
	       "  --json              print the report as JSON\n"
	       "  --top N             the N slowest ops (default 10)\n"
	       "  --html OUT.html     write a self-contained timeline page (no network) instead\n\n"
	       "  -h, --help          print this help and exit\n"
	       "  --version           print the version and exit\n"
	       "Exit status: 0 success, 1 error (the message says which), 2 bad usage.\n");
}

#define usage_error(...)	anpu_cli_usage_error(PROG, __VA_ARGS__)

int trace_fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(-err));
	return 1;
}

enum { OPT_RAW = 0x100, OPT_JSON, OPT_TOP, OPT_HTML, OPT_VERSION };

static const struct option record_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "raw", required_argument, NULL, OPT_RAW },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const struct option report_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* getopt's own message is not one line with our prefix: report it ourselves */
static int bad_option(int c, char **argv)
{
	if (c == ':')
		return usage_error("option '%s' needs a value", argv[optind - 1]);
	return usage_error("unknown option '%s'", argv[optind - 1]);
}

static int record_main(int argc, char **argv)
{
	struct record_opts o = { .out = "anpu-trace.json" };
	int c;

	while ((c = getopt_long(argc, argv, "+:o:h", record_longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case OPT_RAW:
			o.raw = optarg;
			break;
		case 'h':
			help();
			return 0;
		default:
			return bad_option(c, argv);
		}
	}
	if (optind >= argc)
		return usage_error("%s: no program to run (record [-o FILE] -- CMD ARGS...)",
				   "record");
	o.cmd = argv + optind;
	return trace_record(&o);
}

static int report_main(int argc, char **argv)
{
	struct report_opts o = { .top = 10 };
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, ":h", report_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_TOP:
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 0 || v > 100000)
				return usage_error("--top: '%s' is not a count (0..100000)", optarg);
			o.top = (unsigned int)v;
			break;
		case OPT_HTML:
			o.html = optarg;
			break;
		case 'h':
			help();
			return 0;
		default:
			return bad_option(c, argv);
		}
	}
	if (optind != argc - 1)
		return usage_error("%s: needs exactly one trace FILE", "report");
	o.in = argv[optind];
	return trace_report(&o);
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return usage_error("%s", "a subcommand is needed: record or report");
	ret = anpu_cli_common(PROG, argv[1], help);
	if (ret >= 0)
		return ret;
	optind = 1;
	if (!strcmp(argv[1], "record"))
		return record_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return usage_error("option '%s' belongs after a subcommand (record or report)",
				   argv[1]);
	return usage_error("unknown subcommand '%s' (record or report)", argv[1]);
}
