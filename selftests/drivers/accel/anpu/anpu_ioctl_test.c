// SPDX-License-Identifier: MIT
/*
 * The ANPU ioctls but SUBMIT and JOB_INFO (anpu_submit_test.c): version,
 * GET_PARAM, BO_CREATE/BO_INFO/mmap, CTX_CREATE/CTX_DESTROY and CLOCK_SAMPLE.
 * Each: its happy path, and every class of bad input (bad handle
 * or id, undefined flags, nonzero pad/reserved fields, oversize or overflowing
 * sizes, bad user pointers, unaligned offsets, wrong array strides) returning
 * the errno uapi/drm/anpu_accel.h documents. After bad input nothing leaks:
 * the debugfs counters and the file's fdinfo memory are back at the baseline.
 */
#include <linux/capability.h>
#include <sys/syscall.h>

#include "anpu_test.h"

/*
 * Bad-input tests first check that the ioctl works at all, so that a driver
 * without it (every command -EINVAL) fails them instead of passing.
 */
#define REQUIRE_GET_PARAM(fd) \
	ASSERT_EQ(0, anpu_get_param(fd, DRM_ANPU_PARAM_HW_VERSION, NULL)) \
		TH_LOG("GET_PARAM does not work")
#define REQUIRE_BO_CREATE(fd) do { \
	uint32_t __h; \
	ASSERT_EQ(0, anpu_bo_create(fd, 4096, 0, &__h, NULL)) TH_LOG("BO_CREATE does not work"); \
	anpu_bo_close(fd, __h); \
} while (0)
#define REQUIRE_CTX_CREATE(fd) do { \
	uint32_t __c; \
	ASSERT_EQ(0, anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, &__c)) \
		TH_LOG("CTX_CREATE does not work"); \
	ASSERT_EQ(0, anpu_ctx_destroy(fd, __c)); \
} while (0)
#define REQUIRE_CLOCK_SAMPLE(fd) do { \
	struct drm_anpu_clock_sample __cs = { 0 }; \
	ASSERT_EQ(0, anpu_ioctl(fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &__cs)) \
		TH_LOG("CLOCK_SAMPLE does not work"); \
} while (0)

static int get_param_raw(int fd, struct drm_anpu_get_param *p)
{
	return anpu_ioctl(fd, DRM_IOCTL_ANPU_GET_PARAM, p);
}

static uint64_t param(struct __test_metadata *_metadata, int fd, uint32_t p)
{
	uint64_t v = 0;

	EXPECT_EQ(0, anpu_get_param(fd, p, &v)) TH_LOG("GET_PARAM %u", p);
	return v;
}

/* ---- version and unknown ioctls ---- */

TEST_F(anpu, drm_version_names_the_driver_anpu)
{
	drmVersionPtr v = drmGetVersion(self->fd);

	ASSERT_NE(NULL, v);
	EXPECT_STREQ("anpu", v->name);
	drmFreeVersion(v);
}

TEST_F(anpu, unknown_driver_ioctl_number_fails_einval)
{
	struct drm_anpu_get_param p = { 0 };

	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd,
		DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_CLOCK_SAMPLE + 1, struct drm_anpu_get_param), &p));
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd,
		DRM_IOWR(DRM_COMMAND_BASE + 0x3f, struct drm_anpu_get_param), &p));
}

/*
 * GET_UNIQUE and GET_MAGIC read a DRM master, which an accel node's files
 * have none of: 6.12's DRM core dereferenced it (a NULL-pointer oops from
 * any user); the driver refuses both with -EOPNOTSUPP, and the file goes on
 * working.
 */
TEST_F(anpu, drm_master_ioctls_are_refused)
{
	char name[64] = { 0 };
	struct drm_unique u = { .unique_len = sizeof(name), .unique = name };
	struct drm_auth a = { 0 };

	EXPECT_EQ(-EOPNOTSUPP, anpu_ioctl(self->fd, DRM_IOCTL_GET_UNIQUE, &u));
	EXPECT_EQ(-EOPNOTSUPP, anpu_ioctl(self->fd, DRM_IOCTL_GET_UNIQUE, NULL));
	EXPECT_EQ(-EOPNOTSUPP, anpu_ioctl(self->fd, DRM_IOCTL_GET_MAGIC, &a));
	EXPECT_LT(0, param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_SIZE));
}

/* ---- GET_PARAM ---- */

TEST_F(anpu, get_param_reports_every_parameter)
{
	uint64_t size, free_, isa;

	EXPECT_NE(0, param(_metadata, self->fd, DRM_ANPU_PARAM_HW_VERSION));
	isa = param(_metadata, self->fd, DRM_ANPU_PARAM_ISA_VERSION);
	EXPECT_EQ(ANPU_ISA_VERSION_MAJOR, isa >> 16);
	EXPECT_EQ(0, param(_metadata, self->fd, DRM_ANPU_PARAM_CAPS) &
		  ~(uint64_t)(DRM_ANPU_CAP_PROFILING | DRM_ANPU_CAP_FAULT_INJECTION |
			      DRM_ANPU_CAP_LARGE_PAGES | DRM_ANPU_CAP_KV_F16));
	EXPECT_LE(4, param(_metadata, self->fd, DRM_ANPU_PARAM_NUM_QUEUES));
	size = param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_SIZE);
	free_ = param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_FREE);
	EXPECT_LT(0, size);
	EXPECT_LE(free_, size);
	EXPECT_LE(32, param(_metadata, self->fd, DRM_ANPU_PARAM_VA_BITS));
	EXPECT_GE(64, param(_metadata, self->fd, DRM_ANPU_PARAM_VA_BITS));
	EXPECT_LT(0, param(_metadata, self->fd, DRM_ANPU_PARAM_MAX_BO_SIZE));
	EXPECT_LT(0, param(_metadata, self->fd, DRM_ANPU_PARAM_JOB_INFO_DEPTH));
	EXPECT_LT(0, param(_metadata, self->fd, DRM_ANPU_PARAM_JOB_TIMEOUT_MS));
}

TEST_F(anpu, get_param_devmem_free_drops_by_the_bo_size)
{
	uint64_t before, after;
	uint32_t h;

	before = param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_FREE);
	ASSERT_EQ(0, anpu_bo_create(self->fd, 1 << 20, 0, &h, NULL));
	after = param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_FREE);
	EXPECT_LE(1 << 20, before - after);
	anpu_bo_close(self->fd, h);
	/* back, but for page tables the driver may keep for this address space */
	after = param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_FREE);
	EXPECT_GE(64 << 10, before - after) TH_LOG("%llu bytes not given back",
						   (unsigned long long)(before - after));
}

TEST_F(anpu, get_param_unknown_param_fails_einval)
{
	struct drm_anpu_get_param p = { .param = DRM_ANPU_PARAM_JOB_TIMEOUT_MS + 1 };

	REQUIRE_GET_PARAM(self->fd);

	EXPECT_EQ(-EINVAL, get_param_raw(self->fd, &p));
	p.param = 0xffffffffu;
	EXPECT_EQ(-EINVAL, get_param_raw(self->fd, &p));
}

TEST_F(anpu, get_param_nonzero_pad_fails_einval)
{
	struct drm_anpu_get_param p = { .param = DRM_ANPU_PARAM_HW_VERSION, .pad = 1 };

	REQUIRE_GET_PARAM(self->fd);

	EXPECT_EQ(-EINVAL, get_param_raw(self->fd, &p));
}

TEST_F(anpu, get_param_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_GET_PARAM, (void *)BADPTR));
}

/* ---- BO_CREATE / BO_INFO / mmap ---- */

TEST_F(anpu, bo_create_maps_a_zeroed_bo_at_an_aligned_npu_address)
{
	struct anpu_bo bo;
	const uint8_t *p;
	size_t nz = 0;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 64 << 10, 0, &bo));
	EXPECT_NE(0, bo.handle);
	EXPECT_NE(0, bo.addr);
	EXPECT_EQ(0, bo.addr & 4095);
	EXPECT_EQ(64 << 10, bo.size);
	p = bo.map;
	for (size_t i = 0; i < bo.size; i++)
		nz += p[i] != 0;
	EXPECT_EQ(0, nz);
	EXPECT_COUNTERS(self, 1, 0, 0);
	anpu_bo_free(self->fd, &bo);
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, bo_create_rounds_size_to_4k_and_2m_from_2m_up)
{
	struct drm_anpu_bo_info info;
	uint32_t h1, h2;

	ASSERT_EQ(0, anpu_bo_create(self->fd, 1, 0, &h1, NULL));
	ASSERT_EQ(0, anpu_bo_info(self->fd, h1, &info));
	EXPECT_EQ(4096, info.size);
	ASSERT_EQ(0, anpu_bo_create(self->fd, (2 << 20) + 1, 0, &h2, NULL));
	ASSERT_EQ(0, anpu_bo_info(self->fd, h2, &info));
	EXPECT_EQ(4 << 20, info.size);
	anpu_bo_close(self->fd, h1);
	anpu_bo_close(self->fd, h2);
}

TEST_F(anpu, bo_create_gives_distinct_non_overlapping_npu_ranges)
{
	uint64_t addr[8], size = 12288;
	uint32_t h[8];

	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, anpu_bo_create(self->fd, size, i & 1 ? DRM_ANPU_BO_NPU_READONLY : 0,
					    &h[i], &addr[i]));
	for (int i = 0; i < 8; i++)
		for (int j = i + 1; j < 8; j++)
			EXPECT_TRUE(addr[i] + size <= addr[j] || addr[j] + size <= addr[i]);
	for (int i = 0; i < 8; i++)
		anpu_bo_close(self->fd, h[i]);
}

TEST_F(anpu, bo_create_counts_in_fdinfo_memory_until_closed)
{
	long long m;
	uint32_t h;

	ASSERT_LE(0, self->mem0) TH_LOG("fdinfo has no drm-total-* memory keys");
	ASSERT_EQ(0, anpu_bo_create(self->fd, 256 << 10, 0, &h, NULL));
	m = anpu_fdinfo_total(self->fd);
	EXPECT_EQ(self->mem0 + (256 << 10), m);
	EXPECT_LE(0, anpu_fdinfo_value(self->fd, "drm-engine-npu"))
		TH_LOG("fdinfo has no drm-engine-npu key");
	anpu_bo_close(self->fd, h);
	EXPECT_MEM_BASELINE(self);
}

TEST_F(anpu, bo_create_zero_size_fails_einval)
{
	REQUIRE_BO_CREATE(self->fd);
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, 0, 0, NULL, NULL));
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, bo_create_over_max_bo_size_fails_einval)
{
	uint64_t max = param(_metadata, self->fd, DRM_ANPU_PARAM_MAX_BO_SIZE);

	ASSERT_LT(0, max);
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, max + 1, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, max + (4 << 20), 0, NULL, NULL));
	EXPECT_COUNTERS(self, 0, 0, 0);
	EXPECT_MEM_BASELINE(self);
}

TEST_F(anpu, bo_create_overflowing_size_fails_einval)
{
	REQUIRE_BO_CREATE(self->fd);
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, UINT64_MAX, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, UINT64_MAX - 4094, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, 1ull << 63, 0, NULL, NULL));
	EXPECT_COUNTERS(self, 0, 0, 0);
	EXPECT_MEM_BASELINE(self);
}

TEST_F_TIMEOUT(anpu, bo_create_beyond_free_device_memory_fails_enomem, 120)
{
	uint64_t max = param(_metadata, self->fd, DRM_ANPU_PARAM_MAX_BO_SIZE);
	uint64_t free_ = param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_FREE);
	uint32_t h[64];
	int n = 0, r = 0;

	if (free_ + (4 << 20) <= max) {
		EXPECT_EQ(-ENOMEM, anpu_bo_create(self->fd, free_ + (4 << 20), 0, NULL, NULL));
	} else {
		/*
		 * fill device memory with quarters of the largest BO, until it
		 * is full; a second file goes on where the per-file limit
		 * (device memory minus a reserve by default) stops the first
		 */
		uint64_t chunk = max / 4 / (2 << 20) * (2 << 20);
		int fd2 = anpu_open(), fds[64];

		ASSERT_LE(0, fd2);
		for (int f = self->fd; n < 64; n++) {
			fds[n] = f;
			r = anpu_bo_create(f, chunk, 0, &h[n], NULL);
			if (r == -EDQUOT && f != fd2)
				r = anpu_bo_create(fds[n] = f = fd2, chunk, 0, &h[n], NULL);
			if (r)
				break;
		}
		EXPECT_EQ(-ENOMEM, r);
		while (n--)
			anpu_bo_close(fds[n], h[n]);
		close(fd2);
	}
	EXPECT_COUNTERS(self, 0, 0, 0);
	EXPECT_MEM_BASELINE(self);
	EXPECT_GE(64 << 10, free_ - param(_metadata, self->fd, DRM_ANPU_PARAM_DEVMEM_FREE))
		TH_LOG("device memory not given back (beyond page tables)");
}

TEST_F(anpu, bo_create_undefined_flags_fail_einval)
{
	REQUIRE_BO_CREATE(self->fd);
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, 4096, 1u << 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, anpu_bo_create(self->fd, 4096, 1u << 31, NULL, NULL));
	EXPECT_COUNTERS(self, 0, 0, 0);
	EXPECT_MEM_BASELINE(self);
}

TEST_F(anpu, bo_create_nonzero_pad_or_reserved_fails_einval)
{
	struct drm_anpu_bo_create a = { .size = 4096, .pad = 1 };

	REQUIRE_BO_CREATE(self->fd);

	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_BO_CREATE, &a));
	a.pad = 0;
	a.reserved = 1;
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_BO_CREATE, &a));
	EXPECT_COUNTERS(self, 0, 0, 0);
	EXPECT_MEM_BASELINE(self);
}

TEST_F(anpu, bo_create_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_BO_CREATE, (void *)BADPTR));
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, bo_info_reports_flags_size_address_and_mmap_offset)
{
	struct drm_anpu_bo_info info;
	uint64_t addr;
	uint32_t h;

	ASSERT_EQ(0, anpu_bo_create(self->fd, 8192, DRM_ANPU_BO_NPU_READONLY, &h, &addr));
	ASSERT_EQ(0, anpu_bo_info(self->fd, h, &info));
	EXPECT_EQ(DRM_ANPU_BO_NPU_READONLY, info.flags);
	EXPECT_EQ(8192, info.size);
	EXPECT_EQ(addr, info.npu_addr);
	EXPECT_NE(0, info.mmap_offset);
	EXPECT_EQ(0, info.mmap_offset & 4095);
	anpu_bo_close(self->fd, h);
}

TEST_F(anpu, bo_info_unknown_handle_fails_enoent)
{
	struct drm_anpu_bo_info info;
	uint32_t h;

	EXPECT_EQ(-ENOENT, anpu_bo_info(self->fd, 0, &info));
	EXPECT_EQ(-ENOENT, anpu_bo_info(self->fd, 0x7fffffff, &info));
	ASSERT_EQ(0, anpu_bo_create(self->fd, 4096, 0, &h, NULL));
	anpu_bo_close(self->fd, h);
	EXPECT_EQ(-ENOENT, anpu_bo_info(self->fd, h, &info)) TH_LOG("closed handle");
}

TEST_F(anpu, bo_info_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_BO_INFO, (void *)BADPTR));
}

TEST_F(anpu, bo_handles_are_private_to_their_file)
{
	struct drm_anpu_bo_info info;
	int fd2 = anpu_open();
	uint32_t h;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, anpu_bo_create(self->fd, 4096, 0, &h, NULL));
	EXPECT_EQ(-ENOENT, anpu_bo_info(fd2, h, &info));
	close(fd2);
	anpu_bo_close(self->fd, h);
}

TEST_F(anpu, bo_mmap_is_coherent_between_mappings)
{
	struct anpu_bo bo;
	uint32_t *p2;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 16384, 0, &bo));
	p2 = anpu_bo_mmap(self->fd, bo.handle, NULL);
	ASSERT_NE(NULL, p2);
	for (uint32_t i = 0; i < 4096; i++)
		((uint32_t *)bo.map)[i] = i * 2654435761u;
	for (uint32_t i = 0; i < 4096; i++)
		if (p2[i] != i * 2654435761u) {
			EXPECT_EQ(i * 2654435761u, p2[i]) TH_LOG("word %u", i);
			break;
		}
	munmap(p2, 16384);
	anpu_bo_free(self->fd, &bo);
}

TEST_F(anpu, bo_mmap_past_the_end_or_at_a_bogus_offset_fails_einval)
{
	struct drm_anpu_bo_info info;
	uint32_t h;
	void *p;

	ASSERT_EQ(0, anpu_bo_create(self->fd, 4096, 0, &h, NULL));
	ASSERT_EQ(0, anpu_bo_info(self->fd, h, &info));
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, (off_t)info.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, 8192);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, (off_t)(info.mmap_offset + (1ull << 40)));
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	anpu_bo_close(self->fd, h);
}

TEST_F(anpu, bo_stays_alive_while_mapped_after_gem_close)
{
	struct anpu_bo bo;
	volatile uint32_t *p;

	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &bo));
	p = bo.map;
	anpu_bo_close(self->fd, bo.handle);
	p[0] = 0x1234;
	EXPECT_EQ(0x1234, p[0]);
	EXPECT_COUNTERS(self, 1, 0, 0);
	munmap(bo.map, bo.size);
	EXPECT_COUNTERS(self, 0, 0, 0);
}

/* ---- CTX_CREATE / CTX_DESTROY ---- */

TEST_F(anpu, ctx_create_every_priority_gives_unique_nonzero_ids)
{
	uint32_t id[8];

	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, anpu_ctx_create(self->fd, i % ANPU_NUM_PRIO, &id[i]));
		EXPECT_NE(0, id[i]);
		for (int j = 0; j < i; j++)
			EXPECT_NE(id[j], id[i]);
	}
	EXPECT_COUNTERS(self, 0, 0, 8);
	for (int i = 0; i < 8; i++)
		EXPECT_EQ(0, anpu_ctx_destroy(self->fd, id[i]));
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, ctx_create_bad_priority_fails_einval)
{
	REQUIRE_CTX_CREATE(self->fd);
	EXPECT_EQ(-EINVAL, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_REALTIME + 1, NULL));
	EXPECT_EQ(-EINVAL, anpu_ctx_create(self->fd, 0xffffffffu, NULL));
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, ctx_create_nonzero_flags_or_pad_fails_einval)
{
	struct drm_anpu_ctx_create a = { .priority = 1, .flags = 1 };

	REQUIRE_CTX_CREATE(self->fd);

	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CTX_CREATE, &a));
	a.flags = 0;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CTX_CREATE, &a));
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, ctx_create_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CTX_CREATE, (void *)BADPTR));
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, ctx_create_short_struct_is_zero_extended)
{
	/* an older userspace passing only @priority: DRM zero-fills the rest */
	uint32_t prio = DRM_ANPU_PRIORITY_NORMAL;

	EXPECT_EQ(0, anpu_ioctl(self->fd, DRM_IOW(DRM_COMMAND_BASE + DRM_ANPU_CTX_CREATE, uint32_t),
				&prio));
	EXPECT_COUNTERS(self, 0, 0, 1);
}

static int drop_cap_sys_nice(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
	d[CAP_SYS_NICE / 32].permitted &= ~(1u << (CAP_SYS_NICE % 32));
	return (int)syscall(SYS_capset, &h, d);
}

TEST_F(anpu, ctx_create_high_and_realtime_need_cap_sys_nice)
{
	int pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = anpu_open();

		if (fd < 0 || drop_cap_sys_nice())
			_exit(10);
		if (anpu_ctx_create(fd, DRM_ANPU_PRIORITY_HIGH, NULL) != -EPERM)
			_exit(11);
		if (anpu_ctx_create(fd, DRM_ANPU_PRIORITY_REALTIME, NULL) != -EPERM)
			_exit(12);
		if (anpu_ctx_create(fd, DRM_ANPU_PRIORITY_LOW, NULL) ||
		    anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL, NULL))
			_exit(13);
		_exit(0);
	}
	EXPECT_EQ(0, anpu_wait_child(pid))
		TH_LOG("10 setup, 11 HIGH allowed, 12 REALTIME allowed, 13 LOW/NORMAL refused");
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, ctx_destroy_unknown_id_fails_enoent)
{
	uint32_t id;

	EXPECT_EQ(-ENOENT, anpu_ctx_destroy(self->fd, 0));
	EXPECT_EQ(-ENOENT, anpu_ctx_destroy(self->fd, 0xfffffff0u));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, 1, &id));
	EXPECT_EQ(0, anpu_ctx_destroy(self->fd, id));
	EXPECT_EQ(-ENOENT, anpu_ctx_destroy(self->fd, id)) TH_LOG("destroyed twice");
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F(anpu, ctx_ids_are_private_to_their_file)
{
	int fd2 = anpu_open();
	uint32_t id;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, 1, &id));
	EXPECT_EQ(-ENOENT, anpu_ctx_destroy(fd2, id));
	close(fd2);
	EXPECT_EQ(0, anpu_ctx_destroy(self->fd, id));
}

TEST_F(anpu, ctx_destroy_nonzero_pad_fails_einval)
{
	struct drm_anpu_ctx_destroy a = { .pad = 1 };

	ASSERT_EQ(0, anpu_ctx_create(self->fd, 1, &a.ctx_id));
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &a));
	EXPECT_COUNTERS(self, 0, 0, 1);
}

TEST_F(anpu, ctx_destroy_lets_submitted_jobs_complete)
{
	struct anpu_bo cmd;
	uint32_t ctx, so = anpu_syncobj(self->fd);
	struct drm_anpu_sync out = { .handle = so };
	struct anpu_submit_args a = { .cmd = &cmd, .out = &out, .n_out = 1 };

	ASSERT_NE(0, so);
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 64, &cmd, NULL));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, 1, &ctx));
	a.ctx_id = ctx;
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, anpu_submit(self->fd, &a, NULL));
	EXPECT_EQ(0, anpu_ctx_destroy(self->fd, ctx));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, so, 0, ANPU_JOB_WAIT_MS));
	EXPECT_EQ(1, anpu_syncobj_status(self->fd, so, 0));
	anpu_bo_free(self->fd, &cmd);
	EXPECT_COUNTERS(self, 0, 0, 0);
}

/* ---- CLOCK_SAMPLE ---- */

TEST_F(anpu, clock_sample_brackets_monotonic_and_advances)
{
	struct drm_anpu_clock_sample a = { 0 }, b = { 0 };
	uint64_t t0 = anpu_now_ns(), t1;
	int64_t off_a, off_b;

	ASSERT_EQ(0, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &a));
	t1 = anpu_now_ns();
	EXPECT_LE(t0, a.monotonic_ns);
	EXPECT_GE(t1, a.monotonic_ns);
	EXPECT_GT(10000000ull, a.uncertainty_ns);
	usleep(20000);
	ASSERT_EQ(0, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &b));
	EXPECT_LT(a.device_ns, b.device_ns);
	/* the two samples agree on the offset within their bounds (+1 ms drift) */
	off_a = (int64_t)(a.monotonic_ns - a.device_ns);
	off_b = (int64_t)(b.monotonic_ns - b.device_ns);
	EXPECT_GE((int64_t)(a.uncertainty_ns + b.uncertainty_ns + 1000000),
		  off_a > off_b ? off_a - off_b : off_b - off_a);
}

TEST_F(anpu, clock_sample_nonzero_reserved_fails_einval)
{
	struct drm_anpu_clock_sample a = { .reserved = 1 };

	REQUIRE_CLOCK_SAMPLE(self->fd);

	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &a));
}

TEST_F(anpu, clock_sample_bad_user_pointer_fails_efault)
{
	EXPECT_EQ(-EFAULT, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, (void *)BADPTR));
}

TEST_HARNESS_MAIN
