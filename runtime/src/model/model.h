/* SPDX-License-Identifier: MIT */
/*
 * The model behind struct anpurt_model: the checked GGUF file, the
 * hyper-parameters (in the public info) and every tensor by role, which the
 * graph builders of part 2 read without looking names up again.
 */
#ifndef RT_MODEL_H
#define RT_MODEL_H

#include "anpurt.h"
#include "model/gguf.h"
#include "text/tok_vocab.h"

enum model_arch {
	ARCH_QWEN2,
	ARCH_QWEN3,
	ARCH_LLAMA,
};

struct model_layer {
	const struct gguf_tensor *attn_norm, *wq, *wk, *wv, *wo;
	const struct gguf_tensor *bq, *bk, *bv;		/* qwen2 */
	const struct gguf_tensor *q_norm, *k_norm;	/* qwen3 */
	const struct gguf_tensor *ffn_norm, *ffn_gate, *ffn_up, *ffn_down;
};

struct anpurt_model {
	struct gguf_file *gguf;
	char *path;				/* the file, for the weights' upload (pread) */
	enum model_arch arch;
	struct anpurt_model_info info;
	char *name;				/* info.name's storage */
	struct rt_str chat_template_text;	/* tokenizer.chat_template (len 0: absent) */
	const struct gguf_tensor *tok_embd, *output_norm, *output;	/* output: NULL when tied */
	const struct gguf_tensor *rope_freqs;	/* llama3 scaling, else NULL */
	struct model_layer *layers;		/* info.n_layer entries */
	/* the vocabulary as the tokenizer takes it (model_vocab.c): into the mapping */
	struct tok_vocab vocab;
	/* built from vocab by the text layer; the model owns it */
	struct anpurt_tokenizer *tokenizer;
};

/* Architecture and hyper-parameters from the KV pairs into m->arch and m->info. */
int model_read_hparams(struct anpurt_model *m);
/* Every tensor present with its expected shape and nothing else; fills the roles. */
int model_bind_tensors(struct anpurt_model *m);
/* The tokenizer.ggml.* keys into m->vocab (tokens count checked against n_vocab). */
int model_read_vocab(struct anpurt_model *m);
/* tokenizer.ggml.model is "no_vocab": token ids only, no tokenizer (m->tokenizer NULL) */
int model_has_no_vocab(const struct anpurt_model *m);
/*
 * A 64-bit fingerprint of the model (hyper-parameters, tensor layout, the
 * first bytes of each tensor's data): what a saved session checks. The
 * tensor data are read at @data, where file offset @data_start lies (the
 * mapping: m->gguf->base and 0; a copy of the data section: its start).
 */
uint64_t model_fingerprint(const struct anpurt_model *m, const uint8_t *data, uint64_t data_start);
/*
 * The same read from the model file open as @fd (pread: no page of it
 * mapped) into *@out: 0, or -errno (-EIO: the file is shorter).
 */
int model_fingerprint_fd(const struct anpurt_model *m, int fd, uint64_t *out);

#endif
