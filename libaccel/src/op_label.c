// SPDX-License-Identifier: MIT
/*
 * Op labels and op descriptions: what the host knows about each op of a
 * command buffer beyond the command stream (accel.h, "Op labels"). Labels
 * live in one arena per command buffer (offsets, so growing it moves nothing
 * the op table refers to); descriptions are read back from the host copy of
 * the stream, so they show exactly what the NPU is given.
 */
#include "accel_internal.h"
#include "hw/anpu_hwif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ACCEL_OP_MAX_TENSORS == ANPU_OP_MAX_TENSORS, "tensors per op");
_Static_assert(ANPU_STREAM_MAX_OPS * (uint64_t)ACCEL_OP_LABEL_MAX < UINT32_MAX,
	       "label offsets fit 32 bits");

int accel_op_meta_add(struct accel_cmdbuf *cb, uint32_t stream_off, uint8_t written)
{
	if (cb->op_count == cb->cap_ops) {
		uint32_t cap = cb->cap_ops ? 2 * cb->cap_ops : 64;
		struct accel_op_meta *p = realloc(cb->ops, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		cb->ops = p;
		cb->cap_ops = cap;
	}
	cb->ops[cb->op_count] = (struct accel_op_meta){ .stream_off = stream_off,
						       .written = written };
	return 0;
}

void accel_op_meta_trim(struct accel_cmdbuf *cb)
{
	/* shrinking never fails in practice; if it does, the bigger block is kept */
	if (cb->op_count && cb->op_count < cb->cap_ops) {
		struct accel_op_meta *p = realloc(cb->ops, cb->op_count * sizeof(*p));

		if (p) {
			cb->ops = p;
			cb->cap_ops = cb->op_count;
		}
	}
	if (cb->arena_size && cb->arena_size < cb->arena_cap) {
		char *p = realloc(cb->label_arena, cb->arena_size);

		if (p) {
			cb->label_arena = p;
			cb->arena_cap = cb->arena_size;
		}
	}
}

int accel_cmdbuf_readable(const struct accel_cmdbuf *cb)
{
	if (!accel_obj_check(cb, ACCEL_MAGIC_CMDBUF))
		return 0;
	if (cb && cb->obj.kind == ACCEL_MAGIC_CMDBUF &&
	    atomic_load((atomic_int *)&cb->refs) > 0)
		return 0;
	return -EBADF;
}

const char *accel_op_label_of(const struct accel_cmdbuf *cb, uint32_t i)
{
	uint32_t off = i < cb->op_count ? cb->ops[i].label_off : 0;

	return off ? cb->label_arena + off : "";
}

/* Make room for @len more bytes in the arena (byte 0, the empty label, comes first). */
static int arena_reserve(struct accel_cmdbuf *cb, uint32_t len)
{
	uint32_t need = (cb->arena_size ? cb->arena_size : 1) + len;

	if (need > cb->arena_cap) {
		uint32_t cap = cb->arena_cap ? cb->arena_cap : 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(cb->label_arena, cap);
		if (!p)
			return -ENOMEM;
		cb->label_arena = p;
		cb->arena_cap = cap;
	}
	if (!cb->arena_size) {
		cb->label_arena[0] = '\0';
		cb->arena_size = 1;
	}
	return 0;
}

static int label_error(struct accel_cmdbuf *cb, int err, uint32_t op_index, const char *why)
{
	snprintf(cb->err, sizeof(cb->err), "label of op %u: %s", op_index, why);
	return err;
}

int accel_cmdbuf_set_op_label(struct accel_cmdbuf *cb, uint32_t op_index, const char *label)
{
	struct accel_op_meta *m;
	size_t len;
	int ret = accel_obj_check(cb, ACCEL_MAGIC_CMDBUF);

	if (ret)
		return ret;
	if (cb->finished)	/* readers may be on other threads now: leave err alone */
		return -EBUSY;
	if (op_index >= cb->op_count) {
		snprintf(cb->err, sizeof(cb->err), "label of op %u: only %u ops are recorded",
			 op_index, cb->op_count);
		return -EINVAL;
	}
	if (!label)
		return label_error(cb, -EINVAL, op_index, "label is NULL");
	len = strnlen(label, ACCEL_OP_LABEL_MAX);
	if (len >= ACCEL_OP_LABEL_MAX)
		return label_error(cb, -ENAMETOOLONG, op_index,
				   "label is longer than ACCEL_OP_LABEL_MAX - 1 bytes");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return label_error(cb, -EINVAL, op_index,
					   "label has a control character");
	m = &cb->ops[op_index];
	if (!len) {
		m->label_off = 0;
		return 0;
	}
	/* a label no longer than the old one takes its place, else it is appended */
	if (m->label_off && strlen(cb->label_arena + m->label_off) >= len) {
		memcpy(cb->label_arena + m->label_off, label, len + 1);
		return 0;
	}
	if (arena_reserve(cb, (uint32_t)len + 1))
		return label_error(cb, -ENOMEM, op_index, "out of memory");
	memcpy(cb->label_arena + cb->arena_size, label, len + 1);
	m->label_off = cb->arena_size;
	cb->arena_size += (uint32_t)len + 1;
	return 0;
}

const char *accel_cmdbuf_op_label(const struct accel_cmdbuf *cb, uint32_t op_index)
{
	if (accel_cmdbuf_readable(cb) || op_index >= cb->op_count)
		return NULL;
	return accel_op_label_of(cb, op_index);
}

/* Tensor roles per opcode, in the order the encoders append them (cmdbuf.c). */
static const char *const op_roles[ANPU_OP_COUNT][ACCEL_OP_MAX_TENSORS] = {
	[ANPU_OP_TIMESTAMP]	= { "dst" },
	[ANPU_OP_EMBED]		= { "table", "ids", "dst" },
	[ANPU_OP_MATMUL]	= { "x", "w", "y", "bias" },
	[ANPU_OP_RMSNORM]	= { "x", "w", "y" },
	[ANPU_OP_ROPE]		= { "x", "y", "freq_factors" },
	[ANPU_OP_KV_STORE]	= { "src", "cache" },
	[ANPU_OP_ATTENTION]	= { "q", "k", "v", "out" },
	[ANPU_OP_SWIGLU]	= { "gate", "up", "y" },
	[ANPU_OP_ADD]		= { "a", "b", "y" },
	[ANPU_OP_MUL]		= { "a", "b", "y" },
	[ANPU_OP_SCALE]		= { "x", "y" },
	[ANPU_OP_SOFTMAX]	= { "x", "y" },
	[ANPU_OP_ARGMAX]	= { "x", "y" },
	[ANPU_OP_COPY]		= { "src", "dst" },
};

int accel_cmdbuf_describe_op(const struct accel_cmdbuf *cb, uint32_t op_index,
			     struct accel_op_desc *desc)
{
	struct anpu_op op;
	struct anpu_tensor t;
	const uint8_t *p;
	int ret = accel_cmdbuf_readable(cb);

	if (ret)
		return ret;
	if (!desc || op_index >= cb->op_count)
		return -EINVAL;
	/* the stream was built by the encoders: in bounds, known opcodes */
	p = cb->stream + cb->ops[op_index].stream_off;
	memcpy(&op, p, sizeof(op));
	memset(desc, 0, sizeof(*desc));
	desc->op_index = op_index;
	desc->opcode = op.opcode;
	desc->flags = op.flags;
	desc->n_tensors = op.n_tensors;
	desc->label = accel_op_label_of(cb, op_index);
	for (unsigned int i = 0; i < op.n_tensors && i < ACCEL_OP_MAX_TENSORS; i++) {
		struct accel_op_tensor_desc *d = &desc->tensors[i];
		const char *role = op.opcode < ANPU_OP_COUNT ? op_roles[op.opcode][i] : NULL;

		memcpy(&t, p + sizeof(op) + i * sizeof(t), sizeof(t));
		d->role = role ? role : "?";
		d->dtype = t.dtype;
		d->written = (cb->ops[op_index].written >> i) & 1;
		memcpy(d->ne, t.ne, sizeof(d->ne));
		memcpy(d->nb, t.nb, sizeof(d->nb));
		d->npu_addr = t.addr;
	}
	return 0;
}
