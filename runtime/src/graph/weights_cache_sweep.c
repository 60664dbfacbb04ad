/* SPDX-License-Identifier: MIT */
/*
 * Removing weight cache files no load can use any more. A cache file is named
 * by a hash of what it was made from (weights_cache.c), so a model that is
 * changed or removed leaves its old file behind: 170 MB to 1 GB each. Each
 * time a load writes a new cache file (the moment an old one may have become
 * useless), the directory is swept: a file goes when its format is an older
 * one, or when the model path in its header no longer names the file the
 * header describes (removed, replaced, rewritten). A model that was only
 * moved loses its cache file too, and its next load writes it again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/weights_cache_format.h"

/* The length of the cache file name at the start of @name (16 hex + suffix), else 0. */
static size_t cache_name_len(const char *name)
{
	const size_t n = ANPUW_NAME_HEX + sizeof(ANPUW_SUFFIX) - 1;

	for (size_t i = 0; i < ANPUW_NAME_HEX; i++)
		if (!name[i] || !strchr("0123456789abcdef", name[i]))
			return 0;
	return strncmp(name + ANPUW_NAME_HEX, ANPUW_SUFFIX, sizeof(ANPUW_SUFFIX) - 1) ? 0 : n;
}

/*
 * Whether @name is a temporary file ("<cache name>.<pid>.<rest>") of a
 * process that no longer runs.
 */
static bool orphaned_temp(const char *name, size_t base)
{
	char *end;
	long pid;

	if (name[base] != '.' || name[base + 1] < '1' || name[base + 1] > '9')
		return false;
	errno = 0;
	pid = strtol(name + base + 1, &end, 10);
	if (errno || *end != '.' || pid <= 0 || pid != (pid_t)pid)
		return false;
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* Whether the cache file open as @fd can no longer be used by any load. */
static bool stale(int fd)
{
	struct {
		struct anpuw_header h;
		char pad[ANPUW_PATH_OFFSET - sizeof(struct anpuw_header)];
		char path[ANPUW_PATH_MAX];
	} head;
	struct stat st;
	ssize_t got = pread(fd, &head, sizeof(head), 0);

	if (got < (ssize_t)sizeof(head.h) ||
	    memcmp(head.h.magic, ANPUW_MAGIC_FAMILY, sizeof(ANPUW_MAGIC_FAMILY) - 1))
		return false;	/* not one of ours: leave it */
	if (memcmp(head.h.magic, ANPUW_MAGIC, sizeof(ANPUW_MAGIC)))
		return true;	/* an older format: never opened again */
	if (got < (ssize_t)sizeof(head) || !head.path[0] ||
	    !memchr(head.path, '\0', sizeof(head.path)))
		return false;	/* no model path to check */
	if (stat(head.path, &st))
		return errno == ENOENT || errno == ENOTDIR;
	return (uint64_t)st.st_dev != head.h.src_dev || (uint64_t)st.st_ino != head.h.src_ino ||
	       (uint64_t)st.st_size != head.h.src_size ||
	       ns_of(&st.st_mtim) != head.h.src_mtime_ns ||
	       ns_of(&st.st_ctim) != head.h.src_ctime_ns;
}

void weights_cache_sweep(const char *dir, const char *keep)
{
	const int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *ent;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((ent = readdir(d))) {
		const char *name = ent->d_name;
		const size_t base = cache_name_len(name);
		struct stat st;
		bool drop;
		int fd;

		if (!base || (keep && !strcmp(name, keep)))
			continue;
		if (name[base]) {	/* a temporary name */
			if (orphaned_temp(name, base) &&
			    !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
			    st.st_uid == geteuid())
				unlinkat(dfd, name, 0);
			continue;
		}
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		drop = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		       stale(fd);
		close(fd);
		if (drop)
			unlinkat(dfd, name, 0);
	}
	closedir(d);
}
