// SPDX-License-Identifier: MIT
/*
 * Smoke test of anpu.ko's ioctls in the VM (tests/vm/guest-driver.sh runs
 * it): params, clock, BOs, a SCALE job through the ring, a fault, a hang and
 * its recovery, a failing queue reset, PRIME between two files, fdinfo.
 * Prints "ok" lines and exits nonzero on the first failure.
 *   anpu-smoke [DEBUGFS_DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drm/anpu_accel.h"
#include "drm/anpu_isa.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAILED %s:%d: %s (errno %d)\n", \
	__FILE__, __LINE__, #c, errno); exit(1); } } while (0)

static const char *dbg;

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static void dbg_write(const char *file, const char *val)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dbg, file);
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(write(fd, val, strlen(val)) == (ssize_t)strlen(val));
	close(fd);
}

struct bo { uint32_t handle; uint64_t va, size; void *map; };

static struct bo bo_new(int fd, uint64_t size, uint32_t flags)
{
	struct drm_anpu_bo_create c = { .size = size, .flags = flags };
	struct drm_anpu_bo_info i = { 0 };
	struct bo b;

	CHECK(xioctl(fd, DRM_IOCTL_ANPU_BO_CREATE, &c) == 0);
	i.handle = c.handle;
	CHECK(xioctl(fd, DRM_IOCTL_ANPU_BO_INFO, &i) == 0);
	CHECK(i.npu_addr == c.npu_addr && i.size == c.size);
	b.handle = c.handle;
	b.va = c.npu_addr;
	b.size = c.size;
	b.map = mmap(NULL, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, i.mmap_offset);
	CHECK(b.map != MAP_FAILED);
	return b;
}

/* y = s * x over n floats */
static uint32_t build_scale(void *cmd, uint64_t x, uint64_t y, unsigned int n, float s)
{
	struct anpu_stream_header *h = cmd;
	struct anpu_op *op = (void *)(h + 1);
	struct anpu_tensor *t = (void *)(op + 1);

	memset(cmd, 0, 4096);
	h->magic = ANPU_STREAM_MAGIC;
	h->version_major = ANPU_ISA_VERSION_MAJOR;
	h->size = sizeof(*h) + ANPU_OP_SIZE(2);
	h->op_count = 1;
	op->opcode = ANPU_OP_SCALE;
	op->n_tensors = 2;
	op->params.scale.s = s;
	for (int i = 0; i < 2; i++) {
		t[i].addr = i ? y : x;
		t[i].ne[0] = n;
		t[i].ne[1] = t[i].ne[2] = t[i].ne[3] = 1;
		t[i].nb[0] = t[i].nb[1] = t[i].nb[2] = n * 4;
		t[i].dtype = ANPU_DTYPE_F32;
	}
	return h->size;
}

static uint32_t syncobj_new(int fd)
{
	struct drm_syncobj_create c = { 0 };

	CHECK(xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c) == 0);
	return c.handle;
}

static void syncobj_wait(int fd, uint32_t h)
{
	struct drm_syncobj_wait w = {
		.handles = (uintptr_t)&h, .count_handles = 1,
		.timeout_nsec = INT64_MAX,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	CHECK(xioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &w) == 0);
}

static int submit(int fd, uint32_t ctx, struct bo *cmd, uint32_t size, struct bo *b,
		  uint32_t nb, uint32_t out, uint64_t *seqno)
{
	struct drm_anpu_bo_ref refs[4];
	struct drm_anpu_sync o = { .handle = out };
	struct drm_anpu_submit s = {
		.ctx_id = ctx, .cmd_handle = cmd->handle, .cmd_size = size,
		.bos = DRM_ANPU_OBJ_ARRAY(nb, refs),
		.out_syncs = DRM_ANPU_OBJ_ARRAY(1, &o),
	};
	int r;

	for (uint32_t i = 0; i < nb; i++) {
		refs[i].handle = b[i].handle;
		refs[i].flags = DRM_ANPU_BO_REF_WRITE;
	}
	r = xioctl(fd, DRM_IOCTL_ANPU_SUBMIT, &s);
	if (!r && seqno)
		*seqno = s.seqno;
	return r ? -errno : 0;
}

static struct drm_anpu_job_info job_info(int fd, uint32_t ctx, uint64_t seqno)
{
	struct drm_anpu_job_info i = { .ctx_id = ctx, .seqno = seqno };

	CHECK(xioctl(fd, DRM_IOCTL_ANPU_JOB_INFO, &i) == 0);
	return i;
}

static uint32_t ctx_new(int fd, uint32_t prio)
{
	struct drm_anpu_ctx_create c = { .priority = prio };

	CHECK(xioctl(fd, DRM_IOCTL_ANPU_CTX_CREATE, &c) == 0);
	return c.ctx_id;
}

int main(int argc, char **argv)
{
	struct drm_anpu_get_param p = { .param = DRM_ANPU_PARAM_DEVMEM_SIZE };
	struct drm_anpu_clock_sample cs = { 0 };
	struct bo cmd, x, y, bufs[2];
	uint32_t ctx, so, sz;
	uint64_t seq;
	struct drm_anpu_job_info ji;
	float *xf, *yf;
	int fd, fd2, r;
	char line[256];
	FILE *f;

	dbg = argc > 1 ? argv[1] : NULL;
	fd = open("/dev/accel/accel0", O_RDWR);
	CHECK(fd >= 0);
	CHECK(xioctl(fd, DRM_IOCTL_ANPU_GET_PARAM, &p) == 0 && p.value > 0);
	p.param = 99;
	CHECK(xioctl(fd, DRM_IOCTL_ANPU_GET_PARAM, &p) == -1 && errno == EINVAL);
	CHECK(xioctl(fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &cs) == 0 && cs.device_ns);
	printf("ok params, clock %llu ns +- %llu\n", (unsigned long long)cs.device_ns,
	       (unsigned long long)cs.uncertainty_ns);

	cmd = bo_new(fd, 4096, DRM_ANPU_BO_NPU_READONLY);
	x = bo_new(fd, 4096, DRM_ANPU_BO_NPU_READONLY);
	y = bo_new(fd, 4096, 0);
	xf = x.map;
	yf = y.map;
	for (int i = 0; i < 1024; i++)
		xf[i] = i;
	CHECK(yf[5] == 0);
	ctx = ctx_new(fd, DRM_ANPU_PRIORITY_NORMAL);
	so = syncobj_new(fd);
	sz = build_scale(cmd.map, x.va, y.va, 1024, 2.0f);
	bufs[0] = x;
	bufs[1] = y;
	CHECK(submit(fd, ctx, &cmd, sz, bufs, 2, so, &seq) == 0);
	syncobj_wait(fd, so);
	ji = job_info(fd, ctx, seq);
	CHECK(ji.state == DRM_ANPU_JOB_DONE && ji.result == ANPU_RESULT_OK && ji.error == 0);
	for (int i = 0; i < 1024; i++)
		CHECK(yf[i] == 2.0f * i);
	printf("ok SCALE job %llu, %u ops, %llu ns\n", (unsigned long long)seq, ji.ops_done,
	       (unsigned long long)(ji.end_ns - ji.start_ns));

	/* 2 MiB BO: large pages */
	{
		struct bo big = bo_new(fd, 2 << 20, 0);

		CHECK(big.size == 2 << 20 && (big.va & ((2 << 20) - 1)) == 0);
		sz = build_scale(cmd.map, x.va, big.va + 4096, 1024, 3.0f);
		bufs[1] = big;
		CHECK(submit(fd, ctx, &cmd, sz, bufs, 2, so, &seq) == 0);
		syncobj_wait(fd, so);
		ji = job_info(fd, ctx, seq);
		CHECK(ji.result == ANPU_RESULT_OK);
		CHECK(((float *)big.map)[1024 + 7] == 21.0f);
		printf("ok 2 MiB BO (large page)\n");
	}

	/* a fault: writing the read-only x */
	sz = build_scale(cmd.map, y.va, x.va, 1024, 2.0f);
	CHECK(submit(fd, ctx, &cmd, sz, bufs, 2, so, &seq) == 0);
	syncobj_wait(fd, so);
	ji = job_info(fd, ctx, seq);
	CHECK(ji.result == ANPU_RESULT_FAULT && ji.cause == ANPU_CAUSE_PERMISSION &&
	      ji.error == EIO && ji.fault_addr == x.va);
	CHECK(submit(fd, ctx, &cmd, sz, bufs, 2, so, &seq) == -ECANCELED);
	printf("ok fault: PERMISSION at %#llx, context guilty\n", (unsigned long long)ji.fault_addr);

	/* PRIME into a second file */
	{
		struct drm_prime_handle ph = { .handle = y.handle, .flags = DRM_CLOEXEC | DRM_RDWR };
		struct drm_anpu_bo_info i2 = { 0 };

		CHECK(xioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph) == 0);
		fd2 = open("/dev/accel/accel0", O_RDWR);
		CHECK(fd2 >= 0);
		ph.handle = 0;
		CHECK(xioctl(fd2, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph) == 0);
		i2.handle = ph.handle;
		CHECK(xioctl(fd2, DRM_IOCTL_ANPU_BO_INFO, &i2) == 0 && i2.size == y.size);
		close(ph.fd);
		printf("ok PRIME import at %#llx in a second file\n", (unsigned long long)i2.npu_addr);
		close(fd2);
	}

	if (dbg) {
		uint32_t ctx2 = ctx_new(fd, DRM_ANPU_PRIORITY_NORMAL);

		sz = build_scale(cmd.map, x.va, y.va, 1024, 2.0f);
		bufs[1] = y;
		dbg_write("fault_inject", "1 hang");
		CHECK(submit(fd, ctx2, &cmd, sz, bufs, 2, so, &seq) == 0);
		syncobj_wait(fd, so);
		ji = job_info(fd, ctx2, seq);
		CHECK(ji.error == ETIMEDOUT && ji.result == ANPU_RESULT_ABORTED);
		CHECK(submit(fd, ctx2, &cmd, sz, bufs, 2, so, &seq) == -ECANCELED);
		ctx2 = ctx_new(fd, DRM_ANPU_PRIORITY_NORMAL);
		CHECK(submit(fd, ctx2, &cmd, sz, bufs, 2, so, &seq) == 0);
		syncobj_wait(fd, so);
		CHECK(job_info(fd, ctx2, seq).error == 0);
		printf("ok hang: -ETIMEDOUT, queue reset, next job runs\n");

		ctx2 = ctx_new(fd, DRM_ANPU_PRIORITY_NORMAL);
		dbg_write("fault_inject", "1 hang");
		CHECK(submit(fd, ctx2, &cmd, sz, bufs, 2, so, &seq) == 0);
		usleep(300000); /* hung now; its queue reset will fail */
		dbg_write("fault_inject", "1 fail_reset");
		syncobj_wait(fd, so);
		CHECK(job_info(fd, ctx2, seq).error == ETIMEDOUT);
		dbg_write("fault_inject", "1 none");
		ctx2 = ctx_new(fd, DRM_ANPU_PRIORITY_NORMAL);
		CHECK(submit(fd, ctx2, &cmd, sz, bufs, 2, so, &seq) == 0);
		syncobj_wait(fd, so);
		CHECK(job_info(fd, ctx2, seq).error == 0);
		printf("ok failing queue reset: device reset, next job runs\n");

		/* jobs queued behind a forced reset still complete */
		for (int i = 0; i < 8; i++)
			CHECK(submit(fd, ctx2, &cmd, sz, bufs, 2, so, &seq) == 0);
		dbg_write("reset", "1");
		syncobj_wait(fd, so);
		CHECK(job_info(fd, ctx2, seq).error == 0);
		printf("ok forced queue reset with jobs in flight\n");
	}

	snprintf(line, sizeof(line), "/proc/self/fdinfo/%d", fd);
	f = fopen(line, "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "drm-", 4) || !strncmp(line, "anpu-", 5))
			printf("  %s", line);
	fclose(f);
	r = close(fd);
	CHECK(r == 0);
	printf("ok all\n");
	return 0;
}
