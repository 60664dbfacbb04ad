// SPDX-License-Identifier: MIT
/*
 * Isolation: each open file is its own NPU address space. A job of one
 * process cannot read or write another process's buffers through any NPU
 * address (the job faults, or reads its own memory if it has a BO there; the
 * other process's data stay unchanged), and the NPU cannot write command BOs
 * or other NPU-read-only BOs (PERMISSION fault, contents unchanged).
 */
#include "anpu_test.h"

#define SECRET 0x5ec2e7u
#define NSECRET 5

struct victim {
	int pid;
	int to_parent[2], to_child[2];
	uint64_t addr[NSECRET];
	uint64_t size[NSECRET];
};

/* The other process: BOs full of SECRET, then wait; exit 0 if they are intact. */
static int victim_main(int wfd, int rfd)
{
	struct anpu_bo bo[NSECRET];
	int fd = anpu_open();
	char c;

	if (fd < 0)
		return 10;
	for (int i = 0; i < NSECRET; i++) {
		if (anpu_bo_new(fd, (uint64_t)(i + 1) << 16, 0, &bo[i]))
			return 11;
		for (size_t w = 0; w < bo[i].size / 4; w++)
			((uint32_t *)bo[i].map)[w] = SECRET;
		if (write(wfd, &bo[i].addr, 8) != 8 || write(wfd, &bo[i].size, 8) != 8)
			return 12;
	}
	if (read(rfd, &c, 1) != 1)
		return 13;
	for (int i = 0; i < NSECRET; i++)
		for (size_t w = 0; w < bo[i].size / 4; w++)
			if (((uint32_t *)bo[i].map)[w] != SECRET)
				return 14;
	return 0;
}

static void victim_start(struct __test_metadata *_metadata, struct victim *v)
{
	ASSERT_EQ(0, pipe(v->to_parent));
	ASSERT_EQ(0, pipe(v->to_child));
	v->pid = fork();
	ASSERT_LE(0, v->pid);
	if (!v->pid) {
		close(v->to_parent[0]);
		close(v->to_child[1]);
		_exit(victim_main(v->to_parent[1], v->to_child[0]));
	}
	close(v->to_parent[1]);
	close(v->to_child[0]);
	for (int i = 0; i < NSECRET; i++) {
		ASSERT_EQ(8, read(v->to_parent[0], &v->addr[i], 8));
		ASSERT_EQ(8, read(v->to_parent[0], &v->size[i], 8));
	}
}

static int victim_finish(struct victim *v)
{
	char c = 1;

	if (write(v->to_child[1], &c, 1) != 1)
		return -1;
	close(v->to_child[1]);
	close(v->to_parent[0]);
	return anpu_wait_child(v->pid);
}

/*
 * Run a copy of 16 floats @src -> @dst on a fresh context (a faulting
 * context is guilty). Returns the fence status; *ji gets JOB_INFO.
 */
static int copy_job(int fd, uint64_t src, uint64_t dst, const struct drm_anpu_bo_ref *refs,
		    uint32_t nrefs, struct drm_anpu_job_info *ji)
{
	struct simdev_stream s;
	struct anpu_bo cmd;
	uint64_t seq;
	uint32_t ctx;
	int r;

	simdev_stream_init(&s);
	anpu_stream_copy(&s, src, dst, 16);
	if (!simdev_stream_finish(&s, 0, 0))
		return -ENOMEM;
	r = anpu_stream_bo(fd, &s, &cmd);
	simdev_stream_free(&s);
	if (r)
		return r;
	r = anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx);
	if (!r) {
		r = anpu_run(fd, ctx, &cmd, refs, nrefs, &seq, ANPU_JOB_WAIT_MS);
		if (anpu_job_info(fd, ctx, seq, ji))
			memset(ji, 0xff, sizeof(*ji));
		anpu_ctx_destroy(fd, ctx);
	}
	anpu_bo_free(fd, &cmd);
	return r;
}

static bool own_range(const struct anpu_bo *bos, int n, uint64_t a)
{
	for (int i = 0; i < n; i++)
		if (a >= bos[i].addr && a < bos[i].addr + bos[i].size)
			return true;
	return false;
}

TEST_F_TIMEOUT(anpu, job_cannot_read_another_process_buffers, 120)
{
	struct victim v;
	struct anpu_bo mine[2];
	struct drm_anpu_bo_ref ref;
	struct drm_anpu_job_info ji;
	int faults = 0;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &mine[0]));	/* output */
	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &mine[1]));
	ref = (struct drm_anpu_bo_ref){ .handle = mine[0].handle, .flags = DRM_ANPU_BO_REF_WRITE };
	victim_start(_metadata, &v);
	for (int i = 0; i < NSECRET; i++) {
		uint64_t probe[3] = { v.addr[i], v.addr[i] + v.size[i] / 2, v.addr[i] + v.size[i] - 64 };

		for (int p = 0; p < 3; p++) {
			int r;

			memset(mine[0].map, 0, 64);
			r = copy_job(self->fd, probe[p], mine[0].addr, &ref, 1, &ji);
			for (int w = 0; w < 16; w++)
				EXPECT_NE(SECRET, ((uint32_t *)mine[0].map)[w])
					TH_LOG("read the other process's data at 0x%llx",
					       (unsigned long long)probe[p]);
			if (own_range(mine, 2, probe[p]))
				continue;	/* our own memory at that address */
			EXPECT_EQ(-EIO, r) TH_LOG("probe 0x%llx", (unsigned long long)probe[p]);
			EXPECT_EQ(ANPU_RESULT_FAULT, ji.result);
			EXPECT_EQ(ANPU_CAUSE_UNMAPPED, ji.cause);
			faults++;
		}
	}
	EXPECT_LT(0, faults) TH_LOG("every probe hit our own BOs: no isolation was tested");
	EXPECT_EQ(0, victim_finish(&v)) TH_LOG("the other process's data changed");
	anpu_bo_free(self->fd, &mine[0]);
	anpu_bo_free(self->fd, &mine[1]);
}

TEST_F_TIMEOUT(anpu, job_cannot_write_another_process_buffers, 120)
{
	struct victim v;
	struct anpu_bo src;
	struct drm_anpu_bo_ref ref;
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &src));
	ref = (struct drm_anpu_bo_ref){ .handle = src.handle };
	victim_start(_metadata, &v);
	for (int i = 0; i < NSECRET; i++) {
		if (own_range(&src, 1, v.addr[i]))
			continue;
		EXPECT_EQ(-EIO, copy_job(self->fd, src.addr, v.addr[i], &ref, 1, &ji));
		EXPECT_EQ(ANPU_RESULT_FAULT, ji.result);
	}
	EXPECT_EQ(0, victim_finish(&v)) TH_LOG("the other process's data changed");
	anpu_bo_free(self->fd, &src);
}

TEST_F_TIMEOUT(anpu, no_npu_address_outside_own_bos_is_mapped, 120)
{
	uint64_t va_bits = 0;
	struct anpu_bo out;
	struct drm_anpu_bo_ref ref;
	struct drm_anpu_job_info ji;
	uint64_t probes[8];

	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_VA_BITS, &va_bits));
	ASSERT_LE(32, va_bits);
	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &out));
	ref = (struct drm_anpu_bo_ref){ .handle = out.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	probes[0] = 0;
	probes[1] = 4096;
	probes[2] = out.addr + out.size;
	probes[3] = out.addr >= 8192 ? out.addr - 4096 : 1ull << 30;
	probes[4] = 1ull << 31;
	probes[5] = 1ull << (va_bits - 1);
	probes[6] = (1ull << va_bits) - 4096;
	probes[7] = 0x100000;
	for (int i = 0; i < 8; i++) {
		if (own_range(&out, 1, probes[i]))
			continue;
		EXPECT_EQ(-EIO, copy_job(self->fd, probes[i], out.addr, &ref, 1, &ji))
			TH_LOG("probe 0x%llx", (unsigned long long)probes[i]);
		EXPECT_EQ(ANPU_CAUSE_UNMAPPED, ji.cause);
	}
	anpu_bo_free(self->fd, &out);
}

static void write_ro_target(struct __test_metadata *_metadata, int fd, bool own)
{
	struct simdev_stream s;
	struct anpu_bo cmd, other, src, *target;
	struct drm_anpu_bo_ref refs[2];
	uint8_t *before;
	uint32_t ctx;
	uint64_t seq;
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, anpu_bo_new(fd, 4096, 0, &src));
	for (int i = 0; i < 16; i++)
		((float *)src.map)[i] = 1.0f + (float)i;
	ASSERT_EQ(0, anpu_nop_bo(fd, 4, &other, NULL));
	/* the stream: copy src into the second page of its own command BO, or into @other */
	ASSERT_EQ(0, anpu_bo_new(fd, 8192, DRM_ANPU_BO_NPU_READONLY, &cmd));
	target = own ? &cmd : &other;
	simdev_stream_init(&s);
	anpu_stream_copy(&s, src.addr, own ? cmd.addr + 4096 : other.addr + 256, 16);
	ASSERT_NE(0, simdev_stream_finish(&s, 0, 0));
	memcpy(cmd.map, s.buf, s.size);
	simdev_stream_free(&s);
	before = malloc(target->size);
	ASSERT_NE(NULL, before);
	memcpy(before, target->map, target->size);
	refs[0] = (struct drm_anpu_bo_ref){ .handle = src.handle };
	refs[1] = (struct drm_anpu_bo_ref){ .handle = other.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	ASSERT_EQ(0, anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	EXPECT_EQ(-EIO, anpu_run(fd, ctx, &cmd, refs, 2, &seq, ANPU_JOB_WAIT_MS));
	ASSERT_EQ(0, anpu_job_info(fd, ctx, seq, &ji));
	EXPECT_EQ(ANPU_RESULT_FAULT, ji.result);
	EXPECT_EQ(ANPU_CAUSE_PERMISSION, ji.cause);
	EXPECT_EQ(0, memcmp(before, target->map, target->size)) TH_LOG("the command BO changed");
	free(before);
	anpu_bo_free(fd, &src);
	anpu_bo_free(fd, &other);
	anpu_bo_free(fd, &cmd);
}

TEST_F(anpu, command_stream_cannot_write_its_own_command_bo)
{
	write_ro_target(_metadata, self->fd, true);
}

TEST_F(anpu, command_stream_cannot_write_another_command_bo)
{
	write_ro_target(_metadata, self->fd, false);
}

TEST_F(anpu, job_cannot_write_an_npu_read_only_data_bo)
{
	struct anpu_bo src, ro;
	struct drm_anpu_bo_ref refs[2];
	struct drm_anpu_job_info ji;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &src));
	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, DRM_ANPU_BO_NPU_READONLY, &ro));
	((uint32_t *)src.map)[0] = 0x3f800000;
	((uint32_t *)ro.map)[0] = 0x12345678;
	refs[0] = (struct drm_anpu_bo_ref){ .handle = src.handle };
	refs[1] = (struct drm_anpu_bo_ref){ .handle = ro.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	EXPECT_EQ(-EIO, copy_job(self->fd, src.addr, ro.addr, refs, 2, &ji));
	EXPECT_EQ(ANPU_CAUSE_PERMISSION, ji.cause);
	EXPECT_EQ(0x12345678, ((uint32_t *)ro.map)[0]);
	anpu_bo_free(self->fd, &src);
	anpu_bo_free(self->fd, &ro);
}

TEST_HARNESS_MAIN
