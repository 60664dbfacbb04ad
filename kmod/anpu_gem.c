// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko buffer objects: GEM objects in device memory (drm_mm over BAR2,
 * no struct pages), zeroed on creation, mapped into every address space of a
 * file that holds a handle, CPU-mapped write-combined through the BAR, and
 * shared with other ANPU files through PRIME. Foreign importers are refused
 * by our own dma_buf_ops.
 */

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>

#include "anpu_drv.h"

int anpu_devmem_alloc(struct anpu_device *adev, struct drm_mm_node *node,
		      u64 size, u64 align)
{
	int ret;

	guard(mutex)(&adev->mm_lock);
	ret = drm_mm_insert_node_generic(&adev->mm, node, size, align, 0,
					 DRM_MM_INSERT_BEST);
	if (ret)
		return ret == -ENOSPC ? -ENOMEM : ret;
	adev->mm_used += size;
	return 0;
}

void anpu_devmem_free(struct anpu_device *adev, struct drm_mm_node *node)
{
	guard(mutex)(&adev->mm_lock);
	adev->mm_used -= node->size;
	drm_mm_remove_node(node);
}

u64 anpu_devmem_free_bytes(struct anpu_device *adev)
{
	guard(mutex)(&adev->mm_lock);
	return anpu_hw_mem_size(&adev->hw) - adev->mm_used;
}

static void anpu_bo_free(struct drm_gem_object *obj)
{
	struct anpu_bo *bo = to_anpu_bo(obj);
	struct anpu_device *adev = to_anpu(obj->dev);

	anpu_as_unmap_bo(bo);
	if (drm_mm_node_allocated(&bo->node))
		anpu_devmem_free(adev, &bo->node);
	drm_gem_object_release(obj);
	atomic_dec(&adev->count.bos);
	kfree(bo);
}

/* Every file that gets a handle gets a mapping in its address space. */
static int anpu_bo_open(struct drm_gem_object *obj, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;

	return anpu_as_map(af->as, to_anpu_bo(obj));
}

static vm_fault_t anpu_bo_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *obj = vma->vm_private_data;
	struct anpu_bo *bo = to_anpu_bo(obj);
	struct anpu_device *adev = to_anpu(obj->dev);
	unsigned long pfn, first;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	pgoff_t off;
	int idx;

	if (!drm_dev_enter(obj->dev, &idx))
		return VM_FAULT_SIGBUS;
	off = (vmf->address - vma->vm_start) >> PAGE_SHIFT;
	first = (adev->devmem_phys + bo->node.start - ANPU_DEVMEM_BASE) >> PAGE_SHIFT;
	if (off < obj->size >> PAGE_SHIFT) {
		pfn = first + off;
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	}
	drm_dev_exit(idx);
	return ret;
}

static const struct vm_operations_struct anpu_bo_vm_ops = {
	.fault = anpu_bo_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static enum drm_gem_object_status anpu_bo_status(struct drm_gem_object *obj)
{
	return DRM_GEM_OBJECT_RESIDENT;
}

static int anpu_dmabuf_attach(struct dma_buf *dmabuf,
			      struct dma_buf_attachment *attach)
{
	/* device memory has no pages another device could DMA to */
	return -EOPNOTSUPP;
}

static struct sg_table *anpu_dmabuf_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void anpu_dmabuf_unmap(struct dma_buf_attachment *attach,
			      struct sg_table *sgt, enum dma_data_direction dir)
{
}

static const struct dma_buf_ops anpu_dmabuf_ops = {
	.attach = anpu_dmabuf_attach,
	.map_dma_buf = anpu_dmabuf_map,
	.unmap_dma_buf = anpu_dmabuf_unmap,
	.release = drm_gem_dmabuf_release,
	.mmap = drm_gem_dmabuf_mmap,
};

static struct dma_buf *anpu_bo_export(struct drm_gem_object *obj, int flags)
{
	struct dma_buf_export_info exp_info = {
		.exp_name = KBUILD_MODNAME,
		.owner = THIS_MODULE,
		.ops = &anpu_dmabuf_ops,
		.size = obj->size,
		.flags = flags,
		.priv = obj,
		.resv = obj->resv,
	};

	return drm_gem_dmabuf_export(obj->dev, &exp_info);
}

/* Only BOs of this very device come back in; they are the same object. */
struct drm_gem_object *anpu_gem_prime_import(struct drm_device *dev,
					     struct dma_buf *dma_buf)
{
	struct drm_gem_object *obj;

	if (dma_buf->ops != &anpu_dmabuf_ops)
		return ERR_PTR(-EOPNOTSUPP);
	obj = dma_buf->priv;
	if (obj->dev != dev)
		return ERR_PTR(-EOPNOTSUPP);
	drm_gem_object_get(obj);
	return obj;
}

static const struct drm_gem_object_funcs anpu_bo_funcs = {
	.free = anpu_bo_free,
	.open = anpu_bo_open,
	.export = anpu_bo_export,
	.status = anpu_bo_status,
	.vm_ops = &anpu_bo_vm_ops,
};

static u64 anpu_bo_round(u64 size)
{
	if (size >= ANPU_LARGE_PAGE_SIZE)
		return round_up(size, ANPU_LARGE_PAGE_SIZE);
	return round_up(size, ANPU_PAGE_SIZE);
}

static struct anpu_bo *anpu_bo_create(struct anpu_device *adev, u64 size, u32 flags)
{
	struct anpu_bo *bo;
	u64 align;
	int ret;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->base.funcs = &anpu_bo_funcs;
	bo->flags = flags;
	INIT_LIST_HEAD(&bo->mappings);
	drm_gem_private_object_init(&adev->drm, &bo->base, size);
	atomic_inc(&adev->count.bos);

	align = size >= ANPU_LARGE_PAGE_SIZE ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;
	ret = anpu_devmem_alloc(adev, &bo->node, size, align);
	if (ret)
		goto err_put;
	anpu_hw_mem_zero(&adev->hw, bo->node.start, size);
	ret = drm_gem_create_mmap_offset(&bo->base);
	if (ret)
		goto err_put;
	return bo;

err_put:
	drm_gem_object_put(&bo->base);
	return ERR_PTR(ret);
}

int anpu_bo_npu_addr(struct anpu_bo *bo, struct anpu_as *as, u64 *addr)
{
	struct anpu_mapping *map;

	guard(mutex)(&as->adev->vm_lock);
	map = anpu_as_find_locked(as, bo);
	if (!map)
		return -ENOENT;
	*addr = map->va.start;
	return 0;
}

int anpu_ioctl_bo_create(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_bo_create *args = data;
	struct anpu_bo *bo;
	u64 size;
	u32 handle;
	int ret, idx;

	if (args->flags & ~DRM_ANPU_BO_FLAGS_ALL || args->pad || args->reserved)
		return -EINVAL;
	if (!args->size || args->size > anpu_hw_mem_size(&adev->hw))
		return -EINVAL;
	size = anpu_bo_round(args->size);
	if (size > anpu_hw_mem_size(&adev->hw))
		return -EINVAL;

	if (!drm_dev_enter(dev, &idx))
		return -ENODEV;
	bo = anpu_bo_create(adev, size, args->flags);
	drm_dev_exit(idx);
	if (IS_ERR(bo))
		return PTR_ERR(bo);
	/* maps it into the file's address space (anpu_bo_open) */
	ret = drm_gem_handle_create(file, &bo->base, &handle);
	drm_gem_object_put(&bo->base);
	if (ret)
		return ret;
	ret = anpu_bo_npu_addr(bo, af->as, &args->npu_addr);
	if (ret) {
		drm_gem_handle_delete(file, handle);
		return ret;
	}
	args->handle = handle;
	args->size = size;
	return 0;
}

int anpu_ioctl_bo_info(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_bo_info *args = data;
	struct drm_gem_object *obj;
	struct anpu_bo *bo;
	int ret;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_anpu_bo(obj);
	ret = anpu_bo_npu_addr(bo, af->as, &args->npu_addr);
	if (!ret) {
		args->flags = bo->flags;
		args->size = obj->size;
		args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
	}
	drm_gem_object_put(obj);
	return ret;
}

void anpu_debugfs_bos(struct anpu_device *adev, struct seq_file *m)
{
	struct drm_printer p = drm_seq_file_printer(m);

	scoped_guard(mutex, &adev->mm_lock) {
		seq_printf(m, "device memory: %llu used of %llu bytes\n",
			   adev->mm_used, anpu_hw_mem_size(&adev->hw));
		drm_mm_print(&adev->mm, &p);
	}
}
