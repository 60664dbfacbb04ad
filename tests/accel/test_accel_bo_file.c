// SPDX-License-Identifier: MIT
/*
 * accel_bo_create_from_file(): the BO holds the file's bytes, the NPU reads
 * them, the memory is ordinary device memory again once the BO is freed, and
 * every bad argument is an error that creates nothing. On both backends (the
 * in-process one maps the file's pages, the kernel one reads them).
 */
#define _GNU_SOURCE
#include "accel_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct accel_device *dev;
static struct accel_context *ctx;
static char path[] = "/tmp/accel-bo-file-XXXXXX";
static int fd = -1;
static long page;

#define FILE_PAGES	3u
#define TAIL		512u	/* the file ends inside a page */

static uint8_t file_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

static int setup(void **state)
{
	size_t n;
	uint8_t *buf;

	(void)state;
	page = sysconf(_SC_PAGESIZE);
	n = FILE_PAGES * (size_t)page + TAIL;
	buf = malloc(n);
	fd = mkstemp(path);
	if (!buf || fd < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		buf[i] = file_byte(i);
	if (write(fd, buf, n) != (ssize_t)n)
		return -1;
	free(buf);
	dev = accel_test_open(NULL);
	return accel_context_create(dev, NULL, &ctx);
}

static int teardown(void **state)
{
	(void)state;
	close(fd);
	unlink(path);
	accel_context_free(ctx);
	return accel_device_close(dev);
}

static struct accel_bo_file file_range(uint64_t offset, uint64_t size)
{
	return (struct accel_bo_file){ .fd = fd, .offset = offset, .size = size };
}

static void progress(void *user, uint64_t done, uint64_t total)
{
	uint64_t *last = user;

	assert_true(done <= total);
	assert_true(done >= *last);
	*last = done;
}

static void bo_holds_the_file_bytes_and_the_npu_reads_them(void **state)
{
	uint64_t off = (uint64_t)page, size = (FILE_PAGES - 1) * (uint64_t)page + TAIL, last = 0;
	struct accel_bo_file src = file_range(off, size);
	struct accel_bo *bo, *out;
	struct accel_cmdbuf *cb;
	struct accel_fence f;
	const uint8_t *p;
	uint64_t used;

	(void)state;
	src.progress = progress;
	src.progress_user = &last;
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), 0);
	assert_int_equal(last, size);
	assert_int_equal(accel_bo_size(bo), size);
	assert_int_equal(accel_bo_flags(bo) & ACCEL_BO_NPU_READ_ONLY, ACCEL_BO_NPU_READ_ONLY);
	assert_int_equal(accel_device_mem_used(dev, &used), 0);
	assert_true(used >= size);
	p = accel_bo_map(bo);
	assert_non_null(p);
	for (uint64_t i = 0; i < size; i++)
		if (p[i] != file_byte(off + i))
			fail_msg("byte %llu of the BO: %u, the file has %u", (unsigned long long)i, p[i],
				 file_byte(off + i));

	/* what the NPU reads: a COPY of the whole BO into a plain one */
	assert_int_equal(accel_bo_create(dev, size, 0, &out), 0);
	{
		struct accel_tensor s = accel_tensor_packed(bo, 0, ACCEL_F32, (uint32_t)(size / 4), 1, 1, 1);
		struct accel_tensor d = accel_tensor_packed(out, 0, ACCEL_F32, (uint32_t)(size / 4), 1, 1, 1);

		assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
		assert_int_equal(accel_cmd_copy(cb, &s, &d), 0);
		assert_int_equal(accel_cmdbuf_finish(cb), 0);
		assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
		assert_int_equal(accel_fence_wait(dev, &f, 10000000000ll), 0);
		accel_cmdbuf_free(cb);
		/* and may not write it */
		assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
		assert_int_equal(accel_cmd_copy(cb, &d, &s), -EINVAL);
		accel_cmdbuf_free(cb);
	}
	assert_memory_equal(accel_bo_map(out), p, size);
	accel_bo_free(out);
	assert_int_equal(accel_bo_free(bo), 0);
}

static void freed_file_bo_memory_is_plain_memory_again(void **state)
{
	uint64_t size = FILE_PAGES * (uint64_t)page + TAIL;
	struct accel_bo_file src = file_range(0, size);
	struct accel_bo *bo;
	uint8_t *p;

	(void)state;
	/* twice: the second lands where the first was on an otherwise idle handle */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), 0);
		assert_int_equal(((uint8_t *)accel_bo_map(bo))[size - 1], file_byte(size - 1));
		assert_int_equal(accel_bo_free(bo), 0);
	}
	/* zeroed and writable (in-process: anonymous memory, not the file's pages) */
	assert_int_equal(accel_bo_create(dev, size, 0, &bo), 0);
	p = accel_bo_map(bo);
	for (uint64_t i = 0; i < size; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xa5, size);
	assert_int_equal(p[size - 1], 0xa5);
	accel_bo_free(bo);
}

static void bad_file_ranges_and_fds_are_errors(void **state)
{
	uint64_t fsize = FILE_PAGES * (uint64_t)page + TAIL, used0, used;
	struct accel_bo_file src;
	struct accel_bo *bo = (struct accel_bo *)&src;
	int wfd = open(path, O_WRONLY | O_CLOEXEC), dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	int pipefd[2];

	(void)state;
	assert_true(wfd >= 0 && dfd >= 0);
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(accel_device_mem_used(dev, &used0), 0);

	assert_int_equal(accel_bo_create_from_file(dev, NULL, &bo), -EINVAL);
	assert_null(bo);
	src = file_range(0, 4096);
	assert_int_equal(accel_bo_create_from_file(dev, &src, NULL), -EINVAL);
	src.flags = 1;
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src = file_range(0, 0);					/* empty */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src = file_range(100, 4096);				/* offset not page-aligned */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src = file_range(0, fsize + 1);				/* past the end */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src = file_range((FILE_PAGES + 1) * (uint64_t)page, 1);	/* starts past the end */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src = file_range((uint64_t)page, UINT64_MAX);		/* wraps */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src = file_range(0, 4096);
	src.fd = -1;
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EBADF);
	src.fd = wfd;						/* not open for reading */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EBADF);
	src.fd = dfd;						/* not a regular file */
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	src.fd = pipefd[0];
	assert_int_equal(accel_bo_create_from_file(dev, &src, &bo), -EINVAL);
	assert_null(bo);

	/* nothing was created or charged */
	assert_int_equal(accel_device_mem_used(dev, &used), 0);
	assert_int_equal(used, used0);
	close(wfd);
	close(dfd);
	close(pipefd[0]);
	close(pipefd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bo_holds_the_file_bytes_and_the_npu_reads_them),
		cmocka_unit_test(freed_file_bo_memory_is_plain_memory_again),
		cmocka_unit_test(bad_file_ranges_and_fds_are_errors),
	};

	return cmocka_run_group_tests_name("accel_bo_file", tests, setup, teardown);
}
