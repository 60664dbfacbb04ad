// SPDX-License-Identifier: MIT
/* The op table: one class per opcode, defined in sim/ops/op_*.c. */
#include "sim_ops.h"

const struct sim_op_class *const sim_op_classes[ANPU_OP_COUNT] = {
	[ANPU_OP_NOP]		= &sim_op_nop,
	[ANPU_OP_TIMESTAMP]	= &sim_op_timestamp,
	[ANPU_OP_EMBED]		= &sim_op_embed,
	[ANPU_OP_MATMUL]	= &sim_op_matmul,
	[ANPU_OP_RMSNORM]	= &sim_op_rmsnorm,
	[ANPU_OP_ROPE]		= &sim_op_rope,
	[ANPU_OP_KV_STORE]	= &sim_op_kv_store,
	[ANPU_OP_ATTENTION]	= &sim_op_attention,
	[ANPU_OP_SWIGLU]	= &sim_op_swiglu,
	[ANPU_OP_ADD]		= &sim_op_add,
	[ANPU_OP_MUL]		= &sim_op_mul,
	[ANPU_OP_SCALE]		= &sim_op_scale,
	[ANPU_OP_SOFTMAX]	= &sim_op_softmax,
	[ANPU_OP_ARGMAX]	= &sim_op_argmax,
	[ANPU_OP_COPY]		= &sim_op_copy,
};
