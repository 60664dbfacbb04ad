/* SPDX-License-Identifier: MIT */
/* anpurt_session_create/free/...: a session's KV cache, scratch and decode command buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "session/session.h"


struct anpurt_session_params anpurt_session_default_params(void)
{
	struct anpurt_session_params p = {
		.n_ctx = 0, .kv_type = ANPURT_KV_F16, .priority = ANPURT_PRIORITY_NORMAL,
		.prefill_chunk = 0,
	};

	return p;
}

static int check_params(const struct anpurt_model_info *in, const struct anpurt_session_params *p)
{
	if (p->kv_type != ANPURT_KV_F16 && p->kv_type != ANPURT_KV_F32)
		return rt_error(-EINVAL, "session: unknown KV cache type %d", (int)p->kv_type);
	if ((unsigned int)p->priority > ANPURT_PRIORITY_REALTIME)
		return rt_error(-EINVAL, "session: unknown priority %d", (int)p->priority);
	if (in->n_ctx_train && p->n_ctx > in->n_ctx_train)
		return rt_error(-EINVAL, "session: context of %u tokens exceeds the model's %u",
				p->n_ctx, in->n_ctx_train);
	if (p->prefill_chunk > 4096)
		return rt_error(-EINVAL, "session: prefill chunk %u > 4096", p->prefill_chunk);
	return 0;
}

static int alloc_buffers(struct anpurt_session *s, const struct anpurt_model_info *in,
			 uint32_t n_ctx, uint32_t kv_elem, uint32_t chunk)
{
	struct session_size sz = session_size(in, n_ctx, kv_elem, chunk);
	struct accel_device *dev = s->engine->dev;
	struct graph_bufs *b = &s->bufs;
	uint64_t avail;
	int ret;

	scratch_layout(in, chunk, 1, &b->lay);
	b->n_ctx = n_ctx;
	b->kv_dtype = kv_elem == 2 ? ACCEL_F16 : ACCEL_F32;
	b->kv_layer_bytes = (uint64_t)in->n_head_kv * in->head_dim_k * n_ctx * kv_elem;
	ret = accel_bo_create(dev, sz.kv_bytes, ACCEL_BO_NO_CLEAR, &b->kv);
	if (!ret)
		ret = accel_bo_create(dev, sz.scratch_bytes, 0, &b->scratch);
	if (engine_mem_full(s->engine, ret, &avail))
		return rt_error(-ENOMEM, "session of %u tokens needs %llu bytes of device memory "
				"(KV cache %llu, scratch %llu); %s has %llu bytes available%s",
				n_ctx, (unsigned long long)(sz.kv_bytes + sz.scratch_bytes),
				(unsigned long long)sz.kv_bytes,
				(unsigned long long)sz.scratch_bytes, s->engine->info.path,
				(unsigned long long)avail,
				ret == -EDQUOT ? " (anpu.ko's per-process limit is lower)" : "");
	if (ret)
		return rt_error(ret, "session buffers: %s", strerror(-ret));
	s->stats.kv_bytes = sz.kv_bytes;
	s->stats.scratch_bytes = sz.scratch_bytes;
	return 0;
}

int anpurt_session_create(struct anpurt_engine *engine, const struct anpurt_session_params *params,
			  struct anpurt_session **session)
{
	struct anpurt_session_params p = params ? *params : anpurt_session_default_params();
	const struct anpurt_model_info *in = &engine->model->info;
	struct accel_context_params cp = accel_context_default_params();
	struct anpurt_session *s;
	uint32_t n_ctx;
	int ret;

	*session = NULL;
	ret = check_params(in, &p);
	if (ret)
		return ret;
	if (p.kv_type == ANPURT_KV_F16 && !(engine->info.caps & ACCEL_CAP_KV_F16))
		return rt_error(-EOPNOTSUPP, "session: %s has no F16 KV caches (use ANPURT_KV_F32)",
				engine->info.path);
	n_ctx = p.n_ctx ? p.n_ctx : GRAPH_DEFAULT_CTX;
	if (in->n_ctx_train && n_ctx > in->n_ctx_train)
		n_ctx = in->n_ctx_train;
	s = calloc(1, sizeof(*s));
	if (!s)
		return rt_error(-ENOMEM, "out of memory");
	s->engine = engine;
	s->params = p;
	s->params.n_ctx = n_ctx;
	s->params.prefill_chunk = p.prefill_chunk ? p.prefill_chunk :
				  p.priority == ANPURT_PRIORITY_LOW ? GRAPH_LOW_PRIORITY_CHUNK :
				  GRAPH_DEFAULT_CHUNK;
	cp.priority = (enum accel_priority)p.priority;
	ret = accel_context_create(engine->dev, &cp, &s->ctx);
	if (ret)
		ret = rt_error(ret, "accel_context_create: %s", strerror(-ret));
	if (!ret)
		ret = alloc_buffers(s, in, n_ctx, p.kv_type == ANPURT_KV_F32 ? 4 : 2,
				    s->params.prefill_chunk);
	if (!ret)
		ret = graph_record(engine, &s->bufs, 1, GRAPH_DECODE, &s->decode);
	if (!ret && !(s->hist = malloc((size_t)s->bufs.n_ctx * sizeof(*s->hist))))
		ret = rt_error(-ENOMEM, "session: out of memory for %u tokens", s->bufs.n_ctx);
	if (ret) {
		anpurt_session_free(s);
		return ret;
	}
	*session = s;
	rt_error_clear();
	return 0;
}

void anpurt_session_free(struct anpurt_session *s)
{
	if (!s)
		return;
	if (s->ctx)
		accel_context_free(s->ctx);	/* waits for the session's jobs */
	graph_cmd_free(&s->decode);
	graph_cmd_free(&s->prefill);
	if (s->bufs.kv)
		accel_bo_free(s->bufs.kv);
	if (s->bufs.scratch)
		accel_bo_free(s->bufs.scratch);
	free(s->hist);
	free(s);
}

int graph_run(struct anpurt_engine *e, struct accel_context *ctx, struct graph_cmd *g,
	      const uint32_t *steps, unsigned int n_steps, uint64_t *submits)
{
	struct accel_submit_params sp = accel_submit_default_params();
	struct accel_device *dev = e->dev;
	struct accel_job_status st;
	struct accel_fence f;
	const char *op_label;
	int ret;

	sp.step_params = steps;
	sp.n_step_params = n_steps;
	ret = accel_submit(ctx, g->cb, &sp, &f);
	if (ret)
		return rt_error(ret, "submit: %s", strerror(-ret));
	(*submits)++;
	ret = accel_fence_wait(dev, &f, -1);
	if (!ret)
		return 0;
	if (accel_fence_status(dev, &f, &st))
		return rt_error(ret, "NPU job failed: %s", strerror(-ret));
	op_label = accel_cmdbuf_op_label(g->cb, st.op_index);
	return rt_error(st.error ? st.error : ret, "NPU job failed at op %u (%s): %s, %s",
			st.op_index, op_label ? op_label : "?",
			accel_cause_name(st.cause), strerror(-(st.error ? st.error : ret)));
}

int session_run(struct anpurt_session *s, struct graph_cmd *g, uint32_t pos)
{
	return graph_run(s->engine, s->ctx, g, &pos, GRAPH_STEP_COUNT, &s->stats.submits);
}

int32_t session_next_token(const struct anpurt_session *s)
{
	const uint8_t *p = accel_bo_map(s->bufs.scratch);
	int32_t v;

	memcpy(&v, p + s->bufs.lay.next, sizeof(v));
	return v;
}

uint32_t anpurt_session_position(const struct anpurt_session *s)
{
	return s->pos;
}

const float *session_logits(const struct anpurt_session *s)
{
	const uint8_t *p = accel_bo_map(s->bufs.scratch);

	return s->have_next ? (const float *)(p + s->bufs.lay.logits) : NULL;
}

int anpurt_session_logits(struct anpurt_session *s, float *out, size_t n)
{
	uint32_t n_vocab = s->engine->model->info.n_vocab;
	const uint8_t *p = accel_bo_map(s->bufs.scratch);

	if (!s->have_next)
		return rt_error(-ENODATA, "session: no position has run yet");
	if (n < n_vocab)
		return rt_error(-EINVAL, "logits: room for %zu of %u", n, n_vocab);
	memcpy(out, p + s->bufs.lay.logits, (size_t)n_vocab * sizeof(float));
	rt_error_clear();
	return 0;
}

int anpurt_session_stats(const struct anpurt_session *s, struct anpurt_session_stats *stats)
{
	*stats = s->stats;
	return 0;
}
