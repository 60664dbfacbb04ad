/* SPDX-License-Identifier: MIT */
/*
 * mk_gguf.h - a streaming GGUF v3 writer: header, KV pairs and tensor infos first,
 * then each tensor's data in turn (nothing of the model is held in memory).
 * Errors are sticky: after the first failed write every call is a no-op and
 * mk_gguf_close() returns the negative errno.
 */
#ifndef MK_GGUF_H
#define MK_GGUF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
	MK_GGUF_U32 = 4, MK_GGUF_I32 = 5, MK_GGUF_F32 = 6, MK_GGUF_BOOL = 7,
	MK_GGUF_STRING = 8, MK_GGUF_ARRAY = 9,
};

struct mk_gguf {
	FILE *f;
	uint64_t pos;
	int err; /* first negative errno */
};

int mk_gguf_open(struct mk_gguf *g, const char *path);
void mk_gguf_header(struct mk_gguf *g, uint64_t n_tensors, uint64_t n_kv);
void mk_gguf_kv_u32(struct mk_gguf *g, const char *key, uint32_t v);
void mk_gguf_kv_f32(struct mk_gguf *g, const char *key, float v);
void mk_gguf_kv_bool(struct mk_gguf *g, const char *key, bool v);
void mk_gguf_kv_str(struct mk_gguf *g, const char *key, const char *v);
void mk_gguf_kv_strs(struct mk_gguf *g, const char *key, char *const *v, uint64_t n);
void mk_gguf_kv_i32s(struct mk_gguf *g, const char *key, const int32_t *v, uint64_t n);
void mk_gguf_tensor_info(struct mk_gguf *g, const char *name, int n_dims, const int64_t *ne,
			 uint32_t type, uint64_t offset);
/* zero bytes up to the next multiple of align */
void mk_gguf_pad(struct mk_gguf *g, uint32_t align);
void mk_gguf_write(struct mk_gguf *g, const void *p, size_t n);
int mk_gguf_close(struct mk_gguf *g);

#endif
