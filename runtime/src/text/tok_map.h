/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer's two hash maps (open addressing, linear probing, built once
 * and then only read): byte strings -> token id, and token-id pairs -> merge.
 */
#ifndef TOK_MAP_H
#define TOK_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

uint64_t tok_hash_bytes(const char *s, size_t len);

/*
 * @a and @b hold the same @len bytes. Keys are short: up to 16 bytes are two
 * overlapping word compares each side instead of a call into memcmp, which
 * was a tenth of a tokenizer build (~600k compares).
 */
static inline bool tok_bytes_equal(const char *a, const char *b, size_t len)
{
	uint64_t a0, a1, b0, b1;
	uint32_t c0, c1, d0, d1;

	if (len >= 8 && len <= 16) {
		memcpy(&a0, a, 8);
		memcpy(&b0, b, 8);
		memcpy(&a1, a + len - 8, 8);
		memcpy(&b1, b + len - 8, 8);
		return !((a0 ^ b0) | (a1 ^ b1));
	}
	if (len >= 4 && len < 8) {
		memcpy(&c0, a, 4);
		memcpy(&d0, b, 4);
		memcpy(&c1, a + len - 4, 4);
		memcpy(&d1, b + len - 4, 4);
		return !((c0 ^ d0) | (c1 ^ d1));
	}
	if (len < 4) {
		for (size_t i = 0; i < len; i++)
			if (a[i] != b[i])
				return false;
		return true;
	}
	return !memcmp(a, b, len);
}

/*
 * Byte strings -> id. The strings live outside the map, back to back in one
 * buffer with offsets (string id = base + off[id], off[id + 1] - off[id] - sep
 * bytes, sep = 1 where each is NUL-terminated); a slot keeps the id and the
 * string's hash.
 */
struct tok_str_map {
	uint64_t *slot;		/* hash high 32 bits << 32 | (id + 1); 0 = empty */
	size_t mask;
	uint32_t sep;
};

int tok_str_map_init(struct tok_str_map *map, size_t n_keys, uint32_t sep);
void tok_str_map_free(struct tok_str_map *map);
/* Insert @id; returns -1 when added, or the id already holding the same string. */
int32_t tok_str_map_add(struct tok_str_map *map, const char *base, const uint32_t *off, int32_t id);
/* The id of the string @s, or -1. */
int32_t tok_str_map_find(const struct tok_str_map *map, const char *base, const uint32_t *off,
			 const char *s, size_t len);
/*
 * The same with the string's tok_hash_bytes() @h computed by the caller, who
 * can then tok_str_map_prefetch() its slot some keys ahead: building the maps
 * of a 150k-token vocabulary is bound by cache misses on the slots.
 */
int32_t tok_str_map_add_hashed(struct tok_str_map *map, const char *base, const uint32_t *off,
			       int32_t id, uint64_t h);
int32_t tok_str_map_find_hashed(const struct tok_str_map *map, const char *base,
				const uint32_t *off, const char *s, size_t len, uint64_t h);

static inline void tok_str_map_prefetch(const struct tok_str_map *map, uint64_t h)
{
	__builtin_prefetch(&map->slot[(size_t)h & map->mask]);
}

struct tok_merge {
	uint64_t key;		/* left id << 32 | right id; UINT64_MAX = empty */
	int32_t rank;		/* the merge's line in the merges list: lower merges first */
	int32_t id;		/* the merged token */
};

struct tok_pair_map {
	struct tok_merge *slot;
	size_t mask;
};

int tok_pair_map_init(struct tok_pair_map *map, size_t n_keys);
void tok_pair_map_free(struct tok_pair_map *map);
/* Insert unless present (the first, lowest-ranked merge of a pair wins); 1 if added. */
int tok_pair_map_add(struct tok_pair_map *map, int32_t left, int32_t right, int32_t rank, int32_t id);

static inline void tok_pair_map_prefetch(const struct tok_pair_map *map, int32_t left, int32_t right)
{
	uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;

	__builtin_prefetch(&map->slot[(size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & map->mask]);
}

static inline const struct tok_merge *tok_pair_map_find(const struct tok_pair_map *map,
							int32_t left, int32_t right)
{
	uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & map->mask;

	for (;; i = (i + 1) & map->mask) {
		const struct tok_merge *m = &map->slot[i];

		if (m->key == key)
			return m;
		if (m->key == UINT64_MAX)
			return NULL;
	}
}

#endif
