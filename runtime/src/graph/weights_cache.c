/* SPDX-License-Identifier: MIT */
/*
 * The weights in the NPU's own layouts, as a cache file. A GGUF file's Q5_0
 * tensors run 1.1-1.5x faster on the NPU as Q5_0L (ISA 1.2: the same blocks
 * regrouped 16 to a group, docs/hardware.md section 12), its Q4_K matrices
 * 1.1-1.2x (1.5x for a batch of 4) as Q4_KL (ISA 1.3: 16 rows interleaved),
 * its Q6_K ones likewise as Q6_KL (ISA 1.4) and its Q4_0 ones as Q4_0L
 * (ISA 1.5), but converting 170-400 MB at every load would cost more than reading the
 * file, and the in-process NPU maps the model file's own pages instead of
 * reading them. So the first load writes the model's tensor data, those
 * tensors regrouped, to a file in the cache directory, and every load maps
 * that file as it would map the model: the weights stay in memory once (as
 * that file's page cache).
 *
 * A cache file (weights_cache_format.h) is ANPUW_HEADER_BYTES of header,
 * then the bytes [data_start, data_end) of the model file with the tensors
 * its layout names converted (the layout, the conversions the device's ISA
 * has, is in the header). The header names the model file (device, inode,
 * size, modification and change times: the change time no one can set back,
 * so a model rewritten in place never meets its old cache), its data range
 * and a hash of its tensor table; a file whose header does not match, or that
 * another user owns, is ignored and written again. A file is written unnamed
 * (O_TMPFILE; else under a temporary name), synced, then given its name, so a
 * reader never sees a partial one and a crash leaves nothing behind; it is
 * skipped where the disk or the file size limit would not hold it. Writing
 * one sweeps the directory of files of models since changed or removed
 * (weights_cache_sweep.c: the header also records the model's path).
 *
 * Only the in-process NPU uses it (through anpu.ko the weights are read into
 * device memory; they keep the file's layout there), and not on the portable
 * kernels (they gather a converted block's bytes one by one). Any failure (no
 * cache directory, a full disk) falls back to the model file as it is: the
 * cache changes speed, never results, since Q5_0L gives Q5_0's bits,
 * Q4_KL Q4_K's, Q6_KL Q6_K's and Q4_0L Q4_0's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/rt_hash.h"
#include "common/rt_io.h"
#include "graph/engine.h"
#include "graph/graph.h"
#include "graph/weights_cache.h"
#include "graph/weights_cache_format.h"
#include "hw/anpu_hwif.h"

#define ANPUW_CHUNK		(4u << 20)	/* bytes read and written at a time */
#define Q5_0_BLOCK_BYTES	22u
#define Q4_K_BLOCK_BYTES	144u
#define Q6_K_BLOCK_BYTES	210u
#define Q4_0_BLOCK_BYTES	18u

/*
 * A matrix of whole groups of dense rows of @block_elems-element blocks (ISA
 * 1.3's rule for Q4_KL, 1.4's for Q6_KL, 1.5's for Q4_0L)
 */
static bool whole_row_groups(const struct gguf_tensor *t, uint32_t block_elems, uint32_t block_bytes)
{
	return t->ne[0] % block_elems == 0 && t->ne[1] % ANPU_Q4_KL_GROUP == 0 && t->ne[2] == 1 &&
	       t->ne[3] == 1 && t->nbytes == t->ne[0] / block_elems * block_bytes * t->ne[1];
}

uint32_t weights_cache_dtype(uint32_t layout, const struct gguf_tensor *t)
{
	if (t->type == ANPU_DTYPE_Q5_0 && (layout & WEIGHTS_CACHE_Q5_0L))
		return ANPU_DTYPE_Q5_0L;
	if (t->type == ANPU_DTYPE_Q4_K && (layout & WEIGHTS_CACHE_Q4_KL) &&
	    whole_row_groups(t, 256, Q4_K_BLOCK_BYTES))
		return ANPU_DTYPE_Q4_KL;
	if (t->type == ANPU_DTYPE_Q6_K && (layout & WEIGHTS_CACHE_Q6_KL) &&
	    whole_row_groups(t, 256, Q6_K_BLOCK_BYTES))
		return ANPU_DTYPE_Q6_KL;
	if (t->type == ANPU_DTYPE_Q4_0 && (layout & WEIGHTS_CACHE_Q4_0L) &&
	    whole_row_groups(t, 32, Q4_0_BLOCK_BYTES))
		return ANPU_DTYPE_Q4_0L;
	return t->type;
}

/* Whether the model has a tensor a cache of @layout converts. */
static bool converts_any(const struct gguf_file *g, uint32_t layout)
{
	for (size_t i = 0; i < g->n_tensors; i++)
		if (weights_cache_dtype(layout, &g->tensors[i]) != g->tensors[i].type)
			return true;
	return false;
}

static uint64_t tensors_hash(const struct gguf_file *g)
{
	uint64_t h = RT_HASH_INIT;

	for (size_t i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];

		h = rt_hash(h, t->name.ptr, t->name.len);
		h = rt_hash(h, &t->type, sizeof(t->type));
		h = rt_hash(h, t->ne, sizeof(t->ne));
		h = rt_hash(h, &t->offset, sizeof(t->offset));
	}
	return h;
}

static struct anpuw_header expected_header(const struct anpurt_engine *e, const struct stat *st,
					  uint32_t layout)
{
	struct anpuw_header h = {
		.layout = layout,
		.header_bytes = ANPUW_HEADER_BYTES,
		.src_dev = (uint64_t)st->st_dev,
		.src_ino = (uint64_t)st->st_ino,
		.src_size = (uint64_t)st->st_size,
		.src_mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u +
				(uint64_t)st->st_mtim.tv_nsec,
		.src_ctime_ns = (uint64_t)st->st_ctim.tv_sec * 1000000000u +
				(uint64_t)st->st_ctim.tv_nsec,
		.data_start = e->data_start,
		.data_end = e->data_end,
		.tensors_hash = tensors_hash(e->model->gguf),
	};

	memcpy(h.magic, ANPUW_MAGIC, sizeof(h.magic));
	return h;
}

/*
 * The cache directory: $ANPU_WEIGHT_CACHE_DIR, else $XDG_CACHE_HOME/anpu, else
 * $HOME/.cache/anpu (created, mode 0700 as XDG asks). 0, or -1 when there is
 * none.
 */
static int cache_dir(char *dir, size_t len)
{
	const char *env = getenv("ANPU_WEIGHT_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(dir, len, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(dir, len, "%s/anpu", xdg);
	else if (home && *home)
		n = snprintf(dir, len, "%s/.cache/anpu", home);
	else
		return -1;
	if (n < 0 || (size_t)n >= len)
		return -1;
	for (char *p = dir + 1; *p; p++) {	/* mkdir -p */
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
	const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Model bytes [from, to) to the cache file as dtype @to_type: as they are,
 * or, with rows of @row_bytes, each Q5_0 row as Q5_0L or each 16 Q4_K (Q6_K,
 * Q4_0) rows as Q4_KL (Q6_KL, Q4_0L). @buf holds 2 * ANPUW_CHUNK bytes.
 */
static int copy_range(int src, int dst, uint64_t data_start, uint64_t from, uint64_t to,
		      size_t row_bytes, uint32_t to_type, uint8_t *buf)
{
	/* whole rows (Q4_KL, Q6_KL, Q4_0L: groups of rows) a chunk when converting */
	const size_t unit = anpu_dtype_is_row_grouped(to_type) ? ANPU_Q4_KL_GROUP * row_bytes :
			    to_type == ANPU_DTYPE_Q5_0L ? row_bytes : 1;
	const size_t step = ANPUW_CHUNK / unit * unit;

	if (!step)
		return -EINVAL;	/* a row larger than a chunk: no such model */
	for (uint64_t at = from; at < to; at += step) {
		size_t n = to - at < step ? (size_t)(to - at) : step;
		const uint8_t *out = buf;
		int ret = rt_pread_full(src, buf, n, at);

		if (ret)
			return ret;
		if (unit > 1) {
			for (size_t u = 0; u < n / unit; u++) {
				if (to_type == ANPU_DTYPE_Q5_0L)
					anpu_q5_0_to_q5_0l(buf + ANPUW_CHUNK + u * unit, buf + u * unit,
							   (uint32_t)(row_bytes / Q5_0_BLOCK_BYTES));
				else if (to_type == ANPU_DTYPE_Q4_KL)
					anpu_q4_k_to_q4_kl(buf + ANPUW_CHUNK + u * unit, buf + u * unit,
							   (uint32_t)(row_bytes / Q4_K_BLOCK_BYTES));
				else if (to_type == ANPU_DTYPE_Q6_KL)
					anpu_q6_k_to_q6_kl(buf + ANPUW_CHUNK + u * unit, buf + u * unit,
							   (uint32_t)(row_bytes / Q6_K_BLOCK_BYTES));
				else
					anpu_q4_0_to_q4_0l(buf + ANPUW_CHUNK + u * unit, buf + u * unit,
							   (uint32_t)(row_bytes / Q4_0_BLOCK_BYTES));
			}
			out = buf + ANPUW_CHUNK;
		}
		ret = rt_pwrite_full(dst, out, n, ANPUW_HEADER_BYTES + at - data_start);
		if (ret)
			return ret;
	}
	return 0;
}

/* The cache file's data: the model's tensor data, converted as @layout says. */
static int write_data(const struct anpurt_engine *e, int src, int dst, uint32_t layout)
{
	const struct gguf_file *g = e->model->gguf;
	const struct gguf_tensor **t = malloc(g->n_tensors * sizeof(*t));
	uint8_t *buf = malloc(2 * (size_t)ANPUW_CHUNK);
	uint64_t at = e->data_start;
	int ret = t && buf ? 0 : -ENOMEM;

	for (size_t i = 0; !ret && i < g->n_tensors; i++)
		t[i] = &g->tensors[i];
	if (!ret)
		qsort(t, g->n_tensors, sizeof(*t), by_offset);
	for (size_t i = 0; !ret && i < g->n_tensors; i++) {
		const uint32_t to_type = weights_cache_dtype(layout, t[i]);
		unsigned int be = 1, bb = 1;	/* a converted tensor's row bytes */
		size_t rb;

		anpu_dtype_layout(to_type, &be, &bb);
		rb = (size_t)(t[i]->ne[0] / be * bb);

		if (t[i]->offset < at)	/* overlapping tensors: leave them as they are */
			ret = -EINVAL;
		if (!ret && t[i]->offset > at)	/* padding between tensors */
			ret = copy_range(src, dst, e->data_start, at, t[i]->offset, 0, 0, buf);
		if (!ret && to_type == ANPU_DTYPE_Q5_0L && (t[i]->ne[0] % 32 || t[i]->nbytes % rb))
			ret = -EINVAL;
		if (!ret)
			ret = copy_range(src, dst, e->data_start, t[i]->offset,
					 t[i]->offset + t[i]->nbytes, rb,
					 to_type == t[i]->type ? 0 : to_type, buf);
		at = t[i]->offset + t[i]->nbytes;
	}
	if (!ret && at < e->data_end)
		ret = copy_range(src, dst, e->data_start, at, e->data_end, 0, 0, buf);
	free(buf);
	free(t);
	return ret;
}

/*
 * Room for @bytes: the file size limit (past it a write raises SIGXFSZ,
 * which kills the process) and the free space of @fd's file system.
 */
static bool room_for(int fd, uint64_t bytes)
{
	struct rlimit rl;
	struct statvfs vfs;

	if (getrlimit(RLIMIT_FSIZE, &rl) || (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < bytes))
		return false;
	return !fstatvfs(fd, &vfs) && (uint64_t)vfs.f_bavail * vfs.f_frsize > bytes;
}

/*
 * A new file in @dir for @path: unnamed (O_TMPFILE; *tmp empty), else under a
 * temporary name in @tmp. -errno on failure.
 */
static int open_new(const char *dir, const char *path, char *tmp, size_t len)
{
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

	*tmp = '\0';
	if (fd >= 0)
		return fd;
	/* the pid in the name: a sweep can tell a dead writer's file */
	if (snprintf(tmp, len, "%s.%ld.XXXXXX", path, (long)getpid()) >= (int)len)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Give the written file @fd (@tmp: its temporary name, or empty) the name @path. */
static int name_file(int fd, char *tmp, size_t len, const char *path)
{
	char proc[64];

	if (!*tmp) {	/* unnamed: linked under a temporary name, then renamed over */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (snprintf(tmp, len, "%s.%ld.%d.tmp", path, (long)getpid(), fd) >= (int)len)
			return -ENAMETOOLONG;
		unlink(tmp);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW))
			return -errno;
	}
	return rename(tmp, path) ? -errno : 0;
}

/* Where the file is written from: the mount namespace and the model's path (open as @fd). */
static void origin_of(int fd, struct anpuw_origin *o)
{
	char proc[64];
	ssize_t n;

	memset(o, 0, sizeof(*o));
	o->mnt_ns = weights_cache_mnt_ns();
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, o->path, sizeof(o->path));
	/* readlink truncates silently: a path that filled the buffer is not kept */
	if (n <= 0 || (size_t)n >= sizeof(o->path) || o->path[0] != '/')
		n = 0;
	o->path[n] = '\0';
}

/*
 * Write the cache file @path (in @dir) for the model open as @src, whose
 * stat is @st (the file is kept only if the model did not change meanwhile).
 */
static int write_cache(const struct anpurt_engine *e, int src, const struct stat *st,
		       const struct anpuw_header *h, const char *dir, const char *path)
{
	char tmp[PATH_MAX];
	uint8_t head[ANPUW_HEADER_BYTES] = { 0 };
	struct anpuw_origin origin;
	struct stat now;
	int fd, ret;

	fd = open_new(dir, path, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	ret = room_for(fd, ANPUW_HEADER_BYTES + e->data_end - e->data_start) ? 0 : -ENOSPC;
	memcpy(head, h, sizeof(*h));
	origin_of(src, &origin);
	memcpy(head + ANPUW_ORIGIN_OFFSET, &origin, sizeof(origin));
	if (!ret)
		ret = write_data(e, src, fd, h->layout);
	if (!ret)
		ret = rt_pwrite_full(fd, head, sizeof(head), 0);
	/* the data reaches the disk before the name: a crash leaves no bad file */
	if (!ret && fdatasync(fd))
		ret = -errno;
	/* readable as the model is, no more (a 0600 model's cache is 0600) */
	if (!ret && fchmod(fd, (st->st_mode & 0666) | 0600))
		ret = -errno;
	if (!ret && (fstat(src, &now) || now.st_ctim.tv_sec != st->st_ctim.tv_sec ||
		     now.st_ctim.tv_nsec != st->st_ctim.tv_nsec))
		ret = -ESTALE;	/* the model changed while it was read */
	if (!ret)
		ret = name_file(fd, tmp, sizeof(tmp), path);
	if (ret && *tmp)
		unlink(tmp);
	close(fd);
	return ret;
}

/* The cache file @path if it is there and matches @want: its fd, else -1. */
static int open_valid(const char *path, const struct anpuw_header *want, uint64_t data_bytes)
{
	struct anpuw_header h;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (rt_pread_full(fd, &h, sizeof(h), 0) || memcmp(&h, want, sizeof(h)) || fstat(fd, &st) ||
	    st.st_uid != geteuid() || (uint64_t)st.st_size != ANPUW_HEADER_BYTES + data_bytes) {
		close(fd);
		return -1;
	}
	return fd;
}

uint32_t weights_cache_open(const struct anpurt_engine *e, int model_fd,
			    struct accel_bo_file *src)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *env = getenv("ANPU_WEIGHT_CACHE");
	/* the layouts the device's ISA has */
	const uint32_t layout = (e->info.isa_version >= GRAPH_ISA_Q5_0L ? WEIGHTS_CACHE_Q5_0L : 0) |
				(e->info.isa_version >= GRAPH_ISA_Q4_KL ? WEIGHTS_CACHE_Q4_KL : 0) |
				(e->info.isa_version >= GRAPH_ISA_Q6_KL ? WEIGHTS_CACHE_Q6_KL : 0) |
				(e->info.isa_version >= GRAPH_ISA_Q4_0L ? WEIGHTS_CACHE_Q4_0L : 0);
	struct anpuw_header want;
	struct stat st;
	int fd;

	/* the portable kernels gather a converted block's bytes one by one: slower there */
	if ((env && !strcmp(env, "0")) || e->info.backend != ACCEL_BACKEND_SIM ||
	    !strcmp(e->info.simd, "portable") || !converts_any(e->model->gguf, layout))
		return 0;
	if (fstat(model_fd, &st) || cache_dir(dir, sizeof(dir)))
		return 0;
	want = expected_header(e, &st, layout);
	if (snprintf(path, sizeof(path), "%s/%016llx.anpuw", dir,
		     (unsigned long long)rt_hash(RT_HASH_INIT, &want, sizeof(want))) >=
	    (int)sizeof(path))
		return 0;
	fd = open_valid(path, &want, e->data_end - e->data_start);
	if (fd < 0 && !write_cache(e, model_fd, &st, &want, dir, path)) {
		fd = open_valid(path, &want, e->data_end - e->data_start);
		weights_cache_sweep(dir, strrchr(path, '/') + 1);
	}
	if (fd < 0)
		return 0;
	src->fd = fd;
	src->offset = ANPUW_HEADER_BYTES;
	src->size = e->data_end - e->data_start;
	return layout;
}
