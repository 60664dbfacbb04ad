// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko fdinfo (Documentation/gpu/drm-usage-stats.rst): drm_show_fdinfo()
 * prints drm-driver, drm-client-id and drm-pdev; we add the NPU engine's busy
 * time (device time of the file's finished jobs), memory through
 * drm_show_memory_stats() and anpu- keys.
 */

#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "anpu_drv.h"

void anpu_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct anpu_file *af = file->driver_priv;
	unsigned long id;
	unsigned int n = 0;
	void *ctx;

	drm_printf(p, "drm-engine-npu:\t%llu ns\n", (u64)atomic64_read(&af->busy_ns));
	drm_show_memory_stats(p, file);
	xa_for_each(&af->ctxs, id, ctx)
		n++;
	drm_printf(p, "anpu-contexts:\t%u\n", n);
	drm_printf(p, "anpu-jobs-submitted:\t%llu\n",
		   (u64)atomic64_read(&af->jobs_submitted));
	drm_printf(p, "anpu-faults:\t%llu\n", (u64)atomic64_read(&af->faults));
	drm_printf(p, "anpu-asid:\t%u\n", READ_ONCE(af->as->asid));
}
