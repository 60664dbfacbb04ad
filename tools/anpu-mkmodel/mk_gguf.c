// SPDX-License-Identifier: MIT
/* Streaming GGUF v3 writer (little endian, as the format is). */
#include "mk_gguf.h"

#include <errno.h>
#include <string.h>

int mk_gguf_open(struct mk_gguf *g, const char *path)
{
	memset(g, 0, sizeof(*g));
	g->f = fopen(path, "wb");
	if (!g->f)
		return -errno;
	return 0;
}

void mk_gguf_write(struct mk_gguf *g, const void *p, size_t n)
{
	if (g->err || !n)
		return;
	if (fwrite(p, 1, n, g->f) != n)
		g->err = errno ? -errno : -EIO;
	g->pos += n;
}

static void le(struct mk_gguf *g, uint64_t v, int bytes)
{
	uint8_t b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	mk_gguf_write(g, b, (size_t)bytes);
}

static void str(struct mk_gguf *g, const char *s)
{
	size_t n = strlen(s);

	le(g, n, 8);
	mk_gguf_write(g, s, n);
}

void mk_gguf_header(struct mk_gguf *g, uint64_t n_tensors, uint64_t n_kv)
{
	mk_gguf_write(g, "GGUF", 4);
	le(g, 3, 4);
	le(g, n_tensors, 8);
	le(g, n_kv, 8);
}

static void key(struct mk_gguf *g, const char *k, uint32_t type)
{
	str(g, k);
	le(g, type, 4);
}

void mk_gguf_kv_u32(struct mk_gguf *g, const char *k, uint32_t v)
{
	key(g, k, MK_GGUF_U32);
	le(g, v, 4);
}

void mk_gguf_kv_f32(struct mk_gguf *g, const char *k, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	key(g, k, MK_GGUF_F32);
	le(g, u, 4);
}

void mk_gguf_kv_bool(struct mk_gguf *g, const char *k, bool v)
{
	key(g, k, MK_GGUF_BOOL);
	le(g, v, 1);
}

void mk_gguf_kv_str(struct mk_gguf *g, const char *k, const char *v)
{
	key(g, k, MK_GGUF_STRING);
	str(g, v);
}

void mk_gguf_kv_strs(struct mk_gguf *g, const char *k, char *const *v, uint64_t n)
{
	key(g, k, MK_GGUF_ARRAY);
	le(g, MK_GGUF_STRING, 4);
	le(g, n, 8);
	for (uint64_t i = 0; i < n; i++)
		str(g, v[i]);
}

void mk_gguf_kv_i32s(struct mk_gguf *g, const char *k, const int32_t *v, uint64_t n)
{
	key(g, k, MK_GGUF_ARRAY);
	le(g, MK_GGUF_I32, 4);
	le(g, n, 8);
	for (uint64_t i = 0; i < n; i++)
		le(g, (uint32_t)v[i], 4);
}

void mk_gguf_tensor_info(struct mk_gguf *g, const char *name, int n_dims, const int64_t *ne,
			 uint32_t type, uint64_t offset)
{
	str(g, name);
	le(g, (uint32_t)n_dims, 4);
	for (int i = 0; i < n_dims; i++)
		le(g, (uint64_t)ne[i], 8);
	le(g, type, 4);
	le(g, offset, 8);
}

void mk_gguf_pad(struct mk_gguf *g, uint32_t align)
{
	static const uint8_t zeros[64];
	size_t n = (size_t)((align - g->pos % align) % align);

	while (n) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		mk_gguf_write(g, zeros, k);
		n -= k;
	}
}

int mk_gguf_close(struct mk_gguf *g)
{
	if (g->f && fclose(g->f) && !g->err)
		g->err = -errno;
	g->f = NULL;
	return g->err;
}
