// SPDX-License-Identifier: MIT
/*
 * The job ioctls, SUBMIT and JOB_INFO: their happy paths, and every class of
 * bad input (unknown handles and contexts, undefined flags, nonzero pad or
 * reserved fields, unaligned or overflowing command ranges, bad array strides
 * and user pointers, bad syncobjs) returning the errno uapi/drm/anpu_accel.h
 * documents, with nothing leaked. The other ioctls: anpu_ioctl_test.c.
 */
#include "anpu_test.h"
/* ---- SUBMIT ---- */

FIXTURE(sub) {
	int fd;
	struct anpu_counters base;
	long long mem0;
	uint32_t ctx, so;
	struct anpu_bo cmd, data;
	uint32_t cmd_size;
	struct drm_anpu_bo_ref ref;
	struct drm_anpu_sync out;
	struct drm_anpu_submit s;	/* a valid submit, to corrupt */
};

FIXTURE_SETUP(sub)
{
	self->fd = -1;
	ASSERT_EQ(0, anpu_counters_read(&self->base));
	self->fd = anpu_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &self->cmd, &self->cmd_size));
	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &self->data));
	self->so = anpu_syncobj(self->fd);
	ASSERT_NE(0, self->so);
	self->mem0 = anpu_fdinfo_total(self->fd);
	self->ref = (struct drm_anpu_bo_ref){ .handle = self->data.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	self->out = (struct drm_anpu_sync){ .handle = self->so };
	self->s = (struct drm_anpu_submit){
		.ctx_id = self->ctx,
		.cmd_handle = self->cmd.handle,
		.cmd_size = self->cmd_size,
		.bos = DRM_ANPU_OBJ_ARRAY(1, &self->ref),
		.out_syncs = DRM_ANPU_OBJ_ARRAY(1, &self->out),
	};
	/* SUBMIT must work at all, or every bad-input test would pass on -EINVAL */
	{
		struct drm_anpu_submit s = self->s;

		ASSERT_EQ(0, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_SUBMIT, &s)) TH_LOG("SUBMIT does not work");
		ASSERT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	}
}

FIXTURE_TEARDOWN(sub)
{
	struct anpu_counters now;

	if (self->fd < 0)
		return;
	anpu_bo_free(self->fd, &self->cmd);
	anpu_bo_free(self->fd, &self->data);
	close(self->fd);
	if (_metadata->exit_code)
		return;	/* a failed test may still hold mappings */
	EXPECT_EQ(0, anpu_counters_settle(&self->base, &now, 5000))
		TH_LOG("counters bos %ld jobs %ld contexts %ld", now.bos, now.jobs, now.contexts);
}

static int submit(FIXTURE_DATA(sub) *self, struct drm_anpu_submit *s)
{
	return anpu_ioctl(self->fd, DRM_IOCTL_ANPU_SUBMIT, s);
}

/* Nothing of a refused submit stays: no job, no memory. */
#define EXPECT_NOTHING_LEAKED(self) do { \
	struct anpu_counters __b = (self)->base, __n; \
	__b.bos += 2; __b.contexts += 1; \
	EXPECT_EQ(0, anpu_counters_settle(&__b, &__n, 5000)) \
		TH_LOG("counters bos %ld jobs %ld contexts %ld", __n.bos, __n.jobs, __n.contexts); \
	EXPECT_EQ((self)->mem0, anpu_fdinfo_total((self)->fd)); \
} while (0)

TEST_F(sub, submit_runs_a_nop_job_and_signals_its_out_syncobj)
{
	struct drm_anpu_submit s = self->s;

	ASSERT_EQ(0, submit(self, &s));
	EXPECT_LT(0, s.seqno);
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, self->so, 0));
}

TEST_F(sub, submit_seqnos_increase_per_context)
{
	uint64_t last = 0;

	for (int i = 0; i < 8; i++) {
		struct drm_anpu_submit s = self->s;

		ASSERT_EQ(0, submit(self, &s));
		EXPECT_LT(last, s.seqno);
		last = s.seqno;
	}
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
}

TEST_F(sub, submit_at_an_8_byte_aligned_offset_runs)
{
	struct anpu_bo cmd;
	struct drm_anpu_submit s = self->s;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 8192, DRM_ANPU_BO_NPU_READONLY, &cmd));
	memcpy((uint8_t *)cmd.map + 4096 + 8, self->cmd.map, self->cmd_size);
	s.cmd_handle = cmd.handle;
	s.cmd_offset = 4096 + 8;
	ASSERT_EQ(0, submit(self, &s));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, self->so, 0));
	anpu_bo_free(self->fd, &cmd);
}

TEST_F(sub, submit_with_a_timeline_out_point_signals_that_point)
{
	struct drm_anpu_sync out = { .flags = DRM_ANPU_SYNC_TIMELINE, .point = 5 };
	struct drm_anpu_submit s = self->s;
	uint64_t v = 0;

	out.handle = anpu_syncobj(self->fd);
	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &out);
	ASSERT_EQ(0, submit(self, &s));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, out.handle, 5, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(0, drmSyncobjQuery(self->fd, &out.handle, &v, 1));
	EXPECT_EQ(5, v);
}

TEST_F(sub, submit_with_profiling_fills_the_profile_bo)
{
	struct anpu_bo prof;
	struct drm_anpu_submit s = self->s;
	const uint32_t *p;
	int nz = 0;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &prof));
	s.flags = DRM_ANPU_SUBMIT_PROFILE;
	s.profile_handle = prof.handle;
	s.profile_size = 4096;
	ASSERT_EQ(0, submit(self, &s));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, self->so, 0));
	p = prof.map;
	for (int i = 0; i < 64; i++)
		nz += p[i] != 0;
	EXPECT_LT(0, nz) TH_LOG("profile BO untouched");
	anpu_bo_free(self->fd, &prof);
}

TEST_F(sub, submit_unknown_context_fails_enoent)
{
	struct drm_anpu_submit s = self->s;

	s.ctx_id = 0;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	s.ctx_id = self->ctx + 1000;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_on_a_destroyed_context_fails_enoent)
{
	struct drm_anpu_submit s = self->s;
	uint32_t ctx;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, 1, &ctx));
	ASSERT_EQ(0, anpu_ctx_destroy(self->fd, ctx));
	s.ctx_id = ctx;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_undefined_flags_fail_einval)
{
	struct drm_anpu_submit s = self->s;

	s.flags = 1u << 1;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.flags = 1u << 31;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_SUBMIT, (void *)BADPTR));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_unknown_cmd_handle_fails_enoent)
{
	struct drm_anpu_submit s = self->s;

	s.cmd_handle = 0;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	s.cmd_handle = 0x7ffffff0;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_zero_cmd_size_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	s.cmd_size = 0;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_unaligned_cmd_offset_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	for (uint64_t off = 1; off < 8; off++) {
		s.cmd_offset = off;
		EXPECT_EQ(-EINVAL, submit(self, &s)) TH_LOG("offset %llu", (unsigned long long)off);
	}
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_cmd_range_past_the_bo_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	s.cmd_offset = self->cmd.size - 8;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.cmd_offset = 0;
	s.cmd_size = (uint32_t)self->cmd.size + 1;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.cmd_size = 0xfffffff8u;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_overflowing_cmd_offset_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	s.cmd_offset = UINT64_MAX - 7;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.cmd_offset = 1ull << 63;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_unknown_bo_handle_fails_enoent)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_bo_ref refs[2] = { self->ref, { .handle = 0x7ffffff0 } };

	s.bos = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(2, refs);
	EXPECT_EQ(-ENOENT, submit(self, &s));
	refs[1].handle = 0;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_undefined_bo_ref_flags_fail_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_bo_ref ref = { .handle = self->data.handle, .flags = 1u << 1 };

	s.bos = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &ref);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_duplicate_bo_handle_fails_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_bo_ref refs[2] = { self->ref, { .handle = self->data.handle } };

	s.bos = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(2, refs);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_more_than_4096_bos_fails_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_bo_ref *refs = calloc(4097, sizeof(*refs));

	ASSERT_NE(NULL, refs);
	refs[0] = self->ref;
	s.bos = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(4097, refs);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.bos.count = 0xffffffffu;
	EXPECT_EQ(-EINVAL, submit(self, &s)) TH_LOG("count overflowing count * stride");
	s.bos.stride = 0xffffffffu;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	free(refs);
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_zero_array_stride_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	s.bos.stride = 0;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s = self->s;
	s.out_syncs.stride = 0;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_bad_array_pointers_fail_efault)
{
	struct drm_anpu_submit s = self->s;

	s.bos.array = BADPTR;
	EXPECT_EQ(-EFAULT, submit(self, &s));
	s = self->s;
	s.in_syncs = (struct drm_anpu_obj_array){ sizeof(struct drm_anpu_sync), 1, BADPTR };
	EXPECT_EQ(-EFAULT, submit(self, &s));
	s = self->s;
	s.out_syncs.array = BADPTR;
	EXPECT_EQ(-EFAULT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_larger_array_stride_with_zero_tail_is_accepted)
{
	struct { struct drm_anpu_bo_ref r; uint64_t tail; } big = { self->ref, 0 };
	struct { struct drm_anpu_sync s; uint64_t tail[2]; } out = { self->out, { 0, 0 } };
	struct drm_anpu_submit s = self->s;

	s.bos = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &big);
	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &out);
	EXPECT_EQ(0, submit(self, &s));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
}

TEST_F(sub, submit_larger_array_stride_with_nonzero_tail_fails_einval)
{
	struct { struct drm_anpu_bo_ref r; uint64_t tail; } big = { self->ref, 1 };
	struct { struct drm_anpu_sync s; uint64_t tail; } out = { self->out, 1ull << 63 };
	struct drm_anpu_submit s = self->s;

	s.bos = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &big);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s = self->s;
	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &out);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_shorter_array_stride_reads_missing_fields_as_zero)
{
	/* stride 4: only @handle of each bo_ref (flags read as 0) */
	uint32_t handle = self->data.handle;
	struct drm_anpu_submit s = self->s;

	s.bos = (struct drm_anpu_obj_array){ 4, 1, (uintptr_t)&handle };
	EXPECT_EQ(0, submit(self, &s));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
}

TEST_F(sub, submit_unknown_syncobj_fails_enoent)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_sync bad = { .handle = 0x7ffffff0 };

	s.in_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &bad);
	EXPECT_EQ(-ENOENT, submit(self, &s));
	s = self->s;
	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &bad);
	EXPECT_EQ(-ENOENT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_undefined_sync_flags_fail_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_sync bad = { .handle = self->so, .flags = 1u << 1 };

	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &bad);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_binary_sync_with_a_point_fails_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_sync bad = { .handle = self->so, .point = 3 };

	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(1, &bad);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_more_than_64_syncs_fails_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_sync syncs[65];

	for (int i = 0; i < 65; i++)
		syncs[i] = (struct drm_anpu_sync){ .handle = self->so };
	s.out_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(65, syncs);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s = self->s;
	s.in_syncs = (struct drm_anpu_obj_array)DRM_ANPU_OBJ_ARRAY(65, syncs);
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_profile_fields_without_the_flag_fail_einval)
{
	struct drm_anpu_submit s = self->s;

	s.profile_handle = self->data.handle;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.profile_handle = 0;
	s.profile_size = 64;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	s.profile_size = 0;
	s.profile_offset = 8;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_profile_unknown_handle_fails_enoent)
{
	struct drm_anpu_submit s = self->s;

	s.flags = DRM_ANPU_SUBMIT_PROFILE;
	s.profile_handle = 0x7ffffff0;
	s.profile_size = 4096;
	EXPECT_EQ(-ENOENT, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_profile_unaligned_or_out_of_range_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	s.flags = DRM_ANPU_SUBMIT_PROFILE;
	s.profile_handle = self->data.handle;
	s.profile_size = 1024;
	s.profile_offset = 4;
	EXPECT_EQ(-EINVAL, submit(self, &s)) TH_LOG("unaligned offset");
	s.profile_offset = 4096 - 512;
	EXPECT_EQ(-EINVAL, submit(self, &s)) TH_LOG("range past the BO");
	s.profile_offset = UINT64_MAX - 7;
	EXPECT_EQ(-EINVAL, submit(self, &s)) TH_LOG("overflowing offset");
	EXPECT_NOTHING_LEAKED(self);
}

TEST_F(sub, submit_profile_into_a_read_only_bo_fails_einval)
{
	struct drm_anpu_submit s = self->s;

	s.flags = DRM_ANPU_SUBMIT_PROFILE;
	s.profile_handle = self->cmd.handle;
	s.profile_size = 1024;
	s.profile_offset = 1024;
	EXPECT_EQ(-EINVAL, submit(self, &s));
	EXPECT_NOTHING_LEAKED(self);
}

/* ---- JOB_INFO ---- */

TEST_F(sub, job_info_reports_a_completed_job)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, submit(self, &s));
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	ASSERT_EQ(0, anpu_job_info(self->fd, self->ctx, s.seqno, &ji));
	EXPECT_EQ(DRM_ANPU_JOB_DONE, ji.state);
	EXPECT_EQ(ANPU_RESULT_OK, ji.result);
	EXPECT_EQ(ANPU_CAUSE_NONE, ji.cause);
	EXPECT_EQ(1, ji.op_index);
	EXPECT_EQ(1, ji.ops_done);
	EXPECT_EQ(0, ji.error);
	EXPECT_LT(0, ji.end_ns);
	EXPECT_LE(ji.start_ns, ji.end_ns);
}

TEST_F(sub, job_info_unknown_context_or_seqno_fails_enoent)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, submit(self, &s));
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(-ENOENT, anpu_job_info(self->fd, self->ctx + 1000, s.seqno, &ji));
	EXPECT_EQ(-ENOENT, anpu_job_info(self->fd, 0, s.seqno, &ji));
	EXPECT_EQ(-ENOENT, anpu_job_info(self->fd, self->ctx, s.seqno + 1000, &ji));
	EXPECT_EQ(-ENOENT, anpu_job_info(self->fd, self->ctx, 0, &ji));
}

TEST_F(sub, job_info_forgets_jobs_older_than_its_depth)
{
	uint64_t depth = 0, first = 0;
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_JOB_INFO_DEPTH, &depth));
	ASSERT_LT(0, depth);
	ASSERT_GE(4096, depth);
	for (uint64_t i = 0; i < depth + 2; i++) {
		struct drm_anpu_submit s = self->s;

		ASSERT_EQ(0, submit(self, &s));
		if (!i)
			first = s.seqno;
	}
	ASSERT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(-ENOENT, anpu_job_info(self->fd, self->ctx, first, &ji));
	EXPECT_EQ(0, anpu_job_info(self->fd, self->ctx, first + 2, &ji));
}

TEST_F(sub, job_info_nonzero_pad_fails_einval)
{
	struct drm_anpu_submit s = self->s;
	struct drm_anpu_job_info ji = { 0 };

	ASSERT_EQ(0, submit(self, &s));
	ji.ctx_id = self->ctx;
	ji.seqno = s.seqno;
	ji.pad = 1;
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_JOB_INFO, &ji));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, self->so, 0, ANPU_JOB_WAIT_MS));
}

TEST_F(sub, job_info_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_JOB_INFO, (void *)BADPTR));
}

TEST_HARNESS_MAIN
