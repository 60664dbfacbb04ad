/* SPDX-License-Identifier: MIT */
/*
 * The command-line conventions of every ANPU program (make check-tools,
 * tests/install/tools.sh, walks build/bin/ for them):
 *  - -h / --help: the help on stdout, starting "Usage: NAME ...", listing every
 *    option; exit 0.
 *  - --version: "NAME VERSION" (the project's VERSION file); exit 0.
 *  - an unknown option, or an option without its value or with a bad one: one
 *    line on stderr, "NAME: what is wrong (try NAME --help)"; exit 2.
 * Header-only, for the tools and benchmarks; the examples (public headers only)
 * follow the same rules by hand.
 */
#ifndef ANPU_CLI_H
#define ANPU_CLI_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "anpu_version.h"

#define ANPU_CLI_USAGE_EXIT	2

/* --version: prints "NAME VERSION"; returns the exit status (0). */
static inline int anpu_cli_version(const char *prog)
{
	printf("%s %s\n", prog, ANPU_VERSION);
	return 0;
}

/*
 * The options every program has: -h/--help (calls @help, which prints the help
 * on stdout) and --version. Returns the exit status for them, -1 for any other
 * @opt.
 */
static inline int anpu_cli_common(const char *prog, const char *opt, void (*help)(void))
{
	if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
		help();
		return 0;
	}
	if (!strcmp(opt, "--version"))
		return anpu_cli_version(prog);
	return -1;
}

/* A usage error: one line on stderr; returns the exit status (2). */
__attribute__((format(printf, 2, 3)))
static inline int anpu_cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try %s --help)\n", prog);
	return ANPU_CLI_USAGE_EXIT;
}

/*
 * The value of the option argv[*i] ("--opt VALUE"): argv[*i + 1], with *i moved
 * past it; NULL (and a usage error printed) when the command line ends first.
 */
static inline const char *anpu_cli_value(const char *prog, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		anpu_cli_usage_error(prog, "option '%s' needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

#endif /* ANPU_CLI_H */
