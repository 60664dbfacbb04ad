// SPDX-License-Identifier: MIT
/* Helpers shared by the ANPU accel selftests (see anpu_lib.h). */
#include "anpu_lib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sync_file.h>

static char node_path[64];

uint64_t anpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int anpu_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	close(fd);
	return (int)got;
}

int anpu_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

int anpu_wait_child(int pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int anpu_open(void)
{
	for (int i = 0; i < 64; i++) {
		char path[64];
		drmVersionPtr v;
		int fd;

		snprintf(path, sizeof(path), "/dev/accel/accel%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && v->name && !strcmp(v->name, "anpu")) {
			drmFreeVersion(v);
			snprintf(node_path, sizeof(node_path), "%s", path);
			return fd;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
	}
	return -ENODEV;
}

const char *anpu_node_path(void)
{
	return node_path;
}

int anpu_bdf(int fd, char *buf, size_t len)
{
	char path[128], link[PATH_MAX];
	struct stat st;
	const char *base;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device", major(st.st_rdev),
		 minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	snprintf(buf, len, "%s", base ? base + 1 : link);
	return 0;
}

int anpu_debugfs_dir(char *buf, size_t len)
{
	char bdf[64] = "", p[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int fd = anpu_open();

	if (fd >= 0) {
		int r = anpu_bdf(fd, bdf, sizeof(bdf));

		close(fd);
		if (!r) {
			snprintf(p, sizeof(p), "/sys/kernel/debug/accel/%s/counters", bdf);
			if (!access(p, R_OK)) {
				snprintf(buf, len, "/sys/kernel/debug/accel/%s", bdf);
				return 0;
			}
		}
	}
	d = opendir("/sys/kernel/debug/accel");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/kernel/debug/accel/%s/counters", e->d_name);
		if (!access(p, R_OK)) {
			snprintf(buf, len, "/sys/kernel/debug/accel/%s", e->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENOENT;
}

int anpu_ioctl(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg) ? -errno : 0;
}

/* ---- leak baselines ---- */

int anpu_counters_read(struct anpu_counters *c)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[4096], *line, *save;
	int r = anpu_debugfs_dir(dir, sizeof(dir));

	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/counters", dir);
	r = anpu_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	c->bos = c->jobs = c->contexts = -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long v;
		char k[64];

		if (sscanf(line, "%63s %ld", k, &v) != 2)
			continue;
		if (!strcmp(k, "bos"))
			c->bos = v;
		else if (!strcmp(k, "jobs"))
			c->jobs = v;
		else if (!strcmp(k, "contexts"))
			c->contexts = v;
	}
	return (c->bos < 0 || c->jobs < 0 || c->contexts < 0) ? -EPROTO : 0;
}

int anpu_counters_settle(const struct anpu_counters *base, struct anpu_counters *now,
			 int timeout_ms)
{
	uint64_t end = anpu_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		int r = anpu_counters_read(now);

		if (r)
			return r;
		if (now->bos == base->bos && now->jobs == base->jobs &&
		    now->contexts == base->contexts)
			return 0;
		if (anpu_now_ns() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

static long long parse_size(const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);

	while (*end == ' ' || *end == '\t')
		end++;
	if (!strncmp(end, "KiB", 3))
		n <<= 10;
	else if (!strncmp(end, "MiB", 3))
		n <<= 20;
	else if (!strncmp(end, "GiB", 3))
		n <<= 30;
	return n;
}

static int read_fdinfo(int fd, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return anpu_read_file(path, buf, len);
}

long long anpu_fdinfo_total(int fd)
{
	char buf[8192], *line, *save;
	long long sum = 0;
	int found = 0, r = read_fdinfo(fd, buf, sizeof(buf));

	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "drm-total-", 10) || !colon)
			continue;
		sum += parse_size(colon + 1);
		found = 1;
	}
	return found ? sum : -ENOENT;
}

long long anpu_fdinfo_value(int fd, const char *key)
{
	char buf[8192], *line, *save;
	size_t kl = strlen(key);
	int r = read_fdinfo(fd, buf, sizeof(buf));

	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			return parse_size(line + kl + 1);
	return -ENOENT;
}

/* ---- ioctl wrappers ---- */

int anpu_get_param(int fd, uint32_t param, uint64_t *value)
{
	struct drm_anpu_get_param a = { .param = param };
	int r = anpu_ioctl(fd, DRM_IOCTL_ANPU_GET_PARAM, &a);

	if (!r && value)
		*value = a.value;
	return r;
}

int anpu_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t *handle, uint64_t *npu_addr)
{
	struct drm_anpu_bo_create a = { .size = size, .flags = flags };
	int r = anpu_ioctl(fd, DRM_IOCTL_ANPU_BO_CREATE, &a);

	if (!r) {
		if (handle)
			*handle = a.handle;
		if (npu_addr)
			*npu_addr = a.npu_addr;
	}
	return r;
}

int anpu_bo_info(int fd, uint32_t handle, struct drm_anpu_bo_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return anpu_ioctl(fd, DRM_IOCTL_ANPU_BO_INFO, info);
}

int anpu_bo_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return anpu_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

void *anpu_bo_mmap(int fd, uint32_t handle, uint64_t *size)
{
	struct drm_anpu_bo_info info;
	void *p;
	int r = anpu_bo_info(fd, handle, &info);

	if (r) {
		errno = -r;
		return NULL;
	}
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)info.mmap_offset);
	if (p == MAP_FAILED)
		return NULL;
	if (size)
		*size = info.size;
	return p;
}

int anpu_ctx_create(int fd, uint32_t prio, uint32_t *ctx_id)
{
	struct drm_anpu_ctx_create a = { .priority = prio };
	int r = anpu_ioctl(fd, DRM_IOCTL_ANPU_CTX_CREATE, &a);

	if (!r && ctx_id)
		*ctx_id = a.ctx_id;
	return r;
}

int anpu_ctx_destroy(int fd, uint32_t ctx_id)
{
	struct drm_anpu_ctx_destroy a = { .ctx_id = ctx_id };

	return anpu_ioctl(fd, DRM_IOCTL_ANPU_CTX_DESTROY, &a);
}

int anpu_job_info(int fd, uint32_t ctx_id, uint64_t seqno, struct drm_anpu_job_info *ji)
{
	memset(ji, 0, sizeof(*ji));
	ji->ctx_id = ctx_id;
	ji->seqno = seqno;
	return anpu_ioctl(fd, DRM_IOCTL_ANPU_JOB_INFO, ji);
}

int anpu_bo_new(int fd, uint64_t size, uint32_t flags, struct anpu_bo *bo)
{
	int r;

	memset(bo, 0, sizeof(*bo));
	r = anpu_bo_create(fd, size, flags, &bo->handle, &bo->addr);
	if (r)
		return r;
	bo->flags = flags;
	bo->map = anpu_bo_mmap(fd, bo->handle, &bo->size);
	if (!bo->map) {
		r = -errno;
		anpu_bo_close(fd, bo->handle);
		memset(bo, 0, sizeof(*bo));
		return r ? r : -EIO;
	}
	return 0;
}

void anpu_bo_free(int fd, struct anpu_bo *bo)
{
	if (bo->map)
		munmap(bo->map, bo->size);
	if (bo->handle)
		anpu_bo_close(fd, bo->handle);
	memset(bo, 0, sizeof(*bo));
}

/* ---- command streams ---- */

int anpu_stream_bo(int fd, const struct simdev_stream *s, struct anpu_bo *bo)
{
	int r;

	if (!s->buf || s->oom)
		return -ENOMEM;
	r = anpu_bo_new(fd, s->size, DRM_ANPU_BO_NPU_READONLY, bo);
	if (r)
		return r;
	memcpy(bo->map, s->buf, s->size);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

int anpu_nop_bo(int fd, unsigned int nops, struct anpu_bo *bo, uint32_t *size)
{
	struct simdev_stream s;
	int r;

	simdev_stream_init(&s);
	for (unsigned int i = 0; i < nops; i++)
		simdev_stream_op(&s, ANPU_OP_NOP, 0, NULL, 0, NULL, 0);
	if (!simdev_stream_finish(&s, 0, 0)) {
		simdev_stream_free(&s);
		return -ENOMEM;
	}
	r = anpu_stream_bo(fd, &s, bo);
	if (size)
		*size = (uint32_t)s.size;
	simdev_stream_free(&s);
	return r;
}

void anpu_stream_copy(struct simdev_stream *s, uint64_t src, uint64_t dst, uint32_t n)
{
	struct anpu_params_scale p = { .s = 1.0f };
	struct anpu_tensor t[2] = {
		simdev_tensor(src, ANPU_DTYPE_F32, n, 1, 1, 1),
		simdev_tensor(dst, ANPU_DTYPE_F32, n, 1, 1, 1),
	};

	simdev_stream_op(s, ANPU_OP_SCALE, 0, &p, sizeof(p), t, 2);
}

int anpu_heavy_new(int fd, unsigned int reps, struct anpu_heavy *h)
{
	const uint32_t K = 1024, N = 1024, M = 16;
	struct simdev_stream s;
	struct anpu_tensor t[3];
	int r;

	memset(h, 0, sizeof(*h));
	r = anpu_bo_new(fd, 4ull * K * M, 0, &h->x);
	if (!r)
		r = anpu_bo_new(fd, 4ull * K * N, DRM_ANPU_BO_NPU_READONLY, &h->w);
	if (!r)
		r = anpu_bo_new(fd, 4ull * N * M, 0, &h->y);
	if (r) {
		anpu_heavy_free(fd, h);
		return r;
	}
	for (uint32_t i = 0; i < K * M; i++)
		((float *)h->x.map)[i] = (float)(i % 13) * 0.125f;
	for (uint32_t i = 0; i < K * N; i += 61)
		((float *)h->w.map)[i] = 0.5f;
	simdev_stream_init(&s);
	t[0] = simdev_tensor(h->x.addr, ANPU_DTYPE_F32, K, M, 1, 1);
	t[1] = simdev_tensor(h->w.addr, ANPU_DTYPE_F32, K, N, 1, 1);
	t[2] = simdev_tensor(h->y.addr, ANPU_DTYPE_F32, N, M, 1, 1);
	for (unsigned int i = 0; i < reps; i++)
		simdev_stream_op(&s, ANPU_OP_MATMUL, 0, NULL, 0, t, 3);
	r = simdev_stream_finish(&s, 0, 0) ? anpu_stream_bo(fd, &s, &h->cmd) : -ENOMEM;
	simdev_stream_free(&s);
	if (r) {
		anpu_heavy_free(fd, h);
		return r;
	}
	h->refs[0] = (struct drm_anpu_bo_ref){ .handle = h->x.handle };
	h->refs[1] = (struct drm_anpu_bo_ref){ .handle = h->w.handle };
	h->refs[2] = (struct drm_anpu_bo_ref){ .handle = h->y.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	return 0;
}

void anpu_heavy_free(int fd, struct anpu_heavy *h)
{
	anpu_bo_free(fd, &h->x);
	anpu_bo_free(fd, &h->w);
	anpu_bo_free(fd, &h->y);
	anpu_bo_free(fd, &h->cmd);
}

/* ---- submit ---- */

int anpu_submit(int fd, const struct anpu_submit_args *a, uint64_t *seqno)
{
	const struct anpu_stream_header *h = a->cmd->map;
	struct drm_anpu_submit s = {
		.ctx_id = a->ctx_id,
		.cmd_handle = a->cmd->handle,
		.cmd_size = a->cmd_size ? a->cmd_size : h->size,
	};
	int r;

	/* an empty array is all zero (docs/kernel-abi.md) */
	if (a->n_bos)
		s.bos = (struct drm_anpu_obj_array){ sizeof(*a->bos), a->n_bos, (uintptr_t)a->bos };
	if (a->n_in)
		s.in_syncs = (struct drm_anpu_obj_array){ sizeof(*a->in), a->n_in, (uintptr_t)a->in };
	if (a->n_out)
		s.out_syncs = (struct drm_anpu_obj_array){ sizeof(*a->out), a->n_out, (uintptr_t)a->out };
	r = anpu_ioctl(fd, DRM_IOCTL_ANPU_SUBMIT, &s);
	if (!r && seqno)
		*seqno = s.seqno;
	return r;
}

uint32_t anpu_syncobj(int fd)
{
	uint32_t h = 0;

	errno = 0;
	if (drmSyncobjCreate(fd, 0, &h))
		return 0;
	return h;
}

int anpu_syncobj_wait(int fd, uint32_t handle, uint64_t point, int timeout_ms)
{
	int64_t abs = (int64_t)(anpu_now_ns() + (uint64_t)timeout_ms * 1000000ull);
	int r;

	if (point)
		r = drmSyncobjTimelineWait(fd, &handle, &point, 1, abs,
					   DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
	else
		r = drmSyncobjWait(fd, &handle, 1, abs, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
				   NULL);
	return r ? -errno : 0;
}

int anpu_syncobj_status(int fd, uint32_t handle, uint64_t point)
{
	struct sync_file_info info = { 0 };
	uint32_t tmp = 0;
	int sfd = -1, r;

	if (point) {
		/* copy the point into a binary syncobj, then export that */
		if (drmSyncobjCreate(fd, 0, &tmp))
			return -errno;
		r = drmSyncobjTransfer(fd, tmp, 0, handle, point, 0);
		if (!r)
			r = drmSyncobjExportSyncFile(fd, tmp, &sfd);
		drmSyncobjDestroy(fd, tmp);
	} else {
		r = drmSyncobjExportSyncFile(fd, handle, &sfd);
	}
	if (r)
		return -errno;
	r = ioctl(sfd, SYNC_IOC_FILE_INFO, &info);
	close(sfd);
	if (r)
		return -errno;
	return info.status;
}

int anpu_run(int fd, uint32_t ctx_id, const struct anpu_bo *cmd,
	     const struct drm_anpu_bo_ref *bos, uint32_t n_bos, uint64_t *seqno, int timeout_ms)
{
	uint32_t so = anpu_syncobj(fd);
	struct drm_anpu_sync out = { .handle = so };
	struct anpu_submit_args a = {
		.ctx_id = ctx_id, .cmd = cmd, .bos = bos, .n_bos = n_bos, .out = &out, .n_out = 1,
	};
	int r;

	if (!so)
		return errno ? -errno : -ENOMEM;	/* SYNCOBJ_CREATE's error */
	r = anpu_submit(fd, &a, seqno);
	if (!r)
		r = anpu_syncobj_wait(fd, so, 0, timeout_ms);
	if (!r) {
		r = anpu_syncobj_status(fd, so, 0);
		r = r == 1 ? 0 : (r == 0 ? -EINPROGRESS : r);
	}
	drmSyncobjDestroy(fd, so);
	return r;
}

/* ---- fault injection ---- */

int anpu_fault_inject(unsigned int queue, const char *action, bool sticky)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], cmd[64];
	int r = anpu_debugfs_dir(dir, sizeof(dir));

	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/fault_inject", dir);
	snprintf(cmd, sizeof(cmd), "%u %s%s\n", queue, action, sticky ? " sticky" : "");
	return anpu_write_file(path, cmd);
}

int anpu_force_reset(const char *what)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], cmd[64];
	int r = anpu_debugfs_dir(dir, sizeof(dir));

	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/reset", dir);
	snprintf(cmd, sizeof(cmd), "%s\n", what);
	return anpu_write_file(path, cmd);
}

long anpu_debugfs_counter(const char *key)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[4096], *line, *save;
	int r = anpu_debugfs_dir(dir, sizeof(dir));

	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/counters", dir);
	r = anpu_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long v;
		char k[64];

		if (sscanf(line, "%63s %ld", k, &v) == 2 && !strcmp(k, key))
			return v;
	}
	return -ENOENT;
}

int anpu_power_loss(bool on)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r = anpu_debugfs_dir(dir, sizeof(dir));

	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/power_loss", dir);
	return anpu_write_file(path, on ? "1\n" : "0\n");
}

int anpu_runtime_status(int fd, char *buf, size_t len)
{
	char bdf[64], path[PATH_MAX];
	int r = anpu_bdf(fd, bdf, sizeof(bdf));

	if (r)
		return r;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	r = anpu_read_file(path, buf, len);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int anpu_runtime_status_wait(int fd, const char *want, int timeout_ms)
{
	uint64_t end = anpu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	char st[64];

	do {
		if (!anpu_runtime_status(fd, st, sizeof(st)) && !strcmp(st, want))
			return 0;
		usleep(20000);
	} while (anpu_now_ns() < end);
	return -ETIMEDOUT;
}
