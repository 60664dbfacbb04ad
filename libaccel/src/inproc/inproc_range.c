// SPDX-License-Identifier: MIT
/*
 * Range allocator: a sorted array of free ranges, first fit with alignment,
 * frees coalesce with both neighbours. Used for device memory (DPAs) and for
 * each address space's NPU virtual addresses. Not locked: callers hold the
 * lock of what they allocate.
 */
#include "inproc_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct inproc_ranges *r, size_t n)
{
	struct inproc_range *v;
	size_t cap;

	if (n <= r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	v = realloc(r->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->v = v;
	r->cap = cap;
	return 0;
}

int inproc_ranges_init(struct inproc_ranges *r, uint64_t start, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	if (reserve(r, 16))
		return -ENOMEM;
	r->v[0] = (struct inproc_range){ start, size };
	r->n = 1;
	return 0;
}

void inproc_ranges_fini(struct inproc_ranges *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void insert_at(struct inproc_ranges *r, size_t i, struct inproc_range x)
{
	memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(*r->v));
	r->v[i] = x;
	r->n++;
}

static void remove_at(struct inproc_ranges *r, size_t i)
{
	memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
	r->n--;
}

int inproc_ranges_alloc(struct inproc_ranges *r, uint64_t size, uint64_t align, uint64_t *out)
{
	if (!size || reserve(r, r->n + 1))
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t s = r->v[i].start, end = s + r->v[i].size;
		uint64_t a = (s + align - 1) & ~(align - 1);

		if (a < s || a > end || end - a < size)
			continue;
		/* split [s, end) into [s, a) (left) and [a + size, end) (right) */
		if (a + size < end) {
			struct inproc_range right = { a + size, end - a - size };

			if (a > s) {
				r->v[i].size = a - s;
				insert_at(r, i + 1, right);
			} else {
				r->v[i] = right;
			}
		} else if (a > s) {
			r->v[i].size = a - s;
		} else {
			remove_at(r, i);
		}
		*out = a;
		return 0;
	}
	return -ENOMEM;
}

int inproc_ranges_free(struct inproc_ranges *r, uint64_t start, uint64_t size)
{
	size_t i = 0;

	if (reserve(r, r->n + 1))
		return -ENOMEM;
	while (i < r->n && r->v[i].start < start)
		i++;
	/* merge with the left neighbour, the right one, or both */
	if (i > 0 && r->v[i - 1].start + r->v[i - 1].size == start) {
		r->v[i - 1].size += size;
		if (i < r->n && start + size == r->v[i].start) {
			r->v[i - 1].size += r->v[i].size;
			remove_at(r, i);
		}
		return 0;
	}
	if (i < r->n && start + size == r->v[i].start) {
		r->v[i].start = start;
		r->v[i].size += size;
		return 0;
	}
	insert_at(r, i, (struct inproc_range){ start, size });
	return 0;
}

uint64_t inproc_ranges_free_bytes(const struct inproc_ranges *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].size;
	return n;
}
