/* SPDX-License-Identifier: MIT */
/*
 * mk_model.h - model presets, the tensor list of an architecture and llama.cpp's
 * choice of weight type per tensor for a quantization mix.
 */
#ifndef MK_MODEL_H
#define MK_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "mk_quant.h"

enum mk_arch { MK_ARCH_QWEN2, MK_ARCH_QWEN3, MK_ARCH_LLAMA };

/* which tokenizer package and chat template a preset uses */
enum mk_vocab_kind { MK_VOCAB_QWEN, MK_VOCAB_LLAMA3 };
enum mk_template_kind {
	MK_TEMPLATE_QWEN25,   /* Qwen2.5 Instruct ChatML (ollama-utils automap qwen2.5) */
	MK_TEMPLATE_QWEN3,    /* the qwen3 tokenizer package's template */
	MK_TEMPLATE_LLAMA30,  /* the llama3_1 tokenizer package's template (3.0 style) */
	MK_TEMPLATE_LLAMA32,  /* Llama 3.2 Instruct (ollama-utils automap llama3.2) */
};

struct mk_preset {
	const char *name;
	enum mk_arch arch;
	const char *display_name, *basename, *size_label, *license;
	int n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab;
	uint32_t n_ctx_train;
	float rope_theta, rms_eps;
	/* llama3 rope scaling (factor 0: none) */
	float rope_factor, rope_low_freq, rope_high_freq;
	uint32_t rope_orig_ctx;
	enum mk_vocab_kind vocab;
	enum mk_template_kind chat_template;
};

const struct mk_preset *mk_preset_find(const char *name);
const struct mk_preset *mk_preset_at(int i); /* NULL past the end */
const char *mk_arch_name(enum mk_arch a);

/* what values a tensor is filled with */
enum mk_init { MK_INIT_NORMAL, MK_INIT_NORM_WEIGHT, MK_INIT_ROPE_FREQS };

struct mk_tensor {
	char name[48];
	int n_dims;
	int64_t ne[2];          /* ne[0] = row length */
	enum mk_type type;
	enum mk_init init;
	float std;              /* MK_INIT_NORMAL: standard deviation */
	uint64_t offset, bytes; /* in the data section */
};

/* --type values: a plain type (every 2-D weight that type, llama-quantize --pure) or a mix */
enum mk_ftype {
	MK_FT_F32, MK_FT_F16, MK_FT_BF16, MK_FT_Q8_0, MK_FT_Q4_0, MK_FT_Q4_1, MK_FT_Q5_0,
	MK_FT_Q5_1, MK_FT_Q4_K, MK_FT_Q5_K, MK_FT_Q6_K, MK_FT_Q4_K_M, MK_FT_Q5_K_M,
};

int mk_ftype_parse(const char *s, enum mk_ftype *out); /* 0 or -EINVAL */
const char *mk_ftype_names(void);                       /* "f32|f16|..." */
const char *mk_ftype_name(enum mk_ftype ft);
/* general.file_type (llama_ftype) of a file written with this --type */
uint32_t mk_ftype_file_type(enum mk_ftype ft);

/*
 * The tensors of a preset in file order with their types chosen as llama.cpp's
 * llama-quantize does for the mix (offsets and sizes filled, aligned to `align`).
 * Returns the count; *out is malloc'ed (NULL and -ENOMEM on failure).
 */
int mk_model_tensors(const struct mk_preset *p, enum mk_ftype ft, uint32_t align,
		     struct mk_tensor **out);

#endif
