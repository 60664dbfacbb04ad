/* SPDX-License-Identifier: MIT */
/* anpu-trace: the subcommands (main.c parses the command line). */
#ifndef ANPU_TRACE_H
#define ANPU_TRACE_H

#include <stdio.h>

#define PROG "anpu-trace"

struct record_opts {
	const char *out;	/* -o: the Chrome trace (default anpu-trace.json) */
	const char *raw;	/* --raw: keep libaccel's trace-mode file there */
	char **cmd;		/* the program and its arguments */
};

struct report_opts {
	const char *in;		/* the Chrome trace record wrote */
	int json;		/* --json */
	unsigned int top;	/* --top N (default 10) */
	const char *html;	/* --html OUT.html: the timeline page instead */
};

/* Exit status: the program's (its own if it failed to start: 127), 1 on a trace error. */
int trace_record(const struct record_opts *o);
/* Exit status: 0, or 1 on an error (printed). */
int trace_report(const struct report_opts *o);

/* Print "anpu-trace: WHAT: strerror(-err)" to stderr; returns 1. */
int trace_fail(const char *what, int err);

#endif /* ANPU_TRACE_H */
