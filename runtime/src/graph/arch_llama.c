/* SPDX-License-Identifier: MIT */
/* Llama 3.x: NORMAL RoPE (pairs 2i, 2i+1), no biases, no q/k norm. */
#include "graph/graph.h"

const struct arch_hooks arch_llama = {
	.name = "llama", .rope_mode = ACCEL_ROPE_NORMAL, .qkv_bias = 0, .qk_norm = 0,
};

const struct arch_hooks *arch_hooks_of(const struct anpurt_model *m)
{
	switch (m->arch) {
	case ARCH_QWEN2:
		return &arch_qwen2;
	case ARCH_QWEN3:
		return &arch_qwen3;
	case ARCH_LLAMA:
		return &arch_llama;
	}
	return NULL;
}
