// SPDX-License-Identifier: MIT
/*
 * Recovery, with faults injected through debugfs (fault_inject, force_reset,
 * power_loss): a hung job fails its fence with -ETIMEDOUT within the timeout
 * and new jobs then succeed; an injected fault fails only that job (-EIO); a
 * failing queue reset is survived; innocent jobs of the hung job's own queue
 * and of other queues complete; a guilty context gets -ECANCELED while the
 * file's other contexts keep working; a job that runs longer than the timeout
 * but keeps progressing is not hung (no reset); a wedged device (nothing
 * progresses, no queue HUNG) gets a device reset and its jobs complete.
 * Contexts are NORMAL priority: hardware queue 1.
 */
#include "anpu_test.h"

#define Q_NORMAL 1

static uint64_t timeout_ms(struct __test_metadata *_metadata, int fd)
{
	uint64_t t = 0, caps = 0;

	EXPECT_EQ(0, anpu_get_param(fd, DRM_ANPU_PARAM_CAPS, &caps));
	EXPECT_TRUE(caps & DRM_ANPU_CAP_FAULT_INJECTION);
	EXPECT_EQ(0, anpu_get_param(fd, DRM_ANPU_PARAM_JOB_TIMEOUT_MS, &t));
	EXPECT_LT(0, t);
	EXPECT_GE(60000, t) TH_LOG("a job timeout above 60 s does not suit these tests");
	return t ? t : 1000;
}

/* Submit a NOP job on @ctx; returns its fence status (0 ok, -errno) and @seqno, @ms elapsed. */
static int nop_job(int fd, uint32_t ctx, uint64_t wait_ms, uint64_t *seqno, uint64_t *ms)
{
	struct anpu_bo cmd;
	uint64_t t0 = anpu_now_ns();
	int r = anpu_nop_bo(fd, 1, &cmd, NULL);

	if (r)
		return r;
	r = anpu_run(fd, ctx, &cmd, NULL, 0, seqno, (int)wait_ms);
	if (ms)
		*ms = (anpu_now_ns() - t0) / 1000000;
	anpu_bo_free(fd, &cmd);
	return r;
}

TEST_F_TIMEOUT(anpu, injected_hang_fails_the_job_with_etimedout_within_the_timeout, 180)
{
	uint64_t to = timeout_ms(_metadata, self->fd), seq, ms;
	struct drm_anpu_job_info ji;
	uint32_t ctx, ctx2;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx2));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "hang", false));
	EXPECT_EQ(-ETIMEDOUT, nop_job(self->fd, ctx, to * 4 + 10000, &seq, &ms));
	EXPECT_GE(to * 3 + 5000, ms) TH_LOG("hang detected after %llu ms (timeout %llu ms)",
					    (unsigned long long)ms, (unsigned long long)to);
	EXPECT_LE(to, ms + 50) TH_LOG("hang declared before the timeout");
	ASSERT_EQ(0, anpu_job_info(self->fd, ctx, seq, &ji));
	EXPECT_EQ(DRM_ANPU_JOB_DONE, ji.state);
	EXPECT_EQ(ETIMEDOUT, ji.error);
	/* the queue works again */
	EXPECT_EQ(0, nop_job(self->fd, ctx2, ANPU_JOB_WAIT_MS, NULL, NULL));
}

TEST_F_TIMEOUT(anpu, hung_context_is_guilty_and_further_submits_fail_ecanceled, 180)
{
	uint64_t to = timeout_ms(_metadata, self->fd);
	uint32_t ctx, other;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &other));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "hang", false));
	EXPECT_EQ(-ETIMEDOUT, nop_job(self->fd, ctx, to * 4 + 10000, NULL, NULL));
	EXPECT_EQ(-ECANCELED, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL));
	EXPECT_EQ(0, nop_job(self->fd, other, ANPU_JOB_WAIT_MS, NULL, NULL));
	EXPECT_EQ(0, anpu_ctx_destroy(self->fd, ctx)) TH_LOG("a guilty context can be destroyed");
}

TEST_F_TIMEOUT(anpu, injected_fault_fails_only_that_job_with_eio, 60)
{
	uint32_t ctx, other;
	uint64_t seq;
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &other));
	ASSERT_EQ(0, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "fault", false));
	EXPECT_EQ(-EIO, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, &seq, NULL));
	ASSERT_EQ(0, anpu_job_info(self->fd, ctx, seq, &ji));
	EXPECT_EQ(ANPU_RESULT_FAULT, ji.result);
	EXPECT_EQ(ANPU_CAUSE_INJECTED, ji.cause);
	EXPECT_EQ(EIO, ji.error);
	EXPECT_EQ(0, nop_job(self->fd, other, ANPU_JOB_WAIT_MS, NULL, NULL));
	EXPECT_EQ(-ECANCELED, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL))
		TH_LOG("the faulting context is guilty");
}

TEST_F_TIMEOUT(anpu, failing_queue_reset_is_survived, 240)
{
	uint64_t to = timeout_ms(_metadata, self->fd);
	uint32_t ctx, ctx2;
	int r;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx2));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "fail_reset", false));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "hang", false)) TH_LOG("two injections at once");
	r = nop_job(self->fd, ctx, to * 6 + 20000, NULL, NULL);
	EXPECT_TRUE(r == -ETIMEDOUT || r == -ECANCELED) TH_LOG("hung job: %d", r);
	EXPECT_EQ(0, nop_job(self->fd, ctx2, ANPU_JOB_WAIT_MS, NULL, NULL));
}

TEST_F_TIMEOUT(anpu, sticky_failing_reset_is_survived_by_a_device_reset, 240)
{
	uint64_t to = timeout_ms(_metadata, self->fd);
	uint32_t ctx, ctx2;
	int r;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx2));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "fail_reset", true));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "hang", false));
	r = nop_job(self->fd, ctx, to * 6 + 20000, NULL, NULL);
	EXPECT_TRUE(r == -ETIMEDOUT || r == -ECANCELED) TH_LOG("hung job: %d", r);
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "none", false));
	EXPECT_EQ(0, nop_job(self->fd, ctx2, ANPU_JOB_WAIT_MS, NULL, NULL));
}

TEST_F_TIMEOUT(anpu, hang_does_not_fail_innocent_jobs_of_other_queues, 180)
{
	uint64_t to = timeout_ms(_metadata, self->fd);
	uint32_t hung, low;
	struct anpu_bo nop;
	uint32_t so_h = anpu_syncobj(self->fd), so_l = anpu_syncobj(self->fd);
	struct drm_anpu_sync oh = { .handle = so_h }, ol = { .handle = so_l };

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &hung));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &low));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 4, &nop, NULL));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "hang", false));
	{
		struct anpu_submit_args a = { .ctx_id = hung, .cmd = &nop, .out = &oh, .n_out = 1 };
		struct anpu_submit_args b = { .ctx_id = low, .cmd = &nop, .out = &ol, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &a, NULL));
		usleep(100000);
		/* the hung job holds the engine: this one waits, then must still succeed */
		for (int i = 0; i < 4; i++)
			ASSERT_EQ(0, anpu_submit(self->fd, &b, NULL));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so_h, 0, (int)(to * 4 + 10000)));
	EXPECT_EQ(-ETIMEDOUT, anpu_syncobj_status(self->fd, so_h, 0));
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so_l, 0, (int)(to * 4 + 10000)));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, so_l, 0));
	anpu_bo_free(self->fd, &nop);
}

TEST_F_TIMEOUT(anpu, forced_resets_leave_the_device_usable, 60)
{
	uint32_t ctx;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL));
	EXPECT_EQ(0, anpu_force_reset("1"));
	EXPECT_EQ(0, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL));
	EXPECT_EQ(0, anpu_force_reset("device"));
	EXPECT_EQ(0, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL));
}

/* Device time of a finished job (JOB_INFO), in ms; 0 if unknown. */
static uint64_t job_device_ms(int fd, uint32_t ctx, uint64_t seq, struct drm_anpu_job_info *ji)
{
	if (anpu_job_info(fd, ctx, seq, ji) || ji->end_ns <= ji->start_ns)
		return 0;
	return (ji->end_ns - ji->start_ns) / 1000000;
}

/*
 * A job of many large MATMULs that runs ~2.5 job timeouts (sized from a
 * calibration run) completes without error and without any reset: it keeps
 * advancing PROGRESS. A LOW job waiting for the engine behind it all that
 * time (it times out twice or more) is not declared hung or wedged either.
 */
TEST_F_TIMEOUT(anpu, job_still_progressing_past_the_timeout_is_not_hung, 180)
{
	uint64_t to = timeout_ms(_metadata, self->fd), seq, lseq, cal_ms, dev_ms;
	long rq0 = anpu_debugfs_counter("resets_queue");
	long rd0 = anpu_debugfs_counter("resets_device");
	struct drm_anpu_job_info ji;
	struct anpu_heavy h;
	struct anpu_bo nop;
	uint32_t ctx, low, so = anpu_syncobj(self->fd), sol = anpu_syncobj(self->fd);
	struct drm_anpu_sync o = { .handle = so }, ol = { .handle = sol };
	unsigned int reps;

	ASSERT_LE(0, rq0);
	ASSERT_LE(0, rd0);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &low));
	/* calibration: double the MATMULs until a job takes a quarter of the timeout */
	for (reps = 64;; reps *= 2) {
		ASSERT_EQ(0, anpu_heavy_new(self->fd, reps, &h));
		ASSERT_EQ(0, anpu_run(self->fd, ctx, &h.cmd, h.refs, 3, &seq, ANPU_JOB_WAIT_MS));
		cal_ms = job_device_ms(self->fd, ctx, seq, &ji);
		anpu_heavy_free(self->fd, &h);
		if (cal_ms >= to / 4)
			break;
		ASSERT_GT(16384u, reps) TH_LOG("ops too fast to outlast the timeout: %llu ms for %u",
					       (unsigned long long)cal_ms, reps);
	}
	reps = (unsigned int)(to * 5 / 2 * reps / cal_ms);
	ASSERT_EQ(0, anpu_heavy_new(self->fd, reps, &h));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &nop, NULL));
	{
		struct anpu_submit_args a = { .ctx_id = ctx, .cmd = &h.cmd, .bos = h.refs,
					      .n_bos = 3, .out = &o, .n_out = 1 };
		struct anpu_submit_args b = { .ctx_id = low, .cmd = &nop, .out = &ol, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &a, &seq));
		usleep(50000);
		ASSERT_EQ(0, anpu_submit(self->fd, &b, &lseq));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so, 0, (int)(to * 10 + 60000)));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, so, 0)) TH_LOG("the slow job was failed");
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, sol, 0, (int)(to * 4 + 10000)));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, sol, 0)) TH_LOG("the waiting job was failed");
	dev_ms = job_device_ms(self->fd, ctx, seq, &ji);
	EXPECT_EQ(ANPU_RESULT_OK, ji.result);
	EXPECT_EQ(0, ji.error);
	EXPECT_EQ(reps, ji.ops_done);
	EXPECT_LT(to * 3 / 2, dev_ms) TH_LOG("the job ran %llu ms only (timeout %llu ms, %u ops)",
					     (unsigned long long)dev_ms, (unsigned long long)to, reps);
	EXPECT_EQ(rq0, anpu_debugfs_counter("resets_queue")) TH_LOG("a queue was reset");
	EXPECT_EQ(rd0, anpu_debugfs_counter("resets_device")) TH_LOG("the device was reset");
	anpu_bo_free(self->fd, &nop);
	anpu_heavy_free(self->fd, &h);
}

/*
 * A hung job on queue 1 holds the engine; jobs of another context on the same
 * queue (dropped by the queue reset, resubmitted after it) and jobs on the
 * LOW and HIGH queues (waiting for the engine) all complete without error.
 * One queue reset, no device reset.
 */
TEST_F_TIMEOUT(anpu, hang_does_not_fail_innocent_jobs_of_the_same_queue, 180)
{
	uint64_t to = timeout_ms(_metadata, self->fd), bseq[4];
	long rq0 = anpu_debugfs_counter("resets_queue");
	long rd0 = anpu_debugfs_counter("resets_device");
	const uint32_t prio[3] = { DRM_ANPU_PRIORITY_NORMAL, DRM_ANPU_PRIORITY_LOW,
				   DRM_ANPU_PRIORITY_HIGH };
	uint32_t hung, inno[3], so_h = anpu_syncobj(self->fd), so[3];
	struct drm_anpu_sync oh = { .handle = so_h }, o[3];
	struct drm_anpu_job_info ji;
	struct anpu_bo nop;

	ASSERT_LE(0, rq0);
	ASSERT_LE(0, rd0);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &hung));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, anpu_ctx_create(self->fd, prio[i], &inno[i]));
		so[i] = anpu_syncobj(self->fd);
		ASSERT_NE(0, so[i]);
		o[i] = (struct drm_anpu_sync){ .handle = so[i] };
	}
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 4, &nop, NULL));
	ASSERT_EQ(0, anpu_fault_inject(Q_NORMAL, "hang", false));
	{
		struct anpu_submit_args a = { .ctx_id = hung, .cmd = &nop, .out = &oh, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &a, NULL));
		usleep(100000);
		for (int i = 0; i < 3; i++) {
			struct anpu_submit_args b = { .ctx_id = inno[i], .cmd = &nop,
						      .out = &o[i], .n_out = 1 };

			for (int j = 0; j < 4; j++)
				ASSERT_EQ(0, anpu_submit(self->fd, &b, i ? NULL : &bseq[j]));
		}
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so_h, 0, (int)(to * 4 + 10000)));
	EXPECT_EQ(-ETIMEDOUT, anpu_syncobj_status(self->fd, so_h, 0));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so[i], 0, (int)(to * 4 + 10000)));
		EXPECT_EQ(1, anpu_syncobj_status(self->fd, so[i], 0))
			TH_LOG("innocent jobs of priority %u failed", prio[i]);
	}
	for (int j = 0; j < 4; j++) {
		ASSERT_EQ(0, anpu_job_info(self->fd, inno[0], bseq[j], &ji));
		EXPECT_EQ(DRM_ANPU_JOB_DONE, ji.state);
		EXPECT_EQ(ANPU_RESULT_OK, ji.result) TH_LOG("same-queue job %d", j);
		EXPECT_EQ(0, ji.error);
	}
	EXPECT_EQ(rq0 + 1, anpu_debugfs_counter("resets_queue"));
	EXPECT_EQ(rd0, anpu_debugfs_counter("resets_device"));
	anpu_bo_free(self->fd, &nop);
}

/*
 * A wedged device: powered down behind the driver's back (debugfs
 * power_loss), it drops every doorbell; no queue is HUNG and nothing
 * progresses. Ringing the doorbells again at each timeout does not help:
 * after ANPU_WEDGE_TIMEOUTS (2) timeouts in a row without activity past the
 * first, the driver resets the device, and the waiting jobs (innocent) are
 * resubmitted and complete.
 */
TEST_F_TIMEOUT(anpu, wedged_device_is_reset_and_its_jobs_complete, 180)
{
	uint64_t to = timeout_ms(_metadata, self->fd), t0, ms;
	long rd0 = anpu_debugfs_counter("resets_device");
	uint32_t ctx, low, so = anpu_syncobj(self->fd), sol = anpu_syncobj(self->fd);
	struct drm_anpu_sync o = { .handle = so }, ol = { .handle = sol };
	struct anpu_bo nop;
	int r, rl;

	ASSERT_LE(0, rd0);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &low));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &nop, NULL));
	ASSERT_EQ(0, anpu_power_loss(true));
	t0 = anpu_now_ns();
	{
		struct anpu_submit_args a = { .ctx_id = ctx, .cmd = &nop, .out = &o, .n_out = 1 };
		struct anpu_submit_args b = { .ctx_id = low, .cmd = &nop, .out = &ol, .n_out = 1 };

		r = anpu_submit(self->fd, &a, NULL);
		rl = anpu_submit(self->fd, &b, NULL);
	}
	if (!r)
		r = anpu_syncobj_wait(self->fd, so, 0, (int)(to * 6 + 10000));
	if (!rl)
		rl = anpu_syncobj_wait(self->fd, sol, 0, (int)(to * 2 + 5000));
	ms = (anpu_now_ns() - t0) / 1000000;
	EXPECT_EQ(0, anpu_power_loss(false));
	ASSERT_EQ(0, r) TH_LOG("the job on the wedged device never completed");
	ASSERT_EQ(0, rl);
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, so, 0));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, sol, 0));
	EXPECT_EQ(rd0 + 1, anpu_debugfs_counter("resets_device"));
	EXPECT_LE(to * 2, ms) TH_LOG("device reset after %llu ms (timeout %llu ms)",
				     (unsigned long long)ms, (unsigned long long)to);
	/* the device works normally afterwards */
	EXPECT_EQ(0, nop_job(self->fd, ctx, ANPU_JOB_WAIT_MS, NULL, NULL));
	anpu_bo_free(self->fd, &nop);
}

TEST_HARNESS_MAIN
