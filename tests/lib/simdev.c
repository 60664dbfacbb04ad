// SPDX-License-Identifier: MIT
/* simdev: the test-side driver (see simdev.h). */
#include "simdev.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BAR_SIZE	(64ull << 20)

uint32_t simdev_rd32(struct simdev *d, uint32_t off)
{
	return atomic_load_explicit((_Atomic uint32_t *)(void *)(d->bar + off), memory_order_acquire);
}

uint64_t simdev_rd64(struct simdev *d, uint32_t off)
{
	return atomic_load_explicit((_Atomic uint64_t *)(void *)(d->bar + off), memory_order_acquire);
}

void simdev_wr32(struct simdev *d, uint32_t off, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)(void *)(d->bar + off), v, memory_order_release);
}

void simdev_wr64(struct simdev *d, uint32_t off, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)(void *)(d->bar + off), v, memory_order_release);
}

int simdev_open(struct simdev *d, uint64_t bar_size, unsigned int threads)
{
	struct anpusim_params p;
	int ret;

	memset(d, 0, sizeof(*d));
	p = anpusim_default_params();
	p.bar_size = bar_size ? bar_size : DEFAULT_BAR_SIZE;
	p.threads = threads ? threads : 1;
	p.spin_us = 0;
	ret = anpusim_create(&p, &d->sim);
	if (ret)
		return ret;
	d->bar = anpusim_bar(d->sim);
	d->bar_size = anpusim_bar_size(d->sim);
	d->next_free = ANPU_DEVMEM_BASE;
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		ret = simdev_queue_init(d, q, SIMDEV_RING_ENTRIES);
		if (ret) {
			simdev_close(d);
			return ret;
		}
	}
	return 0;
}

void simdev_close(struct simdev *d)
{
	anpusim_destroy(d->sim);
	d->sim = NULL;
}

uint64_t simdev_alloc(struct simdev *d, uint64_t size, uint64_t align)
{
	uint64_t dpa = (d->next_free + align - 1) & ~(align - 1);

	if (size > d->bar_size || dpa > d->bar_size - size)
		return 0;
	d->next_free = dpa + size;
	memset(d->bar + dpa, 0, size);
	return dpa;
}

void *simdev_host(struct simdev *d, uint64_t dpa)
{
	return d->bar + dpa;
}

int simdev_as_create(struct simdev *d, unsigned int asid)
{
	uint64_t root;

	if (asid >= ANPU_HW_NUM_AS)
		return -EINVAL;
	root = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE);
	if (!root)
		return -ENOMEM;
	d->root[asid] = root;
	simdev_wr64(d, ANPU_REG_AS_ROOT(asid), root);
	return 0;
}

uint64_t *simdev_pte(struct simdev *d, unsigned int asid, uint64_t va, unsigned int level)
{
	uint64_t table = d->root[asid];

	if (!table)
		return NULL;
	for (unsigned int l = 0; l < level; l++) {
		uint64_t *e = (uint64_t *)(void *)(d->bar + table) + anpu_va_index(va, l);

		if (!(*e & ANPU_PTE_VALID)) {
			uint64_t t = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE);

			if (!t)
				return NULL;
			*e = anpu_pte_table(t);
		} else if (*e & ANPU_PTE_LARGE) {
			return NULL;
		}
		table = anpu_pte_addr(*e);
	}
	return (uint64_t *)(void *)(d->bar + table) + anpu_va_index(va, level);
}

int simdev_map(struct simdev *d, unsigned int asid, uint64_t va, uint64_t dpa, uint64_t size,
	       bool writable, bool large)
{
	uint64_t done = 0;

	if ((va | dpa | size) & (ANPU_PAGE_SIZE - 1))
		return -EINVAL;
	while (done < size) {
		uint64_t v = va + done, p = dpa + done, *e;

		if (large && !((v | p) & (ANPU_LARGE_PAGE_SIZE - 1)) &&
		    size - done >= ANPU_LARGE_PAGE_SIZE) {
			e = simdev_pte(d, asid, v, 1);
			if (!e)
				return -ENOMEM;
			*e = anpu_pte_large(p, writable);
			done += ANPU_LARGE_PAGE_SIZE;
			continue;
		}
		e = simdev_pte(d, asid, v, 2);
		if (!e)
			return -ENOMEM;
		*e = anpu_pte_page(p, writable);
		done += ANPU_PAGE_SIZE;
	}
	atomic_thread_fence(memory_order_release);
	return 0;
}

int simdev_buf(struct simdev *d, unsigned int asid, uint64_t va, uint64_t size, bool writable,
	       struct simdev_buf *buf)
{
	uint64_t bytes = (size + ANPU_PAGE_SIZE - 1) & ~(ANPU_PAGE_SIZE - 1);
	bool large = bytes >= ANPU_LARGE_PAGE_SIZE && !(va & (ANPU_LARGE_PAGE_SIZE - 1));
	uint64_t dpa = simdev_alloc(d, bytes, large ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE);
	int ret;

	if (!dpa)
		return -ENOMEM;
	ret = simdev_map(d, asid, va, dpa, bytes, writable, large);
	if (ret)
		return ret;
	*buf = (struct simdev_buf){ .va = va, .dpa = dpa, .size = bytes, .host = d->bar + dpa };
	return 0;
}

int simdev_queue_init(struct simdev *d, unsigned int q, uint32_t entries)
{
	struct simdev_queue *sq = &d->q[q];
	uint64_t ring = simdev_alloc(d, (uint64_t)entries * sizeof(struct anpu_hw_job_desc), 64);

	if (!ring)
		return -ENOMEM;
	sq->ring_dpa = ring;
	sq->entries = entries;
	sq->tail = simdev_rd32(d, ANPU_QREG(q, ANPU_QREG_RING_HEAD));
	if (!sq->next_seqno)
		sq->next_seqno = 1;
	simdev_wr64(d, ANPU_QREG(q, ANPU_QREG_RING_BASE), ring);
	simdev_wr32(d, ANPU_QREG(q, ANPU_QREG_RING_ENTRIES), entries);
	simdev_wr32(d, ANPU_QREG(q, ANPU_QREG_RING_TAIL), sq->tail);
	return 0;
}

int simdev_enqueue(struct simdev *d, unsigned int q, const struct anpu_hw_job_desc *desc,
		   struct simdev_job *job)
{
	struct simdev_queue *sq = &d->q[q];
	struct anpu_hw_job_desc e = *desc;
	uint32_t head = simdev_rd32(d, ANPU_QREG(q, ANPU_QREG_RING_HEAD));

	if (sq->tail - head >= sq->entries)
		return -EBUSY;
	if (!e.status_addr) {
		e.status_addr = simdev_alloc(d, sizeof(struct anpu_hw_job_status), 64);
		if (!e.status_addr)
			return -ENOMEM;
	}
	e.seqno = sq->next_seqno++;
	memcpy(d->bar + sq->ring_dpa + (uint64_t)(sq->tail & (sq->entries - 1)) * sizeof(e), &e,
	       sizeof(e));
	sq->tail++;
	simdev_wr32(d, ANPU_QREG(q, ANPU_QREG_RING_TAIL), sq->tail);
	*job = (struct simdev_job){ .queue = q, .seqno = e.seqno, .status_dpa = e.status_addr };
	return 0;
}

void simdev_doorbell(struct simdev *d, unsigned int vector)
{
	atomic_thread_fence(memory_order_seq_cst);
	anpusim_doorbell(d->sim, vector);
}

int simdev_submit(struct simdev *d, unsigned int q, const struct anpu_hw_job_desc *desc,
		  struct simdev_job *job)
{
	int ret = simdev_enqueue(d, q, desc, job);

	if (!ret)
		simdev_doorbell(d, ANPU_DB_QUEUE(q));
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep on interrupt @vector's eventfd until @done() or the deadline. */
static int wait_irq(struct simdev *d, unsigned int vector, int timeout_ms,
		    bool (*done)(struct simdev *, const void *), const void *arg)
{
	int64_t deadline = now_ms() + timeout_ms;
	int fd = anpusim_irq_fd(d->sim, vector);

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left;
		uint64_t v;

		if (done(d, arg))
			return 0;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) > 0 && read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
	}
}

static bool job_done(struct simdev *d, const void *arg)
{
	const struct simdev_job *job = arg;

	return simdev_rd64(d, ANPU_QREG(job->queue, ANPU_QREG_COMPLETED_SEQ)) >= job->seqno;
}

int simdev_wait(struct simdev *d, const struct simdev_job *job, int timeout_ms)
{
	return wait_irq(d, ANPU_IRQ_JOB, timeout_ms, job_done, job);
}

void simdev_status(struct simdev *d, const struct simdev_job *job, struct anpu_hw_job_status *st)
{
	atomic_thread_fence(memory_order_acquire);
	memcpy(st, d->bar + job->status_dpa, sizeof(*st));
}

int simdev_run(struct simdev *d, unsigned int q, const struct anpu_hw_job_desc *desc,
	       struct anpu_hw_job_status *st)
{
	struct simdev_job job;
	int ret = simdev_submit(d, q, desc, &job);

	if (!ret)
		ret = simdev_wait(d, &job, 5000);
	if (!ret)
		simdev_status(d, &job, st);
	return ret;
}

static bool ctrl_done(struct simdev *d, const void *arg)
{
	return simdev_rd32(d, ANPU_REG_CTRL_ACK_SEQ) == *(const uint32_t *)arg;
}

int simdev_ctrl(struct simdev *d, uint32_t cmd, uint32_t arg, int timeout_ms)
{
	uint32_t seq = simdev_rd32(d, ANPU_REG_CTRL_ACK_SEQ) + 1;
	int ret;

	simdev_wr32(d, ANPU_REG_CTRL_CMD, cmd);
	simdev_wr32(d, ANPU_REG_CTRL_ARG, arg);
	simdev_wr32(d, ANPU_REG_CTRL_SEQ, seq);
	simdev_doorbell(d, ANPU_DB_CTRL);
	ret = wait_irq(d, ANPU_IRQ_CTRL, timeout_ms, ctrl_done, &seq);
	return ret ? ret : (int)simdev_rd32(d, ANPU_REG_CTRL_RESULT);
}

void simdev_fi_arm(struct simdev *d, unsigned int q, uint32_t mode)
{
	simdev_wr32(d, ANPU_QREG(q, ANPU_QREG_FI_MODE), mode);
	simdev_wr32(d, ANPU_QREG(q, ANPU_QREG_FI_SEQ),
		    simdev_rd32(d, ANPU_QREG(q, ANPU_QREG_FI_SEQ)) + 1);
}

/* ---- stream builder ---- */

void simdev_stream_init(struct simdev_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(struct anpu_stream_header);
}

void simdev_stream_free(struct simdev_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static void *stream_room(struct simdev_stream *s, size_t n)
{
	if (s->size + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		uint8_t *p;

		while (cap < s->size + n)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (!p) {
			s->oom = 1;
			return NULL;
		}
		memset(p + s->cap, 0, cap - s->cap);
		s->buf = p;
		s->cap = cap;
	}
	s->size += n;
	return s->buf + s->size - n;
}

void simdev_stream_op(struct simdev_stream *s, uint16_t opcode, uint32_t flags,
		      const void *params, size_t params_len, const struct anpu_tensor *t,
		      unsigned int n_tensors)
{
	struct anpu_op op = { .opcode = opcode, .n_tensors = (uint8_t)n_tensors, .flags = flags };
	uint8_t *p;

	if (!s->buf && !stream_room(s, 0))
		return;
	if (params)
		memcpy(op.params.raw, params,
		       params_len < sizeof(op.params) ? params_len : sizeof(op.params));
	p = stream_room(s, ANPU_OP_SIZE(n_tensors));
	if (!p)
		return;
	memcpy(p, &op, sizeof(op));
	if (n_tensors)
		memcpy(p + sizeof(op), t, n_tensors * sizeof(*t));
	s->op_count++;
}

size_t simdev_stream_finish(struct simdev_stream *s, uint32_t step_count, uint64_t step_addr)
{
	struct anpu_stream_header h = {
		.magic = ANPU_STREAM_MAGIC,
		.version_major = ANPU_ISA_VERSION_MAJOR,
		.version_minor = ANPU_ISA_VERSION_MINOR,
		.size = (uint32_t)s->size,
		.op_count = s->op_count,
		.step_params_count = step_count,
		.step_params_addr = step_addr,
	};

	if (s->oom || (!s->buf && !stream_room(s, 0)))
		return 0;
	memcpy(s->buf, &h, sizeof(h));
	return s->size;
}

struct anpu_tensor simdev_tensor(uint64_t addr, uint32_t dtype, uint32_t ne0, uint32_t ne1,
				 uint32_t ne2, uint32_t ne3)
{
	struct anpu_tensor t = { .addr = addr, .ne = { ne0, ne1, ne2, ne3 }, .dtype = (uint16_t)dtype };
	unsigned int be = 1, bb = 4;

	anpu_dtype_layout(dtype, &be, &bb);
	t.nb[0] = (uint64_t)(ne0 / be) * bb;
	t.nb[1] = t.nb[0] * ne1;
	t.nb[2] = t.nb[1] * ne2;
	return t;
}

int simdev_stream_upload(struct simdev *d, unsigned int asid, uint64_t va,
			 const struct simdev_stream *s, struct anpu_hw_job_desc *desc)
{
	struct simdev_buf b;
	int ret = simdev_buf(d, asid, va, s->size, false, &b);

	if (ret)
		return ret;
	memcpy(b.host, s->buf, s->size);
	desc->cmd_addr = va;
	desc->cmd_size = (uint32_t)s->size;
	desc->asid = (uint16_t)asid;
	return 0;
}
