// SPDX-License-Identifier: MIT
/* Profiling buffers (ANPU_DESC_F_PROFILE): header, records, cycles, overflow, bad buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_ops.h"
#include "tests/lib/simdev.h"

#define AS		1
#define VA_IN		0x100000ull	/* RO F32 */
#define VA_OUT		0x200000ull	/* RW */
#define VA_PROF		0x300000ull	/* RW profiling buffer, 64 KiB */
#define VA_RO		0x400000ull	/* RO page */
#define VA_CMD		0x1000000ull
#define N		4096		/* floats per SCALE */

struct fx {
	struct simdev d;
	struct simdev_buf in, out, prof, ro;
	struct anpu_hw_job_desc desc;	/* NOP, SCALE, TIMESTAMP, SCALE, NOP */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct anpu_params_scale p = { 0.5f };
	struct anpu_tensor sc[2], ts;
	struct simdev_stream s;

	if (!f || simdev_open(&f->d, ANPU_BAR_MIN_SIZE, 1) || simdev_as_create(&f->d, AS) ||
	    simdev_buf(&f->d, AS, VA_IN, N * 4, false, &f->in) ||
	    simdev_buf(&f->d, AS, VA_OUT, N * 4 + 0x1000, true, &f->out) ||
	    simdev_buf(&f->d, AS, VA_PROF, 0x10000, true, &f->prof) ||
	    simdev_buf(&f->d, AS, VA_RO, 0x1000, false, &f->ro))
		return -1;
	sc[0] = simdev_tensor(VA_IN, ANPU_DTYPE_F32, N, 1, 1, 1);
	sc[1] = simdev_tensor(VA_OUT, ANPU_DTYPE_F32, N, 1, 1, 1);
	ts = simdev_tensor(VA_OUT + N * 4, ANPU_DTYPE_I32, 2, 1, 1, 1);
	simdev_stream_init(&s);
	simdev_stream_op(&s, ANPU_OP_NOP, 0, NULL, 0, NULL, 0);
	simdev_stream_op(&s, ANPU_OP_SCALE, 0, &p, sizeof(p), sc, 2);
	simdev_stream_op(&s, ANPU_OP_TIMESTAMP, 0, NULL, 0, &ts, 1);
	simdev_stream_op(&s, ANPU_OP_SCALE, 0, &p, sizeof(p), sc, 2);
	simdev_stream_op(&s, ANPU_OP_NOP, 0, NULL, 0, NULL, 0);
	if (!simdev_stream_finish(&s, 0, 0) || simdev_stream_upload(&f->d, AS, VA_CMD, &s, &f->desc))
		return -1;
	simdev_stream_free(&s);
	f->desc.flags = ANPU_DESC_F_PROFILE;
	f->desc.profile_addr = VA_PROF;
	f->desc.profile_size = 0x10000;
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

static struct anpu_hw_profile_header header(struct fx *f)
{
	struct anpu_hw_profile_header h;

	memcpy(&h, f->prof.host, sizeof(h));
	return h;
}

static struct anpu_hw_profile_record record(struct fx *f, unsigned int i)
{
	struct anpu_hw_profile_record r;

	memcpy(&r, (uint8_t *)f->prof.host + sizeof(struct anpu_hw_profile_header) + i * sizeof(r),
	       sizeof(r));
	return r;
}

static void run_ok(struct fx *f, const struct anpu_hw_job_desc *desc, struct anpu_hw_job_status *st)
{
	memset(f->prof.host, 0xee, f->prof.size);
	assert_int_equal(simdev_run(&f->d, 1, desc, st), 0);
}

static void test_header_describes_the_buffer(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;
	struct anpu_hw_profile_header h;

	run_ok(f, &f->desc, &st);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	h = header(f);
	assert_int_equal(h.magic, ANPU_PROFILE_MAGIC);
	assert_int_equal(h.version, ANPU_PROFILE_VERSION);
	assert_int_equal(h.capacity, (0x10000 - sizeof(h)) / sizeof(struct anpu_hw_profile_record));
	assert_int_equal(h.clock_hz_div1k, ANPU_COST_CLOCK_HZ / 1000);
	assert_int_equal(h.dropped, 0);
}

static void test_one_record_per_op_in_order(void **state)
{
	struct fx *f = *state;
	static const uint16_t opcodes[5] = { ANPU_OP_NOP, ANPU_OP_SCALE, ANPU_OP_TIMESTAMP,
					     ANPU_OP_SCALE, ANPU_OP_NOP };
	struct anpu_hw_job_status st;
	uint64_t prev_end;

	run_ok(f, &f->desc, &st);
	assert_int_equal(header(f).count, 5);
	prev_end = st.start_ns;
	for (unsigned int i = 0; i < 5; i++) {
		struct anpu_hw_profile_record r = record(f, i);

		assert_int_equal(r.op_index, i);
		assert_int_equal(r.opcode, opcodes[i]);
		assert_true(r.start_ns >= prev_end);
		assert_true(r.end_ns >= r.start_ns);
		prev_end = r.end_ns;
	}
	assert_true(prev_end <= st.end_ns);
	assert_int_equal(record(f, 1).dtype, ANPU_DTYPE_F32);
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static void test_cycles_follow_the_cost_profile(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_status st;
	struct anpu_hw_profile_record nop, scale;
	uint64_t compute, memory;

	run_ok(f, &f->desc, &st);
	nop = record(f, 0);
	assert_int_equal(nop.cycles, ANPU_COST_OP_OVERHEAD_CYCLES + ceil_div(nop.bytes, 64));
	scale = record(f, 1);
	assert_int_equal(scale.macs, N);
	assert_true(scale.bytes >= 8ull * N);
	compute = ceil_div(scale.macs, ANPU_COST_MACS_PER_CYCLE_F32);
	memory = ceil_div(scale.bytes, ANPU_COST_DRAM_BYTES_PER_CYCLE);
	assert_int_equal(scale.cycles,
			 ANPU_COST_OP_OVERHEAD_CYCLES + (compute > memory ? compute : memory));
}

static void test_records_beyond_capacity_are_dropped(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_desc desc = f->desc;
	struct anpu_hw_job_status st;
	struct anpu_hw_profile_header h;

	desc.profile_size = sizeof(h) + 2 * sizeof(struct anpu_hw_profile_record) + 8;
	run_ok(f, &desc, &st);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	h = header(f);
	assert_int_equal(h.capacity, 2);
	assert_int_equal(h.count, 2);
	assert_int_equal(h.dropped, 3);
	/* nothing written past the buffer */
	assert_int_equal(((uint8_t *)f->prof.host)[desc.profile_size], 0xee);
}

static void test_header_only_buffer_drops_every_record(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_desc desc = f->desc;
	struct anpu_hw_job_status st;

	desc.profile_size = sizeof(struct anpu_hw_profile_header);
	run_ok(f, &desc, &st);
	assert_int_equal(header(f).count, 0);
	assert_int_equal(header(f).dropped, 5);
}

static void assert_bad_profile_buffer(struct fx *f, uint64_t addr, uint32_t size)
{
	struct anpu_hw_job_desc desc = f->desc;
	struct anpu_hw_job_status st;

	desc.profile_addr = addr;
	desc.profile_size = size;
	memset(f->out.host, 0, f->out.size);
	assert_int_equal(simdev_run(&f->d, 1, &desc, &st), 0);
	assert_int_equal(st.result, ANPU_RESULT_INVALID);
	assert_int_equal(st.cause, ANPU_CAUSE_PROFILE_BUFFER);
	assert_int_equal(st.ops_done, 0);
	assert_true(((float *)f->out.host)[0] == 0.0f);	/* nothing ran */
}

static void test_read_only_profile_buffer_is_profile_buffer(void **state)
{
	assert_bad_profile_buffer(*state, VA_RO, 0x1000);
}

static void test_unmapped_profile_buffer_is_profile_buffer(void **state)
{
	assert_bad_profile_buffer(*state, 0x7000000, 0x1000);
}

static void test_misaligned_profile_buffer_is_profile_buffer(void **state)
{
	assert_bad_profile_buffer(*state, VA_PROF + 4, 0x1000);
}

static void test_too_small_profile_buffer_is_profile_buffer(void **state)
{
	assert_bad_profile_buffer(*state, VA_PROF, sizeof(struct anpu_hw_profile_header) - 8);
}

static void test_profile_buffer_past_its_mapping_is_profile_buffer(void **state)
{
	assert_bad_profile_buffer(*state, VA_PROF, 0x10000 + 0x1000);
}

/* Qwen2.5-0.5B's shape: 14 query heads share 2 KV heads; K/V bytes count per KV head. */
static void test_attention_bytes_count_kv_heads(void **state)
{
	const uint64_t hd = 64, n_head = 14, n_kv = 2, m = 3, pos = 5;
	struct sim_op op = { .opcode = ANPU_OP_ATTENTION, .n_tensors = 4, .pos = pos };
	struct sim_op_cost cost = { 0 };
	uint64_t kv_rows = 0, macs = 0;

	(void)state;
	op.t[0] = (struct sim_tensor){ .dtype = ANPU_DTYPE_F32, .ne = { hd, n_head, m, 1 } };
	op.t[1] = (struct sim_tensor){ .dtype = ANPU_DTYPE_F16, .ne = { hd * n_kv, 64, 1, 1 } };
	op.t[2] = (struct sim_tensor){ .dtype = ANPU_DTYPE_F32, .ne = { hd * n_kv, 64, 1, 1 } };
	op.t[3] = op.t[0];
	sim_op_attention.cost(&op, &cost);
	for (uint64_t i = 0; i < m; i++) {
		kv_rows += pos + i + 1;
		macs += 2 * hd * n_head * (pos + i + 1);
	}
	assert_int_equal(cost.macs, macs);
	assert_int_equal(cost.bytes, kv_rows * hd * n_kv * (2 + 4) + 8 * hd * n_head * m);
}

static void test_no_profile_flag_leaves_buffer_untouched(void **state)
{
	struct fx *f = *state;
	struct anpu_hw_job_desc desc = f->desc;
	struct anpu_hw_job_status st;

	desc.flags = 0;
	run_ok(f, &desc, &st);
	assert_int_equal(st.result, ANPU_RESULT_OK);
	assert_int_equal(((uint8_t *)f->prof.host)[0], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_describes_the_buffer),
		cmocka_unit_test(test_one_record_per_op_in_order),
		cmocka_unit_test(test_cycles_follow_the_cost_profile),
		cmocka_unit_test(test_records_beyond_capacity_are_dropped),
		cmocka_unit_test(test_header_only_buffer_drops_every_record),
		cmocka_unit_test(test_read_only_profile_buffer_is_profile_buffer),
		cmocka_unit_test(test_unmapped_profile_buffer_is_profile_buffer),
		cmocka_unit_test(test_misaligned_profile_buffer_is_profile_buffer),
		cmocka_unit_test(test_too_small_profile_buffer_is_profile_buffer),
		cmocka_unit_test(test_profile_buffer_past_its_mapping_is_profile_buffer),
		cmocka_unit_test(test_no_profile_flag_leaves_buffer_untouched),
		cmocka_unit_test(test_attention_bytes_count_kv_heads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
