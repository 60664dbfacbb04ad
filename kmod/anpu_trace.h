/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * anpu.ko tracepoints (events/anpu/): submit, run, done, irq, fault, reset,
 * pm.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM anpu

#if !defined(__ANPU_TRACE_H__) || defined(TRACE_HEADER_MULTI_READ)
#define __ANPU_TRACE_H__

#include <linux/tracepoint.h>
#include <linux/types.h>

DECLARE_EVENT_CLASS(anpu_job_class,
	TP_PROTO(unsigned int queue, u32 ctx, u64 seqno, u64 arg),
	TP_ARGS(queue, ctx, seqno, arg),
	TP_STRUCT__entry(
		__field(unsigned int, queue)
		__field(u32, ctx)
		__field(u64, seqno)
		__field(u64, arg)
	),
	TP_fast_assign(
		__entry->queue = queue;
		__entry->ctx = ctx;
		__entry->seqno = seqno;
		__entry->arg = arg;
	),
	TP_printk("queue=%u ctx=%u seqno=%llu arg=%llu",
		  __entry->queue, __entry->ctx, __entry->seqno, __entry->arg)
);

/* arg: number of BOs */
DEFINE_EVENT(anpu_job_class, anpu_submit,
	TP_PROTO(unsigned int queue, u32 ctx, u64 seqno, u64 arg),
	TP_ARGS(queue, ctx, seqno, arg));

/* arg: hardware (descriptor) seqno */
DEFINE_EVENT(anpu_job_class, anpu_run,
	TP_PROTO(unsigned int queue, u32 ctx, u64 seqno, u64 arg),
	TP_ARGS(queue, ctx, seqno, arg));

TRACE_EVENT(anpu_done,
	TP_PROTO(unsigned int queue, u32 ctx, u64 seqno, int error),
	TP_ARGS(queue, ctx, seqno, error),
	TP_STRUCT__entry(
		__field(unsigned int, queue)
		__field(u32, ctx)
		__field(u64, seqno)
		__field(int, error)
	),
	TP_fast_assign(
		__entry->queue = queue;
		__entry->ctx = ctx;
		__entry->seqno = seqno;
		__entry->error = error;
	),
	TP_printk("queue=%u ctx=%u seqno=%llu error=%d",
		  __entry->queue, __entry->ctx, __entry->seqno, __entry->error)
);

TRACE_EVENT(anpu_irq,
	TP_PROTO(int count),
	TP_ARGS(count),
	TP_STRUCT__entry(__field(int, count)),
	TP_fast_assign(__entry->count = count;),
	TP_printk("job_irqs=%d", __entry->count)
);

TRACE_EVENT(anpu_fault,
	TP_PROTO(unsigned int queue, u32 ctx, u64 seqno, u32 result, u32 cause, u64 addr),
	TP_ARGS(queue, ctx, seqno, result, cause, addr),
	TP_STRUCT__entry(
		__field(unsigned int, queue)
		__field(u32, ctx)
		__field(u64, seqno)
		__field(u32, result)
		__field(u32, cause)
		__field(u64, addr)
	),
	TP_fast_assign(
		__entry->queue = queue;
		__entry->ctx = ctx;
		__entry->seqno = seqno;
		__entry->result = result;
		__entry->cause = cause;
		__entry->addr = addr;
	),
	TP_printk("queue=%u ctx=%u seqno=%llu result=%u cause=%u addr=%#llx",
		  __entry->queue, __entry->ctx, __entry->seqno, __entry->result,
		  __entry->cause, __entry->addr)
);

/* queue -1: device reset */
TRACE_EVENT(anpu_reset,
	TP_PROTO(int queue, int ret),
	TP_ARGS(queue, ret),
	TP_STRUCT__entry(
		__field(int, queue)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->queue = queue;
		__entry->ret = ret;
	),
	TP_printk("queue=%d ret=%d", __entry->queue, __entry->ret)
);

TRACE_EVENT(anpu_pm,
	TP_PROTO(bool on, int ret),
	TP_ARGS(on, ret),
	TP_STRUCT__entry(
		__field(bool, on)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->on = on;
		__entry->ret = ret;
	),
	TP_printk("%s ret=%d", __entry->on ? "resume" : "suspend", __entry->ret)
);

#endif /* __ANPU_TRACE_H__ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE anpu_trace
#include <trace/define_trace.h>
