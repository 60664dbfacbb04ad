/* SPDX-License-Identifier: MIT */
/*
 * anpu-ioctl-fuzz: a seeded, time-bounded ioctl fuzzer of anpu.ko that runs in
 * the guest (tests/vm/fuzz.sh). Shared declarations of its parts:
 *   ioctl-fuzz.c       options, the supervisor (forks, kills and restarts the
 *                      worker processes), the summary and the final checks
 *   ioctl-fuzz-pool.c  the per-process object pool, call counting
 *   ioctl-fuzz-ops.c   the ioctl operations a worker thread picks from (one
 *                      call each, random and edge-case arguments)
 *   ioctl-fuzz-map.c   the mapping, PRIME and file operations
 *   ioctl-fuzz-args.c  argument generators: edge-case numbers, user pointers,
 *                      object arrays, command streams
 */
#ifndef ANPU_IOCTL_FUZZ_H
#define ANPU_IOCTL_FUZZ_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What gets counted: each ioctl, plus the mapping and file operations. */
enum fz_call {
	FZ_GET_PARAM, FZ_BO_CREATE, FZ_BO_INFO, FZ_CTX_CREATE, FZ_CTX_DESTROY,
	FZ_SUBMIT, FZ_JOB_INFO, FZ_CLOCK_SAMPLE, FZ_GEM_CLOSE, FZ_PRIME_EXPORT,
	FZ_PRIME_IMPORT, FZ_SYNCOBJ_CREATE, FZ_SYNCOBJ_DESTROY, FZ_SYNCOBJ_WAIT,
	FZ_RAW_IOCTL, FZ_MMAP, FZ_MUNMAP, FZ_TOUCH, FZ_DMABUF_MMAP, FZ_OPEN, FZ_CLOSE,
	FZ_NCALLS
};
extern const char *const fz_call_names[FZ_NCALLS];

/* errno buckets: 0 is success, the last one any errno >= FZ_NERRNO - 1 */
#define FZ_NERRNO	136

/* --avoid: known-bug paths a run can leave out (the default exercises all) */
#define FZ_AVOID_DMABUF_MMAP	(1u << 0)	/* mmap of an exported dma-buf */
#define FZ_AVOID_CTX_DESTROY	(1u << 1)	/* CTX_DESTROY (races SUBMIT) */
#define FZ_AVOID_HANDLE_GUESS	(1u << 2)	/* GEM_CLOSE of handles not yet returned */
#define FZ_AVOID_PARALLEL_SUBMIT (1u << 3)	/* one SUBMIT at a time per process */
#define FZ_AVOID_PRIVATE_MMAP	(1u << 4)	/* MAP_PRIVATE mmap of a BO */

/* Shared by every process of a run (MAP_SHARED): counts survive SIGKILL. */
struct fz_shared {
	atomic_ulong count[FZ_NCALLS][FZ_NERRNO];
	atomic_ulong iterations;
	atomic_ulong jobs_done;		/* out-fences seen signalled */
	atomic_ulong map_mismatch;	/* a mapping showed another page's data */
	atomic_int stop;		/* the run's time is up: workers finish */
};

/* A small splitmix64 generator: one per thread, seeded from the run's seed. */
struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0). */
static inline uint32_t fz_below(struct fz_rng *r, uint32_t n)
{
	return (uint32_t)(fz_next(r) % n);
}

/* True with probability pct/100. */
static inline bool fz_chance(struct fz_rng *r, unsigned int pct)
{
	return fz_below(r, 100) < pct;
}

/* A seed for stream @a, @b, @c of the run seeded @seed. */
uint64_t fz_derive(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* ---- the per-process object pool (ioctl-fuzz-pool.c) ---- */
/* A BO of this file the generators may reference (handle, NPU address, size). */
struct fz_bo_ref {
	uint32_t handle;
	uint64_t addr, size;
};


#define FZ_FILES	3
#define FZ_BOS		24
#define FZ_CTXS		6
#define FZ_SYNCS	8

struct fz_file {
	int fd;				/* -1: closed */
	uint32_t bo[FZ_BOS];		/* 0: empty slot */
	uint64_t bo_addr[FZ_BOS], bo_size[FZ_BOS];
	uint32_t ctx[FZ_CTXS];
	uint64_t ctx_seqno[FZ_CTXS];	/* last job submitted on it */
	uint32_t sync[FZ_SYNCS];
	uint32_t max_handle;		/* largest BO handle seen (for guesses) */
};

struct fz_proc {
	pthread_mutex_t lock;		/* the pool below; never held over an ioctl */
	pthread_mutex_t submit_lock;	/* FZ_AVOID_PARALLEL_SUBMIT */
	struct fz_file file[FZ_FILES];
	struct fz_shared *sh;
	unsigned int avoid;		/* FZ_AVOID_* */
	const char *node;		/* the device node, /dev/accel/accelN */
	uint64_t deadline_ns;		/* this process ends then */
};

/* One worker thread. */
struct fz_thread {
	struct fz_proc *p;
	struct fz_rng rng;
	uint8_t *scratch;		/* FZ_SCRATCH bytes for arrays and structs */
	uint32_t flow_sync;		/* private out-syncobj for flow control */
	int flow_fd;			/* ... of this fd */
	unsigned int unwaited;		/* jobs submitted since the last wait */
};
#define FZ_SCRATCH	(64 * 1024)

int fz_pool_init(struct fz_proc *p);
/* Run one random operation (ioctl-fuzz-ops.c). */
void fz_op(struct fz_thread *t);
/* Record call @c's result (@ret < 0 with errno set, or >= 0). */
void fz_count(struct fz_thread *t, enum fz_call c, long ret);
/* ioctl(), counted as call @c; errno kept. */
long fz_ioctl(struct fz_thread *t, enum fz_call c, int fd, unsigned long req, void *arg);
/* The ioctl argument: mostly @a, sometimes a bad pointer instead. */
void *fz_argp(struct fz_thread *t, void *a);
uint64_t fz_now_ns(void);
/* A copy of a random file's pool entry; its index, or -1 if it is closed. */
int fz_snap(struct fz_thread *t, struct fz_file *f);
/* Add BO @handle to file @i's pool (if the file is still @fd). */
void fz_pool_add_bo(struct fz_thread *t, int i, int fd, uint32_t handle, uint64_t addr,
		    uint64_t size);
/* Forget / put value @v in array @arr (@n entries) of file @i (if still @fd). */
void fz_pool_forget(struct fz_thread *t, int i, int fd, uint32_t *arr, unsigned int n,
		    uint32_t v);
void fz_pool_put(struct fz_thread *t, int i, int fd, uint32_t *arr, unsigned int n, uint32_t v);
/* A value of @arr (n entries) if any is set and the dice agree, else an edge case. */
uint32_t fz_pick(struct fz_thread *t, const uint32_t *arr, unsigned int n, unsigned int pct);
/* The BOs of file entry @f into @refs (FZ_BOS entries); how many. */
unsigned int fz_bo_refs(const struct fz_file *f, struct fz_bo_ref *refs);
/* BO_CREATE; the handle (0 on failure), its NPU address and size. */
uint32_t fz_bo_create(struct fz_thread *t, int fd, uint64_t size, uint32_t flags,
		      uint64_t *addr, uint64_t *out_size);
/* The mapping and file operations (ioctl-fuzz-map.c). */
void fz_op_mmap(struct fz_thread *t);
void fz_op_mmap_pages(struct fz_thread *t);
void fz_op_prime(struct fz_thread *t);
void fz_op_reopen(struct fz_thread *t);

/* ---- argument generators (ioctl-fuzz-args.c) ---- */
/* An edge-case or random 64-bit number (0, 1, powers of two +-1, all ones, ...). */
uint64_t fz_edge64(struct fz_rng *r);
uint32_t fz_edge32(struct fz_rng *r);
/* A user pointer for the kernel: @valid mostly, else NULL, a kernel address,
 * an unmapped or misaligned one. */
uint64_t fz_ptr(struct fz_rng *r, const void *valid);
/* Fill @buf with random bytes. */
void fz_random_bytes(struct fz_rng *r, void *buf, size_t len);

/* Write a command stream for the BOs @bos into @buf (capacity @cap): NOPs,
 * real ops on the BOs, a valid header with random ops, or random bytes.
 * Returns the stream's size as its header says (may differ from the bytes
 * written, on purpose). */
uint32_t fz_stream(struct fz_rng *r, uint8_t *buf, uint32_t cap,
		   const struct fz_bo_ref *bos, unsigned int n_bos);

/* A valid stream of @nops NOPs in @buf; its size. */
uint32_t fz_nop_stream(uint8_t *buf, uint32_t cap, unsigned int nops);

/* Fill a struct drm_anpu_obj_array for @n elements of @elem_size bytes at
 * @elems (in the thread's scratch, room for FZ_SCRATCH / 4): mostly
 * well-formed, else a wrong stride (with zero or nonzero extra bytes),
 * count or pointer. */
struct drm_anpu_obj_array;
void fz_obj_array(struct fz_rng *r, struct drm_anpu_obj_array *a, void *elems,
		  const void *src, uint32_t n, uint32_t elem_size);

/* ---- mapping guard: SIGBUS/SIGSEGV inside a BO mapping ---- */
/* Install the handler (once per process). */
void fz_guard_install(void);
/* Touch (read, write) @len bytes at @p page by page; 0, or the signal. */
int fz_touch(void *p, size_t len, bool write);
/* Count a touch of call @c: ok, or the signal as an errno (SIGBUS EFAULT,
 * SIGSEGV EACCES). */
void fz_count_touch(struct fz_thread *t, enum fz_call c, int sig);

#endif /* ANPU_IOCTL_FUZZ_H */
