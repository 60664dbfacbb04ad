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

#include "hw/anpu_hw.h"

/*
 * Device memory the hardware layer keeps for itself at the start of device
 * memory: the rings, then the self-test's status record, page tables and
 * command stream. Buffer objects are placed after it.
 */
#define ANPU_HW_RING_ENTRIES		64
#define ANPU_HW_KAREA_SIZE		SZ_64K

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
 * struct anpu_hw - hardware state of one device
 * @dev: the device, for logging.
 * @db: ivshmem BAR0 (its Doorbell register rings the model).
 * @regs: BAR2 register page.
 * @karea: CPU mapping of the first ANPU_HW_KAREA_SIZE bytes of device memory.
 * @bar_size: BAR2 size.
 * @version: ANPU_REG_VERSION.
 * @caps: ANPU_REG_CAPS.
 * @devmem_size: bytes of device memory (including @karea).
 * @ctrl_lock: serialises control commands (CTRL_CMD/ARG/SEQ) and self-tests.
 *	Lock order: @ctrl_lock, then a queue's lock (a self-test submits).
 * @ctrl_wq: woken by the control interrupt.
 * @job_wq: woken by the job and error interrupts.
 * @irq_job: job interrupts seen.
 * @irq_error: error interrupts seen.
 * @irq_ctrl: control interrupts seen.
 * @queue: the hardware queues.
 */
struct anpu_hw {
	struct device *dev;
	void __iomem *db;
	void __iomem *regs;
	void __iomem *karea;
	u64 bar_size;
	u32 version;
	u32 caps;
	u64 devmem_size;
	struct mutex ctrl_lock; /* control commands and self-tests */
	wait_queue_head_t ctrl_wq;
	wait_queue_head_t job_wq;
	atomic_t irq_job;
	atomic_t irq_error;
	atomic_t irq_ctrl;
	struct anpu_hw_queue queue[ANPU_HW_NUM_QUEUES];
};

int anpu_hw_probe(struct anpu_hw *hw, struct device *dev, void __iomem *db,
		  void __iomem *regs, void __iomem *karea, u64 bar_size);
int anpu_hw_init(struct anpu_hw *hw);
void anpu_hw_fini(struct anpu_hw *hw);

int anpu_hw_power_up(struct anpu_hw *hw);
int anpu_hw_power_down(struct anpu_hw *hw);
int anpu_hw_reset_queue(struct anpu_hw *hw, unsigned int q);
int anpu_hw_clock_ns(struct anpu_hw *hw, u64 *ns);

irqreturn_t anpu_hw_irq_job(int irq, void *arg);
irqreturn_t anpu_hw_irq_error(int irq, void *arg);
irqreturn_t anpu_hw_irq_ctrl(int irq, void *arg);

int anpu_hw_submit(struct anpu_hw *hw, unsigned int q,
		   struct anpu_hw_job_desc *desc);
u64 anpu_hw_completed_seqno(struct anpu_hw *hw, unsigned int q);

int anpu_hw_selftest_nop(struct anpu_hw *hw);
int anpu_hw_selftest_fault(struct anpu_hw *hw);

#endif /* __ANPU_KMOD_HW_H__ */
