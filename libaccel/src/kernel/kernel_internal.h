/* SPDX-License-Identifier: MIT */
/*
 * Kernel backend: /dev/accel/accelN driven by anpu.ko (uapi/drm/anpu_accel.h),
 * through libdrm (version, GEM close, PRIME, syncobjs) and drmIoctl for the
 * driver's own ioctls.
 *
 * Design (docs/libaccel.md, "Kernel backend"):
 *  - One open fd per device handle = one NPU address space. BOs are GEM
 *    objects: BO_CREATE, BO_INFO for the mmap offset, mmap of the fd
 *    (write-combined). Export/import are PRIME fds.
 *  - Each context is a kernel context plus ONE timeline syncobj; a job's
 *    fence is the timeline point = its seqno on the context (the kernel's
 *    SUBMIT seqno: the library serialises the submits of a context, so the
 *    point it names before the ioctl is the seqno the kernel hands out).
 *    Dependencies become SUBMIT in_syncs on those timeline points (a context
 *    of another device handle of the same NPU: its timeline syncobj imported
 *    into this fd once, cached). Nothing waits in userspace per job: the
 *    kernel's scheduler holds a job until its in-fences signal.
 *  - Completion thread: ONE per device handle, started lazily by the first
 *    submit that has an on_complete callback or meets an installed observer
 *    (never otherwise), stopped and joined by device close. It learns of
 *    completions without polling: an eventfd registered with
 *    DRM_IOCTL_SYNCOBJ_EVENTFD on each busy context's timeline syncobj at
 *    the point of its oldest undelivered job ("armed"; by the submit that
 *    makes a context busy, and by the thread after each delivery). It sleeps
 *    in read(eventfd), then delivers (callbacks, observer, command-buffer
 *    and profile references dropped, back-pressure waiters released) in
 *    device-completion order, like the in-process completion thread. While
 *    it runs, it is the only deliverer (fence wait/poll/status just learn
 *    how far a timeline is; context free hands its jobs to it), so
 *    callbacks never run on the caller's thread.
 *  - Before the thread runs (no callback, no observer so far), completions
 *    are delivered (references dropped) by the library call that observes
 *    them: fence wait/poll/status on the context, a submit that meets the
 *    in-flight bound, and context free (which waits for its jobs).
 *  - Thread safety: kdev.lock protects the thread's start and the slot
 *    count (back-pressure waiters sleep on kdev.slot_cond); kctx.lock
 *    protects each context's undelivered jobs and its armed point; the
 *    eventfd registration is made under kctx.lock so that an armed point is
 *    never lost between a submit and the thread.
 *  - Job status comes from DRM_ANPU_JOB_INFO (the kernel remembers the last
 *    DRM_ANPU_PARAM_JOB_INFO_DEPTH jobs of a context); statuses fetched for a
 *    delivery are kept in a userspace history as well.
 *  - Fence fds are sync_files: the timeline point is transferred into a
 *    temporary binary syncobj and exported.
 *  - A command buffer with step parameters: the values live after the
 *    stream and are read by the NPU when the job starts. Each submission
 *    takes a copy of the stream whose previous job has finished (the
 *    original, then up to KSTREAMS - 1 clones made on demand, each with its
 *    own step slots), writes the values there and depends (in-sync) on the
 *    previous submission, so the submissions run one after another without
 *    waiting on the caller's thread; only with all copies busy does a submit
 *    wait for the oldest.
 *  - Fault injection and recovery counters: debugfs
 *    (/sys/kernel/debug/accel/<device>/fault_inject, counters); without
 *    access (not root, no debugfs) the capability is not reported.
 *
 * Files: kernel_device.c (open, close, test support, the ops table),
 * kernel_bo.c (buffer objects), kernel_context.c (the process's context
 * registry, contexts), kernel_completion.c (job status, delivery, the
 * completion thread), kernel_fence.c (fences), kernel_submit.c (submit,
 * back-pressure, step-parameter streams).
 */
#ifndef ACCEL_KERNEL_INTERNAL_H
#define ACCEL_KERNEL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <xf86drm.h>

#include "libaccel/src/accel_internal.h"
#include "uapi/drm/anpu_accel.h"
#include "uapi/drm/anpu_isa.h"

/*
 * DRM_IOCTL_SYNCOBJ_EVENTFD (kernel 6.6+; the 6.12 uapi <drm/drm.h>) is
 * missing from libdrm 2.4.114's copy of drm.h and libdrm has no wrapper:
 * struct drm_syncobj_eventfd of the kernel ABI, under a local name, with
 * the kernel's ioctl number.
 */
struct kdrm_syncobj_eventfd {
	uint32_t handle;	/* timeline syncobj */
	uint32_t flags;		/* 0: wait for the point to signal */
	uint64_t point;
	int32_t fd;		/* eventfd, incremented by one when it signals */
	uint32_t pad;		/* 0 */
};
_Static_assert(sizeof(struct kdrm_syncobj_eventfd) == 24, "drm_syncobj_eventfd ABI");
#define KDRM_IOCTL_SYNCOBJ_EVENTFD	DRM_IOWR(0xCF, struct kdrm_syncobj_eventfd)

#define KMAX_JOBS	256	/* unfinished jobs per device handle */
#define KHIST		256	/* job statuses remembered per context */
#define KIMPORTS	64	/* foreign timeline syncobjs cached per device handle */
#define KCTX_HASH	256
#define KDEVICE_ID_BASE	0x4b000000u	/* accel_fence.device_id = base | minor */
#define KSTREAMS	8	/* stream copies per command buffer with step parameters */
#define KBUSY_MAX	256	/* busy contexts one delivery round looks at */

/* cb->priv of a command buffer with step parameters (under its step lock) */
struct kstreams {
	unsigned int n, next;
	struct {
		struct accel_bo *bo;	/* [0] is cb->stream_bo */
		struct accel_fence last;	/* its last job */
	} s[KSTREAMS];
	uint32_t vals[ANPU_STEP_PARAMS_MAX];	/* the values of the last submission */
};

/* A GEM handle shared by the accel_bos of one file that name it (imports). */
struct kgem {
	uint32_t handle;
	int refs;			/* under kdev.lock */
};

struct kbo {
	struct kgem *gem;
	void *map;
	size_t map_size;
};

struct kjob {
	uint64_t seqno;
	struct accel_cmdbuf *cb;
	struct accel_profile *prof;
	accel_complete_fn fn;
	void *user;
	int64_t submit_ns;
};

struct khist {
	uint64_t seqno;
	bool valid;			/* @st holds the status */
	int64_t submit_ns;
	struct accel_job_status st;
};

struct kdev;

/*
 * A kernel context behind a library context. A job that faults or hangs
 * makes its kernel context guilty (later SUBMITs fail with -ECANCELED); the
 * library context then goes on on a fresh kernel context, whose seqno 1 is
 * library seqno base + 1, like the in-process NPU, where a context survives
 * its faults.
 */
struct kgen {
	uint32_t kid;
	uint64_t base;
};

#define KGENS		8	/* kernel contexts kept per context (JOB_INFO of old jobs) */

struct kctx {
	uint32_t id;			/* accel_fence.context_id, unique in the process */
	struct kgen gens[KGENS];	/* oldest first; the last one takes submits */
	unsigned int n_gens;		/* written under submit_lock and lock */
	uint32_t syncobj;		/* timeline, on kd->fd */
	unsigned int queue;
	struct kdev *kd;
	struct kctx *hash_next;		/* under reg_lock */
	int refs;			/* under reg_lock: the context + lookups */
	bool dead;			/* removed from the registry */
	/* submit_lock orders SUBMIT ioctls: timeline points in order */
	pthread_mutex_t submit_lock;
	/* lock protects: jobs, hist, completed, delivering, gens (read) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	_Atomic uint64_t last_point;	/* last seqno submitted */
	uint64_t completed;		/* every seqno <= this finished */
	uint64_t armed;			/* eventfd registered at this point */
	struct kjob *jobs;		/* undelivered, by seqno: ring */
	unsigned int head, n, cap;
	unsigned int delivering;
	struct khist hist[KHIST];
};

struct kimport {
	uint32_t ctx_id, handle;
};

struct kdev {
	int fd;
	uint32_t device_id;
	char debugfs[160];		/* /sys/kernel/debug/accel/<unique> or "" */
	struct accel_device *front;
	unsigned int max_jobs;
	/* lock protects: inflight, ctxs, imports, gem refs, stats */
	pthread_mutex_t lock;
	unsigned int inflight;
	struct kctx **ctxs;
	unsigned int n_ctxs, cap_ctxs;
	struct kimport imports[KIMPORTS];
	unsigned int n_imports, next_import;
	uint64_t submitted, completed, failed;
	/* the completion thread (started under lock; efd fixed once thread_on) */
	atomic_bool thread_on;
	bool thread_failed;		/* no eventfd support: never retried */
	atomic_bool stop;
	int efd;
	pthread_t thread;
	pthread_cond_t slot_cond;	/* inflight dropped (with the thread) */
};

static inline int kioctl(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg) ? -errno : 0;
}

static inline struct kdev *kdev_of(struct accel_device *dev)
{
	return dev->priv;
}

static inline uint32_t kbo_handle(const struct accel_bo *bo)
{
	return ((const struct kbo *)bo->priv)->gem->handle;
}

/* ---- kernel_device.c: the backend's operations ---- */
int kernel_open(struct accel_device *dev, const char *path,
		const struct accel_device_params *params);
void kernel_close(struct accel_device *dev);
int kernel_inject_fault(struct accel_device *dev, unsigned int queue, uint32_t mode);
int kernel_stats(struct accel_device *dev, struct accel_device_stats *stats);

/* ---- kernel_bo.c ---- */
int kernel_bo_alloc(struct accel_device *dev, struct accel_bo *bo);
void kernel_bo_release(struct accel_device *dev, struct accel_bo *bo);
int kernel_bo_export(struct accel_bo *bo, int64_t *token);
int kernel_bo_import(struct accel_device *dev, int64_t token, struct accel_bo *bo);

/* ---- kernel_context.c: contexts and the process's registry of them ---- */
int kernel_context_create(struct accel_device *dev, struct accel_context *ctx);
void kernel_context_destroy(struct accel_device *dev, struct accel_context *ctx);
/* The live context @id with a reference, or NULL (never existed or freed). */
struct kctx *kctx_get(uint32_t id);
void kctx_put(struct kctx *c);
/* Snapshot the contexts of @kd with undelivered jobs (referenced). */
unsigned int kdev_busy_contexts(struct kdev *kd, struct kctx **out, unsigned int max);

/* ---- kernel_completion.c: job status, delivery, the completion thread ---- */
/*
 * Status of finished job @seqno of @c: the history, else JOB_INFO. 0,
 * -ENOENT (forgotten), -EAGAIN (the kernel does not call it done yet).
 */
int kctx_job_status(struct kctx *c, uint64_t seqno, struct accel_job_status *st);
/* Deliver @c's finished jobs up to @done (0: ask the kernel how far it is). */
void kctx_retire(struct kctx *c, uint64_t done);
/* Deliver what finished on every context of @kd (@known: up to @seqno, no query). */
void kdev_retire_all(struct kdev *kd, const struct kctx *known, uint64_t seqno);
/* True on the completion thread of @kd (a callback or observer running there). */
bool kdev_on_thread(struct kdev *kd);
/* Under @c's lock, with the thread running: the eventfd armed at @c's oldest job. */
void kctx_arm_locked(struct kdev *kd, struct kctx *c);
/* Wake the completion thread. */
void kdev_kick(struct kdev *kd);
/* Start @kd's completion thread if it is not running (once). */
void kdev_start_thread(struct kdev *kd);
/* Device close: stop and join the thread (every context is freed already). */
void kdev_stop_thread(struct kdev *kd);
/* Learn how far @c's timeline is; deliver too, unless the thread does that. */
void kctx_observe(struct kctx *c);

/* ---- kernel_fence.c ---- */
int kernel_fence_wait(struct accel_device *dev, const struct accel_fence *f, int64_t timeout_ns);
int kernel_fence_poll(struct accel_device *dev, const struct accel_fence *f);
int kernel_fence_status(struct accel_device *dev, const struct accel_fence *f,
			struct accel_job_status *st);
int kernel_fence_export_fd(struct accel_device *dev, const struct accel_fence *f, int *fd);
/*
 * The live context of @f with a reference (*out = NULL: freed, so finished).
 * -EXDEV for another NPU's fence, -EINVAL for a seqno never submitted.
 */
int kfence_ctx(struct kdev *kd, const struct accel_fence *f, struct kctx **out);
/* Every seqno <= the result finished (as far as this process knows). */
uint64_t kctx_completed(struct kctx *c);
/*
 * 0 finished, -ETIMEDOUT not in time (@deadline absolute CLOCK_MONOTONIC ns).
 * With @deliver, delivers what finished (callbacks run on this thread).
 */
int kctx_wait(struct kctx *c, uint64_t seqno, int64_t deadline, bool deliver);

/* ---- kernel_submit.c ---- */
int kernel_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
		  const struct accel_submit_params *p, struct accel_fence *out, int64_t submit_ns);
void kernel_cmdbuf_release(struct accel_cmdbuf *cb);

#endif /* ACCEL_KERNEL_INTERNAL_H */
