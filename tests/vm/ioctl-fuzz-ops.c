// SPDX-License-Identifier: MIT
/*
 * anpu-ioctl-fuzz: the ioctl operations a worker thread picks from (see
 * ioctl-fuzz.h), each one call with random and edge-case arguments.
 */
#include "tests/vm/ioctl-fuzz.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "uapi/drm/anpu_accel.h"

/* ---- operations ---- */

static void op_get_param(struct fz_thread *t)
{
	struct drm_anpu_get_param a = { .param = fz_below(&t->rng, 12) };
	struct fz_file f;

	if (fz_snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 10))
		a.param = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 5))
		a.pad = fz_edge32(&t->rng);
	fz_ioctl(t, FZ_GET_PARAM, f.fd, DRM_IOCTL_ANPU_GET_PARAM, fz_argp(t, &a));
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


static void op_bo_create(struct fz_thread *t)
{
	struct drm_anpu_bo_create a = { .size = bo_size(&t->rng) };
	struct fz_file f;
	int i = fz_snap(t, &f);

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
	if (!fz_ioctl(t, FZ_BO_CREATE, f.fd, DRM_IOCTL_ANPU_BO_CREATE, fz_argp(t, &a)))
		fz_pool_add_bo(t, i, f.fd, a.handle, a.npu_addr, a.size);
}

static void op_bo_info(struct fz_thread *t)
{
	struct drm_anpu_bo_info a = { 0 };
	struct fz_file f;

	if (fz_snap(t, &f) < 0)
		return;
	a.handle = fz_pick(t, f.bo, FZ_BOS, 80);
	if (fz_chance(&t->rng, 5))
		a.handle = f.max_handle + 1;
	if (fz_chance(&t->rng, 5))
		fz_random_bytes(&t->rng, &a.flags, sizeof(a) - sizeof(a.handle));
	fz_ioctl(t, FZ_BO_INFO, f.fd, DRM_IOCTL_ANPU_BO_INFO, fz_argp(t, &a));
}

static void op_gem_close(struct fz_thread *t)
{
	struct drm_gem_close a = { 0 };
	struct fz_file f;
	int i = fz_snap(t, &f);

	if (i < 0)
		return;
	a.handle = fz_pick(t, f.bo, FZ_BOS, 85);
	/* the next handles BO_CREATE will return: races its read-back */
	if (!(t->p->avoid & FZ_AVOID_HANDLE_GUESS) && fz_chance(&t->rng, 15))
		a.handle = f.max_handle + 1 + fz_below(&t->rng, 3);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (!fz_ioctl(t, FZ_GEM_CLOSE, f.fd, DRM_IOCTL_GEM_CLOSE, fz_argp(t, &a)))
		fz_pool_forget(t, i, f.fd, t->p->file[i].bo, FZ_BOS, a.handle);
}

static void op_ctx_create(struct fz_thread *t)
{
	struct drm_anpu_ctx_create a = { .priority = fz_below(&t->rng, 4) };
	struct fz_file f;
	int i = fz_snap(t, &f);

	if (i < 0)
		return;
	if (fz_chance(&t->rng, 5))
		a.priority = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.flags = fz_edge32(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (!fz_ioctl(t, FZ_CTX_CREATE, f.fd, DRM_IOCTL_ANPU_CTX_CREATE, fz_argp(t, &a)))
		fz_pool_put(t, i, f.fd, t->p->file[i].ctx, FZ_CTXS, a.ctx_id);
}

static void op_ctx_destroy(struct fz_thread *t)
{
	struct drm_anpu_ctx_destroy a = { 0 };
	struct fz_file f;
	int i;

	if (t->p->avoid & FZ_AVOID_CTX_DESTROY)
		return;
	i = fz_snap(t, &f);
	if (i < 0)
		return;
	a.ctx_id = fz_pick(t, f.ctx, FZ_CTXS, 85);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	if (!fz_ioctl(t, FZ_CTX_DESTROY, f.fd, DRM_IOCTL_ANPU_CTX_DESTROY, fz_argp(t, &a)))
		fz_pool_forget(t, i, f.fd, t->p->file[i].ctx, FZ_CTXS, a.ctx_id);
}

/* A command BO holding a generated stream (@nops NOPs if nonzero); its
 * handle (0 on failure). */
static uint32_t cmd_bo(struct fz_thread *t, int fd, const struct fz_file *f, unsigned int nops,
		       uint32_t *size, uint64_t *bo_bytes)
{
	struct fz_bo_ref refs[FZ_BOS];
	struct drm_anpu_bo_info info = { 0 };
	uint64_t addr, cap = 4096ull * (1 + fz_below(&t->rng, 4));
	uint32_t h = fz_bo_create(t, fd, cap, fz_chance(&t->rng, 80) ? DRM_ANPU_BO_NPU_READONLY : 0,
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
				  fz_bo_refs(f, refs));
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
		struct drm_anpu_sync e = { .handle = fz_pick(t, f->sync, FZ_SYNCS, 90) };

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
	uint64_t deadline = fz_now_ns() + 2000000000ull;
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
		struct drm_anpu_bo_ref e = { .handle = fz_pick(t, f->bo, FZ_BOS, 95) };

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
	int i = fz_snap(t, &f);
	long r;

	if (i < 0)
		return;
	cmd = cmd_bo(t, f.fd, &f, 0, &size, &cmd_bytes);
	s.ctx_id = fz_pick(t, f.ctx, FZ_CTXS, 90);
	s.cmd_handle = cmd;
	s.cmd_size = size;
	if (fz_chance(&t->rng, 5))
		s.cmd_handle = fz_pick(t, f.bo, FZ_BOS, 70);
	if (fz_chance(&t->rng, 8))
		s.cmd_size = fz_chance(&t->rng, 50) ? fz_edge32(&t->rng) : size + 8;
	if (fz_chance(&t->rng, 8))
		s.cmd_offset = fz_chance(&t->rng, 50) ? fz_edge64(&t->rng) :
			8ull * fz_below(&t->rng, (uint32_t)(cmd_bytes / 8 + 1));
	if (fz_chance(&t->rng, 6)) {
		s.flags = DRM_ANPU_SUBMIT_PROFILE;
		s.profile_handle = fz_chance(&t->rng, 20) ? cmd : fz_pick(t, f.bo, FZ_BOS, 90);
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
	r = fz_ioctl(t, FZ_SUBMIT, f.fd, DRM_IOCTL_ANPU_SUBMIT, fz_argp(t, &s));
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
		fz_pool_add_bo(t, i, f.fd, cmd, 0, cmd_bytes);
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
	int i = fz_snap(t, &f);

	if (i < 0)
		return;
	cmd = cmd_bo(t, f.fd, &f, 1 + fz_below(&t->rng, 4), &size, &cmd_bytes);
	if (!cmd)
		return;
	ref.handle = fz_pick(t, f.bo, FZ_BOS, 100);
	out.handle = flow_sync(t, f.fd);
	for (unsigned int k = 0; k < 8; k++) {
		struct drm_anpu_submit s = {
			.ctx_id = fz_pick(t, f.ctx, FZ_CTXS, 100),
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

	if (fz_snap(t, &f) < 0)
		return;
	a.ctx_id = fz_chance(&t->rng, 85) ? f.ctx[k] : fz_edge32(&t->rng);
	a.seqno = f.ctx_seqno[k] - fz_below(&t->rng, 12) + 1;
	if (fz_chance(&t->rng, 8))
		a.seqno = fz_edge64(&t->rng);
	if (fz_chance(&t->rng, 4))
		a.pad = fz_edge32(&t->rng);
	fz_ioctl(t, FZ_JOB_INFO, f.fd, DRM_IOCTL_ANPU_JOB_INFO, fz_argp(t, &a));
}

static void op_clock_sample(struct fz_thread *t)
{
	struct drm_anpu_clock_sample a = { 0 };
	struct fz_file f;

	if (fz_snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 10))
		a.reserved = fz_edge64(&t->rng);
	fz_ioctl(t, FZ_CLOCK_SAMPLE, f.fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, fz_argp(t, &a));
}

static void op_syncobj(struct fz_thread *t)
{
	struct fz_file f;
	int i = fz_snap(t, &f);

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
			fz_pool_put(t, i, f.fd, t->p->file[i].sync, FZ_SYNCS, c.handle);
		break;
	}
	case 1: {
		struct drm_syncobj_destroy d = { .handle = fz_pick(t, f.sync, FZ_SYNCS, 85) };

		if (!fz_ioctl(t, FZ_SYNCOBJ_DESTROY, f.fd, DRM_IOCTL_SYNCOBJ_DESTROY, &d))
			fz_pool_forget(t, i, f.fd, t->p->file[i].sync, FZ_SYNCS, d.handle);
		break;
	}
	default: {
		uint32_t h[3] = { fz_pick(t, f.sync, FZ_SYNCS, 90), fz_pick(t, f.sync, FZ_SYNCS, 90),
				  fz_pick(t, f.sync, FZ_SYNCS, 90) };
		struct drm_syncobj_wait w = {
			.handles = (uintptr_t)h, .count_handles = 1 + fz_below(&t->rng, 3),
			.timeout_nsec = (int64_t)(fz_now_ns() + fz_below(&t->rng, 20) * 1000000ull),
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
 * structs), or a generic DRM ioctl on random bytes (GET_UNIQUE and GET_MAGIC
 * among them: 6.12's DRM core oopsed on them on an accel node). Not the syncobj ioctls
 * that take handle arrays (RESET, SIGNAL, QUERY, TRANSFER, TIMELINE_SIGNAL):
 * 6.12's drm_syncobj_array_find() kmallocs a user-sized array without
 * __GFP_NOWARN, a WARNING in the DRM core on a huge count, not the driver's.
 */
static void op_raw_ioctl(struct fz_thread *t)
{
	static const uint8_t generic[] = { 0x00, 0x01, 0x02, 0x0c, 0x0d, 0x09, 0x0a, 0x0b,
					   0x2d, 0x2e, 0xbf, 0xc0, 0xc1, 0xc2 };
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

	if (fz_snap(t, &f) < 0)
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
	fz_ioctl(t, FZ_RAW_IOCTL, f.fd, req, fz_argp(t, buf));
}

static const struct {
	void (*fn)(struct fz_thread *t);
	unsigned int weight;
} ops[] = {
	{ op_get_param, 3 }, { op_bo_create, 10 }, { op_bo_info, 4 }, { op_gem_close, 4 },
	{ op_ctx_create, 5 }, { op_ctx_destroy, 2 }, { op_submit, 24 }, { op_submit_burst, 4 },
	{ op_job_info, 4 },
	{ op_clock_sample, 2 }, { op_syncobj, 6 }, { op_raw_ioctl, 6 }, { fz_op_mmap, 6 },
	{ fz_op_mmap_pages, 2 },
	{ fz_op_prime, 5 }, { fz_op_reopen, 1 },
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
