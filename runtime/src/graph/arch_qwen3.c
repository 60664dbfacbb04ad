/* SPDX-License-Identifier: MIT */
/* Qwen3: NEOX RoPE, no biases, per-head RMSNORM of q and k (attn_q_norm/attn_k_norm) before RoPE. */
#include "graph/graph.h"

const struct arch_hooks arch_qwen3 = {
	.name = "qwen3", .rope_mode = ACCEL_ROPE_NEOX, .qkv_bias = 0, .qk_norm = 1,
};
