/* SPDX-License-Identifier: MIT */
/* Qwen2 / Qwen2.5: NEOX RoPE, biases on q, k and v. */
#include "graph/graph.h"

const struct arch_hooks arch_qwen2 = {
	.name = "qwen2", .rope_mode = ACCEL_ROPE_NEOX, .qkv_bias = 1, .qk_norm = 0,
};
