// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko runtime power management: autosuspend after ANPU_AUTOSUSPEND_MS
 * idle. Every job holds a reference from submit until it is freed. Suspend
 * is the POWER_DOWN control command (the device really stops taking jobs;
 * it answers BUSY while work is pending, and then we stay on); resume is
 * POWER_UP and a doorbell for every queue with pending descriptors.
 */

#include <linux/pm_runtime.h>

#include <drm/drm_drv.h>

#include "anpu_drv.h"
#include "anpu_trace.h"

int anpu_pm_get(struct anpu_device *adev)
{
	return pm_runtime_resume_and_get(adev->drm.dev);
}

void anpu_pm_put(struct anpu_device *adev)
{
	pm_runtime_mark_last_busy(adev->drm.dev);
	pm_runtime_put_autosuspend(adev->drm.dev);
}

static int anpu_runtime_suspend(struct device *dev)
{
	struct anpu_device *adev = dev_get_drvdata(dev);
	int ret;

	ret = anpu_hw_power_down(&adev->hw);
	trace_anpu_pm(false, ret);
	return ret;
}

static int anpu_runtime_resume(struct device *dev)
{
	struct anpu_device *adev = dev_get_drvdata(dev);
	int ret;

	ret = anpu_hw_power_up(&adev->hw);
	trace_anpu_pm(true, ret);
	if (ret)
		return ret;
	anpu_queues_kick(adev);
	return 0;
}

const struct dev_pm_ops anpu_pm_ops = {
	RUNTIME_PM_OPS(anpu_runtime_suspend, anpu_runtime_resume, NULL)
};

/* Called at the end of probe: the PCI core holds a reference until then. */
int anpu_pm_init(struct anpu_device *adev)
{
	struct device *dev = adev->drm.dev;

	pm_runtime_set_autosuspend_delay(dev, ANPU_AUTOSUSPEND_MS);
	pm_runtime_use_autosuspend(dev);
	pm_runtime_allow(dev);
	pm_runtime_mark_last_busy(dev);
	pm_runtime_put_autosuspend(dev);
	return 0;
}

/* At remove: back on, and no runtime PM until the next probe. */
void anpu_pm_fini(struct anpu_device *adev)
{
	struct device *dev = adev->drm.dev;

	pm_runtime_get_sync(dev);
	if (atomic_xchg(&adev->fi_power_loss, 0)) {
		anpu_hw_power_up(&adev->hw);
		pm_runtime_put_noidle(dev);
	}
	pm_runtime_forbid(dev);
	pm_runtime_dont_use_autosuspend(dev);
}

/**
 * anpu_fi_power_loss() - power the device down behind runtime PM's back
 * @adev: the device
 * @on: start (true) or end (false) the power loss
 *
 * For recovery tests (debugfs "power_loss"): with @on, a runtime-PM reference
 * is taken (so runtime PM neither suspends nor resumes the device) and
 * POWER_DOWN is issued: the device drops every doorbell, no queue is HUNG and
 * nothing progresses, as when a device stops taking work. Only the wedge
 * check's device reset (or ending the power loss) brings it back. With !@on:
 * POWER_UP, the queues are rung again and the reference is dropped.
 *
 * Return: 0, -EBUSY when already on or when the device has work pending, or
 * the control command's error.
 */
int anpu_fi_power_loss(struct anpu_device *adev, bool on)
{
	int ret;

	if (!on) {
		if (!atomic_cmpxchg(&adev->fi_power_loss, 1, 0))
			return 0;
		ret = anpu_hw_power_up(&adev->hw);
		anpu_queues_kick(adev);
		anpu_pm_put(adev);
		return ret;
	}
	if (atomic_cmpxchg(&adev->fi_power_loss, 0, 1))
		return -EBUSY;
	ret = anpu_pm_get(adev);
	if (ret) {
		atomic_set(&adev->fi_power_loss, 0);
		return ret;
	}
	ret = anpu_hw_power_down(&adev->hw);
	if (ret) {
		anpu_pm_put(adev);
		atomic_set(&adev->fi_power_loss, 0);
	}
	return ret;
}
