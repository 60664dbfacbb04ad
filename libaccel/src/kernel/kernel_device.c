// SPDX-License-Identifier: MIT
/*
 * Kernel backend: open, close, test support (debugfs) and the operations table.
 * The design and the locking rules: kernel_internal.h.
 */
#include "kernel_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int get_param(int fd, uint32_t param, uint64_t *value)
{
	struct drm_anpu_get_param gp = { .param = param };
	int ret = kioctl(fd, DRM_IOCTL_ANPU_GET_PARAM, &gp);

	if (!ret)
		*value = gp.value;
	return ret;
}

/* ---- open / close ---- */

static void calibrate(struct kdev *kd, struct accel_device_info *info)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 8; i++) {
		struct drm_anpu_clock_sample cs = { 0 };

		if (kioctl(kd->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &cs))
			break;
		if (cs.uncertainty_ns < best) {
			best = cs.uncertainty_ns;
			info->clock_offset_ns = (int64_t)(cs.monotonic_ns - cs.device_ns);
			info->clock_uncertainty_ns = cs.uncertainty_ns;
		}
	}
}

static void find_debugfs(struct kdev *kd, unsigned int minor)
{
	char link[96], target[PATH_MAX], path[sizeof(kd->debugfs)];
	const char *base;
	ssize_t n;

	kd->debugfs[0] = '\0';
	snprintf(link, sizeof(link), "/sys/class/accel/accel%u/device", minor);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) > 100)
		return;
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%.100s", base);
	if (access(path, F_OK) == 0)
		snprintf(kd->debugfs, sizeof(kd->debugfs), "%s", path);
}

int kernel_open(struct accel_device *dev, const char *path,
		       const struct accel_device_params *params)
{
	struct accel_device_info *info = &dev->info;
	uint64_t v[10] = { 0 };
	drmVersionPtr ver;
	struct kdev *kd;
	struct stat st;
	char fi[sizeof(kd->debugfs) + 16];
	int fd, ret;

	(void)params;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
	ver = drmGetVersion(fd);
	if (!ver || strcmp(ver->name, "anpu") || fstat(fd, &st) || !S_ISCHR(st.st_mode)) {
		if (ver)
			drmFreeVersion(ver);
		close(fd);
		return -ENODEV;
	}
	drmFreeVersion(ver);
	for (uint32_t p = 0; p <= DRM_ANPU_PARAM_JOB_TIMEOUT_MS; p++) {
		ret = get_param(fd, p, &v[p]);
		if (ret) {
			close(fd);
			return ret;
		}
	}
	kd = calloc(1, sizeof(*kd));
	if (!kd) {
		close(fd);
		return -ENOMEM;
	}
	kd->fd = fd;
	kd->front = dev;
	kd->device_id = KDEVICE_ID_BASE | (minor(st.st_rdev) & 0xffffff);
	kd->max_jobs = KMAX_JOBS;
	kd->efd = -1;
	pthread_mutex_init(&kd->lock, NULL);
	pthread_cond_init(&kd->slot_cond, NULL);
	find_debugfs(kd, minor(st.st_rdev));
	dev->priv = kd;

	info->backend = ACCEL_BACKEND_KERNEL;
	snprintf(info->path, sizeof(info->path), "%s", path);
	snprintf(info->name, sizeof(info->name), "accel%u", minor(st.st_rdev));
	info->hw_version = (uint32_t)v[DRM_ANPU_PARAM_HW_VERSION];
	info->isa_version = (uint32_t)v[DRM_ANPU_PARAM_ISA_VERSION];
	info->caps = (uint32_t)v[DRM_ANPU_PARAM_CAPS];
	info->num_queues = (uint32_t)v[DRM_ANPU_PARAM_NUM_QUEUES];
	info->mem_total = v[DRM_ANPU_PARAM_DEVMEM_SIZE];
	info->max_jobs_in_flight = kd->max_jobs;
	info->max_deps = ACCEL_MAX_DEPS;
	info->model_threads = 0;
	info->simd[0] = '\0';
	/* fault injection needs the driver's debugfs file (root) */
	snprintf(fi, sizeof(fi), "%s/fault_inject", kd->debugfs);
	if (!kd->debugfs[0] || access(fi, W_OK))
		info->caps &= ~ACCEL_CAP_FAULT_INJECTION;
	calibrate(kd, info);
	return 0;
}

void kernel_close(struct accel_device *dev)
{
	struct kdev *kd = kdev_of(dev);

	if (!kd)
		return;
	/* contexts are gone (the front end destroys them first); imports die with the fd */
	kdev_stop_thread(kd);
	close(kd->fd);
	free(kd->ctxs);
	pthread_cond_destroy(&kd->slot_cond);
	pthread_mutex_destroy(&kd->lock);
	free(kd);
	dev->priv = NULL;
}

/* ---- test support ---- */

int kernel_inject_fault(struct accel_device *dev, unsigned int queue, uint32_t mode)
{
	static const char *const names[] = { "none", "hang", "fault", "fail_reset" };
	struct kdev *kd = kdev_of(dev);
	char path[sizeof(kd->debugfs) + 16], cmd[64];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "%s/fault_inject", kd->debugfs);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EPERM : -EOPNOTSUPP;
	n = snprintf(cmd, sizeof(cmd), "%u %s%s", queue, names[mode & 0xf],
		     (mode & ACCEL_FAULT_STICKY) ? " sticky" : "");
	if (write(fd, cmd, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

int kernel_stats(struct accel_device *dev, struct accel_device_stats *stats)
{
	struct kdev *kd = kdev_of(dev);
	char path[sizeof(kd->debugfs) + 16], key[64];
	unsigned long long v;
	FILE *f;

	pthread_mutex_lock(&kd->lock);
	stats->jobs_submitted = kd->submitted;
	stats->jobs_completed = kd->completed;
	stats->jobs_failed = kd->failed;
	pthread_mutex_unlock(&kd->lock);
	/* recovery counters: the driver's (debugfs "counters"), device-wide */
	snprintf(path, sizeof(path), "%s/counters", kd->debugfs);
	f = kd->debugfs[0] ? fopen(path, "re") : NULL;
	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", key, &v) == 2) {
		if (!strcmp(key, "resets_queue"))
			stats->queue_resets = v;
		else if (!strcmp(key, "resets_device"))
			stats->device_resets = v;
		else if (!strcmp(key, "jobs_resubmitted"))
			stats->jobs_resubmitted = v;
	}
	fclose(f);
	return 0;
}

const struct accel_backend_ops accel_kernel_backend = {
	.name = "kernel",
	.open = kernel_open,
	.close = kernel_close,
	.bo_alloc = kernel_bo_alloc,
	.bo_release = kernel_bo_release,
	.bo_export = kernel_bo_export,
	.bo_import = kernel_bo_import,
	.context_create = kernel_context_create,
	.context_destroy = kernel_context_destroy,
	.submit = kernel_submit,
	.fence_wait = kernel_fence_wait,
	.fence_poll = kernel_fence_poll,
	.fence_status = kernel_fence_status,
	.fence_export_fd = kernel_fence_export_fd,
	.cmdbuf_release = kernel_cmdbuf_release,
	.inject_fault = kernel_inject_fault,
	.stats = kernel_stats,
};
