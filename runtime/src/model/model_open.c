/* SPDX-License-Identifier: MIT */
/* anpurt_model_*: open = map + check the file, read hyper-parameters, bind tensors, describe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpurt.h"
#include "common/rt_error.h"
#include "model/ggml_types.h"
#include "model/model.h"
#include "text/tok_internal.h"

static const uint32_t type_ids[ANPURT_TYPE_COUNT] = {
	[ANPURT_TYPE_F32] = GGML_F32,	[ANPURT_TYPE_F16] = GGML_F16,
	[ANPURT_TYPE_BF16] = GGML_BF16,	[ANPURT_TYPE_Q8_0] = GGML_Q8_0,
	[ANPURT_TYPE_Q4_0] = GGML_Q4_0,	[ANPURT_TYPE_Q4_1] = GGML_Q4_1,
	[ANPURT_TYPE_Q5_0] = GGML_Q5_0,	[ANPURT_TYPE_Q5_1] = GGML_Q5_1,
	[ANPURT_TYPE_Q4_K] = GGML_Q4_K,	[ANPURT_TYPE_Q5_K] = GGML_Q5_K,
	[ANPURT_TYPE_Q6_K] = GGML_Q6_K,
};

const char *anpurt_type_name(enum anpurt_type type)
{
	if ((unsigned int)type >= ANPURT_TYPE_COUNT)
		return "?";
	return ggml_type_get(type_ids[type])->name;
}

struct anpurt_model_params anpurt_model_default_params(void)
{
	struct anpurt_model_params p = { .chat_template = NULL };

	return p;
}

static void count_tensors(struct anpurt_model *m)
{
	struct anpurt_model_info *in = &m->info;
	size_t i;
	int t;

	in->n_tensors = (uint32_t)m->gguf->n_tensors;
	in->file_bytes = m->gguf->size;
	for (i = 0; i < m->gguf->n_tensors; i++) {
		const struct gguf_tensor *g = &m->gguf->tensors[i];

		in->n_params += g->n_elements;
		in->weight_bytes += g->nbytes;
		for (t = 0; t < ANPURT_TYPE_COUNT; t++)
			if (type_ids[t] == g->type)
				in->tensor_count[t]++;
	}
}

static int read_name_and_template(struct anpurt_model *m, const struct anpurt_model_params *p)
{
	struct rt_str name = { "", 0 };
	const char *kind;
	int ret;

	ret = gguf_get_str(m->gguf, "general.name", &name);
	if (ret < 0)
		return ret;
	m->name = strndup(name.ptr, name.len);	/* up to an embedded NUL */
	if (!m->name)
		return rt_error(-ENOMEM, "out of memory");
	m->info.name = m->name;
	ret = gguf_get_str(m->gguf, "tokenizer.chat_template", &m->chat_template_text);
	if (ret < 0)
		return ret;
	if (p->chat_template) {
		ret = anpurt_chat_template_lookup(p->chat_template, &kind);
		if (ret)
			return ret;
	} else if (anpurt_chat_template_detect(m->chat_template_text.ptr,
					       m->chat_template_text.len, &kind)) {
		kind = "unknown";
	}
	m->info.chat_template = kind;
	return 0;
}

int anpurt_model_open(const char *path, const struct anpurt_model_params *params,
		      struct anpurt_model **model)
{
	struct anpurt_model_params defaults = anpurt_model_default_params();
	struct anpurt_model *m;
	char msg[512];
	int ret;

	*model = NULL;
	if (!params)
		params = &defaults;
	m = calloc(1, sizeof(*m));
	if (!m)
		return rt_error(-ENOMEM, "out of memory");
	ret = gguf_open(path, &m->gguf);	/* its errors name the file already */
	if (ret) {
		free(m);
		return ret;
	}
	m->path = strdup(path);
	if (!m->path) {
		anpurt_model_free(m);
		return rt_error(-ENOMEM, "out of memory");
	}
	ret = model_read_hparams(m);
	if (!ret)
		ret = model_bind_tensors(m);
	if (!ret)
		ret = model_read_vocab(m);
	if (!ret && !model_has_no_vocab(m))
		ret = tok_create(&m->vocab, &m->tokenizer);
	if (!ret)
		ret = read_name_and_template(m, params);
	if (ret) {
		snprintf(msg, sizeof(msg), "%s", anpurt_last_error());
		anpurt_model_free(m);
		return rt_error(ret, "%s: %s", path, msg);
	}
	count_tensors(m);
	*model = m;
	rt_error_clear();
	return 0;
}

void anpurt_model_free(struct anpurt_model *m)
{
	if (!m)
		return;
	tok_free(m->tokenizer);
	free(m->layers);
	free(m->name);
	free(m->path);
	gguf_close(m->gguf);
	free(m);
}

const struct anpurt_model_info *anpurt_model_info(const struct anpurt_model *model)
{
	return &model->info;
}

const struct anpurt_tokenizer *anpurt_model_tokenizer(const struct anpurt_model *model)
{
	return model->tokenizer;
}
