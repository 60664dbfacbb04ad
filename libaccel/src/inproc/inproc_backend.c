// SPDX-License-Identifier: MIT
/*
 * The in-process backend's operations table: device handles (address
 * spaces), buffer objects and their export/import, plus the scheduling
 * entry points of inproc_sched.c.
 */
#include "inproc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int inproc_open(struct accel_device *dev, const char *path,
		       const struct accel_device_params *params)
{
	struct inproc_file *f = calloc(1, sizeof(*f));
	struct accel_device_info *info = &dev->info;
	struct inproc_hw *hw;
	int ret;

	(void)path;
	if (!f)
		return -ENOMEM;
	ret = inproc_hw_get(params, &hw);
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
		ret = inproc_file_vm_init(f);
		if (ret)
			hw->asid_used[f->asid] = false;
	}
	pthread_mutex_unlock(&hw->mem_lock);
	if (ret) {
		inproc_hw_put(hw);
		free(f);
		return ret;
	}
	inproc_wr64(hw, ANPU_REG_AS_ROOT(f->asid), f->root);
	dev->priv = f;

	memset(info, 0, sizeof(*info));
	info->backend = ACCEL_BACKEND_SIM;
	snprintf(info->name, sizeof(info->name), "sim");
	snprintf(info->path, sizeof(info->path), "sim");
	info->hw_version = hw->hw_version;
	info->isa_version = hw->isa_version;
	info->caps = hw->caps & ANPU_CAP_USER_MASK;
	info->num_queues = ANPU_HW_NUM_QUEUES;
	info->mem_total = inproc_rd64(hw, ANPU_REG_DEVMEM_SIZE);
	info->max_jobs_in_flight = hw->max_jobs;
	info->max_deps = ACCEL_MAX_DEPS;
	info->clock_offset_ns = hw->clock_offset_ns;
	info->clock_uncertainty_ns = hw->clock_uncertainty_ns;
	info->model_threads = anpusim_threads(hw->sim);
	snprintf(info->simd, sizeof(info->simd), "%s", anpusim_simd_path());
	return 0;
}

static void inproc_close(struct accel_device *dev)
{
	struct inproc_file *f = dev->priv;
	struct inproc_hw *hw = f->hw;

	inproc_wr64(hw, ANPU_REG_AS_ROOT(f->asid), 0);
	pthread_mutex_lock(&hw->mem_lock);
	inproc_file_vm_fini(f);
	hw->asid_used[f->asid] = false;
	pthread_mutex_unlock(&hw->mem_lock);
	free(f);
	inproc_hw_put(hw);
}

/* Device memory that held a file's pages: anonymous (zero-fill, writable) again. */
static bool restore_anon(struct inproc_hw *hw, struct inproc_mem *mem)
{
	void *at = hw->bar + mem->dpa;

	return mmap(at, mem->file_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == at;
}

static void mem_put_locked(struct inproc_hw *hw, struct inproc_mem *mem)
{
	if (--mem->refs)
		return;
	if (mem->export_id) {
		struct inproc_mem **link = &hw->exports;

		while (*link != mem)
			link = &(*link)->next_export;
		*link = mem->next_export;
	}
	if (mem->file_bytes && !restore_anon(hw, mem)) {
		/* still the file's pages: never hand that range out again */
		free(mem);
		return;
	}
	inproc_mem_free_locked(hw, mem->dpa, mem->bytes);
	free(mem);
}

static int map_into(struct inproc_file *f, struct inproc_mem *mem, struct accel_bo *bo)
{
	struct inproc_mapping *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	ret = inproc_vm_map_locked(f, mem, !(mem->flags & ACCEL_BO_NPU_READ_ONLY), &m->va,
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

static int inproc_bo_alloc(struct accel_device *dev, struct accel_bo *bo)
{
	struct inproc_file *f = dev->priv;
	struct inproc_hw *hw = f->hw;
	struct inproc_mem *mem = calloc(1, sizeof(*mem));
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
	ret = inproc_mem_alloc_locked(hw, mem->bytes, page, &mem->dpa);
	if (ret && large) {
		/* fragmented: fall back to 4 KiB pages */
		mem->large = false;
		mem->bytes = (bo->size + ANPU_PAGE_SIZE - 1) & ~(ANPU_PAGE_SIZE - 1);
		ret = inproc_mem_alloc_locked(hw, mem->bytes, ANPU_PAGE_SIZE, &mem->dpa);
	}
	if (!ret) {
		ret = map_into(f, mem, bo);
		if (ret)
			inproc_mem_free_locked(hw, mem->dpa, mem->bytes);
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

/*
 * The file's pages in place of the BO's device memory (MAP_FIXED over its
 * part of the BAR mapping): the NPU model reads device memory through that
 * mapping, so it reads the page cache, and nothing is copied.
 */
static int inproc_bo_map_file(struct accel_device *dev, struct accel_bo *bo, int fd,
			      uint64_t offset)
{
	struct inproc_file *f = dev->priv;
	struct inproc_mem *mem = ((struct inproc_mapping *)bo->priv)->mem;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t len = (bo->size + page - 1) & ~(page - 1);
	void *at = bo->host;
	int ret = 0;

	if (len > mem->bytes || (uintptr_t)at % page)
		return -EOPNOTSUPP;	/* host pages larger than the NPU's: copy */
	pthread_mutex_lock(&f->hw->mem_lock);
	mem->file_bytes = len;
	if (mmap(at, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (off_t)offset) != at) {
		/*
		 * A file system without mmap (ENODEV) or the like: the front end
		 * copies instead, into the range made anonymous again (a failed
		 * MAP_FIXED may have unmapped it). If even that fails, the
		 * release keeps the range out of use.
		 */
		ret = restore_anon(f->hw, mem) ? -EOPNOTSUPP : -errno;
		if (ret == -EOPNOTSUPP)
			mem->file_bytes = 0;
	}
	pthread_mutex_unlock(&f->hw->mem_lock);
	return ret;
}

static void inproc_bo_release(struct accel_device *dev, struct accel_bo *bo)
{
	struct inproc_file *f = dev->priv;
	struct inproc_mapping *m = bo->priv;

	if (!m)
		return;
	pthread_mutex_lock(&f->hw->mem_lock);
	inproc_vm_unmap_locked(f, m->va, m->va_bytes, m->mem);
	mem_put_locked(f->hw, m->mem);
	pthread_mutex_unlock(&f->hw->mem_lock);
	free(m);
	bo->priv = NULL;
}

/* Token: NPU id << 32 | export id. */
static int inproc_bo_export(struct accel_bo *bo, int64_t *token)
{
	struct inproc_file *f = bo->obj.dev->priv;
	struct inproc_hw *hw = f->hw;
	struct inproc_mem *mem = ((struct inproc_mapping *)bo->priv)->mem;

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

static int inproc_bo_import(struct accel_device *dev, int64_t token, struct accel_bo *bo)
{
	struct inproc_file *f = dev->priv;
	struct inproc_hw *hw = f->hw;
	struct inproc_mem *mem;
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

const struct accel_backend_ops accel_inproc_backend = {
	.name = "sim",
	.open = inproc_open,
	.close = inproc_close,
	.bo_alloc = inproc_bo_alloc,
	.bo_release = inproc_bo_release,
	.bo_map_file = inproc_bo_map_file,
	.bo_export = inproc_bo_export,
	.bo_import = inproc_bo_import,
	.context_create = inproc_context_create,
	.context_destroy = inproc_context_destroy,
	.submit = inproc_submit,
	.fence_wait = inproc_fence_wait,
	.fence_poll = inproc_fence_poll,
	.fence_status = inproc_fence_status,
	.fence_export_fd = inproc_fence_export_fd,
	.inject_fault = inproc_inject_fault,
	.stats = inproc_stats,
};
