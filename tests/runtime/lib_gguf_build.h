/* SPDX-License-Identifier: MIT */
/*
 * Test helper: builds GGUF images in memory, valid or malformed on purpose, so
 * that the reader and the model description can be tested on every shape of
 * input without model files. Independent of the reader (its own encoder and
 * type table). Allocation failures abort: this is test code.
 */
#ifndef LIB_GGUF_BUILD_H
#define LIB_GGUF_BUILD_H

#include <stddef.h>
#include <stdint.h>

#define GB_AUTO		UINT64_MAX	/* tensor offset: next aligned slot */

struct gb;

struct gb *gb_new(void);
void gb_free(struct gb *b);

/* Header fields as written (defaults: version 3, true counts, alignment 32). */
void gb_set_version(struct gb *b, uint32_t version);
void gb_set_counts(struct gb *b, uint64_t n_tensors, uint64_t n_kv);
/* Alignment used to lay out the image (does not write general.alignment). */
void gb_set_layout_alignment(struct gb *b, uint32_t alignment);

void gb_kv_u8(struct gb *b, const char *key, uint8_t v);
void gb_kv_u32(struct gb *b, const char *key, uint32_t v);
void gb_kv_i32(struct gb *b, const char *key, int32_t v);
void gb_kv_u64(struct gb *b, const char *key, uint64_t v);
void gb_kv_f32(struct gb *b, const char *key, float v);
void gb_kv_f64(struct gb *b, const char *key, double v);
void gb_kv_bool(struct gb *b, const char *key, int v);
void gb_kv_str(struct gb *b, const char *key, const char *v);
void gb_kv_arr_str(struct gb *b, const char *key, size_t n, const char *const *v);
void gb_kv_arr_i32(struct gb *b, const char *key, size_t n, const int32_t *v);
void gb_kv_arr_f32(struct gb *b, const char *key, size_t n, const float *v);
/* A KV with value type @type followed by exactly the @len bytes @value. */
void gb_kv_raw(struct gb *b, const char *key, uint32_t type, const void *value, size_t len);
/* Drop every KV named @key (no-op when absent). */
void gb_kv_remove(struct gb *b, const char *key);

/* A tensor of @n_dims dims, data zeroed (offset GB_AUTO: laid out after the previous). */
void gb_tensor(struct gb *b, const char *name, uint32_t type, uint32_t n_dims,
	       const uint64_t *dims, uint64_t offset);
void gb_tensor_2d(struct gb *b, const char *name, uint32_t type, uint64_t ne0, uint64_t ne1);
void gb_tensor_1d(struct gb *b, const char *name, uint32_t type, uint64_t ne0);
/* Change or drop an added tensor by name (returns 0, -1 when absent). */
int gb_tensor_set_dims(struct gb *b, const char *name, uint32_t n_dims, const uint64_t *dims);
int gb_tensor_set_type(struct gb *b, const char *name, uint32_t type);
int gb_tensor_remove(struct gb *b, const char *name);

/* Give tensor @name its data (@len must be its byte size; copied). 0, or -1. */
int gb_tensor_set_data(struct gb *b, const char *name, const void *data, size_t len);
/* Tensor @i (< gb_tensor_count): its name, type, dims, data (NULL: zeros) and byte size. */
size_t gb_tensor_count(const struct gb *b);
const char *gb_tensor_get(const struct gb *b, size_t i, uint32_t *type, uint64_t dims[4],
			  const uint8_t **data, size_t *len);

/* The image (malloc'ed, caller frees) and where its parts landed. */
uint8_t *gb_build(struct gb *b, size_t *size);
size_t gb_kv_offset(const struct gb *b, size_t i);		/* after gb_build */
size_t gb_tensor_info_offset(const struct gb *b, size_t i);	/* after gb_build */
size_t gb_data_offset(const struct gb *b);			/* after gb_build */
/* gb_build() into the file @path; 0 or -1. */
int gb_write_file(struct gb *b, const char *path);
/* The same file with the data section left as a hole (metadata-only tests of large models). */
int gb_write_file_sparse(struct gb *b, const char *path);

/* A small but complete model of one architecture, for the model-description tests. */
struct gb_model_spec {
	const char *arch;	/* "qwen2", "qwen3", "llama" */
	uint32_t n_layer, n_embd, n_ff, n_head, n_head_kv;
	uint32_t head_dim;	/* written as key_length/value_length when write_head_dim */
	int write_head_dim;
	uint32_t n_vocab, n_ctx;
	int tied;		/* no output.weight */
	int rope_freqs;		/* llama: rope_freqs.weight + rope.scaling.type llama3 */
	uint32_t weight_type;	/* ggml type of the matrices (norms are f32) */
	const char *chat_template;	/* NULL: none */
};

/* The defaults for @arch: 2 layers, embd 64, ff 128, heads 4/2, head_dim 16 (qwen3: 32). */
struct gb_model_spec gb_model_spec_tiny(const char *arch);
void gb_model(struct gb *b, const struct gb_model_spec *spec);

/*
 * Qwen2.5-0.5B-Instruct's exact shapes and the tensor types of its real Q4_K_M
 * file (qwen-and-gguf.md: q5_0 132, q8_0 13, q4_K 12, q6_K 12, f32 121).
 */
void gb_model_qwen25_05b_q4_k_m(struct gb *b);

/*
 * Random weights for every tensor of @b (lib_gguf_random.c), reproducible from
 * @seed and scaled so activations stay of order one: matrices of K inputs get
 * elements of standard deviation about 1/sqrt(K) in their own type's format,
 * norm weights 1 +- 0.2, biases +- 0.1. Types: F32, F16, BF16, Q8_0, Q4_0, Q5_0,
 * Q4_K, Q5_K, Q6_K.
 */
void gb_random_weights(struct gb *b, uint64_t seed);

#endif
