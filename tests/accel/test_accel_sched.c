// SPDX-License-Identifier: MIT
/*
 * libaccel conformance: submission, fences, dependencies, priorities,
 * concurrency, back-pressure, profiling, observers, device errors and hang
 * recovery (fault injection).
 */
#include "accel_test_util.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEC 1000000000ll

static struct accel_device *dev;

static int setup(void **state)
{
	(void)state;
	dev = accel_test_open(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return accel_device_close(dev);
}

static struct accel_device_info dev_info(void)
{
	struct accel_device_info info;

	assert_int_equal(accel_device_info(dev, &info), 0);
	return info;
}

/* Fault injection is test support a kernel may hide (no debugfs, not root): skip then. */
static void need_fault_injection(void)
{
	if (!(dev_info().caps & ACCEL_CAP_FAULT_INJECTION)) {
		print_message("skipped: the device offers no fault injection\n");
		skip();
	}
}

static struct accel_context *new_ctx(enum accel_priority prio, unsigned int hang_ms)
{
	struct accel_context_params p = accel_context_default_params();
	struct accel_context *ctx;

	p.priority = prio;
	p.hang_timeout_ms = hang_ms;
	assert_int_equal(accel_context_create(dev, &p, &ctx), 0);
	return ctx;
}

/* Completion order, recorded by on_complete callbacks. */
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int order[64], n_order;

static void record(void *user, const struct accel_fence *f, const struct accel_job_status *st)
{
	(void)f;
	(void)st;
	pthread_mutex_lock(&order_lock);
	order[n_order++] = (int)(intptr_t)user;
	pthread_mutex_unlock(&order_lock);
}

static int position(int tag)
{
	for (int i = 0; i < n_order; i++)
		if (order[i] == tag)
			return i;
	return -1;
}

static struct accel_fence submit_tagged(struct accel_context *ctx, struct accel_cmdbuf *cb,
					int tag, const struct accel_fence *deps,
					unsigned int n_deps)
{
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_fence f;

	p.on_complete = record;
	p.user = (void *)(intptr_t)tag;
	p.deps = deps;
	p.n_deps = n_deps;
	assert_int_equal(accel_submit(ctx, cb, &p, &f), 0);
	return f;
}

static void nop_job_finishes_ok_with_device_times(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 3);
	struct accel_job_status st;
	struct accel_fence f;

	(void)state;
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	assert_int_equal(f.seqno, 1);
	assert_int_equal(accel_fence_wait(dev, &f, 5 * SEC), 0);
	assert_int_equal(accel_fence_poll(dev, &f), 1);
	assert_int_equal(accel_fence_status(dev, &f, &st), 0);
	assert_int_equal(st.error, 0);
	assert_int_equal(st.result, ACCEL_RESULT_OK);
	assert_int_equal(st.op_index, 3);
	assert_int_equal(st.ops_done, 3);
	assert_int_equal(st.queue, ACCEL_PRIORITY_NORMAL);
	assert_true(st.device_start_ns <= st.device_end_ns);
	/* calibrated: the job ran after it was submitted (within the clock uncertainty) */
	assert_true(st.end_ns + 1000000 >= st.submit_ns);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void exported_fence_fd_becomes_readable(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_bo *bos[2];
	struct accel_cmdbuf *cb = accel_test_slow(dev, bos);
	struct accel_fence f;
	struct pollfd pfd = { .events = POLLIN };

	(void)state;
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	assert_int_equal(accel_fence_export_fd(dev, &f, &pfd.fd), 0);
	assert_int_equal(poll(&pfd, 1, 60000), 1);
	assert_int_equal(accel_fence_poll(dev, &f), 1);
	close(pfd.fd);
	/* an already finished fence gives a readable fd at once */
	assert_int_equal(accel_fence_export_fd(dev, &f, &pfd.fd), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	close(pfd.fd);
	accel_cmdbuf_free(cb);
	accel_bo_free(bos[0]);
	accel_bo_free(bos[1]);
	accel_context_free(ctx);
}

static void wait_times_out_on_an_unfinished_job(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_bo *bos[2];
	struct accel_cmdbuf *cb = accel_test_slow(dev, bos);
	struct accel_job_status st;
	struct accel_fence f;

	(void)state;
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	assert_int_equal(accel_fence_wait(dev, &f, 1000), -ETIMEDOUT);
	assert_int_equal(accel_fence_status(dev, &f, &st), -EAGAIN);
	assert_int_equal(accel_fence_wait(dev, &f, 60 * SEC), 0);
	accel_cmdbuf_free(cb);
	accel_bo_free(bos[0]);
	accel_bo_free(bos[1]);
	accel_context_free(ctx);
}

static void step_parameters_change_between_resubmissions(void **state)
{
	struct accel_cmdbuf_params cp = accel_cmdbuf_default_params();
	struct accel_submit_params sp = accel_submit_default_params();
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_cmdbuf *cb, *slow;
	struct accel_fence f[3], fs;
	struct accel_bo *bo, *sbos[2];
	float *p;

	(void)state;
	cp.step_params = 1;
	assert_int_equal(accel_bo_create(dev, 4096, 0, &bo), 0);
	p = accel_bo_map(bo);
	for (int i = 0; i < 4; i++)
		p[i] = 1.0f + (float)i;
	struct accel_tensor src = accel_tensor_packed(bo, 0, ACCEL_F32, 4, 1, 1, 1);
	struct accel_tensor cache = accel_tensor_packed(bo, 64, ACCEL_F32, 4, 8, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, &cp, &cb), 0);
	assert_int_equal(accel_cmd_kv_store(cb, &src, &cache, accel_step(0)), 0);
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	/* queued behind a slow job, back to back: each submission sees its own value,
	 * and none waits on the caller's thread */
	slow = accel_test_slow(dev, sbos);
	assert_int_equal(accel_submit(ctx, slow, NULL, &fs), 0);
	for (uint32_t i = 0; i < 3; i++) {
		uint32_t pos = 2 * i + 1;

		sp.step_params = &pos;
		sp.n_step_params = 1;
		assert_int_equal(accel_submit(ctx, cb, &sp, &f[i]), 0);
	}
	assert_int_equal(accel_fence_poll(dev, &fs), 0);
	assert_int_equal(accel_fence_wait_all(dev, f, 3, 60 * SEC), 0);
	for (int row = 0; row < 8; row++)
		assert_true(p[16 + row * 4 + 2] == ((row % 2 && row < 6) ? 3.0f : 0.0f));
	accel_cmdbuf_free(cb);
	accel_cmdbuf_free(slow);
	accel_bo_free(bo);
	accel_bo_free(sbos[0]);
	accel_bo_free(sbos[1]);
	accel_context_free(ctx);
}

static void diamond_across_contexts_and_queues_runs_in_dependency_order(void **state)
{
	struct accel_context *a = new_ctx(ACCEL_PRIORITY_LOW, 0);
	struct accel_context *b = new_ctx(ACCEL_PRIORITY_HIGH, 0);
	struct accel_context *c = new_ctx(ACCEL_PRIORITY_REALTIME, 0);
	struct accel_context *d = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_bo *bos[2];
	struct accel_cmdbuf *slow = accel_test_slow(dev, bos), *nop = accel_test_nops(dev, 1);
	struct accel_fence fa, fb, fc, fd, bc[2];

	(void)state;
	n_order = 0;
	fa = submit_tagged(a, slow, 1, NULL, 0);
	fb = submit_tagged(b, nop, 2, &fa, 1);
	fc = submit_tagged(c, nop, 3, &fa, 1);
	bc[0] = fb;
	bc[1] = fc;
	fd = submit_tagged(d, nop, 4, bc, 2);
	assert_int_equal(accel_fence_wait(dev, &fd, 60 * SEC), 0);
	assert_int_equal(accel_fence_wait_all(dev, bc, 2, 60 * SEC), 0);
	/* callbacks run on the completion thread before the context is freed */
	accel_context_free(a);
	accel_context_free(b);
	accel_context_free(c);
	accel_context_free(d);
	assert_int_equal(n_order, 4);
	assert_int_equal(position(1), 0);
	assert_int_equal(position(4), 3);
	accel_cmdbuf_free(slow);
	accel_cmdbuf_free(nop);
	accel_bo_free(bos[0]);
	accel_bo_free(bos[1]);
}

static void dependency_on_a_job_of_another_device_handle(void **state)
{
	struct accel_device *d2 = accel_test_open(NULL);
	struct accel_context *a = new_ctx(ACCEL_PRIORITY_NORMAL, 0), *b;
	struct accel_bo *bos[2];
	struct accel_cmdbuf *slow = accel_test_slow(dev, bos), *nop = accel_test_nops(d2, 1);
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_job_status sa, sb;
	struct accel_fence fa, fb;
	struct pollfd pfd = { .events = POLLIN };

	(void)state;
	assert_int_equal(accel_context_create(d2, NULL, &b), 0);
	assert_int_equal(accel_submit(a, slow, NULL, &fa), 0);
	p.deps = &fa;
	p.n_deps = 1;
	assert_int_equal(accel_submit(b, nop, &p, &fb), 0);
	/* either handle waits for and exports either job's fence */
	assert_int_equal(accel_fence_export_fd(d2, &fa, &pfd.fd), 0);
	assert_int_equal(accel_fence_wait(dev, &fb, 60 * SEC), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	close(pfd.fd);
	assert_int_equal(accel_fence_poll(d2, &fa), 1);
	assert_int_equal(accel_fence_status(d2, &fa, &sa), 0);
	assert_int_equal(accel_fence_status(dev, &fb, &sb), 0);
	assert_true(sa.device_end_ns <= sb.device_start_ns);
	accel_context_free(b);
	accel_cmdbuf_free(nop);
	assert_int_equal(accel_device_close(d2), 0);
	accel_context_free(a);
	accel_cmdbuf_free(slow);
	accel_bo_free(bos[0]);
	accel_bo_free(bos[1]);
}

/*
 * The device takes the highest-priority queue with work when a job ends: a
 * REALTIME job queued behind a busy NORMAL queue runs before a LOW job queued
 * earlier. That needs both queued while the NORMAL work still runs: in a TCG
 * guest on a loaded host the two submissions have taken longer than one slow
 * job (CI), so the NORMAL queue gets 1, 2, 4, 8 slow jobs until it is seen
 * still running 20 ms after both submissions (time for the driver to put
 * them on their rings); only such a round says anything about the order.
 */
static void realtime_job_overtakes_queued_low_priority_job(void **state)
{
	struct accel_context *busy = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_context *low = new_ctx(ACCEL_PRIORITY_LOW, 0);
	struct accel_context *rt = new_ctx(ACCEL_PRIORITY_REALTIME, 0);
	struct accel_bo *bos[2];
	struct accel_cmdbuf *slow = accel_test_slow(dev, bos), *nop = accel_test_nops(dev, 1);
	const struct timespec settle = { .tv_nsec = 20 * 1000 * 1000 };
	bool queued_behind = false;

	(void)state;
	n_order = 0;	/* 23 callbacks at most (order[] holds 64) */
	for (unsigned int n = 1; !queued_behind && n <= 8; n *= 2) {
		struct accel_job_status st_low, st_rt;
		struct accel_fence f[3];

		for (unsigned int i = 0; i < n; i++)
			f[0] = submit_tagged(busy, slow, 1, NULL, 0);
		f[1] = submit_tagged(low, nop, 2, NULL, 0);
		f[2] = submit_tagged(rt, nop, 3, NULL, 0);
		nanosleep(&settle, NULL);
		queued_behind = accel_fence_poll(dev, &f[0]) == 0;
		assert_int_equal(accel_fence_wait_all(dev, f, 3, 60 * SEC), 0);
		if (!queued_behind)
			continue;
		/* device times, not callback order: one completion batch retires queue by queue */
		assert_int_equal(accel_fence_status(dev, &f[1], &st_low), 0);
		assert_int_equal(accel_fence_status(dev, &f[2], &st_rt), 0);
		assert_true(st_rt.device_end_ns <= st_low.device_start_ns);
	}
	assert_true(queued_behind);
	accel_context_free(busy);
	accel_context_free(low);
	accel_context_free(rt);
	accel_cmdbuf_free(slow);
	accel_cmdbuf_free(nop);
	accel_bo_free(bos[0]);
	accel_bo_free(bos[1]);
}

struct thread_arg {
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;
	int failures;
};

static void *submitter(void *p)
{
	struct thread_arg *a = p;
	struct accel_fence f;

	for (int i = 0; i < 300; i++)
		if (accel_submit(a->ctx, a->cb, NULL, &f) || (i % 50 == 49 && accel_fence_wait(dev, &f, 60 * SEC)))
			a->failures++;
	if (accel_fence_wait(dev, &f, 60 * SEC))
		a->failures++;
	return NULL;
}

static void threads_submitting_to_a_shared_context_all_complete_in_order(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 1);
	struct accel_device_stats before, after;
	struct thread_arg args[4];
	pthread_t t[4];
	struct accel_fence last = { 0 };

	(void)state;
	accel_device_stats(dev, &before);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .ctx = ctx, .cb = cb };
		pthread_create(&t[i], NULL, submitter, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	/* one context = one timeline: job 1200 finished means all did */
	last.seqno = 1200;
	assert_int_equal(accel_submit(ctx, cb, NULL, &last), 0);
	assert_int_equal(last.seqno, 1201);
	assert_int_equal(accel_fence_wait(dev, &last, 60 * SEC), 0);
	accel_device_stats(dev, &after);
	assert_int_equal(after.jobs_submitted - before.jobs_submitted, 1201);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void injected_fault_is_reported_with_cause(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_HIGH, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 2);
	struct accel_job_status st;
	struct accel_fence f[2];

	(void)state;
	need_fault_injection();
	assert_int_equal(accel_device_inject_fault(dev, ACCEL_PRIORITY_HIGH, ACCEL_FAULT_FAULT), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f[0]), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f[1]), 0);
	assert_int_equal(accel_fence_wait(dev, &f[0], 5 * SEC), -EIO);
	assert_int_equal(accel_fence_status(dev, &f[0], &st), 0);
	assert_int_equal(st.result, ACCEL_RESULT_FAULT);
	assert_string_equal(accel_cause_name(st.cause), "INJECTED");
	assert_int_equal(st.error, -EIO);
	assert_int_equal(accel_fence_wait(dev, &f[1], 5 * SEC), 0);
	/* the context survives its fault: new jobs run, the faulted one's status stays */
	assert_int_equal(accel_submit(ctx, cb, NULL, &f[1]), 0);
	assert_int_equal(f[1].seqno, 3);
	assert_int_equal(accel_fence_wait(dev, &f[1], 5 * SEC), 0);
	assert_int_equal(accel_fence_status(dev, &f[0], &st), 0);
	assert_string_equal(accel_cause_name(st.cause), "INJECTED");
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void execution_error_reports_op_and_fault_address(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_job_status st;
	struct accel_cmdbuf *cb;
	struct accel_fence f;
	struct accel_bo *bo;
	int32_t *ids;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 8192, 0, &bo), 0);
	ids = (int32_t *)((uint8_t *)accel_bo_map(bo) + 4096);
	ids[0] = 1;
	ids[1] = 99;	/* the table has 4 rows */
	struct accel_tensor table = accel_tensor_packed(bo, 0, ACCEL_F32, 8, 4, 1, 1);
	struct accel_tensor tid = accel_tensor_packed(bo, 4096, ACCEL_I32, 2, 1, 1, 1);
	struct accel_tensor dst = accel_tensor_packed(bo, 6144, ACCEL_F32, 8, 2, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_nop(cb), 0);
	assert_int_equal(accel_cmd_embed(cb, &table, &tid, &dst), 0);
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	assert_int_equal(accel_fence_wait(dev, &f, 5 * SEC), -EIO);
	assert_int_equal(accel_fence_status(dev, &f, &st), 0);
	assert_int_equal(st.result, ACCEL_RESULT_FAULT);
	assert_string_equal(accel_cause_name(st.cause), "INDEX");
	assert_int_equal(st.op_index, 1);
	assert_int_equal(st.fault_addr, accel_bo_npu_addr(bo) + 4096 + 4);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
	accel_context_free(ctx);
}

static void hung_job_is_aborted_and_innocent_jobs_are_resubmitted(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 100);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 1);
	struct accel_device_stats before, after;
	struct accel_job_status st;
	struct accel_fence f[3];

	(void)state;
	need_fault_injection();
	accel_device_stats(dev, &before);
	assert_int_equal(accel_device_inject_fault(dev, ACCEL_PRIORITY_NORMAL, ACCEL_FAULT_HANG), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(accel_submit(ctx, cb, NULL, &f[i]), 0);
	assert_int_equal(accel_fence_wait(dev, &f[0], 5 * SEC), -EIO);
	assert_int_equal(accel_fence_status(dev, &f[0], &st), 0);
	assert_int_equal(st.error, -ETIMEDOUT);
	assert_int_equal(st.result, ACCEL_RESULT_ABORTED);
	assert_string_equal(accel_cause_name(st.cause), "QUEUE_RESET");
	assert_int_equal(accel_fence_wait(dev, &f[1], 5 * SEC), 0);
	assert_int_equal(accel_fence_wait(dev, &f[2], 5 * SEC), 0);
	accel_device_stats(dev, &after);
	assert_true(after.queue_resets > before.queue_resets);
	/* both backends count them (anpu.ko: debugfs "counters", jobs_resubmitted) */
	assert_true(after.jobs_resubmitted >= before.jobs_resubmitted + 2);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void failed_queue_reset_escalates_to_device_reset(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_LOW, 400);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 1);
	struct accel_device_stats before, after;
	struct accel_job_status st;
	struct accel_fence f[2];

	(void)state;
	need_fault_injection();
	accel_device_stats(dev, &before);
	/* a queue has one fault mode: hang the job, then make its reset fail */
	assert_int_equal(accel_device_inject_fault(dev, ACCEL_PRIORITY_LOW, ACCEL_FAULT_HANG), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f[0]), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f[1]), 0);
	usleep(100000);
	assert_int_equal(accel_fence_poll(dev, &f[0]), 0);
	assert_int_equal(accel_device_inject_fault(dev, ACCEL_PRIORITY_LOW,
						   ACCEL_FAULT_FAIL_RESET | ACCEL_FAULT_STICKY), 0);
	assert_int_equal(accel_fence_wait(dev, &f[0], 5 * SEC), -EIO);
	assert_int_equal(accel_fence_status(dev, &f[0], &st), 0);
	assert_int_equal(st.result, ACCEL_RESULT_ABORTED);
	assert_string_equal(accel_cause_name(st.cause), "DEVICE_RESET");
	assert_int_equal(accel_fence_wait(dev, &f[1], 5 * SEC), 0);
	accel_device_stats(dev, &after);
	assert_true(after.device_resets > before.device_resets);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void nonblocking_submit_reports_back_pressure(void **state)
{
	/*
	 * The hung job goes on the same queue as the loop's jobs, ahead of
	 * them: on another queue it holds the engine only once it has
	 * started, and a loaded TCG guest ran a few of the loop's jobs before
	 * that (258 submits succeeded, not 255). It holds for 3 s, as 255
	 * submits through anpu.ko in such a guest took over 300 ms.
	 */
	struct accel_context *hold = new_ctx(ACCEL_PRIORITY_LOW, 3000);
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_LOW, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 1);
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_device_info info;
	struct accel_fence f, last = { 0 };
	unsigned int n = 0;
	int ret;

	(void)state;
	need_fault_injection();
	accel_device_info(dev, &info);
	/* the hung job holds its slot, and the queue, until the watchdog recovers it */
	assert_int_equal(accel_device_inject_fault(dev, ACCEL_PRIORITY_LOW, ACCEL_FAULT_HANG), 0);
	assert_int_equal(accel_submit(hold, cb, NULL, &f), 0);
	p.flags = ACCEL_SUBMIT_NONBLOCK;
	while ((ret = accel_submit(ctx, cb, &p, &last)) == 0)
		n++;
	/* still hung: otherwise the count below says nothing about back pressure */
	assert_int_equal(accel_fence_wait(dev, &f, 0), -ETIMEDOUT);
	assert_int_equal(ret, -EAGAIN);
	assert_int_equal(n, info.max_jobs_in_flight - 1);
	assert_int_equal(accel_fence_wait(dev, &last, 60 * SEC), 0);
	assert_int_equal(accel_fence_wait(dev, &f, 60 * SEC), -EIO);
	accel_cmdbuf_free(cb);
	accel_context_free(hold);
	accel_context_free(ctx);
}

static int submits_seen, completions_seen;

static void on_submit(void *user, const struct accel_submit_event *ev)
{
	(void)user;
	submits_seen += ev->op_count == 2;
}

static void on_complete(void *user, const struct accel_complete_event *ev)
{
	(void)user;
	completions_seen += ev->status.error == 0;
}

static void profiling_and_observer_see_every_op_and_job(void **state)
{
	struct accel_observer obs = { .on_submit = on_submit, .on_complete = on_complete };
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 2);
	struct accel_op_profile rec[4];
	struct accel_profile *prof;
	struct accel_fence f;
	unsigned int dropped;

	(void)state;
	submits_seen = completions_seen = 0;
	assert_int_equal(accel_device_set_observer(dev, &obs), 0);
	assert_int_equal(accel_profile_create(dev, 4, &prof), 0);
	assert_int_equal(accel_profile_read(prof, rec, 4, NULL), -ENODATA);
	p.profile = prof;
	assert_int_equal(accel_submit(ctx, cb, &p, &f), 0);
	assert_int_equal(accel_fence_wait(dev, &f, 5 * SEC), 0);
	accel_context_free(ctx);	/* waits for the delivery */
	assert_int_equal(accel_profile_read(prof, rec, 4, &dropped), 2);
	assert_int_equal(dropped, 0);
	assert_string_equal(accel_op_name(rec[1].opcode), "NOP");
	assert_int_equal(rec[1].op_index, 1);
	assert_true(rec[0].device_start_ns <= rec[0].device_end_ns);
	assert_true(rec[0].device_end_ns <= rec[1].device_end_ns);
	assert_int_equal(submits_seen, 1);
	assert_int_equal(completions_seen, 1);
	assert_int_equal(accel_device_set_observer(dev, NULL), 0);
	accel_profile_free(prof);
	accel_cmdbuf_free(cb);
}

/*
 * Completions are delivered by the library's completion thread, not by a
 * later library call: the test thread makes no accel_* call between the
 * submit and the callback (kernel backend: its eventfd completion thread).
 */
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sig_cond = PTHREAD_COND_INITIALIZER;
static int sig_count;
static uint64_t sig_seqno;
static int sig_error;

static void signal_done(uint64_t seqno, int error)
{
	pthread_mutex_lock(&sig_lock);
	sig_count++;
	sig_seqno = seqno;
	sig_error = error;
	pthread_cond_broadcast(&sig_cond);
	pthread_mutex_unlock(&sig_lock);
}

/* Wait (no library call) until @n deliveries were signalled; 0 or ETIMEDOUT. */
static int wait_signalled(int n, int seconds)
{
	struct timespec until;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&sig_lock);
	while (sig_count < n && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&sig_cond, &sig_lock, &until);
	ret = sig_count >= n ? 0 : ETIMEDOUT;
	pthread_mutex_unlock(&sig_lock);
	return ret;
}

static void signal_cb(void *user, const struct accel_fence *f, const struct accel_job_status *st)
{
	(void)user;
	signal_done(f->seqno, st->error);
}

static void callback_fires_without_another_library_call(void **state)
{
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 2);
	struct accel_fence f[3];

	(void)state;
	sig_count = 0;
	p.on_complete = signal_cb;
	assert_int_equal(accel_submit(ctx, cb, &p, &f[0]), 0);
	assert_int_equal(wait_signalled(1, 30), 0);
	assert_int_equal(sig_seqno, f[0].seqno);
	assert_int_equal(sig_error, 0);
	/* again after the context went idle, and for jobs queued behind each other */
	assert_int_equal(accel_submit(ctx, cb, &p, &f[1]), 0);
	assert_int_equal(accel_submit(ctx, cb, &p, &f[2]), 0);
	assert_int_equal(wait_signalled(3, 30), 0);
	assert_int_equal(sig_seqno, f[2].seqno);
	assert_int_equal(accel_fence_poll(dev, &f[2]), 1);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void observe_complete(void *user, const struct accel_complete_event *ev)
{
	(void)user;
	signal_done(ev->fence.seqno, ev->status.error);
}

static void observer_sees_completion_without_another_library_call(void **state)
{
	struct accel_observer obs = { .on_complete = observe_complete };
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_HIGH, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 1);
	struct accel_fence f;

	(void)state;
	sig_count = 0;
	assert_int_equal(accel_device_set_observer(dev, &obs), 0);
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);	/* no callback */
	assert_int_equal(wait_signalled(1, 30), 0);
	assert_int_equal(sig_seqno, f.seqno);
	assert_int_equal(sig_error, 0);
	assert_int_equal(accel_device_set_observer(dev, NULL), 0);
	accel_cmdbuf_free(cb);
	accel_context_free(ctx);
}

static void fence_of_a_freed_context_counts_as_signaled(void **state)
{
	struct accel_context *ctx = new_ctx(ACCEL_PRIORITY_NORMAL, 0);
	struct accel_cmdbuf *cb = accel_test_nops(dev, 1);
	struct accel_job_status st;
	struct accel_fence f;

	(void)state;
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	accel_context_free(ctx);
	assert_int_equal(accel_fence_poll(dev, &f), 1);
	assert_int_equal(accel_fence_wait(dev, &f, 0), 0);
	assert_int_equal(accel_fence_status(dev, &f, &st), -ENOENT);
	accel_cmdbuf_free(cb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nop_job_finishes_ok_with_device_times),
		cmocka_unit_test(exported_fence_fd_becomes_readable),
		cmocka_unit_test(wait_times_out_on_an_unfinished_job),
		cmocka_unit_test(step_parameters_change_between_resubmissions),
		cmocka_unit_test(diamond_across_contexts_and_queues_runs_in_dependency_order),
		cmocka_unit_test(dependency_on_a_job_of_another_device_handle),
		cmocka_unit_test(realtime_job_overtakes_queued_low_priority_job),
		cmocka_unit_test(threads_submitting_to_a_shared_context_all_complete_in_order),
		cmocka_unit_test(injected_fault_is_reported_with_cause),
		cmocka_unit_test(execution_error_reports_op_and_fault_address),
		cmocka_unit_test(hung_job_is_aborted_and_innocent_jobs_are_resubmitted),
		cmocka_unit_test(failed_queue_reset_escalates_to_device_reset),
		cmocka_unit_test(nonblocking_submit_reports_back_pressure),
		cmocka_unit_test(profiling_and_observer_see_every_op_and_job),
		cmocka_unit_test(fence_of_a_freed_context_counts_as_signaled),
		cmocka_unit_test(callback_fires_without_another_library_call),
		cmocka_unit_test(observer_sees_completion_without_another_library_call),
	};

	return cmocka_run_group_tests_name("accel_sched", tests, setup, teardown);
}
