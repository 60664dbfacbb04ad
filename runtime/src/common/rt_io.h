/* SPDX-License-Identifier: MIT */
/* rt_pread_full(), rt_pwrite_full(): exactly @n bytes at @off of @fd, or why not. */
#ifndef RT_IO_H
#define RT_IO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* 0, -errno of pread (EINTR retried), or -EIO where the file ends first. */
static inline int rt_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	for (size_t done = 0; done < n;) {
		ssize_t got = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got ? -errno : -EIO;
		done += (size_t)got;
	}
	return 0;
}

/* 0, or -errno of pwrite (EINTR retried; -EIO if it wrote nothing). */
static inline int rt_pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	for (size_t done = 0; done < n;) {
		ssize_t put = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));

		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return put ? -errno : -EIO;
		done += (size_t)put;
	}
	return 0;
}

#endif
