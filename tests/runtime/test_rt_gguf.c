/* SPDX-License-Identifier: MIT */
/*
 * The GGUF reader on images built by lib_gguf_build: every value type, nested
 * arrays, alignment, v2/v3, and every check with the message it gives; then
 * mutation runs (every truncation, single-byte flips) that must never crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "anpurt.h"
#include "lib_gguf_build.h"
#include "model/gguf.h"

static struct gb *small_valid(void)
{
	struct gb *b = gb_new();

	gb_kv_str(b, "general.architecture", "qwen2");
	gb_kv_u32(b, "qwen2.block_count", 2);
	gb_kv_arr_str(b, "tokenizer.ggml.tokens", 3, (const char *const[]){ "a", "bc", "" });
	gb_tensor_2d(b, "token_embd.weight", 8, 32, 3);
	gb_tensor_1d(b, "output_norm.weight", 0, 32);
	return b;
}

/* Build, parse, expect failure @err with @want in the message. */
static void expect_error(struct gb *b, int err, const char *want)
{
	struct gguf_file *g = NULL;
	size_t size;
	uint8_t *img = gb_build(b, &size);
	int ret = gguf_parse(img, size, &g);

	if (ret != err || !strstr(anpurt_last_error(), want))
		fail_msg("got %d \"%s\", want %d with \"%s\"", ret, anpurt_last_error(), err, want);
	assert_null(g);
	free(img);
	gb_free(b);
}

static char want_buf[256];

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(want_buf, sizeof(want_buf), f, ap);
	va_end(ap);
	return want_buf;
}

static void test_every_value_type(void **state)
{
	struct gb *b = gb_new();
	struct gguf_file *g;
	struct gguf_array arr;
	struct rt_str s, strs[3];
	uint64_t u;
	double f;
	int bv;
	size_t size;
	uint8_t *img, nested[64], *p = nested;
	int8_t i8 = -5;
	int16_t i16 = -300;
	uint16_t u16 = 65000;
	int64_t i64 = -1;

	(void)state;
	gb_kv_u8(b, "t.u8", 200);
	gb_kv_raw(b, "t.i8", GGUF_I8, &i8, 1);
	gb_kv_raw(b, "t.u16", GGUF_U16, &u16, 2);
	gb_kv_raw(b, "t.i16", GGUF_I16, &i16, 2);
	gb_kv_u32(b, "t.u32", 4000000000u);
	gb_kv_i32(b, "t.i32", 7);
	gb_kv_f32(b, "t.f32", 0.5f);
	gb_kv_bool(b, "t.bool", 1);
	gb_kv_str(b, "t.str", "héllo");
	gb_kv_u64(b, "t.u64", 1ull << 40);
	gb_kv_raw(b, "t.i64", GGUF_I64, &i64, 8);
	gb_kv_f64(b, "t.f64", 1e-300);
	gb_kv_arr_i32(b, "t.ai32", 3, (const int32_t[]){ 1, -2, 3 });
	gb_kv_arr_f32(b, "t.af32", 2, (const float[]){ 1.5f, -2.0f });
	gb_kv_arr_str(b, "t.astr", 3, (const char *const[]){ "x", "", "yz" });
	/* array of 2 arrays: [[u8 1, u8 2], [string "q"]] */
	memcpy(p, &(uint32_t){ GGUF_ARRAY }, 4); p += 4;
	memcpy(p, &(uint64_t){ 2 }, 8); p += 8;
	memcpy(p, &(uint32_t){ GGUF_U8 }, 4); p += 4;
	memcpy(p, &(uint64_t){ 2 }, 8); p += 8;
	*p++ = 1;
	*p++ = 2;
	memcpy(p, &(uint32_t){ GGUF_STRING }, 4); p += 4;
	memcpy(p, &(uint64_t){ 1 }, 8); p += 8;
	memcpy(p, &(uint64_t){ 1 }, 8); p += 8;
	*p++ = 'q';
	gb_kv_raw(b, "t.nested", GGUF_ARRAY, nested, (size_t)(p - nested));
	gb_kv_arr_str(b, "t.empty", 0, NULL);
	img = gb_build(b, &size);
	assert_int_equal(gguf_parse(img, size, &g), 0);
	assert_int_equal(g->n_kv, 17);
	assert_int_equal(g->n_tensors, 0);
	assert_int_equal(g->version, 3);
	assert_int_equal(g->alignment, 32);
	assert_int_equal(gguf_get_uint(g, "t.u8", &u), 1);
	assert_int_equal(u, 200);
	assert_int_equal(gguf_find_kv(g, "t.i8")->v.i, -5);
	assert_int_equal(gguf_find_kv(g, "t.u16")->v.u, 65000);
	assert_int_equal(gguf_find_kv(g, "t.i16")->v.i, -300);
	assert_int_equal(gguf_get_uint(g, "t.u32", &u), 1);
	assert_int_equal(u, 4000000000u);
	assert_int_equal(gguf_get_uint(g, "t.i32", &u), 1);
	assert_int_equal(u, 7);
	assert_int_equal(gguf_get_float(g, "t.f32", &f), 1);
	assert_true(f == 0.5);
	assert_int_equal(gguf_get_bool(g, "t.bool", &bv), 1);
	assert_int_equal(bv, 1);
	assert_int_equal(gguf_get_str(g, "t.str", &s), 1);
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.ptr, "héllo", 6);
	assert_int_equal(gguf_get_uint(g, "t.u64", &u), 1);
	assert_int_equal(u, 1ull << 40);
	assert_int_equal(gguf_get_uint(g, "t.i64", &u), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "t.i64 is -1 (must not be negative)"));
	assert_int_equal(gguf_get_float(g, "t.f64", &f), 1);
	assert_true(f == 1e-300);
	assert_int_equal(gguf_get_array(g, "t.ai32", GGUF_I32, &arr), 1);
	assert_int_equal(arr.n, 3);
	assert_int_equal(gguf_array_i32(g, &arr, 1), -2);
	assert_int_equal(gguf_get_array(g, "t.af32", GGUF_F32, &arr), 1);
	assert_true(gguf_array_f32(g, &arr, 0) == 1.5f);
	assert_int_equal(gguf_get_array(g, "t.astr", GGUF_STRING, &arr), 1);
	gguf_array_strings(g, &arr, strs);
	assert_int_equal(strs[0].len, 1);
	assert_int_equal(strs[1].len, 0);
	assert_memory_equal(strs[2].ptr, "yz", 2);
	assert_int_equal(gguf_get_array(g, "t.nested", GGUF_ARRAY, &arr), 1);
	assert_int_equal(arr.n, 2);
	assert_int_equal(gguf_get_array(g, "t.empty", GGUF_STRING, &arr), 1);
	assert_int_equal(arr.n, 0);
	/* absent keys and wrong types */
	assert_int_equal(gguf_get_uint(g, "t.none", &u), 0);
	assert_int_equal(gguf_get_uint(g, "t.str", &u), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), fmt("offset %zu: t.str has type string (must be"
							 " an integer)", gb_kv_offset(b, 8))));
	assert_int_equal(gguf_get_array(g, "t.ai32", GGUF_STRING, &arr), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "t.ai32 is an array of i32 (must be an array of string)"));
	assert_int_equal(gguf_get_float(g, "t.u8", &f), -EINVAL);
	assert_int_equal(gguf_get_bool(g, "t.u8", &bv), -EINVAL);
	gguf_close(g);
	free(img);
	gb_free(b);
}

static void test_valid_tensors_and_lookup(void **state)
{
	struct gb *b = small_valid();
	const struct gguf_tensor *t;
	struct gguf_file *g;
	size_t size;
	uint8_t *img = gb_build(b, &size);

	(void)state;
	assert_int_equal(gguf_parse(img, size, &g), 0);
	assert_int_equal(g->n_tensors, 2);
	assert_int_equal(g->data_offset, gb_data_offset(b));
	t = gguf_find_tensor(g, "token_embd.weight");
	assert_non_null(t);
	assert_int_equal(t->n_dims, 2);
	assert_int_equal(t->ne[0], 32);
	assert_int_equal(t->ne[1], 3);
	assert_int_equal(t->ne[2], 1);
	assert_int_equal(t->nbytes, 3 * 34);
	assert_int_equal(t->n_elements, 96);
	assert_int_equal(t->offset, gb_data_offset(b));
	assert_ptr_equal(t->data, img + t->offset);
	t = gguf_find_tensor(g, "output_norm.weight");
	assert_non_null(t);
	assert_int_equal(t->offset, gb_data_offset(b) + 128);	/* 102 bytes, aligned to 32 */
	assert_null(gguf_find_tensor(g, "output.weight"));
	assert_null(gguf_find_tensor(g, "token_embd.weigh"));
	gguf_close(g);
	free(img);
	gb_free(b);
}

static void test_version_2_and_alignment(void **state)
{
	struct gb *b = small_valid();
	struct gguf_file *g;
	size_t size;
	uint8_t *img;

	(void)state;
	gb_set_version(b, 2);
	gb_kv_u32(b, "general.alignment", 64);
	gb_set_layout_alignment(b, 64);
	img = gb_build(b, &size);
	assert_int_equal(gguf_parse(img, size, &g), 0);
	assert_int_equal(g->version, 2);
	assert_int_equal(g->alignment, 64);
	assert_int_equal(g->data_offset % 64, 0);
	assert_int_equal(gguf_find_tensor(g, "output_norm.weight")->offset - g->data_offset, 128);
	gguf_close(g);
	free(img);
	gb_free(b);
}

static void test_header_errors(void **state)
{
	struct gb *b;
	uint8_t img[24] = "GGUF";
	struct gguf_file *g;

	(void)state;
	assert_int_equal(gguf_parse("GGU", 3, &g), -EINVAL);
	assert_string_equal(anpurt_last_error(), "offset 0: not a GGUF file: 3 bytes, shorter than the header");
	assert_int_equal(gguf_parse("GGML\3\0\0\0", 8, &g), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "offset 0: not a GGUF file (magic 47 47 4d 4c"));
	assert_int_equal(gguf_parse(img, 6, &g), -EINVAL);
	assert_string_equal(anpurt_last_error(), "offset 4: the version needs 4 bytes but the file ends 2 bytes later");
	img[4] = 3;
	assert_int_equal(gguf_parse(img, 20, &g), -EINVAL);
	assert_string_equal(anpurt_last_error(), "offset 16: the KV count needs 8 bytes but the file ends 4 bytes later");

	b = small_valid();
	gb_set_version(b, 1);
	expect_error(b, -EINVAL, "offset 4: GGUF version 1 is not supported (versions 2 and 3 are)");
	b = small_valid();
	gb_set_version(b, 3u << 24);
	expect_error(b, -EINVAL, "offset 4: big-endian GGUF files are not supported");
	b = small_valid();
	gb_set_counts(b, 2, 1000000);
	expect_error(b, -EINVAL, "offset 16: KV count 1000000 cannot fit in the");
	b = small_valid();
	gb_set_counts(b, 1ull << 62, 3);
	expect_error(b, -EINVAL, "offset 8: tensor count 4611686018427387904 cannot fit in the");
	/* a count that fits the file's size but not its content */
	b = small_valid();
	gb_set_counts(b, 3, 3);
	expect_error(b, -EINVAL, "tensor 2: name length 0 (must be 1 to 63)");
}

static void test_kv_errors(void **state)
{
	struct gb *b;
	uint8_t two = 2, arr[16];
	uint32_t bad = 13;
	size_t at;

	(void)state;
	b = small_valid();
	gb_kv_raw(b, "x.bad", 13, &bad, 4);
	expect_error(b, -EINVAL, "KV 'x.bad': unknown value type 13");

	b = small_valid();
	gb_kv_raw(b, "x.bool", GGUF_BOOL, &two, 1);
	expect_error(b, -EINVAL, "KV 'x.bool': bool value is 2 (must be 0 or 1)");

	b = small_valid();
	gb_kv_raw(b, "", GGUF_U8, &two, 1);
	free(gb_build(b, &at));
	at = gb_kv_offset(b, 3);
	expect_error(b, -EINVAL, fmt("offset %zu: KV 3 has an empty key", at));

	/* a string length past the end */
	b = small_valid();
	gb_kv_raw(b, "x.str", GGUF_STRING, &(uint64_t){ 1ull << 40 }, 8);
	free(gb_build(b, &at));
	at = gb_kv_offset(b, 3) + 8 + 5 + 4;
	expect_error(b, -EINVAL, fmt("offset %zu: KV 'x.str': string length 1099511627776 exceeds", at));

	/* an array count past the end */
	b = small_valid();
	memcpy(arr, &(uint32_t){ GGUF_U32 }, 4);
	memcpy(arr + 4, &(uint64_t){ 1ull << 61 }, 8);
	gb_kv_raw(b, "x.arr", GGUF_ARRAY, arr, 12);
	expect_error(b, -EINVAL, "KV 'x.arr': 2305843009213693952 u32 elements cannot fit in the");

	/* array element type invalid; bool array element not 0/1 */
	b = small_valid();
	memcpy(arr, &(uint32_t){ 99 }, 4);
	memcpy(arr + 4, &(uint64_t){ 0 }, 8);
	gb_kv_raw(b, "x.arr", GGUF_ARRAY, arr, 12);
	expect_error(b, -EINVAL, "KV 'x.arr': unknown value type 99");
	b = small_valid();
	memcpy(arr, &(uint32_t){ GGUF_BOOL }, 4);
	memcpy(arr + 4, &(uint64_t){ 2 }, 8);
	arr[12] = 1;
	arr[13] = 7;
	gb_kv_raw(b, "x.arr", GGUF_ARRAY, arr, 14);
	expect_error(b, -EINVAL, "KV 'x.arr': bool element 1 is 7 (must be 0 or 1)");

	/* duplicate keys */
	b = small_valid();
	gb_kv_u32(b, "qwen2.block_count", 3);
	free(gb_build(b, &at));
	expect_error(b, -EINVAL, fmt("offset %zu: duplicate key 'qwen2.block_count' (first at offset %zu)",
				     gb_kv_offset(b, 3), gb_kv_offset(b, 1)));
}

static void test_nested_array_depth(void **state)
{
	uint8_t buf[12 * 10], *p = buf;
	struct gb *b;
	int d;

	(void)state;
	/* 8 levels of single-element arrays holding an empty u8 array: accepted */
	for (d = 0; d < 7; d++, p += 12) {
		memcpy(p, &(uint32_t){ GGUF_ARRAY }, 4);
		memcpy(p + 4, &(uint64_t){ 1 }, 8);
	}
	memcpy(p, &(uint32_t){ GGUF_U8 }, 4);
	memcpy(p + 4, &(uint64_t){ 0 }, 8);
	p += 12;
	b = small_valid();
	gb_kv_raw(b, "x.deep", GGUF_ARRAY, buf, (size_t)(p - buf));
	{
		struct gguf_file *g;
		size_t size;
		uint8_t *img = gb_build(b, &size);

		assert_int_equal(gguf_parse(img, size, &g), 0);
		gguf_close(g);
		free(img);
		gb_free(b);
	}
	/* one level more: refused */
	memmove(buf + 12, buf, (size_t)(p - buf));
	memcpy(buf, &(uint32_t){ GGUF_ARRAY }, 4);
	memcpy(buf + 4, &(uint64_t){ 1 }, 8);
	b = small_valid();
	gb_kv_raw(b, "x.deep", GGUF_ARRAY, buf, (size_t)(p - buf) + 12);
	expect_error(b, -EINVAL, "KV 'x.deep': arrays nested deeper than 8");
}

static void test_alignment_errors(void **state)
{
	struct gb *b;
	size_t at;

	(void)state;
	b = small_valid();
	gb_kv_u32(b, "general.alignment", 48);
	free(gb_build(b, &at));
	expect_error(b, -EINVAL, fmt("offset %zu: general.alignment 48 is not a power of two",
				     gb_kv_offset(b, 3)));
	b = small_valid();
	gb_kv_u32(b, "general.alignment", 0);
	expect_error(b, -EINVAL, "general.alignment 0 is not a power of two");
	b = small_valid();
	gb_kv_u64(b, "general.alignment", 64);
	expect_error(b, -EINVAL, "general.alignment has type u64 (must be u32)");
	/* file laid out at 32 but declaring 64: the second tensor's offset 128 is fine,
	 * but a tensor at 96 is not */
	b = small_valid();
	gb_kv_u32(b, "general.alignment", 64);
	gb_tensor(b, "x", 0, 1, (const uint64_t[]){ 8 }, 96 + 128);
	free(gb_build(b, &at));
	at = gb_tensor_info_offset(b, 2);
	expect_error(b, -EINVAL, fmt("offset %zu: tensor 'x': data offset 224 is not a multiple of the alignment 64", at));
}

static void add_tensor_expect(uint32_t n_dims, const uint64_t *dims, uint32_t type,
			      uint64_t offset, int err, const char *want_fmt)
{
	struct gb *b = small_valid();
	char want[256];
	size_t at;

	gb_tensor(b, "blk.0.x", type, n_dims, dims, offset);
	free(gb_build(b, &at));
	at = gb_tensor_info_offset(b, 2);
	snprintf(want, sizeof(want), want_fmt, at);
	expect_error(b, err, want);
}

static void test_tensor_info_errors(void **state)
{
	(void)state;
	add_tensor_expect(0, NULL, 0, GB_AUTO, -EINVAL, "tensor 'blk.0.x': 0 dimensions (must be 1 to 4)");
	add_tensor_expect(5, (const uint64_t[]){ 1, 1, 1, 1, 1 }, 0, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': 5 dimensions (must be 1 to 4)");
	add_tensor_expect(2, (const uint64_t[]){ 4, 0 }, 0, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': dimension 1 is 0 (must be at least 1)");
	add_tensor_expect(2, (const uint64_t[]){ 4, UINT64_MAX }, 0, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': dimension 1 is -1 (must be at least 1)");
	add_tensor_expect(3, (const uint64_t[]){ 1ull << 32, 1ull << 31, 4 }, 0, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': the element count overflows 63 bits");
	add_tensor_expect(1, (const uint64_t[]){ 1ull << 62 }, 0, 0, -EINVAL,
			  "tensor 'blk.0.x': the byte size overflows 64 bits");
	add_tensor_expect(1, (const uint64_t[]){ 32 }, 77, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': unknown ggml type 77");
	add_tensor_expect(1, (const uint64_t[]){ 32 }, 4, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': unknown ggml type 4");
	add_tensor_expect(1, (const uint64_t[]){ 256 }, 17, GB_AUTO, -ENOTSUP,
			  "tensor 'blk.0.x' has type iq2_xs, which the runtime does not read");
	add_tensor_expect(1, (const uint64_t[]){ 256 }, 10, GB_AUTO, -ENOTSUP,
			  "tensor 'blk.0.x' has type q2_K, which the runtime does not read");
	add_tensor_expect(2, (const uint64_t[]){ 896, 2 }, 12, GB_AUTO, -EINVAL,
			  "offset %zu: tensor 'blk.0.x': row length 896 is not a multiple of the q4_K block size 256");
	add_tensor_expect(1, (const uint64_t[]){ 40 }, 2, GB_AUTO, -EINVAL,
			  "tensor 'blk.0.x': row length 40 is not a multiple of the q4_0 block size 32");
	add_tensor_expect(1, (const uint64_t[]){ 8 }, 0, 40, -EINVAL,
			  "offset %zu: tensor 'blk.0.x': data offset 40 is not a multiple of the alignment 32");
	add_tensor_expect(1, (const uint64_t[]){ 8 }, 0, 1ull << 40, -EINVAL,
			  "offset %zu: tensor 'blk.0.x': data at 1099511627776..+32 lies past the end of the data section");
	/* overlapping the first tensor (which is at 0..102) */
	add_tensor_expect(1, (const uint64_t[]){ 8 }, 0, 96, -EINVAL,
			  "offset %zu: tensor 'blk.0.x': data overlaps tensor 'token_embd.weight'");
}

static void test_tensor_name_errors(void **state)
{
	char longname[80];
	struct gb *b;
	size_t at;

	(void)state;
	b = small_valid();
	gb_tensor_1d(b, "token_embd.weight", 0, 8);
	free(gb_build(b, &at));
	expect_error(b, -EINVAL, fmt("offset %zu: tensor 'token_embd.weight': duplicate tensor name"
				     " (first at offset %zu)", gb_tensor_info_offset(b, 2),
				     gb_tensor_info_offset(b, 0)));
	b = small_valid();
	gb_tensor_1d(b, "", 0, 8);
	expect_error(b, -EINVAL, "tensor 2: name length 0 (must be 1 to 63)");
	memset(longname, 'n', 64);
	longname[64] = '\0';
	b = small_valid();
	gb_tensor_1d(b, longname, 0, 8);
	expect_error(b, -EINVAL, "tensor 2: name length 64 (must be 1 to 63)");
}

static void test_data_section_past_end(void **state)
{
	struct gb *b = small_valid();
	struct gguf_file *g;
	size_t size, cut;
	uint8_t *img = gb_build(b, &size);

	(void)state;
	/* cut inside the padding before the data section */
	cut = gb_tensor_info_offset(b, 1) + 8 + 18 + 4 + 8 + 4 + 8;
	assert_true(cut < gb_data_offset(b));
	assert_int_equal(gguf_parse(img, cut + 1, &g), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), fmt("offset %zu: the data section would start at %zu,"
							 " past the end of the file", cut,
							 gb_data_offset(b))));
	/* cut inside the last tensor's data */
	assert_int_equal(gguf_parse(img, size - 1, &g), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "tensor 'output_norm.weight': data at 128..+128 lies past the end of the data section (255 bytes)"));
	free(img);
	gb_free(b);
}

static void test_open_file(void **state)
{
	char path[] = "/tmp/test_rt_gguf.XXXXXX";
	struct gguf_file *g;
	struct gb *b = small_valid();
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gguf_open(path, &g), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "not a GGUF file (empty)"));
	assert_int_equal(gb_write_file(b, path), 0);
	assert_int_equal(gguf_open(path, &g), 0);
	assert_int_equal(g->n_tensors, 2);
	assert_int_equal(g->mapped, 1);
	gguf_close(g);
	gb_set_version(b, 9);
	assert_int_equal(gb_write_file(b, path), 0);
	assert_int_equal(gguf_open(path, &g), -EINVAL);
	assert_string_equal(anpurt_last_error(), fmt("%s: offset 4: GGUF version 9 is not supported"
						     " (versions 2 and 3 are)", path));
	unlink(path);
	assert_int_equal(gguf_open(path, &g), -ENOENT);
	assert_non_null(strstr(anpurt_last_error(), path));
	gb_free(b);
}

/* Parse a copy of exactly @size bytes (so ASan sees any read past the end). */
static int parse_copy(const uint8_t *img, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct gguf_file *g;
	int ret;

	assert_non_null(copy);
	memcpy(copy, img, size);
	ret = gguf_parse(copy, size, &g);
	if (ret == 0)
		gguf_close(g);
	else
		assert_true(anpurt_last_error()[0] != '\0');
	free(copy);
	return ret;
}

static struct gb *mutation_base(void)
{
	struct gb *b = small_valid();

	gb_kv_arr_i32(b, "tokenizer.ggml.token_type", 3, (const int32_t[]){ 1, 1, 3 });
	gb_kv_f32(b, "qwen2.rope.freq_base", 1e6f);
	gb_kv_bool(b, "tokenizer.ggml.add_bos_token", 0);
	return b;
}

static void test_mutation_truncated_everywhere(void **state)
{
	struct gb *b = mutation_base();
	size_t size, cut;
	uint8_t *img = gb_build(b, &size);

	(void)state;
	assert_int_equal(parse_copy(img, size), 0);
	for (cut = 0; cut < size; cut++)
		assert_int_not_equal(parse_copy(img, cut), 0);
	free(img);
	gb_free(b);
}

static void test_mutation_single_byte_flips(void **state)
{
	static const uint8_t xors[] = { 0x01, 0x80, 0xff, 0x7f, 0x10 };
	struct gb *b = mutation_base();
	size_t size, at, x, ok = 0, bad = 0;
	uint8_t *img = gb_build(b, &size);

	(void)state;
	/* the tensor data itself is opaque bytes: flip the metadata */
	for (at = 0; at < gb_data_offset(b); at++) {
		for (x = 0; x < sizeof(xors); x++) {
			img[at] ^= xors[x];
			if (parse_copy(img, size) == 0)
				ok++;
			else
				bad++;
			img[at] ^= xors[x];
		}
	}
	/* both outcomes occur: flips in string bytes parse, flips in lengths do not */
	assert_true(ok > 0);
	assert_true(bad > 0);
	free(img);
	gb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_value_type),
		cmocka_unit_test(test_valid_tensors_and_lookup),
		cmocka_unit_test(test_version_2_and_alignment),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_kv_errors),
		cmocka_unit_test(test_nested_array_depth),
		cmocka_unit_test(test_alignment_errors),
		cmocka_unit_test(test_tensor_info_errors),
		cmocka_unit_test(test_tensor_name_errors),
		cmocka_unit_test(test_data_section_past_end),
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_mutation_truncated_everywhere),
		cmocka_unit_test(test_mutation_single_byte_flips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
