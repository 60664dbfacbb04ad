/* SPDX-License-Identifier: MIT */
/*
 * The weights' upload: the file's tensor data, byte for byte, into the
 * engine's read-only BO. Read with pread in large chunks straight into the
 * BO's mapping, not through the model's mmap, and each chunk dropped from the
 * page cache behind the read, so the weights are not held twice in memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/rt_error.h"
#include "graph/engine.h"

#define UPLOAD_CHUNK	(16u << 20)

struct accel_tensor engine_weight(const struct anpurt_engine *e, const struct gguf_tensor *t)
{
	return accel_tensor_packed(e->weights, t->offset - e->data_start, t->type,
				   (uint32_t)t->ne[0], (uint32_t)t->ne[1], (uint32_t)t->ne[2],
				   (uint32_t)t->ne[3]);
}

static int read_chunk(int fd, const char *path, uint8_t *dst, uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t got = pread(fd, dst, len, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return rt_error(-errno, "%s: read at %llu: %s", path,
					(unsigned long long)off, strerror(errno));
		if (got == 0)
			return rt_error(-EIO, "%s: ends at %llu, inside the tensor data", path,
					(unsigned long long)off);
		dst += got;
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	return 0;
}

int weights_upload(struct anpurt_engine *e, anpurt_progress_fn progress, void *user)
{
	const char *path = e->model->path;
	uint64_t total = e->data_end - e->data_start, done = 0;
	uint8_t *dst = accel_bo_map(e->weights);
	int fd, ret = 0;

	if (!dst)
		return rt_error(-EBADF, "weights buffer cannot be mapped");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error(-errno, "%s: %s", path, strerror(errno));
	(void)posix_fadvise(fd, (off_t)e->data_start, (off_t)total, POSIX_FADV_SEQUENTIAL);
	while (done < total) {
		uint64_t n = total - done < UPLOAD_CHUNK ? total - done : UPLOAD_CHUNK;

		ret = read_chunk(fd, path, dst + done, e->data_start + done, n);
		if (ret)
			break;
		/* the copy is on the device now: the page cache need not keep it */
		(void)posix_fadvise(fd, (off_t)(e->data_start + done), (off_t)n, POSIX_FADV_DONTNEED);
		done += n;
		if (progress)
			progress(user, done, total);
	}
	close(fd);
	return ret;
}
