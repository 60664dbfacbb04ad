// SPDX-License-Identifier: MIT
/*
 * Validation of the command processor: every cause validation can produce,
 * with its result, op_index and fault_addr; and faulting or rejected jobs
 * never write outside the job's writable buffers.
 *
 * Each stream is op 0: a valid SCALE (in -> out), op 1: the op under test,
 * so op-level causes report op_index 1 and show that op 0 did not run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/simdev.h"

#define AS		1
#define VA_IN		0x100000ull	/* RO, 64 KiB of F32 */
#define VA_OUT		0x200000ull	/* RW, 64 KiB */
#define VA_STEP		0x300000ull	/* RO step parameters */
#define VA_STRADDLE	0x400000ull	/* two RW pages, not contiguous in DPA */
#define VA_PT		0x500000ull	/* RW page whose PTE a test corrupts */
#define VA_TAB		0x600000ull	/* RO EMBED table F32 [32, 4] */
#define VA_IDS		0x610000ull	/* RO EMBED ids */
#define VA_UNMAPPED	0x900000ull
#define VA_CMD		0x1000000ull	/* streams, one 1 MiB slot per upload */
#define OP1_OFF		(sizeof(struct anpu_stream_header) + ANPU_OP_SIZE(2))
#define N		64		/* floats per SCALE tensor */

struct fx {
	struct simdev d;
	struct simdev_buf in, out, step, pt, tab, ids;
	uint64_t next_cmd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct simdev *d;
	uint64_t a, b;
	int32_t ids[2] = { 1, 9 };

	if (!f || simdev_open(&f->d, ANPU_BAR_MIN_SIZE, 1) || simdev_as_create(&f->d, AS))
		return -1;
	d = &f->d;
	if (simdev_buf(d, AS, VA_IN, 0x10000, false, &f->in) ||
	    simdev_buf(d, AS, VA_OUT, 0x10000, true, &f->out) ||
	    simdev_buf(d, AS, VA_STEP, 0x1000, false, &f->step) ||
	    simdev_buf(d, AS, VA_PT, 0x1000, true, &f->pt) ||
	    simdev_buf(d, AS, VA_TAB, 0x1000, false, &f->tab) ||
	    simdev_buf(d, AS, VA_IDS, 0x1000, false, &f->ids))
		return -1;
	a = simdev_alloc(d, 0x1000, 0x1000);
	simdev_alloc(d, 0x1000, 0x1000);
	b = simdev_alloc(d, 0x1000, 0x1000);
	if (!b || simdev_map(d, AS, VA_STRADDLE, a, 0x1000, true, false) ||
	    simdev_map(d, AS, VA_STRADDLE + 0x1000, b, 0x1000, true, false))
		return -1;
	for (int i = 0; i < N; i++)
		((float *)f->in.host)[i] = (float)i;
	memcpy(f->ids.host, ids, sizeof(ids));
	f->next_cmd = VA_CMD;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	simdev_close(&f->d);
	free(f);
	return 0;
}

static struct anpu_tensor f32(uint64_t addr, uint32_t n)
{
	return simdev_tensor(addr, ANPU_DTYPE_F32, n, 1, 1, 1);
}

/* Stream: valid SCALE, then SCALE x -> y (the op tests tamper with). */
static void scale_pair(struct simdev_stream *s, struct anpu_tensor x, struct anpu_tensor y)
{
	struct anpu_params_scale p = { 2.0f };
	struct anpu_tensor t0[2] = { f32(VA_IN, N), f32(VA_OUT, N) };
	struct anpu_tensor t1[2] = { x, y };

	simdev_stream_init(s);
	simdev_stream_op(s, ANPU_OP_SCALE, 0, &p, sizeof(p), t0, 2);
	simdev_stream_op(s, ANPU_OP_SCALE, 0, &p, sizeof(p), t1, 2);
}

static void valid_pair(struct simdev_stream *s)
{
	scale_pair(s, f32(VA_IN, N), f32(VA_OUT + 0x1000, N));
}

static struct anpu_op *op1(struct simdev_stream *s)
{
	return (struct anpu_op *)(void *)(s->buf + OP1_OFF);
}

static struct anpu_tensor *op1_tensor(struct simdev_stream *s, unsigned int i)
{
	return (struct anpu_tensor *)(void *)(s->buf + OP1_OFF + sizeof(struct anpu_op)) + i;
}

static struct anpu_stream_header *hdr(struct simdev_stream *s)
{
	return (struct anpu_stream_header *)(void *)s->buf;
}

/* Upload @s (already finished) to a fresh slot and describe it. */
static void upload(struct fx *f, struct simdev_stream *s, struct anpu_hw_job_desc *desc)
{
	memset(desc, 0, sizeof(*desc));
	assert_int_equal(simdev_stream_upload(&f->d, AS, f->next_cmd, s, desc), 0);
	f->next_cmd += 0x100000;
}

static void run_desc(struct fx *f, const struct anpu_hw_job_desc *desc,
		     struct anpu_hw_job_status *st)
{
	assert_int_equal(simdev_run(&f->d, 1, desc, st), 0);
}

/* Run @s as is; the out buffer is cleared first so "op 0 did not run" shows. */
static struct anpu_hw_job_status run(struct fx *f, struct simdev_stream *s,
				     struct anpu_hw_job_desc *desc)
{
	struct anpu_hw_job_status st;

	memset(f->out.host, 0, f->out.size);
	upload(f, s, desc);
	run_desc(f, desc, &st);
	simdev_stream_free(s);
	return st;
}

/* Spec: translation failures are MMU faults; other validation causes mean a malformed job. */
static uint32_t rejected_result(uint32_t cause)
{
	return cause == ANPU_CAUSE_UNMAPPED || cause == ANPU_CAUSE_PERMISSION ||
	       cause == ANPU_CAUSE_STRADDLE || cause == ANPU_CAUSE_PAGE_TABLE ?
	       ANPU_RESULT_FAULT : ANPU_RESULT_INVALID;
}

/* Rejected before any op ran, with @cause at @op_index / @fault_addr. */
static void assert_invalid(const struct anpu_hw_job_status *st, uint32_t cause,
			   uint32_t op_index, uint64_t fault_addr)
{
	assert_int_equal(st->result, rejected_result(cause));
	assert_int_equal(st->cause, cause);
	assert_int_equal(st->op_index, op_index);
	assert_int_equal(st->ops_done, 0);
	assert_int_equal(st->fault_addr, fault_addr);
}

static void assert_out_untouched(struct fx *f)
{
	for (size_t i = 0; i < f->out.size; i++)
		if (((uint8_t *)f->out.host)[i])
			fail_msg("out buffer written at byte %zu", i);
}

/* A valid pair, finished, for a test to tamper with. */
static void tampered_pair(struct simdev_stream *s)
{
	valid_pair(s);
	simdev_stream_finish(s, 0, 0);
}

/* Where a rejection's fault_addr points: into the stream (cmd_addr + off) or at a VA. */
struct fault_at {
	bool in_stream;
	uint64_t addr;
};
#define AT_HEADER	((struct fault_at){ true, 0 })
#define AT_OP1		((struct fault_at){ true, OP1_OFF })
#define AT_VA(va)	((struct fault_at){ false, (va) })

/* Run the tampered stream @s: rejected with @cause at @op_index and @at. */
static void assert_tampered_rejected(struct fx *f, struct simdev_stream *s, uint32_t cause,
				     uint32_t op_index, struct fault_at at)
{
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st = run(f, s, &desc);

	assert_invalid(&st, cause, op_index, at.in_stream ? desc.cmd_addr + at.addr : at.addr);
}

static void test_valid_stream_runs(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	valid_pair(&s);
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	assert_int_equal(st.cause, ANPU_CAUSE_NONE);
	assert_int_equal(st.op_index, 2);
	assert_true(((float *)f->out.host)[3] == 6.0f);
}

static void test_descriptor_reserved_field_is_descriptor(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	valid_pair(&s);
	simdev_stream_finish(&s, 0, 0);
	upload(f, &s, &desc);
	simdev_stream_free(&s);
	desc.reserved0 = 1;
	run_desc(f, &desc, &st);
	assert_invalid(&st, ANPU_CAUSE_DESCRIPTOR, 0, 0);
	desc.reserved0 = 0;
	desc.flags = 0x80;
	run_desc(f, &desc, &st);
	assert_invalid(&st, ANPU_CAUSE_DESCRIPTOR, 0, 0);
}

static void test_address_space_without_root_is_address_space(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	valid_pair(&s);
	simdev_stream_finish(&s, 0, 0);
	upload(f, &s, &desc);
	simdev_stream_free(&s);
	desc.asid = 7;
	run_desc(f, &desc, &st);
	assert_invalid(&st, ANPU_CAUSE_ADDRESS_SPACE, 0, 0);
	desc.asid = ANPU_HW_NUM_AS;
	run_desc(f, &desc, &st);
	assert_invalid(&st, ANPU_CAUSE_ADDRESS_SPACE, 0, 0);
}

static void test_bad_magic_is_stream_magic(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	hdr(&s)->magic ^= 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_STREAM_MAGIC, 0, AT_HEADER);
}

static void test_newer_major_version_is_stream_version(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	hdr(&s)->version_major = ANPU_ISA_VERSION_MAJOR + 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_STREAM_VERSION, 0, AT_HEADER);
}

/* ISA 1.1 added types, not changes: a stream written for 1.0 runs as it did. */
static void test_older_minor_version_runs(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	valid_pair(&s);
	simdev_stream_finish(&s, 0, 0);
	hdr(&s)->version_minor = 0;
	st = run(f, &s, &desc);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	assert_true(((float *)f->out.host)[3] == 6.0f);
}

static void test_newer_minor_version_is_stream_version(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	hdr(&s)->version_minor = ANPU_ISA_VERSION_MINOR + 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_STREAM_VERSION, 0, AT_HEADER);
}

static void test_header_size_beyond_cmd_size_is_stream_size(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	hdr(&s)->size += 8;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_STREAM_SIZE, 0, AT_HEADER);
}

static void test_ops_ending_before_size_is_stream_size(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	valid_pair(&s);
	simdev_stream_op(&s, ANPU_OP_NOP, 0, NULL, 0, NULL, 0);
	simdev_stream_finish(&s, 0, 0);
	hdr(&s)->op_count = 2;	/* the NOP is left over */
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_STREAM_SIZE, 0, desc.cmd_addr);
}

static void test_op_past_stream_end_is_stream_truncated(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->n_tensors = 3;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_STREAM_TRUNCATED, 1, AT_OP1);
}

static void test_reserved_op_byte_is_reserved_nonzero(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->reserved0 = 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_RESERVED_NONZERO, 1, AT_OP1);
	assert_out_untouched(*state);
}

static void test_unused_param_bytes_are_reserved_nonzero(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->params.raw[7] = 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_RESERVED_NONZERO, 1, AT_OP1);
}

static void test_reserved_header_field_is_reserved_nonzero(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	hdr(&s)->reserved[1] = 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_RESERVED_NONZERO, 0, AT_HEADER);
}

static void test_unknown_opcode_is_opcode(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->opcode = ANPU_OP_COUNT;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_OPCODE, 1, AT_OP1);
}

static void test_wrong_tensor_count_is_tensor_count(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->opcode = ANPU_OP_NOP;	/* NOP takes no tensors */
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_TENSOR_COUNT, 1, AT_OP1);
}

static void test_undefined_op_flag_is_op_flags(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->flags = 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_OP_FLAGS, 1, AT_OP1);
}

static void test_tensor_flag_is_op_flags(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1_tensor(&s, 0)->flags = 1;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_OP_FLAGS, 1, AT_VA(VA_IN));
}

static void test_non_finite_scale_is_param(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1(&s)->params.scale.s = NAN;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_PARAM, 1, AT_OP1);
	assert_out_untouched(*state);
}

static void test_unknown_dtype_is_dtype(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1_tensor(&s, 0)->dtype = 4;	/* between Q4_1 (3) and Q5_0 (6): not a type */
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_DTYPE, 1, AT_VA(VA_IN));
}

static void test_zero_dimension_is_shape(void **state)
{
	struct simdev_stream s;

	tampered_pair(&s);
	op1_tensor(&s, 1)->ne[2] = 0;
	assert_tampered_rejected(*state, &s, ANPU_CAUSE_SHAPE, 1, AT_VA(VA_OUT + 0x1000));
}

static void test_overlapping_rows_are_stride(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	struct anpu_tensor x = simdev_tensor(VA_IN, ANPU_DTYPE_F32, 16, 2, 1, 1);
	struct anpu_tensor y = simdev_tensor(VA_OUT + 0x1000, ANPU_DTYPE_F32, 16, 2, 1, 1);

	y.nb[0] = 32;	/* rows are 64 bytes */
	scale_pair(&s, x, y);
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_STRIDE, 1, VA_OUT + 0x1000);
}

/*
 * The row-interleaved types (Q4_KL, ISA 1.3; Q6_KL, 1.4; Q4_0L, 1.5) come in
 * whole groups of 16 dense rows: a partial group is SHAPE, rows further
 * apart than their bytes STRIDE.
 */
static void test_row_groups_partial_is_shape_apart_is_stride(void **state)
{
	static const uint32_t dtypes[] = { ANPU_DTYPE_Q4_KL, ANPU_DTYPE_Q6_KL, ANPU_DTYPE_Q4_0L };
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++) {
		struct simdev_stream s;
		struct anpu_hw_job_desc desc;
		struct anpu_hw_job_status st;
		struct anpu_tensor x = simdev_tensor(VA_IN, dtypes[i], 256, 24, 1, 1);

		scale_pair(&s, x, simdev_tensor(VA_OUT + 0x1000, ANPU_DTYPE_F32, 16, 2, 1, 1));
		simdev_stream_finish(&s, 0, 0);
		st = run(f, &s, &desc);
		assert_invalid(&st, ANPU_CAUSE_SHAPE, 1, VA_IN);

		x = simdev_tensor(VA_IN, dtypes[i], 256, 16, 1, 1);
		x.nb[0] += 2;	/* a group's rows are dense */
		scale_pair(&s, x, simdev_tensor(VA_OUT + 0x1000, ANPU_DTYPE_F32, 16, 2, 1, 1));
		simdev_stream_finish(&s, 0, 0);
		st = run(f, &s, &desc);
		assert_invalid(&st, ANPU_CAUSE_STRIDE, 1, VA_IN);
	}
}

static void test_misaligned_stride_is_stride(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	struct anpu_tensor x = simdev_tensor(VA_IN, ANPU_DTYPE_F32, 16, 2, 1, 1);

	x.nb[0] = 66;
	scale_pair(&s, x, simdev_tensor(VA_OUT + 0x1000, ANPU_DTYPE_F32, 16, 2, 1, 1));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_STRIDE, 1, VA_IN);
}

static void test_overflowing_extent_is_size_overflow(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	struct anpu_tensor x = simdev_tensor(VA_IN, ANPU_DTYPE_F32, 16, 0xffffffffu, 1, 1);

	x.nb[0] = 1ull << 40;
	scale_pair(&s, x, f32(VA_OUT + 0x1000, 16));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_SIZE_OVERFLOW, 1, VA_IN);
}

static void test_step_slot_beyond_count_is_step_param(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	struct anpu_params_kv_store p = { .pos = { ANPU_SCALAR_STEP, 3 } };
	struct anpu_tensor t[2] = { f32(VA_IN, N), f32(VA_OUT + 0x1000, N) };

	valid_pair(&s);
	simdev_stream_op(&s, ANPU_OP_KV_STORE, 0, &p, sizeof(p), t, 2);
	simdev_stream_finish(&s, 2, VA_STEP);	/* slots 0 and 1 */
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_STEP_PARAM, 2,
		       desc.cmd_addr + OP1_OFF + ANPU_OP_SIZE(2));
}

static void test_unmapped_step_params_are_unmapped(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	valid_pair(&s);
	simdev_stream_finish(&s, 4, VA_UNMAPPED);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_UNMAPPED, 0, VA_UNMAPPED);
}

static void test_unmapped_tensor_is_unmapped(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	scale_pair(&s, f32(VA_UNMAPPED + 0x40, N), f32(VA_OUT + 0x1000, N));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_UNMAPPED, 1, VA_UNMAPPED + 0x40);
	assert_out_untouched(f);
}

static void test_output_in_read_only_buffer_is_permission(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	scale_pair(&s, f32(VA_IN, N), f32(VA_IN + 0x1000, N));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_PERMISSION, 1, VA_IN + 0x1000);
}

static void test_tensor_over_two_mappings_is_straddle(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	scale_pair(&s, f32(VA_IN, N), f32(VA_STRADDLE + 0x1000 - 64, N));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_STRADDLE, 1, VA_STRADDLE + 0x1000);
}

static void test_malformed_pte_is_page_table(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	uint64_t *pte = simdev_pte(&f->d, AS, VA_PT, 2);
	uint64_t saved = *pte;

	*pte |= 1ull << 55;
	scale_pair(&s, f32(VA_IN, N), f32(VA_PT, N));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	*pte = saved;
	assert_invalid(&st, ANPU_CAUSE_PAGE_TABLE, 1, (uint64_t)((uint8_t *)pte - f->d.bar));
}

static void test_misaligned_tensor_address_is_alignment(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	scale_pair(&s, f32(VA_IN + 2, N), f32(VA_OUT + 0x1000, N));
	simdev_stream_finish(&s, 0, 0);
	st = run(f, &s, &desc);
	assert_invalid(&st, ANPU_CAUSE_ALIGNMENT, 1, VA_IN + 2);
}

/* op 0 SCALE writes out; op 1 EMBED reads id 9 of a 4-row table. */
static void embed_fault_stream(struct simdev_stream *s)
{
	struct anpu_params_scale p = { 2.0f };
	struct anpu_tensor t0[2] = { f32(VA_IN, N), f32(VA_OUT, N) };
	struct anpu_tensor t1[3] = {
		simdev_tensor(VA_TAB, ANPU_DTYPE_F32, 32, 4, 1, 1),
		simdev_tensor(VA_IDS, ANPU_DTYPE_I32, 2, 1, 1, 1),
		simdev_tensor(VA_OUT + 0x1000, ANPU_DTYPE_F32, 32, 2, 1, 1),
	};

	simdev_stream_init(s);
	simdev_stream_op(s, ANPU_OP_SCALE, 0, &p, sizeof(p), t0, 2);
	simdev_stream_op(s, ANPU_OP_EMBED, 0, NULL, 0, t1, 3);
	simdev_stream_finish(s, 0, 0);
}

static void test_embed_id_outside_table_faults_index_after_earlier_ops(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;

	embed_fault_stream(&s);
	st = run(f, &s, &desc);
	assert_int_equal(st.result, ANPU_RESULT_FAULT);
	assert_int_equal(st.cause, ANPU_CAUSE_INDEX);
	assert_int_equal(st.op_index, 1);
	assert_int_equal(st.ops_done, 1);
	assert_in_range(st.fault_addr, VA_IDS, VA_IDS + 7);
	assert_true(((float *)f->out.host)[3] == 6.0f);
}

/* Copy of device memory. */
static uint8_t *snapshot(struct fx *f)
{
	size_t n = f->d.bar_size - ANPU_DEVMEM_BASE;
	uint8_t *copy = malloc(n);

	assert_non_null(copy);
	memcpy(copy, f->d.bar + ANPU_DEVMEM_BASE, n);
	return copy;
}

/* Compare device memory with @copy except the DPA ranges given (pairs). */
static void assert_unchanged_except(struct fx *f, const uint8_t *copy, const uint64_t *skip,
				    int n_skip)
{
	for (uint64_t dpa = ANPU_DEVMEM_BASE; dpa < f->d.bar_size; dpa++) {
		int skipped = 0;

		for (int i = 0; i < n_skip; i++)
			if (dpa >= skip[2 * i] && dpa < skip[2 * i] + skip[2 * i + 1])
				skipped = 1;
		if (skipped)
			continue;
		if (f->d.bar[dpa] != copy[dpa - ANPU_DEVMEM_BASE])
			fail_msg("device memory changed at DPA 0x%llx", (unsigned long long)dpa);
	}
}

static void test_faulting_job_writes_only_its_writable_buffers(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	struct simdev_job job;
	uint8_t *copy;
	uint64_t free_dpa;

	embed_fault_stream(&s);
	upload(f, &s, &desc);
	simdev_stream_free(&s);
	desc.status_addr = simdev_alloc(&f->d, 64, 64);
	/* a pattern everywhere nothing lives yet, and in the buffers */
	free_dpa = f->d.next_free;
	memset(f->d.bar + free_dpa, 0xa5, f->d.bar_size - free_dpa);
	memset(f->out.host, 0x5a, f->out.size);
	memset((uint8_t *)f->pt.host, 0x5a, f->pt.size);
	copy = snapshot(f);
	assert_int_equal(simdev_submit(&f->d, 1, &desc, &job), 0);
	assert_int_equal(simdev_wait(&f->d, &job, 5000), 0);
	simdev_status(&f->d, &job, &st);
	assert_int_equal(st.result, ANPU_RESULT_FAULT);
	{
		uint64_t skip[] = { f->out.dpa, f->out.size, desc.status_addr, 64,
				    f->d.q[1].ring_dpa, SIMDEV_RING_ENTRIES * 64 };

		assert_unchanged_except(f, copy, skip, 3);
	}
	free(copy);
}

static void test_rejected_job_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct simdev_stream s;
	struct anpu_hw_job_desc desc;
	struct anpu_hw_job_status st;
	struct simdev_job job;
	uint8_t *copy;

	scale_pair(&s, f32(VA_IN, N), f32(VA_IN + 0x1000, N));
	simdev_stream_finish(&s, 0, 0);
	upload(f, &s, &desc);
	simdev_stream_free(&s);
	desc.status_addr = simdev_alloc(&f->d, 64, 64);
	memset(f->out.host, 0x5a, f->out.size);
	copy = snapshot(f);
	assert_int_equal(simdev_submit(&f->d, 1, &desc, &job), 0);
	assert_int_equal(simdev_wait(&f->d, &job, 5000), 0);
	simdev_status(&f->d, &job, &st);
	/* the write to a read-only input is an MMU fault found before any op ran */
	assert_int_equal(st.result, ANPU_RESULT_FAULT);
	assert_int_equal(st.cause, ANPU_CAUSE_PERMISSION);
	assert_int_equal(st.ops_done, 0);
	{
		uint64_t skip[] = { desc.status_addr, 64,
				    f->d.q[1].ring_dpa, SIMDEV_RING_ENTRIES * 64 };

		assert_unchanged_except(f, copy, skip, 2);
	}
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_stream_runs),
		cmocka_unit_test(test_descriptor_reserved_field_is_descriptor),
		cmocka_unit_test(test_address_space_without_root_is_address_space),
		cmocka_unit_test(test_bad_magic_is_stream_magic),
		cmocka_unit_test(test_newer_major_version_is_stream_version),
		cmocka_unit_test(test_older_minor_version_runs),
		cmocka_unit_test(test_newer_minor_version_is_stream_version),
		cmocka_unit_test(test_header_size_beyond_cmd_size_is_stream_size),
		cmocka_unit_test(test_ops_ending_before_size_is_stream_size),
		cmocka_unit_test(test_op_past_stream_end_is_stream_truncated),
		cmocka_unit_test(test_reserved_op_byte_is_reserved_nonzero),
		cmocka_unit_test(test_unused_param_bytes_are_reserved_nonzero),
		cmocka_unit_test(test_reserved_header_field_is_reserved_nonzero),
		cmocka_unit_test(test_unknown_opcode_is_opcode),
		cmocka_unit_test(test_wrong_tensor_count_is_tensor_count),
		cmocka_unit_test(test_undefined_op_flag_is_op_flags),
		cmocka_unit_test(test_tensor_flag_is_op_flags),
		cmocka_unit_test(test_non_finite_scale_is_param),
		cmocka_unit_test(test_unknown_dtype_is_dtype),
		cmocka_unit_test(test_zero_dimension_is_shape),
		cmocka_unit_test(test_overlapping_rows_are_stride),
		cmocka_unit_test(test_row_groups_partial_is_shape_apart_is_stride),
		cmocka_unit_test(test_misaligned_stride_is_stride),
		cmocka_unit_test(test_overflowing_extent_is_size_overflow),
		cmocka_unit_test(test_step_slot_beyond_count_is_step_param),
		cmocka_unit_test(test_unmapped_step_params_are_unmapped),
		cmocka_unit_test(test_unmapped_tensor_is_unmapped),
		cmocka_unit_test(test_output_in_read_only_buffer_is_permission),
		cmocka_unit_test(test_tensor_over_two_mappings_is_straddle),
		cmocka_unit_test(test_malformed_pte_is_page_table),
		cmocka_unit_test(test_misaligned_tensor_address_is_alignment),
		cmocka_unit_test(test_embed_id_outside_table_faults_index_after_earlier_ops),
		cmocka_unit_test(test_faulting_job_writes_only_its_writable_buffers),
		cmocka_unit_test(test_rejected_job_writes_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
