// SPDX-License-Identifier: MIT
/* Presets, tensor lists and llama-quantize's per-tensor type choice. */
#include "mk_model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* shapes from the models' config.json (Hugging Face) */
static const struct mk_preset presets[] = {
	{ .name = "qwen2.5-0.5b", .arch = MK_ARCH_QWEN2, .display_name = "Qwen2.5 0.5B Instruct",
	  .basename = "Qwen2.5", .size_label = "0.5B", .license = "apache-2.0",
	  .n_layer = 24, .n_embd = 896, .n_head = 14, .n_head_kv = 2, .head_dim = 64, .n_ff = 4864,
	  .n_vocab = 151936, .n_ctx_train = 32768, .rope_theta = 1e6f, .rms_eps = 1e-6f,
	  .vocab = MK_VOCAB_QWEN, .chat_template = MK_TEMPLATE_QWEN25 },
	{ .name = "qwen2.5-1.5b", .arch = MK_ARCH_QWEN2, .display_name = "Qwen2.5 1.5B Instruct",
	  .basename = "Qwen2.5", .size_label = "1.5B", .license = "apache-2.0",
	  .n_layer = 28, .n_embd = 1536, .n_head = 12, .n_head_kv = 2, .head_dim = 128, .n_ff = 8960,
	  .n_vocab = 151936, .n_ctx_train = 32768, .rope_theta = 1e6f, .rms_eps = 1e-6f,
	  .vocab = MK_VOCAB_QWEN, .chat_template = MK_TEMPLATE_QWEN25 },
	{ .name = "qwen3-0.6b", .arch = MK_ARCH_QWEN3, .display_name = "Qwen3 0.6B",
	  .basename = "Qwen3", .size_label = "0.6B", .license = "apache-2.0",
	  .n_layer = 28, .n_embd = 1024, .n_head = 16, .n_head_kv = 8, .head_dim = 128, .n_ff = 3072,
	  .n_vocab = 151936, .n_ctx_train = 40960, .rope_theta = 1e6f, .rms_eps = 1e-6f,
	  .vocab = MK_VOCAB_QWEN, .chat_template = MK_TEMPLATE_QWEN3 },
	{ .name = "llama-3.2-1b", .arch = MK_ARCH_LLAMA, .display_name = "Llama 3.2 1B Instruct",
	  .basename = "Llama-3.2", .size_label = "1B", .license = "llama3.2",
	  .n_layer = 16, .n_embd = 2048, .n_head = 32, .n_head_kv = 8, .head_dim = 64, .n_ff = 8192,
	  .n_vocab = 128256, .n_ctx_train = 131072, .rope_theta = 500000.f, .rms_eps = 1e-5f,
	  .rope_factor = 32.f, .rope_low_freq = 1.f, .rope_high_freq = 4.f, .rope_orig_ctx = 8192,
	  .vocab = MK_VOCAB_LLAMA3, .chat_template = MK_TEMPLATE_LLAMA32 },
	/* tiny: few layers, rows still multiples of 256 (K-quants), the real vocabularies */
	{ .name = "tiny-qwen2", .arch = MK_ARCH_QWEN2, .display_name = "Qwen2.5 tiny test model",
	  .basename = "Qwen2.5", .size_label = "tiny", .license = "apache-2.0",
	  .n_layer = 4, .n_embd = 256, .n_head = 4, .n_head_kv = 2, .head_dim = 64, .n_ff = 768,
	  .n_vocab = 151936, .n_ctx_train = 32768, .rope_theta = 1e6f, .rms_eps = 1e-6f,
	  .vocab = MK_VOCAB_QWEN, .chat_template = MK_TEMPLATE_QWEN25 },
	{ .name = "tiny-qwen3", .arch = MK_ARCH_QWEN3, .display_name = "Qwen3 tiny test model",
	  .basename = "Qwen3", .size_label = "tiny", .license = "apache-2.0",
	  .n_layer = 4, .n_embd = 256, .n_head = 8, .n_head_kv = 4, .head_dim = 64, .n_ff = 768,
	  .n_vocab = 151936, .n_ctx_train = 40960, .rope_theta = 1e6f, .rms_eps = 1e-6f,
	  .vocab = MK_VOCAB_QWEN, .chat_template = MK_TEMPLATE_QWEN3 },
	{ .name = "tiny-llama", .arch = MK_ARCH_LLAMA, .display_name = "Llama 3 tiny test model",
	  .basename = "Llama-3", .size_label = "tiny", .license = "llama3.2",
	  .n_layer = 4, .n_embd = 256, .n_head = 4, .n_head_kv = 2, .head_dim = 64, .n_ff = 768,
	  .n_vocab = 128256, .n_ctx_train = 131072, .rope_theta = 500000.f, .rms_eps = 1e-5f,
	  .rope_factor = 32.f, .rope_low_freq = 1.f, .rope_high_freq = 4.f, .rope_orig_ctx = 8192,
	  .vocab = MK_VOCAB_LLAMA3, .chat_template = MK_TEMPLATE_LLAMA30 },
};

#define N_PRESETS ((int)(sizeof(presets) / sizeof(presets[0])))

const struct mk_preset *mk_preset_at(int i)
{
	return i >= 0 && i < N_PRESETS ? &presets[i] : NULL;
}

const struct mk_preset *mk_preset_find(const char *name)
{
	for (int i = 0; i < N_PRESETS; i++)
		if (!strcmp(presets[i].name, name))
			return &presets[i];
	return NULL;
}

const char *mk_arch_name(enum mk_arch a)
{
	return a == MK_ARCH_QWEN2 ? "qwen2" : a == MK_ARCH_QWEN3 ? "qwen3" : "llama";
}

static const struct {
	const char *name;
	enum mk_type type;   /* the mix's default type */
	uint32_t file_type;  /* llama_ftype */
} ftypes[] = {
	[MK_FT_F32] = { "f32", MK_F32, 0 },       [MK_FT_F16] = { "f16", MK_F16, 1 },
	[MK_FT_BF16] = { "bf16", MK_BF16, 32 },   [MK_FT_Q8_0] = { "q8_0", MK_Q8_0, 7 },
	[MK_FT_Q4_0] = { "q4_0", MK_Q4_0, 2 },    [MK_FT_Q4_1] = { "q4_1", MK_Q4_1, 3 },
	[MK_FT_Q5_0] = { "q5_0", MK_Q5_0, 8 },    [MK_FT_Q5_1] = { "q5_1", MK_Q5_1, 9 },
	[MK_FT_Q4_K] = { "q4_k", MK_Q4_K, 14 },   [MK_FT_Q5_K] = { "q5_k", MK_Q5_K, 16 },
	[MK_FT_Q6_K] = { "q6_k", MK_Q6_K, 18 },   [MK_FT_Q4_K_M] = { "q4_k_m", MK_Q4_K, 15 },
	[MK_FT_Q5_K_M] = { "q5_k_m", MK_Q5_K, 17 },
};

#define N_FTYPES ((int)(sizeof(ftypes) / sizeof(ftypes[0])))

int mk_ftype_parse(const char *s, enum mk_ftype *out)
{
	for (int i = 0; i < N_FTYPES; i++)
		if (!strcasecmp(ftypes[i].name, s)) {
			*out = (enum mk_ftype)i;
			return 0;
		}
	return -EINVAL;
}

const char *mk_ftype_names(void)
{
	return "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k|q4_k_m|q5_k_m";
}

uint32_t mk_ftype_file_type(enum mk_ftype ft) { return ftypes[ft].file_type; }
const char *mk_ftype_name(enum mk_ftype ft) { return ftypes[ft].name; }

/* ---- llama-quantize's type choice (src/llama-quant.cpp), for the mixes we write ---- */

enum category { CAT_TOKEN_EMBD, CAT_OUTPUT, CAT_ATTN_V, CAT_FFN_DOWN, CAT_OTHER };

static enum category category_of(const char *name)
{
	if (!strcmp(name, "output.weight"))
		return CAT_OUTPUT;
	if (!strcmp(name, "token_embd.weight"))
		return CAT_TOKEN_EMBD;
	if (strstr(name, "attn_v.weight"))
		return CAT_ATTN_V;
	if (strstr(name, "ffn_down"))
		return CAT_FFN_DOWN;
	return CAT_OTHER;
}

static bool use_more_bits(int i_layer, int n_layers)
{
	return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

/* Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 when rows are not a multiple of 256; F16 last */
static enum mk_type fallback(enum mk_type t, int64_t ncols)
{
	if (ncols % mk_type_block(t) == 0)
		return t;
	switch (t) {
	case MK_Q4_K: t = MK_Q5_0; break;
	case MK_Q5_K: t = MK_Q5_1; break;
	case MK_Q6_K: t = MK_Q8_0; break;
	default: break;
	}
	return ncols % mk_type_block(t) == 0 ? t : MK_F16;
}

struct mix_state {
	enum mk_ftype ft;
	bool tied;
	int n_attn_v, i_attn_v, n_ffn_down, i_ffn_down;
};

static enum mk_type choose_type(struct mix_state *s, const struct mk_tensor *t)
{
	enum mk_type def = ftypes[s->ft].type, type = def;
	enum category cat = category_of(t->name);
	size_t len = strlen(t->name);
	bool mix = s->ft == MK_FT_Q4_K_M || s->ft == MK_FT_Q5_K_M || s->ft == MK_FT_Q6_K;

	/* only 2-D "*weight" tensors that are not norms are converted/quantized */
	if (t->n_dims < 2 || len < 6 || strcmp(t->name + len - 6, "weight") || strstr(t->name, "_norm.weight"))
		return MK_F32;
	if (mk_type_block(def) == 1)
		return def;
	if (mix) {
		if (cat == CAT_OUTPUT || (s->tied && cat == CAT_TOKEN_EMBD)) {
			if (t->ne[0] % mk_type_block(type))
				type = MK_Q8_0;
			else if (type != MK_Q8_0)
				type = MK_Q6_K;
		} else if (cat == CAT_ATTN_V) {
			if ((s->ft == MK_FT_Q4_K_M || s->ft == MK_FT_Q5_K_M) &&
			    use_more_bits(s->i_attn_v, s->n_attn_v))
				type = MK_Q6_K;
			s->i_attn_v++;
		} else if (cat == CAT_FFN_DOWN) {
			if ((s->ft == MK_FT_Q4_K_M || s->ft == MK_FT_Q5_K_M) &&
			    use_more_bits(s->i_ffn_down, s->n_ffn_down))
				type = MK_Q6_K;
			s->i_ffn_down++;
		}
	}
	return fallback(type, t->ne[0]);
}

/* ---- tensor list ---- */

struct list {
	struct mk_tensor *t;
	int n, cap;
};

static struct mk_tensor *add(struct list *l, const char *name, int64_t ne0, int64_t ne1,
			     enum mk_init init, float std)
{
	struct mk_tensor *t;

	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 64;
		struct mk_tensor *n = realloc(l->t, (size_t)cap * sizeof(*n));

		if (!n)
			return NULL;
		l->t = n;
		l->cap = cap;
	}
	t = &l->t[l->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->n_dims = ne1 ? 2 : 1;
	t->ne[0] = ne0;
	t->ne[1] = ne1 ? ne1 : 1;
	t->init = init;
	t->std = std;
	return t;
}

/*
 * Weight scales. Embeddings ~N(0,1); projections that read a normalised vector
 * N(0, 1/sqrt(fan_in)) (unit-variance outputs); norm weights ~1; biases small. Two
 * failure modes of random models with tied output weights shape the rest:
 * - if the current token's embedding dominates the final hidden state, the logits
 *   favour that same token and the model repeats it forever;
 * - if attention outputs dominate, the state is an average over the context, which one
 *   more token barely changes, so the output repeats too.
 * So ffn_down (a function of the current position's state) gets
 * 2 sqrt(n_embd / n_layer) / sqrt(fan_in): the FFN sum has an RMS of about
 * 1.2 sqrt(n_embd), above the embedding's norm, while attn_output stays at unit scale
 * and perturbs it with the context. The next token is then a random function of the
 * current one plus context: llama.cpp's greedy text has as many distinct tokens as
 * steps. Every branch reads an RMS-normalised input: activations stay finite at any depth.
 */
static int build(struct list *l, const struct mk_preset *p)
{
	int e = p->n_embd, qd = p->n_head * p->head_dim, kvd = p->n_head_kv * p->head_dim;
	float in_e = 1.0f / sqrtf((float)e), res = 2.0f * sqrtf((float)e / (float)p->n_layer);
	char n[48];
	bool ok = true;

#define ADD(nm, a, b, init, sd) (ok = ok && add(l, nm, a, b, init, sd) != NULL)
#define BLK(suffix, a, b, init, sd) \
	(snprintf(n, sizeof(n), "blk.%d.%s", i, suffix), ADD(n, a, b, init, sd))
	if (p->rope_factor > 0)
		ADD("rope_freqs.weight", p->head_dim / 2, 0, MK_INIT_ROPE_FREQS, 0);
	ADD("token_embd.weight", e, p->n_vocab, MK_INIT_NORMAL, 1.0f);
	for (int i = 0; i < p->n_layer; i++) {
		BLK("attn_norm.weight", e, 0, MK_INIT_NORM_WEIGHT, 0);
		BLK("attn_q.weight", e, qd, MK_INIT_NORMAL, in_e);
		BLK("attn_k.weight", e, kvd, MK_INIT_NORMAL, in_e);
		BLK("attn_v.weight", e, kvd, MK_INIT_NORMAL, in_e);
		if (p->arch == MK_ARCH_QWEN2) {
			BLK("attn_q.bias", qd, 0, MK_INIT_NORMAL, 0.1f);
			BLK("attn_k.bias", kvd, 0, MK_INIT_NORMAL, 0.1f);
			BLK("attn_v.bias", kvd, 0, MK_INIT_NORMAL, 0.1f);
		}
		if (p->arch == MK_ARCH_QWEN3) {
			BLK("attn_q_norm.weight", p->head_dim, 0, MK_INIT_NORM_WEIGHT, 0);
			BLK("attn_k_norm.weight", p->head_dim, 0, MK_INIT_NORM_WEIGHT, 0);
		}
		BLK("attn_output.weight", qd, e, MK_INIT_NORMAL, 1.0f / sqrtf((float)qd));
		BLK("ffn_norm.weight", e, 0, MK_INIT_NORM_WEIGHT, 0);
		BLK("ffn_gate.weight", e, p->n_ff, MK_INIT_NORMAL, in_e);
		BLK("ffn_up.weight", e, p->n_ff, MK_INIT_NORMAL, in_e);
		BLK("ffn_down.weight", p->n_ff, e, MK_INIT_NORMAL, res / sqrtf((float)p->n_ff));
	}
	ADD("output_norm.weight", e, 0, MK_INIT_NORM_WEIGHT, 0);
#undef BLK
#undef ADD
	return ok ? 0 : -ENOMEM;
}

int mk_model_tensors(const struct mk_preset *p, enum mk_ftype ft, uint32_t align,
		     struct mk_tensor **out)
{
	struct list l = { 0 };
	struct mix_state s = { .ft = ft, .tied = true, .n_attn_v = 0 };
	uint64_t off = 0;

	*out = NULL;
	if (build(&l, p)) {
		free(l.t);
		return -ENOMEM;
	}
	for (int i = 0; i < l.n; i++) {
		s.tied &= strcmp(l.t[i].name, "output.weight") != 0;
		s.n_attn_v += category_of(l.t[i].name) == CAT_ATTN_V;
		s.n_ffn_down += category_of(l.t[i].name) == CAT_FFN_DOWN;
	}
	for (int i = 0; i < l.n; i++) {
		struct mk_tensor *t = &l.t[i];

		t->type = choose_type(&s, t);
		t->offset = off;
		t->bytes = mk_row_bytes(t->type, t->ne[0]) * (uint64_t)t->ne[1];
		off += (t->bytes + align - 1) / align * align;
	}
	*out = l.t;
	return l.n;
}
