/* SPDX-License-Identifier: MIT */
/*
 * Forking a session on the device: COPY ops from one session's buffers into
 * another's, instead of reading a write-combined CPU mapping back and writing
 * it again. K and V of a layer are two planes kv_layer_bytes apart, so one
 * COPY of shape [kv_dim, n, 2] per layer takes both, whatever the two
 * sessions' context lengths (rows are kv_dim values either way).
 */
#include <errno.h>
#include <stdio.h>

#include "common/rt_error.h"
#include "graph/graph.h"

/* K and V rows [0, n) of layer @l of @b's cache. */
static struct accel_tensor kv_rows(const struct graph_bufs *b, uint32_t l, uint32_t kv_dim,
				   uint32_t n)
{
	struct accel_tensor t = accel_tensor_packed(b->kv, 2ull * l * b->kv_layer_bytes, b->kv_dtype,
						    kv_dim, n, 2, 1);

	t.nb[1] = b->kv_layer_bytes;		/* V's plane after K's */
	t.nb[2] = 2 * b->kv_layer_bytes;
	return t;
}

/* @n F32 values at @off of @b's scratch. */
static struct accel_tensor scratch_f32(const struct graph_bufs *b, uint64_t off, uint32_t n)
{
	return accel_tensor_packed(b->scratch, off, ACCEL_F32, n, 1, 1, 1);
}

static int copy_last(struct graph_cmd *g, const struct anpurt_model_info *in,
		     const struct graph_bufs *src, const struct graph_bufs *dst)
{
	struct accel_tensor ls = scratch_f32(src, src->lay.logits, in->n_vocab);
	struct accel_tensor ld = scratch_f32(dst, dst->lay.logits, in->n_vocab);
	/* the I32 greedy token as one F32: COPY moves bits, NaN payloads included */
	struct accel_tensor ns = scratch_f32(src, src->lay.next, 1);
	struct accel_tensor nd = scratch_f32(dst, dst->lay.next, 1);
	int ret;

	ret = graph_cmd_note(g, accel_cmd_copy(g->cb, &ls, &ld), "fork", "logits_copy");
	if (!ret)
		ret = graph_cmd_note(g, accel_cmd_copy(g->cb, &ns, &nd), "fork", "next_copy");
	return ret;
}

int graph_record_kv_copy(const struct anpurt_engine *e, const struct graph_bufs *src,
			 const struct graph_bufs *dst, uint32_t n, int last, struct graph_cmd *out)
{
	struct accel_cmdbuf_params cp = accel_cmdbuf_default_params();
	const struct anpurt_model_info *in = &e->model->info;
	uint32_t kv_dim = in->n_head_kv * in->head_dim_k, l;
	char label[GRAPH_LABEL_MAX];
	int ret;

	*out = (struct graph_cmd){ 0 };
	if (n < 1 || n > src->n_ctx || n > dst->n_ctx || src->kv_dtype != dst->kv_dtype)
		return rt_error(-EINVAL, "fork: copy of %u positions (contexts %u, %u; dtypes %u, %u)",
				n, src->n_ctx, dst->n_ctx, src->kv_dtype, dst->kv_dtype);
	cp.label = "fork";
	cp.step_params = GRAPH_STEP_COUNT;	/* session_run passes the position (unused) */
	ret = accel_cmdbuf_create(e->dev, &cp, &out->cb);
	if (ret)
		return rt_error(ret, "accel_cmdbuf_create: %d", ret);
	for (l = 0; !ret && l < in->n_layer; l++) {
		struct accel_tensor s = kv_rows(src, l, kv_dim, n), d = kv_rows(dst, l, kv_dim, n);

		snprintf(label, sizeof(label), "blk.%u.kv_copy", l);
		ret = graph_cmd_note(out, accel_cmd_copy(out->cb, &s, &d), "fork", label);
	}
	if (!ret && last)
		ret = copy_last(out, in, src, dst);
	if (!ret && (ret = accel_cmdbuf_finish(out->cb)))
		ret = rt_error(ret, "graph fork: finish: %s", accel_cmdbuf_error(out->cb));
	if (ret)
		graph_cmd_free(out);
	return ret;
}
