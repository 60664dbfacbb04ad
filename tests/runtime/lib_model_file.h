/* SPDX-License-Identifier: MIT */
/* Test helper: a model of @spec with random weights (seed) written to a temporary file. */
#ifndef LIB_MODEL_FILE_H
#define LIB_MODEL_FILE_H

#include <stdint.h>

#include "lib_gguf_build.h"

struct model_file {
	char path[64];		/* /tmp/test_rt_model_file.XXXXXX */
	struct gb *b;		/* the builder (tensor data for a reference) */
};

/* Build and write; aborts on failure (test code). */
void model_file_make(struct model_file *f, const struct gb_model_spec *spec, uint64_t seed);
/* Unlink the file and free the builder. */
void model_file_remove(struct model_file *f);

#endif
