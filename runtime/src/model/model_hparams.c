/* SPDX-License-Identifier: MIT */
/*
 * Architecture and hyper-parameters from a GGUF file's KV pairs, with the
 * defaults llama.cpp applies when a key is absent. Refuses, by name, what the
 * runtime does not run: other architectures, mixture-of-experts, vision towers,
 * RoPE scaling other than none/llama3.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/rt_error.h"
#include "model/model.h"

static const char *const arch_names[] = {
	[ARCH_QWEN2] = "qwen2",
	[ARCH_QWEN3] = "qwen3",
	[ARCH_LLAMA] = "llama",
};

static int rt_str_eq(struct rt_str s, const char *c)
{
	return s.len == strlen(c) && !memcmp(s.ptr, c, s.len);
}

static int rt_str_has(struct rt_str s, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= s.len; i++)
		if (!memcmp(s.ptr + i, needle, n))
			return 1;
	return 0;
}

static int read_arch(struct anpurt_model *m)
{
	struct rt_str arch;
	size_t i;
	int ret = gguf_get_str(m->gguf, "general.architecture", &arch);

	if (ret < 0)
		return ret;
	if (ret == 0)
		return rt_error(-EINVAL, "general.architecture is missing");
	for (i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++) {
		if (rt_str_eq(arch, arch_names[i])) {
			m->arch = (enum model_arch)i;
			m->info.architecture = arch_names[i];
			return 0;
		}
	}
	return rt_error(-ENOTSUP, "architecture '%.*s'%s is not supported (the runtime runs qwen2,"
			" qwen3 and llama)", (int)(arch.len > 64 ? 64 : arch.len), arch.ptr,
			rt_str_has(arch, "moe") || rt_str_has(arch, "mixtral") ?
			" (mixture of experts)" :
			rt_str_has(arch, "clip") || rt_str_has(arch, "vl") ? " (vision)" : "");
}

/* Mixture-of-experts keys and vision towers inside a supported architecture. */
static int refuse_extras(struct anpurt_model *m)
{
	char key[96];
	uint64_t experts = 0;
	size_t i;
	int ret;

	snprintf(key, sizeof(key), "%s.expert_count", m->info.architecture);
	ret = gguf_get_uint(m->gguf, key, &experts);
	if (ret < 0)
		return ret;
	if (ret && experts > 0)
		return rt_error(-ENOTSUP, "%s is %" PRIu64 ": mixture-of-experts models are not"
				" supported", key, experts);
	for (i = 0; i < m->gguf->n_kv; i++) {
		const struct gguf_kv *kv = &m->gguf->kv[i];

		if (kv->key.len >= 5 && !memcmp(kv->key.ptr, "clip.", 5))
			return rt_error(-ENOTSUP, "offset %" PRIu64 ": key '%.*s': vision towers are"
					" not supported", kv->offset, (int)kv->key.len, kv->key.ptr);
	}
	return 0;
}

/* {arch}.@suffix as a u32 in [1, 2^31): 1 present, 0 absent (required: error), < 0 bad. */
static int get_dim(struct anpurt_model *m, const char *suffix, int required, uint32_t *out)
{
	char key[96];
	uint64_t v;
	int ret;

	snprintf(key, sizeof(key), "%s.%s", m->info.architecture, suffix);
	ret = gguf_get_uint(m->gguf, key, &v);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return required ? rt_error(-EINVAL, "%s is missing", key) : 0;
	if (v < 1 || v > INT32_MAX)
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s is %" PRIu64 " (must be 1 to %d)",
				gguf_find_kv(m->gguf, key)->offset, key, v, INT32_MAX);
	*out = (uint32_t)v;
	return 1;
}

/* {arch}.@suffix as a positive finite float, @def when absent. */
static int get_positive(struct anpurt_model *m, const char *suffix, double def, double max,
			float *out)
{
	char key[96];
	double v = def;
	int ret;

	snprintf(key, sizeof(key), "%s.%s", m->info.architecture, suffix);
	ret = gguf_get_float(m->gguf, key, &v);
	if (ret < 0)
		return ret;
	if (!(v > 0 && v < max))
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s is %g (must be above 0 and below %g)",
				gguf_find_kv(m->gguf, key)->offset, key, v, max);
	*out = (float)v;
	return 0;
}

static int read_rope(struct anpurt_model *m)
{
	struct anpurt_model_info *in = &m->info;
	char key[96];
	struct rt_str type;
	double linear;
	uint32_t n_rot = in->head_dim_k;
	int ret;

	in->rope_style = m->arch == ARCH_LLAMA ? ANPURT_ROPE_NORMAL : ANPURT_ROPE_NEOX;
	ret = get_positive(m, "rope.freq_base", 10000.0, 1e12, &in->rope_freq_base);
	if (ret)
		return ret;
	ret = get_dim(m, "rope.dimension_count", 0, &n_rot);
	if (ret < 0)
		return ret;
	if (n_rot != in->head_dim_k)
		return rt_error(-ENOTSUP, "%s.rope.dimension_count is %" PRIu32 ": partial rotary"
				" embeddings are not supported (must be the head size %" PRIu32 ")",
				in->architecture, n_rot, in->head_dim_k);
	snprintf(key, sizeof(key), "%s.rope.scaling.type", in->architecture);
	ret = gguf_get_str(m->gguf, key, &type);
	if (ret < 0)
		return ret;
	in->rope_scaling = ANPURT_ROPE_SCALING_NONE;
	if (ret && rt_str_eq(type, "llama3") && m->arch == ARCH_LLAMA)
		in->rope_scaling = ANPURT_ROPE_SCALING_LLAMA3;
	else if (ret && !rt_str_eq(type, "none"))
		return rt_error(-ENOTSUP, "RoPE scaling '%.*s' (%s) is not supported (none and"
				" llama3 are)", (int)(type.len > 32 ? 32 : type.len), type.ptr, key);
	/* the pre-2024 key for linear scaling */
	snprintf(key, sizeof(key), "%s.rope.scale_linear", in->architecture);
	ret = gguf_get_float(m->gguf, key, &linear);
	if (ret < 0)
		return ret;
	if (ret && linear != 1.0)
		return rt_error(-ENOTSUP, "RoPE scaling 'linear' (%s %g) is not supported (none and"
				" llama3 are)", key, linear);
	return 0;
}

int model_read_hparams(struct anpurt_model *m)
{
	struct anpurt_model_info *in = &m->info;
	int ret;

	ret = read_arch(m);
	if (!ret)
		ret = refuse_extras(m);
	if (ret)
		return ret;
	if ((ret = get_dim(m, "block_count", 1, &in->n_layer)) < 0 ||
	    (ret = get_dim(m, "context_length", 1, &in->n_ctx_train)) < 0 ||
	    (ret = get_dim(m, "embedding_length", 1, &in->n_embd)) < 0 ||
	    (ret = get_dim(m, "feed_forward_length", 1, &in->n_ff)) < 0 ||
	    (ret = get_dim(m, "attention.head_count", 1, &in->n_head)) < 0)
		return ret;
	in->n_head_kv = in->n_head;
	if ((ret = get_dim(m, "attention.head_count_kv", 0, &in->n_head_kv)) < 0)
		return ret;
	if (in->n_head % in->n_head_kv)
		return rt_error(-EINVAL, "%s.attention.head_count %" PRIu32 " is not a multiple of"
				" head_count_kv %" PRIu32, in->architecture, in->n_head, in->n_head_kv);
	in->head_dim_k = in->n_embd / in->n_head;
	in->head_dim_v = in->head_dim_k;
	if ((ret = get_dim(m, "attention.key_length", 0, &in->head_dim_k)) < 0 ||
	    (ret = get_dim(m, "attention.value_length", 0, &in->head_dim_v)) < 0)
		return ret;
	if (in->head_dim_k == 0 || in->head_dim_k % 2)
		return rt_error(-EINVAL, "%s: head size %" PRIu32 " (embedding_length %" PRIu32
				" / head_count %" PRIu32 " or attention.key_length) must be even"
				" and at least 2", in->architecture, in->head_dim_k, in->n_embd,
				in->n_head);
	if (in->head_dim_v == 0)
		return rt_error(-EINVAL, "%s: value head size is 0", in->architecture);
	if ((uint64_t)in->n_head * in->head_dim_k > INT32_MAX ||
	    (uint64_t)in->n_head * in->head_dim_v > INT32_MAX)
		return rt_error(-EINVAL, "%s: head_count x head size overflows", in->architecture);
	ret = get_positive(m, "attention.layer_norm_rms_epsilon", 1e-6, 1.0, &in->rms_norm_eps);
	if (!ret)
		ret = read_rope(m);
	return ret;
}
