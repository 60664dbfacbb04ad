/* SPDX-License-Identifier: MIT */
/*
 * The transformer builder: the forward pass of M tokens as libaccel ops, with
 * the architecture's hooks. Per layer (x = the residual stream, F32 [E, M]):
 *   xn = RMSNORM(x, attn_norm); q, k, v = MATMUL(xn, wq/wk/wv) (+bias, qwen2)
 *   qwen3: RMSNORM of each head of q and k; ROPE(q), ROPE(k) at pos
 *   KV_STORE(k), KV_STORE(v) at pos; att = ATTENTION(q, K, V) causal, GQA
 *   x += MATMUL(att, wo)          (MATMUL with ACCUMULATE: the residual ADD)
 *   xn = RMSNORM(x, ffn_norm); gate, up = MATMUL(xn, ...); gate = SWIGLU(gate, up)
 *   x += MATMUL(gate, ffn_down)   (ACCUMULATE again)
 * then the last position only: RMSNORM(output_norm), MATMUL(output or the tied
 * token_embd) into the logits, ARGMAX into lay.next. ACCUMULATE adds the old y
 * after the sum in f32, the very operation an ADD would do, one op and one
 * pass over x fewer.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "common/rt_error.h"
#include "graph/graph.h"

struct builder {
	const struct anpurt_engine *e;
	const struct graph_bufs *b;
	const struct arch_hooks *hooks;
	struct graph_cmd *g;
	uint32_t m;
	int decode;
};

/* F32 activations [ne0, ne1, ne2] at @off of the scratch BO. */
static struct accel_tensor act(const struct builder *bd, uint64_t off, uint32_t ne0, uint32_t ne1,
			       uint32_t ne2)
{
	return accel_tensor_packed(bd->b->scratch, off, ACCEL_F32, ne0, ne1, ne2, 1);
}

static struct accel_tensor weight(const struct builder *bd, const struct gguf_tensor *t)
{
	return engine_weight(bd->e, t);
}

/* Label the op just recorded by @ret's call, or turn its failure into a message. */
int graph_cmd_note(struct graph_cmd *g, int ret, const char *graph, const char *label)
{
	if (!ret)
		ret = accel_cmdbuf_set_op_label(g->cb, accel_cmdbuf_op_count(g->cb) - 1, label);
	if (ret)
		return rt_error(ret, "graph %s, op %s: %s", graph, label, accel_cmdbuf_error(g->cb));
	return 0;
}

/* graph_cmd_note() with the op's label: "blk.<layer>.<fmt>", or @fmt alone for layer -1. */
static int note(struct builder *bd, int ret, const char *fmt, int layer)
{
	char label[GRAPH_LABEL_MAX];

	if (layer >= 0)
		snprintf(label, sizeof(label), "blk.%d.%s", layer, fmt);
	else
		snprintf(label, sizeof(label), "%s", fmt);
	return graph_cmd_note(bd->g, ret, bd->hooks->name, label);
}

static int matmul(struct builder *bd, const struct accel_tensor *x, const struct gguf_tensor *w,
		  const struct gguf_tensor *bias, const struct accel_tensor *y, uint32_t flags,
		  const char *label, int layer)
{
	struct accel_tensor wt = weight(bd, w), bt;

	if (bias)
		bt = weight(bd, bias);
	return note(bd, accel_cmd_matmul(bd->g->cb, x, &wt, bias ? &bt : NULL, y, flags), label,
		    layer);
}

static int rmsnorm(struct builder *bd, const struct accel_tensor *x, const struct gguf_tensor *w,
		   const struct accel_tensor *y, const char *label, int layer)
{
	struct accel_tensor wt = weight(bd, w);

	return note(bd, accel_cmd_rmsnorm(bd->g->cb, x, &wt, y, bd->e->model->info.rms_norm_eps),
		    label, layer);
}

static int rope(struct builder *bd, const struct accel_tensor *x, const char *label, int layer)
{
	const struct anpurt_model *model = bd->e->model;
	const struct anpurt_model_info *in = &model->info;
	struct accel_rope_params p = accel_rope_default_params();
	struct accel_tensor freqs;

	p.mode = bd->hooks->rope_mode;
	p.n_rot = in->head_dim_k;
	p.theta_base = in->rope_freq_base;
	p.pos = accel_step(GRAPH_STEP_POS);
	if (model->rope_freqs) {	/* Llama 3.1+: per-pair frequency factors */
		freqs = weight(bd, model->rope_freqs);
		p.freq_factors = &freqs;
	}
	return note(bd, accel_cmd_rope(bd->g->cb, x, x, &p), label, layer);
}

/* attention half of layer @l: x += wo . attention(rope(q), rope(k), v) */
static int attention_block(struct builder *bd, int l)
{
	const struct anpurt_model_info *in = &bd->e->model->info;
	const struct model_layer *ly = &bd->e->model->layers[l];
	const struct scratch_layout *s = &bd->b->lay;
	uint32_t hd = in->head_dim_k, m = bd->m, qd = in->n_head * hd, kvd = in->n_head_kv * hd;
	struct accel_tensor x = act(bd, s->x, in->n_embd, m, 1), xn = act(bd, s->xn, in->n_embd, m, 1);
	struct accel_tensor q = act(bd, s->q, qd, m, 1), k = act(bd, s->k, kvd, m, 1);
	struct accel_tensor v = act(bd, s->v, kvd, m, 1);
	struct accel_tensor qh = act(bd, s->q, hd, in->n_head, m), kh = act(bd, s->k, hd, in->n_head_kv, m);
	struct accel_tensor att = act(bd, s->att, hd, in->n_head, m), att2 = act(bd, s->att, qd, m, 1);
	uint64_t kv_off = 2ull * l * bd->b->kv_layer_bytes;
	struct accel_tensor kc = accel_tensor_packed(bd->b->kv, kv_off, bd->b->kv_dtype, kvd,
						     bd->b->n_ctx, 1, 1);
	struct accel_tensor vc = accel_tensor_packed(bd->b->kv, kv_off + bd->b->kv_layer_bytes,
						     bd->b->kv_dtype, kvd, bd->b->n_ctx, 1, 1);
	int bias = bd->hooks->qkv_bias, ret;

	if ((ret = rmsnorm(bd, &x, ly->attn_norm, &xn, "attn_norm", l)) ||
	    (ret = matmul(bd, &xn, ly->wq, bias ? ly->bq : NULL, &q, 0, "attn_q", l)) ||
	    (ret = matmul(bd, &xn, ly->wk, bias ? ly->bk : NULL, &k, 0, "attn_k", l)) ||
	    (ret = matmul(bd, &xn, ly->wv, bias ? ly->bv : NULL, &v, 0, "attn_v", l)))
		return ret;
	if (bd->hooks->qk_norm) {
		struct accel_tensor qn = act(bd, s->q, hd, in->n_head * m, 1);
		struct accel_tensor kn = act(bd, s->k, hd, in->n_head_kv * m, 1);

		if ((ret = rmsnorm(bd, &qn, ly->q_norm, &qn, "attn_q_norm", l)) ||
		    (ret = rmsnorm(bd, &kn, ly->k_norm, &kn, "attn_k_norm", l)))
			return ret;
	}
	if ((ret = rope(bd, &qh, "attn_q_rope", l)) || (ret = rope(bd, &kh, "attn_k_rope", l)))
		return ret;
	ret = note(bd, accel_cmd_kv_store(bd->g->cb, &k, &kc, accel_step(GRAPH_STEP_POS)),
		   "cache_k", l);
	if (!ret)
		ret = note(bd, accel_cmd_kv_store(bd->g->cb, &v, &vc, accel_step(GRAPH_STEP_POS)),
			   "cache_v", l);
	if (!ret)
		ret = note(bd, accel_cmd_attention(bd->g->cb, &qh, &kc, &vc, &att,
						   1.0f / sqrtf((float)hd), accel_step(GRAPH_STEP_POS)),
			   "attn", l);
	if (!ret)
		ret = matmul(bd, &att2, ly->wo, NULL, &x, ACCEL_MATMUL_ACCUMULATE, "attn_output", l);
	return ret;
}

/* feed-forward half of layer @l: x += down . swiglu(gate . xn, up . xn) */
static int ffn_block(struct builder *bd, int l)
{
	const struct anpurt_model_info *in = &bd->e->model->info;
	const struct model_layer *ly = &bd->e->model->layers[l];
	const struct scratch_layout *s = &bd->b->lay;
	uint32_t m = bd->m;
	struct accel_tensor x = act(bd, s->x, in->n_embd, m, 1), xn = act(bd, s->xn, in->n_embd, m, 1);
	struct accel_tensor gate = act(bd, s->gate, in->n_ff, m, 1), up = act(bd, s->up, in->n_ff, m, 1);
	int ret;

	if ((ret = rmsnorm(bd, &x, ly->ffn_norm, &xn, "ffn_norm", l)) ||
	    (ret = matmul(bd, &xn, ly->ffn_gate, NULL, &gate, 0, "ffn_gate", l)) ||
	    (ret = matmul(bd, &xn, ly->ffn_up, NULL, &up, 0, "ffn_up", l)) ||
	    (ret = note(bd, accel_cmd_swiglu(bd->g->cb, &gate, &up, &gate), "ffn_swiglu", l)))
		return ret;
	return matmul(bd, &gate, ly->ffn_down, NULL, &x, ACCEL_MATMUL_ACCUMULATE, "ffn_down", l);
}

/* the last position's logits and their argmax */
static int output_block(struct builder *bd)
{
	const struct anpurt_model *md = bd->e->model;
	const struct scratch_layout *s = &bd->b->lay;
	uint32_t e = md->info.n_embd;
	struct accel_tensor last = act(bd, s->x + 4ull * e * (bd->m - 1), e, 1, 1);
	struct accel_tensor xn = act(bd, s->xn, e, 1, 1);
	struct accel_tensor logits = act(bd, s->logits, md->info.n_vocab, 1, 1);
	struct accel_tensor next = accel_tensor_packed(bd->b->scratch, s->next, ACCEL_I32, 1, 1, 1, 1);
	int ret;

	if ((ret = rmsnorm(bd, &last, md->output_norm, &xn, "output_norm", -1)) ||
	    (ret = matmul(bd, &xn, md->output ? md->output : md->tok_embd, NULL, &logits, 0,
			  "output", -1)))
		return ret;
	return note(bd, accel_cmd_argmax(bd->g->cb, &logits, &next), "argmax", -1);
}

int graph_record(const struct anpurt_engine *e, const struct graph_bufs *b, uint32_t m,
		 int decode, struct graph_cmd *out)
{
	struct accel_cmdbuf_params cp = accel_cmdbuf_default_params();
	const struct anpurt_model *md = e->model;
	struct builder bd = { e, b, arch_hooks_of(md), out, m, decode };
	struct accel_tensor table = engine_weight(e, md->tok_embd);
	struct accel_tensor ids = accel_tensor_packed(b->scratch, decode ? b->lay.next : b->lay.ids,
						      ACCEL_I32, m, 1, 1, 1);
	struct accel_tensor x = act(&bd, b->lay.x, md->info.n_embd, m, 1);
	uint32_t l;
	int ret;

	*out = (struct graph_cmd){ 0 };
	if (m < 1 || m > b->lay.chunk || (decode && m != 1))
		return rt_error(-EINVAL, "graph of %u tokens (chunk %u, decode %d)", m,
				b->lay.chunk, decode);
	cp.step_params = GRAPH_STEP_COUNT;
	cp.label = decode ? "decode" : "prefill";
	ret = accel_cmdbuf_create(e->dev, &cp, &out->cb);
	if (ret)
		return rt_error(ret, "accel_cmdbuf_create: %d", ret);
	ret = note(&bd, accel_cmd_embed(out->cb, &table, &ids, &x), "token_embd", -1);
	for (l = 0; !ret && l < md->info.n_layer; l++) {
		ret = attention_block(&bd, (int)l);
		if (!ret)
			ret = ffn_block(&bd, (int)l);
	}
	if (!ret)
		ret = output_block(&bd);
	if (!ret && (ret = accel_cmdbuf_finish(out->cb)))
		ret = rt_error(ret, "graph %s: finish: %s", bd.hooks->name, accel_cmdbuf_error(out->cb));
	if (ret)
		graph_cmd_free(out);
	return ret;
}

void graph_cmd_free(struct graph_cmd *g)
{
	if (g->cb)
		accel_cmdbuf_free(g->cb);
	*g = (struct graph_cmd){ 0 };
}
