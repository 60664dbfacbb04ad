/* SPDX-License-Identifier: MIT */
#include "common/rt_hash.h"

uint64_t rt_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
