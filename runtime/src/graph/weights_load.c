/* SPDX-License-Identifier: MIT */
/*
 * The weights on the device: the file's tensor data as one read-only BO
 * (accel_bo_create_from_file). In-process the BO is the pages of the weight
 * cache file (the same data with Q5_0 tensors as Q5_0L and Q4_K, Q6_K and
 * Q4_0 matrices as Q4_KL, Q6_KL and Q4_0L, weights_cache.c) or,
 * without one, of the model file itself, so loading reads nothing and the
 * weights are in memory once; through anpu.ko libaccel reads the model file
 * into device memory and drops it from the page cache behind the read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/rt_error.h"
#include "graph/engine.h"
#include "graph/weights_cache.h"
#include "hw/anpu_hwif.h"

struct accel_tensor engine_weight(const struct anpurt_engine *e, const struct gguf_tensor *t)
{
	return accel_tensor_packed(e->weights, t->offset - e->data_start,
				   weights_cache_dtype(e->cache_layout, t),
				   (uint32_t)t->ne[0], (uint32_t)t->ne[1], (uint32_t)t->ne[2],
				   (uint32_t)t->ne[3]);
}

int weights_load(struct anpurt_engine *e, anpurt_progress_fn progress, void *user)
{
	const char *path = e->model->path;
	struct accel_bo_file src = {
		.offset = e->data_start, .size = e->data_end - e->data_start,
		.progress = progress, .progress_user = user,
	};
	int model_fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t avail;
	int ret, fp_ret;

	if (model_fd < 0)
		return rt_error(-errno, "%s: %s", path, strerror(errno));
	src.fd = model_fd;
	e->cache_layout = weights_cache_open(e, model_fd, &src);
	ret = accel_bo_create_from_file(e->dev, &src, &e->weights);
	if (ret && e->cache_layout) {	/* the cache file would not map: the model file then */
		close(src.fd);
		e->cache_layout = 0;
		src.fd = model_fd;
		src.offset = e->data_start;
		ret = accel_bo_create_from_file(e->dev, &src, &e->weights);
	}
	if (src.fd != model_fd)
		close(src.fd);
	/*
	 * The fingerprint: from the device's view of the weights (through anpu.ko
	 * the file's pages are gone), or, when they come regrouped from the cache,
	 * from the model file, read (mapped, its pages would count in RSS).
	 */
	if (!ret && !e->cache_layout)
		e->fingerprint = model_fingerprint(e->model, accel_bo_map(e->weights), e->data_start);
	fp_ret = !ret && e->cache_layout ? model_fingerprint_fd(e->model, model_fd, &e->fingerprint) : 0;
	close(model_fd);
	if (fp_ret)
		return rt_error(fp_ret, "%s: %s", path, strerror(-fp_ret));
	if (engine_mem_full(e, ret, &avail))
		return rt_error(-ENOMEM, "the model does not fit: its weights need %llu bytes "
				"of device memory, %s has %llu bytes available%s",
				(unsigned long long)src.size, e->info.path,
				(unsigned long long)avail,
				ret == -EDQUOT ? " (anpu.ko's per-process limit is lower)" : "");
	if (ret == -EIO || ret == -EINVAL)
		return rt_error(ret, "%s: cannot read its tensor data [%llu, %llu): %s", path,
				(unsigned long long)e->data_start,
				(unsigned long long)e->data_end,
				ret == -EIO ? "the file is shorter than its header says"
					    : "bad range (has the file changed?)");
	if (ret)
		return rt_error(ret, "%s: weights buffer of %llu bytes: %s", path,
				(unsigned long long)src.size, strerror(-ret));
	return 0;
}
