// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko devcoredump of a hang: registers, every ring and its status
 * records, as text (/sys/class/devcoredump/devcdN/data). Taken in the
 * recovery path: the buffer is allocated without waiting (GFP_NOWAIT) and the
 * dump is skipped when that fails.
 */

#include <linux/devcoredump.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <drm/drm_device.h>

#include "anpu_drv.h"

#define ANPU_COREDUMP_SIZE	(64 * 1024)

static ssize_t anpu_coredump_read(char *buffer, loff_t offset, size_t count,
				  void *data, size_t datalen)
{
	return memory_read_from_buffer(buffer, count, &offset, data, datalen);
}

static void anpu_coredump_free(void *data)
{
	kfree(data);
}

void anpu_coredump(struct anpu_device *adev, unsigned int queue, u64 seqno)
{
	size_t n;
	char *buf;

	buf = kmalloc(ANPU_COREDUMP_SIZE, GFP_NOWAIT | __GFP_NOWARN);
	if (!buf)
		return;
	n = scnprintf(buf, ANPU_COREDUMP_SIZE, "ANPU hang: queue %u descriptor seqno %llu\n",
		      queue, seqno);
	n += anpu_hw_dump(&adev->hw, buf + n, ANPU_COREDUMP_SIZE - n);
	dev_coredumpm(adev->drm.dev, THIS_MODULE, buf, n, GFP_NOWAIT,
		      anpu_coredump_read, anpu_coredump_free);
}
