/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok_map.h"

/*
 * Small keys (token texts, pre-tokens: mostly under 16 bytes): 8 bytes per
 * step. The last 1-7 bytes are read as two overlapping loads, not copied into
 * a zeroed word: byte stores then a word load missed store forwarding and
 * stalled every hash (a sixth of a tokenizer build). The length is mixed in,
 * so the overlap loses nothing.
 */
static uint64_t tail_word(const char *s, size_t len)
{
	uint32_t a, b;

	if (len >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		return (uint64_t)a | (uint64_t)b << 32;
	}
	if (!len)
		return 0;
	return (uint64_t)(uint8_t)s[0] | (uint64_t)(uint8_t)s[len / 2] << 8 |
	       (uint64_t)(uint8_t)s[len - 1] << 16;
}

uint64_t tok_hash_bytes(const char *s, size_t len)
{
	const uint64_t k = 0x9E3779B97F4A7C15ull;
	uint64_t h = 0xcbf29ce484222325ull ^ (len * k);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	h = (h ^ tail_word(s, len)) * k;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

/*
 * A map's slot table, written (not calloc'd): calloc's fresh pages are the
 * shared zero page until written, so each first insert into a page, after
 * the probe had read it, took a copy-on-write fault and a TLB flush of the
 * other threads' cores (7% of a 150k-token tokenizer build). (Huge pages
 * for the 2-4 MiB tables were faster in a loop of loads but made the
 * benchmark's one load per process 46-68 ms instead of 23.)
 */
static void *table_alloc(size_t bytes, int fill)
{
	void *p = malloc(bytes);

	if (!p)
		return NULL;
	__asm__("" : "+r"(p));	/* else gcc makes malloc + memset a calloc */
	memset(p, fill, bytes);
	return p;
}

static size_t table_size(size_t n_keys)
{
	size_t size = 64;

	while (size * 7 < n_keys * 10)	/* load factor at most 0.7 */
		size *= 2;
	return size;
}

int tok_str_map_init(struct tok_str_map *map, size_t n_keys, uint32_t sep)
{
	size_t size = table_size(n_keys);

	map->slot = table_alloc(size * sizeof(*map->slot), 0);	/* 0: empty */
	if (!map->slot)
		return -ENOMEM;
	map->mask = size - 1;
	map->sep = sep;
	return 0;
}

void tok_str_map_free(struct tok_str_map *map)
{
	free(map->slot);
	map->slot = NULL;
}

static int32_t str_map_probe(const struct tok_str_map *map, const char *base, const uint32_t *off,
			     const char *s, size_t len, uint64_t h, size_t *free_slot)
{
	uint64_t tag = h & 0xffffffff00000000ull;
	size_t i = (size_t)h & map->mask;

	for (;; i = (i + 1) & map->mask) {
		uint64_t v = map->slot[i];
		int32_t id;

		if (!v) {
			*free_slot = i;
			return -1;
		}
		if ((v & 0xffffffff00000000ull) != tag)
			continue;
		id = (int32_t)(uint32_t)v - 1;
		if (off[id + 1] - off[id] - map->sep == len && tok_bytes_equal(base + off[id], s, len))
			return id;
	}
}

int32_t tok_str_map_add_hashed(struct tok_str_map *map, const char *base, const uint32_t *off,
			       int32_t id, uint64_t h)
{
	const char *s = base + off[id];
	size_t len = off[id + 1] - off[id] - map->sep;
	size_t i;
	int32_t old = str_map_probe(map, base, off, s, len, h, &i);

	if (old >= 0)
		return old;
	map->slot[i] = (h & 0xffffffff00000000ull) | ((uint64_t)id + 1);
	return -1;
}

int32_t tok_str_map_add(struct tok_str_map *map, const char *base, const uint32_t *off, int32_t id)
{
	return tok_str_map_add_hashed(map, base, off, id,
				      tok_hash_bytes(base + off[id], off[id + 1] - off[id] - map->sep));
}

int32_t tok_str_map_find_hashed(const struct tok_str_map *map, const char *base,
				const uint32_t *off, const char *s, size_t len, uint64_t h)
{
	size_t unused;

	return str_map_probe(map, base, off, s, len, h, &unused);
}

int32_t tok_str_map_find(const struct tok_str_map *map, const char *base, const uint32_t *off,
			 const char *s, size_t len)
{
	return tok_str_map_find_hashed(map, base, off, s, len, tok_hash_bytes(s, len));
}

int tok_pair_map_init(struct tok_pair_map *map, size_t n_keys)
{
	size_t size = table_size(n_keys);

	map->slot = table_alloc(size * sizeof(*map->slot), 0xff);	/* key UINT64_MAX: empty */
	if (!map->slot)
		return -ENOMEM;
	map->mask = size - 1;
	return 0;
}

void tok_pair_map_free(struct tok_pair_map *map)
{
	free(map->slot);
	map->slot = NULL;
}

int tok_pair_map_add(struct tok_pair_map *map, int32_t left, int32_t right, int32_t rank, int32_t id)
{
	uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		struct tok_merge *m = &map->slot[i];

		if (m->key == key)
			return 0;
		if (m->key == UINT64_MAX) {
			*m = (struct tok_merge){ .key = key, .rank = rank, .id = id };
			return 1;
		}
	}
}
