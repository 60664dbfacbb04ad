/* SPDX-License-Identifier: MIT */
/* GGUF files: mapping, lookups and typed reads of checked KV pairs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anpurt.h"
#include "common/rt_error.h"
#include "model/gguf.h"

int gguf_open(const char *path, struct gguf_file **out)
{
	char msg[512];
	struct stat st;
	void *map;
	int fd, err;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return rt_error(err, "%s: %s", path, strerror(-err));
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return rt_error(-EINVAL, "%s: not a GGUF file (%s)", path,
				S_ISREG(st.st_mode) ? "empty" : "not a regular file");
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = -errno;
	close(fd);
	if (map == MAP_FAILED)
		return rt_error(err, "%s: mmap: %s", path, strerror(-err));
	err = gguf_parse(map, (size_t)st.st_size, out);
	if (err) {
		munmap(map, (size_t)st.st_size);
		snprintf(msg, sizeof(msg), "%s", anpurt_last_error());
		return rt_error(err, "%s: %s", path, msg);
	}
	(*out)->mapped = 1;
	return 0;
}

void gguf_close(struct gguf_file *g)
{
	if (!g)
		return;
	if (g->mapped && g->base)
		munmap((void *)g->base, g->size);
	free(g->kv);
	free(g->kv_sorted);
	free(g->tensors);
	free(g->tensors_sorted);
	free(g);
}

static int key_cmp(const void *key, const void *elem)
{
	const struct gguf_kv *kv = *(const struct gguf_kv *const *)elem;
	size_t len = strlen(key);
	int r = memcmp(key, kv->key.ptr, len < kv->key.len ? len : kv->key.len);

	if (r)
		return r;
	return len < kv->key.len ? -1 : len > kv->key.len;
}

static int name_cmp(const void *key, const void *elem)
{
	const struct gguf_tensor *t = *(const struct gguf_tensor *const *)elem;
	size_t len = strlen(key);
	int r = memcmp(key, t->name.ptr, len < t->name.len ? len : t->name.len);

	if (r)
		return r;
	return len < t->name.len ? -1 : len > t->name.len;
}

const struct gguf_kv *gguf_find_kv(const struct gguf_file *g, const char *key)
{
	const struct gguf_kv *const *kv;

	if (!g->n_kv)
		return NULL;
	kv = bsearch(key, g->kv_sorted, g->n_kv, sizeof(*g->kv_sorted), key_cmp);
	return kv ? *kv : NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g, const char *name)
{
	const struct gguf_tensor *const *t;

	if (!g->n_tensors)
		return NULL;
	t = bsearch(name, g->tensors_sorted, g->n_tensors, sizeof(*g->tensors_sorted), name_cmp);
	return t ? *t : NULL;
}

static int wrong_type(const struct gguf_kv *kv, const char *want)
{
	return rt_error(-EINVAL, "offset %" PRIu64 ": %.*s has type %s (must be %s)", kv->offset,
			(int)kv->key.len, kv->key.ptr, gguf_vtype_name(kv->type), want);
}

int gguf_get_uint(const struct gguf_file *g, const char *key, uint64_t *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	if (!kv)
		return 0;
	switch (kv->type) {
	case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64:
		*out = kv->v.u;
		return 1;
	case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64:
		if (kv->v.i < 0)
			return rt_error(-EINVAL, "offset %" PRIu64 ": %s is %" PRId64
					" (must not be negative)", kv->offset, key, kv->v.i);
		*out = (uint64_t)kv->v.i;
		return 1;
	}
	return wrong_type(kv, "an integer");
}

int gguf_get_float(const struct gguf_file *g, const char *key, double *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	if (!kv)
		return 0;
	if (kv->type != GGUF_F32 && kv->type != GGUF_F64)
		return wrong_type(kv, "f32 or f64");
	*out = kv->v.f;
	return 1;
}

int gguf_get_bool(const struct gguf_file *g, const char *key, int *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	if (!kv)
		return 0;
	if (kv->type != GGUF_BOOL)
		return wrong_type(kv, "bool");
	*out = (int)kv->v.u;
	return 1;
}

int gguf_get_str(const struct gguf_file *g, const char *key, struct rt_str *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	if (!kv)
		return 0;
	if (kv->type != GGUF_STRING)
		return wrong_type(kv, "string");
	*out = kv->v.s;
	return 1;
}

int gguf_get_array(const struct gguf_file *g, const char *key, uint32_t elem_type,
		   struct gguf_array *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);
	char want[32];

	if (!kv)
		return 0;
	if (kv->type != GGUF_ARRAY || kv->v.arr.type != elem_type) {
		snprintf(want, sizeof(want), "an array of %s", gguf_vtype_name(elem_type));
		if (kv->type == GGUF_ARRAY)
			return rt_error(-EINVAL, "offset %" PRIu64 ": %s is an array of %s (must be"
					" %s)", kv->offset, key, gguf_vtype_name(kv->v.arr.type), want);
		return wrong_type(kv, want);
	}
	*out = kv->v.arr;
	return 1;
}

const void *gguf_array_data(const struct gguf_file *g, const struct gguf_array *arr)
{
	return g->base + arr->offset;
}

void gguf_array_strings(const struct gguf_file *g, const struct gguf_array *arr,
			struct rt_str *out)
{
	uint64_t pos = arr->offset, len, i;

	/* checked by gguf_parse: every length and string lies inside the file */
	for (i = 0; i < arr->n; i++) {
		memcpy(&len, g->base + pos, sizeof(len));
		out[i].ptr = (const char *)g->base + pos + sizeof(len);
		out[i].len = len;
		pos += sizeof(len) + len;
	}
}

int32_t gguf_array_i32(const struct gguf_file *g, const struct gguf_array *arr, uint64_t i)
{
	int32_t v;

	memcpy(&v, g->base + arr->offset + i * sizeof(v), sizeof(v));
	return v;
}

float gguf_array_f32(const struct gguf_file *g, const struct gguf_array *arr, uint64_t i)
{
	float v;

	memcpy(&v, g->base + arr->offset + i * sizeof(v), sizeof(v));
	return v;
}
