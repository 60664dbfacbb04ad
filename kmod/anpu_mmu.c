// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko NPU address spaces: one per open file, with three-level page tables
 * in device memory built with the hw/ encoders. BOs are mapped at
 * kernel-chosen NPU addresses (a guard gap after each; 2 MiB pages where the
 * BO allows), read-only for DRM_ANPU_BO_NPU_READONLY BOs. An address space
 * lives until its file is closed and its last job has ended.
 *
 * The hardware has 254 address-space ids for the driver, for every file of
 * every user: an address space gets one only when its file submits
 * (anpu_as_pin()), and an id is taken back from the least recently submitting
 * address space whose jobs have all ended, as GPU drivers recycle VMIDs. The
 * device caches nothing per id between jobs (it reads AS_ROOT when a job
 * starts and keeps translations for that job only, docs/hardware.md 7.1), so
 * rebinding an id is writing its AS_ROOT once no job that names it can start.
 */

#include <linux/delay.h>
#include <linux/error-injection.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>

#include "anpu_drv.h"

#define ANPU_VA_END	BIT_ULL(ANPU_VA_BITS)

/**
 * struct anpu_pt - one 4 KiB page table in device memory
 * @node: its device memory.
 * @child: next-level tables (levels 0 and 1 only), by index.
 * @reclaim: a level-2 table dropped while its address space lives is
 *	released when the jobs submitted until then have ended.
 * @wait: the fence @reclaim waits for.
 */
struct anpu_pt {
	struct drm_mm_node node;
	struct anpu_pt **child;
	struct anpu_reclaim reclaim;
	struct anpu_fence_wait wait;
};

static void anpu_pt_free(struct anpu_device *adev, struct anpu_pt *pt, int level)
{
	if (!pt)
		return;
	if (pt->child) {
		for (unsigned int i = 0; i < ANPU_PT_ENTRIES; i++)
			anpu_pt_free(adev, pt->child[i], level + 1);
		kfree(pt->child);
	}
	if (drm_mm_node_allocated(&pt->node))
		anpu_devmem_free(adev, &pt->node);
	kfree(pt);
}

/* A fault point of its own (fail_function), as anpu_devmem_alloc(). */
noinline int anpu_pt_alloc(struct anpu_device *adev, int level, struct anpu_pt **out)
{
	struct anpu_pt *pt;
	int ret = -ENOMEM, idx;

	pt = kzalloc(sizeof(*pt), GFP_KERNEL_ACCOUNT);
	if (!pt)
		return -ENOMEM;
	if (level < ANPU_PT_LEVELS - 1) {
		pt->child = kcalloc(ANPU_PT_ENTRIES, sizeof(*pt->child), GFP_KERNEL_ACCOUNT);
		if (!pt->child)
			goto err;
	}
	ret = anpu_devmem_alloc(adev, &pt->node, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE);
	if (ret)
		goto err;
	if (!drm_dev_enter(&adev->drm, &idx)) {
		ret = -ENODEV;
		goto err;
	}
	anpu_hw_mem_zero(&adev->hw, pt->node.start, ANPU_PAGE_SIZE);
	drm_dev_exit(idx);
	*out = pt;
	return 0;
err:
	anpu_pt_free(adev, pt, level);
	return ret;
}
ALLOW_ERROR_INJECTION(anpu_pt_alloc, ERRNO);

static void anpu_pt_release(struct anpu_reclaim *r)
{
	anpu_pt_free(r->adev, container_of(r, struct anpu_pt, reclaim), ANPU_PT_LEVELS - 1);
}

/*
 * A level-2 table no entry points to any more: a job of @as being validated
 * may still be reading it, so its memory waits for the jobs submitted so far.
 */
static void anpu_pt_retire_locked(struct anpu_as *as, struct anpu_pt *pt)
{
	lockdep_assert_held(&as->adev->vm_lock);
	anpu_reclaim_init(as->adev, &pt->reclaim, anpu_pt_release);
	pt->wait.fence = anpu_file_last_job_fence(as->file);
	list_add_tail(&pt->wait.link, &pt->reclaim.waits);
	anpu_reclaim_start(&pt->reclaim);
}

/* device memory is gone after an unplug: page-table writes are skipped then */
static void anpu_pte_write(struct anpu_device *adev, struct anpu_pt *pt,
			   unsigned int idx, u64 pte)
{
	int dev_idx;

	if (!drm_dev_enter(&adev->drm, &dev_idx))
		return;
	anpu_hw_mem_write64(&adev->hw, pt->node.start + 8ull * idx, pte);
	drm_dev_exit(dev_idx);
}

static void anpu_as_set_root(struct anpu_as *as, u64 dpa)
{
	int idx;

	if (!drm_dev_enter(&as->adev->drm, &idx))
		return;
	anpu_hw_set_as_root(&as->adev->hw, as->asid, dpa);
	drm_dev_exit(idx);
}

/* the table at @level for @va, created on the way when @create */
static struct anpu_pt *anpu_pt_walk_locked(struct anpu_as *as, u64 va, int level,
					   bool create)
{
	struct anpu_device *adev = as->adev;
	struct anpu_pt *pt = as->root;

	lockdep_assert_held(&adev->vm_lock);
	for (int l = 0; l < level; l++) {
		unsigned int idx = anpu_va_index(va, l);
		struct anpu_pt *next = pt->child[idx];

		if (!next) {
			int ret;

			if (!create)
				return NULL;
			ret = anpu_pt_alloc(adev, l + 1, &next);
			if (ret)
				return ERR_PTR(ret);
			pt->child[idx] = next;
			anpu_pte_write(adev, pt, idx, anpu_pte_table(next->node.start));
		}
		pt = next;
	}
	return pt;
}

static bool anpu_map_large(struct anpu_bo *bo, u64 va)
{
	return IS_ALIGNED(bo->base.size, ANPU_LARGE_PAGE_SIZE) &&
	       IS_ALIGNED(bo->node.start, ANPU_LARGE_PAGE_SIZE) &&
	       IS_ALIGNED(va, ANPU_LARGE_PAGE_SIZE);
}

/* clear (pte = false) or write the PTEs of a mapping */
static int anpu_map_ptes_locked(struct anpu_as *as, struct anpu_mapping *map, bool set)
{
	struct anpu_device *adev = as->adev;
	struct anpu_bo *bo = map->bo;
	bool writable = !(bo->flags & DRM_ANPU_BO_NPU_READONLY);
	u64 size = bo->base.size, va = map->va.start, off;

	lockdep_assert_held(&adev->vm_lock);
	if (anpu_map_large(bo, va)) {
		for (off = 0; off < size; off += ANPU_LARGE_PAGE_SIZE) {
			struct anpu_pt *l1 = anpu_pt_walk_locked(as, va + off, 1, set);
			unsigned int idx = anpu_va_index(va + off, 1);

			if (IS_ERR(l1))
				return PTR_ERR(l1);
			if (!l1)
				continue;
			anpu_pte_write(adev, l1, idx,
				       set ? anpu_pte_large(bo->node.start + off, writable) : 0);
			/*
			 * a table left by earlier 4 KiB mappings has no live entry
			 * here; retired after the entry stopped pointing to it
			 */
			if (l1->child[idx]) {
				anpu_pt_retire_locked(as, l1->child[idx]);
				l1->child[idx] = NULL;
			}
		}
		return 0;
	}
	for (off = 0; off < size; off += ANPU_PAGE_SIZE) {
		struct anpu_pt *l2 = anpu_pt_walk_locked(as, va + off, 2, set);

		if (IS_ERR(l2))
			return PTR_ERR(l2);
		if (!l2)
			continue;
		anpu_pte_write(adev, l2, anpu_va_index(va + off, 2),
			       set ? anpu_pte_page(bo->node.start + off, writable) : 0);
	}
	return 0;
}

struct anpu_mapping *anpu_as_find_locked(struct anpu_as *as, struct anpu_bo *bo)
{
	struct anpu_mapping *map;

	lockdep_assert_held(&as->adev->vm_lock);
	list_for_each_entry(map, &bo->mappings, bo_link)
		if (map->as == as)
			return map;
	return NULL;
}

/* Clear its PTEs, free its NPU addresses, take it off both lists. */
static void anpu_mapping_unlink_locked(struct anpu_mapping *map)
{
	lockdep_assert_held(&map->as->adev->vm_lock);
	anpu_map_ptes_locked(map->as, map, false);
	drm_mm_remove_node(&map->va);
	list_del(&map->bo_link);
	list_del(&map->as_link);
}

static void anpu_mapping_remove_locked(struct anpu_mapping *map)
{
	anpu_mapping_unlink_locked(map);
	kfree(map);
}

/**
 * anpu_as_map() - map a BO into an address space (once)
 * @as: the address space
 * @bo: the BO
 *
 * Return: 0 (also when it is mapped already), -ENOMEM.
 */
int anpu_as_map(struct anpu_as *as, struct anpu_bo *bo)
{
	struct anpu_device *adev = as->adev;
	struct anpu_mapping *map;
	u64 size = bo->base.size;
	u64 align = size >= ANPU_LARGE_PAGE_SIZE ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;
	int ret;

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;

	guard(mutex)(&adev->vm_lock);
	if (anpu_as_find_locked(as, bo)) {
		kfree(map);
		return 0;
	}
	map->bo = bo;
	map->as = as;
	ret = drm_mm_insert_node_in_range(&as->va, &map->va, size + ANPU_VA_GUARD,
					  align, 0, ANPU_VA_START, ANPU_VA_END,
					  DRM_MM_INSERT_BEST);
	if (ret) {
		kfree(map);
		return ret == -ENOSPC ? -ENOMEM : ret;
	}
	list_add(&map->bo_link, &bo->mappings);
	list_add(&map->as_link, &as->mappings);
	ret = anpu_map_ptes_locked(as, map, true);
	if (ret)
		anpu_mapping_remove_locked(map);
	return ret;
}

/*
 * The BO goes: remove it from every address space. Its memory waits for the
 * last job fence of each (taken after its PTEs were cleared: a job pushed
 * later cannot translate it) on its reclaim list, each mapping holding one.
 */
void anpu_as_unmap_bo(struct anpu_bo *bo)
{
	struct anpu_device *adev = to_anpu(bo->base.dev);
	struct anpu_mapping *map, *tmp;

	guard(mutex)(&adev->vm_lock);
	list_for_each_entry_safe(map, tmp, &bo->mappings, bo_link) {
		anpu_mapping_unlink_locked(map);
		map->wait.fence = anpu_file_last_job_fence(map->as->file);
		list_add_tail(&map->wait.link, &bo->reclaim.waits);
	}
}

/* ---- hardware address-space ids ---- */

/* A fault point of its own (fail_function): the id allocator. */
noinline int anpu_asid_alloc(struct anpu_device *adev)
{
	return ida_alloc_range(&adev->asids, 1, ANPU_HW_SELFTEST_ASID - 1, GFP_KERNEL);
}
ALLOW_ERROR_INJECTION(anpu_asid_alloc, ERRNO);

static bool anpu_as_idle_locked(struct anpu_as *as, struct dma_fence **busy)
{
	struct dma_fence *fence;

	lockdep_assert_held(&as->adev->asid_lock);
	if (as->asid_pins)
		return false;
	fence = anpu_file_last_job_fence(as->file);
	if (!fence || dma_fence_is_signaled(fence)) {
		dma_fence_put(fence);
		return true;
	}
	if (!*busy)
		*busy = fence;	/* the least recently submitting busy one */
	else
		dma_fence_put(fence);
	return false;
}

/*
 * Bind an id to @as and pin it; -EAGAIN when every id is held by a busy
 * address space (*@busy: a fence to wait for, if one is not pinned).
 */
static int anpu_as_bind_locked(struct anpu_as *as, struct dma_fence **busy)
{
	struct anpu_device *adev = as->adev;
	struct anpu_as *victim;
	int id;

	lockdep_assert_held(&adev->asid_lock);
	if (as->asid) {
		as->asid_pins++;
		list_move_tail(&as->lru, &adev->asid_lru);
		return 0;
	}
	id = anpu_asid_alloc(adev);
	if (id == -ENOSPC) {
		list_for_each_entry(victim, &adev->asid_lru, lru) {
			if (anpu_as_idle_locked(victim, busy)) {
				id = victim->asid;
				victim->asid = 0;
				list_del_init(&victim->lru);
				break;
			}
		}
		if (id < 0)
			return -EAGAIN;
	}
	if (id < 0)
		return id;
	as->asid = id;
	as->asid_pins++;
	list_add_tail(&as->lru, &adev->asid_lru);
	anpu_as_set_root(as, as->root->node.start);
	return 0;
}

int anpu_as_pin(struct anpu_as *as)
{
	struct anpu_device *adev = as->adev;

	for (;;) {
		struct dma_fence *busy = NULL;
		int ret;

		scoped_guard(mutex, &adev->asid_lock)
			ret = anpu_as_bind_locked(as, &busy);
		if (ret != -EAGAIN) {
			dma_fence_put(busy);
			return ret;
		}
		if (busy) {
			ret = dma_fence_wait(busy, true);
			dma_fence_put(busy);
			if (ret)
				return ret;
		} else {
			/* all pinned: 254 submits in flight right now */
			if (signal_pending(current))
				return -ERESTARTSYS;
			usleep_range(100, 1000);
		}
	}
}

void anpu_as_unpin(struct anpu_as *as)
{
	guard(mutex)(&as->adev->asid_lock);
	as->asid_pins--;
}

static void anpu_as_unbind(struct anpu_as *as)
{
	struct anpu_device *adev = as->adev;

	guard(mutex)(&adev->asid_lock);
	if (!as->asid)
		return;
	anpu_as_set_root(as, 0);
	ida_free(&adev->asids, as->asid);
	as->asid = 0;
	list_del_init(&as->lru);
}

/* ---- address spaces ---- */

struct anpu_as *anpu_as_create(struct anpu_device *adev, struct anpu_file *af)
{
	struct anpu_as *as;
	int ret;

	as = kzalloc(sizeof(*as), GFP_KERNEL_ACCOUNT);
	if (!as)
		return ERR_PTR(-ENOMEM);
	as->adev = adev;
	as->file = af;
	kref_init(&as->ref);
	INIT_LIST_HEAD(&as->mappings);
	INIT_LIST_HEAD(&as->lru);
	drm_mm_init(&as->va, ANPU_VA_START, ANPU_VA_END - ANPU_VA_START);
	ret = anpu_pt_alloc(adev, 0, &as->root);
	if (ret) {
		drm_mm_takedown(&as->va);
		kfree(as);
		return ERR_PTR(ret);
	}
	atomic_inc(&adev->count.address_spaces);
	return as;
}

/*
 * No job of this address space exists any more (each holds the file, which
 * holds the address space): its tables are freed at once.
 */
static void anpu_as_release(struct kref *ref)
{
	struct anpu_as *as = container_of(ref, struct anpu_as, ref);
	struct anpu_device *adev = as->adev;
	struct anpu_mapping *map, *tmp;

	anpu_as_unbind(as);
	scoped_guard(mutex, &adev->vm_lock) {
		list_for_each_entry_safe(map, tmp, &as->mappings, as_link)
			anpu_mapping_remove_locked(map);
		anpu_pt_free(adev, as->root, 0);
	}
	drm_mm_takedown(&as->va);
	atomic_dec(&adev->count.address_spaces);
	kfree(as);
}

void anpu_as_put(struct anpu_as *as)
{
	kref_put(&as->ref, anpu_as_release);
}
