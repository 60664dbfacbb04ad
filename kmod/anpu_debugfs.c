// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko debugfs, in /sys/kernel/debug/accel/<device>/:
 *   counters        live BOs, jobs, contexts and address spaces (leak checks:
 *                   back to 0 when idle), resets, jobs resubmitted after
 *                   resets, interrupts seen, passes of the job interrupt's
 *                   service loop and whether job-interrupt moderation is on
 *   bos             device-memory allocations
 *   contexts        open files and their contexts
 *   rings           every queue's registers and jobs on the ring
 *   fault_inject    write "QUEUE hang|fault|fail_reset|none [sticky]": arm
 *                   fault injection on a queue (one-shot unless sticky)
 *   reset           write a queue number, or "device": reset it now (jobs
 *                   the reset drops are resubmitted)
 *   power_loss      write 1: power the device down behind runtime PM's back
 *                   (doorbells dropped, nothing progresses, no queue HUNG: a
 *                   wedged device, ended by the wedge check's device reset);
 *                   write 0: power it up again. -EBUSY with work pending.
 *   selftest_nop    write 1: push a NOP job through a ring, wait for its
 *                   completion interrupt (with moderation: the interrupt
 *                   asked for right before the push, raised by the first
 *                   job to end) and check its status record
 *   selftest_fault  write 1: the same with an injected fault; expects the
 *                   error interrupt and status FAULT/INJECTED
 * A failing self-test fails the write with its error.
 */

#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "anpu_drv.h"

static int counters_show(struct seq_file *m, void *unused)
{
	struct anpu_device *adev = m->private;

	seq_printf(m, "bos %d\n", atomic_read(&adev->count.bos));
	seq_printf(m, "jobs %d\n", atomic_read(&adev->count.jobs));
	seq_printf(m, "contexts %d\n", atomic_read(&adev->count.contexts));
	seq_printf(m, "address_spaces %d\n", atomic_read(&adev->count.address_spaces));
	seq_printf(m, "resets_queue %d\n", atomic_read(&adev->count.resets_queue));
	seq_printf(m, "resets_device %d\n", atomic_read(&adev->count.resets_device));
	seq_printf(m, "jobs_resubmitted %d\n", atomic_read(&adev->count.jobs_resubmitted));
	seq_printf(m, "irq_job %d\n", atomic_read(&adev->hw.irq_job));
	seq_printf(m, "irq_error %d\n", atomic_read(&adev->hw.irq_error));
	seq_printf(m, "irq_ctrl %d\n", atomic_read(&adev->hw.irq_ctrl));
	seq_printf(m, "irq_job_loops %d\n", atomic_read(&adev->hw.irq_loops));
	seq_printf(m, "irq_moderation %d\n", READ_ONCE(adev->hw.irq_moderation));
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
	ret = anpu_pm_get(adev);
	if (!ret) {
		ret = test(&adev->hw);
		anpu_pm_put(adev);
	}
	drm_dev_exit(idx);
	return ret ? ret : len;
}

static int bos_show(struct seq_file *m, void *unused)
{
	anpu_debugfs_bos(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bos);

static int contexts_show(struct seq_file *m, void *unused)
{
	struct anpu_device *adev = m->private;
	struct anpu_file *af;

	guard(mutex)(&adev->files_lock);
	list_for_each_entry(af, &adev->files, link) {
		struct anpu_ctx *ctx;
		unsigned long id;

		seq_printf(m, "file asid %u jobs %llu faults %llu busy_ns %llu\n",
			   READ_ONCE(af->as->asid), (u64)atomic64_read(&af->jobs_submitted),
			   (u64)atomic64_read(&af->faults), (u64)atomic64_read(&af->busy_ns));
		xa_lock(&af->ctxs);
		xa_for_each(&af->ctxs, id, ctx)
			seq_printf(m, "  ctx %u queue %u next_seqno %llu guilty %d\n",
				   ctx->id, ctx->queue->index, ctx->next_seqno,
				   atomic_read(&ctx->guilty));
		xa_unlock(&af->ctxs);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(contexts);

static int rings_show(struct seq_file *m, void *unused)
{
	struct anpu_device *adev = m->private;
	char *buf;
	int idx;

	if (!drm_dev_enter(&adev->drm, &idx))
		return -ENODEV;
	buf = kvmalloc(SZ_64K, GFP_KERNEL);
	if (buf) {
		anpu_hw_dump(&adev->hw, buf, SZ_64K);
		seq_puts(m, buf);
		kvfree(buf);
	}
	drm_dev_exit(idx);
	return buf ? 0 : -ENOMEM;
}
DEFINE_SHOW_ATTRIBUTE(rings);

static ssize_t fault_inject_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *pos)
{
	static const char * const actions[] = {
		[ANPU_FI_NONE] = "none",
		[ANPU_FI_HANG] = "hang",
		[ANPU_FI_FAULT] = "fault",
		[ANPU_FI_FAIL_RESET] = "fail_reset",
	};
	struct anpu_device *adev = file->private_data;
	char buf[64], action[16], sticky[8] = "";
	unsigned int q;
	int n, a, idx;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	n = sscanf(buf, "%u %15s %7s", &q, action, sticky);
	if (n < 2 || q >= ANPU_HW_NUM_QUEUES)
		return -EINVAL;
	a = match_string(actions, ARRAY_SIZE(actions), action);
	if (a < 0 || (n == 3 && strcmp(sticky, "sticky")))
		return -EINVAL;
	if (!drm_dev_enter(&adev->drm, &idx))
		return -ENODEV;
	adev->queue[q].fi_mode = a | (n == 3 ? ANPU_FI_STICKY : 0);
	anpu_hw_fault_inject(&adev->hw, q, adev->queue[q].fi_mode);
	drm_dev_exit(idx);
	return len;
}

static const struct file_operations fault_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = fault_inject_write,
};

static ssize_t reset_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *pos)
{
	struct anpu_device *adev = file->private_data;
	char buf[16];
	int q, ret, idx;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sysfs_streq(buf, "device"))
		q = -1;
	else if (kstrtoint(buf, 0, &q) || q < 0 || q >= ANPU_HW_NUM_QUEUES)
		return -EINVAL;
	if (!drm_dev_enter(&adev->drm, &idx))
		return -ENODEV;
	ret = anpu_recover(adev, q);
	drm_dev_exit(idx);
	return ret ? ret : len;
}

static const struct file_operations reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = reset_write,
};

static ssize_t power_loss_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *pos)
{
	struct anpu_device *adev = file->private_data;
	bool on;
	int ret, idx;

	ret = kstrtobool_from_user(ubuf, len, &on);
	if (ret)
		return ret;
	if (!drm_dev_enter(&adev->drm, &idx))
		return -ENODEV;
	ret = anpu_fi_power_loss(adev, on);
	drm_dev_exit(idx);
	return ret ? ret : len;
}

static const struct file_operations power_loss_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = power_loss_write,
};

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
	debugfs_create_file("bos", 0444, root, adev, &bos_fops);
	debugfs_create_file("contexts", 0444, root, adev, &contexts_fops);
	debugfs_create_file("rings", 0444, root, adev, &rings_fops);
	debugfs_create_file("fault_inject", 0200, root, adev, &fault_inject_fops);
	debugfs_create_file("reset", 0200, root, adev, &reset_fops);
	debugfs_create_file("power_loss", 0200, root, adev, &power_loss_fops);
}
