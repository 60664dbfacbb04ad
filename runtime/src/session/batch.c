/* SPDX-License-Identifier: MIT */
/*
 * anpurt_batch_*: one greedy step of several sessions in one NPU job
 * (graph_record_batch), so the weights are read once for all of them. The
 * batch owns the step's activations (a scratch BO laid out for its n rows),
 * the recorded command buffer and a context of the sessions' priority; the
 * KV caches, logits and greedy tokens stay the sessions' own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "common/rt_time.h"
#include "session/session.h"

_Static_assert(ANPURT_BATCH_MAX == GRAPH_BATCH_MAX, "one limit");

struct anpurt_batch {
	struct anpurt_engine *engine;
	struct anpurt_session *sessions[GRAPH_BATCH_MAX];
	uint32_t n;
	struct accel_context *ctx;
	struct graph_bufs bufs;		/* the activations only (no KV cache) */
	struct graph_cmd step;
	uint64_t submits;
};

static int check_sessions(struct anpurt_session *const *s, size_t n)
{
	if (n < 1 || n > GRAPH_BATCH_MAX)
		return rt_error(-EINVAL, "batch of %zu sessions: 1 to %u", n, GRAPH_BATCH_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!s[i])
			return rt_error(-EINVAL, "batch: session %zu is NULL", i);
		if (s[i]->engine != s[0]->engine)
			return rt_error(-EINVAL, "batch: sessions 0 and %zu are of different engines", i);
		if (s[i]->params.priority != s[0]->params.priority)
			return rt_error(-EINVAL, "batch: sessions 0 and %zu have different priorities",
					i);
		for (size_t j = 0; j < i; j++)
			if (s[j] == s[i])
				return rt_error(-EINVAL, "batch: sessions %zu and %zu are the same", j, i);
	}
	if (s[0]->engine->info.isa_version < GRAPH_ISA_COPY)
		return rt_error(-EOPNOTSUPP, "batch: %s runs ISA %u.%u, the COPY op needs 1.1",
				s[0]->engine->info.path, s[0]->engine->info.isa_version >> 16,
				s[0]->engine->info.isa_version & 0xffff);
	return 0;
}

static int alloc_scratch(struct anpurt_batch *b)
{
	const struct anpurt_model_info *in = &b->engine->model->info;
	uint64_t avail;
	int ret;

	scratch_layout(in, b->n, b->n, &b->bufs.lay);
	ret = accel_bo_create(b->engine->dev, b->bufs.lay.size, 0, &b->bufs.scratch);
	if (engine_mem_full(b->engine, ret, &avail))
		return rt_error(-ENOMEM, "batch of %u sessions needs %llu bytes of device memory; "
				"%s has %llu bytes available", b->n,
				(unsigned long long)b->bufs.lay.size, b->engine->info.path,
				(unsigned long long)avail);
	if (ret)
		return rt_error(ret, "batch buffers: %s", strerror(-ret));
	return 0;
}

int anpurt_batch_create(struct anpurt_session *const *sessions, size_t n,
			struct anpurt_batch **batch)
{
	struct accel_context_params cp = accel_context_default_params();
	const struct graph_bufs *rows[GRAPH_BATCH_MAX];
	struct anpurt_batch *b;
	int ret;

	*batch = NULL;
	if ((ret = check_sessions(sessions, n)))
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		return rt_error(-ENOMEM, "out of memory");
	b->engine = sessions[0]->engine;
	b->n = (uint32_t)n;
	for (uint32_t i = 0; i < b->n; i++) {
		b->sessions[i] = sessions[i];
		rows[i] = &sessions[i]->bufs;
	}
	cp.priority = (enum accel_priority)sessions[0]->params.priority;
	ret = accel_context_create(b->engine->dev, &cp, &b->ctx);
	if (ret)
		ret = rt_error(ret, "accel_context_create: %s", strerror(-ret));
	if (!ret)
		ret = alloc_scratch(b);
	if (!ret)
		ret = graph_record_batch(b->engine, rows, b->n, &b->bufs, &b->step);
	if (ret) {
		anpurt_batch_free(b);
		return ret;
	}
	*batch = b;
	rt_error_clear();
	return 0;
}

void anpurt_batch_free(struct anpurt_batch *b)
{
	if (!b)
		return;
	if (b->ctx)
		accel_context_free(b->ctx);	/* waits for the batch's jobs */
	graph_cmd_free(&b->step);
	if (b->bufs.scratch)
		accel_bo_free(b->bufs.scratch);
	free(b);
}

static void set_next_token(struct anpurt_session *s, int32_t v)
{
	uint8_t *p = accel_bo_map(s->bufs.scratch);

	memcpy(p + s->bufs.lay.next, &v, sizeof(v));
}

int anpurt_batch_step(struct anpurt_batch *b, int32_t *next)
{
	uint32_t pos[GRAPH_BATCH_MAX];
	int32_t fed[GRAPH_BATCH_MAX];
	int64_t span;
	uint64_t t0 = rt_now_ns(), dt;
	int ret;

	for (uint32_t i = 0; i < b->n; i++) {
		const struct anpurt_session *s = b->sessions[i];

		if (!s->have_next)
			return rt_error(-ENODATA, "batch: session %u has not run a position yet "
					"(prefill it first)", i);
		if (s->pos >= s->bufs.n_ctx)
			return rt_error(-ENOSPC, "batch: session %u's context is full (%u tokens)",
					i, s->bufs.n_ctx);
		pos[i] = s->pos;
		fed[i] = session_next_token(s);
	}
	span = accel_trace_span_begin();	/* trace mode: a CPU span */
	ret = graph_run(b->engine, b->ctx, &b->step, pos, b->n, &b->submits);
	accel_trace_span_end("decode_batch_step", span);
	if (ret) {
		/* rows before the failing op may have written their token: put them back */
		for (uint32_t i = 0; i < b->n; i++)
			set_next_token(b->sessions[i], fed[i]);
		return ret;
	}
	dt = rt_now_ns() - t0;
	for (uint32_t i = 0; i < b->n; i++) {
		struct anpurt_session *s = b->sessions[i];

		s->hist[s->pos++] = fed[i];
		s->stats.decode_tokens++;
		s->stats.decode_ns += dt;
		s->stats.submits++;
		next[i] = session_next_token(s);
	}
	rt_error_clear();
	return 0;
}
