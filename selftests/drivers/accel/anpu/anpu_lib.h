/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the ANPU accel selftests: finding the device and its
 * debugfs/sysfs directories, thin ioctl wrappers that return 0 or -errno,
 * leak baselines (debugfs object counters, fdinfo memory), command-stream
 * building (tests/lib/simdev's builder), syncobj waits with the fence error,
 * and fault injection through debugfs.
 *
 * The driver's debugfs interface these tests rely on (docs/virtual-platform.md
 * and kmod/anpu_debugfs.c):
 *   counters          "bos N", "jobs N", "contexts N" lines (live objects)
 *   fault_inject      write "<queue> <none|hang|fault|fail_reset> [sticky]"
 *   reset             write "<queue>" or "device": reset it now
 *   power_loss        write 1: power the device down behind runtime PM's back
 *                     (a wedged device: doorbells dropped, nothing progresses);
 *                     write 0: power it up again
 */
#ifndef ANPU_SELFTEST_LIB_H
#define ANPU_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xf86drm.h>

#include "uapi/drm/anpu_accel.h"
#include "uapi/drm/anpu_isa.h"
#include "tests/lib/simdev.h"

#define ANPU_NUM_PRIO	4

/* ---- device ---- */

/* Open the first ANPU accel node; -ENODEV when there is none. */
int anpu_open(void);
/* The node path anpu_open() found (after a successful call). */
const char *anpu_node_path(void);
/* PCI address of the device behind @fd ("0000:00:02.0"); 0 or -errno. */
int anpu_bdf(int fd, char *buf, size_t len);
/* Debugfs directory of the device (/sys/kernel/debug/accel/<bdf>); 0 or -errno. */
int anpu_debugfs_dir(char *buf, size_t len);

/* ioctl: 0 or -errno (drmIoctl retries EINTR/EAGAIN). */
int anpu_ioctl(int fd, unsigned long req, void *arg);

/* ---- leak baselines ---- */
struct anpu_counters {
	long bos, jobs, contexts;
};
int anpu_counters_read(struct anpu_counters *c);
/* Wait (up to @timeout_ms) until the counters equal @base; 0 or -ETIMEDOUT (then *now). */
int anpu_counters_settle(const struct anpu_counters *base, struct anpu_counters *now,
			 int timeout_ms);
/* Sum of the drm-total-* memory keys of @fd's fdinfo in bytes, or -errno. */
long long anpu_fdinfo_total(int fd);
/* Value of fdinfo key @key (e.g. "drm-engine-npu") as a number, or -errno. */
long long anpu_fdinfo_value(int fd, const char *key);

/* ---- ioctl wrappers ---- */
int anpu_get_param(int fd, uint32_t param, uint64_t *value);
int anpu_bo_create(int fd, uint64_t size, uint32_t flags, uint32_t *handle, uint64_t *npu_addr);
int anpu_bo_info(int fd, uint32_t handle, struct drm_anpu_bo_info *info);
int anpu_bo_close(int fd, uint32_t handle);
/* mmap a BO (whole size); NULL on failure (errno set). */
void *anpu_bo_mmap(int fd, uint32_t handle, uint64_t *size);
int anpu_ctx_create(int fd, uint32_t prio, uint32_t *ctx_id);
int anpu_ctx_destroy(int fd, uint32_t ctx_id);
int anpu_job_info(int fd, uint32_t ctx_id, uint64_t seqno, struct drm_anpu_job_info *ji);

/* ---- buffers with a CPU mapping ---- */
struct anpu_bo {
	uint32_t handle;
	uint32_t flags;
	uint64_t size;
	uint64_t addr;		/* NPU address */
	void *map;
};
int anpu_bo_new(int fd, uint64_t size, uint32_t flags, struct anpu_bo *bo);
void anpu_bo_free(int fd, struct anpu_bo *bo);

/* ---- command streams ---- */
/* A stream holding @nops NOP ops, in a new read-only BO. */
int anpu_stream_bo(int fd, const struct simdev_stream *s, struct anpu_bo *bo);
int anpu_nop_bo(int fd, unsigned int nops, struct anpu_bo *bo, uint32_t *size);
/* SCALE by 1.0 (a copy) of @n floats from @src to @dst: a stream. */
void anpu_stream_copy(struct simdev_stream *s, uint64_t src, uint64_t dst, uint32_t n);

/*
 * A job that keeps the NPU busy for a while (@reps F32 MATMULs of
 * [1024 x 16] by [1024 x 1024], tens of ms on the model): its own x, w and
 * y BOs, the stream in @cmd, and the BO list (x, w read; y written).
 */
struct anpu_heavy {
	struct anpu_bo x, w, y, cmd;
	struct drm_anpu_bo_ref refs[3];
};
int anpu_heavy_new(int fd, unsigned int reps, struct anpu_heavy *h);
void anpu_heavy_free(int fd, struct anpu_heavy *h);

/* ---- submit ---- */
struct anpu_submit_args {
	uint32_t ctx_id;
	const struct anpu_bo *cmd;
	uint32_t cmd_size;	/* 0: the header's size */
	const struct drm_anpu_bo_ref *bos;
	uint32_t n_bos;
	const struct drm_anpu_sync *in;
	uint32_t n_in;
	const struct drm_anpu_sync *out;
	uint32_t n_out;
};
/* 0 or -errno; *seqno (may be NULL) gets the job's sequence number. */
int anpu_submit(int fd, const struct anpu_submit_args *a, uint64_t *seqno);
/* Submit with one binary out syncobj (created here) and wait for it. Returns the
 * fence status: 0 ok, negative the fence's error; or the submit/wait error. */
int anpu_run(int fd, uint32_t ctx_id, const struct anpu_bo *cmd,
	     const struct drm_anpu_bo_ref *bos, uint32_t n_bos, uint64_t *seqno,
	     int timeout_ms);

/* ---- syncobjs ---- */
uint32_t anpu_syncobj(int fd);		/* 0 on failure */
int anpu_syncobj_wait(int fd, uint32_t handle, uint64_t point, int timeout_ms);
/* Fence status of a signalled binary syncobj (or a timeline point): 1 signalled ok,
 * 0 not signalled, negative the fence's error, or -errno. */
int anpu_syncobj_status(int fd, uint32_t handle, uint64_t point);

/* ---- fault injection and resets (debugfs) ---- */
int anpu_fault_inject(unsigned int queue, const char *action, bool sticky);
int anpu_force_reset(const char *what);
/* Debugfs "counters" value of @key (e.g. "resets_queue"), or -errno. */
long anpu_debugfs_counter(const char *key);
int anpu_power_loss(bool on);
/* The device's runtime-PM status ("active", "suspended", ...) into @buf; 0 or -errno. */
int anpu_runtime_status(int fd, char *buf, size_t len);
/* Wait (up to @timeout_ms) until the runtime-PM status is @want; 0 or -ETIMEDOUT. */
int anpu_runtime_status_wait(int fd, const char *want, int timeout_ms);

/* ---- misc ---- */
uint64_t anpu_now_ns(void);
/* Read a whole small file into @buf (NUL-terminated); bytes or -errno. */
int anpu_read_file(const char *path, char *buf, size_t len);
int anpu_write_file(const char *path, const char *s);
/* A forked child's exit status; -1 if it did not exit normally. */
int anpu_wait_child(int pid);

#endif /* ANPU_SELFTEST_LIB_H */
