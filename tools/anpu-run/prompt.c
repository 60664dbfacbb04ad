/* SPDX-License-Identifier: MIT */
/* The prompt: -p TEXT as given, or the bytes of -f FILE (- = standard input). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpu_run.h"

int run_read_prompt(const struct run_opts *o, char **text, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (o->prompt) {
		*text = strdup(o->prompt);
		*len = strlen(o->prompt);
		return *text ? 0 : -ENOMEM;
	}
	f = strcmp(o->prompt_file, "-") ? fopen(o->prompt_file, "rb") : stdin;
	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return -ENOMEM;
			}
			buf = nb;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
	}
	if (ferror(f)) {
		int err = errno ? -errno : -EIO;

		free(buf);
		if (f != stdin)
			fclose(f);
		return err;
	}
	if (f != stdin)
		fclose(f);
	*text = buf;
	*len = n;
	return 0;
}
