/* SPDX-License-Identifier: MIT */
/* The ggml tensor types a GGUF file may name: ids, names, block layout. */
#ifndef GGML_TYPES_H
#define GGML_TYPES_H

#include <stdbool.h>
#include <stdint.h>

enum ggml_type_id {
	GGML_F32	= 0,
	GGML_F16	= 1,
	GGML_Q4_0	= 2,
	GGML_Q4_1	= 3,
	GGML_Q5_0	= 6,
	GGML_Q5_1	= 7,
	GGML_Q8_0	= 8,
	GGML_Q4_K	= 12,
	GGML_Q5_K	= 13,
	GGML_Q6_K	= 14,
	GGML_BF16	= 30,
};

struct ggml_type_info {
	const char *name;	/* ggml's name: "q4_K", "iq2_xs" */
	uint32_t block_elems;	/* elements per block (1 for plain floats) */
	uint32_t block_bytes;	/* bytes per block; 0 for types the runtime cannot read */
};

/*
 * The type with ggml id @id: NULL when ggml never had such an id; otherwise its
 * name, and its layout when the runtime reads it (block_bytes != 0).
 */
const struct ggml_type_info *ggml_type_get(uint32_t id);

static inline bool ggml_type_supported(const struct ggml_type_info *t)
{
	return t && t->block_bytes != 0;
}

#endif
