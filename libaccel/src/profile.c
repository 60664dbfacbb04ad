// SPDX-License-Identifier: MIT
/* Profiling buffers: device memory the NPU fills with one record per op. */
#include "accel_internal.h"
#include "hw/anpu_hwif.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int accel_profile_create(struct accel_device *dev, unsigned int max_ops,
			 struct accel_profile **out)
{
	struct accel_profile *prof;
	uint64_t bytes;
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!out || !max_ops || max_ops > ANPU_STREAM_MAX_OPS)
		return -EINVAL;
	*out = NULL;
	if (!(dev->info.caps & ACCEL_CAP_PROFILING))
		return -EOPNOTSUPP;
	prof = calloc(1, sizeof(*prof));
	if (!prof)
		return -ENOMEM;
	bytes = sizeof(struct anpu_hw_profile_header) +
		(uint64_t)max_ops * sizeof(struct anpu_hw_profile_record);
	ret = accel_bo_create_internal(dev, bytes, 0, &prof->bo);
	if (ret) {
		free(prof);
		return ret;
	}
	prof->max_ops = max_ops;
	pthread_mutex_init(&prof->lock, NULL);
	atomic_init(&prof->refs, 1);
	prof->handle_live = true;
	accel_obj_init(dev, &prof->obj, ACCEL_MAGIC_PROFILE);
	*out = prof;
	return 0;
}

void accel_profile_unref(struct accel_profile *prof)
{
	if (atomic_fetch_sub(&prof->refs, 1) != 1)
		return;
	if (prof->cb)
		accel_cmdbuf_unref(prof->cb);
	prof->cb = NULL;
	accel_bo_free(prof->bo);
	accel_obj_bury(&prof->obj);
}

int accel_profile_free(struct accel_profile *prof)
{
	uint32_t expect = ACCEL_MAGIC_PROFILE;

	if (!prof || !atomic_compare_exchange_strong(&prof->obj.magic, &expect, ACCEL_MAGIC_DEAD))
		return -EBADF;
	prof->handle_live = false;
	accel_profile_unref(prof);
	return 0;
}

void accel_profile_filled_by(struct accel_profile *prof, struct accel_cmdbuf *cb)
{
	struct accel_cmdbuf *old;

	atomic_fetch_add(&cb->refs, 1);
	pthread_mutex_lock(&prof->lock);
	old = prof->cb;
	prof->cb = cb;
	pthread_mutex_unlock(&prof->lock);
	if (old)
		accel_cmdbuf_unref(old);
}

const struct accel_cmdbuf *accel_profile_cmdbuf(struct accel_profile *prof)
{
	const struct accel_cmdbuf *cb;

	if (accel_obj_check(prof, ACCEL_MAGIC_PROFILE))
		return NULL;
	pthread_mutex_lock(&prof->lock);
	cb = atomic_load(&prof->written) ? prof->cb : NULL;
	pthread_mutex_unlock(&prof->lock);
	return cb;
}

int accel_profile_read(struct accel_profile *prof, struct accel_op_profile *records,
		       unsigned int max, unsigned int *dropped)
{
	const struct anpu_hw_profile_header *h;
	const struct anpu_hw_profile_record *r;
	int64_t offset;
	int ret = accel_obj_check(prof, ACCEL_MAGIC_PROFILE);

	if (ret)
		return ret;
	if (max && !records)
		return -EINVAL;
	if (atomic_load_explicit(&prof->busy, memory_order_acquire))
		return -EAGAIN;
	if (!atomic_load(&prof->written))
		return -ENODATA;
	h = prof->bo->host;
	if (h->magic != ANPU_PROFILE_MAGIC || h->version != ANPU_PROFILE_VERSION)
		return -ENODATA;
	offset = prof->obj.dev->info.clock_offset_ns;
	r = (const void *)(h + 1);
	pthread_mutex_lock(&prof->lock);
	for (unsigned int i = 0; i < h->count && i < max && i < prof->max_ops; i++) {
		records[i] = (struct accel_op_profile){
			.op_index = r[i].op_index,
			.opcode = r[i].opcode,
			.dtype = r[i].dtype,
			.device_start_ns = r[i].start_ns,
			.device_end_ns = r[i].end_ns,
			.start_ns = (int64_t)r[i].start_ns + offset,
			.end_ns = (int64_t)r[i].end_ns + offset,
			.cycles = r[i].cycles,
			.bytes = r[i].bytes,
			.macs = r[i].macs,
			/* the index comes from the device: "" if it names no op */
			.label = prof->cb ? accel_op_label_of(prof->cb, r[i].op_index) : "",
		};
	}
	pthread_mutex_unlock(&prof->lock);
	if (dropped)
		*dropped = h->dropped;
	return (int)h->count;
}
