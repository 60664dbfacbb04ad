/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * anpu.ko: the device structure shared by the DRM layer, the hardware layer
 * and the bus glue.
 */
#ifndef __ANPU_DRV_H__
#define __ANPU_DRV_H__

#include <drm/drm_device.h>

#include "anpu_hw.h"

#define ANPU_DRIVER_NAME	"anpu"

/**
 * struct anpu_counters - live objects, for leak checks (debugfs "counters")
 * @bos: buffer objects.
 * @jobs: jobs not yet freed.
 * @contexts: scheduling contexts.
 */
struct anpu_counters {
	atomic_t bos;
	atomic_t jobs;
	atomic_t contexts;
};

/**
 * struct anpu_device - one ANPU
 * @drm: the DRM (accel) device.
 * @hw: hardware layer state.
 * @count: live object counters.
 */
struct anpu_device {
	struct drm_device drm;
	struct anpu_hw hw;
	struct anpu_counters count;
};

static inline struct anpu_device *to_anpu(struct drm_device *drm)
{
	return container_of(drm, struct anpu_device, drm);
}

struct anpu_device *anpu_device_alloc(struct device *parent);
int anpu_device_register(struct anpu_device *adev);
void anpu_device_unregister(struct anpu_device *adev);

void anpu_debugfs_init(struct anpu_device *adev);

int anpu_pci_register(void);
void anpu_pci_unregister(void);

#endif /* __ANPU_DRV_H__ */
