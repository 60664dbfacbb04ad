// SPDX-License-Identifier: MIT
/*
 * anpu-ioctl-fuzz: the operations a worker thread picks from, and the
 * per-process pool of objects they share (see ioctl-fuzz.h). Threads take
 * numbers (fds, handles, ids) from the pool under its lock and make their
 * calls without it, so one thread's GEM_CLOSE, CTX_DESTROY or close() races
 * another's SUBMIT on purpose; stale numbers are part of the input.
 */
#include "tests/vm/ioctl-fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

static long fz_ioctl(struct fz_thread *t, enum fz_call c, int fd, unsigned long req, void *arg)
{
	long r = ioctl(fd, req, arg);
	int e = errno;

	fz_count(t, c, r);
	errno = e;
	return r;
}

/* The ioctl argument: mostly @a, sometimes a bad pointer instead. */
static void *argp(struct fz_thread *t, void *a)
{
	return fz_chance(&t->rng, 3) ? (void *)(uintptr_t)fz_ptr(&t->rng, t->scratch + FZ_SCRATCH - 4)
				     : a;
}

static uint64_t now_ns(void)
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
static int snap(struct fz_thread *t, struct fz_file *f)
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

static void pool_add_bo(struct fz_thread *t, int i, int fd, uint32_t handle, uint64_t addr,
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
static void pool_forget(struct fz_thread *t, int i, int fd, uint32_t *arr, unsigned int n,
			uint32_t v)
{
	pthread_mutex_lock(&t->p->lock);
	if (t->p->file[i].fd == fd)
		for (unsigned int k = 0; k < n; k++)
			if (arr[k] == v)
				arr[k] = 0;
	pthread_mutex_unlock(&t->p->lock);
}

static void pool_put(struct fz_thread *t, int i, int fd, uint32_t *arr, unsigned int n,
		     uint32_t v)
{
	pthread_mutex_lock(&t->p->lock);
	if (t->p->file[i].fd == fd)
		arr[slot(t, arr, n)] = v;
	pthread_mutex_unlock(&t->p->lock);
}

/* A value of @arr (n entries) if any is set and the dice agree, else an edge case. */
static uint32_t pick(struct fz_thread *t, const uint32_t *arr, unsigned int n, unsigned int pct)
{
	unsigned int start = fz_below(&t->rng, n);

	if (fz_chance(&t->rng, pct))
		for (unsigned int k = 0; k < n; k++)
			if (arr[(start + k) % n])
				return arr[(start + k) % n];
	return fz_chance(&t->rng, 50) ? fz_below(&t->rng, 64) : fz_edge32(&t->rng);
}

static unsigned int bo_refs(const struct fz_file *f, struct fz_bo_ref *refs)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < FZ_BOS; k++)
		if (f->bo[k])
			refs[n++] = (struct fz_bo_ref){ f->bo[k], f->bo_addr[k], f->bo_size[k] };
	return n;
}

/* ---- operations ---- */

static void op_get_param(struct fz_thread *t)
{
	struct drm_anpu_get_param a = { .param = fz_below(&t->rng, 12) };
	struct fz_file f;

	if (snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 10))
		a.param = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 5))
		a.pad = fz_edge32(&t->rng);
	fz_ioctl(t, FZ_GET_PARAM, f.fd, DRM_IOCTL_ANPU_GET_PARAM, argp(t, &a));
}

static uint64_t bo_size(struct fz_rng *r)
{
	switch (fz_below(r, 10)) {
	case 0: return fz_edge64(r);
	case 1: return (2u << 20) + fz_below(r, 3) * 4096 - 4096;
	case 2: return 1 + fz_below(r, 65536);
	default: return 4096ull * (1 + fz_below(r, 16));
	}
}

/* BO_CREATE; the handle (0 on failure), its address and size. */
static uint32_t bo_create(struct fz_thread *t, int fd, uint64_t size, uint32_t flags,
			  uint64_t *addr, uint64_t *out_size)
{
	struct drm_anpu_bo_create a = { .size = size, .flags = flags };

	if (fz_ioctl(t, FZ_BO_CREATE, fd, DRM_IOCTL_ANPU_BO_CREATE, &a))
		return 0;
	*addr = a.npu_addr;
	*out_size = a.size;
	return a.handle;
}

static void op_bo_create(struct fz_thread *t)
{
	struct drm_anpu_bo_create a = { .size = bo_size(&t->rng) };
	struct fz_file f;
	int i = snap(t, &f);

	if (i < 0)
		return;
	a.flags = fz_chance(&t->rng, 15) ? DRM_ANPU_BO_NPU_READONLY : 0;
	if (fz_chance(&t->rng, 5))
		a.flags = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.reserved = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 3))
		a.handle = fz_edge32(&t->rng);		/* an out field: ignored */
	if (!fz_ioctl(t, FZ_BO_CREATE, f.fd, DRM_IOCTL_ANPU_BO_CREATE, argp(t, &a)))
		pool_add_bo(t, i, f.fd, a.handle, a.npu_addr, a.size);
}

static void op_bo_info(struct fz_thread *t)
{
	struct drm_anpu_bo_info a = { 0 };
	struct fz_file f;

	if (snap(t, &f) < 0)
		return;
	a.handle = pick(t, f.bo, FZ_BOS, 80);
	if (fz_chance(&t->rng, 5))
		a.handle = f.max_handle + 1;
	if (fz_chance(&t->rng, 5))
		fz_random_bytes(&t->rng, &a.flags, sizeof(a) - sizeof(a.handle));
	fz_ioctl(t, FZ_BO_INFO, f.fd, DRM_IOCTL_ANPU_BO_INFO, argp(t, &a));
}

static void op_gem_close(struct fz_thread *t)
{
	struct drm_gem_close a = { 0 };
	struct fz_file f;
	int i = snap(t, &f);

	if (i < 0)
		return;
	a.handle = pick(t, f.bo, FZ_BOS, 85);
	/* the next handles BO_CREATE will return: races its read-back */
	if (!(t->p->avoid & FZ_AVOID_HANDLE_GUESS) && fz_chance(&t->rng, 15))
		a.handle = f.max_handle + 1 + fz_below(&t->rng, 3);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (!fz_ioctl(t, FZ_GEM_CLOSE, f.fd, DRM_IOCTL_GEM_CLOSE, argp(t, &a)))
		pool_forget(t, i, f.fd, t->p->file[i].bo, FZ_BOS, a.handle);
}

static void op_ctx_create(struct fz_thread *t)
{
	struct drm_anpu_ctx_create a = { .priority = fz_below(&t->rng, 4) };
	struct fz_file f;
	int i = snap(t, &f);

	if (i < 0)
		return;
	if (fz_chance(&t->rng, 5))
		a.priority = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.flags = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (!fz_ioctl(t, FZ_CTX_CREATE, f.fd, DRM_IOCTL_ANPU_CTX_CREATE, argp(t, &a)))
		pool_put(t, i, f.fd, t->p->file[i].ctx, FZ_CTXS, a.ctx_id);
}

static void op_ctx_destroy(struct fz_thread *t)
{
	struct drm_anpu_ctx_destroy a = { 0 };
	struct fz_file f;
	int i;

	if (t->p->avoid & FZ_AVOID_CTX_DESTROY)
		return;
	i = snap(t, &f);
	if (i < 0)
		return;
	a.ctx_id = pick(t, f.ctx, FZ_CTXS, 85);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (!fz_ioctl(t, FZ_CTX_DESTROY, f.fd, DRM_IOCTL_ANPU_CTX_DESTROY, argp(t, &a)))
		pool_forget(t, i, f.fd, t->p->file[i].ctx, FZ_CTXS, a.ctx_id);
}

/* A command BO holding a generated stream (@nops NOPs if nonzero); its
 * handle (0 on failure). */
static uint32_t cmd_bo(struct fz_thread *t, int fd, const struct fz_file *f, unsigned int nops,
		       uint32_t *size, uint64_t *bo_bytes)
{
	struct fz_bo_ref refs[FZ_BOS];
	struct drm_anpu_bo_info info = { 0 };
	uint64_t addr, cap = 4096ull * (1 + fz_below(&t->rng, 4));
	uint32_t h = bo_create(t, fd, cap, fz_chance(&t->rng, 80) ? DRM_ANPU_BO_NPU_READONLY : 0,
			       &addr, bo_bytes);
	void *map;
	long r;
	int sig;

	if (!h)
		return 0;
	info.handle = h;
	if (fz_ioctl(t, FZ_BO_INFO, fd, DRM_IOCTL_ANPU_BO_INFO, &info))
		return h;
	map = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)info.mmap_offset);
	fz_count(t, FZ_MMAP, map == MAP_FAILED ? -1 : 0);
	if (map == MAP_FAILED)
		return h;
	/* the stream goes to a private buffer first: the mapping may fault */
	if (nops)
		*size = fz_nop_stream(t->scratch + FZ_SCRATCH / 4 * 3, (uint32_t)cap, nops);
	else
		*size = fz_stream(&t->rng, t->scratch + FZ_SCRATCH / 4 * 3, (uint32_t)cap, refs,
				  bo_refs(f, refs));
	sig = fz_touch(map, cap, true);
	fz_count_touch(t, FZ_TOUCH, sig);
	if (!sig)
		memcpy(map, t->scratch + FZ_SCRATCH / 4 * 3, cap);
	r = munmap(map, cap);
	fz_count(t, FZ_MUNMAP, r);
	return h;
}

static void sync_array(struct fz_thread *t, const struct fz_file *f, struct drm_anpu_sync *s,
		       uint32_t *n, uint32_t flow)
{
	*n = 0;
	if (flow)
		s[(*n)++] = (struct drm_anpu_sync){ .handle = flow };
	for (unsigned int k = fz_below(&t->rng, 3); k; k--) {
		struct drm_anpu_sync e = { .handle = pick(t, f->sync, FZ_SYNCS, 90) };

		if (fz_chance(&t->rng, 40)) {
			e.flags = DRM_ANPU_SYNC_TIMELINE;
			e.point = fz_chance(&t->rng, 80) ? fz_below(&t->rng, 6) : fz_edge64(&t->rng);
		} else if (fz_chance(&t->rng, 5)) {
			e.flags = fz_edge32(&t->rng);
			e.point = fz_edge64(&t->rng);
		}
		s[(*n)++] = e;
	}
}

static void flow_wait(struct fz_thread *t)
{
	uint64_t deadline = now_ns() + 2000000000ull;
	struct drm_syncobj_wait w = {
		.handles = (uintptr_t)&t->flow_sync, .count_handles = 1,
		.timeout_nsec = (int64_t)deadline, .flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	if (fz_ioctl(t, FZ_SYNCOBJ_WAIT, t->flow_fd, DRM_IOCTL_SYNCOBJ_WAIT, &w))
		t->flow_fd = -1;	/* the file was closed, or the wait timed out */
	else
		atomic_fetch_add_explicit(&t->p->sh->jobs_done, 1, memory_order_relaxed);
	t->unwaited = 0;
}

/* The thread's own out-syncobj on @fd (a flow limit: it waits every few jobs). */
static uint32_t flow_sync(struct fz_thread *t, int fd)
{
	struct drm_syncobj_create c = { 0 };

	if (t->flow_fd == fd)
		return t->flow_sync;
	if (fz_ioctl(t, FZ_SYNCOBJ_CREATE, fd, DRM_IOCTL_SYNCOBJ_CREATE, &c))
		return 0;
	t->flow_fd = fd;
	t->flow_sync = c.handle;
	t->unwaited = 0;
	return c.handle;
}

static void submit_bos(struct fz_thread *t, const struct fz_file *f, uint32_t cmd,
		       struct drm_anpu_bo_ref *refs, uint32_t *n)
{
	*n = 0;
	for (unsigned int k = fz_below(&t->rng, 5); k; k--) {
		struct drm_anpu_bo_ref e = { .handle = pick(t, f->bo, FZ_BOS, 95) };

		e.flags = fz_chance(&t->rng, 50) ? DRM_ANPU_BO_REF_WRITE : 0;
		if (fz_chance(&t->rng, 3))
			e.flags = fz_edge32(&t->rng);
		if (fz_chance(&t->rng, 4))
			e.handle = cmd;
		refs[(*n)++] = e;
	}
	if (*n && fz_chance(&t->rng, 4))
		refs[(*n)++] = refs[0];		/* a duplicate */
}

static void op_submit(struct fz_thread *t)
{
	struct drm_anpu_bo_ref refs[10];
	struct drm_anpu_sync in[4], out[4];
	struct drm_anpu_submit s = { 0 };
	uint32_t n_refs, n_in, n_out, size = 0, cmd, flow = 0;
	uint64_t cmd_bytes = 0;
	struct fz_file f;
	int i = snap(t, &f);
	long r;

	if (i < 0)
		return;
	cmd = cmd_bo(t, f.fd, &f, 0, &size, &cmd_bytes);
	s.ctx_id = pick(t, f.ctx, FZ_CTXS, 90);
	s.cmd_handle = cmd;
	s.cmd_size = size;
	if (fz_chance(&t->rng, 5))
		s.cmd_handle = pick(t, f.bo, FZ_BOS, 70);
	if (fz_chance(&t->rng, 8))
		s.cmd_size = fz_chance(&t->rng, 50) ? fz_edge32(&t->rng) : size + 8;
	if (fz_chance(&t->rng, 8))
		s.cmd_offset = fz_chance(&t->rng, 50) ? fz_edge64(&t->rng) :
			8ull * fz_below(&t->rng, (uint32_t)(cmd_bytes / 8 + 1));
	if (fz_chance(&t->rng, 6)) {
		s.flags = DRM_ANPU_SUBMIT_PROFILE;
		s.profile_handle = fz_chance(&t->rng, 20) ? cmd : pick(t, f.bo, FZ_BOS, 90);
		s.profile_size = fz_chance(&t->rng, 70) ? 4096 : fz_edge32(&t->rng);
		s.profile_offset = fz_chance(&t->rng, 70) ? 0 : fz_edge64(&t->rng);
	} else if (fz_chance(&t->rng, 3)) {
		s.flags = fz_edge32(&t->rng);
		s.profile_handle = fz_edge32(&t->rng);
	}
	submit_bos(t, &f, cmd, refs, &n_refs);
	fz_obj_array(&t->rng, &s.bos, t->scratch, refs, n_refs, sizeof(refs[0]));
	if (fz_chance(&t->rng, 25)) {
		sync_array(t, &f, in, &n_in, 0);
	} else {
		n_in = 0;
	}
	fz_obj_array(&t->rng, &s.in_syncs, t->scratch + FZ_SCRATCH / 4, in, n_in, sizeof(in[0]));
	if (fz_chance(&t->rng, 70))
		flow = flow_sync(t, f.fd);
	sync_array(t, &f, out, &n_out, flow);
	fz_obj_array(&t->rng, &s.out_syncs, t->scratch + FZ_SCRATCH / 2, out, n_out,
		     sizeof(out[0]));
	if (t->p->avoid & FZ_AVOID_PARALLEL_SUBMIT)
		pthread_mutex_lock(&t->p->submit_lock);
	r = fz_ioctl(t, FZ_SUBMIT, f.fd, DRM_IOCTL_ANPU_SUBMIT, argp(t, &s));
	if (t->p->avoid & FZ_AVOID_PARALLEL_SUBMIT)
		pthread_mutex_unlock(&t->p->submit_lock);
	if (!r) {
		pthread_mutex_lock(&t->p->lock);
		for (unsigned int k = 0; k < FZ_CTXS; k++)
			if (t->p->file[i].fd == f.fd && t->p->file[i].ctx[k] == s.ctx_id)
				t->p->file[i].ctx_seqno[k] = s.seqno;
		pthread_mutex_unlock(&t->p->lock);
		if (flow && s.out_syncs.array == (uintptr_t)(t->scratch + FZ_SCRATCH / 2))
			t->unwaited++;
	}
	/* the command BO: closed at once (the job holds it) or shared */
	if (cmd && fz_chance(&t->rng, 70)) {
		struct drm_gem_close c = { .handle = cmd };

		fz_ioctl(t, FZ_GEM_CLOSE, f.fd, DRM_IOCTL_GEM_CLOSE, &c);
	} else if (cmd) {
		pool_add_bo(t, i, f.fd, cmd, 0, cmd_bytes);
	}
	if (t->unwaited >= 8 && t->flow_fd >= 0)
		flow_wait(t);
}

/*
 * Back-to-back valid NOP jobs on one context, each with the thread's flow
 * syncobj (the submit path racing the jobs' ends, other threads' closes).
 */
static void op_submit_burst(struct fz_thread *t)
{
	struct drm_anpu_bo_ref ref = { 0 };
	struct drm_anpu_sync out = { 0 };
	uint64_t cmd_bytes = 0;
	uint32_t size = 0, cmd;
	struct fz_file f;
	int i = snap(t, &f);

	if (i < 0)
		return;
	cmd = cmd_bo(t, f.fd, &f, 1 + fz_below(&t->rng, 4), &size, &cmd_bytes);
	if (!cmd)
		return;
	ref.handle = pick(t, f.bo, FZ_BOS, 100);
	out.handle = flow_sync(t, f.fd);
	for (unsigned int k = 0; k < 8; k++) {
		struct drm_anpu_submit s = {
			.ctx_id = pick(t, f.ctx, FZ_CTXS, 100),
			.cmd_handle = cmd, .cmd_size = size,
			.bos = DRM_ANPU_OBJ_ARRAY(1, &ref),
			.out_syncs = DRM_ANPU_OBJ_ARRAY(1, &out),
		};

		if (!out.handle)
			s.out_syncs = (struct drm_anpu_obj_array){ 0 };
		if (ref.handle == cmd || fz_chance(&t->rng, 50))
			s.bos = (struct drm_anpu_obj_array){ 0 };
		if (!fz_ioctl(t, FZ_SUBMIT, f.fd, DRM_IOCTL_ANPU_SUBMIT, &s) && out.handle)
			t->unwaited++;
	}
	struct drm_gem_close c = { .handle = cmd };

	fz_ioctl(t, FZ_GEM_CLOSE, f.fd, DRM_IOCTL_GEM_CLOSE, &c);
	if (t->unwaited >= 8 && t->flow_fd >= 0)
		flow_wait(t);
}

static void op_job_info(struct fz_thread *t)
{
	struct drm_anpu_job_info a = { 0 };
	struct fz_file f;
	unsigned int k = fz_below(&t->rng, FZ_CTXS);

	if (snap(t, &f) < 0)
		return;
	a.ctx_id = fz_chance(&t->rng, 85) ? f.ctx[k] : fz_edge32(&t->rng);
	a.seqno = f.ctx_seqno[k] - fz_below(&t->rng, 12) + 1;
	if (fz_chance(&t->rng, 8))
		a.seqno = fz_edge64(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	fz_ioctl(t, FZ_JOB_INFO, f.fd, DRM_IOCTL_ANPU_JOB_INFO, argp(t, &a));
}

static void op_clock_sample(struct fz_thread *t)
{
	struct drm_anpu_clock_sample a = { 0 };
	struct fz_file f;

	if (snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 10))
		a.reserved = fz_edge64(&t->rng);
	fz_ioctl(t, FZ_CLOCK_SAMPLE, f.fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, argp(t, &a));
}

static void op_syncobj(struct fz_thread *t)
{
	struct fz_file f;
	int i = snap(t, &f);

	if (i < 0)
		return;
	switch (fz_below(&t->rng, 3)) {
	case 0: {
		struct drm_syncobj_create c = {
			.flags = fz_chance(&t->rng, 30) ? DRM_SYNCOBJ_CREATE_SIGNALED : 0,
		};

		if (fz_chance(&t->rng, 4))
			c.flags = fz_edge32(&t->rng);
		if (!fz_ioctl(t, FZ_SYNCOBJ_CREATE, f.fd, DRM_IOCTL_SYNCOBJ_CREATE, &c))
			pool_put(t, i, f.fd, t->p->file[i].sync, FZ_SYNCS, c.handle);
		break;
	}
	case 1: {
		struct drm_syncobj_destroy d = { .handle = pick(t, f.sync, FZ_SYNCS, 85) };

		if (!fz_ioctl(t, FZ_SYNCOBJ_DESTROY, f.fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d))
			pool_forget(t, i, f.fd, t->p->file[i].sync, FZ_SYNCS, d.handle);
		break;
	}
	default: {
		uint32_t h[3] = { pick(t, f.sync, FZ_SYNCS, 90), pick(t, f.sync, FZ_SYNCS, 90),
				  pick(t, f.sync, FZ_SYNCS, 90) };
		struct drm_syncobj_wait w = {
			.handles = (uintptr_t)h, .count_handles = 1 + fz_below(&t->rng, 3),
			.timeout_nsec = (int64_t)(now_ns() + fz_below(&t->rng, 20) * 1000000ull),
			.flags = fz_below(&t->rng, 4),
		};

		if (fz_chance(&t->rng, 4))
			w.handles = fz_ptr(&t->rng, h);
		if (fz_ioctl(t, FZ_SYNCOBJ_WAIT, f.fd, DRM_IOCTL_SYNCOBJ_WAIT, &w) == 0)
			atomic_fetch_add_explicit(&t->p->sh->jobs_done, 1, memory_order_relaxed);
		break;
	}
	}
}

/*
 * Any driver ioctl number with any size and direction (truncated or longer
 * structs), or a generic DRM ioctl on random bytes. Not the syncobj ioctls
 * that take handle arrays (RESET, SIGNAL, QUERY, TRANSFER, TIMELINE_SIGNAL):
 * 6.12's drm_syncobj_array_find() kmallocs a user-sized array without
 * __GFP_NOWARN, a WARNING in the DRM core on a huge count, not the driver's.
 */
static void op_raw_ioctl(struct fz_thread *t)
{
	static const uint8_t generic[] = { 0x00, 0x0c, 0x0d, 0x09, 0x0a, 0x0b, 0x2d, 0x2e,
					   0xbf, 0xc0, 0xc1, 0xc2 };
	static const uint16_t sizes[] = {
		sizeof(struct drm_anpu_get_param), sizeof(struct drm_anpu_bo_create),
		sizeof(struct drm_anpu_bo_info), sizeof(struct drm_anpu_ctx_create),
		sizeof(struct drm_anpu_ctx_destroy), sizeof(struct drm_anpu_submit),
		sizeof(struct drm_anpu_job_info), sizeof(struct drm_anpu_clock_sample),
	};
	uint8_t *buf = t->scratch + FZ_SCRATCH / 4 * 3;
	unsigned int nr, size, dir = _IOC_READ | _IOC_WRITE;
	unsigned long req;
	struct fz_file f;

	if (snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 60)) {
		nr = DRM_COMMAND_BASE + fz_below(&t->rng, 12);
		size = nr - DRM_COMMAND_BASE < 8 ? sizes[nr - DRM_COMMAND_BASE] : 16;
		size = fz_chance(&t->rng, 50) ? size - fz_below(&t->rng, size + 1)
					      : size + 8 * fz_below(&t->rng, 8);
	} else {
		nr = generic[fz_below(&t->rng, sizeof(generic))];
		size = 8 * fz_below(&t->rng, 9);
	}
	if (fz_chance(&t->rng, 10))
		dir = fz_below(&t->rng, 4);
	if (size > 1024)
		size = 1024;
	fz_random_bytes(&t->rng, buf, size + 64);
	if (fz_chance(&t->rng, 30))
		memset(buf + size / 2, 0, size - size / 2 + 64);	/* zero tails, reserved */
	req = _IOC(dir, DRM_IOCTL_BASE, nr, size);
	if (fz_chance(&t->rng, 3))
		req = (unsigned long)fz_next(&t->rng) & 0xffffffffu;
	fz_ioctl(t, FZ_RAW_IOCTL, f.fd, req, argp(t, buf));
}

/* mmap @len bytes of BO @handle's at @delta bytes into it; NULL on failure. */
static uint8_t *bo_map(struct fz_thread *t, int fd, uint32_t handle, uint64_t len,
		       uint64_t delta, int prot, bool private)
{
	struct drm_anpu_bo_info info = { .handle = handle };
	void *map;

	if (fz_ioctl(t, FZ_BO_INFO, fd, DRM_IOCTL_ANPU_BO_INFO, &info))
		return NULL;
	map = mmap(NULL, len ? len : info.size, prot, private ? MAP_PRIVATE : MAP_SHARED, fd,
		   (off_t)(info.mmap_offset + delta));
	fz_count(t, FZ_MMAP, map == MAP_FAILED ? -1 : 0);
	return map == MAP_FAILED ? NULL : map;
}

/* mmap a shared BO at a random offset and length, read it, unmap a page in
 * the middle, then the rest. */
static void op_mmap(struct fz_thread *t)
{
	uint64_t len = 4096ull * (1 + fz_below(&t->rng, 16)), delta = 0, hole = 0, hole_len = 0;
	bool private = !(t->p->avoid & FZ_AVOID_PRIVATE_MMAP) && fz_chance(&t->rng, 5);
	int prot = PROT_READ | PROT_WRITE;
	struct fz_file f;
	uint8_t *map;

	if (snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 30))
		delta = fz_chance(&t->rng, 70) ? 4096ull * fz_below(&t->rng, 16)
					       : fz_edge64(&t->rng) & ~4095ull;
	if (fz_chance(&t->rng, 10))
		prot = fz_chance(&t->rng, 50) ? PROT_READ : PROT_WRITE;
	map = bo_map(t, f.fd, pick(t, f.bo, FZ_BOS, 90), len, delta, prot, private);
	if (!map)
		return;
	if (prot != PROT_WRITE)
		fz_count_touch(t, FZ_TOUCH, fz_touch(map, len, false));
	if (fz_chance(&t->rng, 50)) {
		hole = 4096ull * fz_below(&t->rng, (uint32_t)(len / 4096));
		hole_len = 4096;
		fz_count(t, FZ_MUNMAP, munmap(map + hole, hole_len));
	}
	/* only what is still ours: another thread may have mapped the hole */
	if (hole)
		fz_count(t, FZ_MUNMAP, munmap(map, hole));
	if (hole + hole_len < len)
		fz_count(t, FZ_MUNMAP, munmap(map + hole + hole_len, len - hole - hole_len));
}

/*
 * A new BO whose pages carry their index (written through one mapping);
 * a second mapping loses its head or tail to munmap before its first
 * access, then each remaining page must show its own index (a fault
 * handler that ignores the mapping's page offset shows page 0's).
 */
static void op_mmap_pages(struct fz_thread *t)
{
	unsigned int pages = 2 + fz_below(&t->rng, 7), cut = 1 + fz_below(&t->rng, pages - 1);
	bool head = fz_chance(&t->rng, 70);
	unsigned int first = head ? cut : 0, last = head ? pages : cut;
	struct drm_gem_close c = { 0 };
	uint8_t *tags, *map;
	uint64_t addr, size;
	struct fz_file f;
	int sig = 0;

	if (snap(t, &f) < 0)
		return;
	c.handle = bo_create(t, f.fd, 4096ull * pages, 0, &addr, &size);
	if (!c.handle)
		return;
	tags = bo_map(t, f.fd, c.handle, 4096ull * pages, 0, PROT_READ | PROT_WRITE, false);
	map = tags ? bo_map(t, f.fd, c.handle, 4096ull * pages, 0, PROT_READ, false) : NULL;
	for (unsigned int p = 0; map && p < pages && !sig; p++) {
		sig = fz_touch(tags + p * 4096ull, 1, true);
		if (!sig)
			*(volatile uint32_t *)(tags + p * 4096ull) = 0xa0000000u | p;
	}
	if (map && !sig) {
		uint8_t *gone = head ? map : map + cut * 4096ull;
		size_t gone_len = (head ? cut : pages - cut) * 4096ull;

		fz_count(t, FZ_MUNMAP, munmap(gone, gone_len));
		for (unsigned int p = first; p < last && !sig; p++) {
			sig = fz_touch(map + p * 4096ull, 1, false);
			if (!sig && *(volatile uint32_t *)(map + p * 4096ull) != (0xa0000000u | p))
				atomic_fetch_add_explicit(&t->p->sh->map_mismatch, 1,
							  memory_order_relaxed);
		}
		fz_count(t, FZ_MUNMAP, munmap(map + first * 4096ull, (last - first) * 4096ull));
	} else if (map) {
		fz_count(t, FZ_MUNMAP, munmap(map, 4096ull * pages));
	}
	fz_count_touch(t, FZ_TOUCH, sig);
	if (tags)
		fz_count(t, FZ_MUNMAP, munmap(tags, 4096ull * pages));
	fz_ioctl(t, FZ_GEM_CLOSE, f.fd, DRM_IOCTL_GEM_CLOSE, &c);
}

/* Export a BO as a dma-buf, mmap it, import it into another file (or import
 * something that is not an ANPU dma-buf). */
static void op_prime(struct fz_thread *t)
{
	struct drm_prime_handle ex = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_prime_handle im = { 0 };
	struct fz_file f, g;
	int j, i = snap(t, &f);

	if (i < 0)
		return;
	ex.handle = pick(t, f.bo, FZ_BOS, 90);
	if (fz_chance(&t->rng, 5))
		ex.flags = fz_edge32(&t->rng);
	if (fz_ioctl(t, FZ_PRIME_EXPORT, f.fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ex))
		return;
	if (!(t->p->avoid & FZ_AVOID_DMABUF_MMAP) && fz_chance(&t->rng, 50)) {
		struct drm_anpu_bo_info info = { .handle = ex.handle };
		size_t len = 4096;
		void *map;

		if (!ioctl(f.fd, DRM_IOCTL_ANPU_BO_INFO, &info))
			len = info.size;
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ex.fd,
			   fz_chance(&t->rng, 80) ? 0 : 4096 * fz_below(&t->rng, 4));
		fz_count(t, FZ_DMABUF_MMAP, map == MAP_FAILED ? -1 : 0);
		if (map != MAP_FAILED) {
			fz_count_touch(t, FZ_TOUCH, fz_touch(map, len, true));
			fz_count(t, FZ_MUNMAP, munmap(map, len));
		}
	}
	j = snap(t, &g);
	if (j >= 0) {
		im.fd = ex.fd;
		if (fz_chance(&t->rng, 8))
			im.fd = fz_chance(&t->rng, 50) ? g.fd : (int)fz_edge32(&t->rng);
		if (fz_chance(&t->rng, 4))
			im.flags = fz_edge32(&t->rng);
		if (!fz_ioctl(t, FZ_PRIME_IMPORT, g.fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &im)) {
			struct drm_anpu_bo_info info = { .handle = im.handle };

			if (!fz_ioctl(t, FZ_BO_INFO, g.fd, DRM_IOCTL_ANPU_BO_INFO, &info))
				pool_add_bo(t, j, g.fd, im.handle, info.npu_addr, info.size);
		}
	}
	fz_count(t, FZ_CLOSE, close(ex.fd));
}

/* Close a file while other threads may be using it, and open a new one. */
static void op_reopen(struct fz_thread *t)
{
	int i = (int)fz_below(&t->rng, FZ_FILES), old, fd;

	pthread_mutex_lock(&t->p->lock);
	old = t->p->file[i].fd;
	memset(&t->p->file[i], 0, sizeof(t->p->file[i]));
	t->p->file[i].fd = -1;
	pthread_mutex_unlock(&t->p->lock);
	if (old >= 0)
		fz_count(t, FZ_CLOSE, close(old));
	fd = open(t->p->node, O_RDWR | O_CLOEXEC);
	fz_count(t, FZ_OPEN, fd);
	pthread_mutex_lock(&t->p->lock);
	t->p->file[i].fd = fd;
	pthread_mutex_unlock(&t->p->lock);
}

static const struct {
	void (*fn)(struct fz_thread *t);
	unsigned int weight;
} ops[] = {
	{ op_get_param, 3 }, { op_bo_create, 10 }, { op_bo_info, 4 }, { op_gem_close, 4 },
	{ op_ctx_create, 5 }, { op_ctx_destroy, 2 }, { op_submit, 24 }, { op_submit_burst, 4 },
	{ op_job_info, 4 },
	{ op_clock_sample, 2 }, { op_syncobj, 6 }, { op_raw_ioctl, 6 }, { op_mmap, 6 },
	{ op_mmap_pages, 2 },
	{ op_prime, 5 }, { op_reopen, 1 },
};

void fz_op(struct fz_thread *t)
{
	unsigned int total = 0, x;

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		total += ops[k].weight;
	x = fz_below(&t->rng, total);
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		if (x < ops[k].weight) {
			ops[k].fn(t);
			break;
		}
		x -= ops[k].weight;
	}
	atomic_fetch_add_explicit(&t->p->sh->iterations, 1, memory_order_relaxed);
}
