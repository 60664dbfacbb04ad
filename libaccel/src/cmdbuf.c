// SPDX-License-Identifier: MIT
/*
 * Command buffers: one typed encoder per ISA op. Every operand is checked
 * here, before anything reaches the NPU, with the rules of docs/hardware.md
 * (sections 8 and 10) plus the one only the library can check: each tensor
 * lies inside a live BO of this device. Errors name the op and the field.
 */
#include "accel_internal.h"
#include "hw/anpu_hwif.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)ACCEL_F32 == (int)ANPU_DTYPE_F32 && (int)ACCEL_Q6_K == (int)ANPU_DTYPE_Q6_K &&
	       (int)ACCEL_BF16 == (int)ANPU_DTYPE_BF16 && (int)ACCEL_I32 == (int)ANPU_DTYPE_I32 &&
	       (int)ACCEL_Q5_0L == (int)ANPU_DTYPE_Q5_0L && (int)ACCEL_Q4_KL == (int)ANPU_DTYPE_Q4_KL &&
	       (int)ACCEL_Q6_KL == (int)ANPU_DTYPE_Q6_KL &&
	       (int)ACCEL_Q4_0L == (int)ANPU_DTYPE_Q4_0L, "dtype ids");
_Static_assert(ACCEL_MAX_STEP_PARAMS == ANPU_STEP_PARAMS_MAX, "step slots");

/* One encoder call: the command buffer and the op being encoded. */
struct enc {
	struct accel_cmdbuf *cb;
	uint32_t opcode;
	struct anpu_tensor t[ANPU_OP_MAX_TENSORS];
	struct accel_bo *bo[ANPU_OP_MAX_TENSORS];
	bool out[ANPU_OP_MAX_TENSORS];
	unsigned int n;
	uint16_t isa_minor;	/* the ISA minor version the op needs */
};

static int fail(struct enc *e, int err, const char *fmt, ...)
{
	struct accel_cmdbuf *cb = e->cb;
	int n = snprintf(cb->err, sizeof(cb->err), "op %u %s: ", cb->op_count,
			 accel_op_name(e->opcode));
	va_list ap;

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(cb->err))
		vsnprintf(cb->err + n, sizeof(cb->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

struct accel_cmdbuf_params accel_cmdbuf_default_params(void)
{
	struct accel_cmdbuf_params p = { 0 };

	return p;
}

int accel_cmdbuf_create(struct accel_device *dev, const struct accel_cmdbuf_params *params,
			struct accel_cmdbuf **out)
{
	struct accel_cmdbuf_params defaults = accel_cmdbuf_default_params();
	struct accel_cmdbuf *cb;
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!params)
		params = &defaults;
	if (params->step_params > ACCEL_MAX_STEP_PARAMS)
		return -EINVAL;
	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return -ENOMEM;
	cb->step_params = params->step_params;
	if (params->label)
		snprintf(cb->label, sizeof(cb->label), "%s", params->label);
	cb->size = sizeof(struct anpu_stream_header);
	atomic_init(&cb->refs, 1);
	cb->handle_live = true;
	accel_obj_init(dev, &cb->obj, ACCEL_MAGIC_CMDBUF);
	*out = cb;
	return 0;
}

void accel_cmdbuf_unref(struct accel_cmdbuf *cb)
{
	if (atomic_fetch_sub(&cb->refs, 1) != 1)
		return;
	for (unsigned int i = 0; i < cb->n_bos; i++)
		accel_bo_unref(cb->bos[i]);
	cb->n_bos = 0;
	if (cb->obj.dev->ops->cmdbuf_release)
		cb->obj.dev->ops->cmdbuf_release(cb);
	if (cb->stream_bo)
		accel_bo_free(cb->stream_bo);
	cb->stream_bo = NULL;
	/* nobody can read ops or labels any more: the quarantine keeps only the struct */
	free(cb->stream);
	free(cb->ops);
	free(cb->label_arena);
	cb->stream = NULL;
	cb->ops = NULL;
	cb->label_arena = NULL;
	accel_obj_bury(&cb->obj);
}

int accel_cmdbuf_free(struct accel_cmdbuf *cb)
{
	uint32_t expect = ACCEL_MAGIC_CMDBUF;

	if (!cb || !atomic_compare_exchange_strong(&cb->obj.magic, &expect, ACCEL_MAGIC_DEAD))
		return -EBADF;
	cb->handle_live = false;
	accel_cmdbuf_unref(cb);
	return 0;
}

const char *accel_cmdbuf_error(const struct accel_cmdbuf *cb)
{
	if (accel_obj_check(cb, ACCEL_MAGIC_CMDBUF))
		return "invalid command buffer handle";
	return cb->err;
}

uint32_t accel_cmdbuf_op_count(const struct accel_cmdbuf *cb)
{
	return accel_cmdbuf_readable(cb) ? 0 : cb->op_count;
}

/* ---- tensors ---- */

struct accel_tensor accel_tensor_packed(struct accel_bo *bo, uint64_t offset, uint32_t dtype,
					uint32_t ne0, uint32_t ne1, uint32_t ne2, uint32_t ne3)
{
	struct accel_tensor t = { .bo = bo, .offset = offset, .dtype = dtype,
				  .ne = { ne0, ne1, ne2, ne3 } };
	unsigned int be = 1, bb = 4;

	anpu_dtype_layout(dtype, &be, &bb);
	t.nb[0] = (uint64_t)(ne0 / be) * bb;
	t.nb[1] = t.nb[0] * ne1;
	t.nb[2] = t.nb[1] * ne2;
	return t;
}

static unsigned int dtype_align(uint32_t dtype)
{
	return (dtype == ANPU_DTYPE_F32 || dtype == ANPU_DTYPE_I32) ? 4 : 2;
}

/* Extent in bytes (docs/hardware.md 8.4); 0 when malformed or overflowing. */
static uint64_t tensor_extent(const struct accel_tensor *t)
{
	unsigned int be, bb;
	uint64_t ext;

	if (!anpu_dtype_layout(t->dtype, &be, &bb) || !t->ne[0] || t->ne[0] % be)
		return 0;
	ext = (uint64_t)(t->ne[0] / be) * bb;
	for (int i = 1; i < 4; i++) {
		uint64_t add;

		if (!t->ne[i])
			return 0;
		if (t->ne[i] == 1)
			continue;
		if (t->nb[i - 1] < ext ||
		    __builtin_mul_overflow((uint64_t)(t->ne[i] - 1), t->nb[i - 1], &add) ||
		    __builtin_add_overflow(ext, add, &ext))
			return 0;
	}
	return ext;
}

uint64_t accel_tensor_bytes(const struct accel_tensor *t)
{
	return t ? tensor_extent(t) : 0;
}

/* Generic checks of tensor @t in role @role; appends it to the op on success. */
static int add_tensor(struct enc *e, const char *role, const struct accel_tensor *t, bool output)
{
	struct accel_cmdbuf *cb = e->cb;
	unsigned int be, bb, align;
	uint64_t ext = 0, row;

	if (!t)
		return fail(e, -EINVAL, "%s is NULL", role);
	if (accel_obj_check(t->bo, ACCEL_MAGIC_BO))
		return fail(e, -EBADF, "%s.bo is not a live buffer object", role);
	if (t->bo->obj.dev != cb->obj.dev)
		return fail(e, -EXDEV, "%s.bo belongs to another device", role);
	if (!anpu_dtype_layout(t->dtype, &be, &bb))
		return fail(e, -EINVAL, "%s.dtype = %u is not a data type", role, t->dtype);
	for (int i = 0; i < 4; i++)
		if (!t->ne[i])
			return fail(e, -EINVAL, "%s.ne[%d] = 0", role, i);
	if (t->ne[0] % be)
		return fail(e, -EINVAL, "%s.ne[0] = %u is not a multiple of the %s block (%u)",
			    role, t->ne[0], accel_dtype_name(t->dtype), be);
	align = dtype_align(t->dtype);
	if ((t->bo->npu_addr + t->offset) % align)
		return fail(e, -EINVAL, "%s.offset = %llu is not %u-byte aligned for %s", role,
			    (unsigned long long)t->offset, align, accel_dtype_name(t->dtype));
	row = (uint64_t)(t->ne[0] / be) * bb;
	ext = row;
	if (anpu_dtype_is_row_grouped(t->dtype) && (t->ne[1] % ANPU_Q4_KL_GROUP || t->nb[0] != row))
		return fail(e, -EINVAL, "%s: %s wants ne[1] (%u) a multiple of %u and nb[0] "
			    "(%llu) = a row's %llu bytes", role, accel_dtype_name(t->dtype),
			    t->ne[1], ANPU_Q4_KL_GROUP, (unsigned long long)t->nb[0],
			    (unsigned long long)row);
	for (int i = 1; i < 4; i++) {
		uint64_t add;

		if (t->nb[i - 1] % align)
			return fail(e, -EINVAL, "%s.nb[%d] = %llu is not %u-byte aligned", role,
				    i - 1, (unsigned long long)t->nb[i - 1], align);
		if (t->ne[i] == 1)
			continue;
		if (t->nb[i - 1] < ext)
			return fail(e, -EINVAL, "%s.nb[%d] = %llu < %llu (rows would overlap)",
				    role, i - 1, (unsigned long long)t->nb[i - 1],
				    (unsigned long long)ext);
		if (__builtin_mul_overflow((uint64_t)(t->ne[i] - 1), t->nb[i - 1], &add) ||
		    __builtin_add_overflow(ext, add, &ext))
			return fail(e, -EINVAL, "%s: size overflows", role);
	}
	if (t->offset > t->bo->size || ext > t->bo->size - t->offset)
		return fail(e, -EINVAL, "%s: bytes [%llu, %llu) lie outside its BO of %llu bytes",
			    role, (unsigned long long)t->offset,
			    (unsigned long long)(t->offset + ext),
			    (unsigned long long)t->bo->size);
	if (output && (t->bo->flags & ACCEL_BO_NPU_READ_ONLY))
		return fail(e, -EINVAL, "%s (an output) is in an NPU-read-only BO", role);
	e->t[e->n] = (struct anpu_tensor){
		.addr = t->bo->npu_addr + t->offset,
		.ne = { t->ne[0], t->ne[1], t->ne[2], t->ne[3] },
		.nb = { t->nb[0], t->nb[1], t->nb[2] },
		.dtype = (uint16_t)t->dtype,
	};
	e->out[e->n] = output;
	e->bo[e->n++] = t->bo;
	return 0;
}

static int need_dtype(struct enc *e, const char *role, const struct accel_tensor *t,
		      uint32_t want)
{
	if (t->dtype != want)
		return fail(e, -EINVAL, "%s.dtype = %s, want %s", role, accel_dtype_name(t->dtype),
			    accel_dtype_name(want));
	return 0;
}

static int need_same_shape(struct enc *e, const char *role, const struct accel_tensor *t,
			   const char *ref_role, const struct accel_tensor *ref)
{
	for (int i = 0; i < 4; i++)
		if (t->ne[i] != ref->ne[i])
			return fail(e, -EINVAL, "%s.ne[%d] = %u != %s.ne[%d] = %u", role, i,
				    t->ne[i], ref_role, i, ref->ne[i]);
	return 0;
}

static int need_dim(struct enc *e, const char *role, const struct accel_tensor *t, int i,
		    uint32_t want)
{
	if (t->ne[i] != want)
		return fail(e, -EINVAL, "%s.ne[%d] = %u, want %u", role, i, t->ne[i], want);
	return 0;
}

static int check_scalar(struct enc *e, const char *role, struct accel_scalar s)
{
	if (s.is_step > 1)
		return fail(e, -EINVAL, "%s.is_step = %u", role, s.is_step);
	if (s.is_step && s.value >= e->cb->step_params)
		return fail(e, -EINVAL, "%s: step slot %u >= the command buffer's %u step params",
			    role, s.value, e->cb->step_params);
	return 0;
}

static struct anpu_scalar to_scalar(struct accel_scalar s)
{
	return (struct anpu_scalar){ .kind = s.is_step ? ANPU_SCALAR_STEP : ANPU_SCALAR_IMM,
				     .value = s.value };
}

static int begin(struct enc *e, struct accel_cmdbuf *cb, uint32_t opcode)
{
	memset(e, 0, sizeof(*e));
	e->cb = cb;
	e->opcode = opcode;
	if (accel_obj_check(cb, ACCEL_MAGIC_CMDBUF))
		return -EBADF;
	cb->err[0] = '\0';
	if (cb->finished)
		return fail(e, -EBUSY, "the command buffer is finished");
	if (cb->op_count >= ANPU_STREAM_MAX_OPS)
		return fail(e, -E2BIG, "more than %u ops", ANPU_STREAM_MAX_OPS);
	return 0;
}

static int hold_bo(struct accel_cmdbuf *cb, struct accel_bo *bo, bool written)
{
	for (unsigned int i = 0; i < cb->n_bos; i++) {
		if (cb->bos[i] == bo) {
			cb->bo_written[i] |= written;
			return 0;
		}
	}
	if (cb->n_bos == cb->cap_bos) {
		unsigned int cap = cb->cap_bos ? cb->cap_bos * 2 : 16;
		struct accel_bo **v = realloc(cb->bos, cap * sizeof(*v));
		uint8_t *w;

		if (!v)
			return -ENOMEM;
		cb->bos = v;
		w = realloc(cb->bo_written, cap);
		if (!w)
			return -ENOMEM;
		cb->bo_written = w;
		cb->cap_bos = cap;
	}
	atomic_fetch_add(&bo->refs, 1);
	cb->bo_written[cb->n_bos] = written;
	cb->bos[cb->n_bos++] = bo;
	return 0;
}

/* Append the op with @params (@plen bytes) and the tensors collected in @e. */
static int emit(struct enc *e, uint32_t flags, const void *params, size_t plen)
{
	struct accel_cmdbuf *cb = e->cb;
	struct anpu_op op = { .opcode = (uint16_t)e->opcode, .n_tensors = (uint8_t)e->n,
			      .flags = flags };
	size_t bytes = ANPU_OP_SIZE(e->n);
	uint8_t written = 0;

	if (cb->size + bytes > ANPU_STREAM_MAX_SIZE)
		return fail(e, -E2BIG, "the stream would exceed %u bytes", ANPU_STREAM_MAX_SIZE);
	if (cb->size + bytes > cb->cap) {
		size_t cap = cb->cap ? cb->cap : 4096;
		uint8_t *p;

		while (cap < cb->size + bytes)
			cap *= 2;
		p = realloc(cb->stream, cap);
		if (!p)
			return fail(e, -ENOMEM, "out of memory");
		cb->stream = p;
		cb->cap = cap;
	}
	for (unsigned int i = 0; i < e->n; i++)
		written |= (uint8_t)(e->out[i] << i);
	if (accel_op_meta_add(cb, (uint32_t)cb->size, written))
		return fail(e, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < e->n; i++)
		if (hold_bo(cb, e->bo[i], e->out[i]))
			return fail(e, -ENOMEM, "out of memory");
	if (params)
		memcpy(op.params.raw, params, plen);
	memcpy(cb->stream + cb->size, &op, sizeof(op));
	memcpy(cb->stream + cb->size + sizeof(op), e->t, e->n * sizeof(struct anpu_tensor));
	cb->size += bytes;
	cb->op_count++;
	if (e->isa_minor > cb->isa_minor)
		cb->isa_minor = e->isa_minor;
	return 0;
}

/* ISA 1.1 added the Q4_1 and Q5_1 weight types, 1.2 Q5_0L, 1.3 Q4_KL, 1.4 Q6_KL, 1.5 Q4_0L. */
static uint16_t weight_isa_minor(uint32_t dtype)
{
	if (dtype == ACCEL_Q4_0L)
		return 5;
	if (dtype == ACCEL_Q6_KL)
		return 4;
	if (dtype == ACCEL_Q4_KL)
		return 3;
	if (dtype == ACCEL_Q5_0L)
		return 2;
	return dtype == ACCEL_Q4_1 || dtype == ACCEL_Q5_1 ? 1 : 0;
}

/* ---- encoders ---- */

#define TRY(x) do { int ret_ = (x); if (ret_) return ret_; } while (0)

int accel_cmd_nop(struct accel_cmdbuf *cb)
{
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_NOP));
	return emit(&e, 0, NULL, 0);
}

int accel_cmd_timestamp(struct accel_cmdbuf *cb, const struct accel_tensor *dst)
{
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_TIMESTAMP));
	TRY(add_tensor(&e, "dst", dst, true));
	TRY(need_dtype(&e, "dst", dst, ACCEL_I32));
	TRY(need_dim(&e, "dst", dst, 0, 2));
	for (int i = 1; i < 4; i++)
		TRY(need_dim(&e, "dst", dst, i, 1));
	return emit(&e, 0, NULL, 0);
}

int accel_cmd_embed(struct accel_cmdbuf *cb, const struct accel_tensor *table,
		    const struct accel_tensor *ids, const struct accel_tensor *dst)
{
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_EMBED));
	TRY(add_tensor(&e, "table", table, false));
	TRY(add_tensor(&e, "ids", ids, false));
	TRY(add_tensor(&e, "dst", dst, true));
	if (!anpu_dtype_is_weight(table->dtype))
		return fail(&e, -EINVAL, "table.dtype = %s is not a weight type",
			    accel_dtype_name(table->dtype));
	e.isa_minor = weight_isa_minor(table->dtype);
	TRY(need_dtype(&e, "ids", ids, ACCEL_I32));
	if (dst->dtype != ACCEL_F32 && dst->dtype != ACCEL_F16)
		return fail(&e, -EINVAL, "dst.dtype = %s, want F32 or F16",
			    accel_dtype_name(dst->dtype));
	TRY(need_dim(&e, "table", table, 2, 1));
	TRY(need_dim(&e, "table", table, 3, 1));
	for (int i = 1; i < 4; i++)
		TRY(need_dim(&e, "ids", ids, i, 1));
	TRY(need_dim(&e, "dst", dst, 0, table->ne[0]));
	TRY(need_dim(&e, "dst", dst, 1, ids->ne[0]));
	TRY(need_dim(&e, "dst", dst, 2, 1));
	TRY(need_dim(&e, "dst", dst, 3, 1));
	return emit(&e, 0, NULL, 0);
}

int accel_cmd_matmul(struct accel_cmdbuf *cb, const struct accel_tensor *x,
		     const struct accel_tensor *w, const struct accel_tensor *bias,
		     const struct accel_tensor *y, uint32_t flags)
{
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_MATMUL));
	if (flags & ~ANPU_MATMUL_FLAGS_ALL)
		return fail(&e, -EINVAL, "flags = 0x%x has undefined bits", flags);
	TRY(add_tensor(&e, "x", x, false));
	TRY(add_tensor(&e, "w", w, false));
	TRY(add_tensor(&e, "y", y, true));
	if (bias)
		TRY(add_tensor(&e, "bias", bias, false));
	TRY(need_dtype(&e, "x", x, ACCEL_F32));
	if (!anpu_dtype_is_weight(w->dtype))
		return fail(&e, -EINVAL, "w.dtype = %s is not a weight type",
			    accel_dtype_name(w->dtype));
	e.isa_minor = weight_isa_minor(w->dtype);
	TRY(need_dtype(&e, "y", y, ACCEL_F32));
	TRY(need_dim(&e, "w", w, 2, 1));
	TRY(need_dim(&e, "w", w, 3, 1));
	if (w->ne[0] != x->ne[0])
		return fail(&e, -EINVAL, "w.ne[0] = %u != x.ne[0] = %u", w->ne[0], x->ne[0]);
	if (y->ne[0] != w->ne[1])
		return fail(&e, -EINVAL, "y.ne[0] = %u != w.ne[1] = %u", y->ne[0], w->ne[1]);
	for (int i = 1; i < 4; i++)
		if (y->ne[i] != x->ne[i])
			return fail(&e, -EINVAL, "y.ne[%d] = %u != x.ne[%d] = %u", i, y->ne[i],
				    i, x->ne[i]);
	if (bias) {
		TRY(need_dtype(&e, "bias", bias, ACCEL_F32));
		TRY(need_dim(&e, "bias", bias, 0, w->ne[1]));
		for (int i = 1; i < 4; i++)
			TRY(need_dim(&e, "bias", bias, i, 1));
	}
	return emit(&e, flags, NULL, 0);
}

int accel_cmd_rmsnorm(struct accel_cmdbuf *cb, const struct accel_tensor *x,
		      const struct accel_tensor *w, const struct accel_tensor *y, float eps)
{
	struct anpu_params_rmsnorm p = { .eps = eps };
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_RMSNORM));
	TRY(add_tensor(&e, "x", x, false));
	TRY(add_tensor(&e, "w", w, false));
	TRY(add_tensor(&e, "y", y, true));
	TRY(need_dtype(&e, "x", x, ACCEL_F32));
	TRY(need_dtype(&e, "w", w, ACCEL_F32));
	TRY(need_dtype(&e, "y", y, ACCEL_F32));
	TRY(need_dim(&e, "w", w, 0, x->ne[0]));
	for (int i = 1; i < 4; i++)
		TRY(need_dim(&e, "w", w, i, 1));
	TRY(need_same_shape(&e, "y", y, "x", x));
	if (!isfinite(eps) || !(eps > 0))
		return fail(&e, -EINVAL, "eps = %g must be finite and > 0", (double)eps);
	return emit(&e, 0, &p, sizeof(p));
}

struct accel_rope_params accel_rope_default_params(void)
{
	return (struct accel_rope_params){
		.mode = ACCEL_ROPE_NORMAL,
		.theta_base = 10000.0f,
		.freq_scale = 1.0f,
		.pos = accel_imm(0),
	};
}

int accel_cmd_rope(struct accel_cmdbuf *cb, const struct accel_tensor *x,
		   const struct accel_tensor *y, const struct accel_rope_params *rp)
{
	struct anpu_params_rope p;
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_ROPE));
	if (!rp)
		return fail(&e, -EINVAL, "params is NULL");
	TRY(add_tensor(&e, "x", x, false));
	TRY(add_tensor(&e, "y", y, true));
	TRY(need_dtype(&e, "x", x, ACCEL_F32));
	TRY(need_dtype(&e, "y", y, ACCEL_F32));
	TRY(need_dim(&e, "x", x, 3, 1));
	TRY(need_same_shape(&e, "y", y, "x", x));
	if (rp->mode != ACCEL_ROPE_NORMAL && rp->mode != ACCEL_ROPE_NEOX)
		return fail(&e, -EINVAL, "mode = %u is not a rope mode", (unsigned int)rp->mode);
	if (rp->n_rot < 2 || rp->n_rot % 2 || rp->n_rot > x->ne[0])
		return fail(&e, -EINVAL, "n_rot = %u must be even, 2..x.ne[0] = %u", rp->n_rot,
			    x->ne[0]);
	if (!isfinite(rp->theta_base) || !(rp->theta_base > 0))
		return fail(&e, -EINVAL, "theta_base = %g must be finite and > 0",
			    (double)rp->theta_base);
	if (!isfinite(rp->freq_scale) || !(rp->freq_scale > 0))
		return fail(&e, -EINVAL, "freq_scale = %g must be finite and > 0",
			    (double)rp->freq_scale);
	TRY(check_scalar(&e, "pos", rp->pos));
	if (rp->freq_factors) {
		const struct accel_tensor *f = rp->freq_factors;

		TRY(add_tensor(&e, "freq_factors", f, false));
		TRY(need_dtype(&e, "freq_factors", f, ACCEL_F32));
		TRY(need_dim(&e, "freq_factors", f, 0, rp->n_rot / 2));
		for (int i = 1; i < 4; i++)
			TRY(need_dim(&e, "freq_factors", f, i, 1));
		e.isa_minor = 1;	/* ISA 1.1 */
	}
	p = (struct anpu_params_rope){ .mode = rp->mode, .n_rot = rp->n_rot,
				       .theta_base = rp->theta_base,
				       .freq_scale = rp->freq_scale, .pos = to_scalar(rp->pos) };
	return emit(&e, 0, &p, sizeof(p));
}

int accel_cmd_kv_store(struct accel_cmdbuf *cb, const struct accel_tensor *src,
		       const struct accel_tensor *cache, struct accel_scalar pos)
{
	struct anpu_params_kv_store p = { .pos = to_scalar(pos) };
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_KV_STORE));
	TRY(add_tensor(&e, "src", src, false));
	TRY(add_tensor(&e, "cache", cache, true));
	TRY(need_dtype(&e, "src", src, ACCEL_F32));
	if (cache->dtype != ACCEL_F32 && cache->dtype != ACCEL_F16)
		return fail(&e, -EINVAL, "cache.dtype = %s, want F16 or F32",
			    accel_dtype_name(cache->dtype));
	for (int i = 2; i < 4; i++) {
		TRY(need_dim(&e, "src", src, i, 1));
		TRY(need_dim(&e, "cache", cache, i, 1));
	}
	TRY(need_dim(&e, "cache", cache, 0, src->ne[0]));
	TRY(check_scalar(&e, "pos", pos));
	if (!pos.is_step && (uint64_t)pos.value + src->ne[1] > cache->ne[1])
		return fail(&e, -EINVAL, "pos %u + src.ne[1] = %u > cache.ne[1] = %u", pos.value,
			    src->ne[1], cache->ne[1]);
	return emit(&e, 0, &p, sizeof(p));
}

int accel_cmd_attention(struct accel_cmdbuf *cb, const struct accel_tensor *q,
			const struct accel_tensor *k, const struct accel_tensor *v,
			const struct accel_tensor *out, float scale, struct accel_scalar pos)
{
	struct anpu_params_attention p = { .scale = scale, .pos = to_scalar(pos) };
	uint32_t head_dim, n_kv;
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_ATTENTION));
	TRY(add_tensor(&e, "q", q, false));
	TRY(add_tensor(&e, "k", k, false));
	TRY(add_tensor(&e, "v", v, false));
	TRY(add_tensor(&e, "out", out, true));
	TRY(need_dtype(&e, "q", q, ACCEL_F32));
	TRY(need_dtype(&e, "out", out, ACCEL_F32));
	if (k->dtype != ACCEL_F32 && k->dtype != ACCEL_F16)
		return fail(&e, -EINVAL, "k.dtype = %s, want F16 or F32", accel_dtype_name(k->dtype));
	if (v->dtype != ACCEL_F32 && v->dtype != ACCEL_F16)
		return fail(&e, -EINVAL, "v.dtype = %s, want F16 or F32", accel_dtype_name(v->dtype));
	TRY(need_dim(&e, "q", q, 3, 1));
	head_dim = q->ne[0];
	if (head_dim > 1024)
		return fail(&e, -EINVAL, "q.ne[0] = %u (head_dim) > 1024", head_dim);
	TRY(need_dim(&e, "k", k, 2, 1));
	TRY(need_dim(&e, "k", k, 3, 1));
	if (k->ne[0] % head_dim)
		return fail(&e, -EINVAL, "k.ne[0] = %u is not a multiple of head_dim q.ne[0] = %u",
			    k->ne[0], head_dim);
	TRY(need_same_shape(&e, "v", v, "k", k));
	n_kv = k->ne[0] / head_dim;
	if (q->ne[1] % n_kv)
		return fail(&e, -EINVAL, "q.ne[1] = %u (n_head) is not a multiple of n_kv_head = %u",
			    q->ne[1], n_kv);
	TRY(need_same_shape(&e, "out", out, "q", q));
	if (!isfinite(scale))
		return fail(&e, -EINVAL, "scale = %g is not finite", (double)scale);
	TRY(check_scalar(&e, "pos", pos));
	if (!pos.is_step && (uint64_t)pos.value + q->ne[2] > k->ne[1])
		return fail(&e, -EINVAL, "pos %u + q.ne[2] = %u > k.ne[1] = %u", pos.value,
			    q->ne[2], k->ne[1]);
	return emit(&e, 0, &p, sizeof(p));
}

static int elementwise3(struct accel_cmdbuf *cb, uint32_t opcode, const char *an,
			const struct accel_tensor *a, const char *bn,
			const struct accel_tensor *b, const struct accel_tensor *y,
			bool broadcast)
{
	struct enc e;

	TRY(begin(&e, cb, opcode));
	TRY(add_tensor(&e, an, a, false));
	TRY(add_tensor(&e, bn, b, false));
	TRY(add_tensor(&e, "y", y, true));
	TRY(need_dtype(&e, an, a, ACCEL_F32));
	TRY(need_dtype(&e, bn, b, ACCEL_F32));
	TRY(need_dtype(&e, "y", y, ACCEL_F32));
	if (broadcast) {
		for (int i = 0; i < 4; i++)
			if (b->ne[i] != 1 && b->ne[i] != a->ne[i])
				return fail(&e, -EINVAL, "%s.ne[%d] = %u is neither 1 nor %s.ne[%d] = %u",
					    bn, i, b->ne[i], an, i, a->ne[i]);
	} else {
		TRY(need_same_shape(&e, bn, b, an, a));
	}
	TRY(need_same_shape(&e, "y", y, an, a));
	return emit(&e, 0, NULL, 0);
}

int accel_cmd_swiglu(struct accel_cmdbuf *cb, const struct accel_tensor *gate,
		     const struct accel_tensor *up, const struct accel_tensor *y)
{
	return elementwise3(cb, ANPU_OP_SWIGLU, "gate", gate, "up", up, y, false);
}

int accel_cmd_add(struct accel_cmdbuf *cb, const struct accel_tensor *a,
		  const struct accel_tensor *b, const struct accel_tensor *y)
{
	return elementwise3(cb, ANPU_OP_ADD, "a", a, "b", b, y, true);
}

int accel_cmd_mul(struct accel_cmdbuf *cb, const struct accel_tensor *a,
		  const struct accel_tensor *b, const struct accel_tensor *y)
{
	return elementwise3(cb, ANPU_OP_MUL, "a", a, "b", b, y, true);
}

static int unary(struct accel_cmdbuf *cb, uint32_t opcode, const struct accel_tensor *x,
		 const struct accel_tensor *y, float v, const char *vname)
{
	uint32_t raw;
	struct enc e;

	TRY(begin(&e, cb, opcode));
	TRY(add_tensor(&e, "x", x, false));
	TRY(add_tensor(&e, "y", y, true));
	TRY(need_dtype(&e, "x", x, ACCEL_F32));
	TRY(need_dtype(&e, "y", y, ACCEL_F32));
	TRY(need_same_shape(&e, "y", y, "x", x));
	if (!isfinite(v))
		return fail(&e, -EINVAL, "%s = %g is not finite", vname, (double)v);
	memcpy(&raw, &v, sizeof(raw));
	return emit(&e, 0, &raw, sizeof(raw));
}

int accel_cmd_scale(struct accel_cmdbuf *cb, const struct accel_tensor *x,
		    const struct accel_tensor *y, float s)
{
	return unary(cb, ANPU_OP_SCALE, x, y, s, "s");
}

int accel_cmd_softmax(struct accel_cmdbuf *cb, const struct accel_tensor *x,
		      const struct accel_tensor *y, float scale)
{
	return unary(cb, ANPU_OP_SOFTMAX, x, y, scale, "scale");
}

int accel_cmd_argmax(struct accel_cmdbuf *cb, const struct accel_tensor *x,
		     const struct accel_tensor *y)
{
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_ARGMAX));
	TRY(add_tensor(&e, "x", x, false));
	TRY(add_tensor(&e, "y", y, true));
	TRY(need_dtype(&e, "x", x, ACCEL_F32));
	TRY(need_dtype(&e, "y", y, ACCEL_I32));
	TRY(need_dim(&e, "y", y, 0, 1));
	for (int i = 1; i < 4; i++)
		if (y->ne[i] != x->ne[i])
			return fail(&e, -EINVAL, "y.ne[%d] = %u != x.ne[%d] = %u", i, y->ne[i], i,
				    x->ne[i]);
	return emit(&e, 0, NULL, 0);
}

int accel_cmd_copy(struct accel_cmdbuf *cb, const struct accel_tensor *src,
		   const struct accel_tensor *dst)
{
	struct enc e;

	TRY(begin(&e, cb, ANPU_OP_COPY));
	TRY(add_tensor(&e, "src", src, false));
	TRY(add_tensor(&e, "dst", dst, true));
	if (src->dtype != ACCEL_F32 && src->dtype != ACCEL_F16)
		return fail(&e, -EINVAL, "src.dtype = %s, want F32 or F16",
			    accel_dtype_name(src->dtype));
	TRY(need_dtype(&e, "dst", dst, src->dtype));
	TRY(need_same_shape(&e, "dst", dst, "src", src));
	e.isa_minor = 1;	/* ISA 1.1 */
	return emit(&e, 0, NULL, 0);
}

/* ---- finish ---- */

int accel_cmdbuf_finish(struct accel_cmdbuf *cb)
{
	struct anpu_stream_header h;
	uint64_t bytes;
	uint8_t *dst, *host;
	int ret = accel_obj_check(cb, ACCEL_MAGIC_CMDBUF);

	if (ret)
		return ret;
	if (cb->finished)
		return -EBUSY;
	if (!cb->op_count) {
		snprintf(cb->err, sizeof(cb->err), "finish: the command buffer has no op");
		return -EINVAL;
	}
	bytes = cb->size + (uint64_t)cb->step_params * sizeof(uint32_t);
	ret = accel_bo_create_internal(cb->obj.dev, bytes, ACCEL_BO_NPU_READ_ONLY | ACCEL_BO_NO_CLEAR,
				       &cb->stream_bo);
	if (ret) {
		snprintf(cb->err, sizeof(cb->err), "finish: no device memory for the stream");
		return ret;
	}
	cb->step_addr = cb->step_params ? cb->stream_bo->npu_addr + cb->size : 0;
	h = (struct anpu_stream_header){
		.magic = ANPU_STREAM_MAGIC,
		.version_major = ANPU_ISA_VERSION_MAJOR,
		/* the oldest minor that runs it: a stream without 1.1 features stays 1.0 */
		.version_minor = cb->isa_minor,
		.size = (uint32_t)cb->size,
		.op_count = cb->op_count,
		.step_params_count = cb->step_params,
		.step_params_addr = cb->step_addr,
	};
	dst = cb->stream_bo->host;
	memcpy(dst, &h, sizeof(h));
	memcpy(dst + sizeof(h), cb->stream + sizeof(h), cb->size - sizeof(h));
	memset(dst + cb->size, 0, (size_t)cb->step_params * sizeof(uint32_t));
	cb->stream_size = (uint32_t)cb->size;
	/* the host copy stays for accel_cmdbuf_describe_op(); give back its slack */
	host = realloc(cb->stream, cb->size);
	if (host) {
		cb->stream = host;
		cb->cap = cb->size;
	}
	accel_op_meta_trim(cb);
	cb->finished = true;
	return 0;
}
