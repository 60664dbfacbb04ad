// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko devcoredump of a hang: registers, every ring and its status
 * records, as text (/sys/class/devcoredump/devcdN/data). Taken in the
 * recovery path, which is a fence-signalling path: the buffer is allocated
 * without waiting (GFP_NOWAIT; the dump is skipped when that fails) and the
 * devcoredump device (dev_coredumpm() allocates with GFP_KERNEL) is created
 * later by a work item on system_unbound_wq, which no fence waits for. One
 * dump is pending at a time; later ones are dropped until it is taken.
 */

#include <linux/devcoredump.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>

#include "anpu_drv.h"

#define ANPU_COREDUMP_SIZE	(64 * 1024)

/**
 * struct anpu_dump - a captured dump
 * @len: bytes of @data used.
 * @data: the text.
 */
struct anpu_dump {
	size_t len;
	char data[];
};

static ssize_t anpu_coredump_read(char *buffer, loff_t offset, size_t count,
				  void *data, size_t datalen)
{
	struct anpu_dump *dump = data;

	return memory_read_from_buffer(buffer, count, &offset, dump->data, datalen);
}

static void anpu_coredump_free(void *data)
{
	kfree(data);
}

static void anpu_coredump_work(struct work_struct *work)
{
	struct anpu_device *adev = container_of(work, struct anpu_device, dump_work);
	struct anpu_dump *dump = xchg(&adev->dump, NULL);

	/* dev_coredumpm() frees the dump itself when it fails */
	if (dump)
		dev_coredumpm(adev->drm.dev, THIS_MODULE, dump, dump->len, GFP_KERNEL,
			      anpu_coredump_read, anpu_coredump_free);
}

void anpu_coredump_init(struct anpu_device *adev)
{
	INIT_WORK(&adev->dump_work, anpu_coredump_work);
}

/* At teardown, once no recovery runs: drop a dump not yet handed over. */
void anpu_coredump_fini(struct anpu_device *adev)
{
	cancel_work_sync(&adev->dump_work);
	kfree(xchg(&adev->dump, NULL));
}

void anpu_coredump(struct anpu_device *adev, unsigned int queue, u64 seqno)
{
	const size_t size = ANPU_COREDUMP_SIZE - sizeof(struct anpu_dump);
	struct anpu_dump *dump;
	size_t n;

	if (READ_ONCE(adev->dump))
		return;
	dump = kmalloc(ANPU_COREDUMP_SIZE, GFP_NOWAIT | __GFP_NOWARN);
	if (!dump)
		return;
	n = scnprintf(dump->data, size, "ANPU hang: queue %u descriptor seqno %llu\n",
		      queue, seqno);
	n += anpu_hw_dump(&adev->hw, dump->data + n, size - n);
	dump->len = n;
	if (cmpxchg(&adev->dump, NULL, dump)) {
		kfree(dump);
		return;
	}
	queue_work(system_unbound_wq, &adev->dump_work);
}
