// SPDX-License-Identifier: MIT
/*
 * Kernel backend: /dev/accel/accelN driven by anpu.ko.
 *
 * The kernel ABI (uapi/drm/anpu_accel.h) is being written by the kernel
 * driver; until it lands this backend checks that the node exists and is an
 * ANPU, and reports -EOPNOTSUPP, so a caller that asked for a kernel device
 * gets a clear error and never the in-process NPU. The functions to fill in
 * are the struct accel_backend_ops members (see accel_internal.h): open
 * (drmOpen-free: open(2) the node, DRM_IOCTL_VERSION name "anpu", GET_PARAM
 * queries), bo_* (GEM create/mmap/PRIME), contexts, submit (syncobj
 * in-fences, BO list), fences (syncobj wait, sync_file export), JOB_INFO.
 */
#include "accel_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int kernel_open(struct accel_device *dev, const char *path,
		       const struct accel_device_params *params)
{
	int fd;

	(void)params;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	close(fd);
	snprintf(dev->info.path, sizeof(dev->info.path), "%s", path);
	return -EOPNOTSUPP;
}

static void kernel_close(struct accel_device *dev)
{
	(void)dev;
}

const struct accel_backend_ops accel_kernel_backend = {
	.name = "kernel",
	.open = kernel_open,
	.close = kernel_close,
};
