// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko debugfs, in /sys/kernel/debug/accel/<device>/:
 *   counters        live BOs, jobs and contexts (leak checks), interrupts seen
 *   selftest_nop    write 1: push a NOP job through a ring, wait for its
 *                   completion interrupt and check its status record
 *   selftest_fault  write 1: the same with an injected fault; expects the
 *                   error interrupt and status FAULT/INJECTED
 * A failing self-test fails the write with its error.
 */

#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "anpu_drv.h"

static int counters_show(struct seq_file *m, void *unused)
{
	struct anpu_device *adev = m->private;

	seq_printf(m, "bos %d\n", atomic_read(&adev->count.bos));
	seq_printf(m, "jobs %d\n", atomic_read(&adev->count.jobs));
	seq_printf(m, "contexts %d\n", atomic_read(&adev->count.contexts));
	seq_printf(m, "irq_job %d\n", atomic_read(&adev->hw.irq_job));
	seq_printf(m, "irq_error %d\n", atomic_read(&adev->hw.irq_error));
	seq_printf(m, "irq_ctrl %d\n", atomic_read(&adev->hw.irq_ctrl));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(counters);

static ssize_t selftest_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *pos,
			      int (*test)(struct anpu_hw *hw))
{
	struct anpu_device *adev = file->private_data;
	bool run;
	int ret, idx;

	ret = kstrtobool_from_user(ubuf, len, &run);
	if (ret)
		return ret;
	if (!run)
		return len;
	if (!drm_dev_enter(&adev->drm, &idx))
		return -ENODEV;
	ret = test(&adev->hw);
	drm_dev_exit(idx);
	return ret ? ret : len;
}

static ssize_t selftest_nop_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *pos)
{
	return selftest_write(file, ubuf, len, pos, anpu_hw_selftest_nop);
}

static ssize_t selftest_fault_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *pos)
{
	return selftest_write(file, ubuf, len, pos, anpu_hw_selftest_fault);
}

static const struct file_operations selftest_nop_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = selftest_nop_write,
};

static const struct file_operations selftest_fault_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = selftest_fault_write,
};

void anpu_debugfs_init(struct anpu_device *adev)
{
	struct dentry *root = adev->drm.debugfs_root;

	if (IS_ERR_OR_NULL(root))
		return;
	debugfs_create_file("counters", 0444, root, adev, &counters_fops);
	debugfs_create_file("selftest_nop", 0200, root, adev, &selftest_nop_fops);
	debugfs_create_file("selftest_fault", 0200, root, adev, &selftest_fault_fops);
}
