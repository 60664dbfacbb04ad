/* SPDX-License-Identifier: MIT */
/*
 * GGUF reader (versions 2 and 3, little-endian). The whole file is checked when
 * it is opened: after gguf_parse()/gguf_open() succeed, every KV pair, array
 * element and tensor info lies inside the file, every tensor's data too, and the
 * accessors below cannot read out of bounds. Nothing is copied: strings and
 * tensor data point into the buffer (the mapping).
 */
#ifndef GGUF_H
#define GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "text/tok_vocab.h"	/* struct rt_str */

enum gguf_vtype {
	GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4, GGUF_I32 = 5,
	GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_U64 = 10,
	GGUF_I64 = 11, GGUF_F64 = 12,
	GGUF_VTYPE_COUNT
};

#define GGUF_DEFAULT_ALIGNMENT	32
#define GGUF_MAX_DIMS		4
#define GGUF_MAX_NAME		64	/* ggml's GGML_MAX_NAME, terminating NUL included */
#define GGUF_MAX_ARRAY_DEPTH	8	/* nested arrays deeper than this are refused */

struct gguf_array {
	uint32_t type;		/* element type */
	uint64_t n;		/* element count */
	uint64_t offset;	/* file offset of the first element */
};

struct gguf_kv {
	struct rt_str key;
	uint32_t type;		/* enum gguf_vtype */
	uint64_t offset;	/* file offset of the KV pair */
	union {
		uint64_t u;	/* U8 .. U64 and BOOL (0 or 1) */
		int64_t i;	/* I8 .. I64 */
		double f;	/* F32, F64 */
		struct rt_str s;
		struct gguf_array arr;
	} v;
};

struct gguf_tensor {
	struct rt_str name;
	uint32_t n_dims;
	uint64_t ne[GGUF_MAX_DIMS];	/* ne[0] = row length; dims past n_dims are 1 */
	uint32_t type;			/* ggml type id (a type the runtime reads) */
	uint64_t offset;		/* absolute file offset of the data */
	uint64_t nbytes;
	uint64_t n_elements;
	uint64_t info_offset;		/* file offset of the tensor info */
	const void *data;
};

struct gguf_file {
	const uint8_t *base;
	uint64_t size;
	int mapped;			/* base is an mmap of size bytes */
	uint32_t version;
	uint32_t alignment;
	uint64_t data_offset;		/* start of the data section */
	size_t n_kv;
	struct gguf_kv *kv;		/* in file order */
	size_t n_tensors;
	struct gguf_tensor *tensors;	/* in file order */
	const struct gguf_kv **kv_sorted;	/* by key, for lookups */
	const struct gguf_tensor **tensors_sorted;	/* by name */
};

/* Check and describe the GGUF image @buf (not copied: it must outlive *@out). */
int gguf_parse(const void *buf, size_t size, struct gguf_file **out);
/* mmap @path read-only and gguf_parse() it; errors name the file. */
int gguf_open(const char *path, struct gguf_file **out);
void gguf_close(struct gguf_file *g);

const char *gguf_vtype_name(uint32_t type);

const struct gguf_kv *gguf_find_kv(const struct gguf_file *g, const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name);

/*
 * Typed reads of the KV @key. Each returns 1 with *out set when the key is
 * present, 0 when absent, or a negative errno (with a message naming the key,
 * its offset and its type) when present with a type that does not fit.
 * gguf_get_uint: any integer type, value >= 0; gguf_get_float: F32 or F64.
 */
int gguf_get_uint(const struct gguf_file *g, const char *key, uint64_t *out);
int gguf_get_float(const struct gguf_file *g, const char *key, double *out);
int gguf_get_bool(const struct gguf_file *g, const char *key, int *out);
int gguf_get_str(const struct gguf_file *g, const char *key, struct rt_str *out);
int gguf_get_array(const struct gguf_file *g, const char *key, uint32_t elem_type,
		   struct gguf_array *out);

/* Element sizes of fixed-size types (0 for STRING and ARRAY). */
size_t gguf_vtype_size(uint32_t type);

/* Where the elements of @arr start in the buffer (strings: packed, as the file has them). */
const void *gguf_array_data(const struct gguf_file *g, const struct gguf_array *arr);
/* The @arr.n strings of a STRING array, into @out (arr.n entries). */
void gguf_array_strings(const struct gguf_file *g, const struct gguf_array *arr,
			struct rt_str *out);
/* Element @i of an I32 array (arr.type == GGUF_I32, i < arr.n). */
int32_t gguf_array_i32(const struct gguf_file *g, const struct gguf_array *arr, uint64_t i);
/* Element @i of an F32 array. */
float gguf_array_f32(const struct gguf_file *g, const struct gguf_array *arr, uint64_t i);

#endif
