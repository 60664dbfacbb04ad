// SPDX-License-Identifier: MIT
/*
 * Recovery, with faults injected through debugfs (fault_inject, force_reset):
 * a hung job fails its fence with -ETIMEDOUT within the timeout and new jobs
 * then succeed; an injected fault fails only that job (-EIO); a failing queue
 * reset is survived; innocent jobs of other queues complete; a guilty context
 * gets -ECANCELED while the file's other contexts keep working.
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

TEST_HARNESS_MAIN
