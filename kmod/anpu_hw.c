// SPDX-License-Identifier: GPL-2.0-only
/*
 * ANPU hardware layer: registers, control commands, rings, doorbells and
 * interrupts. The only file that touches the device.
 *
 * BAR2 is shared memory: a register write takes effect when the device reads
 * it, on a doorbell. Doorbells go through the ivshmem Doorbell register of
 * BAR0: (peer 0 << 16) | vector, peer 0 being the anpu-sim daemon.
 */

#include <linux/bitfield.h>
#include <linux/cleanup.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/error-injection.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/ktime.h>
#include <linux/jiffies.h>
#include <linux/sizes.h>

#include "anpu_hw.h"

/* ivshmem BAR0 */
#define IVSHMEM_REG_DOORBELL		0x0c
#define IVSHMEM_DOORBELL_PEER		GENMASK(31, 16)
#define IVSHMEM_DOORBELL_VECTOR		GENMASK(15, 0)
#define ANPU_SIM_PEER_ID		0

#define ANPU_CTRL_TIMEOUT		msecs_to_jiffies(2000)
#define ANPU_SELFTEST_TIMEOUT		msecs_to_jiffies(2000)
#define ANPU_CLOCK_POLL_US		20000	/* CLOCK_SAMPLE's sleeping poll */

/* Layout of the kernel area (offsets into it) */
#define KAREA_RINGS			0x0000	/* ANPU_HW_NUM_QUEUES rings */
#define KAREA_RING_SIZE			(ANPU_HW_RING_ENTRIES * sizeof(struct anpu_hw_job_desc))
#define KAREA_ST_PT0			0x5000	/* self-test page tables */
#define KAREA_ST_PT1			0x6000
#define KAREA_ST_PT2			0x7000
#define KAREA_ST_STREAM			0x8000	/* self-test command stream */
#define KAREA_STATUS			0x9000	/* status record per queue and ring slot */
#define KAREA_STATUS_SIZE		(ANPU_HW_NUM_QUEUES * ANPU_HW_RING_ENTRIES * \
					 sizeof(struct anpu_hw_job_status))
#define ANPU_ST_ASID			ANPU_HW_SELFTEST_ASID
#define ANPU_ST_VA			SZ_64K
#define ANPU_ST_QUEUE			ANPU_PRIO_NORMAL

static_assert(KAREA_RINGS + ANPU_HW_NUM_QUEUES * KAREA_RING_SIZE <= KAREA_ST_PT0);
static_assert(KAREA_ST_STREAM + SZ_4K <= KAREA_STATUS);
static_assert(KAREA_STATUS + KAREA_STATUS_SIZE <= ANPU_HW_KAREA_SIZE);

static u32 reg_read(struct anpu_hw *hw, u32 reg)
{
	return readl(hw->regs + reg);
}

static u64 reg_read64(struct anpu_hw *hw, u32 reg)
{
	return readq(hw->regs + reg);
}

static void reg_write(struct anpu_hw *hw, u32 reg, u32 val)
{
	writel(val, hw->regs + reg);
}

static void reg_write64(struct anpu_hw *hw, u32 reg, u64 val)
{
	writeq(val, hw->regs + reg);
}

static u64 karea_dpa(u32 offset)
{
	return ANPU_DEVMEM_BASE + offset;
}

static void doorbell(struct anpu_hw *hw, unsigned int vector)
{
	/* register and ring writes must reach the device before it wakes */
	wmb();
	writel(FIELD_PREP(IVSHMEM_DOORBELL_PEER, ANPU_SIM_PEER_ID) |
	       FIELD_PREP(IVSHMEM_DOORBELL_VECTOR, vector),
	       hw->db + IVSHMEM_REG_DOORBELL);
}

static bool ctrl_done(struct anpu_hw *hw, u32 seq)
{
	return reg_read(hw, ANPU_REG_CTRL_ACK_SEQ) == seq;
}

static int anpu_hw_ctrl_locked(struct anpu_hw *hw, u32 cmd, u32 arg)
{
	u32 seq, result;

	lockdep_assert_held(&hw->ctrl_lock);

	seq = reg_read(hw, ANPU_REG_CTRL_ACK_SEQ) + 1;
	reg_write(hw, ANPU_REG_CTRL_CMD, cmd);
	reg_write(hw, ANPU_REG_CTRL_ARG, arg);
	reg_write(hw, ANPU_REG_CTRL_SEQ, seq);
	doorbell(hw, ANPU_DB_CTRL);

	/* the interrupt wakes us; the condition reads the register itself */
	if (!wait_event_timeout(hw->ctrl_wq, ctrl_done(hw, seq), ANPU_CTRL_TIMEOUT)) {
		dev_err(hw->dev, "control command %u timed out\n", cmd);
		return -ETIMEDOUT;
	}
	rmb(); /* CTRL_RESULT is written before CTRL_ACK_SEQ */
	result = reg_read(hw, ANPU_REG_CTRL_RESULT);
	switch (result) {
	case ANPU_CTRL_R_OK:
		return 0;
	case ANPU_CTRL_R_BUSY:
		return -EBUSY;
	case ANPU_CTRL_R_INVALID:
		dev_err(hw->dev, "control command %u (%u) rejected\n", cmd, arg);
		return -EINVAL;
	default:
		dev_err(hw->dev, "control command %u (%u) failed: %u\n", cmd, arg, result);
		return -EIO;
	}
}

static int anpu_hw_ctrl(struct anpu_hw *hw, u32 cmd, u32 arg)
{
	guard(mutex)(&hw->ctrl_lock);
	return anpu_hw_ctrl_locked(hw, cmd, arg);
}

int anpu_hw_power_up(struct anpu_hw *hw)
{
	return anpu_hw_ctrl(hw, ANPU_CTRL_POWER_UP, 0);
}

int anpu_hw_power_down(struct anpu_hw *hw)
{
	return anpu_hw_ctrl(hw, ANPU_CTRL_POWER_DOWN, 0);
}

int anpu_hw_reset_queue(struct anpu_hw *hw, unsigned int q)
{
	if (q >= ANPU_HW_NUM_QUEUES)
		return -EINVAL;
	return anpu_hw_ctrl(hw, ANPU_CTRL_RESET_QUEUE, q);
}

bool anpu_hw_powered(struct anpu_hw *hw)
{
	return reg_read(hw, ANPU_REG_POWER_STATE) == ANPU_POWER_ON;
}

/**
 * anpu_hw_clock_sample() - latch the device clock, timed by CLOCK_MONOTONIC
 * @hw: the hardware
 * @dev_ns: the latched device clock
 * @t0: ktime_get_ns() right before the command
 * @t1: ktime_get_ns() right after its acknowledgment
 *
 * The acknowledgment is polled, sleeping a few microseconds between reads,
 * for ANPU_CLOCK_POLL_US (a tight @t1 when the engine is idle, even when the
 * device answers late: the interrupt's delivery and the waiter's wake-up
 * added tens of milliseconds on a loaded virtual platform); a command issued
 * while a job runs is done at that job's end, so the rest of the wait sleeps
 * until the control interrupt (a looser @t1, reported as a larger
 * uncertainty). The control lock, which
 * recovery's reset commands take too, is acquired killably; once the command
 * is issued it is held until the acknowledgment (one command slot: giving it
 * up earlier would let the next command overwrite this one in flight).
 *
 * Return: 0, -EINTR when killed while waiting for the lock, or the control
 * command's error.
 */
int anpu_hw_clock_sample(struct anpu_hw *hw, u64 *dev_ns, u64 *t0, u64 *t1)
{
	u32 seq, ack;
	int ret;

	if (mutex_lock_killable(&hw->ctrl_lock))
		return -EINTR;
	seq = reg_read(hw, ANPU_REG_CTRL_ACK_SEQ) + 1;
	reg_write(hw, ANPU_REG_CTRL_CMD, ANPU_CTRL_LATCH_CLOCK);
	reg_write(hw, ANPU_REG_CTRL_ARG, 0);
	reg_write(hw, ANPU_REG_CTRL_SEQ, seq);
	*t0 = ktime_get_ns();
	doorbell(hw, ANPU_DB_CTRL);
	ret = readl_poll_timeout(hw->regs + ANPU_REG_CTRL_ACK_SEQ, ack, ack == seq, 2,
				 ANPU_CLOCK_POLL_US);
	if (ret && wait_event_timeout(hw->ctrl_wq, ctrl_done(hw, seq), ANPU_CTRL_TIMEOUT))
		ret = 0;
	*t1 = ktime_get_ns();
	if (ret) {
		dev_err(hw->dev, "clock latch timed out\n");
		goto out;
	}
	rmb(); /* CTRL_RESULT and CLOCK are written before CTRL_ACK_SEQ */
	if (reg_read(hw, ANPU_REG_CTRL_RESULT) != ANPU_CTRL_R_OK) {
		ret = -EIO;
		goto out;
	}
	*dev_ns = reg_read64(hw, ANPU_REG_CLOCK);
out:
	mutex_unlock(&hw->ctrl_lock);
	return ret;
}

int anpu_hw_clock_ns(struct anpu_hw *hw, u64 *ns)
{
	int ret;

	guard(mutex)(&hw->ctrl_lock);
	ret = anpu_hw_ctrl_locked(hw, ANPU_CTRL_LATCH_CLOCK, 0);
	if (ret)
		return ret;
	*ns = reg_read64(hw, ANPU_REG_CLOCK);
	return 0;
}

int anpu_hw_probe(struct anpu_hw *hw, struct device *dev, void __iomem *db,
		  void __iomem *regs, void __iomem *karea, u64 bar_size)
{
	u32 id, version, nq;
	int ret;

	hw->dev = dev;
	hw->db = db;
	hw->regs = regs;
	hw->karea = karea;
	hw->bar_size = bar_size;

	id = reg_read(hw, ANPU_REG_ID);
	if (id != ANPU_HW_ID_MAGIC) {
		dev_info(dev, "not an ANPU (ID %#010x)\n", id);
		return -ENODEV;
	}
	version = reg_read(hw, ANPU_REG_VERSION);
	if (version >> 16 != ANPU_HW_VERSION_MAJOR) {
		dev_err(dev, "unsupported ANPU version %u.%u (driver: %u.x)\n",
			version >> 16, version & 0xffff, ANPU_HW_VERSION_MAJOR);
		return -ENODEV;
	}
	nq = reg_read(hw, ANPU_REG_NUM_QUEUES);
	if (nq < ANPU_HW_NUM_QUEUES) {
		dev_err(dev, "device has %u queues, need %u\n", nq, ANPU_HW_NUM_QUEUES);
		return -ENODEV;
	}
	hw->version = version;
	hw->caps = reg_read(hw, ANPU_REG_CAPS);
	hw->isa_version = reg_read(hw, ANPU_REG_ISA_VERSION);
	hw->devmem_size = reg_read64(hw, ANPU_REG_DEVMEM_SIZE);
	if (hw->devmem_size < ANPU_HW_KAREA_SIZE ||
	    hw->devmem_size > bar_size - ANPU_DEVMEM_BASE) {
		dev_err(dev, "bad device memory size %llu\n", hw->devmem_size);
		return -ENODEV;
	}

	ret = devm_mutex_init(dev, &hw->ctrl_lock);
	if (ret)
		return ret;
	init_waitqueue_head(&hw->ctrl_wq);
	init_waitqueue_head(&hw->job_wq);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		ret = devm_mutex_init(dev, &hw->queue[q].lock);
		if (ret)
			return ret;
		hw->queue[q].next_seqno = 1;
	}
	return 0;
}

static void anpu_hw_setup_rings(struct anpu_hw *hw)
{
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		struct anpu_hw_queue *queue = &hw->queue[q];
		u32 off = KAREA_RINGS + q * KAREA_RING_SIZE;

		guard(mutex)(&queue->lock);
		queue->ring_dpa = karea_dpa(off);
		queue->ring = hw->karea + off;
		queue->tail = 0;
		/* status records are kept: a device reset writes the hung job's */
		memset_io(queue->ring, 0, KAREA_RING_SIZE);
		reg_write64(hw, ANPU_QREG(q, ANPU_QREG_RING_BASE), queue->ring_dpa);
		reg_write(hw, ANPU_QREG(q, ANPU_QREG_RING_ENTRIES), ANPU_HW_RING_ENTRIES);
		reg_write(hw, ANPU_QREG(q, ANPU_QREG_FI_MODE), ANPU_FI_NONE);
		/* the device's head is 0 after a device reset */
		reg_write(hw, ANPU_QREG(q, ANPU_QREG_RING_TAIL),
			  reg_read(hw, ANPU_QREG(q, ANPU_QREG_RING_HEAD)));
		queue->tail = reg_read(hw, ANPU_QREG(q, ANPU_QREG_RING_TAIL));
	}
}

/*
 * Job-interrupt moderation (docs/hardware.md section 4.1): IRQ_JOB_EVENT =
 * JOBS_FINISHED first, then the configuration. Every device reset clears it:
 * called at init and after each device reset. A device without the
 * capability (1.0) keeps one interrupt per job.
 */
static int anpu_hw_irq_moderation_on(struct anpu_hw *hw)
{
	int ret;

	if (!(hw->caps & ANPU_CAP_IRQ_JOB_EVENT))
		return 0;
	reg_write(hw, ANPU_REG_IRQ_JOB_EVENT, reg_read(hw, ANPU_REG_JOBS_FINISHED));
	mb(); /* the event before the command that enables it */
	ret = anpu_hw_ctrl(hw, ANPU_CTRL_SET_IRQ_CONFIG, ANPU_IRQ_CFG_JOB_EVENT);
	WRITE_ONCE(hw->irq_moderation, !ret);
	return ret;
}

/**
 * anpu_hw_reset_device() - reset the whole device and set the rings up again
 * @hw: the hardware
 *
 * Every queue's pending work is dropped; a hung job ends ABORTED. The
 * address-space roots are kept. Fault injection is disarmed.
 *
 * Return: 0 or the control command's error.
 */
int anpu_hw_reset_device(struct anpu_hw *hw)
{
	int ret;

	WRITE_ONCE(hw->irq_moderation, false);
	ret = anpu_hw_ctrl(hw, ANPU_CTRL_RESET_DEVICE, 0);
	if (ret)
		return ret;
	anpu_hw_setup_rings(hw);
	ret = anpu_hw_power_up(hw);
	if (ret)
		return ret;
	return anpu_hw_irq_moderation_on(hw);
}

int anpu_hw_init(struct anpu_hw *hw)
{
	u64 clock;
	int ret;

	ret = anpu_hw_ctrl(hw, ANPU_CTRL_RESET_DEVICE, 0);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < ANPU_HW_NUM_AS; i++)
		reg_write64(hw, ANPU_REG_AS_ROOT(i), 0);
	memset_io(hw->karea + KAREA_STATUS, 0, KAREA_STATUS_SIZE);
	anpu_hw_setup_rings(hw);
	ret = anpu_hw_power_up(hw);
	if (ret)
		return ret;
	ret = anpu_hw_irq_moderation_on(hw);
	if (ret)
		return ret;
	ret = anpu_hw_clock_ns(hw, &clock);
	if (ret)
		return ret;
	dev_dbg(hw->dev, "ANPU %u.%u up, %llu MiB device memory, clock %llu ns\n",
		hw->version >> 16, hw->version & 0xffff, hw->devmem_size >> 20, clock);
	return 0;
}

void anpu_hw_fini(struct anpu_hw *hw)
{
	int ret;

	ret = anpu_hw_ctrl(hw, ANPU_CTRL_RESET_DEVICE, 0);
	if (!ret)
		ret = anpu_hw_power_down(hw);
	if (ret)
		dev_warn(hw->dev, "device did not power down: %d\n", ret);
}

irqreturn_t anpu_hw_irq_job(int irq, void *arg)
{
	struct anpu_hw *hw = arg;

	atomic_inc(&hw->irq_job);
	wake_up_all(&hw->job_wq);
	return hw->jobs_done ? IRQ_WAKE_THREAD : IRQ_HANDLED;
}

/*
 * The job interrupt's thread. With moderation, the race-free service loop of
 * docs/hardware.md section 4.1: ask for an interrupt for the next job after
 * the JOBS_FINISHED seen, retire, and look again until JOBS_FINISHED stays
 * put (a job that ended meanwhile may have raised no interrupt). While it
 * runs, the jobs that end raise at most one interrupt per pass.
 */
irqreturn_t anpu_hw_irq_job_thread(int irq, void *arg)
{
	struct anpu_hw *hw = arg;
	u32 seen;

	if (!READ_ONCE(hw->irq_moderation)) {
		if (hw->jobs_done)
			hw->jobs_done(hw);
		return IRQ_HANDLED;
	}
	do {
		atomic_inc(&hw->irq_loops);
		seen = reg_read(hw, ANPU_REG_JOBS_FINISHED);
		reg_write(hw, ANPU_REG_IRQ_JOB_EVENT, seen);
		mb(); /* the event written before COMPLETED_SEQ and JOBS_FINISHED are read */
		if (hw->jobs_done)
			hw->jobs_done(hw);
	} while (reg_read(hw, ANPU_REG_JOBS_FINISHED) != seen);
	return IRQ_HANDLED;
}

irqreturn_t anpu_hw_irq_error(int irq, void *arg)
{
	struct anpu_hw *hw = arg;

	atomic_inc(&hw->irq_error);
	wake_up_all(&hw->job_wq);
	return IRQ_HANDLED;
}

irqreturn_t anpu_hw_irq_ctrl(int irq, void *arg)
{
	struct anpu_hw *hw = arg;

	atomic_inc(&hw->irq_ctrl);
	wake_up_all(&hw->ctrl_wq);
	return IRQ_HANDLED;
}

u64 anpu_hw_completed_seqno(struct anpu_hw *hw, unsigned int q)
{
	return reg_read64(hw, ANPU_QREG(q, ANPU_QREG_COMPLETED_SEQ));
}

static u32 status_offset(unsigned int q, u32 slot)
{
	return KAREA_STATUS + (q * ANPU_HW_RING_ENTRIES + slot) *
	       sizeof(struct anpu_hw_job_status);
}

/**
 * anpu_hw_queue_push() - put a job on a ring with its status record
 * @hw: the hardware
 * @q: queue
 * @desc: the descriptor; seqno and status_addr are filled in here
 * @slot: the ring slot used (its status record is read back by
 *	anpu_hw_queue_status())
 *
 * The slot's status record is cleared first (seqno 0 never matches a job).
 * Does not allocate; callable from the scheduler's run_job.
 *
 * The ring-slot (and status-record) reservation: a fault point of its own
 * for the fail-nth sweep (fail_function); a failure fails the job.
 *
 * Return: 0, -EBUSY when the ring is full, -EINVAL for a bad queue.
 */
noinline int anpu_hw_queue_push(struct anpu_hw *hw, unsigned int q,
				struct anpu_hw_job_desc *desc, u32 *slot)
{
	struct anpu_hw_queue *queue;
	u32 head;

	if (q >= ANPU_HW_NUM_QUEUES)
		return -EINVAL;
	queue = &hw->queue[q];

	guard(mutex)(&queue->lock);
	head = reg_read(hw, ANPU_QREG(q, ANPU_QREG_RING_HEAD));
	if (queue->tail - head >= ANPU_HW_RING_ENTRIES)
		return -EBUSY;
	*slot = queue->tail % ANPU_HW_RING_ENTRIES;
	desc->seqno = queue->next_seqno++;
	desc->status_addr = karea_dpa(status_offset(q, *slot));
	memset_io(hw->karea + status_offset(q, *slot), 0,
		  sizeof(struct anpu_hw_job_status));
	memcpy_toio(queue->ring + *slot * sizeof(*desc), desc, sizeof(*desc));
	queue->tail++;
	wmb(); /* the descriptor and status record before the tail */
	reg_write(hw, ANPU_QREG(q, ANPU_QREG_RING_TAIL), queue->tail);
	doorbell(hw, ANPU_DB_QUEUE(q));
	return 0;
}
ALLOW_ERROR_INJECTION(anpu_hw_queue_push, ERRNO);

void anpu_hw_queue_status(struct anpu_hw *hw, unsigned int q, u32 slot,
			  struct anpu_hw_job_status *st)
{
	rmb(); /* the status record is written before COMPLETED_SEQ */
	memcpy_fromio(st, hw->karea + status_offset(q, slot % ANPU_HW_RING_ENTRIES),
		      sizeof(*st));
}

void anpu_hw_queue_state(struct anpu_hw *hw, unsigned int q,
			 struct anpu_hw_queue_state *qs)
{
	qs->completed_seq = reg_read64(hw, ANPU_QREG(q, ANPU_QREG_COMPLETED_SEQ));
	rmb(); /* the rest is written before COMPLETED_SEQ */
	qs->state = reg_read(hw, ANPU_QREG(q, ANPU_QREG_STATE));
	qs->head = reg_read(hw, ANPU_QREG(q, ANPU_QREG_RING_HEAD));
	qs->tail = reg_read(hw, ANPU_QREG(q, ANPU_QREG_RING_TAIL));
	qs->progress = reg_read(hw, ANPU_QREG(q, ANPU_QREG_PROGRESS));
	qs->jobs_done = reg_read(hw, ANPU_QREG(q, ANPU_QREG_JOBS_DONE));
	qs->errors = reg_read(hw, ANPU_QREG(q, ANPU_QREG_ERRORS));
	qs->fi_mode = reg_read(hw, ANPU_QREG(q, ANPU_QREG_FI_MODE));
	qs->current_seq = reg_read64(hw, ANPU_QREG(q, ANPU_QREG_CURRENT_SEQ));
}

/* Ring a queue's doorbell again when it has work (after a power-up). */
void anpu_hw_queue_kick(struct anpu_hw *hw, unsigned int q)
{
	struct anpu_hw_queue *queue = &hw->queue[q];

	guard(mutex)(&queue->lock);
	if (queue->tail != reg_read(hw, ANPU_QREG(q, ANPU_QREG_RING_HEAD)))
		doorbell(hw, ANPU_DB_QUEUE(q));
}

/**
 * anpu_hw_fault_inject() - arm fault injection on a queue
 * @hw: the hardware
 * @q: queue
 * @mode: ANPU_FI_* action, | ANPU_FI_STICKY for every time; ANPU_FI_NONE
 *	disarms
 */
void anpu_hw_fault_inject(struct anpu_hw *hw, unsigned int q, u32 mode)
{
	guard(mutex)(&hw->queue[q].lock);
	reg_write(hw, ANPU_QREG(q, ANPU_QREG_FI_MODE), mode);
	if ((mode & ANPU_FI_ACTION_MASK) != ANPU_FI_NONE && !(mode & ANPU_FI_STICKY))
		reg_write(hw, ANPU_QREG(q, ANPU_QREG_FI_SEQ),
			  reg_read(hw, ANPU_QREG(q, ANPU_QREG_FI_ACK)) + 1);
}

u64 anpu_hw_mem_first(struct anpu_hw *hw)
{
	return karea_dpa(ANPU_HW_KAREA_SIZE);
}

u64 anpu_hw_mem_size(struct anpu_hw *hw)
{
	return hw->devmem_size - ANPU_HW_KAREA_SIZE;
}

void anpu_hw_mem_zero(struct anpu_hw *hw, u64 dpa, u64 size)
{
	memset_io(hw->karea + (dpa - ANPU_DEVMEM_BASE), 0, size);
}

void anpu_hw_mem_write64(struct anpu_hw *hw, u64 dpa, u64 val)
{
	writeq(val, hw->karea + (dpa - ANPU_DEVMEM_BASE));
}

void anpu_hw_set_as_root(struct anpu_hw *hw, unsigned int asid, u64 dpa)
{
	wmb(); /* the tables before the root */
	reg_write64(hw, ANPU_REG_AS_ROOT(asid), dpa);
}

/**
 * anpu_hw_dump() - registers, rings and status records as text (coredump)
 * @hw: the hardware
 * @buf: where to write
 * @len: its size
 *
 * Return: bytes written.
 */
size_t anpu_hw_dump(struct anpu_hw *hw, char *buf, size_t len)
{
	size_t n = 0;

	n += scnprintf(buf + n, len - n,
		       "version %#x caps %#x power %u device_errors %u last_error %u resets %u\n",
		       hw->version, hw->caps, reg_read(hw, ANPU_REG_POWER_STATE),
		       reg_read(hw, ANPU_REG_DEVICE_ERRORS), reg_read(hw, ANPU_REG_LAST_ERROR),
		       reg_read(hw, ANPU_REG_RESETS));
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		struct anpu_hw_queue_state qs;

		anpu_hw_queue_state(hw, q, &qs);
		n += scnprintf(buf + n, len - n,
			       "queue %u: state %u head %u tail %u completed %llu current %llu progress %u jobs %u errors %u fi %#x\n",
			       q, qs.state, qs.head, qs.tail, qs.completed_seq, qs.current_seq,
			       qs.progress, qs.jobs_done, qs.errors, qs.fi_mode);
		for (u32 i = 0; i < ANPU_HW_RING_ENTRIES; i++) {
			struct anpu_hw_job_desc d;
			struct anpu_hw_job_status st;

			memcpy_fromio(&d, hw->queue[q].ring + i * sizeof(d), sizeof(d));
			if (!d.seqno)
				continue;
			anpu_hw_queue_status(hw, q, i, &st);
			n += scnprintf(buf + n, len - n,
				       " slot %2u: seq %llu as %u cmd %#llx+%u flags %#x | status seq %llu result %u cause %u addr %#llx op %u done %u\n",
				       i, d.seqno, d.asid, d.cmd_addr, d.cmd_size, d.flags,
				       st.seqno, st.result, st.cause, st.fault_addr,
				       st.op_index, st.ops_done);
		}
	}
	return n;
}

/* ---- self-tests (debugfs): one NOP job through a ring ---- */

static void st_write64(struct anpu_hw *hw, u32 off, u64 val)
{
	writeq(val, hw->karea + off);
}

/* Map the self-test stream read-only at ANPU_ST_VA in ANPU_ST_ASID. */
static u32 st_build(struct anpu_hw *hw)
{
	struct anpu_stream_header hdr = {
		.magic = ANPU_STREAM_MAGIC,
		.version_major = ANPU_ISA_VERSION_MAJOR,
		.version_minor = 0,
		.size = sizeof(hdr) + ANPU_OP_SIZE(0),
		.op_count = 1,
	};
	struct anpu_op op = { .opcode = ANPU_OP_NOP };

	memset_io(hw->karea + KAREA_ST_PT0, 0, 3 * SZ_4K);
	st_write64(hw, KAREA_ST_PT0 + 8 * anpu_va_index(ANPU_ST_VA, 0),
		   anpu_pte_table(karea_dpa(KAREA_ST_PT1)));
	st_write64(hw, KAREA_ST_PT1 + 8 * anpu_va_index(ANPU_ST_VA, 1),
		   anpu_pte_table(karea_dpa(KAREA_ST_PT2)));
	st_write64(hw, KAREA_ST_PT2 + 8 * anpu_va_index(ANPU_ST_VA, 2),
		   anpu_pte_page(karea_dpa(KAREA_ST_STREAM), 0));
	memset_io(hw->karea + KAREA_ST_STREAM, 0, SZ_4K);
	memcpy_toio(hw->karea + KAREA_ST_STREAM, &hdr, sizeof(hdr));
	memcpy_toio(hw->karea + KAREA_ST_STREAM + sizeof(hdr), &op, sizeof(op));
	reg_write64(hw, ANPU_REG_AS_ROOT(ANPU_ST_ASID), karea_dpa(KAREA_ST_PT0));
	return hdr.size;
}

static int st_run(struct anpu_hw *hw, bool inject_fault)
{
	const unsigned int q = ANPU_ST_QUEUE;
	struct anpu_hw_job_desc desc = {
		.cmd_addr = ANPU_ST_VA,
		.asid = ANPU_ST_ASID,
	};
	struct anpu_hw_job_status st;
	int job_irqs, err_irqs, ret;
	u32 slot;
	long left;

	lockdep_assert_held(&hw->ctrl_lock);

	desc.cmd_size = st_build(hw);
	if (inject_fault) {
		reg_write(hw, ANPU_QREG(q, ANPU_QREG_FI_MODE), ANPU_FI_FAULT);
		reg_write(hw, ANPU_QREG(q, ANPU_QREG_FI_SEQ),
			  reg_read(hw, ANPU_QREG(q, ANPU_QREG_FI_ACK)) + 1);
	}
	job_irqs = atomic_read(&hw->irq_job);
	err_irqs = atomic_read(&hw->irq_error);
	/*
	 * With moderation, ask for an interrupt at the next job end (as the
	 * job interrupt's thread does before it sleeps): the first job to end
	 * from now on, the test job or one of another queue, raises IRQ_JOB.
	 */
	if (READ_ONCE(hw->irq_moderation)) {
		reg_write(hw, ANPU_REG_IRQ_JOB_EVENT, reg_read(hw, ANPU_REG_JOBS_FINISHED));
		mb(); /* the event before the job */
	}
	ret = anpu_hw_queue_push(hw, q, &desc, &slot);
	if (ret)
		goto out;

	left = wait_event_timeout(hw->job_wq,
				  anpu_hw_completed_seqno(hw, q) >= desc.seqno &&
				  atomic_read(&hw->irq_job) != job_irqs &&
				  (!inject_fault || atomic_read(&hw->irq_error) != err_irqs),
				  ANPU_SELFTEST_TIMEOUT);
	if (!left) {
		dev_err(hw->dev, "self-test: job %llu: no %s interrupt (completed %llu)\n",
			desc.seqno, inject_fault ? "error" : "completion",
			anpu_hw_completed_seqno(hw, q));
		ret = -ETIMEDOUT;
		goto out;
	}
	anpu_hw_queue_status(hw, q, slot, &st);
	if (st.seqno != desc.seqno) {
		dev_err(hw->dev, "self-test: status seqno %llu, expected %llu\n",
			st.seqno, desc.seqno);
		ret = -EIO;
	} else if (inject_fault && (st.result != ANPU_RESULT_FAULT ||
				    st.cause != ANPU_CAUSE_INJECTED)) {
		dev_err(hw->dev, "self-test: fault job result %u cause %u, expected %u/%u\n",
			st.result, st.cause, ANPU_RESULT_FAULT, ANPU_CAUSE_INJECTED);
		ret = -EIO;
	} else if (!inject_fault && st.result != ANPU_RESULT_OK) {
		dev_err(hw->dev, "self-test: NOP job result %u cause %u\n",
			st.result, st.cause);
		ret = -EIO;
	}
out:
	reg_write(hw, ANPU_QREG(q, ANPU_QREG_FI_MODE), ANPU_FI_NONE);
	reg_write64(hw, ANPU_REG_AS_ROOT(ANPU_ST_ASID), 0);
	return ret;
}

int anpu_hw_selftest_nop(struct anpu_hw *hw)
{
	guard(mutex)(&hw->ctrl_lock);
	return st_run(hw, false);
}

int anpu_hw_selftest_fault(struct anpu_hw *hw)
{
	guard(mutex)(&hw->ctrl_lock);
	return st_run(hw, true);
}
