// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko DRM layer: the accel device (/dev/accel/accelN), its ioctl table,
 * per-file state, GET_PARAM, CLOCK_SAMPLE and the module.
 */

#include <linux/dma-fence.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include "anpu_drv.h"

/*
 * Per-file limits. The defaults let one process run a 1.5B-parameter model
 * (about 1.1 GiB of Q4_K_M weights plus several 4096-token KV caches) on a
 * device with the memory for it, while leaving every other user some.
 */
static unsigned int file_max_contexts = 64;
module_param(file_max_contexts, uint, 0644);
MODULE_PARM_DESC(file_max_contexts, "Contexts per open file (default 64)");

static unsigned int file_max_devmem_mb;
module_param(file_max_devmem_mb, uint, 0644);
MODULE_PARM_DESC(file_max_devmem_mb,
		 "MiB of BOs one open file may hold handles to (default 0: device memory minus devmem_reserve_mb)");

static unsigned int devmem_reserve_mb = 32;
module_param(devmem_reserve_mb, uint, 0644);
MODULE_PARM_DESC(devmem_reserve_mb,
		 "With file_max_devmem_mb 0: MiB of device memory one file cannot take (default 32)");

u32 anpu_file_max_contexts(void)
{
	return READ_ONCE(file_max_contexts);
}

u64 anpu_file_max_devmem(struct anpu_device *adev)
{
	u64 size = anpu_hw_mem_size(&adev->hw);
	u64 max = (u64)READ_ONCE(file_max_devmem_mb) << 20;
	u64 reserve = (u64)READ_ONCE(devmem_reserve_mb) << 20;

	if (max)
		return max;
	return size > reserve ? size - reserve : 0;
}

struct anpu_file *anpu_file_get(struct anpu_file *af)
{
	kref_get(&af->ref);
	return af;
}

static void anpu_file_release(struct kref *ref)
{
	struct anpu_file *af = container_of(ref, struct anpu_file, ref);

	/* after the address space: its teardown may read the file's job fence */
	anpu_as_put(af->as);
	dma_fence_put(af->last_job_fence);
	kfree(af);
}

void anpu_file_put(struct anpu_file *af)
{
	kref_put(&af->ref, anpu_file_release);
}

static int anpu_open(struct drm_device *dev, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct anpu_file *af;
	int idx;

	if (!drm_dev_enter(dev, &idx))
		return -ENODEV;
	af = kzalloc(sizeof(*af), GFP_KERNEL_ACCOUNT);
	if (!af) {
		drm_dev_exit(idx);
		return -ENOMEM;
	}
	kref_init(&af->ref);
	af->adev = adev;
	af->drm_file = file;
	xa_init_flags(&af->ctxs, XA_FLAGS_ALLOC1);
	spin_lock_init(&af->job_fence_lock);
	/* no hardware address-space id yet: bound when it first submits */
	af->as = anpu_as_create(adev, af);
	drm_dev_exit(idx);
	if (IS_ERR(af->as)) {
		int ret = PTR_ERR(af->as);

		kfree(af);
		return ret;
	}
	file->driver_priv = af;
	scoped_guard(mutex, &adev->files_lock)
		list_add_tail(&af->link, &adev->files);
	return 0;
}

static void anpu_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct anpu_file *af = file->driver_priv;

	scoped_guard(mutex, &adev->files_lock)
		list_del(&af->link);
	anpu_ctx_release_all(af);
	af->drm_file = NULL;
	/* the address space goes when the last job of the file is freed */
	anpu_file_put(af);
}

static int anpu_ioctl_get_param(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct drm_anpu_get_param *args = data;

	if (args->pad) {
		drm_dbg(dev, "GET_PARAM: pad %#x nonzero\n", args->pad);
		return -EINVAL;
	}
	switch (args->param) {
	case DRM_ANPU_PARAM_HW_VERSION:
		args->value = adev->hw.version;
		break;
	case DRM_ANPU_PARAM_ISA_VERSION:
		args->value = adev->hw.isa_version;
		break;
	case DRM_ANPU_PARAM_CAPS:
		args->value = adev->hw.caps & ANPU_CAP_USER_MASK;
		break;
	case DRM_ANPU_PARAM_NUM_QUEUES:
		args->value = ANPU_HW_NUM_QUEUES;
		break;
	case DRM_ANPU_PARAM_DEVMEM_SIZE:
		args->value = anpu_hw_mem_size(&adev->hw);
		break;
	case DRM_ANPU_PARAM_DEVMEM_FREE:
		args->value = anpu_devmem_free_bytes(adev);
		break;
	case DRM_ANPU_PARAM_VA_BITS:
		args->value = ANPU_VA_BITS;
		break;
	case DRM_ANPU_PARAM_MAX_BO_SIZE:
		args->value = rounddown(anpu_hw_mem_size(&adev->hw), ANPU_LARGE_PAGE_SIZE);
		break;
	case DRM_ANPU_PARAM_JOB_INFO_DEPTH:
		args->value = ANPU_JOB_INFO_DEPTH;
		break;
	case DRM_ANPU_PARAM_JOB_TIMEOUT_MS:
		args->value = ANPU_JOB_TIMEOUT_MS;
		break;
	default:
		drm_dbg(dev, "GET_PARAM: unknown param %llu\n", (u64)args->param);
		return -EINVAL;
	}
	return 0;
}

static int anpu_ioctl_clock_sample(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct anpu_device *adev = to_anpu(dev);
	struct drm_anpu_clock_sample *args = data;
	u64 dev_ns, t0, t1;
	int ret, idx;

	if (args->reserved) {
		drm_dbg(dev, "CLOCK_SAMPLE: reserved %#llx nonzero\n", (u64)args->reserved);
		return -EINVAL;
	}
	if (!drm_dev_enter(dev, &idx))
		return -ENODEV;
	/* the device answers in every power state, but is kept up meanwhile */
	ret = anpu_pm_get(adev);
	if (!ret) {
		ret = anpu_hw_clock_sample(&adev->hw, &dev_ns, &t0, &t1);
		anpu_pm_put(adev);
	}
	drm_dev_exit(idx);
	if (ret)
		return ret;
	args->device_ns = dev_ns;
	args->monotonic_ns = t0 + (t1 - t0) / 2;
	args->uncertainty_ns = (t1 - t0 + 1) / 2;
	return 0;
}

static const struct drm_ioctl_desc anpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(ANPU_GET_PARAM, anpu_ioctl_get_param, 0),
	DRM_IOCTL_DEF_DRV(ANPU_BO_CREATE, anpu_ioctl_bo_create, 0),
	DRM_IOCTL_DEF_DRV(ANPU_BO_INFO, anpu_ioctl_bo_info, 0),
	DRM_IOCTL_DEF_DRV(ANPU_CTX_CREATE, anpu_ioctl_ctx_create, 0),
	DRM_IOCTL_DEF_DRV(ANPU_CTX_DESTROY, anpu_ioctl_ctx_destroy, 0),
	DRM_IOCTL_DEF_DRV(ANPU_SUBMIT, anpu_ioctl_submit, 0),
	DRM_IOCTL_DEF_DRV(ANPU_JOB_INFO, anpu_ioctl_job_info, 0),
	DRM_IOCTL_DEF_DRV(ANPU_CLOCK_SAMPLE, anpu_ioctl_clock_sample, 0),
};

/*
 * The DRM core's GET_UNIQUE and GET_MAGIC read the file's DRM master, which
 * the files of an accel node never have, and 6.12's drm_getunique() and
 * drm_getmagic() dereference it unchecked: anyone who can open the node could
 * oops the kernel with either (found by the ioctl fuzzer). Neither means
 * anything for an accelerator, so they are refused before the DRM core sees
 * them, native and compat alike (their numbers are the same).
 */
static bool anpu_core_ioctl_refused(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == DRM_IOCTL_BASE &&
	       (_IOC_NR(cmd) == DRM_IOCTL_NR(DRM_IOCTL_GET_UNIQUE) ||
		_IOC_NR(cmd) == DRM_IOCTL_NR(DRM_IOCTL_GET_MAGIC));
}

static long anpu_unlocked_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	if (anpu_core_ioctl_refused(cmd))
		return -EOPNOTSUPP;
	return drm_ioctl(filp, cmd, arg);
}

#ifdef CONFIG_COMPAT
static long anpu_compat_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	if (anpu_core_ioctl_refused(cmd))
		return -EOPNOTSUPP;
	return drm_compat_ioctl(filp, cmd, arg);
}
#else
#define anpu_compat_ioctl NULL
#endif

/* DRM_ACCEL_FOPS with the two ioctl entries above, and show_fdinfo */
static const struct file_operations anpu_accel_fops = {
	.owner = THIS_MODULE,
	.open = accel_open,
	.release = drm_release,
	.unlocked_ioctl = anpu_unlocked_ioctl,
	.compat_ioctl = anpu_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = drm_gem_mmap,
	.fop_flags = FOP_UNSIGNED_OFFSET,
	.show_fdinfo = drm_show_fdinfo,
};

static const struct drm_driver anpu_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
	.open = anpu_open,
	.postclose = anpu_postclose,
	.ioctls = anpu_ioctls,
	.num_ioctls = ARRAY_SIZE(anpu_ioctls),
	.gem_prime_import = anpu_gem_prime_import,
	.show_fdinfo = anpu_show_fdinfo,
	.fops = &anpu_accel_fops,
	.name = ANPU_DRIVER_NAME,
	.desc = "ANPU neural processing unit",
	.major = 1,
	.minor = 0,
};

static void anpu_mm_fini(struct drm_device *drm, void *arg)
{
	struct anpu_device *adev = to_anpu(drm);

	/* each deferred release holds a device reference */
	WARN_ON(atomic_read(&adev->reclaim_pending));
	drm_mm_takedown(&adev->mm);
	ida_destroy(&adev->asids);
}

struct anpu_device *anpu_device_alloc(struct device *parent)
{
	return devm_drm_dev_alloc(parent, &anpu_drm_driver, struct anpu_device, drm);
}

int anpu_device_register(struct anpu_device *adev)
{
	struct drm_device *drm = &adev->drm;
	int ret;

	ret = drmm_mutex_init(drm, &adev->mm_lock);
	if (!ret)
		ret = drmm_mutex_init(drm, &adev->vm_lock);
	if (!ret)
		ret = drmm_mutex_init(drm, &adev->asid_lock);
	if (!ret)
		ret = drmm_mutex_init(drm, &adev->files_lock);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&adev->files);
	ida_init(&adev->asids);
	INIT_LIST_HEAD(&adev->asid_lru);
	init_llist_head(&adev->reclaim_ready);
	INIT_WORK(&adev->reclaim_work, anpu_reclaim_work);
	init_waitqueue_head(&adev->reclaim_wq);
	drm_mm_init(&adev->mm, anpu_hw_mem_first(&adev->hw), anpu_hw_mem_size(&adev->hw));
	ret = drmm_add_action_or_reset(drm, anpu_mm_fini, NULL);
	if (ret)
		return ret;

	ret = anpu_hw_init(&adev->hw);
	if (ret)
		return ret;
	ret = anpu_sched_init(adev);
	if (ret)
		goto err_hw;
	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_sched;
	anpu_debugfs_init(adev);
	ret = anpu_pm_init(adev);
	if (ret)
		goto err_unplug;
	ret = anpu_nl_device_add(adev);
	if (ret)
		goto err_pm;
	return 0;

err_pm:
	anpu_pm_fini(adev);
err_unplug:
	drm_dev_unplug(drm);
err_sched:
	anpu_sched_fini(adev);
err_hw:
	anpu_hw_fini(&adev->hw);
	return ret;
}

void anpu_device_unregister(struct anpu_device *adev)
{
	anpu_nl_device_remove(adev);
	anpu_pm_fini(adev);
	drm_dev_unplug(&adev->drm);
	anpu_sched_fini(adev);
	anpu_hw_fini(&adev->hw);
}

static int __init anpu_init(void)
{
	int ret = anpu_reclaim_wq_init();

	if (ret)
		return ret;
	/* before the devices: each adds itself to the family at probe */
	ret = anpu_nl_init();
	if (ret)
		goto err_reclaim;
	ret = anpu_pci_register();
	if (ret)
		goto err_nl;
	return 0;

err_nl:
	anpu_nl_fini();
err_reclaim:
	anpu_reclaim_wq_fini();
	return ret;
}

static void __exit anpu_exit(void)
{
	anpu_pci_unregister();
	anpu_nl_fini();
	/* a deferred release may hold the last device reference: drained here */
	anpu_reclaim_wq_fini();
}

module_init(anpu_init);
module_exit(anpu_exit);

MODULE_DESCRIPTION("ANPU neural processing unit (DRM accel)");
MODULE_AUTHOR("The ANPU stack developers");
MODULE_VERSION(ANPU_VERSION);
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
