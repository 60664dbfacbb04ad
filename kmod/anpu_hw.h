/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hardware layer of anpu.ko: the only code that touches ANPU registers and
 * rings (kmod/anpu_hw.c). The bus glue hands it mapped BARs; the DRM layer
 * uses these functions and never reads a register itself.
 */
#ifndef __ANPU_KMOD_HW_H__
#define __ANPU_KMOD_HW_H__

#include <linux/atomic.h>
#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "hw/anpu_hwif.h"

/*
 * Device memory the hardware layer keeps for itself at the start of device
 * memory: the rings, the self-test's status record, page tables and command
 * stream, then one status record per ring slot. Buffer objects and page
 * tables of the DRM layer are placed after it.
 */
#define ANPU_HW_RING_ENTRIES		64
#define ANPU_HW_KAREA_SIZE		SZ_64K
/* the self-test's address space; the DRM layer uses 1..ANPU_HW_SELFTEST_ASID-1 */
#define ANPU_HW_SELFTEST_ASID		(ANPU_HW_NUM_AS - 1)

struct device;

/**
 * struct anpu_hw_queue - driver side of one hardware queue
 * @lock: protects @tail, @next_seqno and the ring entries between tail and
 *	the device's head (the producer side of the ring).
 * @ring_dpa: device physical address of the ring.
 * @ring: CPU mapping of the ring.
 * @tail: free-running produce index, mirrors RING_TAIL.
 * @next_seqno: seqno of the next job (never 0, increasing).
 */
struct anpu_hw_queue {
	struct mutex lock; /* the producer side of the ring, see above */
	u64 ring_dpa;
	void __iomem *ring;
	u32 tail;
	u64 next_seqno;
};

/**
 * struct anpu_hw_queue_state - a snapshot of a queue's registers
 * @state: ANPU_QSTATE_*.
 * @head: RING_HEAD.
 * @tail: RING_TAIL as the driver wrote it.
 * @progress: PROGRESS (ops done, wraps).
 * @jobs_done: JOBS_DONE (wraps).
 * @errors: ERRORS (wraps).
 * @fi_mode: FI_MODE.
 * @completed_seq: COMPLETED_SEQ.
 * @current_seq: CURRENT_SEQ.
 */
struct anpu_hw_queue_state {
	u32 state;
	u32 head;
	u32 tail;
	u32 progress;
	u32 jobs_done;
	u32 errors;
	u32 fi_mode;
	u64 completed_seq;
	u64 current_seq;
};

/**
 * struct anpu_hw - hardware state of one device
 * @dev: the device, for logging.
 * @db: ivshmem BAR0 (its Doorbell register rings the model).
 * @regs: BAR2 register page.
 * @karea: CPU mapping of device memory (write-combined); the first
 *	ANPU_HW_KAREA_SIZE bytes are the hardware layer's.
 * @bar_size: BAR2 size.
 * @version: ANPU_REG_VERSION.
 * @caps: ANPU_REG_CAPS.
 * @isa_version: ANPU_REG_ISA_VERSION (what the device runs, not this build's uapi).
 * @devmem_size: bytes of device memory (including @karea).
 * @ctrl_lock: serialises control commands (CTRL_CMD/ARG/SEQ) and self-tests.
 *	Lock order: @ctrl_lock, then a queue's lock (a self-test submits).
 * @ctrl_wq: woken by the control interrupt.
 * @job_wq: woken by the job and error interrupts.
 * @irq_job: job interrupts seen.
 * @irq_error: error interrupts seen.
 * @irq_ctrl: control interrupts seen.
 * @irq_moderation: job-interrupt moderation is in force (hardware 1.1,
 *	ANPU_CAP_IRQ_JOB_EVENT; docs/hardware.md section 4.1): the device
 *	raises IRQ_JOB only for the first job that ends after the job
 *	interrupt's thread last looked, which serves every queue until
 *	JOBS_FINISHED stays put.
 * @irq_loops: service-loop passes of the job interrupt's thread (debugfs).
 * @queue: the hardware queues.
 * @jobs_done: called by the job interrupt's thread (the DRM layer retires
 *	finished jobs); may sleep.
 */
struct anpu_hw {
	struct device *dev;
	void __iomem *db;
	void __iomem *regs;
	void __iomem *karea;
	u64 bar_size;
	u32 version;
	u32 caps;
	u32 isa_version;
	u64 devmem_size;
	struct mutex ctrl_lock; /* control commands and self-tests */
	wait_queue_head_t ctrl_wq;
	wait_queue_head_t job_wq;
	atomic_t irq_job;
	atomic_t irq_error;
	atomic_t irq_ctrl;
	bool irq_moderation;
	atomic_t irq_loops;
	struct anpu_hw_queue queue[ANPU_HW_NUM_QUEUES];
	void (*jobs_done)(struct anpu_hw *hw);
};

int anpu_hw_probe(struct anpu_hw *hw, struct device *dev, void __iomem *db,
		  void __iomem *regs, void __iomem *karea, u64 bar_size);
int anpu_hw_init(struct anpu_hw *hw);
void anpu_hw_fini(struct anpu_hw *hw);

int anpu_hw_power_up(struct anpu_hw *hw);
int anpu_hw_power_down(struct anpu_hw *hw);
bool anpu_hw_powered(struct anpu_hw *hw);
int anpu_hw_reset_queue(struct anpu_hw *hw, unsigned int q);
int anpu_hw_reset_device(struct anpu_hw *hw);
int anpu_hw_clock_ns(struct anpu_hw *hw, u64 *ns);
int anpu_hw_clock_sample(struct anpu_hw *hw, u64 *dev_ns, u64 *t0, u64 *t1);

/* device memory usable by the DRM layer: [first, first + size) in DPAs */
u64 anpu_hw_mem_first(struct anpu_hw *hw);
u64 anpu_hw_mem_size(struct anpu_hw *hw);
void anpu_hw_mem_zero(struct anpu_hw *hw, u64 dpa, u64 size);
void anpu_hw_mem_write64(struct anpu_hw *hw, u64 dpa, u64 val);
void anpu_hw_set_as_root(struct anpu_hw *hw, unsigned int asid, u64 dpa);

int anpu_hw_queue_push(struct anpu_hw *hw, unsigned int q,
		       struct anpu_hw_job_desc *desc, u32 *slot);
void anpu_hw_queue_status(struct anpu_hw *hw, unsigned int q, u32 slot,
			  struct anpu_hw_job_status *st);
void anpu_hw_queue_state(struct anpu_hw *hw, unsigned int q,
			 struct anpu_hw_queue_state *qs);
void anpu_hw_queue_kick(struct anpu_hw *hw, unsigned int q);
void anpu_hw_fault_inject(struct anpu_hw *hw, unsigned int q, u32 mode);
size_t anpu_hw_dump(struct anpu_hw *hw, char *buf, size_t len);

irqreturn_t anpu_hw_irq_job(int irq, void *arg);
irqreturn_t anpu_hw_irq_job_thread(int irq, void *arg);
irqreturn_t anpu_hw_irq_error(int irq, void *arg);
irqreturn_t anpu_hw_irq_ctrl(int irq, void *arg);

u64 anpu_hw_completed_seqno(struct anpu_hw *hw, unsigned int q);

int anpu_hw_selftest_nop(struct anpu_hw *hw);
int anpu_hw_selftest_fault(struct anpu_hw *hw);

#endif /* __ANPU_KMOD_HW_H__ */
