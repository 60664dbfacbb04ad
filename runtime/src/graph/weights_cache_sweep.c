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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "graph/weights_cache_format.h"

uint64_t weights_cache_mnt_ns(void)
{
	struct stat st;

	return stat("/proc/self/ns/mnt", &st) ? 0 : (uint64_t)st.st_ino;
}

/* The length of the cache file name at the start of @name (16 hex + suffix), else 0. */
static size_t cache_name_len(const char *name)
{
	const size_t n = ANPUW_NAME_HEX + sizeof(ANPUW_SUFFIX) - 1;

	for (size_t i = 0; i < ANPUW_NAME_HEX; i++)
		if (!name[i] || !strchr("0123456789abcdef", name[i]))
			return 0;
	return strncmp(name + ANPUW_NAME_HEX, ANPUW_SUFFIX, sizeof(ANPUW_SUFFIX) - 1) ? 0 : n;
}

/* Whether @n > 0 characters at @s are all digits (or letters too: @alnum). */
static bool all_of(const char *s, size_t n, bool alnum)
{
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') &&
		    !(alnum && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))))
			return false;
	return n > 0;
}

/*
 * The writer's pid if @tail (what follows a cache name) is one of the two
 * temporary names weights_cache.c makes: ".<pid>.<fd>.tmp" or
 * ".<pid>.XXXXXX"; else 0.
 */
static pid_t temp_writer(const char *tail)
{
	const char *dot = tail[0] == '.' ? strchr(tail + 1, '.') : NULL;
	const char *rest = dot ? dot + 1 : NULL;
	size_t len = rest ? strlen(rest) : 0;
	char *end;
	long pid;

	if (!dot || tail[1] == '0' || !all_of(tail + 1, (size_t)(dot - tail - 1), false))
		return 0;
	if (!(len == 6 && all_of(rest, 6, true)) &&
	    !(len > 4 && !strcmp(rest + len - 4, ".tmp") && all_of(rest, len - 4, false)))
		return 0;
	errno = 0;
	pid = strtol(tail + 1, &end, 10);
	return errno || end != dot || pid <= 0 || pid != (pid_t)pid ? 0 : (pid_t)pid;
}

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* Whether the cache file open as @fd can no longer be used by any load. */
static bool stale(int fd, uint64_t mnt_ns)
{
	struct {
		struct anpuw_header h;
		char pad[ANPUW_ORIGIN_OFFSET - sizeof(struct anpuw_header)];
		struct anpuw_origin o;
	} head;
	struct stat st;
	ssize_t got = pread(fd, &head, sizeof(head), 0);

	_Static_assert(offsetof(__typeof__(head), o) == ANPUW_ORIGIN_OFFSET, "origin offset");
	if (got < (ssize_t)sizeof(head.h) ||
	    memcmp(head.h.magic, ANPUW_MAGIC_FAMILY, sizeof(ANPUW_MAGIC_FAMILY) - 1))
		return false;	/* not one of ours: leave it */
	if (memcmp(head.h.magic, ANPUW_MAGIC, sizeof(ANPUW_MAGIC)))
		/* an older version is never opened again; a newer one is its runtime's */
		return !head.h.magic[7] && head.h.magic[6] >= '0' &&
		       head.h.magic[6] < ANPUW_MAGIC[6];
	if (got < (ssize_t)sizeof(head) || !mnt_ns || head.o.mnt_ns != mnt_ns ||
	    !head.o.path[0] || !memchr(head.o.path, '\0', sizeof(head.o.path)))
		return false;	/* no model path this process can judge */
	if (stat(head.o.path, &st))
		return errno == ENOENT || errno == ENOTDIR;
	return (uint64_t)st.st_dev != head.h.src_dev || (uint64_t)st.st_ino != head.h.src_ino ||
	       (uint64_t)st.st_size != head.h.src_size ||
	       ns_of(&st.st_mtim) != head.h.src_mtime_ns ||
	       ns_of(&st.st_ctim) != head.h.src_ctime_ns;
}

/* Remove @name if it is still the file @st describes (not one renamed over it since). */
static void remove_if_same(int dfd, const char *name, const struct stat *st)
{
	struct stat now;

	if (!fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino)
		unlinkat(dfd, name, 0);
}

void weights_cache_sweep(const char *dir, const char *keep)
{
	const int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;	/* closedir() closes dfd */
	const uint64_t mnt_ns = weights_cache_mnt_ns();
	struct dirent *ent;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((ent = readdir(d))) {
		const char *name = ent->d_name;
		const size_t name_len = cache_name_len(name);
		struct stat st;
		pid_t pid;
		bool drop;
		int fd;

		if (!name_len || (keep && !strcmp(name, keep)))
			continue;
		if (name[name_len]) {	/* a temporary name: the header is written last */
			pid = temp_writer(name + name_len);
			if (pid && kill(pid, 0) && errno == ESRCH &&
			    !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
			    st.st_uid == geteuid() &&
			    st.st_mtime < time(NULL) - ANPUW_TEMP_AGE_S)	/* pid of another namespace? */
				remove_if_same(dfd, name, &st);
			continue;
		}
		/* O_NONBLOCK: a FIFO under a cache name must not stop the sweep */
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		drop = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		       stale(fd, mnt_ns);
		close(fd);
		if (drop)
			remove_if_same(dfd, name, &st);
	}
	closedir(d);
}
