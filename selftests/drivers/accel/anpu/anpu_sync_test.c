// SPDX-License-Identifier: MIT
/*
 * Synchronisation: binary and timeline syncobjs chain jobs across contexts
 * and across processes, implicit sync through the BO list orders a reader
 * after a writer, and priorities: with the queues loaded a realtime job
 * finishes before low-priority jobs submitted earlier. Order is observed on
 * the device clock (JOB_INFO start/end times; one clock for every queue).
 */
#include "anpu_test.h"

#define HEAVY_REPS 6

static void job_times(struct __test_metadata *_metadata, int fd, uint32_t ctx, uint64_t seqno,
		      uint64_t *start, uint64_t *end)
{
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, anpu_job_info(fd, ctx, seqno, &ji));
	ASSERT_EQ(DRM_ANPU_JOB_DONE, ji.state);
	ASSERT_EQ(ANPU_RESULT_OK, ji.result);
	*start = ji.start_ns;
	*end = ji.end_ns;
}

TEST_F_TIMEOUT(anpu, binary_syncobj_orders_a_job_after_one_on_another_context, 60)
{
	struct anpu_heavy a;
	struct anpu_bo nop;
	uint32_t ca, cb, s1 = anpu_syncobj(self->fd), s2 = anpu_syncobj(self->fd);
	struct drm_anpu_sync o1 = { .handle = s1 }, o2 = { .handle = s2 };
	uint64_t qa, qb, as, ae, bs, be;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &ca));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_HIGH, &cb));
	ASSERT_EQ(0, anpu_heavy_new(self->fd, HEAVY_REPS, &a));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &nop, NULL));
	{
		struct anpu_submit_args sa = { .ctx_id = ca, .cmd = &a.cmd, .bos = a.refs, .n_bos = 3,
					       .out = &o1, .n_out = 1 };
		struct anpu_submit_args sb = { .ctx_id = cb, .cmd = &nop, .in = &o1, .n_in = 1,
					       .out = &o2, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &sa, &qa));
		ASSERT_EQ(0, anpu_submit(self->fd, &sb, &qb));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, s2, 0, ANPU_JOB_WAIT_MS));
	job_times(_metadata, self->fd, ca, qa, &as, &ae);
	job_times(_metadata, self->fd, cb, qb, &bs, &be);
	EXPECT_LE(ae, bs) TH_LOG("high job started %lld ns before the low job it waits for ended",
				 (long long)(ae - bs));
	anpu_heavy_free(self->fd, &a);
	anpu_bo_free(self->fd, &nop);
}

TEST_F_TIMEOUT(anpu, timeline_points_chain_jobs_on_three_contexts_in_order, 60)
{
	struct anpu_heavy h[3];
	uint32_t ctx[3], tl = anpu_syncobj(self->fd);
	uint64_t seq[3], s[3], e[3], v = 0;

	ASSERT_NE(0, tl);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, anpu_ctx_create(self->fd, (uint32_t)(3 - i), &ctx[i]));
		ASSERT_EQ(0, anpu_heavy_new(self->fd, 2, &h[i]));
	}
	for (int i = 0; i < 3; i++) {
		struct drm_anpu_sync in = { .handle = tl, .flags = DRM_ANPU_SYNC_TIMELINE,
					    .point = (uint64_t)i };
		struct drm_anpu_sync out = { .handle = tl, .flags = DRM_ANPU_SYNC_TIMELINE,
					     .point = (uint64_t)i + 1 };
		struct anpu_submit_args a = { .ctx_id = ctx[i], .cmd = &h[i].cmd, .bos = h[i].refs,
					      .n_bos = 3, .in = &in, .n_in = i ? 1 : 0,
					      .out = &out, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &a, &seq[i]));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, tl, 3, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(0, drmSyncobjQuery(self->fd, &tl, &v, 1));
	EXPECT_EQ(3, v);
	for (int i = 0; i < 3; i++)
		job_times(_metadata, self->fd, ctx[i], seq[i], &s[i], &e[i]);
	EXPECT_LE(e[0], s[1]);
	EXPECT_LE(e[1], s[2]);
	for (int i = 0; i < 3; i++)
		anpu_heavy_free(self->fd, &h[i]);
}

/*
 * Child: open its own file, import the syncobj fd, submit a NOP job waiting
 * on it (binary, or timeline point 1 signalling point 2), wait, and write the
 * job's device start time to @wfd. Exit status: 0 or the step that failed.
 */
static int child_chain(int sofd, bool timeline, int wfd)
{
	int fd = anpu_open();
	uint32_t so, ctx, done;
	struct anpu_bo nop;
	struct drm_anpu_job_info ji;
	struct drm_anpu_sync in, out;
	struct anpu_submit_args a = { 0 };
	uint64_t seq;

	if (fd < 0)
		return 10;
	if (drmSyncobjFDToHandle(fd, sofd, &so))
		return 11;
	if (anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx) || anpu_nop_bo(fd, 1, &nop, NULL))
		return 12;
	done = anpu_syncobj(fd);
	in = (struct drm_anpu_sync){ .handle = so, .flags = timeline ? DRM_ANPU_SYNC_TIMELINE : 0,
				     .point = timeline ? 1 : 0 };
	out = timeline ? (struct drm_anpu_sync){ .handle = so, .flags = DRM_ANPU_SYNC_TIMELINE,
						 .point = 2 }
		       : (struct drm_anpu_sync){ .handle = done };
	a = (struct anpu_submit_args){ .ctx_id = ctx, .cmd = &nop, .in = &in, .n_in = 1,
				       .out = &out, .n_out = 1 };
	if (anpu_submit(fd, &a, &seq))
		return 13;
	if (anpu_syncobj_wait(fd, out.handle, out.point, ANPU_JOB_WAIT_MS))
		return 14;
	if (anpu_job_info(fd, ctx, seq, &ji) || ji.result != ANPU_RESULT_OK)
		return 15;
	if (write(wfd, &ji.start_ns, 8) != 8)
		return 16;
	return 0;
}

static void cross_process(struct __test_metadata *_metadata, int fd, bool timeline)
{
	struct anpu_heavy a;
	uint32_t so = 0, ctx;
	int sofd = -1, pfd[2], pid;
	struct drm_anpu_sync out;
	uint64_t qa, as, ae, child_start = 0;
	struct anpu_submit_args sa;

	ASSERT_EQ(0, drmSyncobjCreate(fd, 0, &so));
	ASSERT_EQ(0, anpu_ctx_create(fd, DRM_ANPU_PRIORITY_LOW, &ctx));
	ASSERT_EQ(0, anpu_heavy_new(fd, HEAVY_REPS, &a));
	out = (struct drm_anpu_sync){ .handle = so, .flags = timeline ? DRM_ANPU_SYNC_TIMELINE : 0,
				      .point = timeline ? 1 : 0 };
	sa = (struct anpu_submit_args){ .ctx_id = ctx, .cmd = &a.cmd, .bos = a.refs, .n_bos = 3,
					.out = &out, .n_out = 1 };
	ASSERT_EQ(0, anpu_submit(fd, &sa, &qa));
	ASSERT_EQ(0, drmSyncobjHandleToFD(fd, so, &sofd));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pfd[0]);
		_exit(child_chain(sofd, timeline, pfd[1]));
	}
	close(pfd[1]);
	EXPECT_EQ(8, read(pfd[0], &child_start, 8));
	close(pfd[0]);
	EXPECT_EQ(0, anpu_wait_child(pid)) TH_LOG("child failed at step (10 open .. 16 report)");
	job_times(_metadata, fd, ctx, qa, &as, &ae);
	EXPECT_LE(ae, child_start) TH_LOG("the other process's job started before ours ended");
	if (timeline) {
		uint64_t v = 0;

		EXPECT_EQ(0, anpu_syncobj_wait(fd, so, 2, ANPU_JOB_WAIT_MS));
		EXPECT_EQ(0, drmSyncobjQuery(fd, &so, &v, 1));
		EXPECT_EQ(2, v) TH_LOG("the child's point is seen through our handle");
	}
	close(sofd);
	anpu_heavy_free(fd, &a);
}

TEST_F_TIMEOUT(anpu, binary_syncobj_chains_jobs_across_processes, 60)
{
	cross_process(_metadata, self->fd, false);
}

TEST_F_TIMEOUT(anpu, timeline_syncobj_chains_jobs_across_processes, 60)
{
	cross_process(_metadata, self->fd, true);
}

TEST_F_TIMEOUT(anpu, sync_file_of_a_job_fence_orders_a_later_job, 60)
{
	/* a job's out fence exported as a sync_file, imported into another syncobj */
	struct anpu_heavy a;
	struct anpu_bo nop;
	uint32_t ca, cb, s1 = anpu_syncobj(self->fd), s2 = anpu_syncobj(self->fd), s3 = anpu_syncobj(self->fd);
	struct drm_anpu_sync o1 = { .handle = s1 }, i2 = { .handle = s2 }, o3 = { .handle = s3 };
	uint64_t qa, qb, as, ae, bs, be;
	int sf = -1;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &ca));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &cb));
	ASSERT_EQ(0, anpu_heavy_new(self->fd, HEAVY_REPS, &a));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &nop, NULL));
	{
		struct anpu_submit_args sa = { .ctx_id = ca, .cmd = &a.cmd, .bos = a.refs, .n_bos = 3,
					       .out = &o1, .n_out = 1 };
		struct anpu_submit_args sb = { .ctx_id = cb, .cmd = &nop, .in = &i2, .n_in = 1,
					       .out = &o3, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &sa, &qa));
		ASSERT_EQ(0, drmSyncobjExportSyncFile(self->fd, s1, &sf));
		ASSERT_EQ(0, drmSyncobjImportSyncFile(self->fd, s2, sf));
		close(sf);
		ASSERT_EQ(0, anpu_submit(self->fd, &sb, &qb));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, s3, 0, ANPU_JOB_WAIT_MS));
	job_times(_metadata, self->fd, ca, qa, &as, &ae);
	job_times(_metadata, self->fd, cb, qb, &bs, &be);
	EXPECT_LE(ae, bs);
	anpu_heavy_free(self->fd, &a);
	anpu_bo_free(self->fd, &nop);
}

TEST_F_TIMEOUT(anpu, implicit_sync_orders_a_reader_after_the_writer_of_a_bo, 60)
{
	/* no syncobjs: job B lists A's output BO as read, so it waits for A */
	struct anpu_heavy a;
	struct anpu_bo cmd;
	struct simdev_stream s;
	uint32_t ca, cb, so = anpu_syncobj(self->fd);
	struct drm_anpu_sync out = { .handle = so };
	struct drm_anpu_bo_ref ref;
	uint64_t qa, qb, as, ae, bs, be;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &ca));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_REALTIME, &cb));
	ASSERT_EQ(0, anpu_heavy_new(self->fd, HEAVY_REPS, &a));
	/* B: y[0..15] *= 1 in place (reads and writes A's output) */
	simdev_stream_init(&s);
	anpu_stream_copy(&s, a.y.addr, a.y.addr, 16);
	ASSERT_NE(0, simdev_stream_finish(&s, 0, 0));
	ASSERT_EQ(0, anpu_stream_bo(self->fd, &s, &cmd));
	simdev_stream_free(&s);
	ref = (struct drm_anpu_bo_ref){ .handle = a.y.handle };
	{
		struct anpu_submit_args sa = { .ctx_id = ca, .cmd = &a.cmd, .bos = a.refs, .n_bos = 3 };
		struct anpu_submit_args sb = { .ctx_id = cb, .cmd = &cmd, .bos = &ref, .n_bos = 1,
					       .out = &out, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &sa, &qa));
		ASSERT_EQ(0, anpu_submit(self->fd, &sb, &qb));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so, 0, ANPU_JOB_WAIT_MS));
	job_times(_metadata, self->fd, ca, qa, &as, &ae);
	job_times(_metadata, self->fd, cb, qb, &bs, &be);
	EXPECT_LE(ae, bs) TH_LOG("the realtime reader ran before the low writer ended");
	anpu_heavy_free(self->fd, &a);
	anpu_bo_free(self->fd, &cmd);
}

TEST_F_TIMEOUT(anpu, realtime_job_finishes_before_low_jobs_submitted_earlier, 120)
{
	enum { NLOW = 10 };
	struct anpu_heavy low, rt;
	uint32_t cl, cr, so = anpu_syncobj(self->fd);
	struct drm_anpu_sync out = { .handle = so };
	uint64_t ql[NLOW], qr, rs, re, ls, le, last_low_end = 0;
	int after = 0;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &cl));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_REALTIME, &cr));
	ASSERT_EQ(0, anpu_heavy_new(self->fd, HEAVY_REPS, &low));
	ASSERT_EQ(0, anpu_heavy_new(self->fd, 1, &rt));
	for (int i = 0; i < NLOW; i++) {
		/* no BO list: the low jobs must not serialise through implicit sync */
		struct anpu_submit_args a = { .ctx_id = cl, .cmd = &low.cmd,
					      .out = &out, .n_out = i == NLOW - 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &a, &ql[i]));
	}
	{
		uint32_t rso = anpu_syncobj(self->fd);
		struct drm_anpu_sync rout = { .handle = rso };
		struct anpu_submit_args a = { .ctx_id = cr, .cmd = &rt.cmd, .bos = rt.refs, .n_bos = 3,
					      .out = &rout, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(self->fd, &a, &qr));
		ASSERT_EQ(0, anpu_syncobj_wait(self->fd, rso, 0, ANPU_JOB_WAIT_MS));
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, so, 0, ANPU_JOB_WAIT_MS));
	job_times(_metadata, self->fd, cr, qr, &rs, &re);
	for (int i = 0; i < NLOW; i++) {
		job_times(_metadata, self->fd, cl, ql[i], &ls, &le);
		after += le > re;
		if (le > last_low_end)
			last_low_end = le;
	}
	EXPECT_LT(re, last_low_end);
	EXPECT_LE(NLOW / 2, after) TH_LOG("only %d of %d earlier low jobs finished after the realtime one",
					  after, NLOW);
	anpu_heavy_free(self->fd, &low);
	anpu_heavy_free(self->fd, &rt);
}

TEST_HARNESS_MAIN
