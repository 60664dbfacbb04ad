// SPDX-License-Identifier: MIT
/*
 * Production plumbing: runtime PM (autosuspend when idle, observed in
 * /sys/bus/pci/devices/<bdf>/power/runtime_status; a job resumes the device),
 * PRIME sharing of a BO between two processes (mapped into the importer's
 * address space, data visible both ways through jobs), and PCI unbind with
 * open files (-ENODEV afterwards, no crash; rebind gives a working device).
 * The unbind test runs last: the harness runs tests in file order.
 */
#include <limits.h>

#include "anpu_test.h"

static long autosuspend_ms(int fd)
{
	char bdf[64], path[PATH_MAX], buf[64];

	if (anpu_bdf(fd, bdf, sizeof(bdf)))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/autosuspend_delay_ms", bdf);
	if (anpu_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return atol(buf);
}


TEST_F_TIMEOUT(anpu, device_autosuspends_when_idle, 60)
{
	long delay = autosuspend_ms(self->fd);
	char st[64] = "";

	ASSERT_LE(0, delay) TH_LOG("no autosuspend_delay_ms: autosuspend not enabled");
	ASSERT_GE(20000, delay);
	EXPECT_EQ(0, anpu_runtime_status_wait(self->fd, "suspended", (int)delay + 5000));
	anpu_runtime_status(self->fd, st, sizeof(st));
	TH_LOG("runtime_status %s (autosuspend delay %ld ms)", st, delay);
}

TEST_F_TIMEOUT(anpu, job_resumes_a_suspended_device, 60)
{
	long delay = autosuspend_ms(self->fd);
	struct anpu_bo cmd;
	uint32_t ctx;
	char st[64] = "";

	ASSERT_LE(0, delay);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &cmd, NULL));
	ASSERT_EQ(0, anpu_runtime_status_wait(self->fd, "suspended", (int)delay + 5000));
	EXPECT_EQ(0, anpu_run(self->fd, ctx, &cmd, NULL, 0, NULL, ANPU_JOB_WAIT_MS));
	if (delay >= 200) {
		anpu_runtime_status(self->fd, st, sizeof(st));
		EXPECT_STREQ("active", st);
	}
	EXPECT_EQ(0, anpu_runtime_status_wait(self->fd, "suspended", (int)delay + 5000))
		TH_LOG("suspends again when idle");
	EXPECT_EQ(0, anpu_run(self->fd, ctx, &cmd, NULL, 0, NULL, ANPU_JOB_WAIT_MS));
	anpu_bo_free(self->fd, &cmd);
}

/* Child: import the dma-buf, check its contents through a job and the CPU, write back. */
static int prime_child(int dmabuf, uint32_t pattern)
{
	int fd = anpu_open();
	uint32_t h, ctx;
	struct drm_anpu_bo_info info;
	struct anpu_bo mine, cmd;
	struct simdev_stream s;
	struct drm_anpu_bo_ref refs[2];
	uint32_t *p;

	if (fd < 0)
		return 10;
	if (drmPrimeFDToHandle(fd, dmabuf, &h))
		return 11;
	if (anpu_bo_info(fd, h, &info) || info.size < 8192 || !info.npu_addr)
		return 12;
	p = anpu_bo_mmap(fd, h, NULL);
	if (!p || p[0] != pattern)
		return 13;
	if (anpu_bo_new(fd, 4096, 0, &mine) || anpu_ctx_create(fd, 1, &ctx))
		return 14;
	/* job: copy the first 16 words of the shared BO into ours, and ours (ones) back at 4096 */
	for (int i = 0; i < 16; i++)
		((float *)mine.map)[16 + i] = 1.0f;
	simdev_stream_init(&s);
	anpu_stream_copy(&s, info.npu_addr, mine.addr, 16);
	anpu_stream_copy(&s, mine.addr + 64, info.npu_addr + 4096, 16);
	if (!simdev_stream_finish(&s, 0, 0) || anpu_stream_bo(fd, &s, &cmd))
		return 15;
	refs[0] = (struct drm_anpu_bo_ref){ .handle = h, .flags = DRM_ANPU_BO_REF_WRITE };
	refs[1] = (struct drm_anpu_bo_ref){ .handle = mine.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	if (anpu_run(fd, ctx, &cmd, refs, 2, NULL, ANPU_JOB_WAIT_MS))
		return 16;
	for (int i = 0; i < 16; i++)
		if (((uint32_t *)mine.map)[i] != pattern)
			return 17;
	return 0;
}

TEST_F_TIMEOUT(anpu, prime_shares_a_bo_between_two_processes, 60)
{
	struct anpu_bo bo;
	const uint32_t pattern = 0x3fc00000;	/* 1.5f */
	int dmabuf = -1, pid;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 8192, 0, &bo));
	for (int i = 0; i < 1024; i++)
		((uint32_t *)bo.map)[i] = pattern;
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(prime_child(dmabuf, pattern));
	EXPECT_EQ(0, anpu_wait_child(pid))
		TH_LOG("child step: 11 import, 12 info, 13 mmap/contents, 15 stream, 16 job, 17 data");
	for (int i = 0; i < 16; i++) {
		uint32_t w = ((uint32_t *)bo.map)[1024 + i];

		EXPECT_EQ(0x3f800000, w) TH_LOG("word %d", i);
	}
	close(dmabuf);
	anpu_bo_free(self->fd, &bo);
}

TEST_F(anpu, prime_reimport_into_the_exporting_file_gives_the_same_handle)
{
	uint32_t h, h2;
	int dmabuf = -1;

	ASSERT_EQ(0, anpu_bo_create(self->fd, 4096, 0, &h, NULL));
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, h, DRM_CLOEXEC, &dmabuf));
	ASSERT_EQ(0, drmPrimeFDToHandle(self->fd, dmabuf, &h2));
	EXPECT_EQ(h, h2);
	close(dmabuf);
	anpu_bo_close(self->fd, h);
}

/*
 * Last: unbind the device with files open, then rebind it. Its own fixture,
 * registered after "anpu", so that the harness runs it after every other test.
 */
FIXTURE(unplug) {
	int unused;
};
FIXTURE_SETUP(unplug) { }
FIXTURE_TEARDOWN(unplug) { }

TEST_F_TIMEOUT(unplug, unbind_with_open_files_gives_enodev_and_rebind_works, 60)
{
	char bdf[64], st[64];
	struct anpu_bo bo, cmd;
	struct drm_anpu_sync out = { 0 };
	struct anpu_submit_args sub;
	uint32_t ctx, so, cmd_size;
	uint64_t v;
	int fd = anpu_open(), fd2;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, anpu_bdf(fd, bdf, sizeof(bdf)));
	ASSERT_EQ(0, anpu_bo_new(fd, 4096, 0, &bo));
	ASSERT_EQ(0, anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_nop_bo(fd, 1, &cmd, &cmd_size));
	ASSERT_EQ(0, anpu_run(fd, ctx, &cmd, NULL, 0, NULL, ANPU_JOB_WAIT_MS));
	so = anpu_syncobj(fd);
	ASSERT_NE(0, so);
	out.handle = so;
	/* cmd_size given: after the unplug the BO's mapping faults (SIGBUS, docs/kernel-abi.md) */
	sub = (struct anpu_submit_args){ .ctx_id = ctx, .cmd = &cmd, .cmd_size = cmd_size,
					 .out = &out, .n_out = 1 };
	ASSERT_EQ(0, anpu_write_file("/sys/bus/pci/drivers/anpu/unbind", bdf));
	EXPECT_EQ(-ENODEV, anpu_get_param(fd, DRM_ANPU_PARAM_HW_VERSION, &v));
	EXPECT_EQ(-ENODEV, anpu_bo_create(fd, 4096, 0, NULL, NULL));
	EXPECT_EQ(-ENODEV, anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, NULL));
	/* SUBMIT itself (its out syncobj was created before the unbind) */
	EXPECT_EQ(-ENODEV, anpu_submit(fd, &sub, NULL));
	/* tear down what we hold on the gone device: must not crash */
	munmap(bo.map, bo.size);
	munmap(cmd.map, cmd.size);
	close(fd);
	ASSERT_EQ(0, anpu_write_file("/sys/bus/pci/drivers/anpu/bind", bdf));
	fd2 = anpu_open();
	ASSERT_LE(0, fd2) TH_LOG("no device after rebind");
	ASSERT_EQ(0, anpu_ctx_create(fd2, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	ASSERT_EQ(0, anpu_nop_bo(fd2, 1, &cmd, NULL));
	EXPECT_EQ(0, anpu_run(fd2, ctx, &cmd, NULL, 0, NULL, ANPU_JOB_WAIT_MS));
	anpu_bo_free(fd2, &cmd);
	EXPECT_EQ(0, anpu_runtime_status(fd2, st, sizeof(st)));
	close(fd2);
}

TEST_HARNESS_MAIN
