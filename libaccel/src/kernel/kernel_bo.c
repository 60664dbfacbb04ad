// SPDX-License-Identifier: MIT
/*
 * Kernel backend: buffer objects (GEM objects, mmap, PRIME export/import).
 * The design and the locking rules: kernel_internal.h.
 */
#include "kernel_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>

/* ---- buffer objects ---- */

static int bo_map(struct kdev *kd, uint32_t handle, struct drm_anpu_bo_info *bi, struct kbo *kb)
{
	void *p;
	int ret;

	*bi = (struct drm_anpu_bo_info){ .handle = handle };
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_BO_INFO, bi);
	if (ret)
		return ret;
	p = mmap(NULL, bi->size, PROT_READ | PROT_WRITE, MAP_SHARED, kd->fd, (off_t)bi->mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	kb->map = p;
	kb->map_size = bi->size;
	return 0;
}

int kernel_bo_alloc(struct accel_device *dev, struct accel_bo *bo)
{
	struct kdev *kd = kdev_of(dev);
	struct drm_anpu_bo_create bc = {
		.size = bo->size,
		.flags = (bo->flags & ACCEL_BO_NPU_READ_ONLY) ? DRM_ANPU_BO_NPU_READONLY : 0,
	};
	struct drm_anpu_bo_info bi;
	struct kbo *kb;
	int ret;

	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return -ENOMEM;
	kb->gem = calloc(1, sizeof(*kb->gem));
	if (!kb->gem) {
		free(kb);
		return -ENOMEM;
	}
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_BO_CREATE, &bc);
	if (ret)
		goto fail;
	kb->gem->handle = bc.handle;
	kb->gem->refs = 1;
	ret = bo_map(kd, bc.handle, &bi, kb);
	if (ret) {
		drmCloseBufferHandle(kd->fd, bc.handle);
		goto fail;
	}
	bo->npu_addr = bc.npu_addr;
	bo->host = kb->map;
	bo->priv = kb;
	return 0;
fail:
	free(kb->gem);
	free(kb);
	return ret;
}

void kernel_bo_release(struct accel_device *dev, struct accel_bo *bo)
{
	struct kdev *kd = kdev_of(dev);
	struct kbo *kb = bo->priv;
	int last;

	if (!kb)
		return;
	munmap(kb->map, kb->map_size);
	pthread_mutex_lock(&kd->lock);
	last = --kb->gem->refs == 0;
	pthread_mutex_unlock(&kd->lock);
	if (last) {
		drmCloseBufferHandle(kd->fd, kb->gem->handle);
		free(kb->gem);
	}
	free(kb);
	bo->priv = NULL;
	bo->host = NULL;
}

int kernel_bo_export(struct accel_bo *bo, int64_t *token)
{
	struct kdev *kd = kdev_of(bo->obj.dev);
	struct kbo *kb = bo->priv;
	int fd;

	if (drmPrimeHandleToFD(kd->fd, kb->gem->handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return -errno;
	*token = fd;
	return 0;
}

int kernel_bo_import(struct accel_device *dev, int64_t token, struct accel_bo *bo)
{
	struct kdev *kd = kdev_of(dev);
	struct drm_anpu_bo_info bi;
	struct kgem *gem = NULL;
	struct accel_obj *o;
	struct kbo *kb;
	uint32_t handle;
	int ret;

	if (token < 0 || token > INT_MAX)
		return -EXDEV;		/* not a PRIME fd: another backend's token */
	if (drmPrimeFDToHandle(kd->fd, (int)token, &handle)) {
		ret = -errno;
		/* a closed fd is a stale token; another driver's dma-buf is another device */
		return ret == -EBADF ? -ENOENT : (ret == -ENOMEM ? ret : -EXDEV);
	}
	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return -ENOMEM;
	/* the same GEM handle when this file already has the BO: share it */
	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&kd->lock);
	for (o = dev->live.next; o != &dev->live; o = o->next) {
		struct accel_bo *other = (struct accel_bo *)o;

		if (o->kind == ACCEL_MAGIC_BO && other->priv &&
		    ((struct kbo *)other->priv)->gem->handle == handle) {
			gem = ((struct kbo *)other->priv)->gem;
			gem->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&kd->lock);
	pthread_mutex_unlock(&dev->lock);
	if (!gem) {
		gem = calloc(1, sizeof(*gem));
		if (!gem) {
			drmCloseBufferHandle(kd->fd, handle);
			free(kb);
			return -ENOMEM;
		}
		gem->handle = handle;
		gem->refs = 1;
	}
	kb->gem = gem;
	ret = bo_map(kd, handle, &bi, kb);
	if (ret) {
		kb->map = NULL;
		bo->priv = kb;
		kernel_bo_release(dev, bo);
		return ret;
	}
	bo->size = bi.size;
	bo->flags = (bi.flags & DRM_ANPU_BO_NPU_READONLY) ? ACCEL_BO_NPU_READ_ONLY : 0;
	bo->npu_addr = bi.npu_addr;
	bo->host = kb->map;
	bo->priv = kb;
	return 0;
}
