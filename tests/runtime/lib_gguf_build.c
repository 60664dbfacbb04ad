/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib_gguf_build.h"

struct gb_buf {
	uint8_t *p;
	size_t len, cap;
};

struct gb_kv {
	char *key;
	uint32_t type;
	struct gb_buf value;
};

struct gb_tensor {
	char *name;
	uint32_t type, n_dims;
	uint64_t dims[8];	/* more than GGUF allows, for malformed images */
	uint64_t offset;	/* GB_AUTO or as given */
	uint8_t *data;		/* gb_tensor_set_data(), else NULL (zeros) */
	size_t data_len;
};

struct gb {
	uint32_t version, alignment;
	int counts_set;
	uint64_t n_tensors_written, n_kv_written;
	struct gb_kv *kv;
	size_t n_kv;
	struct gb_tensor *t;
	size_t n_t;
	size_t *kv_off, *t_off, data_off;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static void put(struct gb_buf *buf, const void *p, size_t n)
{
	if (buf->len + n > buf->cap) {
		buf->cap = (buf->len + n) * 2 + 64;
		buf->p = xrealloc(buf->p, buf->cap);
	}
	if (n)
		memcpy(buf->p + buf->len, p, n);
	buf->len += n;
}

static void put_u32(struct gb_buf *buf, uint32_t v)
{
	put(buf, &v, 4);
}

static void put_u64(struct gb_buf *buf, uint64_t v)
{
	put(buf, &v, 8);
}

static void put_str(struct gb_buf *buf, const char *s)
{
	put_u64(buf, strlen(s));
	put(buf, s, strlen(s));
}

struct gb *gb_new(void)
{
	struct gb *b = calloc(1, sizeof(*b));

	if (!b)
		abort();
	b->version = 3;
	b->alignment = 32;
	return b;
}

void gb_free(struct gb *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n_kv; i++) {
		free(b->kv[i].key);
		free(b->kv[i].value.p);
	}
	for (i = 0; i < b->n_t; i++) {
		free(b->t[i].name);
		free(b->t[i].data);
	}
	free(b->kv);
	free(b->t);
	free(b->kv_off);
	free(b->t_off);
	free(b);
}

void gb_set_version(struct gb *b, uint32_t version)
{
	b->version = version;
}

void gb_set_counts(struct gb *b, uint64_t n_tensors, uint64_t n_kv)
{
	b->counts_set = 1;
	b->n_tensors_written = n_tensors;
	b->n_kv_written = n_kv;
}

void gb_set_layout_alignment(struct gb *b, uint32_t alignment)
{
	b->alignment = alignment;
}

void gb_kv_raw(struct gb *b, const char *key, uint32_t type, const void *value, size_t len)
{
	struct gb_kv *kv;

	b->kv = xrealloc(b->kv, (b->n_kv + 1) * sizeof(*b->kv));
	kv = &b->kv[b->n_kv++];
	memset(kv, 0, sizeof(*kv));
	kv->key = xstrdup(key);
	kv->type = type;
	put(&kv->value, value, len);
}

void gb_kv_remove(struct gb *b, const char *key)
{
	size_t i = 0;

	while (i < b->n_kv) {
		if (!strcmp(b->kv[i].key, key)) {
			free(b->kv[i].key);
			free(b->kv[i].value.p);
			memmove(&b->kv[i], &b->kv[i + 1], (b->n_kv - i - 1) * sizeof(*b->kv));
			b->n_kv--;
		} else {
			i++;
		}
	}
}

void gb_kv_u8(struct gb *b, const char *key, uint8_t v)
{
	gb_kv_raw(b, key, 0, &v, 1);
}

void gb_kv_u32(struct gb *b, const char *key, uint32_t v)
{
	gb_kv_raw(b, key, 4, &v, 4);
}

void gb_kv_i32(struct gb *b, const char *key, int32_t v)
{
	gb_kv_raw(b, key, 5, &v, 4);
}

void gb_kv_u64(struct gb *b, const char *key, uint64_t v)
{
	gb_kv_raw(b, key, 10, &v, 8);
}

void gb_kv_f32(struct gb *b, const char *key, float v)
{
	gb_kv_raw(b, key, 6, &v, 4);
}

void gb_kv_f64(struct gb *b, const char *key, double v)
{
	gb_kv_raw(b, key, 12, &v, 8);
}

void gb_kv_bool(struct gb *b, const char *key, int v)
{
	uint8_t u = (uint8_t)v;

	gb_kv_raw(b, key, 7, &u, 1);
}

void gb_kv_str(struct gb *b, const char *key, const char *v)
{
	struct gb_buf buf = { 0 };

	put_str(&buf, v);
	gb_kv_raw(b, key, 8, buf.p, buf.len);
	free(buf.p);
}

static void kv_arr(struct gb *b, const char *key, uint32_t type, size_t n, const void *v,
		   size_t elem)
{
	struct gb_buf buf = { 0 };

	put_u32(&buf, type);
	put_u64(&buf, n);
	put(&buf, v, n * elem);
	gb_kv_raw(b, key, 9, buf.p, buf.len);
	free(buf.p);
}

void gb_kv_arr_i32(struct gb *b, const char *key, size_t n, const int32_t *v)
{
	kv_arr(b, key, 5, n, v, 4);
}

void gb_kv_arr_f32(struct gb *b, const char *key, size_t n, const float *v)
{
	kv_arr(b, key, 6, n, v, 4);
}

void gb_kv_arr_str(struct gb *b, const char *key, size_t n, const char *const *v)
{
	struct gb_buf buf = { 0 };
	size_t i;

	put_u32(&buf, 8);
	put_u64(&buf, n);
	for (i = 0; i < n; i++)
		put_str(&buf, v[i]);
	gb_kv_raw(b, key, 9, buf.p, buf.len);
	free(buf.p);
}

void gb_tensor(struct gb *b, const char *name, uint32_t type, uint32_t n_dims,
	       const uint64_t *dims, uint64_t offset)
{
	struct gb_tensor *t;
	uint32_t d;

	b->t = xrealloc(b->t, (b->n_t + 1) * sizeof(*b->t));
	t = &b->t[b->n_t++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->type = type;
	t->n_dims = n_dims;
	for (d = 0; d < 8; d++)
		t->dims[d] = d < n_dims ? dims[d] : 1;
	t->offset = offset;
}

void gb_tensor_2d(struct gb *b, const char *name, uint32_t type, uint64_t ne0, uint64_t ne1)
{
	uint64_t dims[2] = { ne0, ne1 };

	gb_tensor(b, name, type, 2, dims, GB_AUTO);
}

void gb_tensor_1d(struct gb *b, const char *name, uint32_t type, uint64_t ne0)
{
	gb_tensor(b, name, type, 1, &ne0, GB_AUTO);
}

static uint64_t tensor_bytes(const struct gb_tensor *t);

static struct gb_tensor *find_tensor(struct gb *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n_t; i++)
		if (!strcmp(b->t[i].name, name))
			return &b->t[i];
	return NULL;
}

int gb_tensor_set_dims(struct gb *b, const char *name, uint32_t n_dims, const uint64_t *dims)
{
	struct gb_tensor *t = find_tensor(b, name);
	uint32_t d;

	if (!t)
		return -1;
	t->n_dims = n_dims;
	for (d = 0; d < 8; d++)
		t->dims[d] = d < n_dims ? dims[d] : 1;
	return 0;
}

int gb_tensor_set_type(struct gb *b, const char *name, uint32_t type)
{
	struct gb_tensor *t = find_tensor(b, name);

	if (!t)
		return -1;
	t->type = type;
	return 0;
}

int gb_tensor_remove(struct gb *b, const char *name)
{
	struct gb_tensor *t = find_tensor(b, name);
	size_t i;

	if (!t)
		return -1;
	i = (size_t)(t - b->t);
	free(t->name);
	free(t->data);
	memmove(&b->t[i], &b->t[i + 1], (b->n_t - i - 1) * sizeof(*b->t));
	b->n_t--;
	return 0;
}

int gb_tensor_set_data(struct gb *b, const char *name, const void *data, size_t len)
{
	struct gb_tensor *t = find_tensor(b, name);

	if (!t || len != tensor_bytes(t))
		return -1;
	free(t->data);
	t->data = xrealloc(NULL, len);
	memcpy(t->data, data, len);
	t->data_len = len;
	return 0;
}

size_t gb_tensor_count(const struct gb *b)
{
	return b->n_t;
}

const char *gb_tensor_get(const struct gb *b, size_t i, uint32_t *type, uint64_t dims[4],
			  const uint8_t **data, size_t *len)
{
	const struct gb_tensor *t = &b->t[i];
	uint32_t d;

	*type = t->type;
	for (d = 0; d < 4; d++)
		dims[d] = t->dims[d];
	*data = t->data;
	*len = (size_t)tensor_bytes(t);
	return t->name;
}

/* Bytes of a tensor: ggml's block layouts; other types get one byte per element. */
static uint64_t tensor_bytes(const struct gb_tensor *t)
{
	static const struct { uint32_t type, elems, bytes; } layout[] = {
		{ 0, 1, 4 }, { 1, 1, 2 }, { 30, 1, 2 }, { 2, 32, 18 }, { 3, 32, 20 },
		{ 6, 32, 22 }, { 7, 32, 24 }, { 8, 32, 34 }, { 12, 256, 144 },
		{ 13, 256, 176 }, { 14, 256, 210 },
	};
	uint64_t rows = t->dims[1] * t->dims[2] * t->dims[3];
	size_t i;

	for (i = 0; i < sizeof(layout) / sizeof(layout[0]); i++)
		if (layout[i].type == t->type)
			return t->dims[0] / layout[i].elems * layout[i].bytes * rows;
	return t->dims[0] * rows;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* The image; with @meta_only the bytes before the data section (*@size is still the total). */
static uint8_t *build(struct gb *b, size_t *size, int meta_only)
{
	struct gb_buf out = { 0 };
	uint64_t *offs = xrealloc(NULL, b->n_t * sizeof(uint64_t)), next = 0, end = 0;
	size_t i, total;
	uint32_t d;

	b->kv_off = xrealloc(b->kv_off, b->n_kv * sizeof(size_t));
	b->t_off = xrealloc(b->t_off, b->n_t * sizeof(size_t));
	put(&out, "GGUF", 4);
	put_u32(&out, b->version);
	put_u64(&out, b->counts_set ? b->n_tensors_written : b->n_t);
	put_u64(&out, b->counts_set ? b->n_kv_written : b->n_kv);
	for (i = 0; i < b->n_kv; i++) {
		b->kv_off[i] = out.len;
		put_str(&out, b->kv[i].key);
		put_u32(&out, b->kv[i].type);
		put(&out, b->kv[i].value.p, b->kv[i].value.len);
	}
	for (i = 0; i < b->n_t; i++) {
		const struct gb_tensor *t = &b->t[i];
		uint64_t bytes = tensor_bytes(t);

		offs[i] = t->offset == GB_AUTO ? align_up(next, b->alignment) : t->offset;
		if (t->offset == GB_AUTO)
			next = offs[i] + bytes;
		if (offs[i] + bytes > end && offs[i] < (1ull << 32) && bytes < (1ull << 32))
			end = offs[i] + bytes;
		b->t_off[i] = out.len;
		put_str(&out, t->name);
		put_u32(&out, t->n_dims);
		for (d = 0; d < t->n_dims; d++)
			put_u64(&out, t->dims[d]);
		put_u32(&out, t->type);
		put_u64(&out, offs[i]);
	}
	b->data_off = (size_t)align_up(out.len, b->alignment);
	total = b->n_t ? b->data_off + (size_t)end : out.len;
	*size = total;
	if (meta_only) {
		free(offs);
		return out.p;
	}
	out.p = xrealloc(out.p, total);
	memset(out.p + out.len, 0, total - out.len);
	for (i = 0; i < b->n_t; i++) {
		const struct gb_tensor *t = &b->t[i];

		if (t->data && offs[i] + t->data_len <= end)
			memcpy(out.p + b->data_off + offs[i], t->data, t->data_len);
	}
	free(offs);
	return out.p;
}

uint8_t *gb_build(struct gb *b, size_t *size)
{
	return build(b, size, 0);
}

int gb_write_file_sparse(struct gb *b, const char *path)
{
	size_t size, meta = 0;
	uint8_t *img = build(b, &size, 1);
	FILE *f = fopen(path, "wb");
	int ok;

	meta = b->n_t ? b->data_off : size;
	if (meta > size)
		meta = size;
	ok = f && fwrite(img, 1, meta, f) == meta && !ftruncate(fileno(f), (off_t)size);
	if (f && fclose(f))
		ok = 0;
	free(img);
	return ok ? 0 : -1;
}

size_t gb_kv_offset(const struct gb *b, size_t i)
{
	return b->kv_off[i];
}

size_t gb_tensor_info_offset(const struct gb *b, size_t i)
{
	return b->t_off[i];
}

size_t gb_data_offset(const struct gb *b)
{
	return b->data_off;
}

int gb_write_file(struct gb *b, const char *path)
{
	size_t size;
	uint8_t *img = gb_build(b, &size);
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(img, 1, size, f) == size;

	if (f && fclose(f))
		ok = 0;
	free(img);
	return ok ? 0 : -1;
}

struct gb_model_spec gb_model_spec_tiny(const char *arch)
{
	int qwen3 = !strcmp(arch, "qwen3");
	struct gb_model_spec s = {
		.arch = arch, .n_layer = 2, .n_embd = 64, .n_ff = 128, .n_head = 4,
		.n_head_kv = 2, .head_dim = qwen3 ? 32 : 16, .write_head_dim = qwen3,
		.n_vocab = 320, .n_ctx = 256, .tied = 1, .weight_type = 8 /* q8_0 */,
	};
	return s;
}

/* GPT-2's bytes_to_unicode(): printable bytes stand for themselves, the others
 * for U+0100 upwards, in byte order; written as UTF-8 into @out. */
static void byte_level_char(uint32_t byte, char out[16])
{
	uint32_t cp = byte, n = 0, b;

	if (!((byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174)) {
		for (b = 0; b < byte; b++)
			if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174))
				n++;
		cp = 256 + n;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = '\0';
	} else {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		out[2] = '\0';
	}
}

static void kv_arch(struct gb *b, const char *arch, const char *suffix, uint32_t v)
{
	char key[128];

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	gb_kv_u32(b, key, v);
}

static void kv_arch_f32(struct gb *b, const char *arch, const char *suffix, float v)
{
	char key[128];

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	gb_kv_f32(b, key, v);
}

static void blk(struct gb *b, uint32_t i, const char *what, uint32_t type, uint64_t ne0,
		uint64_t ne1)
{
	char name[64];

	snprintf(name, sizeof(name), "blk.%u.%s", i, what);
	if (ne1)
		gb_tensor_2d(b, name, type, ne0, ne1);
	else
		gb_tensor_1d(b, name, type, ne0);
}

void gb_model(struct gb *b, const struct gb_model_spec *s)
{
	int qwen2 = !strcmp(s->arch, "qwen2"), qwen3 = !strcmp(s->arch, "qwen3");
	uint32_t hd = s->head_dim, q = s->n_head * hd, kv = s->n_head_kv * hd, i;
	const char **tokens = xrealloc(NULL, s->n_vocab * sizeof(*tokens));
	int32_t *types = xrealloc(NULL, s->n_vocab * sizeof(*types));
	char (*text)[16] = xrealloc(NULL, s->n_vocab * sizeof(*text));

	gb_kv_str(b, "general.architecture", s->arch);
	gb_kv_str(b, "general.name", "tiny test model");
	kv_arch(b, s->arch, "block_count", s->n_layer);
	kv_arch(b, s->arch, "context_length", s->n_ctx);
	kv_arch(b, s->arch, "embedding_length", s->n_embd);
	kv_arch(b, s->arch, "feed_forward_length", s->n_ff);
	kv_arch(b, s->arch, "attention.head_count", s->n_head);
	kv_arch(b, s->arch, "attention.head_count_kv", s->n_head_kv);
	if (s->write_head_dim) {
		kv_arch(b, s->arch, "attention.key_length", hd);
		kv_arch(b, s->arch, "attention.value_length", hd);
	}
	kv_arch_f32(b, s->arch, "rope.freq_base", qwen2 || qwen3 ? 1e6f : 5e5f);
	kv_arch_f32(b, s->arch, "attention.layer_norm_rms_epsilon", qwen2 || qwen3 ? 1e-6f : 1e-5f);
	if (s->rope_freqs) {
		char key[128];

		kv_arch(b, s->arch, "rope.dimension_count", hd);
		snprintf(key, sizeof(key), "%s.rope.scaling.type", s->arch);
		gb_kv_str(b, key, "llama3");
	}
	if (s->n_vocab < 256) {
		/* too small for a byte-level vocabulary: a model fed token ids only */
		gb_kv_str(b, "tokenizer.ggml.model", "no_vocab");
	} else {
	gb_kv_str(b, "tokenizer.ggml.model", "gpt2");
		gb_kv_str(b, "tokenizer.ggml.pre", qwen2 || qwen3 ? "qwen2" : "llama-bpe");
		/* a byte-level BPE vocabulary the tokenizer accepts: the 256 byte tokens in
		 * GPT-2's byte-to-unicode form, then "t0", "t1", ... (reachable by one merge) */
		for (i = 0; i < s->n_vocab; i++) {
			if (i < 256)
				byte_level_char(i, text[i]);
			else
				snprintf(text[i], sizeof(text[i]), "t%u", i - 256);
			tokens[i] = text[i];
			types[i] = 1;
		}
		gb_kv_arr_str(b, "tokenizer.ggml.tokens", s->n_vocab, tokens);
		gb_kv_arr_i32(b, "tokenizer.ggml.token_type", s->n_vocab, types);
		gb_kv_arr_str(b, "tokenizer.ggml.merges", 1, (const char *const[]){ "t 0" });
		gb_kv_u32(b, "tokenizer.ggml.eos_token_id", 1);
	}
	if (s->chat_template)
		gb_kv_str(b, "tokenizer.chat_template", s->chat_template);
	free(tokens);
	free(types);
	free(text);

	gb_tensor_2d(b, "token_embd.weight", s->weight_type, s->n_embd, s->n_vocab);
	if (s->rope_freqs)
		gb_tensor_1d(b, "rope_freqs.weight", 0, hd / 2);
	for (i = 0; i < s->n_layer; i++) {
		blk(b, i, "attn_norm.weight", 0, s->n_embd, 0);
		blk(b, i, "attn_q.weight", s->weight_type, s->n_embd, q);
		blk(b, i, "attn_k.weight", s->weight_type, s->n_embd, kv);
		blk(b, i, "attn_v.weight", s->weight_type, s->n_embd, kv);
		if (qwen2) {
			blk(b, i, "attn_q.bias", 0, q, 0);
			blk(b, i, "attn_k.bias", 0, kv, 0);
			blk(b, i, "attn_v.bias", 0, kv, 0);
		}
		if (qwen3) {
			blk(b, i, "attn_q_norm.weight", 0, hd, 0);
			blk(b, i, "attn_k_norm.weight", 0, hd, 0);
		}
		blk(b, i, "attn_output.weight", s->weight_type, q, s->n_embd);
		blk(b, i, "ffn_norm.weight", 0, s->n_embd, 0);
		blk(b, i, "ffn_gate.weight", s->weight_type, s->n_embd, s->n_ff);
		blk(b, i, "ffn_up.weight", s->weight_type, s->n_embd, s->n_ff);
		blk(b, i, "ffn_down.weight", s->weight_type, s->n_ff, s->n_embd);
	}
	gb_tensor_1d(b, "output_norm.weight", 0, s->n_embd);
	if (!s->tied)
		gb_tensor_2d(b, "output.weight", s->weight_type, s->n_embd, s->n_vocab);
}

void gb_model_qwen25_05b_q4_k_m(struct gb *b)
{
	/* layers whose attn_v is q8_0 and ffn_down q6_K (llama.cpp's use_more_bits) */
	static const uint8_t more_bits[24] = {
		[0] = 1, [1] = 1, [2] = 1, [5] = 1, [8] = 1, [11] = 1, [14] = 1, [17] = 1,
		[20] = 1, [21] = 1, [22] = 1, [23] = 1,
	};
	struct gb_model_spec s = {
		.arch = "qwen2", .n_layer = 24, .n_embd = 896, .n_ff = 4864, .n_head = 14,
		.n_head_kv = 2, .head_dim = 64, .n_vocab = 151936, .n_ctx = 32768, .tied = 1,
		.weight_type = 6 /* q5_0 */,
	};
	char name[64];
	uint32_t i;

	gb_model(b, &s);
	gb_tensor_set_type(b, "token_embd.weight", 8);
	for (i = 0; i < 24; i++) {
		snprintf(name, sizeof(name), "blk.%u.attn_v.weight", i);
		gb_tensor_set_type(b, name, more_bits[i] ? 8 : 6);
		snprintf(name, sizeof(name), "blk.%u.ffn_down.weight", i);
		gb_tensor_set_type(b, name, more_bits[i] ? 14 : 12);
	}
}
