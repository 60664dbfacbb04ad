// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko DRM layer: the accel device (/dev/accel/accelN) and the module.
 * The ioctls, GEM, MMU and scheduler come with the full DRM driver.
 */

#include <linux/module.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>

#include "anpu_drv.h"

DEFINE_DRM_ACCEL_FOPS(anpu_accel_fops);

static const struct drm_driver anpu_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL,
	.fops = &anpu_accel_fops,
	.name = ANPU_DRIVER_NAME,
	.desc = "ANPU neural processing unit",
	.major = 0,
	.minor = 1,
};

struct anpu_device *anpu_device_alloc(struct device *parent)
{
	return devm_drm_dev_alloc(parent, &anpu_drm_driver, struct anpu_device, drm);
}

int anpu_device_register(struct anpu_device *adev)
{
	int ret;

	ret = anpu_hw_init(&adev->hw);
	if (ret)
		return ret;
	ret = drm_dev_register(&adev->drm, 0);
	if (ret) {
		anpu_hw_fini(&adev->hw);
		return ret;
	}
	anpu_debugfs_init(adev);
	return 0;
}

void anpu_device_unregister(struct anpu_device *adev)
{
	drm_dev_unplug(&adev->drm);
	anpu_hw_fini(&adev->hw);
}

static int __init anpu_init(void)
{
	return anpu_pci_register();
}

static void __exit anpu_exit(void)
{
	anpu_pci_unregister();
}

module_init(anpu_init);
module_exit(anpu_exit);

MODULE_DESCRIPTION("ANPU neural processing unit (DRM accel)");
MODULE_LICENSE("GPL");
