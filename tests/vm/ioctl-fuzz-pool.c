// SPDX-License-Identifier: MIT
/*
 * anpu-ioctl-fuzz: the per-process pool of objects the worker threads share,
 * and the counting of calls (see ioctl-fuzz.h). Threads take numbers (fds,
 * handles, ids) from the pool under its lock and make their calls without
 * it, so one thread's GEM_CLOSE, CTX_DESTROY or close() races another's
 * SUBMIT on purpose; stale numbers are part of the input.
 */
#include "tests/vm/ioctl-fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "uapi/drm/anpu_accel.h"

const char *const fz_call_names[FZ_NCALLS] = {
	[FZ_GET_PARAM] = "GET_PARAM", [FZ_BO_CREATE] = "BO_CREATE",
	[FZ_BO_INFO] = "BO_INFO", [FZ_CTX_CREATE] = "CTX_CREATE",
	[FZ_CTX_DESTROY] = "CTX_DESTROY", [FZ_SUBMIT] = "SUBMIT",
	[FZ_JOB_INFO] = "JOB_INFO", [FZ_CLOCK_SAMPLE] = "CLOCK_SAMPLE",
	[FZ_GEM_CLOSE] = "GEM_CLOSE", [FZ_PRIME_EXPORT] = "PRIME_HANDLE_TO_FD",
	[FZ_PRIME_IMPORT] = "PRIME_FD_TO_HANDLE", [FZ_SYNCOBJ_CREATE] = "SYNCOBJ_CREATE",
	[FZ_SYNCOBJ_DESTROY] = "SYNCOBJ_DESTROY", [FZ_SYNCOBJ_WAIT] = "SYNCOBJ_WAIT",
	[FZ_RAW_IOCTL] = "raw ioctl", [FZ_MMAP] = "mmap", [FZ_MUNMAP] = "munmap",
	[FZ_TOUCH] = "touch mapping", [FZ_DMABUF_MMAP] = "mmap dma-buf",
	[FZ_OPEN] = "open", [FZ_CLOSE] = "close",
};

void fz_count(struct fz_thread *t, enum fz_call c, long ret)
{
	int e = ret < 0 ? errno : 0;

	if (e < 0 || e >= FZ_NERRNO - 1)
		e = FZ_NERRNO - 1;
	atomic_fetch_add_explicit(&t->p->sh->count[c][e], 1, memory_order_relaxed);
}

void fz_count_touch(struct fz_thread *t, enum fz_call c, int sig)
{
	errno = sig == SIGBUS ? EFAULT : EACCES;
	fz_count(t, c, sig ? -1 : 0);
}

long fz_ioctl(struct fz_thread *t, enum fz_call c, int fd, unsigned long req, void *arg)
{
	long r = ioctl(fd, req, arg);
	int e = errno;

	fz_count(t, c, r);
	errno = e;
	return r;
}

/* The ioctl argument: mostly @a, sometimes a bad pointer instead. */
void *fz_argp(struct fz_thread *t, void *a)
{
	return fz_chance(&t->rng, 3) ? (void *)(uintptr_t)fz_ptr(&t->rng, t->scratch + FZ_SCRATCH - 4)
				     : a;
}

uint64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the pool ---- */

int fz_pool_init(struct fz_proc *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->submit_lock, NULL);
	for (int i = 0; i < FZ_FILES; i++) {
		memset(&p->file[i], 0, sizeof(p->file[i]));
		p->file[i].fd = open(p->node, O_RDWR | O_CLOEXEC);
		if (p->file[i].fd < 0)
			return -errno;
	}
	return 0;
}

/* A copy of a random file's pool entry; its index, or -1 if it is closed. */
int fz_snap(struct fz_thread *t, struct fz_file *f)
{
	int i = (int)fz_below(&t->rng, FZ_FILES);

	pthread_mutex_lock(&t->p->lock);
	*f = t->p->file[i];
	pthread_mutex_unlock(&t->p->lock);
	return f->fd < 0 ? -1 : i;
}

/* A random slot of @n: a free one (value 0) if there is one. */
static unsigned int slot(struct fz_thread *t, const uint32_t *v, unsigned int n)
{
	unsigned int start = fz_below(&t->rng, n);

	for (unsigned int k = 0; k < n; k++)
		if (!v[(start + k) % n])
			return (start + k) % n;
	return start;
}

void fz_pool_add_bo(struct fz_thread *t, int i, int fd, uint32_t handle, uint64_t addr,
			uint64_t size)
{
	struct fz_file *f = &t->p->file[i];

	pthread_mutex_lock(&t->p->lock);
	if (f->fd == fd) {
		unsigned int s = slot(t, f->bo, FZ_BOS);

		f->bo[s] = handle;
		f->bo_addr[s] = addr;
		f->bo_size[s] = size;
		if (handle > f->max_handle)
			f->max_handle = handle;
	}
	pthread_mutex_unlock(&t->p->lock);
}

/* Forget @v in @arr of file @i (if the file is still @fd). */
void fz_pool_forget(struct fz_thread *t, int i, int fd, uint32_t *arr, unsigned int n,
			uint32_t v)
{
	pthread_mutex_lock(&t->p->lock);
	if (t->p->file[i].fd == fd)
		for (unsigned int k = 0; k < n; k++)
			if (arr[k] == v)
				arr[k] = 0;
	pthread_mutex_unlock(&t->p->lock);
}

void fz_pool_put(struct fz_thread *t, int i, int fd, uint32_t *arr, unsigned int n,
		     uint32_t v)
{
	pthread_mutex_lock(&t->p->lock);
	if (t->p->file[i].fd == fd)
		arr[slot(t, arr, n)] = v;
	pthread_mutex_unlock(&t->p->lock);
}

/* A value of @arr (n entries) if any is set and the dice agree, else an edge case. */
uint32_t fz_pick(struct fz_thread *t, const uint32_t *arr, unsigned int n, unsigned int pct)
{
	unsigned int start = fz_below(&t->rng, n);

	if (fz_chance(&t->rng, pct))
		for (unsigned int k = 0; k < n; k++)
			if (arr[(start + k) % n])
				return arr[(start + k) % n];
	return fz_chance(&t->rng, 50) ? fz_below(&t->rng, 64) : fz_edge32(&t->rng);
}

unsigned int fz_bo_refs(const struct fz_file *f, struct fz_bo_ref *refs)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < FZ_BOS; k++)
		if (f->bo[k])
			refs[n++] = (struct fz_bo_ref){ f->bo[k], f->bo_addr[k], f->bo_size[k] };
	return n;
}

/* BO_CREATE; the handle (0 on failure), its address and size. */
uint32_t fz_bo_create(struct fz_thread *t, int fd, uint64_t size, uint32_t flags,
			  uint64_t *addr, uint64_t *out_size)
{
	struct drm_anpu_bo_create a = { .size = size, .flags = flags };

	if (fz_ioctl(t, FZ_BO_CREATE, fd, DRM_IOCTL_ANPU_BO_CREATE, &a))
		return 0;
	*addr = a.npu_addr;
	*out_size = a.size;
	return a.handle;
}
