// SPDX-License-Identifier: MIT
/* Buffer objects: handles, reference counts, memory accounting, export/import. */
#include "accel_internal.h"

#include <errno.h>
#include <stdlib.h>

static int charge(struct accel_device *dev, uint64_t size)
{
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (size > dev->mem_limit || dev->mem_used > dev->mem_limit - size)
		ret = -ENOMEM;
	else
		dev->mem_used += size;
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static void uncharge(struct accel_device *dev, uint64_t size)
{
	pthread_mutex_lock(&dev->lock);
	dev->mem_used -= size;
	pthread_mutex_unlock(&dev->lock);
}

int accel_bo_create_internal(struct accel_device *dev, uint64_t size, uint32_t flags,
			     struct accel_bo **out)
{
	struct accel_bo *bo;
	int ret;

	if (!size || (flags & ~ACCEL_BO_FLAGS_ALL))
		return -EINVAL;
	ret = charge(dev, size);
	if (ret)
		return ret;
	bo = calloc(1, sizeof(*bo));
	if (!bo) {
		uncharge(dev, size);
		return -ENOMEM;
	}
	bo->size = size;
	bo->flags = flags;
	ret = dev->ops->bo_alloc(dev, bo);
	if (ret) {
		uncharge(dev, size);
		free(bo);
		return ret;
	}
	atomic_init(&bo->refs, 1);
	bo->handle_live = true;
	accel_obj_init(dev, &bo->obj, ACCEL_MAGIC_BO);
	*out = bo;
	return 0;
}

int accel_bo_create(struct accel_device *dev, uint64_t size, uint32_t flags,
		    struct accel_bo **out)
{
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!out)
		return -EINVAL;
	*out = NULL;
	return accel_bo_create_internal(dev, size, flags, out);
}

void accel_bo_unref(struct accel_bo *bo)
{
	struct accel_device *dev = bo->obj.dev;

	if (atomic_fetch_sub(&bo->refs, 1) != 1)
		return;
	dev->ops->bo_release(dev, bo);
	if (!bo->imported)
		uncharge(dev, bo->size);
	accel_obj_bury(&bo->obj);
}

int accel_bo_free(struct accel_bo *bo)
{
	uint32_t expect = ACCEL_MAGIC_BO;

	/* the magic swap makes a racing double free fail in exactly one caller */
	if (!bo || !atomic_compare_exchange_strong(&bo->obj.magic, &expect, ACCEL_MAGIC_DEAD))
		return -EBADF;
	bo->handle_live = false;
	accel_bo_unref(bo);
	return 0;
}

void *accel_bo_map(struct accel_bo *bo)
{
	return accel_obj_check(bo, ACCEL_MAGIC_BO) ? NULL : bo->host;
}

uint64_t accel_bo_size(const struct accel_bo *bo)
{
	return accel_obj_check(bo, ACCEL_MAGIC_BO) ? 0 : bo->size;
}

uint64_t accel_bo_npu_addr(const struct accel_bo *bo)
{
	return accel_obj_check(bo, ACCEL_MAGIC_BO) ? 0 : bo->npu_addr;
}

uint32_t accel_bo_flags(const struct accel_bo *bo)
{
	return accel_obj_check(bo, ACCEL_MAGIC_BO) ? 0 : bo->flags;
}

int accel_bo_export(struct accel_bo *bo, int64_t *token)
{
	int ret = accel_obj_check(bo, ACCEL_MAGIC_BO);

	if (ret)
		return ret;
	if (!token)
		return -EINVAL;
	if (!bo->obj.dev->ops->bo_export)
		return -EOPNOTSUPP;
	return bo->obj.dev->ops->bo_export(bo, token);
}

int accel_bo_import(struct accel_device *dev, int64_t token, struct accel_bo **out)
{
	struct accel_bo *bo;
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!dev->ops->bo_import)
		return -EOPNOTSUPP;
	bo = calloc(1, sizeof(*bo));
	if (!bo)
		return -ENOMEM;
	ret = dev->ops->bo_import(dev, token, bo);
	if (ret) {
		free(bo);
		return ret;
	}
	bo->imported = true;
	atomic_init(&bo->refs, 1);
	bo->handle_live = true;
	accel_obj_init(dev, &bo->obj, ACCEL_MAGIC_BO);
	*out = bo;
	return 0;
}
