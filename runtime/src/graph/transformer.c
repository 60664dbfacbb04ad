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
 * then the last position only (not in a prefill chunk before the prompt's
 * last): RMSNORM(output_norm), MATMUL(output or the tied token_embd) into the
 * logits, ARGMAX into lay.next; so such a graph's last layer runs its
 * attention output and FFN on the last row alone (builder.tail). ACCUMULATE adds the old y
 * after the sum in f32, the very operation an ADD would do, one op and one
 * pass over x fewer.
 * A batch (graph_record_batch) is the same pass over n rows of n sessions:
 * the row-wise ops run on all rows at once, ROPE, KV_STORE and ATTENTION per
 * row group (a session's rows, its position slot, its cache), and every row
 * is an output row: its logits are copied to its session and its argmax
 * written there.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "common/rt_error.h"
#include "graph/graph.h"

/*
 * The rows of a graph that one session owns: its buffers (KV cache; logits
 * and greedy token) and the step slot of its first row's position.
 */
struct row_group {
	const struct graph_bufs *b;
	uint32_t slot, row0, m;
};

struct builder {
	const struct anpurt_engine *e;
	const struct graph_bufs *b;	/* where the activations are */
	const struct arch_hooks *hooks;
	struct graph_cmd *g;
	uint32_t m;			/* rows of the activations */
	const struct row_group *groups;
	uint32_t n_groups;
	/*
	 * The last layer's attention output and FFN run on rows tail .. m - 1
	 * only: a prefill's logits are the last row's, and the other rows'
	 * final hidden states are never read (their K and V are stored before).
	 */
	uint32_t tail;
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

static int rope(struct builder *bd, const struct accel_tensor *x, uint32_t slot, const char *label,
		int layer)
{
	const struct anpurt_model *model = bd->e->model;
	const struct anpurt_model_info *in = &model->info;
	struct accel_rope_params p = accel_rope_default_params();
	struct accel_tensor freqs;

	p.mode = bd->hooks->rope_mode;
	p.n_rot = in->head_dim_k;
	p.theta_base = in->rope_freq_base;
	p.pos = accel_step(slot);
	if (model->rope_freqs) {	/* Llama 3.1+: per-pair frequency factors */
		freqs = weight(bd, model->rope_freqs);
		p.freq_factors = &freqs;
	}
	return note(bd, accel_cmd_rope(bd->g->cb, x, x, &p), label, layer);
}

/*
 * Rows of group @gr of layer @l: RoPE of q and k at the group's positions,
 * K and V into its session's cache, attention over that cache.
 */
static int attention_rows(struct builder *bd, const struct row_group *gr, int l)
{
	const struct anpurt_model_info *in = &bd->e->model->info;
	const struct scratch_layout *s = &bd->b->lay;
	const struct graph_bufs *own = gr->b;
	uint32_t hd = in->head_dim_k, m = gr->m, qd = in->n_head * hd, kvd = in->n_head_kv * hd;
	uint64_t qoff = 4ull * qd * gr->row0, kvoff = 4ull * kvd * gr->row0;
	struct accel_tensor k = act(bd, s->k + kvoff, kvd, m, 1), v = act(bd, s->v + kvoff, kvd, m, 1);
	struct accel_tensor qh = act(bd, s->q + qoff, hd, in->n_head, m);
	struct accel_tensor kh = act(bd, s->k + kvoff, hd, in->n_head_kv, m);
	struct accel_tensor att = act(bd, s->att + qoff, hd, in->n_head, m);
	uint64_t kv_off = 2ull * l * own->kv_layer_bytes;
	struct accel_tensor kc = accel_tensor_packed(own->kv, kv_off, own->kv_dtype, kvd,
						     own->n_ctx, 1, 1);
	struct accel_tensor vc = accel_tensor_packed(own->kv, kv_off + own->kv_layer_bytes,
						     own->kv_dtype, kvd, own->n_ctx, 1, 1);
	struct accel_scalar pos = accel_step(gr->slot);
	int ret;

	if ((ret = rope(bd, &qh, gr->slot, "attn_q_rope", l)) ||
	    (ret = rope(bd, &kh, gr->slot, "attn_k_rope", l)))
		return ret;
	ret = note(bd, accel_cmd_kv_store(bd->g->cb, &k, &kc, pos), "cache_k", l);
	if (!ret)
		ret = note(bd, accel_cmd_kv_store(bd->g->cb, &v, &vc, pos), "cache_v", l);
	if (!ret)
		ret = note(bd, accel_cmd_attention(bd->g->cb, &qh, &kc, &vc, &att,
						   1.0f / sqrtf((float)hd), pos), "attn", l);
	return ret;
}

static int is_last_layer(const struct builder *bd, int l)
{
	return (uint32_t)l + 1 == bd->e->model->info.n_layer;
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
	struct accel_tensor v = act(bd, s->v, kvd, m, 1), att2 = act(bd, s->att, qd, m, 1);
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
	for (uint32_t i = 0; i < bd->n_groups; i++)
		if ((ret = attention_rows(bd, &bd->groups[i], l)))
			return ret;
	if (is_last_layer(bd, l) && bd->tail) {
		att2 = act(bd, s->att + 4ull * qd * bd->tail, qd, m - bd->tail, 1);
		x = act(bd, s->x + 4ull * in->n_embd * bd->tail, in->n_embd, m - bd->tail, 1);
	}
	return matmul(bd, &att2, ly->wo, NULL, &x, ACCEL_MATMUL_ACCUMULATE, "attn_output", l);
}

/* feed-forward half of layer @l: x += down . swiglu(gate . xn, up . xn) */
static int ffn_block(struct builder *bd, int l)
{
	const struct anpurt_model_info *in = &bd->e->model->info;
	const struct model_layer *ly = &bd->e->model->layers[l];
	const struct scratch_layout *s = &bd->b->lay;
	uint32_t tail = is_last_layer(bd, l) ? bd->tail : 0, m = bd->m - tail;
	struct accel_tensor x = act(bd, s->x + 4ull * in->n_embd * tail, in->n_embd, m, 1);
	struct accel_tensor xn = act(bd, s->xn, in->n_embd, m, 1);
	struct accel_tensor gate = act(bd, s->gate, in->n_ff, m, 1), up = act(bd, s->up, in->n_ff, m, 1);
	int ret;

	if ((ret = rmsnorm(bd, &x, ly->ffn_norm, &xn, "ffn_norm", l)) ||
	    (ret = matmul(bd, &xn, ly->ffn_gate, NULL, &gate, 0, "ffn_gate", l)) ||
	    (ret = matmul(bd, &xn, ly->ffn_up, NULL, &up, 0, "ffn_up", l)) ||
	    (ret = note(bd, accel_cmd_swiglu(bd->g->cb, &gate, &up, &gate), "ffn_swiglu", l)))
		return ret;
	return matmul(bd, &gate, ly->ffn_down, NULL, &x, ACCEL_MATMUL_ACCUMULATE, "ffn_down", l);
}

/* a single session's graph: the last position's logits and their argmax */
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

/*
 * A batch: every row's logits (one MATMUL for all), then each row's into its
 * session's scratch and its argmax as the session's greedy token.
 */
static int output_block_rows(struct builder *bd)
{
	const struct anpurt_model *md = bd->e->model;
	const struct scratch_layout *s = &bd->b->lay;
	uint32_t e = md->info.n_embd, nv = md->info.n_vocab;
	struct accel_tensor x = act(bd, s->x, e, bd->m, 1), xn = act(bd, s->xn, e, bd->m, 1);
	struct accel_tensor logits = act(bd, s->logits, nv, bd->m, 1);
	int ret;

	if ((ret = rmsnorm(bd, &x, md->output_norm, &xn, "output_norm", -1)) ||
	    (ret = matmul(bd, &xn, md->output ? md->output : md->tok_embd, NULL, &logits, 0,
			  "output", -1)))
		return ret;
	for (uint32_t i = 0; i < bd->n_groups && !ret; i++) {
		const struct graph_bufs *own = bd->groups[i].b;
		struct accel_tensor row = act(bd, s->logits + 4ull * nv * bd->groups[i].row0, nv, 1, 1);
		struct accel_tensor dst = accel_tensor_packed(own->scratch, own->lay.logits, ACCEL_F32,
							      nv, 1, 1, 1);
		struct accel_tensor next = accel_tensor_packed(own->scratch, own->lay.next, ACCEL_I32,
							       1, 1, 1, 1);

		ret = note(bd, accel_cmd_copy(bd->g->cb, &row, &dst), "logits_copy", -1);
		if (!ret)
			ret = note(bd, accel_cmd_argmax(bd->g->cb, &row, &next), "argmax", -1);
	}
	return ret;
}

/* Every layer of the builder's rows, between the embedding and the output. */
static int layers(struct builder *bd)
{
	int ret = 0;

	for (uint32_t l = 0; !ret && l < bd->e->model->info.n_layer; l++) {
		ret = attention_block(bd, (int)l);
		if (!ret)
			ret = ffn_block(bd, (int)l);
	}
	return ret;
}

static int graph_begin(const struct anpurt_engine *e, unsigned int step_params, const char *label,
		       struct graph_cmd *out)
{
	struct accel_cmdbuf_params cp = accel_cmdbuf_default_params();
	int ret;

	cp.step_params = step_params;
	cp.label = label;
	ret = accel_cmdbuf_create(e->dev, &cp, &out->cb);
	if (ret)
		return rt_error(ret, "accel_cmdbuf_create: %d", ret);
	return 0;
}

static int graph_end(struct builder *bd, int ret)
{
	if (!ret && (ret = accel_cmdbuf_finish(bd->g->cb)))
		ret = rt_error(ret, "graph %s: finish: %s", bd->hooks->name,
			       accel_cmdbuf_error(bd->g->cb));
	if (ret)
		graph_cmd_free(bd->g);
	return ret;
}

int graph_record(const struct anpurt_engine *e, const struct graph_bufs *b, uint32_t m,
		 unsigned int flags, struct graph_cmd *out)
{
	const int decode = !!(flags & GRAPH_DECODE);
	const struct anpurt_model *md = e->model;
	const struct row_group group = { b, GRAPH_STEP_POS, 0, m };
	struct builder bd = { e, b, arch_hooks_of(md), out, m, &group, 1,
			      flags & GRAPH_NO_LOGITS ? 0 : m - 1 };
	struct accel_tensor table = engine_weight(e, md->tok_embd);
	struct accel_tensor ids = accel_tensor_packed(b->scratch, decode ? b->lay.next : b->lay.ids,
						      ACCEL_I32, m, 1, 1, 1);
	struct accel_tensor x = act(&bd, b->lay.x, md->info.n_embd, m, 1);
	int ret;

	*out = (struct graph_cmd){ 0 };
	if (m < 1 || m > b->lay.chunk || (decode && m != 1) ||
	    (flags & ~(GRAPH_DECODE | GRAPH_NO_LOGITS)) ||
	    (decode && (flags & GRAPH_NO_LOGITS)))
		return rt_error(-EINVAL, "graph of %u tokens (chunk %u, flags %#x)", m,
				b->lay.chunk, flags);
	ret = graph_begin(e, GRAPH_STEP_COUNT, decode ? "decode" : "prefill", out);
	if (ret)
		return ret;
	ret = note(&bd, accel_cmd_embed(out->cb, &table, &ids, &x), "token_embd", -1);
	if (!ret)
		ret = layers(&bd);
	if (!ret && !(flags & GRAPH_NO_LOGITS))
		ret = output_block(&bd);
	return graph_end(&bd, ret);
}

int graph_record_batch(const struct anpurt_engine *e, const struct graph_bufs *const *rows,
		       uint32_t n, const struct graph_bufs *batch, struct graph_cmd *out)
{
	const struct anpurt_model *md = e->model;
	struct row_group groups[GRAPH_BATCH_MAX];
	struct builder bd = { e, batch, arch_hooks_of(md), out, n, groups, n, 0 };
	struct accel_tensor table = engine_weight(e, md->tok_embd);
	int ret;

	*out = (struct graph_cmd){ 0 };
	if (n < 1 || n > GRAPH_BATCH_MAX || n > batch->lay.chunk)
		return rt_error(-EINVAL, "batch of %u sessions (at most %u)", n, GRAPH_BATCH_MAX);
	for (uint32_t i = 0; i < n; i++)
		groups[i] = (struct row_group){ rows[i], i, i, 1 };
	ret = graph_begin(e, n, "decode_batch", out);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < n && !ret; i++) {
		struct accel_tensor ids = accel_tensor_packed(rows[i]->scratch, rows[i]->lay.next,
							      ACCEL_I32, 1, 1, 1, 1);
		struct accel_tensor x = act(&bd, batch->lay.x + 4ull * md->info.n_embd * i,
					    md->info.n_embd, 1, 1);

		ret = note(&bd, accel_cmd_embed(out->cb, &table, &ids, &x), "token_embd", -1);
	}
	if (!ret)
		ret = layers(&bd);
	if (!ret)
		ret = output_block_rows(&bd);
	return graph_end(&bd, ret);
}

void graph_cmd_free(struct graph_cmd *g)
{
	if (g->cb)
		accel_cmdbuf_free(g->cb);
	*g = (struct graph_cmd){ 0 };
}
