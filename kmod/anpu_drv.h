/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * anpu.ko: the device and file structures shared by the DRM layer (drv, gem,
 * mmu, ctx, job, sched, recovery, submit, pm, fdinfo, debugfs), the hardware
 * layer and the bus glue. What only the job files share is in anpu_job.h.
 *
 * Lock order (outer first):
 *   dma_resv locks -> anpu_ctx.lock -> anpu_file.job_fence_lock (spinlock)
 *   dma_resv locks -> anpu_ctx.lock -> anpu_ctx.info_lock (spinlock)
 *   anpu_device.vm_lock -> anpu_device.mm_lock
 *   anpu_device.vm_lock -> anpu_file.job_fence_lock (spinlock)
 *   anpu_device.asid_lock -> anpu_file.job_fence_lock (spinlock)
 * SUBMIT first pins its address space's hardware id (anpu_device.asid_lock,
 * dropped again; it may wait for another file's jobs with no lock held),
 * then takes anpu_device.vm_lock (NPU addresses) and drops it before it
 * locks the reservations; then, with them held, anpu_ctx.lock around arm and
 * push (anpu_submit.c). CTX_DESTROY takes anpu_ctx.lock alone. Freeing a BO or
 * a page table reads the file's job fence under anpu_device.vm_lock.
 *   anpu_queue.ring_lock -> anpu_hw.queue[].lock
 *   anpu_hw.ctrl_lock -> anpu_hw.queue[].lock
 *   anpu_queue.ring_lock -> anpu_ctx.info_lock (spinlock)
 *   anpu_nl_lock (anpu_netlink.c: the devices netlink requests use) ->
 *	anpu_device.mm_lock
 */
#ifndef __ANPU_DRV_H__
#define __ANPU_DRV_H__

#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>
#include <drm/drm_gem.h>
#include <drm/drm_mm.h>
#include <drm/gpu_scheduler.h>

#include "anpu_hw.h"
#include "uapi/drm/anpu_accel.h"

struct anpu_dump;
struct anpu_file;
struct anpu_pt;
struct dma_buf;
struct seq_file;

#define ANPU_DRIVER_NAME	"anpu"

#define ANPU_JOB_TIMEOUT_MS	2000
#define ANPU_JOB_INFO_DEPTH	256	/* power of two; libaccel's accel.h promises 256 */
#define ANPU_AUTOSUSPEND_MS	100
#define ANPU_RESET_MIN_GAP_MS	100	/* resets are at least this far apart */
/*
 * A device that does nothing: a queue's waiting job times out this many
 * times in a row with no activity anywhere on the device (every queue's
 * PROGRESS and JOBS_DONE unchanged since the previous timeout) and no queue
 * HUNG: the device is wedged and gets a device reset (anpu_recovery.c).
 */
#define ANPU_WEDGE_TIMEOUTS	2
#define ANPU_MAX_BOS		4096
#define ANPU_MAX_SYNCS		64
/*
 * Largest element stride of a SUBMIT array: copy_struct_from_user() checks
 * the bytes past the kernel's element size for zero, so a user-chosen
 * stride of 4 GiB made one SUBMIT scan terabytes (docs/kernel-abi.md).
 */
#define ANPU_MAX_STRIDE		256
#define ANPU_VA_START		SZ_2M	/* first NPU address handed out */
#define ANPU_VA_GUARD		ANPU_PAGE_SIZE	/* unmapped gap after every BO */
#define ANPU_ZERO_CHUNK		SZ_2M	/* BOs are zeroed this much at a time */

/**
 * struct anpu_fence_wait - one fence a deferred release waits for
 * @link: in anpu_reclaim.waits.
 * @fence: the fence (a reference is held), NULL once signalled or none.
 */
struct anpu_fence_wait {
	struct list_head link;
	struct dma_fence *fence;
};

/**
 * struct anpu_reclaim - device memory released once every job that may still
 *	use it has ended (the NPU keeps the translations a job made at its
 *	validation, so freed memory and page tables wait for the jobs of every
 *	address space that mapped them, docs/hardware.md section 7.1)
 * @adev: the device (a drm_dev reference is held while it waits).
 * @waits: struct anpu_fence_wait.link, the fences waited for, in order.
 * @fence: the fence waited for now (a job's, from a wait's chain;
 *	referenced), or NULL.
 * @cb: the callback on @fence; it only queues the work.
 * @ready: in anpu_device.reclaim_ready once that fence has signalled.
 * @release: frees the memory and the structure embedding this.
 *
 * Embedded in what it releases (BO, page table): nothing is allocated when
 * the release is deferred, nor in the fence callback.
 */
struct anpu_reclaim {
	struct anpu_device *adev;
	struct list_head waits;
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	struct llist_node ready;
	void (*release)(struct anpu_reclaim *r);
};

/**
 * struct anpu_counters - live objects, for leak checks (debugfs "counters")
 * @bos: buffer objects.
 * @jobs: jobs not yet freed.
 * @contexts: scheduling contexts.
 * @address_spaces: NPU address spaces (one per open file until its jobs end).
 * @resets_queue: queue resets done by recovery.
 * @resets_device: device resets done by recovery.
 * @jobs_resubmitted: jobs a reset dropped that recovery ran again (the hung
 *	job itself not counted).
 */
struct anpu_counters {
	atomic_t bos;
	atomic_t jobs;
	atomic_t contexts;
	atomic_t address_spaces;
	atomic_t resets_queue;
	atomic_t resets_device;
	atomic_t jobs_resubmitted;
};

/**
 * struct anpu_queue_stats - a queue's job statistics since the device was
 *	bound (netlink ANPU_NL_CMD_STATS_GET; per-file figures are in fdinfo)
 * @jobs_submitted: jobs pushed to the scheduler.
 * @jobs_completed: jobs that ended without error.
 * @jobs_failed: jobs that ended with an error or were cancelled.
 * @busy_ns: device time of the jobs that ran.
 * @faults: jobs that faulted or hung.
 */
struct anpu_queue_stats {
	atomic64_t jobs_submitted;
	atomic64_t jobs_completed;
	atomic64_t jobs_failed;
	atomic64_t busy_ns;
	atomic64_t faults;
};

/**
 * struct anpu_queue - the DRM side of one hardware queue
 * @adev: the device.
 * @index: queue index (= priority).
 * @sched: the scheduler feeding this queue's ring.
 * @fence_context: dma-fence context of the hardware fences.
 * @fence_lock: the hardware fences' dma_fence lock.
 * @ring_lock: protects @inflight and orders pushes to the ring with it.
 * @inflight: jobs on the ring, in ring order (struct anpu_job.ring_link).
 * @fence_seqno: seqno of the last hardware fence (under @ring_lock).
 * @hc_seqno: hang check: hardware seqno seen running at the last timeout.
 * @hc_progress: hang check: PROGRESS at the last timeout.
 * @wd_activity: wedge check: device activity at this queue's last timeout.
 * @wd_valid: @wd_activity was sampled since the last reset.
 * @wd_count: wedge check: consecutive timeouts with @wd_activity unchanged.
 * @fi_mode: fault injection armed through debugfs (ANPU_FI_*).
 * @stats: job statistics (updated at submit and in the completion path).
 *
 * The hang and wedge check fields are used on anpu_device.tdr_wq only.
 */
struct anpu_queue {
	struct anpu_device *adev;
	unsigned int index;
	struct drm_gpu_scheduler sched;
	u64 fence_context;
	spinlock_t fence_lock; /* hardware fences (dma_fence lock) */
	struct mutex ring_lock; /* @inflight, ring pushes */
	struct list_head inflight;
	u64 fence_seqno;
	u64 hc_seqno;
	u32 hc_progress;
	u64 wd_activity;
	bool wd_valid;
	u32 wd_count;
	u32 fi_mode;
	struct anpu_queue_stats stats;
};

/**
 * struct anpu_device - one ANPU
 * @drm: the DRM (accel) device.
 * @hw: hardware layer state.
 * @count: live object counters.
 * @devmem_phys: CPU physical address of device memory (DPA ANPU_DEVMEM_BASE).
 * @mm_lock: protects @mm and @mm_used.
 * @mm: device-memory allocator (BOs and page tables), in DPAs.
 * @mm_used: bytes allocated from @mm.
 * @vm_lock: protects every address space's page tables and VA allocator and
 *	every BO's and address space's mapping lists.
 * @asid_lock: protects @asids, @asid_lru and every address space's @asid,
 *	@asid_pins and @lru (anpu_mmu.c).
 * @asids: hardware address-space ids in use.
 * @asid_lru: address spaces holding an id, least recently submitted first.
 * @reclaim_ready: deferred releases whose fence has signalled (lock-free:
 *	filled by fence callbacks, emptied by @reclaim_work).
 * @reclaim_work: advances @reclaim_ready (anpu_gem.c).
 * @reclaim_pending: deferred releases not done yet.
 * @reclaim_done: deferred releases done (an allocation that failed waits for
 *	it to change).
 * @reclaim_wq: woken when one is done.
 * @files_lock: protects @files.
 * @files: open files (struct anpu_file.link), for debugfs.
 * @queue: the hardware queues.
 * @tdr_wq: ordered workqueue of the four schedulers' timeout handlers (one
 *	recovery at a time).
 * @last_reset: jiffies of the last reset (rate limit).
 * @dump: a devcoredump captured by recovery, not yet handed to devcoredump.
 * @dump_work: hands @dump to devcoredump (outside the fence-signalling path).
 * @fi_power_loss: debugfs "power_loss" holds the device powered down behind
 *	runtime PM's back (and a runtime-PM reference): a wedge for tests.
 * @events_dropped: netlink job events that could not be sent without
 *	sleeping (anpu_netlink.c).
 */
struct anpu_device {
	struct drm_device drm;
	struct anpu_hw hw;
	struct anpu_counters count;
	phys_addr_t devmem_phys;
	struct mutex mm_lock; /* @mm, @mm_used */
	struct drm_mm mm;
	u64 mm_used;
	struct mutex vm_lock; /* page tables, VA allocators, mapping lists */
	struct mutex asid_lock; /* hardware address-space ids */
	struct ida asids;
	struct list_head asid_lru;
	struct llist_head reclaim_ready;
	struct work_struct reclaim_work;
	atomic_t reclaim_pending;
	atomic_t reclaim_done;
	wait_queue_head_t reclaim_wq;
	struct mutex files_lock; /* @files */
	struct list_head files;
	struct anpu_queue queue[ANPU_HW_NUM_QUEUES];
	struct workqueue_struct *tdr_wq;
	unsigned long last_reset;
	struct anpu_dump *dump;
	struct work_struct dump_work;
	atomic_t fi_power_loss;
	atomic64_t events_dropped;
};

/**
 * struct anpu_as - an NPU address space (one per open file)
 * @adev: the device.
 * @ref: the file and each of its jobs.
 * @file: its file (not referenced: the file owns the address space).
 * @asid: hardware address-space id, 0 while it has none (bound on demand at
 *	submit, anpu_as_pin(); taken back from an idle address space when all
 *	are in use). Under anpu_device.asid_lock; stable while pinned.
 * @asid_pins: submits between anpu_as_pin() and anpu_as_unpin().
 * @lru: in anpu_device.asid_lru while it holds an id.
 * @root: level-0 page table.
 * @va: NPU address allocator (under anpu_device.vm_lock).
 * @mappings: struct anpu_mapping.as_link (under anpu_device.vm_lock).
 */
struct anpu_as {
	struct anpu_device *adev;
	struct kref ref;
	struct anpu_file *file;
	u32 asid;
	u32 asid_pins;
	struct list_head lru;
	struct anpu_pt *root;
	struct drm_mm va;
	struct list_head mappings;
};

/**
 * struct anpu_bo - a buffer object in device memory
 * @base: the GEM object.
 * @node: its device memory.
 * @flags: DRM_ANPU_BO_*.
 * @mappings: struct anpu_mapping.bo_link (under anpu_device.vm_lock).
 * @reclaim: releases @node once the jobs that may use it have ended.
 */
struct anpu_bo {
	struct drm_gem_object base;
	struct drm_mm_node node;
	u32 flags;
	struct list_head mappings;
	struct anpu_reclaim reclaim;
};

/**
 * struct anpu_mapping - a BO mapped into an address space
 * @bo: the BO (not referenced: the mapping goes before the BO).
 * @as: the address space (not referenced: the mapping goes before it).
 * @va: its NPU address range (with the guard gap).
 * @bo_link: in anpu_bo.mappings.
 * @as_link: in anpu_as.mappings.
 * @wait: once the BO is freed: the last job fence of @as then (the BO's
 *	memory waits for it, anpu_bo.reclaim).
 */
struct anpu_mapping {
	struct anpu_bo *bo;
	struct anpu_as *as;
	struct drm_mm_node va;
	struct list_head bo_link;
	struct list_head as_link;
	struct anpu_fence_wait wait;
};

/**
 * struct anpu_job_record - what JOB_INFO reports of a recent job
 * @seqno: the job's seqno on its context (0: free).
 * @info: the reply (ctx_id, pad and seqno fields unused).
 */
struct anpu_job_record {
	u64 seqno;
	struct drm_anpu_job_info info;
};

/**
 * struct anpu_ctx - a scheduling context
 * @ref: the file's id table and each job.
 * @file: the file (not referenced; valid while the context is in its table).
 * @id: id within the file.
 * @queue: its hardware queue (= priority).
 * @entity: its scheduler entity on @queue.
 * @lock: protects @next_seqno and @destroyed and orders job arm + push
 *	(entity order). SUBMIT holds it from its last check to the push, and
 *	CTX_DESTROY sets @destroyed under it before it destroys @entity: no job
 *	is ever pushed to a killed entity.
 * @next_seqno: seqno of the next job.
 * @destroyed: CTX_DESTROY (or the file's close) has begun destroying @entity.
 * @guilty: a job of this context faulted or hung: later submits fail.
 * @info_lock: protects @records (taken in the job-completion path).
 * @records: the last ANPU_JOB_INFO_DEPTH jobs, by seqno.
 */
struct anpu_ctx {
	struct kref ref;
	struct anpu_file *file;
	u32 id;
	struct anpu_queue *queue;
	struct drm_sched_entity entity;
	struct mutex lock; /* @next_seqno, @destroyed, arm + push order */
	u64 next_seqno;
	bool destroyed;
	atomic_t guilty;
	spinlock_t info_lock; /* @records */
	struct anpu_job_record records[ANPU_JOB_INFO_DEPTH];
};

/**
 * struct anpu_file - per open file
 * @ref: the DRM file and each job (the address space goes with the last).
 * @adev: the device.
 * @drm_file: the DRM file (NULL once it is closed).
 * @as: its NPU address space.
 * @ctxs: contexts by id (xarray's own lock).
 * @busy_ns: sum of its jobs' device times.
 * @jobs_submitted: jobs submitted.
 * @faults: jobs that faulted or hung.
 * @devmem_bytes: size of the BOs it holds handles to (the per-file limit).
 * @link: in anpu_device.files.
 * @job_fence_lock: protects @last_job_fence and @job_fence_seqno.
 * @last_job_fence: a dma_fence_chain of the finished fences of every job
 *	pushed so far: it signals once all of them have (NULL before the first
 *	job). See anpu_file_last_job_fence().
 * @job_fence_seqno: seqno of @last_job_fence's newest link.
 */
struct anpu_file {
	struct kref ref;
	struct anpu_device *adev;
	struct drm_file *drm_file;
	struct anpu_as *as;
	struct xarray ctxs;
	atomic64_t busy_ns;
	atomic64_t jobs_submitted;
	atomic64_t faults;
	atomic64_t devmem_bytes;
	struct list_head link;
	spinlock_t job_fence_lock; /* @last_job_fence, @job_fence_seqno */
	struct dma_fence *last_job_fence;
	u64 job_fence_seqno;
};

static inline struct anpu_device *to_anpu(struct drm_device *drm)
{
	return container_of(drm, struct anpu_device, drm);
}

static inline struct anpu_bo *to_anpu_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct anpu_bo, base);
}

/* anpu_drv.c */
struct anpu_device *anpu_device_alloc(struct device *parent);
int anpu_device_register(struct anpu_device *adev);
void anpu_device_unregister(struct anpu_device *adev);

struct anpu_file *anpu_file_get(struct anpu_file *af);
void anpu_file_put(struct anpu_file *af);
/* per-file limits (module parameters; docs/kernel-abi.md): past one, -EDQUOT */
u32 anpu_file_max_contexts(void);
u64 anpu_file_max_devmem(struct anpu_device *adev);

/* anpu_gem.c */
int anpu_devmem_alloc(struct anpu_device *adev, struct drm_mm_node *node,
		      u64 size, u64 align);
void anpu_devmem_free(struct anpu_device *adev, struct drm_mm_node *node);
void anpu_reclaim_init(struct anpu_device *adev, struct anpu_reclaim *r,
		       void (*release)(struct anpu_reclaim *r));
void anpu_reclaim_start(struct anpu_reclaim *r);
void anpu_reclaim_work(struct work_struct *work);
int anpu_reclaim_wq_init(void);
void anpu_reclaim_wq_fini(void);
u64 anpu_devmem_free_bytes(struct anpu_device *adev);
struct drm_gem_object *anpu_gem_prime_import(struct drm_device *dev,
					     struct dma_buf *dma_buf);
int anpu_ioctl_bo_create(struct drm_device *dev, void *data, struct drm_file *file);
int anpu_ioctl_bo_info(struct drm_device *dev, void *data, struct drm_file *file);
int anpu_bo_npu_addr(struct anpu_bo *bo, struct anpu_as *as, u64 *addr);
void anpu_debugfs_bos(struct anpu_device *adev, struct seq_file *m);

/* anpu_mmu.c */
struct anpu_as *anpu_as_create(struct anpu_device *adev, struct anpu_file *af);
void anpu_as_put(struct anpu_as *as);
int anpu_as_map(struct anpu_as *as, struct anpu_bo *bo);
void anpu_as_unmap_bo(struct anpu_bo *bo);
/* fault points (ALLOW_ERROR_INJECTION): page tables, address-space ids */
int anpu_pt_alloc(struct anpu_device *adev, int level, struct anpu_pt **out);
int anpu_asid_alloc(struct anpu_device *adev);
/*
 * anpu_as_pin() - give @as a hardware address-space id (bound on demand) and
 * keep it until anpu_as_unpin(). SUBMIT pins its file's address space from
 * before it reads as->asid into the descriptor until the job's finished
 * fence is in anpu_file.last_job_fence (anpu_submit.c, at the push), so an id is
 * only ever taken back from an address space that is not pinned and whose
 * file has no job that has not ended: no job that may still start names it.
 * When every id is held by a busy address space it waits (interruptibly)
 * for the least recently submitted one. Return: 0, -ERESTARTSYS, -ENOMEM.
 */
int anpu_as_pin(struct anpu_as *as);
void anpu_as_unpin(struct anpu_as *as);
struct anpu_mapping *anpu_as_find_locked(struct anpu_as *as, struct anpu_bo *bo);

/* anpu_ctx.c */
int anpu_ioctl_ctx_create(struct drm_device *dev, void *data, struct drm_file *file);
int anpu_ioctl_ctx_destroy(struct drm_device *dev, void *data, struct drm_file *file);
int anpu_ioctl_job_info(struct drm_device *dev, void *data, struct drm_file *file);
struct anpu_ctx *anpu_ctx_lookup(struct anpu_file *af, u32 id);
void anpu_ctx_put(struct anpu_ctx *ctx);
void anpu_ctx_release_all(struct anpu_file *af);
void anpu_ctx_record(struct anpu_ctx *ctx, u64 seqno,
		     const struct drm_anpu_job_info *info);

/* anpu_job.c */
/*
 * anpu_file_last_job_fence() - a fence that signals once every job pushed
 * for @af so far has ended, whatever its context (NULL: none was pushed, or
 * all have ended). A reference is returned.
 * Deferred frees of device memory (anpu_gem.c) and the recycling of
 * address-space ids (anpu_mmu.c) wait for it.
 */
struct dma_fence *anpu_file_last_job_fence(struct anpu_file *af);
void anpu_jobs_done(struct anpu_hw *hw);

/* anpu_sched.c */
int anpu_sched_init(struct anpu_device *adev);
void anpu_sched_fini(struct anpu_device *adev);
void anpu_queues_kick(struct anpu_device *adev);

/* anpu_recovery.c */
int anpu_recover(struct anpu_device *adev, int queue);

/* anpu_submit.c */
int anpu_ioctl_submit(struct drm_device *dev, void *data, struct drm_file *file);

/* anpu_pm.c */
int anpu_pm_init(struct anpu_device *adev);
void anpu_pm_fini(struct anpu_device *adev);
int anpu_pm_get(struct anpu_device *adev);
void anpu_pm_put(struct anpu_device *adev);
int anpu_fi_power_loss(struct anpu_device *adev, bool on);
extern const struct dev_pm_ops anpu_pm_ops;

/* anpu_fdinfo.c */
void anpu_show_fdinfo(struct drm_printer *p, struct drm_file *file);

/* anpu_debugfs.c */
void anpu_debugfs_init(struct anpu_device *adev);

/* anpu_coredump.c */
void anpu_coredump_init(struct anpu_device *adev);
void anpu_coredump_fini(struct anpu_device *adev);
void anpu_coredump(struct anpu_device *adev, unsigned int queue, u64 seqno);

/* anpu_netlink.c (the job event is declared in anpu_job.h) */
int anpu_nl_init(void);
void anpu_nl_fini(void);
int anpu_nl_device_add(struct anpu_device *adev);
void anpu_nl_device_remove(struct anpu_device *adev);

/* anpu_pci.c */
int anpu_pci_register(void);
void anpu_pci_unregister(void);

#endif /* __ANPU_DRV_H__ */
