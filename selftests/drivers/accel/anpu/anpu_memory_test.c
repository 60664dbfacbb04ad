// SPDX-License-Identifier: MIT
/*
 * Device memory across files and CPU mappings (issue 9, memory side):
 * memory freed while a job of its address space still runs is not handed to
 * another file until that job has ended (GEM_CLOSE and fd close); mmap of an
 * exported dma-buf; BO_CREATE racing GEM_CLOSE of the handle it will get;
 * CPU mappings after a partial munmap or at an offset; more open files than
 * the hardware has address-space ids; the per-file limits. Meant for a guest
 * with two or more vCPUs.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "anpu_test.h"

#define MANY_FILES	300	/* > the 254 hardware address-space ids */

/* Reps of anpu_heavy that keep the NPU busy for about @ms (at least 64). */
static unsigned int heavy_reps_for(struct __test_metadata *_metadata, int fd, uint32_t ctx,
				   unsigned int ms)
{
	struct anpu_heavy h;
	uint64_t t0, dt_ms;
	unsigned int reps = 64;

	ASSERT_EQ(0, anpu_heavy_new(fd, reps, &h));
	t0 = anpu_now_ns();
	ASSERT_EQ(0, anpu_run(fd, ctx, &h.cmd, h.refs, 3, NULL, ANPU_JOB_WAIT_MS));
	dt_ms = (anpu_now_ns() - t0) / 1000000 + 1;
	anpu_heavy_free(fd, &h);
	reps = (unsigned int)(reps * ms / dt_ms);
	return reps < 64 ? 64 : reps > 16384 ? 16384 : reps;
}

/* Every byte of @bo (CPU-mapped) is zero; else the first nonzero word's index. */
static long first_nonzero(const struct anpu_bo *bo)
{
	const uint32_t *w = bo->map;

	for (size_t i = 0; i < bo->size / 4; i++)
		if (w[i])
			return (long)i;
	return -1;
}

static void unmap_only(struct anpu_bo *bo)
{
	munmap(bo->map, bo->size);
	bo->map = NULL;
}

/*
 * Bug 2. File A runs a long job that writes a BO it did not list, and lets go
 * of that BO while the job runs (@close_fd: by closing the file, else
 * GEM_CLOSE). File B then takes BOs of the same size: freshly zeroed, and
 * they must stay zero when A's job has ended (before the fix B got A's
 * memory, and A's job kept writing into it).
 */
static void freed_memory_not_reused_while_job_runs(struct __test_metadata *_metadata,
						   bool close_fd)
{
	struct anpu_bo b[8];
	struct anpu_heavy h;
	uint64_t y_size;
	uint32_t ctx, so;
	struct drm_anpu_sync out;
	int fa = anpu_open(), fb = anpu_open(), sync_fd = -1;
	unsigned int reps;

	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(0, anpu_ctx_create(fa, DRM_ANPU_PRIORITY_NORMAL, &ctx));
	reps = heavy_reps_for(_metadata, fa, ctx, 1500);
	ASSERT_EQ(0, anpu_heavy_new(fa, reps, &h));
	y_size = h.y.size;
	so = anpu_syncobj(fa);
	ASSERT_NE(0, so);
	out = (struct drm_anpu_sync){ .handle = so };
	{
		/* x and w listed, the output y not */
		struct anpu_submit_args sa = { .ctx_id = ctx, .cmd = &h.cmd, .bos = h.refs,
					       .n_bos = 2, .out = &out, .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(fa, &sa, NULL));
	}
	ASSERT_EQ(0, drmSyncobjExportSyncFile(fa, so, &sync_fd));
	usleep(50 * 1000);	/* the job has been validated and is writing y */
	if (close_fd) {
		/* CPU mappings hold their BOs: only the job keeps x, w and cmd */
		unmap_only(&h.x);
		unmap_only(&h.w);
		unmap_only(&h.y);
		unmap_only(&h.cmd);
		close(fa);
		fa = -1;
	} else {
		anpu_bo_free(fa, &h.y);
	}
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, anpu_bo_new(fb, y_size, 0, &b[i]));
	}
	ASSERT_EQ(0, poll(&(struct pollfd){ .fd = sync_fd, .events = POLLIN }, 1, 0))
		TH_LOG("A's job (%u ops) ended before B allocated: the test proves nothing", reps);
	ASSERT_EQ(1, poll(&(struct pollfd){ .fd = sync_fd, .events = POLLIN }, 1,
			  ANPU_JOB_WAIT_MS));
	for (int i = 0; i < 8; i++) {
		long nz = first_nonzero(&b[i]);

		EXPECT_EQ(-1, nz) TH_LOG("B's BO %d (NPU %#llx) word %ld = %#x: A's job wrote it",
					 i, (unsigned long long)b[i].addr, nz,
					 ((uint32_t *)b[i].map)[nz < 0 ? 0 : nz]);
		anpu_bo_free(fb, &b[i]);
	}
	close(sync_fd);
	if (fa >= 0) {
		EXPECT_EQ(1, anpu_syncobj_status(fa, so, 0));	/* A's job itself succeeded */
		anpu_heavy_free(fa, &h);
		close(fa);
	}
	close(fb);
}

TEST_F_TIMEOUT(anpu, gem_close_memory_not_reused_while_a_job_may_write_it, 120)
{
	freed_memory_not_reused_while_job_runs(_metadata, false);
}

TEST_F_TIMEOUT(anpu, fd_close_memory_not_reused_while_a_job_may_write_it, 120)
{
	freed_memory_not_reused_while_job_runs(_metadata, true);
}

/* Bug 3: mmap of an exported BO's dma-buf works, honours the offset, checks bounds. */
TEST_F(anpu, dmabuf_mmap_maps_the_bo_at_its_offset)
{
	const size_t pg = 4096, n = 4;
	struct anpu_bo bo;
	uint32_t *whole, *tail;
	int dfd;

	ASSERT_EQ(0, anpu_bo_new(self->fd, n * pg, 0, &bo));
	for (size_t i = 0; i < n * pg / 4; i++)
		((uint32_t *)bo.map)[i] = 0xd0000000u + (uint32_t)i;
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &dfd));
	whole = mmap(NULL, n * pg, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, whole) TH_LOG("dma-buf mmap: %s", strerror(errno));
	EXPECT_EQ(0xd0000000u, whole[0]);
	EXPECT_EQ(0xd0000000u + n * pg / 4 - 1, whole[n * pg / 4 - 1]);
	whole[5] = 0x12345678u;		/* written through the dma-buf, seen through GEM */
	EXPECT_EQ(0x12345678u, ((uint32_t *)bo.map)[5]);
	tail = mmap(NULL, pg, PROT_READ, MAP_SHARED, dfd, 2 * pg);
	ASSERT_NE(MAP_FAILED, tail);
	EXPECT_EQ(0xd0000000u + 2 * pg / 4, tail[0]);
	EXPECT_EQ(0, munmap(tail, pg));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, dfd, 3 * pg));
	EXPECT_EQ(0, munmap(whole, n * pg));
	close(dfd);
	anpu_bo_free(self->fd, &bo);
}

/* The mapping still works once the BO's handle and dma-buf fd are gone. */
TEST_F(anpu, dmabuf_mmap_outlives_handle_and_fd)
{
	struct anpu_bo bo;
	uint32_t *map;
	int dfd;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 8192, 0, &bo));
	((uint32_t *)bo.map)[1024] = 0xfeedu;
	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &dfd));
	anpu_bo_free(self->fd, &bo);
	map = mmap(NULL, 8192, PROT_READ, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(dfd);
	EXPECT_EQ(0xfeedu, map[1024]);
	EXPECT_EQ(0, munmap(map, 8192));
}

struct race {
	int fd;
	atomic_bool stop;
	atomic_uint closes;
};

/*
 * Closes the handles the next BO_CREATE will get (the lowest free ones: 1 or
 * 2, the creator closes any other it gets), over and over.
 */
static void *close_next_handle(void *arg)
{
	struct race *r = arg;

	for (uint32_t h = 1; !atomic_load(&r->stop); h = 3 - h) {
		struct drm_gem_close c = { .handle = h };

		if (!drmIoctl(r->fd, DRM_IOCTL_GEM_CLOSE, &c))
			atomic_fetch_add(&r->closes, 1);
	}
	return NULL;
}

/*
 * Bug 5: BO_CREATE never fails (nor returns a bad address) however its handle
 * is closed. 2 MiB - 4 KiB BOs: 511 PTEs written while the handle exists
 * (drm_gem_handle_create publishes it before the open callback maps the BO),
 * a window wide enough for the closer to hit.
 */
TEST_F_TIMEOUT(anpu, bo_create_racing_gem_close_of_its_handle, 60)
{
	struct race r = { .fd = anpu_open() };
	unsigned int creates = 0, failed = 0, bad_addr = 0;
	int first_err = 0;
	uint64_t end;
	pthread_t t;

	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, close_next_handle, &r));
	end = anpu_now_ns() + 8000000000ull;
	while (anpu_now_ns() < end) {
		uint32_t handle;
		uint64_t addr;
		int e = anpu_bo_create(r.fd, (2 << 20) - 4096, 0, &handle, &addr);

		creates++;
		if (e) {
			failed++;
			first_err = first_err ? first_err : e;
		} else {
			bad_addr += addr < 2u << 20;
			if (handle > 2)
				anpu_bo_close(r.fd, handle);
		}
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	EXPECT_EQ(0, failed) TH_LOG("%u of %u BO_CREATEs failed (first: %s)", failed, creates,
				    strerror(-first_err));
	EXPECT_EQ(0, bad_addr);
	EXPECT_LT(0, atomic_load(&r.closes)) TH_LOG("no GEM_CLOSE hit a created handle");
	close(r.fd);
}

/* Page i of a 4-page BO holds i + 1 in every word. */
static int pages_bo(int fd, struct anpu_bo *bo)
{
	int r = anpu_bo_new(fd, 4 * 4096, 0, bo);

	for (size_t i = 0; !r && i < bo->size / 4; i++)
		((uint32_t *)bo->map)[i] = (uint32_t)(i / 1024 + 1);
	return r;
}

/* The fault handler honours vm_pgoff: after munmap of the head, the tail is still the tail. */
TEST_F(anpu, partial_munmap_keeps_the_tail_at_its_pages)
{
	struct drm_anpu_bo_info info = { 0 };
	struct anpu_bo bo;
	uint32_t *map;

	ASSERT_EQ(0, pages_bo(self->fd, &bo));
	ASSERT_EQ(0, anpu_bo_info(self->fd, bo.handle, &info));
	map = mmap(NULL, bo.size, PROT_READ, MAP_SHARED, self->fd, info.mmap_offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map, 2 * 4096));	/* before any fault: nothing prefaulted */
	EXPECT_EQ(3u, map[2 * 1024]);
	EXPECT_EQ(4u, map[3 * 1024 + 7]);
	EXPECT_EQ(0, munmap(map + 2 * 1024, 2 * 4096));
	anpu_bo_free(self->fd, &bo);
}

/*
 * A private (copy-on-write) mapping of a BO is refused with EINVAL, through
 * the device fd and through a dma-buf fd: device memory has no struct pages
 * to copy (main: a read of one made the kernel BUG in vmf_insert_pfn_prot).
 * The shared mapping of the same BO still works afterwards.
 */
TEST_F(anpu, private_mmap_refused_on_gem_and_dmabuf)
{
	struct drm_anpu_bo_info info = { 0 };
	struct anpu_bo bo;
	uint32_t *map;
	int dfd;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &bo));
	((uint32_t *)bo.map)[3] = 0xc0ffeeu;
	ASSERT_EQ(0, anpu_bo_info(self->fd, bo.handle, &info));
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, self->fd, info.mmap_offset);
	if (map != MAP_FAILED)	/* touch it as the fuzzer did: the crash of main */
		TH_LOG("private GEM mapping accepted, reads %#x", map[3]);
	ASSERT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, info.mmap_offset);
	EXPECT_EQ(MAP_FAILED, map);

	ASSERT_EQ(0, drmPrimeHandleToFD(self->fd, bo.handle, DRM_CLOEXEC | DRM_RDWR, &dfd));
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, dfd, 0);
	if (map != MAP_FAILED)
		TH_LOG("private dma-buf mapping accepted, reads %#x", map[3]);
	ASSERT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);

	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0xc0ffeeu, map[3]);
	EXPECT_EQ(0, munmap(map, 4096));
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, info.mmap_offset);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0xc0ffeeu, map[3]);
	EXPECT_EQ(0, munmap(map, 4096));
	close(dfd);
	anpu_bo_free(self->fd, &bo);
}

/* A hole punched in the middle: both pieces still map their own pages. */
TEST_F(anpu, munmap_of_a_middle_page_keeps_both_pieces_at_their_pages)
{
	struct drm_anpu_bo_info info = { 0 };
	struct anpu_bo bo;
	uint32_t *map;

	ASSERT_EQ(0, pages_bo(self->fd, &bo));
	ASSERT_EQ(0, anpu_bo_info(self->fd, bo.handle, &info));
	map = mmap(NULL, bo.size, PROT_READ, MAP_SHARED, self->fd, info.mmap_offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + 1024, 4096));
	EXPECT_EQ(1u, map[5]);
	EXPECT_EQ(3u, map[2 * 1024 + 5]);
	EXPECT_EQ(4u, map[3 * 1024 + 5]);
	EXPECT_EQ(0, munmap(map, bo.size));
	anpu_bo_free(self->fd, &bo);
}

/* A copy of 16 floats in @fd's own address space; 0 when the copy is right. */
static int copy_check(int fd, uint32_t ctx)
{
	struct anpu_bo src, dst, cmd;
	struct simdev_stream s;
	struct drm_anpu_bo_ref refs[2];
	int r;

	r = anpu_bo_new(fd, 4096, 0, &src);
	if (r)
		return r;
	r = anpu_bo_new(fd, 4096, 0, &dst);
	if (r)
		goto out_src;
	for (int i = 0; i < 16; i++)
		((float *)src.map)[i] = (float)(fd * 100 + i);
	simdev_stream_init(&s);
	anpu_stream_copy(&s, src.addr, dst.addr, 16);
	r = simdev_stream_finish(&s, 0, 0) ? anpu_stream_bo(fd, &s, &cmd) : -ENOMEM;
	simdev_stream_free(&s);
	if (r)
		goto out_dst;
	refs[0] = (struct drm_anpu_bo_ref){ .handle = src.handle };
	refs[1] = (struct drm_anpu_bo_ref){ .handle = dst.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	r = anpu_run(fd, ctx, &cmd, refs, 2, NULL, ANPU_JOB_WAIT_MS);
	for (int i = 0; !r && i < 16; i++)
		if (((float *)dst.map)[i] != (float)(fd * 100 + i))
			r = -EIO;
	anpu_bo_free(fd, &cmd);
out_dst:
	anpu_bo_free(fd, &dst);
out_src:
	anpu_bo_free(fd, &src);
	return r;
}

/*
 * One process opens more files than there are hardware address-space ids:
 * every open and BO_CREATE works, and every file's jobs run in its own
 * address space (ids taken back from idle files and given again).
 */
TEST_F_TIMEOUT(anpu, more_files_than_address_space_ids, 600)
{
	int fds[MANY_FILES];
	uint32_t ctx[MANY_FILES];
	struct rlimit rl;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < MANY_FILES + 64) {
		rl.rlim_cur = rl.rlim_max < MANY_FILES + 64 ? rl.rlim_max : MANY_FILES + 64;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}
	for (int i = 0; i < MANY_FILES; i++) {
		uint32_t h;
		uint64_t addr;

		fds[i] = anpu_open();
		ASSERT_LE(0, fds[i]) TH_LOG("open #%d: %s", i + 1, strerror(-fds[i]));
		ASSERT_EQ(0, anpu_bo_create(fds[i], 4096, 0, &h, &addr)) TH_LOG("file #%d", i + 1);
		ASSERT_EQ(0, anpu_ctx_create(fds[i], DRM_ANPU_PRIORITY_NORMAL, &ctx[i]));
	}
	/* every file submits: ids recycled; the first ones again after the last */
	for (int i = 0; i < MANY_FILES; i++) {
		ASSERT_EQ(0, copy_check(fds[i], ctx[i])) TH_LOG("file #%d", i + 1);
	}
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, copy_check(fds[i], ctx[i])) TH_LOG("file #%d again", i + 1);
	}
	for (int i = 0; i < MANY_FILES; i++)
		close(fds[i]);
}

/*
 * More busy files than ids: jobs of all of them in flight at once (the
 * files beyond the ids wait for one to become idle), all right.
 */
TEST_F_TIMEOUT(anpu, more_busy_files_than_address_space_ids, 600)
{
	int fds[MANY_FILES];
	uint32_t ctx[MANY_FILES], so[MANY_FILES];
	struct anpu_bo nop[MANY_FILES];

	for (int i = 0; i < MANY_FILES; i++) {
		fds[i] = anpu_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, anpu_ctx_create(fds[i], DRM_ANPU_PRIORITY_NORMAL, &ctx[i]));
		ASSERT_EQ(0, anpu_nop_bo(fds[i], 64, &nop[i], NULL));
		so[i] = anpu_syncobj(fds[i]);
		ASSERT_NE(0, so[i]);
	}
	for (int i = 0; i < MANY_FILES; i++) {
		struct drm_anpu_sync out = { .handle = so[i] };
		struct anpu_submit_args a = { .ctx_id = ctx[i], .cmd = &nop[i], .out = &out,
					      .n_out = 1 };

		ASSERT_EQ(0, anpu_submit(fds[i], &a, NULL)) TH_LOG("file #%d", i + 1);
	}
	for (int i = 0; i < MANY_FILES; i++) {
		ASSERT_EQ(0, anpu_syncobj_wait(fds[i], so[i], 0, ANPU_JOB_WAIT_MS));
		EXPECT_EQ(1, anpu_syncobj_status(fds[i], so[i], 0)) TH_LOG("file #%d", i + 1);
		anpu_bo_free(fds[i], &nop[i]);
		close(fds[i]);
	}
}

static long module_param_read(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/anpu/parameters/%s", name);
	if (anpu_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int module_param_write(const char *name, long v)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/anpu/parameters/%s", name);
	snprintf(buf, sizeof(buf), "%ld", v);
	return anpu_write_file(path, buf);
}

TEST_F(anpu, contexts_per_file_limited_with_edquot)
{
	long max = module_param_read("file_max_contexts");
	uint32_t id, ids[256];
	int fd2;

	ASSERT_LT(0, max);
	ASSERT_GE(256, max);
	for (long i = 0; i < max; i++) {
		ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ids[i]));
	}
	EXPECT_EQ(-EDQUOT, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_LOW, &id));
	/* another file is not affected, and a destroyed context frees a slot */
	fd2 = anpu_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, anpu_ctx_create(fd2, DRM_ANPU_PRIORITY_NORMAL, &id));
	close(fd2);
	ASSERT_EQ(0, anpu_ctx_destroy(self->fd, ids[3]));
	EXPECT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &id));
	for (long i = 0; i < max; i++)
		anpu_ctx_destroy(self->fd, i == 3 ? id : ids[i]);
}

TEST_F(anpu, device_memory_per_file_limited_with_edquot)
{
	uint64_t devmem, limit;
	long max_mb = module_param_read("file_max_devmem_mb");
	long reserve_mb = module_param_read("devmem_reserve_mb");
	struct anpu_bo a, b;
	uint32_t h;
	uint64_t addr;
	int fd2;

	ASSERT_LE(0, max_mb);
	ASSERT_LE(0, reserve_mb);
	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_DEVMEM_SIZE, &devmem));
	limit = max_mb ? (uint64_t)max_mb << 20 : devmem - ((uint64_t)reserve_mb << 20);
	/* the default leaves one file nearly all of the device */
	if (!max_mb)
		EXPECT_LE(devmem - (64ull << 20), limit);
	if (limit + 4096 <= devmem)
		EXPECT_EQ(-EDQUOT, anpu_bo_create(self->fd, limit + 4096, 0, &h, &addr));

	/* with a small limit: what the file holds counts, freed BOs no more */
	ASSERT_EQ(0, module_param_write("file_max_devmem_mb", 8));
	EXPECT_EQ(0, anpu_bo_new(self->fd, 4 << 20, 0, &a));
	EXPECT_EQ(0, anpu_bo_new(self->fd, 4 << 20, 0, &b));
	EXPECT_EQ(-EDQUOT, anpu_bo_create(self->fd, 4096, 0, &h, &addr));
	fd2 = anpu_open();
	EXPECT_LE(0, fd2);
	EXPECT_EQ(0, anpu_bo_create(fd2, 4 << 20, 0, &h, &addr));
	close(fd2);
	anpu_bo_free(self->fd, &b);
	EXPECT_EQ(0, anpu_bo_new(self->fd, 4 << 20, 0, &b));
	ASSERT_EQ(0, module_param_write("file_max_devmem_mb", max_mb));
	anpu_bo_free(self->fd, &a);
	anpu_bo_free(self->fd, &b);
}

TEST_HARNESS_MAIN
