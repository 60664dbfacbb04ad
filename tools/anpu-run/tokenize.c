/* SPDX-License-Identifier: MIT */
/* --tokenize: the prompt's token ids as a JSON array (the exact ids the model sees). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpu_run.h"

static int print_ids(const int32_t *ids, size_t n, FILE *out)
{
	size_t i;

	fputc('[', out);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? ", " : "", ids[i]);
	fputs("]\n", out);
	return fflush(out) ? 1 : 0;
}

int run_tokenize(const struct run_opts *o, FILE *out)
{
	struct anpurt_model_params params = anpurt_model_default_params();
	const struct anpurt_tokenizer *tok;
	struct anpurt_model *model;
	unsigned int flags = ANPURT_TOKENIZE_ADD_BOS;
	int32_t *ids = NULL;
	char *text;
	size_t len;
	int n, ret;

	ret = run_read_prompt(o, &text, &len);
	if (ret) {
		fprintf(stderr, PROG ": %s: %s\n", o->prompt ? "prompt" : o->prompt_file,
			strerror(-ret));
		return 1;
	}
	params.chat_template = o->chat_template;
	ret = anpurt_model_open(o->model_path, &params, &model);
	if (ret) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());
		free(text);
		return 1;
	}
	tok = anpurt_model_tokenizer(model);
	if (!tok) {
		fprintf(stderr, PROG ": %s: the model has no vocabulary (tokenizer.ggml.model"
			" is no_vocab): it takes token ids only\n", o->model_path);
		free(text);
		anpurt_model_free(model);
		return 1;
	}
	if (o->no_special)
		flags |= ANPURT_TOKENIZE_NO_SPECIAL;
	/* first call sizes the array (snprintf style), the second fills it */
	n = anpurt_tokenize(tok, text, len, flags, NULL, 0);
	if (n >= 0) {
		ids = malloc(((size_t)n + 1) * sizeof(*ids));
		n = ids ? anpurt_tokenize(tok, text, len, flags, ids, (size_t)n) : -ENOMEM;
	}
	if (n < 0) {
		fprintf(stderr, PROG ": tokenize: %s\n",
			anpurt_last_error()[0] ? anpurt_last_error() : strerror(-n));
		ret = 1;
	} else {
		ret = print_ids(ids, (size_t)n, out);
	}
	free(ids);
	free(text);
	anpurt_model_free(model);
	return ret;
}
