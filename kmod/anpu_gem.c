// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko buffer objects: GEM objects in device memory (drm_mm over BAR2,
 * no struct pages), zeroed on creation, mapped into every address space of a
 * file that holds a handle, CPU-mapped write-combined through the BAR, and
 * shared with other ANPU files through PRIME. Foreign importers are refused
 * by our own dma_buf_ops; the dma-buf itself can be mmapped.
 *
 * Device memory of a freed BO (and a page table dropped from an address
 * space) is not reused at once: a job keeps the translations it made at
 * validation and only holds the BOs it listed, so the memory waits until
 * every job of every address space that mapped it, submitted before the free,
 * has ended (struct anpu_reclaim). Fence callbacks only queue a work item.
 */

#include <linux/dma-buf.h>
#include <linux/dma-fence-chain.h>
#include <linux/error-injection.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>
#include <drm/drm_vma_manager.h>

#include "anpu_drv.h"

/*
 * Deferred releases are advanced here, not on a workqueue of the device: the
 * last one may drop the last reference to the device (and so run its
 * release), and module unload drains this one.
 */
static struct workqueue_struct *anpu_reclaim_wq;

/* A fault point of its own (fail_function): failslab does not reach drm_mm. */
noinline int anpu_devmem_alloc(struct anpu_device *adev, struct drm_mm_node *node,
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
ALLOW_ERROR_INJECTION(anpu_devmem_alloc, ERRNO);

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

/* ---- deferred release ---- */

static void anpu_reclaim_advance(struct anpu_reclaim *r);

/* The fence-signalling path (any context): no lock, no allocation. */
static void anpu_reclaim_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct anpu_reclaim *r = container_of(cb, struct anpu_reclaim, cb);
	struct anpu_device *adev = r->adev;

	if (llist_add(&r->ready, &adev->reclaim_ready))
		queue_work(anpu_reclaim_wq, &adev->reclaim_work);
}

void anpu_reclaim_work(struct work_struct *work)
{
	struct anpu_device *adev = container_of(work, struct anpu_device, reclaim_work);
	struct llist_node *ready = llist_del_all(&adev->reclaim_ready);
	struct anpu_reclaim *r, *tmp;

	/* each holds a device reference: @adev is not touched after the last */
	llist_for_each_entry_safe(r, tmp, ready, ready)
		anpu_reclaim_advance(r);
}

/*
 * The first fence in @fence (a job fence chain, or one fence) that has not
 * signalled, referenced; NULL when all have. Callbacks go on these, not on
 * the chain: a chain signals from an irq_work, after its last job may have
 * been freed (and with it the last device reference but ours).
 */
static struct dma_fence *anpu_fence_first_pending(struct dma_fence *fence)
{
	struct dma_fence *iter;

	dma_fence_chain_for_each(iter, fence) {
		struct dma_fence *f = dma_fence_chain_contained(iter);

		if (!dma_fence_is_signaled(f)) {
			dma_fence_get(f);
			dma_fence_put(iter);
			return f;
		}
	}
	return NULL;
}

/* Wait for the next fence that has not signalled, or release. */
static void anpu_reclaim_advance(struct anpu_reclaim *r)
{
	struct anpu_device *adev = r->adev;
	struct anpu_fence_wait *w;

	dma_fence_put(r->fence);	/* the one that woke us, if any */
	r->fence = NULL;
	list_for_each_entry(w, &r->waits, link) {
		while (w->fence) {
			struct dma_fence *f = anpu_fence_first_pending(w->fence);

			if (!f) {
				dma_fence_put(w->fence);
				w->fence = NULL;
				break;
			}
			/* set first: the callback's work may run before we return */
			r->fence = f;
			if (!dma_fence_add_callback(f, &r->cb, anpu_reclaim_cb))
				return;
			r->fence = NULL;
			dma_fence_put(f);
		}
	}
	r->release(r);
	atomic_dec(&adev->reclaim_pending);
	atomic_inc(&adev->reclaim_done);
	wake_up_all(&adev->reclaim_wq);
	drm_dev_put(&adev->drm);
}

void anpu_reclaim_init(struct anpu_device *adev, struct anpu_reclaim *r,
		       void (*release)(struct anpu_reclaim *r))
{
	r->adev = adev;
	r->release = release;
	r->fence = NULL;
	INIT_LIST_HEAD(&r->waits);
}

/*
 * Release @r once every fence on its waits list has signalled: at once when
 * they all have (or there are none), else from a work item.
 */
void anpu_reclaim_start(struct anpu_reclaim *r)
{
	struct anpu_device *adev = r->adev;

	drm_dev_get(&adev->drm);
	atomic_inc(&adev->reclaim_pending);
	anpu_reclaim_advance(r);
}

/*
 * Wait until a deferred release is done; false when none is pending (nothing
 * to wait for) or on a signal (then *@ret is set).
 */
static bool anpu_reclaim_wait(struct anpu_device *adev, int *ret)
{
	int done = atomic_read(&adev->reclaim_done);

	if (!atomic_read(&adev->reclaim_pending))
		return false;
	*ret = wait_event_interruptible(adev->reclaim_wq,
					atomic_read(&adev->reclaim_done) != done);
	return !*ret;
}

int anpu_reclaim_wq_init(void)
{
	anpu_reclaim_wq = alloc_workqueue("anpu-reclaim", WQ_UNBOUND, 0);
	return anpu_reclaim_wq ? 0 : -ENOMEM;
}

void anpu_reclaim_wq_fini(void)
{
	destroy_workqueue(anpu_reclaim_wq);
}

/* ---- buffer objects ---- */

static void anpu_bo_release(struct anpu_reclaim *r)
{
	struct anpu_bo *bo = container_of(r, struct anpu_bo, reclaim);
	struct anpu_device *adev = r->adev;
	struct anpu_mapping *map, *tmp;

	list_for_each_entry_safe(map, tmp, &r->waits, wait.link)
		kfree(map);
	if (drm_mm_node_allocated(&bo->node))
		anpu_devmem_free(adev, &bo->node);
	atomic_dec(&adev->count.bos);
	kfree(bo);
}

/*
 * The last reference is gone: unmap it everywhere now, release its memory
 * when the jobs of those address spaces submitted until now have ended.
 */
static void anpu_bo_free(struct drm_gem_object *obj)
{
	struct anpu_bo *bo = to_anpu_bo(obj);

	anpu_as_unmap_bo(bo);
	drm_gem_object_release(obj);
	anpu_reclaim_start(&bo->reclaim);
}

/*
 * Every file that gets a handle gets a mapping in its address space, and is
 * charged the BO's size against its device-memory limit.
 */
static int anpu_bo_open(struct drm_gem_object *obj, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;
	u64 limit = anpu_file_max_devmem(af->adev);
	int ret;

	if (atomic64_add_return(obj->size, &af->devmem_bytes) > limit) {
		atomic64_sub(obj->size, &af->devmem_bytes);
		return -EDQUOT;
	}
	ret = anpu_as_map(af->as, to_anpu_bo(obj));
	if (ret)
		atomic64_sub(obj->size, &af->devmem_bytes);
	return ret;
}

static void anpu_bo_close(struct drm_gem_object *obj, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;

	atomic64_sub(obj->size, &af->devmem_bytes);
}

/* Page @off of the BO behind @vmf's mapping (from vm_pgoff: partial munmaps). */
static vm_fault_t anpu_bo_fault_at(struct vm_fault *vmf, pgoff_t off)
{
	struct drm_gem_object *obj = vmf->vma->vm_private_data;
	struct anpu_bo *bo = to_anpu_bo(obj);
	struct anpu_device *adev = to_anpu(obj->dev);
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long first;
	int idx;

	if (!drm_dev_enter(obj->dev, &idx))
		return VM_FAULT_SIGBUS;
	first = (adev->devmem_phys + bo->node.start - ANPU_DEVMEM_BASE) >> PAGE_SHIFT;
	if (off < obj->size >> PAGE_SHIFT)
		ret = vmf_insert_pfn(vmf->vma, vmf->address, first + off);
	drm_dev_exit(idx);
	return ret;
}

/* A GEM mapping: vm_pgoff is the fake mmap offset plus the page in the BO. */
static vm_fault_t anpu_bo_fault(struct vm_fault *vmf)
{
	struct drm_gem_object *obj = vmf->vma->vm_private_data;

	return anpu_bo_fault_at(vmf, vmf->pgoff - drm_vma_node_start(&obj->vma_node));
}

static const struct vm_operations_struct anpu_bo_vm_ops = {
	.fault = anpu_bo_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

/* A dma-buf mapping: vm_pgoff is the page in the BO. */
static vm_fault_t anpu_dmabuf_fault(struct vm_fault *vmf)
{
	return anpu_bo_fault_at(vmf, vmf->pgoff);
}

static const struct vm_operations_struct anpu_dmabuf_vm_ops = {
	.fault = anpu_dmabuf_fault,
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

/*
 * The flags and protection of a CPU mapping of a BO (GEM or dma-buf mmap):
 * write-combined PFNs of device memory, faulted in. A private mapping is
 * refused (-EINVAL), as TTM and the shmem helpers do: a copy-on-write mapping
 * of PFNs without struct pages trips a BUG in vmf_insert_pfn_prot().
 */
static int anpu_bo_mmap_flags(struct vm_area_struct *vma)
{
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
	vma->vm_page_prot = pgprot_decrypted(vma->vm_page_prot);
	return 0;
}

/* GEM mmap: drm_gem_mmap_obj() has set vm_ops and the BO reference. */
static int anpu_bo_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	return anpu_bo_mmap_flags(vma);
}

/*
 * mmap of the dma-buf fd: mapped as the GEM mapping is (write-combined PFN
 * map, faulted in), with vm_pgoff relative to the BO. drm_gem_dmabuf_mmap
 * would go through the DRM primary node, which an accel device does not have.
 * dma_buf_mmap_internal() has checked vm_pgoff and the size against the BO.
 */
static int anpu_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct drm_gem_object *obj = dmabuf->priv;
	int ret;

	ret = anpu_bo_mmap_flags(vma);
	if (ret)
		return ret;
	drm_gem_object_get(obj);	/* dropped by drm_gem_vm_close() */
	vma->vm_private_data = obj;
	vma->vm_ops = &anpu_dmabuf_vm_ops;
	return 0;
}

static const struct dma_buf_ops anpu_dmabuf_ops = {
	.attach = anpu_dmabuf_attach,
	.map_dma_buf = anpu_dmabuf_map,
	.unmap_dma_buf = anpu_dmabuf_unmap,
	.release = drm_gem_dmabuf_release,
	.mmap = anpu_dmabuf_mmap,
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
	.close = anpu_bo_close,
	.export = anpu_bo_export,
	.status = anpu_bo_status,
	.mmap = anpu_bo_mmap,
	.vm_ops = &anpu_bo_vm_ops,
};

static u64 anpu_bo_round(u64 size)
{
	if (size >= ANPU_LARGE_PAGE_SIZE)
		return round_up(size, ANPU_LARGE_PAGE_SIZE);
	return round_up(size, ANPU_PAGE_SIZE);
}

/* Zero device memory a chunk at a time: up to gigabytes through the BAR. */
static int anpu_devmem_zero(struct anpu_device *adev, u64 dpa, u64 size)
{
	for (u64 off = 0; off < size; off += ANPU_ZERO_CHUNK) {
		if (fatal_signal_pending(current))
			return -EINTR;
		anpu_hw_mem_zero(&adev->hw, dpa + off, min_t(u64, size - off, ANPU_ZERO_CHUNK));
		cond_resched();
	}
	return 0;
}

static struct anpu_bo *anpu_bo_create(struct anpu_device *adev, u64 size, u32 flags)
{
	struct anpu_bo *bo;
	u64 align;
	int ret;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL_ACCOUNT);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->base.funcs = &anpu_bo_funcs;
	bo->flags = flags;
	INIT_LIST_HEAD(&bo->mappings);
	anpu_reclaim_init(adev, &bo->reclaim, anpu_bo_release);
	drm_gem_private_object_init(&adev->drm, &bo->base, size);
	atomic_inc(&adev->count.bos);

	align = size >= ANPU_LARGE_PAGE_SIZE ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;
	ret = anpu_devmem_alloc(adev, &bo->node, size, align);
	if (!ret)
		ret = anpu_devmem_zero(adev, bo->node.start, size);
	if (!ret)
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

/*
 * The BO is mapped and its NPU address read while only this ioctl holds it;
 * the handle is created last: once it exists another thread may close it.
 */
int anpu_ioctl_bo_create(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct anpu_file *af = file->driver_priv;
	struct drm_anpu_bo_create *args = data;
	struct anpu_bo *bo;
	u64 size, npu_addr;
	u32 handle;
	int ret = 0, idx;

	if (args->flags & ~DRM_ANPU_BO_FLAGS_ALL || args->pad || args->reserved)
		return -EINVAL;
	if (!args->size || args->size > anpu_hw_mem_size(&adev->hw))
		return -EINVAL;
	size = anpu_bo_round(args->size);
	if (size > anpu_hw_mem_size(&adev->hw))
		return -EINVAL;
	/* early, before zeroing it; anpu_bo_open() charges it */
	if (atomic64_read(&af->devmem_bytes) + size > anpu_file_max_devmem(adev))
		return -EDQUOT;

	/*
	 * Memory freed by others may still wait for their jobs: wait for it,
	 * outside drm_dev_enter() (an unplug waits for those sections).
	 */
	do {
		if (!drm_dev_enter(dev, &idx))
			return -ENODEV;
		bo = anpu_bo_create(adev, size, args->flags);
		drm_dev_exit(idx);
	} while (bo == ERR_PTR(-ENOMEM) && anpu_reclaim_wait(adev, &ret));
	if (IS_ERR(bo))
		return ret ?: PTR_ERR(bo);
	ret = anpu_as_map(af->as, bo);
	if (!ret)
		ret = anpu_bo_npu_addr(bo, af->as, &npu_addr);
	/* anpu_bo_open() finds the mapping made above and charges the file */
	if (!ret)
		ret = drm_gem_handle_create(file, &bo->base, &handle);
	drm_gem_object_put(&bo->base);
	if (ret)
		return ret;
	args->handle = handle;
	args->npu_addr = npu_addr;
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
