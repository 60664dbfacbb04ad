/* SPDX-License-Identifier: MIT */
/*
 * ANPU hardware interface: everything the driver and the device share that is
 * not userspace ABI. One definition for kmod/, sim/ and libaccel's in-process
 * backend; docs/hardware.md is the prose version.
 *
 * BAR2 is plain shared memory: nothing is trapped. Every register has exactly
 * one writer, the driver ("D") or the device ("M", the model), so no
 * read-modify-write ever races. Driver-written registers take effect when the
 * device reads them: on a doorbell, a control command or a job start, as
 * stated per register. All values are little endian.
 *
 * BAR2 layout:
 *   0x00000 .. 0x0ffff  register page (ANPU_REG_PAGE_SIZE)
 *     0x0000            global registers        (ANPU_REG_*)
 *     0x1000 + q*0x100  queue q's registers     (ANPU_QREG_*)
 *     0x2000 + 8*i      address-space root i    (ANPU_REG_AS_ROOT(i))
 *   0x10000 .. end      device memory; a device physical address (DPA) is a
 *                       BAR2 offset, so DPAs below 0x10000 are never memory.
 */
#ifndef ANPU_HWIF_H
#define ANPU_HWIF_H

#include <linux/types.h>

#include "../uapi/drm/anpu_isa.h"

#define ANPU_HW_ID_MAGIC		0x55504e41u	/* "ANPU" */
#define ANPU_HW_VERSION_MAJOR		1
#define ANPU_HW_VERSION_MINOR		1
#define ANPU_HW_VERSION			((ANPU_HW_VERSION_MAJOR << 16) | ANPU_HW_VERSION_MINOR)

#define ANPU_REG_PAGE_SIZE		0x10000u
#define ANPU_DEVMEM_BASE		ANPU_REG_PAGE_SIZE
/* BAR2 is a power of two between these sizes (QEMU requires a power of two). */
#define ANPU_BAR_MIN_SIZE		(16ull << 20)
#define ANPU_BAR_MAX_SIZE		(64ull << 30)

/* Hardware queues: one per priority; queue index = priority. */
#define ANPU_HW_NUM_QUEUES		4
enum anpu_hw_priority {
	ANPU_PRIO_LOW		= 0,
	ANPU_PRIO_NORMAL	= 1,
	ANPU_PRIO_HIGH		= 2,
	ANPU_PRIO_REALTIME	= 3,
};
#define ANPU_HW_NUM_AS			256	/* address-space ids 0..255 */

/*
 * Vectors. Driver->device doorbells and device->driver interrupts use the
 * same vector numbering space (ivshmem-doorbell needs as many eventfds per
 * peer as vectors). Doorbells 5..7 are reserved (ignored, counted).
 */
#define ANPU_HW_NUM_VECTORS		8
#define ANPU_DB_QUEUE(q)		(q)		/* q < ANPU_HW_NUM_QUEUES */
#define ANPU_DB_CTRL			4
#define ANPU_IRQ_JOB			0	/* a job finished */
#define ANPU_IRQ_ERROR			1	/* a job finished with an error */
#define ANPU_IRQ_CTRL			2	/* a control command finished */

/* ---- global registers (offsets into BAR2) ---- */
#define ANPU_REG_ID			0x000	/* M,ro u32  ANPU_HW_ID_MAGIC */
#define ANPU_REG_VERSION		0x004	/* M,ro u32  major << 16 | minor */
#define ANPU_REG_ISA_VERSION		0x008	/* M,ro u32  ISA major << 16 | minor */
#define ANPU_REG_CAPS			0x00c	/* M,ro u32  ANPU_CAP_* */
#define ANPU_REG_NUM_QUEUES		0x010	/* M,ro u32 */
#define ANPU_REG_NUM_AS			0x014	/* M,ro u32 */
#define ANPU_REG_DEVMEM_BASE		0x018	/* M,ro u64  first DPA of device memory */
#define ANPU_REG_DEVMEM_SIZE		0x020	/* M,ro u64  bytes of device memory */
#define ANPU_REG_CLOCK			0x028	/* M    u64  device clock (ns), latched */
#define ANPU_REG_POWER_STATE		0x030	/* M    u32  ANPU_POWER_* */
#define ANPU_REG_DEVICE_ERRORS		0x034	/* M    u32  count of device-level errors */
#define ANPU_REG_LAST_ERROR		0x038	/* M    u32  ANPU_DEVERR_* of the last one */
#define ANPU_REG_BAD_DOORBELLS		0x03c	/* M    u32  reserved/ignored doorbells */
#define ANPU_REG_CTRL_CMD		0x040	/* D    u32  ANPU_CTRL_* */
#define ANPU_REG_CTRL_ARG		0x044	/* D    u32  command argument */
#define ANPU_REG_CTRL_SEQ		0x048	/* D    u32  bump to issue a command */
#define ANPU_REG_CTRL_ACK_SEQ		0x04c	/* M    u32  CTRL_SEQ of the last done */
#define ANPU_REG_CTRL_RESULT		0x050	/* M    u32  ANPU_CTRL_R_* of that one */
#define ANPU_REG_RESETS			0x054	/* M    u32  device resets done */
#define ANPU_REG_MODEL_THREADS		0x058	/* M,ro u32  worker threads (informative) */
#define ANPU_REG_JOBS_FINISHED		0x05c	/* M    u32  jobs finished, all queues (wraps) */
#define ANPU_REG_IRQ_CONFIG		0x060	/* M    u32  ANPU_IRQ_CFG_* in force (CTRL_SET_IRQ_CONFIG) */
#define ANPU_REG_IRQ_JOB_EVENT		0x064	/* D    u32  see ANPU_IRQ_CFG_JOB_EVENT */
#define ANPU_REG_GLOBAL_END		0x100

/* ANPU_REG_CAPS */
#define ANPU_CAP_PROFILING		(1u << 0)
#define ANPU_CAP_FAULT_INJECTION	(1u << 1)
#define ANPU_CAP_LARGE_PAGES		(1u << 2)
#define ANPU_CAP_KV_F16			(1u << 3)
#define ANPU_CAP_IRQ_JOB_EVENT		(1u << 4)	/* ANPU_REG_IRQ_CONFIG/IRQ_JOB_EVENT */
/* The capabilities userspace sees (DRM_ANPU_CAP_*, ACCEL_CAP_*: same values). */
#define ANPU_CAP_USER_MASK		(ANPU_CAP_PROFILING | ANPU_CAP_FAULT_INJECTION | \
					 ANPU_CAP_LARGE_PAGES | ANPU_CAP_KV_F16)

/*
 * ANPU_REG_IRQ_CONFIG, set by CTRL_SET_IRQ_CONFIG and cleared by a device
 * reset (a driver that predates it, which resets the device at probe, gets
 * one interrupt per job). With JOB_EVENT, the job that moves JOBS_FINISHED
 * from n to n + 1 raises ANPU_IRQ_JOB only if IRQ_JOB_EVENT == n ("interrupt
 * me after the jobs I have seen"), as virtio's used_event. Without it every
 * finished job raises ANPU_IRQ_JOB. ANPU_IRQ_ERROR and ANPU_IRQ_CTRL are never
 * suppressed.
 */
#define ANPU_IRQ_CFG_JOB_EVENT		(1u << 0)
#define ANPU_IRQ_CFG_ALL		ANPU_IRQ_CFG_JOB_EVENT

/* ANPU_REG_POWER_STATE */
#define ANPU_POWER_OFF			0	/* queue doorbells are ignored */
#define ANPU_POWER_ON			1

/* ANPU_REG_LAST_ERROR: device-level errors (no job to blame) */
#define ANPU_DEVERR_NONE		0
#define ANPU_DEVERR_RING_CONFIG		1	/* bad RING_BASE/RING_ENTRIES */
#define ANPU_DEVERR_STATUS_ADDR		2	/* descriptor's status record unusable */
#define ANPU_DEVERR_CTRL_CMD		3	/* unknown control command/argument */

/*
 * Control commands: write CTRL_CMD and CTRL_ARG, then CTRL_SEQ = old + 1, then
 * ring ANPU_DB_CTRL. The device executes it, writes CTRL_RESULT, then
 * CTRL_ACK_SEQ = CTRL_SEQ, then raises ANPU_IRQ_CTRL. Control commands work
 * in every power state.
 */
#define ANPU_CTRL_NOP			0
#define ANPU_CTRL_POWER_UP		1
#define ANPU_CTRL_POWER_DOWN		2	/* fails BUSY while a job runs or is queued */
#define ANPU_CTRL_RESET_QUEUE		3	/* arg = queue */
#define ANPU_CTRL_RESET_DEVICE		4
#define ANPU_CTRL_LATCH_CLOCK		5	/* copies the device clock to ANPU_REG_CLOCK */
#define ANPU_CTRL_SET_IRQ_CONFIG	6	/* arg = ANPU_IRQ_CFG_* (ANPU_CAP_IRQ_JOB_EVENT) */

#define ANPU_CTRL_R_OK			0
#define ANPU_CTRL_R_INVALID		1	/* unknown command or argument */
#define ANPU_CTRL_R_BUSY		2
#define ANPU_CTRL_R_FAILED		3	/* the reset failed (fault injection) */

/* ---- queue registers: BAR2 offset ANPU_QREG(q, ANPU_QREG_*) ---- */
#define ANPU_QREG_BASE			0x1000
#define ANPU_QREG_STRIDE		0x100
#define ANPU_QREG(q, reg)		(ANPU_QREG_BASE + (q) * ANPU_QREG_STRIDE + (reg))

#define ANPU_QREG_RING_BASE		0x00	/* D u64 DPA of the ring, 64-byte aligned */
#define ANPU_QREG_RING_ENTRIES		0x08	/* D u32 power of two, 2..4096 */
#define ANPU_QREG_RING_TAIL		0x0c	/* D u32 free-running produce index */
#define ANPU_QREG_RING_HEAD		0x10	/* M u32 free-running consume index */
#define ANPU_QREG_STATE			0x14	/* M u32 ANPU_QSTATE_* */
#define ANPU_QREG_COMPLETED_SEQ		0x18	/* M u64 seqno of the last finished job */
#define ANPU_QREG_CURRENT_SEQ		0x20	/* M u64 seqno running now, 0 if none */
#define ANPU_QREG_PROGRESS		0x28	/* M u32 ops executed, ever (wraps) */
#define ANPU_QREG_ERRORS		0x2c	/* M u32 jobs finished with result != OK */
#define ANPU_QREG_JOBS_DONE		0x30	/* M u32 jobs finished (wraps) */
#define ANPU_QREG_FI_MODE		0x34	/* D u32 ANPU_FI_* | ANPU_FI_STICKY */
#define ANPU_QREG_FI_SEQ		0x38	/* D u32 bump to arm a one-shot */
#define ANPU_QREG_FI_ACK		0x3c	/* M u32 FI_SEQ of the last one fired */
#define ANPU_QREG_END			0x40

/* ANPU_QREG_STATE */
#define ANPU_QSTATE_IDLE		0
#define ANPU_QSTATE_RUNNING		1
#define ANPU_QSTATE_HUNG		2	/* stuck until reset (fault injection) */
#define ANPU_QSTATE_ERROR		3	/* ring configuration unusable */

/*
 * Fault injection, per queue. The mode is read when the queue starts a job
 * (HANG, FAULT) or is reset (FAIL_RESET). One-shot: armed while FI_SEQ !=
 * FI_ACK; firing sets FI_ACK = FI_SEQ. Sticky: fires every time.
 */
#define ANPU_FI_NONE			0
#define ANPU_FI_HANG			1	/* the job stops making progress */
#define ANPU_FI_FAULT			2	/* the job fails: FAULT/INJECTED at op 0 */
#define ANPU_FI_FAIL_RESET		3	/* RESET_QUEUE returns FAILED */
#define ANPU_FI_ACTION_MASK		0xfu
#define ANPU_FI_STICKY			(1u << 8)

/* ---- address spaces ---- */
#define ANPU_REG_AS_ROOT_BASE		0x2000
#define ANPU_REG_AS_ROOT(i)		(ANPU_REG_AS_ROOT_BASE + 8 * (i))	/* D u64 */

/*
 * Page tables: 39-bit NPU addresses, three levels of 512 eight-byte entries
 * (one 4 KiB table each). AS_ROOT(i) holds the DPA of the level-0 table, or 0
 * for no address space; it is read when a job of that address space starts.
 *   level 0: bits 38..30   level 1: bits 29..21   level 2: bits 20..12
 * A level-1 entry with ANPU_PTE_LARGE maps a 2 MiB page; level-2 entries map
 * 4 KiB pages. Every valid mapping is readable; ANPU_PTE_WRITE allows writes.
 * NPU address 0 .. 4 KiB is never mapped.
 */
#define ANPU_VA_BITS			39
#define ANPU_PAGE_SHIFT			12
#define ANPU_PAGE_SIZE			(1ull << ANPU_PAGE_SHIFT)
#define ANPU_LARGE_PAGE_SHIFT		21
#define ANPU_LARGE_PAGE_SIZE		(1ull << ANPU_LARGE_PAGE_SHIFT)
#define ANPU_PT_LEVELS			3
#define ANPU_PT_ENTRIES			512

#define ANPU_PTE_VALID			(1ull << 0)
#define ANPU_PTE_WRITE			(1ull << 1)	/* leaf entries only */
#define ANPU_PTE_LARGE			(1ull << 2)	/* level-1 entries only */
#define ANPU_PTE_ADDR_MASK		0x000ffffffffff000ull	/* bits 51..12 */
#define ANPU_PTE_RESERVED_MASK		(~(ANPU_PTE_ADDR_MASK | ANPU_PTE_VALID | \
					   ANPU_PTE_WRITE | ANPU_PTE_LARGE))

static inline unsigned int anpu_va_index(__u64 va, unsigned int level)
{
	return (unsigned int)(va >> (30 - 9 * level)) & (ANPU_PT_ENTRIES - 1);
}

static inline __u64 anpu_pte_table(__u64 table_dpa)
{
	return (table_dpa & ANPU_PTE_ADDR_MASK) | ANPU_PTE_VALID;
}

static inline __u64 anpu_pte_page(__u64 page_dpa, int writable)
{
	return (page_dpa & ANPU_PTE_ADDR_MASK) | ANPU_PTE_VALID |
	       (writable ? ANPU_PTE_WRITE : 0);
}

static inline __u64 anpu_pte_large(__u64 page_dpa, int writable)
{
	return anpu_pte_page(page_dpa, writable) | ANPU_PTE_LARGE;
}

static inline __u64 anpu_pte_addr(__u64 pte)
{
	return pte & ANPU_PTE_ADDR_MASK;
}

/* ---- job descriptor ring ---- */

/* ANPU_DESC_F_* in anpu_hw_job_desc.flags */
#define ANPU_DESC_F_PROFILE		(1u << 0)	/* write per-op records */
#define ANPU_DESC_F_ALL			ANPU_DESC_F_PROFILE

/**
 * struct anpu_hw_job_desc - one ring entry (64 bytes, written by the driver)
 * @seqno: nonzero, increasing per queue; reported in COMPLETED_SEQ.
 * @cmd_addr: NPU address of the command stream (8-byte aligned).
 * @cmd_size: bytes readable at @cmd_addr; the stream header's size must fit.
 * @asid: address space the job runs in (< ANPU_HW_NUM_AS, root nonzero).
 * @flags: ANPU_DESC_F_*.
 * @status_addr: DPA of the job's struct anpu_hw_job_status (64-aligned).
 * @profile_addr: NPU address of the profiling buffer (8-aligned), used when
 *	ANPU_DESC_F_PROFILE is set; must be writable by the job.
 * @profile_size: bytes at @profile_addr.
 */
struct anpu_hw_job_desc {
	__u64 seqno;
	__u64 cmd_addr;
	__u32 cmd_size;
	__u16 asid;
	__u16 flags;
	__u64 status_addr;
	__u64 profile_addr;
	__u32 profile_size;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct anpu_hw_job_status - the device's report on a job (64 bytes)
 *
 * Written before COMPLETED_SEQ advances past @seqno.
 * @seqno: the job's descriptor seqno.
 * @result: enum anpu_job_result.
 * @cause: enum anpu_job_cause.
 * @fault_addr: the NPU address (or DPA for page-table causes) at fault.
 * @op_index: op where the job stopped; op_count when it completed.
 * @ops_done: ops that ran to completion.
 * @start_ns: device clock when the job started.
 * @end_ns: device clock when it ended.
 * @queue: queue it ran on.
 */
struct anpu_hw_job_status {
	__u64 seqno;
	__u32 result;
	__u32 cause;
	__u64 fault_addr;
	__u32 op_index;
	__u32 ops_done;
	__u64 start_ns;
	__u64 end_ns;
	__u32 queue;
	__u32 reserved0;
	__u64 reserved1;
};

/* ---- profiling ---- */
#define ANPU_PROFILE_MAGIC		0x50504e41u	/* "ANPP" */
#define ANPU_PROFILE_VERSION		1

/**
 * struct anpu_hw_profile_header - start of a profiling buffer (device-written)
 * @magic: ANPU_PROFILE_MAGIC.
 * @version: ANPU_PROFILE_VERSION.
 * @capacity: records that fit in the buffer.
 * @count: records written (<= capacity).
 * @dropped: ops that had no room for a record.
 * @clock_hz_div1k: clock of the modeled NPU the cycle counts refer to, in kHz.
 */
struct anpu_hw_profile_header {
	__u32 magic;
	__u32 version;
	__u32 capacity;
	__u32 count;
	__u32 dropped;
	__u32 clock_hz_div1k;	/* modeled clock / 1000 */
	__u64 reserved;
};

/**
 * struct anpu_hw_profile_record - one op's record (48 bytes)
 * @op_index: index of the op in its stream.
 * @opcode: enum anpu_opcode.
 * @dtype: weight dtype for EMBED/MATMUL, else the first input's dtype.
 * @start_ns: device clock when the op started.
 * @end_ns: device clock when it ended.
 * @cycles: modeled NPU cycles (docs/hardware.md, "Cost profile").
 * @bytes: modeled DRAM bytes moved.
 * @macs: multiply-accumulates (or element operations).
 */
struct anpu_hw_profile_record {
	__u32 op_index;
	__u16 opcode;
	__u16 dtype;
	__u64 start_ns;
	__u64 end_ns;
	__u64 cycles;
	__u64 bytes;
	__u64 macs;
};

/*
 * Cost profile of the modeled phone-class NPU (profiling cycle counts):
 * cycles = overhead + max(macs / macs_per_cycle(dtype), bytes / bytes_per_cycle).
 */
#define ANPU_COST_CLOCK_HZ		1000000000ull	/* 1 GHz */
#define ANPU_COST_OP_OVERHEAD_CYCLES	1500ull
#define ANPU_COST_DRAM_BYTES_PER_CYCLE	64ull		/* 64 GB/s at 1 GHz */
#define ANPU_COST_MACS_PER_CYCLE_INT8	8192ull		/* quantized weights */
#define ANPU_COST_MACS_PER_CYCLE_F16	4096ull		/* F16/BF16 weights */
#define ANPU_COST_MACS_PER_CYCLE_F32	1024ull		/* F32 and vector ops */

/* ---- data types ---- */

/**
 * anpu_dtype_layout() - block geometry of a dtype
 * @dtype: enum anpu_dtype
 * @block_elems: elements per block (1 for scalar types)
 * @block_bytes: bytes per block
 *
 * Return: 1 for a known dtype, 0 otherwise.
 */
static inline int anpu_dtype_layout(unsigned int dtype, unsigned int *block_elems,
				    unsigned int *block_bytes)
{
	unsigned int e, b;

	switch (dtype) {
	case ANPU_DTYPE_F32:	e = 1;   b = 4;   break;
	case ANPU_DTYPE_I32:	e = 1;   b = 4;   break;
	case ANPU_DTYPE_F16:	e = 1;   b = 2;   break;
	case ANPU_DTYPE_BF16:	e = 1;   b = 2;   break;
	case ANPU_DTYPE_Q4_0:	e = 32;  b = 18;  break;
	case ANPU_DTYPE_Q4_0L:	e = 32;  b = 18;  break;
	case ANPU_DTYPE_Q4_1:	e = 32;  b = 20;  break;
	case ANPU_DTYPE_Q5_0:	e = 32;  b = 22;  break;
	case ANPU_DTYPE_Q5_0L:	e = 32;  b = 22;  break;
	case ANPU_DTYPE_Q5_1:	e = 32;  b = 24;  break;
	case ANPU_DTYPE_Q8_0:	e = 32;  b = 34;  break;
	case ANPU_DTYPE_Q4_K:	e = 256; b = 144; break;
	case ANPU_DTYPE_Q4_KL:	e = 256; b = 144; break;
	case ANPU_DTYPE_Q5_K:	e = 256; b = 176; break;
	case ANPU_DTYPE_Q6_K:	e = 256; b = 210; break;
	case ANPU_DTYPE_Q6_KL:	e = 256; b = 210; break;
	default:
		return 0;
	}
	*block_elems = e;
	*block_bytes = b;
	return 1;
}

/* True for the weight types MATMUL and EMBED accept. */
static inline int anpu_dtype_is_weight(unsigned int dtype)
{
	return dtype == ANPU_DTYPE_F32 || dtype == ANPU_DTYPE_F16 ||
	       dtype == ANPU_DTYPE_BF16 || dtype == ANPU_DTYPE_Q4_0 ||
	       dtype == ANPU_DTYPE_Q4_1 || dtype == ANPU_DTYPE_Q5_1 ||
	       dtype == ANPU_DTYPE_Q5_0 || dtype == ANPU_DTYPE_Q8_0 ||
	       dtype == ANPU_DTYPE_Q4_K || dtype == ANPU_DTYPE_Q5_K ||
	       dtype == ANPU_DTYPE_Q6_K || dtype == ANPU_DTYPE_Q5_0L ||
	       dtype == ANPU_DTYPE_Q4_KL || dtype == ANPU_DTYPE_Q6_KL ||
	       dtype == ANPU_DTYPE_Q4_0L;
}

/* True for the row-interleaved types (Q4_KL, Q6_KL, Q4_0L): rows in groups of 16. */
static inline int anpu_dtype_is_row_grouped(unsigned int dtype)
{
	return dtype == ANPU_DTYPE_Q4_KL || dtype == ANPU_DTYPE_Q6_KL ||
	       dtype == ANPU_DTYPE_Q4_0L;
}

/*
 * Q5_0L (ISA 1.2): a row of Q5_0 blocks regrouped for a unit that sums 16
 * blocks side by side, one per 32-bit lane. The row's blocks go in groups of
 * ANPU_Q5_0L_GROUP (the last group holds the nb % 16 left, if any), each at
 * the bytes its Q5_0 blocks take (22 per block), so rows are Q5_0's size. In
 * a group of g blocks, block i (0 .. g - 1) has
 *   its quant bytes 4t .. 4t + 3 at 4 * (g * t + i)     t = 0 .. 3
 *   its qh (u32)                   at 16 * g + 4 * i
 *   its d (f16)                    at 20 * g + 2 * i
 * so the unit loads each of the 16 blocks' quant dword t, qh and d with one
 * access each. Values and MATMUL/EMBED results are those of the Q5_0 row.
 */
#define ANPU_Q5_0L_GROUP	16u

/*
 * Byte offsets in a Q5_0L row of @nb blocks of block @b's quant dword 0 (@qs;
 * dword t is at qs + t * *plane), qh and d.
 */
static inline void anpu_q5_0l_offsets(__u32 nb, __u32 b, __u32 *qs, __u32 *plane, __u32 *qh,
				      __u32 *d)
{
	const __u32 g0 = b - b % ANPU_Q5_0L_GROUP;	/* the group's first block */
	const __u32 g = nb - g0 < ANPU_Q5_0L_GROUP ? nb - g0 : ANPU_Q5_0L_GROUP;
	const __u32 base = 22 * g0, i = b - g0;

	*qs = base + 4 * i;
	*plane = 4 * g;
	*qh = base + 16 * g + 4 * i;
	*d = base + 20 * g + 2 * i;
}

/*
 * One row of @nb Q5_0 blocks (@src, 22 bytes each: d, qh, qs) as Q5_0L at
 * @dst (the same size; the two must not overlap).
 */
static inline void anpu_q5_0_to_q5_0l(void *dst, const void *src, __u32 nb)
{
	const __u8 *s = (const __u8 *)src;
	__u8 *o = (__u8 *)dst;

	for (__u32 b = 0; b < nb; b++, s += 22) {
		__u32 qs, plane, qh, d;

		anpu_q5_0l_offsets(nb, b, &qs, &plane, &qh, &d);
		for (__u32 k = 0; k < 2; k++)
			o[d + k] = s[k];
		for (__u32 k = 0; k < 4; k++)
			o[qh + k] = s[2 + k];
		for (__u32 t = 0; t < 4; t++)
			for (__u32 k = 0; k < 4; k++)
				o[qs + t * plane + k] = s[6 + 4 * t + k];
	}
}

/*
 * Q4_KL (ISA 1.3): Q4_K rows interleaved for a unit that sums 16 weight rows
 * side by side, one row per 32-bit lane. A tensor's rows go in groups of
 * ANPU_Q4_KL_GROUP (ne[1] is a multiple of it, rows are dense: nb[0] is a
 * row's bytes), each group at the bytes its 16 Q4_K rows take. Seen as 36
 * little-endian dwords, a Q4_K block is d | dmin << 16, its 12 scale bytes
 * (dwords 1-3) and its 128 quant bytes (dwords 4-35); dword p of block i of
 * the group's row l (0 .. 15) is at
 *   i * 16 * 144 + 64 * p + 4 * l
 * so the unit loads dword p of 16 rows' block i with one 64-byte access.
 * Values and MATMUL/EMBED results are those of the Q4_K rows.
 */
#define ANPU_Q4_KL_GROUP	16u
#define ANPU_Q4_KL_DWORDS	36u	/* dwords of a Q4_K block */

/* Byte offset of row @l's block @i dword @p in its Q4_KL group. */
static inline __u64 anpu_q4_kl_offset(__u32 i, __u32 p, __u32 l)
{
	return (__u64)i * ANPU_Q4_KL_GROUP * 144 + 64 * p + 4 * l;
}

/*
 * A group of ANPU_Q4_KL_GROUP Q4_K rows of @nb blocks each (@src, row l at
 * src + l * nb * 144) as Q4_KL at @dst (the same size; the two must not
 * overlap).
 */
static inline void anpu_q4_k_to_q4_kl(void *dst, const void *src, __u32 nb)
{
	const __u8 *s = (const __u8 *)src;
	__u8 *o = (__u8 *)dst;

	for (__u32 l = 0; l < ANPU_Q4_KL_GROUP; l++)
		for (__u32 i = 0; i < nb; i++)
			for (__u32 p = 0; p < ANPU_Q4_KL_DWORDS; p++)
				for (__u32 k = 0; k < 4; k++)
					o[anpu_q4_kl_offset(i, p, l) + k] =
						s[((__u64)l * nb + i) * 144 + 4 * p + k];
}

/*
 * Q6_KL (ISA 1.4): Q6_K rows interleaved as Q4_KL's, under the same rules.
 * A Q6_K block is 52 little-endian dwords (128 ql bytes: dwords 0-31, 64 qh
 * bytes: 32-47, 16 scale bytes: 48-51) and an f16 d; dword p of block i of
 * the group's row l (0 .. 15) is at
 *   i * 16 * 210 + 64 * p + 4 * l
 * and its d at
 *   i * 16 * 210 + 64 * 52 + 2 * l
 * so the unit loads dword p of 16 rows' block i with one 64-byte access and
 * their 16 d with one 32-byte access. Values and MATMUL/EMBED results are
 * those of the Q6_K rows.
 */
#define ANPU_Q6_KL_DWORDS	52u	/* dwords of a Q6_K block before its d */

/* Byte offset of row @l's block @i dword @p (p = ANPU_Q6_KL_DWORDS: its d) in its Q6_KL group. */
static inline __u64 anpu_q6_kl_offset(__u32 i, __u32 p, __u32 l)
{
	return (__u64)i * ANPU_Q4_KL_GROUP * 210 + 64 * p +
	       (p < ANPU_Q6_KL_DWORDS ? 4 : 2) * l;
}

/* A group of 16 Q6_K rows of @nb blocks each (@src, row l at src + l * nb * 210) as Q6_KL at @dst. */
static inline void anpu_q6_k_to_q6_kl(void *dst, const void *src, __u32 nb)
{
	const __u8 *s = (const __u8 *)src;
	__u8 *o = (__u8 *)dst;

	for (__u32 l = 0; l < ANPU_Q4_KL_GROUP; l++)
		for (__u32 i = 0; i < nb; i++)
			for (__u32 b = 0; b < 210; b++)
				o[anpu_q6_kl_offset(i, b / 4, l) + b % 4] =
					s[((__u64)l * nb + i) * 210 + b];
}

/*
 * Q4_0L (ISA 1.5): Q4_0 rows interleaved as Q4_KL's, under the same rules.
 * A Q4_0 block is an f16 d and 16 quant bytes (4 little-endian dwords: byte
 * j holds element j in its low nibble, element j + 16 in its high one);
 * dword t of block i of the group's row l (0 .. 15) is at
 *   i * 16 * 18 + 64 * t + 4 * l
 * and its d at
 *   i * 16 * 18 + 64 * 4 + 2 * l
 * so the unit loads dword t of 16 rows' block i with one 64-byte access and
 * their 16 d with one 32-byte access. Values and MATMUL/EMBED results are
 * those of the Q4_0 rows.
 */
#define ANPU_Q4_0L_DWORDS	4u	/* quant dwords of a Q4_0 block */

/* Byte offset of row @l's block @i quant dword @t (t = ANPU_Q4_0L_DWORDS: its d) in its Q4_0L group. */
static inline __u64 anpu_q4_0l_offset(__u32 i, __u32 t, __u32 l)
{
	return (__u64)i * ANPU_Q4_KL_GROUP * 18 + 64 * t + (t < ANPU_Q4_0L_DWORDS ? 4 : 2) * l;
}

/* A group of 16 Q4_0 rows of @nb blocks each (@src, row l at src + l * nb * 18) as Q4_0L at @dst. */
static inline void anpu_q4_0_to_q4_0l(void *dst, const void *src, __u32 nb)
{
	const __u8 *s = (const __u8 *)src;
	__u8 *o = (__u8 *)dst;

	for (__u32 l = 0; l < ANPU_Q4_KL_GROUP; l++) {
		for (__u32 i = 0; i < nb; i++) {
			const __u8 *b = s + ((__u64)l * nb + i) * 18;

			for (__u32 k = 0; k < 2; k++)
				o[anpu_q4_0l_offset(i, ANPU_Q4_0L_DWORDS, l) + k] = b[k];
			for (__u32 k = 0; k < 16; k++)
				o[anpu_q4_0l_offset(i, k / 4, l) + k % 4] = b[2 + k];
		}
	}
}

#endif /* ANPU_HWIF_H */
