/* SPDX-License-Identifier: MIT */
/*
 * The tensors of a qwen2/qwen3/llama model: each one present with exactly the
 * shape the hyper-parameters imply, the 1-D ones (norms, biases, RoPE factors)
 * in f32 as every converter writes them, and no tensor the architecture does
 * not have (as llama.cpp, which refuses files with extra tensors).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "model/ggml_types.h"
#include "model/model.h"

#define MIN_LAYER_TENSORS	9	/* attn_norm, q, k, v, output, ffn_norm, gate, up, down */

struct binder {
	struct anpurt_model *m;
	uint8_t *seen;	/* per tensor of the file: bound to a role */
};

static int shape_str(char *buf, size_t n, const uint64_t *ne, uint32_t n_dims)
{
	int len = snprintf(buf, n, "[%" PRIu64, ne[0]);
	uint32_t d;

	for (d = 1; d < n_dims && len > 0 && (size_t)len < n; d++)
		len += snprintf(buf + len, n - (size_t)len, ", %" PRIu64, ne[d]);
	if (len > 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, "]");
	return 0;
}

/*
 * Bind @name to *@slot: shape [ne0] (ne1 == 0) or [ne0, ne1]. Absent: NULL when
 * !@required, else an error.
 */
static int bind(struct binder *b, const struct gguf_tensor **slot, const char *name,
		int required, uint64_t ne0, uint64_t ne1)
{
	const uint64_t want[GGUF_MAX_DIMS] = { ne0, ne1 ? ne1 : 1, 1, 1 };
	const struct gguf_tensor *t = gguf_find_tensor(b->m->gguf, name);
	char found[96], expected[64];

	*slot = t;
	if (!t)
		return required ? rt_error(-EINVAL, "tensor '%s' is missing (a %s model has it)",
					   name, b->m->info.architecture) : 0;
	b->seen[t - b->m->gguf->tensors] = 1;
	if (memcmp(t->ne, want, sizeof(want))) {
		shape_str(found, sizeof(found), t->ne, t->n_dims);
		shape_str(expected, sizeof(expected), want, ne1 ? 2 : 1);
		return rt_error(-EINVAL, "offset %" PRIu64 ": tensor '%s': shape %s, expected %s",
				t->info_offset, name, found, expected);
	}
	if (!ne1 && t->type != GGML_F32)
		return rt_error(-EINVAL, "offset %" PRIu64 ": tensor '%s': type %s, expected f32"
				" (norms, biases and RoPE factors are f32)", t->info_offset, name,
				ggml_type_get(t->type)->name);
	return 0;
}

static int bind_layer(struct binder *b, uint32_t i, struct model_layer *l)
{
	const struct anpurt_model_info *in = &b->m->info;
	uint64_t q = (uint64_t)in->n_head * in->head_dim_k;
	uint64_t k = (uint64_t)in->n_head_kv * in->head_dim_k;
	uint64_t v = (uint64_t)in->n_head_kv * in->head_dim_v;
	uint64_t o = (uint64_t)in->n_head * in->head_dim_v;
	int qwen2 = b->m->arch == ARCH_QWEN2, qwen3 = b->m->arch == ARCH_QWEN3;
	char n[14][GGUF_MAX_NAME];
	int ret;

#define NAME(idx, what) (snprintf(n[idx], sizeof(n[idx]), "blk.%" PRIu32 "." what, i), n[idx])
	ret = bind(b, &l->attn_norm, NAME(0, "attn_norm.weight"), 1, in->n_embd, 0);
	if (!ret) ret = bind(b, &l->wq, NAME(1, "attn_q.weight"), 1, in->n_embd, q);
	if (!ret) ret = bind(b, &l->wk, NAME(2, "attn_k.weight"), 1, in->n_embd, k);
	if (!ret) ret = bind(b, &l->wv, NAME(3, "attn_v.weight"), 1, in->n_embd, v);
	if (!ret) ret = bind(b, &l->wo, NAME(4, "attn_output.weight"), 1, o, in->n_embd);
	if (!ret && qwen2) ret = bind(b, &l->bq, NAME(5, "attn_q.bias"), 1, q, 0);
	if (!ret && qwen2) ret = bind(b, &l->bk, NAME(6, "attn_k.bias"), 1, k, 0);
	if (!ret && qwen2) ret = bind(b, &l->bv, NAME(7, "attn_v.bias"), 1, v, 0);
	if (!ret && qwen3) ret = bind(b, &l->q_norm, NAME(8, "attn_q_norm.weight"), 1, in->head_dim_k, 0);
	if (!ret && qwen3) ret = bind(b, &l->k_norm, NAME(9, "attn_k_norm.weight"), 1, in->head_dim_k, 0);
	if (!ret) ret = bind(b, &l->ffn_norm, NAME(10, "ffn_norm.weight"), 1, in->n_embd, 0);
	if (!ret) ret = bind(b, &l->ffn_gate, NAME(11, "ffn_gate.weight"), 1, in->n_embd, in->n_ff);
	if (!ret) ret = bind(b, &l->ffn_up, NAME(12, "ffn_up.weight"), 1, in->n_embd, in->n_ff);
	if (!ret) ret = bind(b, &l->ffn_down, NAME(13, "ffn_down.weight"), 1, in->n_ff, in->n_embd);
#undef NAME
	return ret;
}

static int bind_global(struct binder *b)
{
	struct anpurt_model *m = b->m;
	struct anpurt_model_info *in = &m->info;
	const struct gguf_tensor *t = gguf_find_tensor(m->gguf, "token_embd.weight");
	int ret;

	if (!t)
		return rt_error(-EINVAL, "tensor 'token_embd.weight' is missing (a %s model has it)",
				in->architecture);
	if (t->ne[1] > INT32_MAX)
		return rt_error(-EINVAL, "offset %" PRIu64 ": tensor 'token_embd.weight': %" PRIu64
				" rows (vocabulary) is too many", t->info_offset, t->ne[1]);
	in->n_vocab = (uint32_t)t->ne[1];
	ret = bind(b, &m->tok_embd, "token_embd.weight", 1, in->n_embd, in->n_vocab);
	if (!ret)
		ret = bind(b, &m->output_norm, "output_norm.weight", 1, in->n_embd, 0);
	if (!ret)
		ret = bind(b, &m->output, "output.weight", 0, in->n_embd, in->n_vocab);
	if (ret)
		return ret;
	in->tied_output = m->output == NULL;
	if (m->arch == ARCH_LLAMA) {
		ret = bind(b, &m->rope_freqs, "rope_freqs.weight", 0, in->head_dim_k / 2, 0);
		if (ret)
			return ret;
		if (m->rope_freqs)
			in->rope_scaling = ANPURT_ROPE_SCALING_LLAMA3;
		else if (in->rope_scaling == ANPURT_ROPE_SCALING_LLAMA3)
			return rt_error(-EINVAL, "llama.rope.scaling.type is llama3 but tensor"
					" 'rope_freqs.weight' is missing");
	}
	return 0;
}

int model_bind_tensors(struct anpurt_model *m)
{
	struct gguf_file *g = m->gguf;
	struct binder b = { .m = m };
	uint32_t i;
	size_t t;
	int ret;

	/* bounds the loops and the allocation below by the file's content */
	if (m->info.n_layer > g->n_tensors / MIN_LAYER_TENSORS)
		return rt_error(-EINVAL, "%s.block_count is %" PRIu32 " but the file has only %zu"
				" tensors", m->info.architecture, m->info.n_layer, g->n_tensors);
	m->info.has_qkv_bias = m->arch == ARCH_QWEN2;
	m->info.has_qk_norm = m->arch == ARCH_QWEN3;
	b.seen = calloc(g->n_tensors, 1);
	m->layers = calloc(m->info.n_layer, sizeof(*m->layers));
	if (!b.seen || !m->layers) {
		free(b.seen);
		return rt_error(-ENOMEM, "out of memory");
	}
	ret = bind_global(&b);
	for (i = 0; !ret && i < m->info.n_layer; i++)
		ret = bind_layer(&b, i, &m->layers[i]);
	for (t = 0; !ret && t < g->n_tensors; t++) {
		if (!b.seen[t])
			ret = rt_error(-ENOTSUP, "offset %" PRIu64 ": tensor '%.*s' is not part of a %s"
				       " model with %" PRIu32 " layers (extra weights such as"
				       " experts or vision towers are not supported)",
				       g->tensors[t].info_offset, (int)g->tensors[t].name.len,
				       g->tensors[t].name.ptr, m->info.architecture, m->info.n_layer);
	}
	free(b.seen);
	return ret;
}
