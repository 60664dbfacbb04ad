// SPDX-License-Identifier: MIT
/*
 * Generic validation. Everything here works on snapshots: the header is read
 * once, the whole stream is copied into cp->stream before any op is decoded,
 * and the step parameters are copied once.
 */
#include "sim_cp_validate.h"

#include <stdlib.h>
#include <string.h>

#include "sim_mmu.h"

static struct sim_mmu job_mmu(const struct sim_cp_job *job)
{
	return (struct sim_mmu){ .bar = job->bar, .bar_size = job->bar_size, .root = job->root };
}

/* Translate [va, va + len) and copy it to @dst. */
static uint32_t copy_in(const struct sim_cp_job *job, uint64_t va, uint64_t len,
			void *dst, uint64_t *fault_addr)
{
	struct sim_mmu mmu = job_mmu(job);
	uint64_t dpa;
	uint32_t cause = sim_mmu_translate(&mmu, va, len, false, &dpa, fault_addr);

	if (cause)
		return cause;
	memcpy(dst, job->bar + dpa, len);
	return 0;
}

static int is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Alignment of a dtype's addresses and strides (4 for F32/I32, else 2). */
static uint64_t dtype_align(uint32_t dtype)
{
	return dtype == ANPU_DTYPE_F32 || dtype == ANPU_DTYPE_I32 ? 4 : 2;
}

uint32_t sim_cp_check_tensor(const struct sim_cp_job *job, const struct anpu_tensor *d,
			     int write, struct sim_tensor *t, uint64_t *fault_addr)
{
	unsigned int be, bb;
	uint64_t align, extent, dpa;
	struct sim_mmu mmu = job_mmu(job);
	uint32_t cause;

	*fault_addr = d->addr;
	if (!anpu_dtype_layout(d->dtype, &be, &bb))
		return ANPU_CAUSE_DTYPE;
	if (d->flags)
		return ANPU_CAUSE_OP_FLAGS;
	if (d->reserved)
		return ANPU_CAUSE_RESERVED_NONZERO;
	for (int i = 0; i < ANPU_MAX_DIMS; i++)
		if (d->ne[i] == 0)
			return ANPU_CAUSE_SHAPE;
	if (d->ne[0] % be)
		return ANPU_CAUSE_SHAPE;
	/* Q4_KL, Q6_KL, Q4_0L: whole groups of dense rows (each group's rows interleaved) */
	if (anpu_dtype_is_row_grouped(d->dtype)) {
		if (d->ne[1] % ANPU_Q4_KL_GROUP)
			return ANPU_CAUSE_SHAPE;
		if (d->nb[0] != (uint64_t)(d->ne[0] / be) * bb)
			return ANPU_CAUSE_STRIDE;
	}
	align = dtype_align(d->dtype);
	if (d->addr & (align - 1))
		return ANPU_CAUSE_ALIGNMENT;
	/* row bytes cannot overflow: ne[0] < 2^32 and bb <= 210 */
	extent = (uint64_t)(d->ne[0] / be) * bb;
	for (int i = 1; i < ANPU_MAX_DIMS; i++) {
		uint64_t stride = d->nb[i - 1], span;

		if (stride & (align - 1))
			return ANPU_CAUSE_STRIDE;
		if (d->ne[i] == 1)
			continue;
		if (stride < extent)
			return ANPU_CAUSE_STRIDE;
		if (__builtin_mul_overflow(stride, (uint64_t)(d->ne[i] - 1), &span) ||
		    __builtin_add_overflow(extent, span, &extent))
			return ANPU_CAUSE_SIZE_OVERFLOW;
	}
	/* the NPU address space has 39 bits; a larger extent can never map */
	if (extent > (1ull << ANPU_VA_BITS))
		return ANPU_CAUSE_SIZE_OVERFLOW;
	cause = sim_mmu_translate(&mmu, d->addr, extent, write, &dpa, fault_addr);
	if (cause)
		return cause;

	t->data = job->bar + dpa;
	t->npu_addr = d->addr;
	t->dtype = d->dtype;
	memcpy(t->ne, d->ne, sizeof(t->ne));
	t->nb[0] = bb;
	for (int i = 1; i < ANPU_MAX_DIMS; i++)
		t->nb[i] = (size_t)d->nb[i - 1];
	t->row_bytes = (size_t)(d->ne[0] / be) * bb;
	t->extent = (size_t)extent;
	return 0;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	void *p;

	if (need <= *cap)
		return 0;
	p = realloc(*buf, need * elem);
	if (!p)
		return -1;
	*buf = p;
	*cap = need;
	return 0;
}

static uint32_t check_header(const struct sim_cp_job *job, const struct anpu_stream_header *h)
{
	if (h->magic != ANPU_STREAM_MAGIC)
		return ANPU_CAUSE_STREAM_MAGIC;
	if (h->version_major != ANPU_ISA_VERSION_MAJOR || h->version_minor > ANPU_ISA_VERSION_MINOR)
		return ANPU_CAUSE_STREAM_VERSION;
	if (h->reserved0 || h->reserved[0] || h->reserved[1])
		return ANPU_CAUSE_RESERVED_NONZERO;
	if (h->size < sizeof(*h) || h->size > job->cmd_size || h->size > ANPU_STREAM_MAX_SIZE ||
	    (h->size & 7) || h->op_count == 0 || h->op_count > ANPU_STREAM_MAX_OPS)
		return ANPU_CAUSE_STREAM_SIZE;
	/* more ops than the size can hold even without tensors */
	if (h->op_count > (h->size - sizeof(*h)) / sizeof(struct anpu_op))
		return ANPU_CAUSE_STREAM_SIZE;
	if (h->step_params_count > ANPU_STEP_PARAMS_MAX ||
	    (h->step_params_count == 0 && h->step_params_addr != 0))
		return ANPU_CAUSE_STEP_PARAM;
	if (h->step_params_addr & 3)
		return ANPU_CAUSE_ALIGNMENT;
	return 0;
}

/* Structure, params and step scalar of the op at @op_va (already in the snapshot). */
static uint32_t check_op(const struct anpu_op *o, const struct sim_op_class **clsp,
			 const uint32_t *step, uint32_t step_count, uint32_t *pos)
{
	const struct sim_op_class *cls;

	if (o->opcode >= ANPU_OP_COUNT || !sim_op_classes[o->opcode])
		return ANPU_CAUSE_OPCODE;
	cls = sim_op_classes[o->opcode];
	if (o->n_tensors < cls->min_tensors || o->n_tensors > cls->max_tensors ||
	    o->n_tensors > ANPU_OP_MAX_TENSORS)
		return ANPU_CAUSE_TENSOR_COUNT;
	if (o->reserved0)
		return ANPU_CAUSE_RESERVED_NONZERO;
	if (o->flags & ~cls->valid_flags)
		return ANPU_CAUSE_OP_FLAGS;
	if (cls->params_bytes < sizeof(o->params) &&
	    !is_zero((const uint8_t *)&o->params + cls->params_bytes,
		     sizeof(o->params) - cls->params_bytes))
		return ANPU_CAUSE_RESERVED_NONZERO;
	*pos = 0;
	if (cls->pos_offset >= 0) {
		struct anpu_scalar s;

		memcpy(&s, (const uint8_t *)&o->params + cls->pos_offset, sizeof(s));
		if (s.kind == ANPU_SCALAR_IMM)
			*pos = s.value;
		else if (s.kind == ANPU_SCALAR_STEP && s.value < step_count)
			*pos = step[s.value];
		else
			return ANPU_CAUSE_STEP_PARAM;
	}
	*clsp = cls;
	return 0;
}

uint32_t sim_cp_validate(struct sim_cp *cp, const struct sim_cp_job *job,
			 struct sim_cp_error *err)
{
	struct anpu_stream_header h;
	uint32_t step[ANPU_STEP_PARAMS_MAX];
	uint64_t off;

	err->op_index = 0;
	err->fault_addr = job->cmd_addr;
	if (job->cmd_size < sizeof(h)) {
		err->cause = ANPU_CAUSE_STREAM_SIZE;
		return 0;
	}
	err->cause = copy_in(job, job->cmd_addr, sizeof(h), &h, &err->fault_addr);
	if (err->cause)
		return 0;
	err->cause = check_header(job, &h);
	if (err->cause)
		return 0;
	if (grow((void **)&cp->stream, &cp->stream_cap, h.size, 1) ||
	    grow((void **)&cp->ops, &cp->ops_cap, h.op_count, sizeof(struct sim_op))) {
		err->cause = ANPU_CAUSE_STREAM_SIZE;	/* the model is out of memory */
		return 0;
	}
	/* snapshot the whole stream; only h (the first read) describes it */
	err->cause = copy_in(job, job->cmd_addr, h.size, cp->stream, &err->fault_addr);
	if (err->cause)
		return 0;
	if (h.step_params_count) {
		err->fault_addr = h.step_params_addr;
		err->cause = copy_in(job, h.step_params_addr, 4ull * h.step_params_count,
				     step, &err->fault_addr);
		if (err->cause)
			return 0;
	}

	off = sizeof(h);
	for (uint32_t i = 0; i < h.op_count; i++) {
		struct sim_op *op = &cp->ops[i];
		const struct sim_op_class *cls = NULL;
		struct anpu_op o;
		uint32_t cause;

		err->op_index = i;
		err->fault_addr = job->cmd_addr + off;
		if (h.size - off < sizeof(o)) {
			err->cause = ANPU_CAUSE_STREAM_TRUNCATED;
			return 0;
		}
		memcpy(&o, cp->stream + off, sizeof(o));
		/* a truncated op is reported before its other fields are looked at */
		if (h.size - off < ANPU_OP_SIZE(o.n_tensors)) {
			err->cause = ANPU_CAUSE_STREAM_TRUNCATED;
			return 0;
		}
		cause = check_op(&o, &cls, step, h.step_params_count, &op->pos);
		if (cause) {
			err->cause = cause;
			return 0;
		}
		op->index = i;
		op->opcode = o.opcode;
		op->flags = o.flags;
		op->n_tensors = o.n_tensors;
		memcpy(op->params.raw, o.params.raw, sizeof(op->params.raw));
		off += sizeof(o);
		for (unsigned int k = 0; k < o.n_tensors; k++) {
			struct anpu_tensor d;

			memcpy(&d, cp->stream + off, sizeof(d));
			cause = sim_cp_check_tensor(job, &d, (cls->out_mask >> k) & 1,
						    &op->t[k], &err->fault_addr);
			if (cause) {
				err->cause = cause;
				return 0;
			}
			off += sizeof(d);
		}
		if (cls->check) {
			uint64_t fa = job->cmd_addr + (off - ANPU_OP_SIZE(o.n_tensors));

			cause = cls->check(op, &fa);
			if (cause) {
				err->cause = cause;
				err->fault_addr = fa;
				return 0;
			}
		}
	}
	if (off != h.size) {
		err->op_index = 0;
		err->fault_addr = job->cmd_addr;
		err->cause = ANPU_CAUSE_STREAM_SIZE;
		return 0;
	}
	err->cause = 0;
	return h.op_count;
}
