/* SPDX-License-Identifier: MIT */
/* anpurt_engine_*: open the device (sized from the model in-process), upload the weights. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rt_error.h"
#include "graph/engine.h"
#include "graph/graph.h"


struct anpurt_engine_params anpurt_engine_default_params(void)
{
	struct anpurt_engine_params p = {
		.device = NULL, .n_sessions = 2, .n_ctx = GRAPH_DEFAULT_CTX, .kv_type = ANPURT_KV_F16,
	};

	return p;
}

static int check_supported(const struct anpurt_model *m)
{
	const struct anpurt_model_info *in = &m->info;

	if (in->head_dim_k != in->head_dim_v)
		return rt_error(-EOPNOTSUPP, "%s: key length %u != value length %u",
				in->architecture, in->head_dim_k, in->head_dim_v);
	if (!arch_hooks_of(m))
		return rt_error(-EOPNOTSUPP, "no graph for architecture %s", in->architecture);
	return 0;
}

/* The file's tensor data as one range (the data section; tensors are laid out in it). */
static void data_range(struct anpurt_engine *e)
{
	const struct gguf_file *g = e->model->gguf;
	size_t i;

	e->data_start = UINT64_MAX;
	e->data_end = 0;
	for (i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];

		if (t->offset < e->data_start)
			e->data_start = t->offset;
		if (t->offset + t->nbytes > e->data_end)
			e->data_end = t->offset + t->nbytes;
	}
	/* a BO maps whole pages of the file (accel_bo_create_from_file) */
	e->data_start &= ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
}

uint64_t anpurt_engine_mem_needed(const struct anpurt_model *model,
				  const struct anpurt_engine_params *params)
{
	struct anpurt_engine_params defaults = anpurt_engine_default_params();
	const struct anpurt_engine_params *p = params ? params : &defaults;
	const struct anpurt_model_info *in = &model->info;
	uint32_t n_ctx = p->n_ctx ? p->n_ctx : GRAPH_DEFAULT_CTX;
	struct anpurt_engine e = { .model = model };
	struct session_size ss;

	data_range(&e);
	if (in->n_ctx_train && n_ctx > in->n_ctx_train)
		n_ctx = in->n_ctx_train;
	ss = session_size(in, n_ctx, p->kv_type == ANPURT_KV_F32 ? 4 : 2, GRAPH_DEFAULT_CHUNK);
	return device_mem_needed(e.data_end - e.data_start, &ss, p->n_sessions ? p->n_sessions : 1);
}

static int open_device(struct anpurt_engine *e, const struct anpurt_engine_params *p)
{
	struct accel_device_params dp = accel_device_default_params();
	int ret;

	dp.sim_mem_size = anpurt_engine_mem_needed(e->model, p);
	dp.sim_threads = p->threads;
	dp.mem_limit = p->mem_limit;
	ret = accel_device_open(p->device, &dp, &e->dev);
	if (ret)
		return rt_error(ret, "cannot open the NPU device %s: %s",
				p->device ? p->device : "(default)", strerror(-ret));
	ret = accel_device_info(e->dev, &e->info);
	if (ret)
		return rt_error(ret, "accel_device_info: %s", strerror(-ret));
	return 0;
}

bool engine_mem_full(const struct anpurt_engine *e, int ret, uint64_t *avail)
{
	uint64_t used = 0;

	if (ret != -ENOMEM && ret != -EDQUOT)
		return false;
	accel_device_mem_used(e->dev, &used);
	*avail = e->info.mem_limit > used ? e->info.mem_limit - used : 0;
	return true;
}

int anpurt_engine_load(const struct anpurt_model *model, const struct anpurt_engine_params *params,
		       struct anpurt_engine **engine)
{
	struct anpurt_engine_params defaults = anpurt_engine_default_params();
	struct anpurt_engine *e;
	int ret;

	*engine = NULL;
	if (!params)
		params = &defaults;
	ret = check_supported(model);
	if (ret)
		return ret;
	e = calloc(1, sizeof(*e));
	if (!e)
		return rt_error(-ENOMEM, "out of memory");
	e->model = model;
	data_range(e);
	ret = open_device(e, params);
	if (!ret)
		ret = weights_load(e, params->progress, params->progress_user);
	if (ret) {
		anpurt_engine_free(e);
		return ret;
	}
	*engine = e;
	rt_error_clear();
	return 0;
}

void anpurt_engine_free(struct anpurt_engine *e)
{
	if (!e)
		return;
	if (e->weights)
		accel_bo_free(e->weights);
	if (e->dev)
		accel_device_close(e->dev);
	free(e);
}
