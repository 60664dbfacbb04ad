/* SPDX-License-Identifier: MIT */
/*
 * ANPU DRM accel driver: userspace ABI.
 *
 * The device node is /dev/accel/accelN (driver name "anpu"). Each open file
 * gets one NPU address space; buffer objects (BOs) live in device memory and
 * are mapped into the file's address space at a kernel-chosen NPU address
 * when they are created (or imported). Jobs run command streams (see
 * anpu_isa.h) on scheduling contexts, each bound to a priority and so to one
 * hardware queue. The kernel never parses command streams: the NPU MMU is the
 * security boundary.
 *
 * Conventions (docs/kernel-abi.md has the full reference):
 * - Every ioctl struct may grow at its end in later versions. DRM zero-fills
 *   the part of a struct userspace did not pass, so a new field's zero value
 *   always means the old behaviour.
 * - Every field named pad or reserved must be zero (-EINVAL otherwise), and
 *   so must every flag bit not defined here.
 * - Arrays are passed as struct drm_anpu_obj_array: elements may grow too;
 *   the kernel reads min(stride, its own element size) bytes of each element
 *   and requires any extra bytes userspace passed to be zero.
 * - Errors: -EINVAL malformed arguments, -ENOENT unknown handle or id,
 *   -EFAULT bad user pointer, -ENOMEM out of memory (device or kernel),
 *   -EPERM priority not allowed, -ECANCELED the context is guilty of a fault
 *   or hang, -ENODEV the device is gone (unplugged).
 *
 * Append-only: ioctl numbers, struct layouts and flag values never change.
 */
#ifndef _UAPI_ANPU_ACCEL_H_
#define _UAPI_ANPU_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_ANPU_GET_PARAM		0x00
#define DRM_ANPU_BO_CREATE		0x01
#define DRM_ANPU_BO_INFO		0x02
#define DRM_ANPU_CTX_CREATE		0x03
#define DRM_ANPU_CTX_DESTROY		0x04
#define DRM_ANPU_SUBMIT			0x05
#define DRM_ANPU_JOB_INFO		0x06
#define DRM_ANPU_CLOCK_SAMPLE		0x07

/**
 * enum drm_anpu_param - what DRM_ANPU_GET_PARAM reports
 * @DRM_ANPU_PARAM_HW_VERSION: hardware version, major << 16 | minor.
 * @DRM_ANPU_PARAM_ISA_VERSION: command-stream ISA, major << 16 | minor.
 * @DRM_ANPU_PARAM_CAPS: DRM_ANPU_CAP_* bits.
 * @DRM_ANPU_PARAM_NUM_QUEUES: hardware queues (= priorities).
 * @DRM_ANPU_PARAM_DEVMEM_SIZE: bytes of device memory for BOs.
 * @DRM_ANPU_PARAM_DEVMEM_FREE: bytes of device memory not allocated now.
 * @DRM_ANPU_PARAM_VA_BITS: width of NPU addresses.
 * @DRM_ANPU_PARAM_MAX_BO_SIZE: largest BO DRM_ANPU_BO_CREATE accepts.
 * @DRM_ANPU_PARAM_JOB_INFO_DEPTH: recent jobs per context JOB_INFO remembers.
 * @DRM_ANPU_PARAM_JOB_TIMEOUT_MS: time without progress before a job is hung.
 */
enum drm_anpu_param {
	DRM_ANPU_PARAM_HW_VERSION	= 0,
	DRM_ANPU_PARAM_ISA_VERSION	= 1,
	DRM_ANPU_PARAM_CAPS		= 2,
	DRM_ANPU_PARAM_NUM_QUEUES	= 3,
	DRM_ANPU_PARAM_DEVMEM_SIZE	= 4,
	DRM_ANPU_PARAM_DEVMEM_FREE	= 5,
	DRM_ANPU_PARAM_VA_BITS		= 6,
	DRM_ANPU_PARAM_MAX_BO_SIZE	= 7,
	DRM_ANPU_PARAM_JOB_INFO_DEPTH	= 8,
	DRM_ANPU_PARAM_JOB_TIMEOUT_MS	= 9,
};

/* DRM_ANPU_PARAM_CAPS (the hardware's ANPU_CAP_* bits, same values) */
#define DRM_ANPU_CAP_PROFILING		(1u << 0)
#define DRM_ANPU_CAP_FAULT_INJECTION	(1u << 1)
#define DRM_ANPU_CAP_LARGE_PAGES	(1u << 2)
#define DRM_ANPU_CAP_KV_F16		(1u << 3)

/**
 * struct drm_anpu_get_param - DRM_IOCTL_ANPU_GET_PARAM
 * @param: in, enum drm_anpu_param; unknown values give -EINVAL.
 * @pad: must be zero.
 * @value: out.
 */
struct drm_anpu_get_param {
	__u32 param;
	__u32 pad;
	__u64 value;
};

/* DRM_ANPU_BO_CREATE flags */
#define DRM_ANPU_BO_NPU_READONLY	(1u << 0)	/* jobs may only read it */
#define DRM_ANPU_BO_FLAGS_ALL		DRM_ANPU_BO_NPU_READONLY

/**
 * struct drm_anpu_bo_create - DRM_IOCTL_ANPU_BO_CREATE
 * @size: in, bytes (> 0); rounded up to 4 KiB (2 MiB from 2 MiB up).
 * @flags: in, DRM_ANPU_BO_*.
 * @handle: out, GEM handle.
 * @pad: must be zero.
 * @npu_addr: out, where the BO is mapped in this file's address space.
 *
 * The memory is zeroed. BOs are not CPU-cached: mmap is write-combined.
 */
struct drm_anpu_bo_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u32 pad;
	__u32 reserved;
	__u64 npu_addr;
};

/**
 * struct drm_anpu_bo_info - DRM_IOCTL_ANPU_BO_INFO
 * @handle: in.
 * @flags: out, DRM_ANPU_BO_* it was created with.
 * @size: out, bytes (after rounding).
 * @npu_addr: out, NPU address in this file's address space.
 * @mmap_offset: out, offset to pass to mmap() on the device fd.
 */
struct drm_anpu_bo_info {
	__u32 handle;
	__u32 flags;
	__u64 size;
	__u64 npu_addr;
	__u64 mmap_offset;
};

/* Context priorities = hardware queues (HIGH and REALTIME need CAP_SYS_NICE). */
enum drm_anpu_priority {
	DRM_ANPU_PRIORITY_LOW		= 0,
	DRM_ANPU_PRIORITY_NORMAL	= 1,
	DRM_ANPU_PRIORITY_HIGH		= 2,
	DRM_ANPU_PRIORITY_REALTIME	= 3,
};

/**
 * struct drm_anpu_ctx_create - DRM_IOCTL_ANPU_CTX_CREATE
 * @priority: in, enum drm_anpu_priority.
 * @flags: in, must be zero.
 * @ctx_id: out, nonzero, unique within the file.
 * @pad: must be zero.
 */
struct drm_anpu_ctx_create {
	__u32 priority;
	__u32 flags;
	__u32 ctx_id;
	__u32 pad;
};

/**
 * struct drm_anpu_ctx_destroy - DRM_IOCTL_ANPU_CTX_DESTROY
 * @ctx_id: in. Jobs already submitted still run to completion.
 * @pad: must be zero.
 */
struct drm_anpu_ctx_destroy {
	__u32 ctx_id;
	__u32 pad;
};

/**
 * struct drm_anpu_obj_array - an array of structs passed to an ioctl
 * @stride: bytes per element as userspace knows the element (use
 *	DRM_ANPU_OBJ_ARRAY()); > 0 when @count > 0.
 * @count: elements.
 * @array: user pointer to the first element.
 *
 * An empty array is all zero (stride, count and array); anything else with
 * @count == 0 gives -EINVAL.
 */
struct drm_anpu_obj_array {
	__u32 stride;
	__u32 count;
	__u64 array;
};

#define DRM_ANPU_OBJ_ARRAY(cnt, ptr) \
	{ .stride = sizeof((ptr)[0]), .count = (cnt), .array = (__u64)(__UINTPTR_TYPE__)(ptr) }

/* struct drm_anpu_bo_ref flags */
#define DRM_ANPU_BO_REF_WRITE		(1u << 0)	/* the job writes the BO */
#define DRM_ANPU_BO_REF_FLAGS_ALL	DRM_ANPU_BO_REF_WRITE

/**
 * struct drm_anpu_bo_ref - a BO a job uses (SUBMIT's bos array)
 * @handle: GEM handle.
 * @flags: DRM_ANPU_BO_REF_*: a writer waits for every earlier user of the
 *	BO and becomes its writer fence; a reader waits for the last writer
 *	(implicit sync through the BO's reservation object, also with PRIME
 *	sharers).
 */
struct drm_anpu_bo_ref {
	__u32 handle;
	__u32 flags;
};

/* struct drm_anpu_sync flags */
#define DRM_ANPU_SYNC_TIMELINE		(1u << 0)	/* @point is a timeline point */
#define DRM_ANPU_SYNC_FLAGS_ALL		DRM_ANPU_SYNC_TIMELINE

/**
 * struct drm_anpu_sync - a syncobj wait or signal operation
 * @handle: syncobj handle.
 * @flags: DRM_ANPU_SYNC_*.
 * @point: timeline point with DRM_ANPU_SYNC_TIMELINE, else must be zero.
 */
struct drm_anpu_sync {
	__u32 handle;
	__u32 flags;
	__u64 point;
};

/* DRM_ANPU_SUBMIT flags */
#define DRM_ANPU_SUBMIT_PROFILE		(1u << 0)	/* per-op records into profile BO */
#define DRM_ANPU_SUBMIT_FLAGS_ALL	DRM_ANPU_SUBMIT_PROFILE

/**
 * struct drm_anpu_submit - DRM_IOCTL_ANPU_SUBMIT
 * @ctx_id: in, the context (and so the queue) to run on.
 * @flags: in, DRM_ANPU_SUBMIT_*.
 * @cmd_handle: in, BO holding the command stream (should be NPU-read-only).
 * @cmd_size: in, bytes of the stream (> 0).
 * @cmd_offset: in, byte offset of the stream in the BO, 8-byte aligned;
 *	@cmd_offset + @cmd_size must lie inside the BO.
 * @bos: in, struct drm_anpu_bo_ref[]: every BO the job uses besides the
 *	command and profile BOs; each stays alive until the job ends.
 *	At most 4096 entries; a handle may appear once.
 * @in_syncs: in, struct drm_anpu_sync[]: the job starts after all of them
 *	signal (at most 64).
 * @out_syncs: in, struct drm_anpu_sync[]: signalled (or the timeline point
 *	added) with the job's fence when it ends (at most 64). The fence
 *	carries the job's error (-EIO fault, -ETIMEDOUT hang, -ECANCELED
 *	dropped).
 * @profile_handle: in, with DRM_ANPU_SUBMIT_PROFILE: a writable BO that
 *	receives the profiling header and records; else zero.
 * @profile_size: in, bytes of it to use.
 * @profile_offset: in, 8-byte aligned offset in that BO.
 * @seqno: out, the job's sequence number on its context (for JOB_INFO).
 */
struct drm_anpu_submit {
	__u32 ctx_id;
	__u32 flags;
	__u32 cmd_handle;
	__u32 cmd_size;
	__u64 cmd_offset;
	struct drm_anpu_obj_array bos;
	struct drm_anpu_obj_array in_syncs;
	struct drm_anpu_obj_array out_syncs;
	__u32 profile_handle;
	__u32 profile_size;
	__u64 profile_offset;
	__u64 seqno;
};

/* JOB_INFO state */
enum drm_anpu_job_state {
	DRM_ANPU_JOB_QUEUED	= 0,	/* waiting for dependencies or the queue */
	DRM_ANPU_JOB_RUNNING	= 1,	/* on the hardware ring */
	DRM_ANPU_JOB_DONE	= 2,	/* the status fields are valid */
};

/**
 * struct drm_anpu_job_info - DRM_IOCTL_ANPU_JOB_INFO
 * @ctx_id: in.
 * @pad: must be zero.
 * @seqno: in, a job of this context still remembered (the last
 *	DRM_ANPU_PARAM_JOB_INFO_DEPTH; older ones give -ENOENT).
 * @state: out, enum drm_anpu_job_state.
 * @result: out, enum anpu_job_result (anpu_isa.h).
 * @cause: out, enum anpu_job_cause.
 * @op_index: out, op where the job stopped (op count when it completed).
 * @fault_addr: out, NPU address at fault.
 * @start_ns: out, device clock when the job started (DRM_ANPU_CLOCK_SAMPLE
 *	relates it to CLOCK_MONOTONIC).
 * @end_ns: out, device clock when it ended.
 * @ops_done: out, ops that ran to completion.
 * @error: out, the errno its fence carries (0 for success, positive).
 */
struct drm_anpu_job_info {
	__u32 ctx_id;
	__u32 pad;
	__u64 seqno;
	__u32 state;
	__u32 result;
	__u32 cause;
	__u32 op_index;
	__u64 fault_addr;
	__u64 start_ns;
	__u64 end_ns;
	__u32 ops_done;
	__u32 error;
};

/**
 * struct drm_anpu_clock_sample - DRM_IOCTL_ANPU_CLOCK_SAMPLE
 * @device_ns: out, the device clock, latched by the hardware.
 * @monotonic_ns: out, CLOCK_MONOTONIC at the middle of the latch.
 * @uncertainty_ns: out, half the time the latch took: the error bound of
 *	monotonic_ns - device_ns as a clock offset.
 * @reserved: must be zero.
 */
struct drm_anpu_clock_sample {
	__u64 device_ns;
	__u64 monotonic_ns;
	__u64 uncertainty_ns;
	__u64 reserved;
};

#define DRM_IOCTL_ANPU_GET_PARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_GET_PARAM, struct drm_anpu_get_param)
#define DRM_IOCTL_ANPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_BO_CREATE, struct drm_anpu_bo_create)
#define DRM_IOCTL_ANPU_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_BO_INFO, struct drm_anpu_bo_info)
#define DRM_IOCTL_ANPU_CTX_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_CTX_CREATE, struct drm_anpu_ctx_create)
#define DRM_IOCTL_ANPU_CTX_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_ANPU_CTX_DESTROY, struct drm_anpu_ctx_destroy)
#define DRM_IOCTL_ANPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_SUBMIT, struct drm_anpu_submit)
#define DRM_IOCTL_ANPU_JOB_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_JOB_INFO, struct drm_anpu_job_info)
#define DRM_IOCTL_ANPU_CLOCK_SAMPLE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_ANPU_CLOCK_SAMPLE, struct drm_anpu_clock_sample)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_ANPU_ACCEL_H_ */
