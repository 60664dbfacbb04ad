// SPDX-License-Identifier: MIT
/*
 * accel_bo_create_from_file(): a read-only BO with a file's bytes. The
 * backend maps the file's pages where it can (in-process); otherwise they are
 * read into the BO here and dropped from the page cache behind the read, so
 * that the bytes are held once (on the device).
 */
#define _GNU_SOURCE
#include "accel_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK	(16u << 20)

static int check_file(int fd, uint64_t offset, uint64_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	int fl;

	if (fd < 0)
		return -EBADF;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if ((fl & O_ACCMODE) == O_WRONLY || (fl & O_PATH))
		return -EBADF;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || page <= 0 || offset % (uint64_t)page)
		return -EINVAL;
	if (!size || offset > (uint64_t)st.st_size || size > (uint64_t)st.st_size - offset)
		return -EINVAL;
	return 0;
}

static int read_into(uint8_t *dst, const struct accel_bo_file *src)
{
	int fd = src->fd;
	uint64_t offset = src->offset, size = src->size, done = 0;

	(void)posix_fadvise(fd, (off_t)offset, (off_t)size, POSIX_FADV_SEQUENTIAL);
	while (done < size) {
		uint64_t want = size - done < READ_CHUNK ? size - done : READ_CHUNK;
		ssize_t got = pread(fd, dst + done, want, (off_t)(offset + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;	/* truncated since check_file() */
		/* the bytes are on the device now: the page cache need not keep them */
		(void)posix_fadvise(fd, (off_t)(offset + done), got, POSIX_FADV_DONTNEED);
		done += (uint64_t)got;
		if (src->progress && done < size)
			src->progress(src->progress_user, done, size);
	}
	return 0;
}

int accel_bo_create_from_file(struct accel_device *dev, const struct accel_bo_file *src,
			      struct accel_bo **out)
{
	struct accel_bo *bo;
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!src || src->flags)
		return -EINVAL;
	ret = check_file(src->fd, src->offset, src->size);
	if (ret)
		return ret;
	ret = accel_bo_create_internal(dev, src->size, ACCEL_BO_NPU_READ_ONLY | ACCEL_BO_NO_CLEAR,
				       &bo);
	if (ret)
		return ret;
	ret = dev->ops->bo_map_file ? dev->ops->bo_map_file(dev, bo, src->fd, src->offset)
				    : -EOPNOTSUPP;
	if (ret == -EOPNOTSUPP)
		ret = read_into(bo->host, src);
	if (ret) {
		accel_bo_free(bo);
		return ret;
	}
	if (src->progress)
		src->progress(src->progress_user, src->size, src->size);
	*out = bo;
	return 0;
}
