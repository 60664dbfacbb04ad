// SPDX-License-Identifier: MIT
/*
 * Op labels (accel.h, "Op labels"): the rules of accel_cmdbuf_set_op_label(),
 * op descriptions, and labels coming back with profiling records (also of a
 * resubmitted command buffer, and after its handle was freed) and to
 * observers. Runs against the backend ANPU_DEVICE names (default "sim").
 */
#include "accel_test_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SEC 1000000000ll

/* x F32 [K, M], w F32 [K, N], bias F32 [N], y F32 [N, M] in one BO */
enum { K = 64, N = 32, M = 4 };

struct mm {
	struct accel_bo *bo;
	struct accel_tensor x, w, bias, y;
};

static void mm_make(struct mm *t)
{
	uint64_t off = 0, bytes = 4ull * (K * M + K * N + N + N * M);

	assert_int_equal(accel_bo_create(accel_test_dev, bytes, 0, &t->bo), 0);
	t->x = accel_tensor_packed(t->bo, off, ACCEL_F32, K, M, 1, 1);
	off += 4ull * K * M;
	t->w = accel_tensor_packed(t->bo, off, ACCEL_F32, K, N, 1, 1);
	off += 4ull * K * N;
	t->bias = accel_tensor_packed(t->bo, off, ACCEL_F32, N, 1, 1, 1);
	off += 4ull * N;
	t->y = accel_tensor_packed(t->bo, off, ACCEL_F32, N, M, 1, 1);
}

/* "blk.<layer>.<role>" for op i of the labelled test buffer; op 1 has no label */
static void want_label(char *buf, size_t n, uint32_t i)
{
	if (i == 1)
		snprintf(buf, n, "%s", "");
	else
		snprintf(buf, n, "blk.%u.attn_q", i);
}

/* MATMUL, NOP, MATMUL, ... (@n ops), labelled as want_label() says */
static struct accel_cmdbuf *labelled(const struct mm *t, uint32_t n, unsigned int step_params)
{
	struct accel_cmdbuf_params cp = accel_cmdbuf_default_params();
	struct accel_cmdbuf *cb;
	char label[ACCEL_OP_LABEL_MAX];

	cp.step_params = step_params;
	cp.label = "labelled";
	assert_int_equal(accel_cmdbuf_create(accel_test_dev, &cp, &cb), 0);
	for (uint32_t i = 0; i < n; i++) {
		if (i % 2)
			assert_int_equal(accel_cmd_nop(cb), 0);
		else
			assert_int_equal(accel_cmd_matmul(cb, &t->x, &t->w, &t->bias, &t->y, 0), 0);
		want_label(label, sizeof(label), i);
		if (*label)
			assert_int_equal(accel_cmdbuf_set_op_label(cb, i, label), 0);
	}
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	return cb;
}

static void set_op_label_rules(void **state)
{
	struct accel_cmdbuf *cb;
	char longest[ACCEL_OP_LABEL_MAX], too_long[ACCEL_OP_LABEL_MAX + 1];
	const char *before;

	(void)state;
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'b', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(accel_cmdbuf_create(accel_test_dev, NULL, &cb), 0);
	/* no op recorded yet */
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "x"), -EINVAL);
	assert_non_null(strstr(accel_cmdbuf_error(cb), "only 0 ops"));
	assert_null(accel_cmdbuf_op_label(cb, 0));
	assert_int_equal(accel_cmd_nop(cb), 0);
	assert_int_equal(accel_cmd_nop(cb), 0);
	assert_string_equal(accel_cmdbuf_op_label(cb, 0), "");	/* unlabelled */
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 2, "x"), -EINVAL);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, UINT32_MAX, "x"), -EINVAL);
	assert_null(accel_cmdbuf_op_label(cb, 2));
	/* NULL, too long, control characters: refused, the old label stays */
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "blk.0.attn_q"), 0);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, NULL), -EINVAL);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, too_long), -ENAMETOOLONG);
	assert_non_null(strstr(accel_cmdbuf_error(cb), "label of op 0"));
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "tab\there"), -EINVAL);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "del\x7f"), -EINVAL);
	assert_string_equal(accel_cmdbuf_op_label(cb, 0), "blk.0.attn_q");
	/* the longest label fits whole; relabelling, shorter and longer, replaces */
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 1, longest), 0);
	assert_string_equal(accel_cmdbuf_op_label(cb, 1), longest);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "out"), 0);
	assert_string_equal(accel_cmdbuf_op_label(cb, 0), "out");
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "blk.12.ffn_down"), 0);
	assert_string_equal(accel_cmdbuf_op_label(cb, 0), "blk.12.ffn_down");
	assert_string_equal(accel_cmdbuf_op_label(cb, 1), longest);
	/* "" removes the label */
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 1, ""), 0);
	assert_string_equal(accel_cmdbuf_op_label(cb, 1), "");
	/* a failed encoder records no op, so there is nothing to label */
	assert_int_equal(accel_cmd_matmul(cb, NULL, NULL, NULL, NULL, 0), -EINVAL);
	assert_int_equal(accel_cmdbuf_op_count(cb), 2);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 2, "x"), -EINVAL);
	/* finished: labels are fixed and stay */
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	before = accel_cmdbuf_op_label(cb, 0);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "late"), -EBUSY);
	assert_ptr_equal(accel_cmdbuf_op_label(cb, 0), before);
	assert_string_equal(before, "blk.12.ffn_down");
	assert_int_equal(accel_cmdbuf_free(cb), 0);
	/* a freed handle */
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "x"), -EBADF);
	assert_null(accel_cmdbuf_op_label(cb, 0));
	assert_int_equal(accel_cmdbuf_set_op_label(NULL, 0, "x"), -EBADF);
	assert_null(accel_cmdbuf_op_label(NULL, 0));
}

static void many_labels_share_one_arena(void **state)
{
	enum { OPS = 3000 };
	struct accel_cmdbuf *cb;
	char label[ACCEL_OP_LABEL_MAX];

	(void)state;
	assert_int_equal(accel_cmdbuf_create(accel_test_dev, NULL, &cb), 0);
	for (uint32_t i = 0; i < OPS; i++) {
		assert_int_equal(accel_cmd_nop(cb), 0);
		snprintf(label, sizeof(label), "blk.%u.op_with_a_longish_name", i);
		assert_int_equal(accel_cmdbuf_set_op_label(cb, i, label), 0);
	}
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	for (uint32_t i = 0; i < OPS; i++) {
		snprintf(label, sizeof(label), "blk.%u.op_with_a_longish_name", i);
		assert_string_equal(accel_cmdbuf_op_label(cb, i), label);
	}
	accel_cmdbuf_free(cb);
}

static void describe_op_gives_type_label_and_shapes(void **state)
{
	struct accel_rope_params rp = accel_rope_default_params();
	struct accel_op_desc d;
	struct accel_tensor qh;
	struct accel_cmdbuf *cb;
	struct mm t;

	(void)state;
	mm_make(&t);
	qh = accel_tensor_packed(t.bo, 0, ACCEL_F32, 16, 4, M, 1);	/* x as [hd, heads, M] */
	rp.n_rot = 16;
	assert_int_equal(accel_cmdbuf_create(accel_test_dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_matmul(cb, &t.x, &t.w, &t.bias, &t.y, ACCEL_MATMUL_ACCUMULATE), 0);
	assert_int_equal(accel_cmdbuf_set_op_label(cb, 0, "blk.3.attn_q"), 0);
	assert_int_equal(accel_cmd_rope(cb, &qh, &qh, &rp), 0);
	assert_int_equal(accel_cmd_nop(cb), 0);
	/* while recording */
	assert_int_equal(accel_cmdbuf_describe_op(cb, 0, &d), 0);
	assert_string_equal(d.label, "blk.3.attn_q");
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	/* finished: read from the host copy of the stream */
	assert_int_equal(accel_cmdbuf_describe_op(cb, 0, &d), 0);
	assert_int_equal(d.op_index, 0);
	assert_string_equal(accel_op_name(d.opcode), "MATMUL");
	assert_int_equal(d.flags, ACCEL_MATMUL_ACCUMULATE);
	assert_string_equal(d.label, "blk.3.attn_q");
	assert_int_equal(d.n_tensors, 4);
	assert_string_equal(d.tensors[0].role, "x");
	assert_string_equal(d.tensors[1].role, "w");
	assert_string_equal(d.tensors[2].role, "y");
	assert_string_equal(d.tensors[3].role, "bias");
	assert_int_equal(d.tensors[1].dtype, ACCEL_F32);
	assert_int_equal(d.tensors[1].ne[0], K);
	assert_int_equal(d.tensors[1].ne[1], N);
	assert_int_equal(d.tensors[1].nb[0], 4 * K);
	assert_int_equal(d.tensors[2].ne[0], N);
	assert_int_equal(d.tensors[2].ne[1], M);
	assert_int_equal(d.tensors[0].npu_addr, accel_bo_npu_addr(t.bo));
	for (int i = 0; i < 4; i++)
		assert_int_equal(d.tensors[i].written, i == 2);
	assert_int_equal(accel_cmdbuf_describe_op(cb, 1, &d), 0);
	assert_string_equal(accel_op_name(d.opcode), "ROPE");
	assert_string_equal(d.label, "");
	assert_int_equal(d.n_tensors, 2);
	assert_string_equal(d.tensors[1].role, "y");
	assert_int_equal(d.tensors[1].written, 1);
	assert_int_equal(d.tensors[0].written, 0);
	assert_int_equal(d.tensors[0].ne[1], 4);
	assert_int_equal(d.tensors[0].ne[2], M);
	assert_int_equal(accel_cmdbuf_describe_op(cb, 2, &d), 0);
	assert_string_equal(accel_op_name(d.opcode), "NOP");
	assert_int_equal(d.n_tensors, 0);
	assert_int_equal(accel_cmdbuf_describe_op(cb, 3, &d), -EINVAL);
	assert_int_equal(accel_cmdbuf_describe_op(cb, 0, NULL), -EINVAL);
	accel_cmdbuf_free(cb);
	assert_int_equal(accel_cmdbuf_describe_op(cb, 0, &d), -EBADF);
	accel_bo_free(t.bo);
}

static void check_records(struct accel_profile *prof, uint32_t n)
{
	struct accel_op_profile rec[8];
	char want[ACCEL_OP_LABEL_MAX];

	assert_int_equal(accel_profile_read(prof, rec, 8, NULL), n);
	for (uint32_t i = 0; i < n; i++) {
		want_label(want, sizeof(want), rec[i].op_index);
		assert_int_equal(rec[i].op_index, i);
		assert_string_equal(rec[i].label, want);
		assert_string_equal(accel_op_name(rec[i].opcode), i % 2 ? "NOP" : "MATMUL");
	}
}

/* Labels come back with the records, every time a recorded buffer is resubmitted. */
static void labels_round_trip_through_profiles(void **state)
{
	enum { OPS = 5 };
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_context *ctx;
	struct accel_cmdbuf *cb, *other;
	const struct accel_cmdbuf *filled;
	struct accel_op_profile rec[8];
	struct accel_profile *prof;
	struct accel_op_desc d;
	struct accel_fence f;
	struct mm t;

	(void)state;
	mm_make(&t);
	cb = labelled(&t, OPS, 1);
	assert_int_equal(accel_context_create(accel_test_dev, NULL, &ctx), 0);
	assert_int_equal(accel_profile_create(accel_test_dev, 8, &prof), 0);
	assert_null(accel_profile_cmdbuf(prof));
	p.profile = prof;
	for (uint32_t step = 0; step < 3; step++) {	/* a decode step, three tokens */
		p.step_params = &step;
		p.n_step_params = 1;
		assert_int_equal(accel_submit(ctx, cb, &p, &f), 0);
		assert_int_equal(accel_fence_wait(accel_test_dev, &f, 30 * SEC), 0);
		/* delivered (the profile is released) once the context is idle */
		while (accel_profile_read(prof, rec, 8, NULL) == -EAGAIN)
			;
		check_records(prof, OPS);
		assert_ptr_equal(accel_profile_cmdbuf(prof), cb);
	}
	/* the profile keeps the command buffer's labels after its handle is freed */
	assert_int_equal(accel_cmdbuf_free(cb), 0);
	check_records(prof, OPS);
	filled = accel_profile_cmdbuf(prof);
	assert_non_null(filled);
	assert_string_equal(accel_cmdbuf_op_label(filled, 2), "blk.2.attn_q");
	assert_int_equal(accel_cmdbuf_describe_op(filled, 2, &d), 0);
	assert_string_equal(accel_op_name(d.opcode), "MATMUL");
	assert_int_equal(d.tensors[1].ne[0], K);
	/* filled by another job: that job's labels (none) */
	other = accel_test_nops(accel_test_dev, 2);
	p.step_params = NULL;
	p.n_step_params = 0;
	assert_int_equal(accel_submit(ctx, other, &p, &f), 0);
	assert_int_equal(accel_fence_wait(accel_test_dev, &f, 30 * SEC), 0);
	while (accel_profile_read(prof, rec, 8, NULL) == -EAGAIN)
		;
	assert_int_equal(accel_profile_read(prof, rec, 8, NULL), 2);
	assert_string_equal(rec[0].label, "");
	assert_string_equal(rec[1].label, "");
	assert_ptr_equal(accel_profile_cmdbuf(prof), other);
	accel_cmdbuf_free(other);
	accel_context_free(ctx);
	assert_int_equal(accel_profile_free(prof), 0);
	assert_null(accel_profile_cmdbuf(prof));
	accel_bo_free(t.bo);
}

/* what the observer saw of the labelled buffer's ops */
struct seen {
	int submits, completes;
	char submit_label[ACCEL_OP_LABEL_MAX];
	char complete_label[ACCEL_OP_LABEL_MAX];
	uint32_t complete_n_tensors;
	int bad;
};

static struct seen seen;

static void see_submit(void *user, const struct accel_submit_event *ev)
{
	(void)user;
	if (strcmp(ev->label, "labelled"))
		return;
	seen.submits++;
	if (!ev->cmdbuf || accel_cmdbuf_op_count(ev->cmdbuf) != ev->op_count)
		seen.bad++;
	else
		snprintf(seen.submit_label, sizeof(seen.submit_label), "%s",
			 accel_cmdbuf_op_label(ev->cmdbuf, 4));
}

static void see_complete(void *user, const struct accel_complete_event *ev)
{
	struct accel_op_desc d;
	const char *l;

	(void)user;
	if (strcmp(ev->label, "labelled"))
		return;
	/* the test freed its handle: the job's reference keeps the labels readable */
	l = accel_cmdbuf_op_label(ev->cmdbuf, 2);
	if (!l || accel_cmdbuf_op_count(ev->cmdbuf) != 5 ||
	    accel_cmdbuf_describe_op(ev->cmdbuf, 2, &d) || accel_cmdbuf_op_label(ev->cmdbuf, 9)) {
		seen.bad++;
	} else {
		snprintf(seen.complete_label, sizeof(seen.complete_label), "%s", l);
		seen.complete_n_tensors = d.n_tensors;
	}
	seen.completes++;
}

static void observer_sees_labels(void **state)
{
	struct accel_observer obs = { .on_submit = see_submit, .on_complete = see_complete };
	struct accel_cmdbuf *slow, *cb;
	struct accel_context *ctx;
	struct accel_bo *bos[2];
	struct accel_fence f[2];
	struct mm t;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	mm_make(&t);
	cb = labelled(&t, 5, 0);
	slow = accel_test_slow(accel_test_dev, bos);
	assert_int_equal(accel_context_create(accel_test_dev, NULL, &ctx), 0);
	assert_int_equal(accel_device_set_observer(accel_test_dev, &obs), 0);
	/* queued behind a slow job, so it is still in flight when its handle goes */
	assert_int_equal(accel_submit(ctx, slow, NULL, &f[0]), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f[1]), 0);
	assert_int_equal(accel_cmdbuf_free(cb), 0);
	assert_int_equal(accel_fence_wait(accel_test_dev, &f[1], 60 * SEC), 0);
	accel_context_free(ctx);	/* waits for the deliveries */
	assert_int_equal(accel_device_set_observer(accel_test_dev, NULL), 0);
	assert_int_equal(seen.bad, 0);
	assert_int_equal(seen.submits, 1);
	assert_int_equal(seen.completes, 1);
	assert_string_equal(seen.submit_label, "blk.4.attn_q");
	assert_string_equal(seen.complete_label, "blk.2.attn_q");
	assert_int_equal(seen.complete_n_tensors, 4);
	accel_cmdbuf_free(slow);
	accel_bo_free(bos[0]);
	accel_bo_free(bos[1]);
	accel_bo_free(t.bo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_op_label_rules),
		cmocka_unit_test(many_labels_share_one_arena),
		cmocka_unit_test(describe_op_gives_type_label_and_shapes),
		cmocka_unit_test(labels_round_trip_through_profiles),
		cmocka_unit_test(observer_sees_labels),
	};

	return cmocka_run_group_tests_name("accel_labels", tests, accel_test_setup,
					   accel_test_teardown);
}
