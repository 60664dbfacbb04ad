/* SPDX-License-Identifier: MIT */
/*
 * A model's fingerprint, which a saved session carries so that it is never
 * restored into another model: the hyper-parameters, every tensor's name,
 * type and shape in file order, and the first FINGERPRINT_SAMPLE bytes of
 * every tensor's data. The samples tell apart two sets of weights of one
 * shape (a fine-tune) at the cost of one page read per tensor, not a hash
 * of hundreds of megabytes. Read through the model file's mapping, those
 * pages count in the process's memory: where the weights come from elsewhere
 * (the weight cache) they are read with pread (model_fingerprint_fd): mapped,
 * the file's 2 MiB page-cache folios put ~100 MB of it there (Qwen2.5-0.5B).
 */
#include <string.h>

#include "common/rt_hash.h"
#include "common/rt_io.h"
#include "model/model.h"

#define FINGERPRINT_SAMPLE	64

static uint64_t hash_u32(uint64_t h, uint32_t v)
{
	return rt_hash(h, &v, sizeof(v));
}

static uint64_t hash_f32(uint64_t h, float v)
{
	return rt_hash(h, &v, sizeof(v));
}

static uint64_t hash_hparams(uint64_t h, const struct anpurt_model_info *in)
{
	h = rt_hash(h, in->architecture, strlen(in->architecture) + 1);
	h = hash_u32(h, in->n_layer);
	h = hash_u32(h, in->n_embd);
	h = hash_u32(h, in->n_ff);
	h = hash_u32(h, in->n_head);
	h = hash_u32(h, in->n_head_kv);
	h = hash_u32(h, in->head_dim_k);
	h = hash_u32(h, in->head_dim_v);
	h = hash_u32(h, in->n_vocab);
	h = hash_u32(h, in->n_ctx_train);
	h = hash_f32(h, in->rope_freq_base);
	h = hash_f32(h, in->rms_norm_eps);
	h = hash_u32(h, (uint32_t)in->rope_style);
	h = hash_u32(h, (uint32_t)in->rope_scaling);
	h = hash_u32(h, (uint32_t)in->tied_output);
	h = hash_u32(h, (uint32_t)in->has_qkv_bias);
	return hash_u32(h, (uint32_t)in->has_qk_norm);
}

/* One tensor's name, type, shape and data sample @sample (@n bytes) into @h. */
static uint64_t hash_tensor(uint64_t h, const struct gguf_tensor *t, const void *sample, size_t n)
{
	h = rt_hash(h, t->name.ptr, t->name.len);
	h = hash_u32(h, t->type);
	h = rt_hash(h, t->ne, sizeof(t->ne));
	return rt_hash(h, sample, n);
}

static size_t sample_bytes(const struct gguf_tensor *t)
{
	return t->nbytes < FINGERPRINT_SAMPLE ? (size_t)t->nbytes : FINGERPRINT_SAMPLE;
}

uint64_t model_fingerprint(const struct anpurt_model *m, const uint8_t *data, uint64_t data_start)
{
	const struct gguf_file *g = m->gguf;
	uint64_t h = hash_hparams(RT_HASH_INIT, &m->info);

	for (size_t i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];

		h = hash_tensor(h, t, data + (t->offset - data_start), sample_bytes(t));
	}
	return h;
}

int model_fingerprint_fd(const struct anpurt_model *m, int fd, uint64_t *out)
{
	const struct gguf_file *g = m->gguf;
	uint64_t h = hash_hparams(RT_HASH_INIT, &m->info);

	for (size_t i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];
		const size_t n = sample_bytes(t);
		uint8_t sample[FINGERPRINT_SAMPLE];
		int ret = rt_pread_full(fd, sample, n, t->offset);

		if (ret)
			return ret;
		h = hash_tensor(h, t, sample, n);
	}
	*out = h;
	return 0;
}
