/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib_model_file.h"

void model_file_make(struct model_file *f, const struct gb_model_spec *spec, uint64_t seed)
{
	int fd;

	/* a test run outside tests/run-tests.sh keeps its weight cache files out of ~/.cache */
	setenv("ANPU_WEIGHT_CACHE_DIR", "/tmp/anpu-test-weight-cache", 0);
	f->b = gb_new();
	gb_model(f->b, spec);
	gb_random_weights(f->b, seed);
	snprintf(f->path, sizeof(f->path), "/tmp/test_rt_model_file.XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		abort();
	close(fd);
	if (gb_write_file(f->b, f->path))
		abort();
}

void model_file_remove(struct model_file *f)
{
	unlink(f->path);
	gb_free(f->b);
	f->b = NULL;
}
