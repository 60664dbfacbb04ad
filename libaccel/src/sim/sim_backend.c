// SPDX-License-Identifier: MIT
/*
 * The in-process backend's operations table: device handles (address
 * spaces), buffer objects and their export/import, plus the scheduling
 * entry points of sim_sched.c.
 */
#include "sim_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sim_open(struct accel_device *dev, const char *path,
		    const struct accel_device_params *params)
{
	struct asim_file *f = calloc(1, sizeof(*f));
	struct accel_device_info *info = &dev->info;
	struct asim_hw *hw;
	int ret;

	(void)path;
	if (!f)
		return -ENOMEM;
	ret = asim_hw_get(params, &hw);
	if (ret) {
		free(f);
		return ret;
	}
	f->hw = hw;
	pthread_mutex_lock(&hw->mem_lock);
	ret = -EMFILE;
	for (unsigned int asid = 1; asid < ANPU_HW_NUM_AS; asid++) {
		if (!hw->asid_used[asid]) {
			hw->asid_used[asid] = true;
			f->asid = asid;
			ret = 0;
			break;
		}
	}
	if (!ret) {
		ret = asim_file_vm_init(f);
		if (ret)
			hw->asid_used[f->asid] = false;
	}
	pthread_mutex_unlock(&hw->mem_lock);
	if (ret) {
		asim_hw_put(hw);
		free(f);
		return ret;
	}
	asim_wr64(hw, ANPU_REG_AS_ROOT(f->asid), f->root);
	dev->priv = f;

	memset(info, 0, sizeof(*info));
	info->backend = ACCEL_BACKEND_SIM;
	snprintf(info->name, sizeof(info->name), "sim");
	snprintf(info->path, sizeof(info->path), "sim");
	info->hw_version = hw->hw_version;
	info->isa_version = hw->isa_version;
	info->caps = hw->caps & ANPU_CAP_USER_MASK;
	info->num_queues = ANPU_HW_NUM_QUEUES;
	info->mem_total = asim_rd64(hw, ANPU_REG_DEVMEM_SIZE);
	info->max_jobs_in_flight = hw->max_jobs;
	info->max_deps = ACCEL_MAX_DEPS;
	info->clock_offset_ns = hw->clock_offset_ns;
	info->clock_uncertainty_ns = hw->clock_uncertainty_ns;
	info->model_threads = anpusim_threads(hw->sim);
	snprintf(info->simd, sizeof(info->simd), "%s", anpusim_simd_path());
	return 0;
}

static void sim_close(struct accel_device *dev)
{
	struct asim_file *f = dev->priv;
	struct asim_hw *hw = f->hw;

	asim_wr64(hw, ANPU_REG_AS_ROOT(f->asid), 0);
	pthread_mutex_lock(&hw->mem_lock);
	asim_file_vm_fini(f);
	hw->asid_used[f->asid] = false;
	pthread_mutex_unlock(&hw->mem_lock);
	free(f);
	asim_hw_put(hw);
}

static void mem_put_locked(struct asim_hw *hw, struct asim_mem *mem)
{
	if (--mem->refs)
		return;
	if (mem->export_id) {
		struct asim_mem **link = &hw->exports;

		while (*link != mem)
			link = &(*link)->next_export;
		*link = mem->next_export;
	}
	asim_mem_free_locked(hw, mem->dpa, mem->bytes);
	free(mem);
}

static int map_into(struct asim_file *f, struct asim_mem *mem, struct accel_bo *bo)
{
	struct asim_mapping *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	ret = asim_vm_map_locked(f, mem, !(mem->flags & ACCEL_BO_NPU_READ_ONLY), &m->va,
				 &m->va_bytes);
	if (ret) {
		free(m);
		return ret;
	}
	m->mem = mem;
	mem->refs++;
	bo->priv = m;
	bo->npu_addr = m->va;
	bo->host = f->hw->bar + mem->dpa;
	return 0;
}

static int sim_bo_alloc(struct accel_device *dev, struct accel_bo *bo)
{
	struct asim_file *f = dev->priv;
	struct asim_hw *hw = f->hw;
	struct asim_mem *mem = calloc(1, sizeof(*mem));
	bool large = (hw->caps & ANPU_CAP_LARGE_PAGES) && bo->size >= ANPU_LARGE_PAGE_SIZE;
	uint64_t page = large ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;
	int ret;

	if (!mem)
		return -ENOMEM;
	if (bo->size > hw->bar_size) {
		free(mem);
		return -ENOMEM;
	}
	mem->bytes = (bo->size + page - 1) & ~(page - 1);
	mem->large = large;
	mem->flags = bo->flags;
	mem->size = bo->size;
	pthread_mutex_lock(&hw->mem_lock);
	ret = asim_mem_alloc_locked(hw, mem->bytes, page, &mem->dpa);
	if (ret && large) {
		/* fragmented: fall back to 4 KiB pages */
		mem->large = false;
		mem->bytes = (bo->size + ANPU_PAGE_SIZE - 1) & ~(ANPU_PAGE_SIZE - 1);
		ret = asim_mem_alloc_locked(hw, mem->bytes, ANPU_PAGE_SIZE, &mem->dpa);
	}
	if (!ret) {
		ret = map_into(f, mem, bo);
		if (ret)
			asim_mem_free_locked(hw, mem->dpa, mem->bytes);
	}
	pthread_mutex_unlock(&hw->mem_lock);
	if (ret) {
		free(mem);
		return ret;
	}
	if (!(bo->flags & ACCEL_BO_NO_CLEAR))
		memset(bo->host, 0, mem->bytes);
	return 0;
}

static void sim_bo_release(struct accel_device *dev, struct accel_bo *bo)
{
	struct asim_file *f = dev->priv;
	struct asim_mapping *m = bo->priv;

	if (!m)
		return;
	pthread_mutex_lock(&f->hw->mem_lock);
	asim_vm_unmap_locked(f, m->va, m->va_bytes, m->mem);
	mem_put_locked(f->hw, m->mem);
	pthread_mutex_unlock(&f->hw->mem_lock);
	free(m);
	bo->priv = NULL;
}

/* Token: NPU id << 32 | export id. */
static int sim_bo_export(struct accel_bo *bo, int64_t *token)
{
	struct asim_file *f = bo->obj.dev->priv;
	struct asim_hw *hw = f->hw;
	struct asim_mem *mem = ((struct asim_mapping *)bo->priv)->mem;

	pthread_mutex_lock(&hw->mem_lock);
	if (!mem->export_id) {
		mem->export_id = ++hw->next_export ? hw->next_export : ++hw->next_export;
		mem->next_export = hw->exports;
		hw->exports = mem;
	}
	*token = (int64_t)((uint64_t)hw->id << 32 | mem->export_id);
	pthread_mutex_unlock(&hw->mem_lock);
	return 0;
}

static int sim_bo_import(struct accel_device *dev, int64_t token, struct accel_bo *bo)
{
	struct asim_file *f = dev->priv;
	struct asim_hw *hw = f->hw;
	struct asim_mem *mem;
	int ret = -ENOENT;

	if (token <= 0)
		return -EINVAL;
	if ((uint64_t)token >> 32 != hw->id)
		return -EXDEV;
	pthread_mutex_lock(&hw->mem_lock);
	for (mem = hw->exports; mem; mem = mem->next_export) {
		if (mem->export_id == (uint32_t)token) {
			ret = map_into(f, mem, bo);
			if (!ret) {
				bo->size = mem->size;
				bo->flags = mem->flags;
			}
			break;
		}
	}
	pthread_mutex_unlock(&hw->mem_lock);
	return ret;
}

const struct accel_backend_ops accel_sim_backend = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.bo_alloc = sim_bo_alloc,
	.bo_release = sim_bo_release,
	.bo_export = sim_bo_export,
	.bo_import = sim_bo_import,
	.context_create = asim_context_create,
	.context_destroy = asim_context_destroy,
	.submit = asim_submit,
	.fence_wait = asim_fence_wait,
	.fence_poll = asim_fence_poll,
	.fence_status = asim_fence_status,
	.fence_export_fd = asim_fence_export_fd,
	.inject_fault = asim_inject_fault,
	.stats = asim_stats,
};
