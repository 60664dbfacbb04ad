/* SPDX-License-Identifier: MIT */
/*
 * The reference forward pass (see ref_forward.h), from the architecture
 * description: pre-norm transformer blocks with RMSNorm, grouped-query
 * attention with RoPE (NEOX pairs (i, i + d/2) for qwen2/qwen3, NORMAL pairs
 * (2i, 2i+1) for llama), q/k/v biases (qwen2), per-head q/k RMSNorm before
 * RoPE (qwen3), a SwiGLU feed-forward, a final RMSNorm and the output matrix
 * (token_embd when output.weight is absent).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_forward.h"

struct ref_layer {
	float *attn_norm, *wq, *wk, *wv, *bq, *bk, *bv, *q_norm, *k_norm, *wo;
	float *ffn_norm, *gate, *up, *down;
};

struct ref_model {
	int qkv_bias, qk_norm, neox;
	uint32_t L, E, F, H, Hkv, hd, V, ctx;
	float eps, theta;
	float *rope_freqs;		/* [hd/2] or NULL */
	float *tok_embd, *out_norm, *output;
	struct ref_layer *layers;
	float *kcache, *vcache;		/* [L][ctx][Hkv*hd] */
	uint32_t pos;
	float **owned;
	size_t n_owned;
};

static float *tensor(struct ref_model *m, const struct gb *b, const char *name, int layer)
{
	char full[96];
	size_t i, len;

	if (layer >= 0)
		snprintf(full, sizeof(full), "blk.%d.%s", layer, name);
	else
		snprintf(full, sizeof(full), "%s", name);
	for (i = 0; i < gb_tensor_count(b); i++) {
		const uint8_t *data;
		uint64_t dims[4];
		uint32_t type;
		const char *tn = gb_tensor_get(b, i, &type, dims, &data, &len);
		size_t n = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
		float *out;

		if (strcmp(tn, full))
			continue;
		out = calloc(n, sizeof(float));
		if (!out || !data || ref_dequant(type, data, n, out)) {
			free(out);
			return NULL;
		}
		m->owned = realloc(m->owned, (m->n_owned + 1) * sizeof(*m->owned));
		if (!m->owned)
			abort();
		m->owned[m->n_owned++] = out;
		return out;
	}
	return NULL;
}

struct ref_model *ref_model_new(const struct gb_model_spec *s, const struct gb *b)
{
	struct ref_model *m = calloc(1, sizeof(*m));
	int qwen2 = !strcmp(s->arch, "qwen2"), qwen3 = !strcmp(s->arch, "qwen3");
	uint32_t l;
	int ok;

	if (!m)
		return NULL;
	m->qkv_bias = qwen2;
	m->qk_norm = qwen3;
	m->neox = qwen2 || qwen3;
	m->L = s->n_layer;
	m->E = s->n_embd;
	m->F = s->n_ff;
	m->H = s->n_head;
	m->Hkv = s->n_head_kv;
	m->hd = s->head_dim;
	m->V = s->n_vocab;
	m->ctx = s->n_ctx;
	/* the values gb_model() writes */
	m->eps = m->neox ? 1e-6f : 1e-5f;
	m->theta = m->neox ? 1e6f : 5e5f;
	m->layers = calloc(m->L, sizeof(*m->layers));
	m->kcache = calloc((size_t)m->L * m->ctx * m->Hkv * m->hd, sizeof(float));
	m->vcache = calloc((size_t)m->L * m->ctx * m->Hkv * m->hd, sizeof(float));
	m->tok_embd = tensor(m, b, "token_embd.weight", -1);
	m->rope_freqs = s->rope_freqs ? tensor(m, b, "rope_freqs.weight", -1) : NULL;
	m->out_norm = tensor(m, b, "output_norm.weight", -1);
	m->output = s->tied ? m->tok_embd : tensor(m, b, "output.weight", -1);
	ok = m->layers && m->kcache && m->vcache && m->tok_embd && m->out_norm && m->output;
	for (l = 0; ok && l < m->L; l++) {
		struct ref_layer *y = &m->layers[l];
		int i = (int)l;

		y->attn_norm = tensor(m, b, "attn_norm.weight", i);
		y->wq = tensor(m, b, "attn_q.weight", i);
		y->wk = tensor(m, b, "attn_k.weight", i);
		y->wv = tensor(m, b, "attn_v.weight", i);
		y->wo = tensor(m, b, "attn_output.weight", i);
		y->ffn_norm = tensor(m, b, "ffn_norm.weight", i);
		y->gate = tensor(m, b, "ffn_gate.weight", i);
		y->up = tensor(m, b, "ffn_up.weight", i);
		y->down = tensor(m, b, "ffn_down.weight", i);
		ok = y->attn_norm && y->wq && y->wk && y->wv && y->wo && y->ffn_norm && y->gate &&
		     y->up && y->down;
		if (ok && qwen2) {
			y->bq = tensor(m, b, "attn_q.bias", i);
			y->bk = tensor(m, b, "attn_k.bias", i);
			y->bv = tensor(m, b, "attn_v.bias", i);
			ok = y->bq && y->bk && y->bv;
		}
		if (ok && qwen3) {
			y->q_norm = tensor(m, b, "attn_q_norm.weight", i);
			y->k_norm = tensor(m, b, "attn_k_norm.weight", i);
			ok = y->q_norm && y->k_norm;
		}
	}
	if (!ok) {
		ref_model_free(m);
		return NULL;
	}
	return m;
}

void ref_model_free(struct ref_model *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_owned; i++)
		free(m->owned[i]);
	free(m->owned);
	free(m->layers);
	free(m->kcache);
	free(m->vcache);
	free(m);
}

static void rmsnorm(const float *x, const float *w, float *y, uint32_t n, float eps)
{
	double ss = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	ss = 1.0 / sqrt(ss / n + eps);
	for (i = 0; i < n; i++)
		y[i] = (float)(x[i] * ss * w[i]);
}

/* y[n] (+)= sum_k x[k] w[n*K + k] (+ bias[n]) */
static void matvec(const float *x, const float *w, const float *bias, float *y, uint32_t K,
		   uint32_t N, int accumulate)
{
	uint32_t n, k;

	for (n = 0; n < N; n++) {
		double acc = bias ? bias[n] : 0;

		for (k = 0; k < K; k++)
			acc += (double)x[k] * w[(size_t)n * K + k];
		y[n] = (float)(accumulate ? y[n] + acc : acc);
	}
}

/* @freqs: NULL, or hd/2 factors dividing the angles (Llama 3's rope_freqs) */
static void rope(float *x, uint32_t hd, uint32_t pos, float theta, int neox, const float *freqs)
{
	uint32_t i;

	for (i = 0; i < hd / 2; i++) {
		double t = pos * pow(theta, -2.0 * i / hd) / (freqs ? freqs[i] : 1.0);
		double c = cos(t), s = sin(t);
		uint32_t a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
		double xa = x[a], xb = x[b];

		x[a] = (float)(xa * c - xb * s);
		x[b] = (float)(xa * s + xb * c);
	}
}

static void attention(const struct ref_model *m, const float *q, const float *kc, const float *vc,
		      float *out)
{
	uint32_t kvd = m->Hkv * m->hd, h, j, d, p = m->pos;
	double *sc = malloc((p + 1) * sizeof(double));

	if (!sc)
		abort();
	for (h = 0; h < m->H; h++) {
		uint32_t g = h / (m->H / m->Hkv);
		const float *qh = q + h * m->hd;
		double mx = -INFINITY, sum = 0;

		for (j = 0; j <= p; j++) {
			double dot = 0;

			for (d = 0; d < m->hd; d++)
				dot += (double)qh[d] * kc[(size_t)j * kvd + g * m->hd + d];
			sc[j] = dot / sqrt((double)m->hd);
			if (sc[j] > mx)
				mx = sc[j];
		}
		for (j = 0; j <= p; j++) {
			sc[j] = exp(sc[j] - mx);
			sum += sc[j];
		}
		for (d = 0; d < m->hd; d++) {
			double acc = 0;

			for (j = 0; j <= p; j++)
				acc += sc[j] * vc[(size_t)j * kvd + g * m->hd + d];
			out[h * m->hd + d] = (float)(acc / sum);
		}
	}
	free(sc);
}

static void layer(struct ref_model *m, uint32_t l, float *x, float *buf)
{
	const struct ref_layer *y = &m->layers[l];
	uint32_t qd = m->H * m->hd, kvd = m->Hkv * m->hd, h, i;
	float *xn = buf, *q = xn + m->E, *att = q + qd, *g = att + qd, *u = g + m->F;
	float *kc = m->kcache + (size_t)l * m->ctx * kvd, *vc = m->vcache + (size_t)l * m->ctx * kvd;
	float *k = kc + (size_t)m->pos * kvd, *v = vc + (size_t)m->pos * kvd;

	rmsnorm(x, y->attn_norm, xn, m->E, m->eps);
	matvec(xn, y->wq, y->bq, q, m->E, qd, 0);
	matvec(xn, y->wk, y->bk, k, m->E, kvd, 0);
	matvec(xn, y->wv, y->bv, v, m->E, kvd, 0);
	for (h = 0; h < m->H; h++) {
		if (m->qk_norm)
			rmsnorm(q + h * m->hd, y->q_norm, q + h * m->hd, m->hd, m->eps);
		rope(q + h * m->hd, m->hd, m->pos, m->theta, m->neox, m->rope_freqs);
	}
	for (h = 0; h < m->Hkv; h++) {
		if (m->qk_norm)
			rmsnorm(k + h * m->hd, y->k_norm, k + h * m->hd, m->hd, m->eps);
		rope(k + h * m->hd, m->hd, m->pos, m->theta, m->neox, m->rope_freqs);
	}
	attention(m, q, kc, vc, att);
	matvec(att, y->wo, NULL, x, qd, m->E, 1);
	rmsnorm(x, y->ffn_norm, xn, m->E, m->eps);
	matvec(xn, y->gate, NULL, g, m->E, m->F, 0);
	matvec(xn, y->up, NULL, u, m->E, m->F, 0);
	for (i = 0; i < m->F; i++)
		g[i] = (float)(g[i] / (1.0 + exp(-(double)g[i])) * u[i]);
	matvec(g, y->down, NULL, x, m->F, m->E, 1);
}

void ref_forward_token(struct ref_model *m, int32_t token, float *logits)
{
	size_t n_buf = m->E + 2 * (size_t)m->H * m->hd + 2 * (size_t)m->F;
	float *x = malloc(m->E * sizeof(float)), *buf = malloc(n_buf * sizeof(float));
	uint32_t l;

	if (!x || !buf || m->pos >= m->ctx)
		abort();
	memcpy(x, m->tok_embd + (size_t)token * m->E, m->E * sizeof(float));
	for (l = 0; l < m->L; l++)
		layer(m, l, x, buf);
	rmsnorm(x, m->out_norm, buf, m->E, m->eps);
	matvec(buf, m->output, NULL, logits, m->E, m->V, 0);
	m->pos++;
	free(x);
	free(buf);
}
