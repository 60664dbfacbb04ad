/* SPDX-License-Identifier: MIT */
/*
 * GGUF parsing: one pass over the file with a bounds-checked cursor. Every count
 * is checked against the bytes left before anything is allocated for it, so a
 * hostile header cannot make us allocate more than the file could describe.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rt_error.h"
#include "model/ggml_types.h"
#include "model/gguf.h"

/* Smallest encodings: a string is a u64 length (+ bytes), an array a type and a count. */
#define MIN_STRING	8u
#define MIN_ARRAY	12u
#define MIN_KV		(MIN_STRING + 1 + 4 + 1)		/* key of 1 byte, type, u8 value */
#define MIN_TENSOR_INFO	(MIN_STRING + 1 + 4 + 8 + 4 + 8)	/* name, n_dims, 1 dim, type, offset */

struct cursor {
	const uint8_t *b;
	uint64_t size;
	uint64_t pos;
};

static uint64_t left(const struct cursor *c)
{
	return c->size - c->pos;
}

static int need(const struct cursor *c, uint64_t n, const char *what)
{
	if (n > left(c))
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s needs %" PRIu64
				" bytes but the file ends %" PRIu64 " bytes later",
				c->pos, what, n, left(c));
	return 0;
}

static int rd(struct cursor *c, void *dst, size_t n, const char *what)
{
	int err = need(c, n, what);

	if (err)
		return err;
	memcpy(dst, c->b + c->pos, n);	/* fields are unaligned in the file */
	c->pos += n;
	return 0;
}

static int rd_u32(struct cursor *c, uint32_t *v, const char *what)
{
	return rd(c, v, sizeof(*v), what);
}

static int rd_u64(struct cursor *c, uint64_t *v, const char *what)
{
	return rd(c, v, sizeof(*v), what);
}

static int rd_str(struct cursor *c, struct rt_str *s, const char *what)
{
	uint64_t at = c->pos, len;
	int err = rd_u64(c, &len, what);

	if (err)
		return err;
	if (len > left(c))
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s: string length %" PRIu64
				" exceeds the %" PRIu64 " bytes left in the file",
				at, what, len, left(c));
	s->ptr = (const char *)c->b + c->pos;
	s->len = len;
	c->pos += len;
	return 0;
}

static const char *const vtype_names[GGUF_VTYPE_COUNT] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array",
	"u64", "i64", "f64",
};

const char *gguf_vtype_name(uint32_t type)
{
	return type < GGUF_VTYPE_COUNT ? vtype_names[type] : "invalid";
}

size_t gguf_vtype_size(uint32_t type)
{
	static const uint8_t sizes[GGUF_VTYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

	return type < GGUF_VTYPE_COUNT ? sizes[type] : 0;
}

static uint64_t vtype_min_size(uint32_t type)
{
	if (type == GGUF_STRING)
		return MIN_STRING;
	if (type == GGUF_ARRAY)
		return MIN_ARRAY;
	return gguf_vtype_size(type);
}

static int rd_vtype(struct cursor *c, uint32_t *type, const char *what)
{
	uint64_t at = c->pos;
	int err = rd_u32(c, type, what);

	if (err)
		return err;
	if (*type >= GGUF_VTYPE_COUNT)
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s: unknown value type %" PRIu32,
				at, what, *type);
	return 0;
}

static int read_value(struct cursor *c, uint32_t type, struct gguf_kv *kv, unsigned int depth,
		      const char *what);

/* An array: element type, count, elements (checked recursively when nested). */
static int read_array(struct cursor *c, struct gguf_array *arr, unsigned int depth,
		      const char *what)
{
	uint64_t at = c->pos, size, i;
	struct gguf_kv elem;
	int err;

	if (depth >= GGUF_MAX_ARRAY_DEPTH)
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s: arrays nested deeper than %d",
				at, what, GGUF_MAX_ARRAY_DEPTH);
	err = rd_vtype(c, &arr->type, what);
	if (!err)
		err = rd_u64(c, &arr->n, what);
	if (err)
		return err;
	if (arr->n > left(c) / vtype_min_size(arr->type))
		return rt_error(-EINVAL, "offset %" PRIu64 ": %s: %" PRIu64 " %s elements"
				" cannot fit in the %" PRIu64 " bytes left in the file",
				at, what, arr->n, gguf_vtype_name(arr->type), left(c));
	arr->offset = c->pos;
	size = gguf_vtype_size(arr->type);
	if (size) {
		c->pos += arr->n * size;	/* fits: checked above */
		if (arr->type == GGUF_BOOL) {
			for (i = 0; i < arr->n; i++)
				if (c->b[arr->offset + i] > 1)
					return rt_error(-EINVAL, "offset %" PRIu64 ": %s: bool element %"
							PRIu64 " is %u (must be 0 or 1)",
							arr->offset + i, what, i, c->b[arr->offset + i]);
		}
		return 0;
	}
	for (i = 0; i < arr->n; i++) {
		err = read_value(c, arr->type, &elem, depth + 1, what);
		if (err)
			return err;
	}
	return 0;
}

static int read_value(struct cursor *c, uint32_t type, struct gguf_kv *kv, unsigned int depth,
		      const char *what)
{
	uint64_t at = c->pos;
	union {
		uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
		float f32; uint64_t u64; int64_t i64; double f64;
	} raw;
	int err;

	if (type == GGUF_STRING)
		return rd_str(c, &kv->v.s, what);
	if (type == GGUF_ARRAY)
		return read_array(c, &kv->v.arr, depth, what);
	err = rd(c, &raw, gguf_vtype_size(type), what);
	if (err)
		return err;
	switch (type) {
	case GGUF_U8:	kv->v.u = raw.u8; break;
	case GGUF_I8:	kv->v.i = raw.i8; break;
	case GGUF_U16:	kv->v.u = raw.u16; break;
	case GGUF_I16:	kv->v.i = raw.i16; break;
	case GGUF_U32:	kv->v.u = raw.u32; break;
	case GGUF_I32:	kv->v.i = raw.i32; break;
	case GGUF_F32:	kv->v.f = raw.f32; break;
	case GGUF_U64:	kv->v.u = raw.u64; break;
	case GGUF_I64:	kv->v.i = raw.i64; break;
	case GGUF_F64:	kv->v.f = raw.f64; break;
	case GGUF_BOOL:
		if (raw.u8 > 1)
			return rt_error(-EINVAL, "offset %" PRIu64 ": %s: bool value is %u"
					" (must be 0 or 1)", at, what, raw.u8);
		kv->v.u = raw.u8;
		break;
	}
	return 0;
}

static int read_header(struct cursor *c, struct gguf_file *g, uint64_t *n_tensors, uint64_t *n_kv)
{
	char magic[4];
	int err;

	err = rd(c, magic, 4, "the magic");
	if (err)
		return rt_error(err, "offset 0: not a GGUF file: %" PRIu64 " bytes, shorter than"
				" the header", c->size);
	if (memcmp(magic, "GGUF", 4))
		return rt_error(-EINVAL, "offset 0: not a GGUF file (magic %02x %02x %02x %02x,"
				" expected \"GGUF\")", (uint8_t)magic[0], (uint8_t)magic[1],
				(uint8_t)magic[2], (uint8_t)magic[3]);
	err = rd_u32(c, &g->version, "the version");
	if (err)
		return err;
	if (g->version != 2 && g->version != 3) {
		if (g->version && !(g->version & 0xffff))
			return rt_error(-EINVAL, "offset 4: big-endian GGUF files are not supported");
		return rt_error(-EINVAL, "offset 4: GGUF version %" PRIu32
				" is not supported (versions 2 and 3 are)", g->version);
	}
	err = rd_u64(c, n_tensors, "the tensor count");
	if (!err)
		err = rd_u64(c, n_kv, "the KV count");
	if (err)
		return err;
	if (*n_kv > left(c) / MIN_KV)
		return rt_error(-EINVAL, "offset 16: KV count %" PRIu64 " cannot fit in the %"
				PRIu64 " bytes left in the file", *n_kv, left(c));
	if (*n_tensors > left(c) / MIN_TENSOR_INFO)
		return rt_error(-EINVAL, "offset 8: tensor count %" PRIu64 " cannot fit in the %"
				PRIu64 " bytes left in the file", *n_tensors, left(c));
	return 0;
}

static int read_kvs(struct cursor *c, struct gguf_file *g)
{
	char what[96];
	size_t i;
	int err;

	for (i = 0; i < g->n_kv; i++) {
		struct gguf_kv *kv = &g->kv[i];

		kv->offset = c->pos;
		snprintf(what, sizeof(what), "KV %zu key", i);
		err = rd_str(c, &kv->key, what);
		if (err)
			return err;
		if (kv->key.len == 0)
			return rt_error(-EINVAL, "offset %" PRIu64 ": KV %zu has an empty key",
					kv->offset, i);
		snprintf(what, sizeof(what), "KV '%.*s'", (int)(kv->key.len > 64 ? 64 : kv->key.len),
			 kv->key.ptr);
		err = rd_vtype(c, &kv->type, what);
		if (!err)
			err = read_value(c, kv->type, kv, 0, what);
		if (err)
			return err;
	}
	return 0;
}

static int str_cmp(struct rt_str a, struct rt_str b)
{
	int r = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);

	if (r)
		return r;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int kv_cmp(const void *a, const void *b)
{
	return str_cmp((*(const struct gguf_kv *const *)a)->key,
		       (*(const struct gguf_kv *const *)b)->key);
}

static int tensor_name_cmp(const void *a, const void *b)
{
	return str_cmp((*(const struct gguf_tensor *const *)a)->name,
		       (*(const struct gguf_tensor *const *)b)->name);
}

static int tensor_offset_cmp(const void *a, const void *b)
{
	const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
	const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int check_unique_keys(struct gguf_file *g)
{
	size_t i;

	for (i = 0; i < g->n_kv; i++)
		g->kv_sorted[i] = &g->kv[i];
	qsort(g->kv_sorted, g->n_kv, sizeof(*g->kv_sorted), kv_cmp);
	for (i = 1; i < g->n_kv; i++) {
		const struct gguf_kv *a = g->kv_sorted[i - 1], *b = g->kv_sorted[i];

		if (!str_cmp(a->key, b->key)) {
			if (a->offset > b->offset) {
				const struct gguf_kv *t = a;

				a = b;
				b = t;
			}
			return rt_error(-EINVAL, "offset %" PRIu64 ": duplicate key '%.*s' (first at"
					" offset %" PRIu64 ")", b->offset, (int)b->key.len,
					b->key.ptr, a->offset);
		}
	}
	return 0;
}

static int read_alignment(struct gguf_file *g)
{
	const struct gguf_kv *kv = gguf_find_kv(g, "general.alignment");

	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (!kv)
		return 0;
	if (kv->type != GGUF_U32)
		return rt_error(-EINVAL, "offset %" PRIu64 ": general.alignment has type %s"
				" (must be u32)", kv->offset, gguf_vtype_name(kv->type));
	if (kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)))
		return rt_error(-EINVAL, "offset %" PRIu64 ": general.alignment %" PRIu64
				" is not a power of two", kv->offset, kv->v.u);
	g->alignment = (uint32_t)kv->v.u;
	return 0;
}

#define T_FMT	"offset %" PRIu64 ": tensor '%.*s': "
#define T_ARG(t) (t)->info_offset, (int)(t)->name.len, (t)->name.ptr

static int read_tensor_shape(struct cursor *c, struct gguf_tensor *t)
{
	uint64_t row_blocks, row_bytes, n = 1;
	const struct ggml_type_info *ti;
	uint64_t at;
	uint32_t d;
	int err;

	at = c->pos;
	err = rd_u32(c, &t->n_dims, "tensor dimension count");
	if (err)
		return err;
	if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
		return rt_error(-EINVAL, "offset %" PRIu64 ": tensor '%.*s': %" PRIu32
				" dimensions (must be 1 to %d)", at, (int)t->name.len, t->name.ptr,
				t->n_dims, GGUF_MAX_DIMS);
	for (d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (d = 0; d < t->n_dims; d++) {
		at = c->pos;
		err = rd_u64(c, &t->ne[d], "tensor dimension");
		if (err)
			return err;
		if (t->ne[d] < 1 || t->ne[d] > INT64_MAX)
			return rt_error(-EINVAL, "offset %" PRIu64 ": tensor '%.*s': dimension %"
					PRIu32 " is %" PRId64 " (must be at least 1)", at,
					(int)t->name.len, t->name.ptr, d, (int64_t)t->ne[d]);
		if (__builtin_mul_overflow(n, t->ne[d], &n) || n > INT64_MAX)
			return rt_error(-EINVAL, "offset %" PRIu64 ": tensor '%.*s': the element"
					" count overflows 63 bits", at, (int)t->name.len, t->name.ptr);
	}
	t->n_elements = n;
	at = c->pos;
	err = rd_u32(c, &t->type, "tensor type");
	if (err)
		return err;
	ti = ggml_type_get(t->type);
	if (!ti)
		return rt_error(-EINVAL, "offset %" PRIu64 ": tensor '%.*s': unknown ggml type %"
				PRIu32, at, (int)t->name.len, t->name.ptr, t->type);
	if (!ggml_type_supported(ti))
		return rt_error(-ENOTSUP, "offset %" PRIu64 ": tensor '%.*s' has type %s, which"
				" the runtime does not read (it reads f32, f16, bf16, q8_0, q4_0,"
				" q4_1, q5_0, q5_1, q4_K, q5_K, q6_K)", at, (int)t->name.len,
				t->name.ptr, ti->name);
	if (t->ne[0] % ti->block_elems)
		return rt_error(-EINVAL, T_FMT "row length %" PRIu64 " is not a multiple of the %s"
				" block size %" PRIu32, T_ARG(t), t->ne[0], ti->name, ti->block_elems);
	row_blocks = t->ne[0] / ti->block_elems;
	if (__builtin_mul_overflow(row_blocks, (uint64_t)ti->block_bytes, &row_bytes) ||
	    __builtin_mul_overflow(row_bytes, n / t->ne[0], &t->nbytes))
		return rt_error(-EINVAL, T_FMT "the byte size overflows 64 bits", T_ARG(t));
	return 0;
}

static int read_tensor_infos(struct cursor *c, struct gguf_file *g)
{
	char what[48];
	size_t i;
	int err;

	for (i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];

		t->info_offset = c->pos;
		snprintf(what, sizeof(what), "tensor %zu name", i);
		err = rd_str(c, &t->name, what);
		if (err)
			return err;
		if (t->name.len == 0 || t->name.len >= GGUF_MAX_NAME)
			return rt_error(-EINVAL, "offset %" PRIu64 ": tensor %zu: name length %zu"
					" (must be 1 to %d)", t->info_offset, i, t->name.len,
					GGUF_MAX_NAME - 1);
		err = read_tensor_shape(c, t);
		if (!err)
			err = rd_u64(c, &t->offset, "tensor data offset");
		if (err)
			return err;
		if (t->offset % g->alignment)
			return rt_error(-EINVAL, T_FMT "data offset %" PRIu64 " is not a multiple of"
					" the alignment %" PRIu32, T_ARG(t), t->offset, g->alignment);
	}
	return 0;
}

/* Tensor data: inside the data section, names unique, no two overlapping. */
static int check_tensor_data(struct gguf_file *g, uint64_t infos_end)
{
	const struct gguf_tensor **by_offset;
	uint64_t avail;
	size_t i;
	int err = 0;

	g->data_offset = (infos_end + g->alignment - 1) / g->alignment * g->alignment;
	if (g->n_tensors == 0)
		return 0;
	if (g->data_offset > g->size)
		return rt_error(-EINVAL, "offset %" PRIu64 ": the data section would start at %"
				PRIu64 ", past the end of the file (%" PRIu64 " bytes)",
				infos_end, g->data_offset, g->size);
	avail = g->size - g->data_offset;
	for (i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];

		if (t->offset > avail || t->nbytes > avail - t->offset)
			return rt_error(-EINVAL, T_FMT "data at %" PRIu64 "..+%" PRIu64 " lies past the"
					" end of the data section (%" PRIu64 " bytes)", T_ARG(t),
					t->offset, t->nbytes, avail);
		t->offset += g->data_offset;
		t->data = g->base + t->offset;
		g->tensors_sorted[i] = t;
	}
	qsort(g->tensors_sorted, g->n_tensors, sizeof(*g->tensors_sorted), tensor_name_cmp);
	for (i = 1; i < g->n_tensors; i++) {
		const struct gguf_tensor *a = g->tensors_sorted[i - 1], *b = g->tensors_sorted[i];

		if (!str_cmp(a->name, b->name))
			return rt_error(-EINVAL, T_FMT "duplicate tensor name (first at offset %" PRIu64
					")", T_ARG(a->info_offset > b->info_offset ? a : b),
					a->info_offset > b->info_offset ? b->info_offset : a->info_offset);
	}
	by_offset = malloc(g->n_tensors * sizeof(*by_offset));
	if (!by_offset)
		return rt_error(-ENOMEM, "out of memory");
	memcpy(by_offset, g->tensors_sorted, g->n_tensors * sizeof(*by_offset));
	qsort(by_offset, g->n_tensors, sizeof(*by_offset), tensor_offset_cmp);
	for (i = 1; i < g->n_tensors; i++) {
		const struct gguf_tensor *a = by_offset[i - 1], *b = by_offset[i];

		if (a->offset + a->nbytes > b->offset) {
			err = rt_error(-EINVAL, T_FMT "data overlaps tensor '%.*s' (file bytes %"
				       PRIu64 "..%" PRIu64 " and %" PRIu64 "..%" PRIu64 ")", T_ARG(b),
				       (int)a->name.len, a->name.ptr, b->offset, b->offset + b->nbytes,
				       a->offset, a->offset + a->nbytes);
			break;
		}
	}
	free(by_offset);
	return err;
}

int gguf_parse(const void *buf, size_t size, struct gguf_file **out)
{
	struct cursor c = { .b = buf, .size = size, .pos = 0 };
	uint64_t n_tensors, n_kv;
	struct gguf_file *g;
	int err;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return rt_error(-ENOMEM, "out of memory");
	g->base = buf;
	g->size = size;
	err = read_header(&c, g, &n_tensors, &n_kv);
	if (err)
		goto fail;
	/* both counts are now bounded by the file's size (read_header) */
	g->n_kv = n_kv;
	g->n_tensors = n_tensors;
	g->kv = calloc(n_kv ? n_kv : 1, sizeof(*g->kv));
	g->kv_sorted = calloc(n_kv ? n_kv : 1, sizeof(*g->kv_sorted));
	g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof(*g->tensors));
	g->tensors_sorted = calloc(n_tensors ? n_tensors : 1, sizeof(*g->tensors_sorted));
	if (!g->kv || !g->kv_sorted || !g->tensors || !g->tensors_sorted) {
		err = rt_error(-ENOMEM, "out of memory for %" PRIu64 " KV pairs and %" PRIu64
			       " tensors", n_kv, n_tensors);
		goto fail;
	}
	err = read_kvs(&c, g);
	if (!err)
		err = check_unique_keys(g);
	if (!err)
		err = read_alignment(g);
	if (!err)
		err = read_tensor_infos(&c, g);
	if (!err)
		err = check_tensor_data(g, c.pos);
	if (err)
		goto fail;
	*out = g;
	return 0;
fail:
	g->base = NULL;	/* the caller keeps the buffer */
	gguf_close(g);
	return err;
}
