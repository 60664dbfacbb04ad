// SPDX-License-Identifier: MIT
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
 */
#include "libaccel/src/accel_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xf86drm.h>

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

static void stop_thread(struct kdev *kd);

/* ---- the process's contexts (fences name contexts of any device handle) ---- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kctx *reg[KCTX_HASH];
static uint32_t next_ctx_id;
static pthread_mutex_t step_locks[16] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER,
};

static void reg_add(struct kctx *c)
{
	pthread_mutex_lock(&reg_lock);
	do {
		c->id = ++next_ctx_id;
	} while (!c->id);
	c->refs = 1;
	c->hash_next = reg[c->id % KCTX_HASH];
	reg[c->id % KCTX_HASH] = c;
	pthread_mutex_unlock(&reg_lock);
}

/* The live context @id with a reference, or NULL (never existed or freed). */
static struct kctx *ctx_get(uint32_t id)
{
	struct kctx *c;

	pthread_mutex_lock(&reg_lock);
	for (c = reg[id % KCTX_HASH]; c && c->id != id; c = c->hash_next)
		;
	if (c)
		c->refs++;
	pthread_mutex_unlock(&reg_lock);
	return c;
}

static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;

static void ctx_put(struct kctx *c)
{
	pthread_mutex_lock(&reg_lock);
	if (--c->refs == 1 && c->dead)
		pthread_cond_broadcast(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
}

/* Remove @c from the registry and wait until no lookup holds it. */
static void reg_remove(struct kctx *c)
{
	struct kctx **link;

	pthread_mutex_lock(&reg_lock);
	for (link = &reg[c->id % KCTX_HASH]; *link; link = &(*link)->hash_next) {
		if (*link == c) {
			*link = c->hash_next;
			break;
		}
	}
	c->dead = true;
	while (c->refs > 1)
		pthread_cond_wait(&reg_cond, &reg_lock);
	pthread_mutex_unlock(&reg_lock);
}

/* ---- helpers ---- */

static int kioctl(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg) ? -errno : 0;
}

static struct kdev *kd_of(struct accel_device *dev)
{
	return dev->priv;
}

static int get_param(int fd, uint32_t param, uint64_t *value)
{
	struct drm_anpu_get_param gp = { .param = param };
	int ret = kioctl(fd, DRM_IOCTL_ANPU_GET_PARAM, &gp);

	if (!ret)
		*value = gp.value;
	return ret;
}

/* ---- open / close ---- */

static void calibrate(struct kdev *kd, struct accel_device_info *info)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 8; i++) {
		struct drm_anpu_clock_sample cs = { 0 };

		if (kioctl(kd->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &cs))
			break;
		if (cs.uncertainty_ns < best) {
			best = cs.uncertainty_ns;
			info->clock_offset_ns = (int64_t)(cs.monotonic_ns - cs.device_ns);
			info->clock_uncertainty_ns = cs.uncertainty_ns;
		}
	}
}

static void find_debugfs(struct kdev *kd, unsigned int minor)
{
	char link[96], target[PATH_MAX], path[sizeof(kd->debugfs)];
	const char *base;
	ssize_t n;

	kd->debugfs[0] = '\0';
	snprintf(link, sizeof(link), "/sys/class/accel/accel%u/device", minor);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) > 100)
		return;
	snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%.100s", base);
	if (access(path, F_OK) == 0)
		snprintf(kd->debugfs, sizeof(kd->debugfs), "%s", path);
}

static int kernel_open(struct accel_device *dev, const char *path,
		       const struct accel_device_params *params)
{
	struct accel_device_info *info = &dev->info;
	uint64_t v[10] = { 0 };
	drmVersionPtr ver;
	struct kdev *kd;
	struct stat st;
	char fi[sizeof(kd->debugfs) + 16];
	int fd, ret;

	(void)params;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
	ver = drmGetVersion(fd);
	if (!ver || strcmp(ver->name, "anpu") || fstat(fd, &st) || !S_ISCHR(st.st_mode)) {
		if (ver)
			drmFreeVersion(ver);
		close(fd);
		return -ENODEV;
	}
	drmFreeVersion(ver);
	for (uint32_t p = 0; p <= DRM_ANPU_PARAM_JOB_TIMEOUT_MS; p++) {
		ret = get_param(fd, p, &v[p]);
		if (ret) {
			close(fd);
			return ret;
		}
	}
	kd = calloc(1, sizeof(*kd));
	if (!kd) {
		close(fd);
		return -ENOMEM;
	}
	kd->fd = fd;
	kd->front = dev;
	kd->device_id = KDEVICE_ID_BASE | (minor(st.st_rdev) & 0xffffff);
	kd->max_jobs = KMAX_JOBS;
	kd->efd = -1;
	pthread_mutex_init(&kd->lock, NULL);
	pthread_cond_init(&kd->slot_cond, NULL);
	find_debugfs(kd, minor(st.st_rdev));
	dev->priv = kd;

	info->backend = ACCEL_BACKEND_KERNEL;
	snprintf(info->path, sizeof(info->path), "%s", path);
	snprintf(info->name, sizeof(info->name), "accel%u", minor(st.st_rdev));
	info->hw_version = (uint32_t)v[DRM_ANPU_PARAM_HW_VERSION];
	info->isa_version = (uint32_t)v[DRM_ANPU_PARAM_ISA_VERSION];
	info->caps = (uint32_t)v[DRM_ANPU_PARAM_CAPS];
	info->num_queues = (uint32_t)v[DRM_ANPU_PARAM_NUM_QUEUES];
	info->mem_total = v[DRM_ANPU_PARAM_DEVMEM_SIZE];
	info->max_jobs_in_flight = kd->max_jobs;
	info->max_deps = ACCEL_MAX_DEPS;
	info->model_threads = 0;
	info->simd[0] = '\0';
	/* fault injection needs the driver's debugfs file (root) */
	snprintf(fi, sizeof(fi), "%s/fault_inject", kd->debugfs);
	if (!kd->debugfs[0] || access(fi, W_OK))
		info->caps &= ~ACCEL_CAP_FAULT_INJECTION;
	calibrate(kd, info);
	return 0;
}

static void kernel_close(struct accel_device *dev)
{
	struct kdev *kd = kd_of(dev);

	if (!kd)
		return;
	/* contexts are gone (the front end destroys them first); imports die with the fd */
	stop_thread(kd);
	close(kd->fd);
	free(kd->ctxs);
	pthread_cond_destroy(&kd->slot_cond);
	pthread_mutex_destroy(&kd->lock);
	free(kd);
	dev->priv = NULL;
}

/* ---- buffer objects ---- */

static int bo_map(struct kdev *kd, uint32_t handle, struct drm_anpu_bo_info *bi, struct kbo *kb)
{
	void *p;
	int ret;

	*bi = (struct drm_anpu_bo_info){ .handle = handle };
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_BO_INFO, bi);
	if (ret)
		return ret;
	p = mmap(NULL, bi->size, PROT_READ | PROT_WRITE, MAP_SHARED, kd->fd, (off_t)bi->mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	kb->map = p;
	kb->map_size = bi->size;
	return 0;
}

static int kernel_bo_alloc(struct accel_device *dev, struct accel_bo *bo)
{
	struct kdev *kd = kd_of(dev);
	struct drm_anpu_bo_create bc = {
		.size = bo->size,
		.flags = (bo->flags & ACCEL_BO_NPU_READ_ONLY) ? DRM_ANPU_BO_NPU_READONLY : 0,
	};
	struct drm_anpu_bo_info bi;
	struct kbo *kb;
	int ret;

	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return -ENOMEM;
	kb->gem = calloc(1, sizeof(*kb->gem));
	if (!kb->gem) {
		free(kb);
		return -ENOMEM;
	}
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_BO_CREATE, &bc);
	if (ret)
		goto fail;
	kb->gem->handle = bc.handle;
	kb->gem->refs = 1;
	ret = bo_map(kd, bc.handle, &bi, kb);
	if (ret) {
		drmCloseBufferHandle(kd->fd, bc.handle);
		goto fail;
	}
	bo->npu_addr = bc.npu_addr;
	bo->host = kb->map;
	bo->priv = kb;
	return 0;
fail:
	free(kb->gem);
	free(kb);
	return ret;
}

static void kernel_bo_release(struct accel_device *dev, struct accel_bo *bo)
{
	struct kdev *kd = kd_of(dev);
	struct kbo *kb = bo->priv;
	int last;

	if (!kb)
		return;
	munmap(kb->map, kb->map_size);
	pthread_mutex_lock(&kd->lock);
	last = --kb->gem->refs == 0;
	pthread_mutex_unlock(&kd->lock);
	if (last) {
		drmCloseBufferHandle(kd->fd, kb->gem->handle);
		free(kb->gem);
	}
	free(kb);
	bo->priv = NULL;
	bo->host = NULL;
}

static int kernel_bo_export(struct accel_bo *bo, int64_t *token)
{
	struct kdev *kd = kd_of(bo->obj.dev);
	struct kbo *kb = bo->priv;
	int fd;

	if (drmPrimeHandleToFD(kd->fd, kb->gem->handle, DRM_CLOEXEC | DRM_RDWR, &fd))
		return -errno;
	*token = fd;
	return 0;
}

static int kernel_bo_import(struct accel_device *dev, int64_t token, struct accel_bo *bo)
{
	struct kdev *kd = kd_of(dev);
	struct drm_anpu_bo_info bi;
	struct kgem *gem = NULL;
	struct accel_obj *o;
	struct kbo *kb;
	uint32_t handle;
	int ret;

	if (token < 0 || token > INT_MAX)
		return -EXDEV;		/* not a PRIME fd: another backend's token */
	if (drmPrimeFDToHandle(kd->fd, (int)token, &handle)) {
		ret = -errno;
		/* a closed fd is a stale token; another driver's dma-buf is another device */
		return ret == -EBADF ? -ENOENT : (ret == -ENOMEM ? ret : -EXDEV);
	}
	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return -ENOMEM;
	/* the same GEM handle when this file already has the BO: share it */
	pthread_mutex_lock(&dev->lock);
	pthread_mutex_lock(&kd->lock);
	for (o = dev->live.next; o != &dev->live; o = o->next) {
		struct accel_bo *other = (struct accel_bo *)o;

		if (o->kind == ACCEL_MAGIC_BO && other->priv &&
		    ((struct kbo *)other->priv)->gem->handle == handle) {
			gem = ((struct kbo *)other->priv)->gem;
			gem->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&kd->lock);
	pthread_mutex_unlock(&dev->lock);
	if (!gem) {
		gem = calloc(1, sizeof(*gem));
		if (!gem) {
			drmCloseBufferHandle(kd->fd, handle);
			free(kb);
			return -ENOMEM;
		}
		gem->handle = handle;
		gem->refs = 1;
	}
	kb->gem = gem;
	ret = bo_map(kd, handle, &bi, kb);
	if (ret) {
		kb->map = NULL;
		bo->priv = kb;
		kernel_bo_release(dev, bo);
		return ret;
	}
	bo->size = bi.size;
	bo->flags = (bi.flags & DRM_ANPU_BO_NPU_READONLY) ? ACCEL_BO_NPU_READ_ONLY : 0;
	bo->npu_addr = bi.npu_addr;
	bo->host = kb->map;
	bo->priv = kb;
	return 0;
}

static uint32_t bo_handle(const struct accel_bo *bo)
{
	return ((const struct kbo *)bo->priv)->gem->handle;
}

/* ---- job status ---- */

static void status_from_info(const struct kctx *c, const struct drm_anpu_job_info *ji,
			     struct accel_job_status *st)
{
	int64_t offset = c->kd->front->info.clock_offset_ns;

	memset(st, 0, sizeof(*st));
	st->result = ji->result;
	st->cause = ji->cause;
	st->error = ji->result != ACCEL_RESULT_OK ? accel_status_errno(ji->result, ji->cause) : 0;
	if (ji->error == ECANCELED)
		st->error = -ECANCELED;
	else if (!st->error && ji->error)
		st->error = -(int)ji->error;
	st->op_index = ji->op_index;
	st->ops_done = ji->ops_done;
	st->fault_addr = ji->fault_addr;
	st->queue = c->queue;
	st->device_start_ns = ji->start_ns;
	st->device_end_ns = ji->end_ns;
	st->start_ns = (int64_t)ji->start_ns + offset;
	st->end_ns = (int64_t)ji->end_ns + offset;
}

/*
 * Status of finished job @seqno of @c: the history, else JOB_INFO. 0,
 * -ENOENT (forgotten), -EAGAIN (the kernel does not call it done yet).
 */
static int job_status(struct kctx *c, uint64_t seqno, struct accel_job_status *st)
{
	struct khist *h = &c->hist[seqno % KHIST];
	struct drm_anpu_job_info ji = { .seqno = 0 };
	int64_t submit_ns = 0;
	int ret;

	pthread_mutex_lock(&c->lock);
	for (unsigned int g = c->n_gens; g-- > 0;) {
		if (seqno > c->gens[g].base) {
			ji.ctx_id = c->gens[g].kid;
			ji.seqno = seqno - c->gens[g].base;
			break;
		}
	}
	if (h->seqno == seqno) {
		submit_ns = h->submit_ns;
		if (h->valid) {
			*st = h->st;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
	} else {
		for (unsigned int i = 0; i < c->n; i++) {
			const struct kjob *j = &c->jobs[(c->head + i) % c->cap];

			if (j->seqno == seqno)
				submit_ns = j->submit_ns;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (!ji.seqno)
		return -ENOENT;
	ret = kioctl(c->kd->fd, DRM_IOCTL_ANPU_JOB_INFO, &ji);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	if (ji.state != DRM_ANPU_JOB_DONE)
		return -EAGAIN;
	status_from_info(c, &ji, st);
	st->submit_ns = submit_ns;
	pthread_mutex_lock(&c->lock);
	if (h->seqno <= seqno) {
		h->seqno = seqno;
		h->valid = true;
		h->submit_ns = submit_ns;
		h->st = *st;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* ---- completion delivery ---- */

#define DELIVER_BATCH	64

struct kdone {
	struct accel_done d;
	struct kctx *c;
	uint64_t key;			/* device end time (0: status not fetched) */
};

/*
 * Deliver the finished jobs of contexts @cs[0..n): those up to @done[i]
 * (0: ask the kernel how far the timeline is). Callbacks and observers run
 * on this thread, with no lock held; jobs observed together are delivered in
 * the order the NPU finished them.
 */
static void deliver(struct kdev *kd, struct kctx *const *cs, const uint64_t *done, unsigned int n)
{
	struct kdone items[DELIVER_BATCH];
	bool popped[256];
	unsigned int ni;

	if (n > 256)
		n = 256;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t v = done[i];
		uint32_t h = cs[i]->syncobj;

		if (!v && drmSyncobjQuery(kd->fd, &h, &v, 1))
			v = 0;
		pthread_mutex_lock(&cs[i]->lock);
		if (v > cs[i]->completed)
			cs[i]->completed = v;
		pthread_mutex_unlock(&cs[i]->lock);
	}
	do {
		struct accel_observer *obs;
		unsigned int failed = 0;

		ni = 0;
		for (unsigned int i = 0; i < n; i++) {
			struct kctx *c = cs[i];

			popped[i] = false;
			pthread_mutex_lock(&c->lock);
			while (c->n && ni < DELIVER_BATCH && c->jobs[c->head].seqno <= c->completed) {
				const struct kjob *j = &c->jobs[c->head];
				struct khist *h = &c->hist[j->seqno % KHIST];

				items[ni++] = (struct kdone){
					.c = c,
					.d = {
						.dev = kd->front, .cb = j->cb, .prof = j->prof,
						.priority = (enum accel_priority)c->queue,
						.fence = { .seqno = j->seqno, .context_id = c->id,
							   .device_id = kd->device_id },
						.fn = j->fn, .user = j->user,
						.status = { .queue = c->queue, .submit_ns = j->submit_ns },
					},
				};
				if (h->seqno < j->seqno) {
					h->seqno = j->seqno;
					h->valid = false;
					h->submit_ns = j->submit_ns;
				}
				c->head = (c->head + 1) % c->cap;
				c->n--;
				popped[i] = true;
			}
			if (popped[i])
				c->delivering++;
			pthread_mutex_unlock(&c->lock);
		}
		if (!ni)
			break;
		obs = atomic_load_explicit(&kd->front->observer, memory_order_acquire);
		for (unsigned int k = 0; k < ni; k++) {
			struct kdone *it = &items[k];
			struct accel_job_status st;

			if (!(it->d.fn || it->d.prof || obs))
				continue;
			/* a job the kernel forgot: finished, outcome unknown */
			if (!job_status(it->c, it->d.fence.seqno, &st)) {
				it->d.status = st;
				it->key = st.device_end_ns;
			}
			failed += it->d.status.error != 0;
		}
		/* insertion sort by device end time (stable; small batches) */
		for (unsigned int k = 1; k < ni; k++) {
			struct kdone t = items[k];
			unsigned int m = k;

			while (m > 0 && items[m - 1].key > t.key) {
				items[m] = items[m - 1];
				m--;
			}
			items[m] = t;
		}
		for (unsigned int k = 0; k < ni; k++)
			accel_job_delivered(&items[k].d);
		pthread_mutex_lock(&kd->lock);
		kd->inflight -= ni;
		kd->completed += ni;
		kd->failed += failed;
		if (atomic_load_explicit(&kd->thread_on, memory_order_relaxed))
			pthread_cond_broadcast(&kd->slot_cond);
		pthread_mutex_unlock(&kd->lock);
		for (unsigned int i = 0; i < n; i++) {
			if (!popped[i])
				continue;
			pthread_mutex_lock(&cs[i]->lock);
			cs[i]->delivering--;
			pthread_cond_broadcast(&cs[i]->cond);
			pthread_mutex_unlock(&cs[i]->lock);
		}
	} while (ni == DELIVER_BATCH);
}

static void retire(struct kctx *c, uint64_t done)
{
	deliver(c->kd, &c, &done, 1);
}

/* Snapshot the contexts of @kd with undelivered jobs (referenced). */
static unsigned int busy_contexts(struct kdev *kd, struct kctx **out, unsigned int max)
{
	unsigned int n = 0;

	pthread_mutex_lock(&kd->lock);
	pthread_mutex_lock(&reg_lock);
	for (unsigned int i = 0; i < kd->n_ctxs && n < max; i++) {
		if (kd->ctxs[i]->n && !kd->ctxs[i]->dead) {
			kd->ctxs[i]->refs++;
			out[n++] = kd->ctxs[i];
		}
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&kd->lock);
	return n;
}

/* Deliver what finished on every context of @kd (@known: up to @seqno, no query). */
static void retire_all(struct kdev *kd, const struct kctx *known, uint64_t seqno)
{
	struct kctx *busy[256];
	uint64_t done[256] = { 0 };
	unsigned int n = busy_contexts(kd, busy, 256);

	for (unsigned int i = 0; i < n; i++)
		done[i] = busy[i] == known ? seqno : 0;
	deliver(kd, busy, done, n);
	for (unsigned int i = 0; i < n; i++)
		ctx_put(busy[i]);
}

/* Block until some job of @kd finishes (back-pressure). */
static void wait_any(struct kdev *kd)
{
	struct kctx *busy[256];
	uint32_t handles[256];
	uint64_t points[256];
	unsigned int n = busy_contexts(kd, busy, 256), m = 0;
	uint32_t first;

	for (unsigned int i = 0; i < n; i++) {
		pthread_mutex_lock(&busy[i]->lock);
		if (busy[i]->n) {
			handles[m] = busy[i]->syncobj;
			points[m++] = busy[i]->jobs[busy[i]->head].seqno;
		}
		pthread_mutex_unlock(&busy[i]->lock);
	}
	if (m)
		drmSyncobjTimelineWait(kd->fd, handles, points, m, INT64_MAX,
				       DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &first);
	for (unsigned int i = 0; i < n; i++)
		ctx_put(busy[i]);
}

/* ---- the completion thread ---- */

/* True on the completion thread of @kd (a callback or observer running there). */
static bool on_thread(struct kdev *kd)
{
	return atomic_load(&kd->thread_on) && pthread_equal(pthread_self(), kd->thread);
}

/*
 * Under @c's lock, with the thread running: the eventfd registered at @c's
 * oldest undelivered job, unless it already is (the points before it are
 * delivered, so an older registration has fired and woken the thread).
 */
static void arm_locked(struct kdev *kd, struct kctx *c)
{
	struct kdrm_syncobj_eventfd ev = { .handle = c->syncobj, .fd = kd->efd };

	if (!c->n)
		return;
	ev.point = c->jobs[c->head].seqno;
	if (ev.point <= c->armed)
		return;
	/* (fails only without memory: the next wake-up or observing call retries) */
	if (!kioctl(kd->fd, KDRM_IOCTL_SYNCOBJ_EVENTFD, &ev))
		c->armed = ev.point;
}

static void kick(struct kdev *kd)
{
	uint64_t one = 1;

	if (write(kd->efd, &one, sizeof(one)) < 0)
		(void)0;	/* the counter is nonzero already (cannot overflow) */
}

static void *completion_main(void *arg)
{
	struct kdev *kd = arg;
	struct kctx *busy[256];

	/* start_thread() publishes kd->thread and thread_on under kd->lock */
	pthread_mutex_lock(&kd->lock);
	pthread_mutex_unlock(&kd->lock);
	for (;;) {
		unsigned int n = busy_contexts(kd, busy, 256);
		uint64_t v;

		for (unsigned int i = 0; i < n; i++) {
			pthread_mutex_lock(&busy[i]->lock);
			arm_locked(kd, busy[i]);
			pthread_mutex_unlock(&busy[i]->lock);
			ctx_put(busy[i]);
		}
		/* sleep until an armed point signals (or a kick) */
		if (read(kd->efd, &v, sizeof(v)) < 0 && errno != EINTR)
			break;
		if (atomic_load(&kd->stop))
			break;
		retire_all(kd, NULL, 0);
	}
	return NULL;
}

/* Start @kd's completion thread if it is not running (once; see the top). */
static void start_thread(struct kdev *kd)
{
	struct kdrm_syncobj_eventfd ev = { 0 };
	sigset_t all, old;
	uint32_t h;
	int efd, ret;

	pthread_mutex_lock(&kd->lock);
	if (atomic_load(&kd->thread_on) || kd->thread_failed)
		goto out;
	kd->thread_failed = true;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		goto out;
	/* probe the ioctl on a signalled binary syncobj (an old kernel lacks it) */
	if (drmSyncobjCreate(kd->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &h)) {
		close(efd);
		goto out;
	}
	ev.handle = h;
	ev.fd = efd;
	ret = kioctl(kd->fd, KDRM_IOCTL_SYNCOBJ_EVENTFD, &ev);
	drmSyncobjDestroy(kd->fd, h);
	if (ret) {
		close(efd);
		goto out;
	}
	kd->efd = efd;
	atomic_store(&kd->stop, false);
	/* the application's signals are not delivered on the library's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!pthread_create(&kd->thread, NULL, completion_main, kd)) {
		kd->thread_failed = false;
		atomic_store(&kd->thread_on, true);
	} else {
		close(efd);
		kd->efd = -1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	pthread_mutex_unlock(&kd->lock);
}

/* Device close: stop and join the thread (every context is freed already). */
static void stop_thread(struct kdev *kd)
{
	if (!atomic_load(&kd->thread_on))
		return;
	atomic_store(&kd->stop, true);
	kick(kd);
	pthread_join(kd->thread, NULL);
	close(kd->efd);
	kd->efd = -1;
	atomic_store(&kd->thread_on, false);
}

/* Learn how far @c's timeline is; deliver too, unless the thread does that. */
static void observe(struct kctx *c)
{
	uint32_t h = c->syncobj;
	uint64_t v = 0;

	if (!atomic_load(&c->kd->thread_on)) {
		retire(c, 0);
		return;
	}
	if (drmSyncobjQuery(c->kd->fd, &h, &v, 1))
		return;
	pthread_mutex_lock(&c->lock);
	if (v > c->completed)
		c->completed = v;
	pthread_mutex_unlock(&c->lock);
}

/* ---- contexts ---- */

static int kernel_context_create(struct accel_device *dev, struct accel_context *ctx)
{
	struct kdev *kd = kd_of(dev);
	struct drm_anpu_ctx_create cc = { .priority = (uint32_t)ctx->params.priority };
	struct drm_anpu_ctx_destroy cd = { 0 };
	struct kctx *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cap = 64;
	c->jobs = calloc(c->cap, sizeof(*c->jobs));
	if (!c->jobs) {
		free(c);
		return -ENOMEM;
	}
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_CREATE, &cc);
	if (ret)
		goto fail;
	if (drmSyncobjCreate(kd->fd, 0, &c->syncobj)) {
		ret = -errno;
		cd.ctx_id = cc.ctx_id;
		kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
		goto fail;
	}
	c->gens[0].kid = cc.ctx_id;
	c->n_gens = 1;
	c->queue = (unsigned int)ctx->params.priority;
	c->kd = kd;
	pthread_mutex_init(&c->submit_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_mutex_lock(&kd->lock);
	if (kd->n_ctxs == kd->cap_ctxs) {
		unsigned int cap = kd->cap_ctxs ? 2 * kd->cap_ctxs : 16;
		struct kctx **v = realloc(kd->ctxs, cap * sizeof(*v));

		if (!v) {
			pthread_mutex_unlock(&kd->lock);
			drmSyncobjDestroy(kd->fd, c->syncobj);
			cd.ctx_id = cc.ctx_id;
			kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
			ret = -ENOMEM;
			goto fail;
		}
		kd->ctxs = v;
		kd->cap_ctxs = cap;
	}
	kd->ctxs[kd->n_ctxs++] = c;
	pthread_mutex_unlock(&kd->lock);
	reg_add(c);
	ctx->priv = c;
	return 0;
fail:
	free(c->jobs);
	free(c);
	return ret;
}

static void kernel_context_destroy(struct accel_device *dev, struct accel_context *ctx)
{
	struct kdev *kd = kd_of(dev);
	struct kctx *c = ctx->priv;
	uint64_t last = atomic_load(&c->last_point);

	/* wait for every job (the kernel's watchdog ends hung ones), deliver them */
	if (last) {
		uint32_t h = c->syncobj;

		while (drmSyncobjTimelineWait(kd->fd, &h, &last, 1, INT64_MAX,
					      DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL) == -EINTR)
			;
		if (atomic_load(&kd->thread_on) && !on_thread(kd)) {
			/* the thread delivers (in completion order); wait for it below */
			pthread_mutex_lock(&c->lock);
			if (last > c->completed)
				c->completed = last;
			pthread_mutex_unlock(&c->lock);
			kick(kd);
		} else {
			retire(c, last);
		}
	}
	pthread_mutex_lock(&c->lock);
	while (c->delivering || c->n)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	reg_remove(c);
	pthread_mutex_lock(&kd->lock);
	for (unsigned int i = 0; i < kd->n_ctxs; i++) {
		if (kd->ctxs[i] == c) {
			kd->ctxs[i] = kd->ctxs[--kd->n_ctxs];
			break;
		}
	}
	pthread_mutex_unlock(&kd->lock);
	for (unsigned int g = 0; g < c->n_gens; g++) {
		struct drm_anpu_ctx_destroy cd = { .ctx_id = c->gens[g].kid };

		kioctl(kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
	}
	drmSyncobjDestroy(kd->fd, c->syncobj);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->submit_lock);
	free(c->jobs);
	free(c);
	ctx->priv = NULL;
}

/* ---- fences ---- */

/*
 * The live context of @f with a reference (*out = NULL: freed, so finished).
 * -EXDEV for another NPU's fence, -EINVAL for a seqno never submitted.
 */
static int fence_ctx(struct kdev *kd, const struct accel_fence *f, struct kctx **out)
{
	struct kctx *c;

	*out = NULL;
	if (f->device_id != kd->device_id)
		return -EXDEV;
	c = ctx_get(f->context_id);
	if (!c)
		return 0;
	if (f->seqno > atomic_load(&c->last_point)) {
		ctx_put(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static uint64_t completed_of(struct kctx *c)
{
	uint64_t v;

	pthread_mutex_lock(&c->lock);
	v = c->completed;
	pthread_mutex_unlock(&c->lock);
	return v;
}

/*
 * 0 finished, -ETIMEDOUT not in time (@deadline absolute CLOCK_MONOTONIC ns).
 * With @deliver, delivers what finished (callbacks run on this thread).
 */
static int ctx_wait(struct kctx *c, uint64_t seqno, int64_t deadline, bool deliver)
{
	uint32_t h = c->syncobj;
	uint64_t point = seqno;
	int ret;

	if (completed_of(c) >= seqno)
		return 0;
	do {
		ret = drmSyncobjTimelineWait(c->kd->fd, &h, &point, 1, deadline,
					     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
	} while (ret == -EINTR);
	if (ret == -ETIME || ret == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (ret)
		return ret;
	if (!deliver || atomic_load(&c->kd->thread_on)) {
		/* (with the completion thread running, it delivers) */
		pthread_mutex_lock(&c->lock);
		if (seqno > c->completed)
			c->completed = seqno;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	retire_all(c->kd, c, seqno);
	retire(c, seqno);	/* (when @c had nothing to deliver before) */
	return 0;
}

static int job_error(struct kctx *c, uint64_t seqno)
{
	struct accel_job_status st;

	/* a job the kernel no longer remembers counts as successful */
	if (job_status(c, seqno, &st))
		return 0;
	return st.error ? -EIO : 0;
}

static int kernel_fence_wait(struct accel_device *dev, const struct accel_fence *f,
			     int64_t timeout_ns)
{
	int64_t deadline;
	struct kctx *c;
	int ret = fence_ctx(kd_of(dev), f, &c);

	if (ret || !c)
		return ret;
	if (timeout_ns < 0)
		deadline = INT64_MAX;
	else if (timeout_ns > INT64_MAX - accel_now_ns())
		deadline = INT64_MAX;
	else
		deadline = timeout_ns ? accel_now_ns() + timeout_ns : 0;
	ret = ctx_wait(c, f->seqno, deadline, true);
	if (!ret)
		ret = job_error(c, f->seqno);
	ctx_put(c);
	return ret;
}

static int kernel_fence_poll(struct accel_device *dev, const struct accel_fence *f)
{
	struct kctx *c;
	int ret = fence_ctx(kd_of(dev), f, &c);

	if (ret)
		return ret;
	if (!c)
		return 1;
	if (completed_of(c) < f->seqno)
		observe(c);
	ret = completed_of(c) >= f->seqno;
	ctx_put(c);
	return ret;
}

static int kernel_fence_status(struct accel_device *dev, const struct accel_fence *f,
			       struct accel_job_status *st)
{
	struct kctx *c;
	int ret = fence_ctx(kd_of(dev), f, &c);

	if (ret)
		return ret;
	if (!c)
		return -ENOENT;
	if (completed_of(c) < f->seqno)
		observe(c);
	if (completed_of(c) < f->seqno)
		ret = -EAGAIN;
	else
		ret = job_status(c, f->seqno, st);
	ctx_put(c);
	return ret;
}

static int signaled_sync_file(int fd, int *out)
{
	uint32_t h;
	int ret;

	if (drmSyncobjCreate(fd, DRM_SYNCOBJ_CREATE_SIGNALED, &h))
		return -errno;
	ret = drmSyncobjExportSyncFile(fd, h, out) ? -errno : 0;
	drmSyncobjDestroy(fd, h);
	return ret;
}

static int kernel_fence_export_fd(struct accel_device *dev, const struct accel_fence *f, int *fd)
{
	struct kdev *kd = kd_of(dev);
	struct kctx *c;
	uint32_t tmp;
	int ret = fence_ctx(kd, f, &c);

	if (ret)
		return ret;
	if (!c)
		return signaled_sync_file(kd->fd, fd);
	if (completed_of(c) >= f->seqno) {
		ret = signaled_sync_file(c->kd->fd, fd);
		ctx_put(c);
		return ret;
	}
	/* the timeline point into a binary syncobj, exported as a sync_file */
	if (drmSyncobjCreate(c->kd->fd, 0, &tmp)) {
		ctx_put(c);
		return -errno;
	}
	ret = drmSyncobjTransfer(c->kd->fd, tmp, 0, c->syncobj, f->seqno, 0) ? -errno : 0;
	if (!ret && drmSyncobjExportSyncFile(c->kd->fd, tmp, fd))
		ret = -errno;
	drmSyncobjDestroy(c->kd->fd, tmp);
	ctx_put(c);
	return ret;
}

/* ---- submit ---- */

/* @c's timeline syncobj as a handle of @kd's file (imported once, cached). */
static int timeline_handle(struct kdev *kd, struct kctx *c, uint32_t *out)
{
	uint32_t h;
	int sfd, ret = 0;

	if (c->kd == kd) {
		*out = c->syncobj;
		return 0;
	}
	pthread_mutex_lock(&kd->lock);
	for (unsigned int i = 0; i < kd->n_imports; i++) {
		if (kd->imports[i].ctx_id == c->id) {
			*out = kd->imports[i].handle;
			pthread_mutex_unlock(&kd->lock);
			return 0;
		}
	}
	if (drmSyncobjHandleToFD(c->kd->fd, c->syncobj, &sfd)) {
		ret = -errno;
	} else {
		if (drmSyncobjFDToHandle(kd->fd, sfd, &h))
			ret = -errno;
		close(sfd);
	}
	if (!ret) {
		unsigned int slot;

		if (kd->n_imports < KIMPORTS) {
			slot = kd->n_imports++;
		} else {
			slot = kd->next_import++ % KIMPORTS;
			drmSyncobjDestroy(kd->fd, kd->imports[slot].handle);
		}
		kd->imports[slot] = (struct kimport){ .ctx_id = c->id, .handle = h };
		*out = h;
	}
	pthread_mutex_unlock(&kd->lock);
	return ret;
}

static int push_job(struct kctx *c, const struct kjob *j)
{
	if (c->n == c->cap) {
		unsigned int cap = c->cap * 2;
		struct kjob *v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (unsigned int i = 0; i < c->n; i++)
			v[i] = c->jobs[(c->head + i) % c->cap];
		free(c->jobs);
		c->jobs = v;
		c->head = 0;
		c->cap = cap;
	}
	c->jobs[(c->head + c->n) % c->cap] = *j;
	c->n++;
	return 0;
}

/* Take a job slot of @kd (back-pressure): 0 or -EAGAIN. */
static int reserve_slot(struct kdev *kd, bool nonblock)
{
	if (atomic_load(&kd->thread_on)) {
		/* the completion thread frees slots; it must not wait for itself */
		bool self = on_thread(kd);
		int ret = 0;

		pthread_mutex_lock(&kd->lock);
		while (kd->inflight >= kd->max_jobs && !ret) {
			if (nonblock || self)
				ret = -EAGAIN;
			else
				pthread_cond_wait(&kd->slot_cond, &kd->lock);
		}
		if (!ret)
			kd->inflight++;
		pthread_mutex_unlock(&kd->lock);
		return ret;
	}
	for (int tries = 0;; tries++) {
		pthread_mutex_lock(&kd->lock);
		if (kd->inflight < kd->max_jobs) {
			kd->inflight++;
			pthread_mutex_unlock(&kd->lock);
			return 0;
		}
		pthread_mutex_unlock(&kd->lock);
		if (tries == 0) {
			retire_all(kd, NULL, 0);
			continue;
		}
		if (nonblock)
			return -EAGAIN;
		wait_any(kd);
		retire_all(kd, NULL, 0);
	}
}

static void release_slot(struct kdev *kd)
{
	pthread_mutex_lock(&kd->lock);
	kd->inflight--;
	pthread_mutex_unlock(&kd->lock);
}

/* Under submit_lock: @c goes on on a fresh kernel context (the last is guilty). */
static int new_generation(struct kctx *c)
{
	struct drm_anpu_ctx_create cc = { .priority = c->queue };
	struct drm_anpu_ctx_destroy cd = { 0 };
	int ret = kioctl(c->kd->fd, DRM_IOCTL_ANPU_CTX_CREATE, &cc);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->lock);
	if (c->n_gens == KGENS) {
		cd.ctx_id = c->gens[0].kid;
		memmove(&c->gens[0], &c->gens[1], (KGENS - 1) * sizeof(c->gens[0]));
		c->n_gens--;
	}
	c->gens[c->n_gens++] = (struct kgen){ .kid = cc.ctx_id,
					      .base = atomic_load(&c->last_point) };
	pthread_mutex_unlock(&c->lock);
	if (cd.ctx_id)
		kioctl(c->kd->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &cd);
	return 0;
}

/* An ioctl array; an empty one is all zero (the ABI requires it). */
static struct drm_anpu_obj_array obj_array(unsigned int n, size_t stride, const void *p)
{
	struct drm_anpu_obj_array a = { 0 };

	if (n) {
		a.stride = (uint32_t)stride;
		a.count = n;
		a.array = (uint64_t)(uintptr_t)p;
	}
	return a;
}

static int do_submit(struct kctx *c, struct accel_cmdbuf *cb, struct accel_bo *stream,
		     const struct accel_submit_params *p, struct drm_anpu_sync *in,
		     unsigned int n_in, struct accel_fence *out, int64_t submit_ns)
{
	struct kdev *kd = c->kd;
	struct drm_anpu_bo_ref stack_refs[64], *refs = stack_refs;
	struct drm_anpu_sync out_sync = { .handle = c->syncobj, .flags = DRM_ANPU_SYNC_TIMELINE };
	struct drm_anpu_submit s = {
		.cmd_handle = bo_handle(stream),
		.cmd_size = cb->stream_size,
	};
	unsigned int n_refs = 0;
	struct kjob job;
	int ret;

	if (cb->n_bos > 64) {
		refs = malloc(cb->n_bos * sizeof(*refs));
		if (!refs)
			return -ENOMEM;
	}
	for (unsigned int i = 0; i < cb->n_bos; i++) {
		uint32_t h = bo_handle(cb->bos[i]);
		uint32_t fl = cb->bo_written[i] ? DRM_ANPU_BO_REF_WRITE : 0;
		unsigned int k;

		/* an imported BO may share a GEM handle with another: name it once */
		for (k = 0; k < n_refs && ((struct kbo *)cb->bos[i]->priv)->gem->refs > 1; k++)
			if (refs[k].handle == h)
				break;
		if (k < n_refs && refs[k].handle == h) {
			refs[k].flags |= fl;
			continue;
		}
		refs[n_refs++] = (struct drm_anpu_bo_ref){ .handle = h, .flags = fl };
	}
	s.bos = obj_array(n_refs, sizeof(*refs), refs);
	s.in_syncs = obj_array(n_in, sizeof(*in), in);
	if (p->profile) {
		s.flags |= DRM_ANPU_SUBMIT_PROFILE;
		s.profile_handle = bo_handle(p->profile->bo);
		s.profile_size = (uint32_t)p->profile->bo->size;
	}
	pthread_mutex_lock(&c->submit_lock);
	out_sync.point = atomic_load(&c->last_point) + 1;
	s.out_syncs = obj_array(1, sizeof(out_sync), &out_sync);
	s.ctx_id = c->gens[c->n_gens - 1].kid;
	ret = kioctl(kd->fd, DRM_IOCTL_ANPU_SUBMIT, &s);
	if (ret == -ECANCELED && !new_generation(c)) {
		s.ctx_id = c->gens[c->n_gens - 1].kid;
		ret = kioctl(kd->fd, DRM_IOCTL_ANPU_SUBMIT, &s);
	}
	if (!ret && s.seqno + c->gens[c->n_gens - 1].base != out_sync.point)
		ret = -EPROTO;	/* the kernel's seqnos must follow the timeline points */
	if (!ret) {
		job = (struct kjob){ .seqno = out_sync.point, .cb = cb, .prof = p->profile,
				     .fn = p->on_complete, .user = p->user, .submit_ns = submit_ns };
		pthread_mutex_lock(&c->lock);
		ret = push_job(c, &job);
		if (atomic_load(&kd->thread_on))	/* (acquire: kd->efd is set) */
			arm_locked(kd, c);	/* @c may have been idle */
		pthread_mutex_unlock(&c->lock);
		if (ret) {
			/* no memory to track it: the job runs, its references stay (leak) */
			ret = 0;
		}
		atomic_store(&c->last_point, out_sync.point);
	}
	pthread_mutex_unlock(&c->submit_lock);
	if (refs != stack_refs)
		free(refs);
	if (ret)
		return ret;
	pthread_mutex_lock(&kd->lock);
	kd->submitted++;
	pthread_mutex_unlock(&kd->lock);
	*out = (struct accel_fence){ .seqno = out_sync.point, .context_id = c->id,
				     .device_id = kd->device_id };
	return 0;
}

/* 1 if @f finished (or its context is gone), else 0. Delivers nothing (no callback
 * may run under a step lock: it may submit the same command buffer). */
static int fence_done(struct kdev *kd, const struct accel_fence *f)
{
	struct kctx *c;
	int done;

	if (fence_ctx(kd, f, &c) || !c)
		return 1;
	if (completed_of(c) < f->seqno) {
		uint32_t h = c->syncobj;
		uint64_t v = 0;

		if (!drmSyncobjQuery(c->kd->fd, &h, &v, 1)) {
			pthread_mutex_lock(&c->lock);
			if (v > c->completed)
				c->completed = v;
			pthread_mutex_unlock(&c->lock);
		}
	}
	done = completed_of(c) >= f->seqno;
	ctx_put(c);
	return done;
}

/*
 * Under the command buffer's step lock: a copy of @cb's stream whose last job
 * finished, holding the step values of @p. Blocks only when all KSTREAMS
 * copies are busy.
 */
static int step_stream(struct kdev *kd, struct accel_cmdbuf *cb, const struct accel_submit_params *p,
		       unsigned int *slot)
{
	struct kstreams *ks = cb->priv;
	unsigned int i;
	uint8_t *dst;

	if (!ks) {
		ks = calloc(1, sizeof(*ks));
		if (!ks)
			return -ENOMEM;
		ks->s[0].bo = cb->stream_bo;
		ks->n = 1;
		cb->priv = ks;
	}
	for (i = 0; i < ks->n; i++)
		if (!ks->s[i].last.seqno || fence_done(kd, &ks->s[i].last))
			break;
	if (i == ks->n && ks->n < KSTREAMS) {
		struct anpu_stream_header h;
		struct accel_bo *bo;
		int ret = accel_bo_create_internal(cb->obj.dev, cb->stream_bo->size,
						   ACCEL_BO_NPU_READ_ONLY | ACCEL_BO_NO_CLEAR, &bo);

		if (!ret) {
			memcpy(bo->host, cb->stream_bo->host, cb->stream_size);
			memcpy(&h, bo->host, sizeof(h));
			h.step_params_addr = bo->npu_addr + cb->stream_size;
			memcpy(bo->host, &h, sizeof(h));
			ks->s[ks->n++].bo = bo;
		} else {
			i = ks->next++ % ks->n;	/* no memory for a copy: wait for one */
		}
	} else if (i == ks->n) {
		i = ks->next++ % ks->n;
	}
	if (ks->s[i].last.seqno && !fence_done(kd, &ks->s[i].last)) {
		struct kctx *c;

		if (!fence_ctx(kd, &ks->s[i].last, &c) && c) {
			ctx_wait(c, ks->s[i].last.seqno, INT64_MAX, false);
			ctx_put(c);
		}
	}
	if (p->n_step_params)
		memcpy(ks->vals, p->step_params, p->n_step_params * sizeof(uint32_t));
	dst = (uint8_t *)ks->s[i].bo->host + cb->stream_size;
	memcpy(dst, ks->vals, cb->step_params * sizeof(uint32_t));
	atomic_thread_fence(memory_order_seq_cst);	/* drain write-combining */
	*slot = i;
	return 0;
}

static void kernel_cmdbuf_release(struct accel_cmdbuf *cb)
{
	struct kstreams *ks = cb->priv;

	if (!ks)
		return;
	for (unsigned int i = 1; i < ks->n; i++)
		accel_bo_free(ks->s[i].bo);
	free(ks);
	cb->priv = NULL;
}

static int kernel_submit(struct accel_context *ctx, struct accel_cmdbuf *cb,
			 const struct accel_submit_params *p, struct accel_fence *out,
			 int64_t submit_ns)
{
	struct kdev *kd = kd_of(ctx->obj.dev);
	struct kctx *c = ctx->priv, *deps[ACCEL_MAX_DEPS + 1];
	struct drm_anpu_sync in[ACCEL_MAX_DEPS + 1];
	struct accel_fence all[ACCEL_MAX_DEPS + 1];
	pthread_mutex_t *step_lock = NULL;
	struct accel_bo *stream = cb->stream_bo;
	unsigned int n_deps = 0, n_in = 0, n_all = p->n_deps, slot = 0;
	int ret = 0;

	memcpy(all, p->deps, p->n_deps * sizeof(*all));
	if (!atomic_load_explicit(&kd->thread_on, memory_order_relaxed) &&
	    (p->on_complete || atomic_load_explicit(&kd->front->observer, memory_order_relaxed)))
		start_thread(kd);
	ret = reserve_slot(kd, p->flags & ACCEL_SUBMIT_NONBLOCK);
	if (ret)
		return ret;
	if (cb->step_params) {
		/* one submission at a time, each after the previous one */
		step_lock = &step_locks[((uintptr_t)cb >> 6) % 16];
		pthread_mutex_lock(step_lock);
		if (cb->last_submit.seqno)
			all[n_all++] = cb->last_submit;
	}
	for (unsigned int i = 0; i < n_all; i++) {
		const struct accel_fence *f = &all[i];
		struct kctx *dc;

		if (!f->seqno) {
			ret = -EINVAL;
			goto out;
		}
		ret = fence_ctx(kd, f, &dc);
		if (ret)
			goto out;
		if (!dc)
			continue;		/* freed context: finished */
		deps[n_deps++] = dc;
		if (dc == c || completed_of(dc) >= f->seqno)
			continue;		/* a context runs in order */
		in[n_in] = (struct drm_anpu_sync){ .flags = DRM_ANPU_SYNC_TIMELINE,
						   .point = f->seqno };
		ret = timeline_handle(kd, dc, &in[n_in].handle);
		if (ret)
			goto out;
		n_in++;
	}
	if (step_lock) {
		ret = step_stream(kd, cb, p, &slot);
		if (ret)
			goto out;
		stream = ((struct kstreams *)cb->priv)->s[slot].bo;
	}
	ret = do_submit(c, cb, stream, p, in, n_in, out, submit_ns);
	if (!ret && step_lock) {
		cb->last_submit = *out;
		((struct kstreams *)cb->priv)->s[slot].last = *out;
	}
out:
	if (step_lock)
		pthread_mutex_unlock(step_lock);
	if (ret)
		release_slot(kd);
	for (unsigned int i = 0; i < n_deps; i++)
		ctx_put(deps[i]);
	return ret;
}

/* ---- test support ---- */

static int kernel_inject_fault(struct accel_device *dev, unsigned int queue, uint32_t mode)
{
	static const char *const names[] = { "none", "hang", "fault", "fail_reset" };
	struct kdev *kd = kd_of(dev);
	char path[sizeof(kd->debugfs) + 16], cmd[64];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "%s/fault_inject", kd->debugfs);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EPERM : -EOPNOTSUPP;
	n = snprintf(cmd, sizeof(cmd), "%u %s%s", queue, names[mode & 0xf],
		     (mode & ACCEL_FAULT_STICKY) ? " sticky" : "");
	if (write(fd, cmd, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static int kernel_stats(struct accel_device *dev, struct accel_device_stats *stats)
{
	struct kdev *kd = kd_of(dev);
	char path[sizeof(kd->debugfs) + 16], key[64];
	unsigned long long v;
	FILE *f;

	pthread_mutex_lock(&kd->lock);
	stats->jobs_submitted = kd->submitted;
	stats->jobs_completed = kd->completed;
	stats->jobs_failed = kd->failed;
	pthread_mutex_unlock(&kd->lock);
	/* recovery counters: the driver's (debugfs "counters"), device-wide */
	snprintf(path, sizeof(path), "%s/counters", kd->debugfs);
	f = kd->debugfs[0] ? fopen(path, "re") : NULL;
	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", key, &v) == 2) {
		if (!strcmp(key, "resets_queue"))
			stats->queue_resets = v;
		else if (!strcmp(key, "resets_device"))
			stats->device_resets = v;
		else if (!strcmp(key, "jobs_resubmitted"))
			stats->jobs_resubmitted = v;
	}
	fclose(f);
	return 0;
}

const struct accel_backend_ops accel_kernel_backend = {
	.name = "kernel",
	.open = kernel_open,
	.close = kernel_close,
	.bo_alloc = kernel_bo_alloc,
	.bo_release = kernel_bo_release,
	.bo_export = kernel_bo_export,
	.bo_import = kernel_bo_import,
	.context_create = kernel_context_create,
	.context_destroy = kernel_context_destroy,
	.submit = kernel_submit,
	.fence_wait = kernel_fence_wait,
	.fence_poll = kernel_fence_poll,
	.fence_status = kernel_fence_status,
	.fence_export_fd = kernel_fence_export_fd,
	.cmdbuf_release = kernel_cmdbuf_release,
	.inject_fault = kernel_inject_fault,
	.stats = kernel_stats,
};
