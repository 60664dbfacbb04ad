/* SPDX-License-Identifier: MIT */
/* anpu-run --trace FILE: the same command line under `anpu-trace record`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpu_run.h"

int run_traced(int argc, char **argv, const char *trace_path)
{
	char self[PATH_MAX], tracer[PATH_MAX + 16], *slash;
	char **args = calloc((size_t)argc + 6, sizeof(*args));
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int k = 0;

	if (!args || n <= 0) {
		fprintf(stderr, PROG ": --trace: %s\n", strerror(args ? errno : ENOMEM));
		free(args);
		return 1;
	}
	self[n] = '\0';
	snprintf(tracer, sizeof(tracer), "%s", self);
	slash = strrchr(tracer, '/');
	snprintf(slash + 1, sizeof(tracer) - (size_t)(slash + 1 - tracer), "anpu-trace");
	args[k++] = tracer;
	args[k++] = "record";
	args[k++] = "-o";
	args[k++] = (char *)trace_path;
	args[k++] = "--";
	args[k++] = self;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--trace")) {
			i++;	/* and its FILE */
			continue;
		}
		if (!strncmp(argv[i], "--trace=", 8))
			continue;
		args[k++] = argv[i];
	}
	args[k] = NULL;
	execv(tracer, args);
	fprintf(stderr, PROG ": --trace: %s: %s\n", tracer, strerror(errno));
	free(args);
	return 1;
}
