// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko telemetry over generic netlink: the family "anpu" (uapi/drm/
 * anpu_netlink.h, spec docs/netlink/anpu.yaml). Requests read a device's
 * description and statistics; the multicast group "jobs" carries one event
 * per finished job.
 *
 * Who may listen: the family lives in the initial network namespace only
 * (netnsok unset), and joining "jobs" needs CAP_SYS_ADMIN there
 * (GENL_MCAST_CAP_SYS_ADMIN, checked against init_net's user namespace, so a
 * user namespace's root cannot join): an event names another user's process,
 * and genetlink cannot filter a group per listener. Device descriptions and
 * device-wide totals are open to every user, as the sysfs attributes and
 * GET_PARAM are. A process's own figures are in fdinfo (anpu_fdinfo.c).
 *
 * Job events are sent from the job-completion path (anpu_job.c), which is a
 * fence-signalling path: nothing there may sleep or allocate with
 * GFP_KERNEL. Only while the group has a listener (genl_has_listeners()),
 * the event's fields are captured before the job's fence signals (after it,
 * the scheduler may free the job at any time) and the message is built and
 * sent after it, so waiters are not delayed, with GFP_NOWAIT; an event that
 * cannot be allocated or delivered is counted in
 * anpu_device.events_dropped instead of being waited for.
 */

#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#include <net/genetlink.h>

#include <drm/drm_file.h>
#include <drm/drm_drv.h>

#include "anpu_drv.h"
#include "anpu_job.h"
#include "uapi/drm/anpu_netlink.h"

/*
 * The devices the family answers for, by id (N of /dev/accel/accelN).
 * anpu_nl_lock is held while a request uses a device and while one is
 * removed, so a device is never freed under a request.
 */
static DEFINE_XARRAY(anpu_nl_devs);
static DEFINE_MUTEX(anpu_nl_lock); /* anpu_nl_devs' entries in use */

enum anpu_nl_mcgrp {
	ANPU_NL_MCGRP_JOBS_INDEX,
};

static const struct genl_multicast_group anpu_nl_mcgrps[] = {
	[ANPU_NL_MCGRP_JOBS_INDEX] = {
		.name = ANPU_NL_MCGRP_JOBS,
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
};

static const struct nla_policy anpu_nl_dev_get_policy[ANPU_NL_A_DEV_ID + 1] = {
	[ANPU_NL_A_DEV_ID] = { .type = NLA_U32 },
};

static const struct nla_policy anpu_nl_stats_get_policy[ANPU_NL_A_STATS_DEV_ID + 1] = {
	[ANPU_NL_A_STATS_DEV_ID] = { .type = NLA_U32 },
};

/*
 * Dumps take no attribute. A split op without a policy would skip validation
 * altogether, so they get this one: attribute 1 is rejected, any other is
 * past maxattr, which strict validation refuses too.
 */
static const struct nla_policy anpu_nl_reject_all_policy[2] = {
	{ .type = NLA_REJECT },
	{ .type = NLA_REJECT },
};

static struct genl_family anpu_nl_family;

static u32 anpu_nl_dev_id(struct anpu_device *adev)
{
	return adev->drm.accel->index;
}

/* ---- device descriptions ---- */

static int anpu_nl_fill_dev(struct sk_buff *skb, struct anpu_device *adev)
{
	u64 used;

	scoped_guard(mutex, &adev->mm_lock)
		used = adev->mm_used;
	if (nla_put_u32(skb, ANPU_NL_A_DEV_ID, anpu_nl_dev_id(adev)) ||
	    nla_put_string(skb, ANPU_NL_A_DEV_BUS_ADDR, dev_name(adev->drm.dev)) ||
	    nla_put_u32(skb, ANPU_NL_A_DEV_HW_VERSION, adev->hw.version) ||
	    nla_put_u32(skb, ANPU_NL_A_DEV_ISA_VERSION, adev->hw.isa_version) ||
	    nla_put_u32(skb, ANPU_NL_A_DEV_CAPS, adev->hw.caps & ANPU_CAP_USER_MASK) ||
	    nla_put_u32(skb, ANPU_NL_A_DEV_QUEUES, ANPU_HW_NUM_QUEUES) ||
	    nla_put_u64_64bit(skb, ANPU_NL_A_DEV_MEM_SIZE, anpu_hw_mem_size(&adev->hw),
			      ANPU_NL_A_DEV_PAD) ||
	    nla_put_u64_64bit(skb, ANPU_NL_A_DEV_MEM_USED, used, ANPU_NL_A_DEV_PAD))
		return -EMSGSIZE;
	return 0;
}

/* ---- statistics ---- */

struct anpu_nl_u64 {
	int type;
	u64 value;
};

static int anpu_nl_put_u64s(struct sk_buff *skb, const struct anpu_nl_u64 *v, size_t n,
			    int pad)
{
	for (size_t i = 0; i < n; i++)
		if (nla_put_u64_64bit(skb, v[i].type, v[i].value, pad))
			return -EMSGSIZE;
	return 0;
}

static int anpu_nl_fill_queue_stats(struct sk_buff *skb, const struct anpu_queue *queue)
{
	const struct anpu_queue_stats *s = &queue->stats;
	const struct anpu_nl_u64 v[] = {
		{ ANPU_NL_A_QSTATS_JOBS_SUBMITTED, atomic64_read(&s->jobs_submitted) },
		{ ANPU_NL_A_QSTATS_JOBS_COMPLETED, atomic64_read(&s->jobs_completed) },
		{ ANPU_NL_A_QSTATS_JOBS_FAILED, atomic64_read(&s->jobs_failed) },
		{ ANPU_NL_A_QSTATS_BUSY_NS, atomic64_read(&s->busy_ns) },
		{ ANPU_NL_A_QSTATS_FAULTS, atomic64_read(&s->faults) },
	};
	struct nlattr *nest;

	nest = nla_nest_start(skb, ANPU_NL_A_STATS_QUEUE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, ANPU_NL_A_QSTATS_INDEX, queue->index) ||
	    anpu_nl_put_u64s(skb, v, ARRAY_SIZE(v), ANPU_NL_A_QSTATS_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int anpu_nl_fill_stats(struct sk_buff *skb, struct anpu_device *adev)
{
	struct anpu_nl_u64 v[] = {
		{ ANPU_NL_A_STATS_JOBS_SUBMITTED, 0 },
		{ ANPU_NL_A_STATS_JOBS_COMPLETED, 0 },
		{ ANPU_NL_A_STATS_JOBS_FAILED, 0 },
		{ ANPU_NL_A_STATS_BUSY_NS, 0 },
		{ ANPU_NL_A_STATS_FAULTS, 0 },
		{ ANPU_NL_A_STATS_RESETS_QUEUE, atomic_read(&adev->count.resets_queue) },
		{ ANPU_NL_A_STATS_RESETS_DEVICE, atomic_read(&adev->count.resets_device) },
		{ ANPU_NL_A_STATS_MEM_USED, 0 },
		{ ANPU_NL_A_STATS_EVENTS_DROPPED, atomic64_read(&adev->events_dropped) },
	};

	/* the device totals are the sums of the queues' (first five entries) */
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++) {
		const struct anpu_queue_stats *s = &adev->queue[q].stats;

		v[0].value += atomic64_read(&s->jobs_submitted);
		v[1].value += atomic64_read(&s->jobs_completed);
		v[2].value += atomic64_read(&s->jobs_failed);
		v[3].value += atomic64_read(&s->busy_ns);
		v[4].value += atomic64_read(&s->faults);
	}
	scoped_guard(mutex, &adev->mm_lock)
		v[7].value = adev->mm_used;

	if (nla_put_u32(skb, ANPU_NL_A_STATS_DEV_ID, anpu_nl_dev_id(adev)) ||
	    anpu_nl_put_u64s(skb, v, ARRAY_SIZE(v), ANPU_NL_A_STATS_PAD))
		return -EMSGSIZE;
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		if (anpu_nl_fill_queue_stats(skb, &adev->queue[q]))
			return -EMSGSIZE;
	return 0;
}

/* ---- requests ---- */

typedef int (*anpu_nl_fill_fn)(struct sk_buff *skb, struct anpu_device *adev);

static int anpu_nl_fill_msg(struct sk_buff *skb, struct anpu_device *adev, u32 portid,
			    u32 seq, int flags, u8 cmd, anpu_nl_fill_fn fill)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &anpu_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (fill(skb, adev)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* do: the device named by attribute @id_attr */
static int anpu_nl_do_one(struct sk_buff *skb, struct genl_info *info, int id_attr,
			  anpu_nl_fill_fn fill)
{
	struct anpu_device *adev;
	struct sk_buff *msg;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, id_attr))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	scoped_guard(mutex, &anpu_nl_lock) {
		adev = xa_load(&anpu_nl_devs, nla_get_u32(info->attrs[id_attr]));
		if (!adev) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[id_attr],
					    "no ANPU device with this id");
			ret = -ENODEV;
		} else {
			ret = anpu_nl_fill_msg(msg, adev, info->snd_portid, info->snd_seq, 0,
					       info->genlhdr->cmd, fill);
		}
	}
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* dump: every device from id cb->args[0] on, one message each */
static int anpu_nl_dump_all(struct sk_buff *skb, struct netlink_callback *cb,
			    anpu_nl_fill_fn fill)
{
	const struct genl_info *info = genl_info_dump(cb);
	struct anpu_device *adev;
	unsigned long id;
	int ret = 0;

	guard(mutex)(&anpu_nl_lock);
	xa_for_each_start(&anpu_nl_devs, id, adev, cb->args[0]) {
		ret = anpu_nl_fill_msg(skb, adev, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI,
				       info->genlhdr->cmd, fill);
		if (ret)
			break;
		cb->args[0] = id + 1;
	}
	/* a full skb ends this part of the dump; the next call resumes */
	return ret == -EMSGSIZE && skb->len ? skb->len : ret;
}

static int anpu_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return anpu_nl_do_one(skb, info, ANPU_NL_A_DEV_ID, anpu_nl_fill_dev);
}

static int anpu_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return anpu_nl_dump_all(skb, cb, anpu_nl_fill_dev);
}

static int anpu_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return anpu_nl_do_one(skb, info, ANPU_NL_A_STATS_DEV_ID, anpu_nl_fill_stats);
}

static int anpu_nl_stats_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return anpu_nl_dump_all(skb, cb, anpu_nl_fill_stats);
}

static const struct genl_split_ops anpu_nl_ops[] = {
	{
		.cmd = ANPU_NL_CMD_DEV_GET,
		.doit = anpu_nl_dev_get_doit,
		.policy = anpu_nl_dev_get_policy,
		.maxattr = ANPU_NL_A_DEV_ID,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = ANPU_NL_CMD_DEV_GET,
		.dumpit = anpu_nl_dev_get_dumpit,
		.policy = anpu_nl_reject_all_policy,
		.maxattr = 1,
		.flags = GENL_CMD_CAP_DUMP,
	},
	{
		.cmd = ANPU_NL_CMD_STATS_GET,
		.doit = anpu_nl_stats_get_doit,
		.policy = anpu_nl_stats_get_policy,
		.maxattr = ANPU_NL_A_STATS_DEV_ID,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = ANPU_NL_CMD_STATS_GET,
		.dumpit = anpu_nl_stats_get_dumpit,
		.policy = anpu_nl_reject_all_policy,
		.maxattr = 1,
		.flags = GENL_CMD_CAP_DUMP,
	},
};

static struct genl_family anpu_nl_family __ro_after_init = {
	.name = ANPU_NL_FAMILY_NAME,
	.version = ANPU_NL_FAMILY_VERSION,
	.netnsok = false,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.split_ops = anpu_nl_ops,
	.n_split_ops = ARRAY_SIZE(anpu_nl_ops),
	.resv_start_op = ANPU_NL_CMD_MAX + 1,
	.mcgrps = anpu_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(anpu_nl_mcgrps),
};

/* ---- job events ---- */

static size_t anpu_nl_job_msg_size(void)
{
	/* dev, pid, uid, ctx, queue, result, error; client, seqno, 4 times */
	return nla_total_size(sizeof(u32)) * 7 + nla_total_size_64bit(sizeof(u64)) * 6;
}

static int anpu_nl_fill_job(struct sk_buff *skb, u32 dev_id,
			    const struct anpu_nl_job_event *ev, u64 done_ns)
{
	const struct anpu_nl_u64 v[] = {
		{ ANPU_NL_A_JOB_CLIENT_ID, ev->client_id },
		{ ANPU_NL_A_JOB_SEQNO, ev->seqno },
		{ ANPU_NL_A_JOB_SUBMIT_NS, ev->submit_ns },
		{ ANPU_NL_A_JOB_START_NS, ev->start_ns },
		{ ANPU_NL_A_JOB_END_NS, ev->end_ns },
		{ ANPU_NL_A_JOB_DONE_NS, done_ns },
	};

	if (nla_put_u32(skb, ANPU_NL_A_JOB_DEV_ID, dev_id) ||
	    nla_put_u32(skb, ANPU_NL_A_JOB_PID, ev->pid) ||
	    nla_put_u32(skb, ANPU_NL_A_JOB_UID, ev->uid) ||
	    nla_put_u32(skb, ANPU_NL_A_JOB_CTX_ID, ev->ctx_id) ||
	    nla_put_u32(skb, ANPU_NL_A_JOB_QUEUE, ev->queue) ||
	    nla_put_u32(skb, ANPU_NL_A_JOB_RESULT, ev->result) ||
	    nla_put_u32(skb, ANPU_NL_A_JOB_ERROR, -ev->err) ||
	    anpu_nl_put_u64s(skb, v, ARRAY_SIZE(v), ANPU_NL_A_JOB_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Whether group "jobs" has a listener now: no event is captured or built otherwise. */
bool anpu_nl_jobs_listened(void)
{
	return genl_has_listeners(&anpu_nl_family, &init_net, ANPU_NL_MCGRP_JOBS_INDEX);
}

/**
 * anpu_nl_job_capture() - what the event of a finished job will say
 * @ev: filled here.
 * @job: the job (its context and queue set), alive during the call.
 * @st: its status record (zeroed but for the result when it never ran).
 * @err: 0 or the negative errno its finished fence carries.
 */
void anpu_nl_job_capture(struct anpu_nl_job_event *ev, const struct anpu_job *job,
			 const struct anpu_hw_job_status *st, int err)
{
	*ev = (struct anpu_nl_job_event){
		.client_id = job->client_id,
		.seqno = job->seqno,
		.submit_ns = job->submit_ns,
		.start_ns = st->start_ns,
		.end_ns = st->end_ns,
		.pid = job->pid,
		.uid = job->uid,
		.ctx_id = job->ctx->id,
		.queue = job->queue->index,
		.result = st->result,
		.err = err,
	};
}

/**
 * anpu_nl_job_send() - send a captured job event to group "jobs"
 * @adev: the job's device.
 * @ev: the event (anpu_nl_job_capture()).
 *
 * Context: the job-completion path (fence signalling): never sleeps.
 */
void anpu_nl_job_send(struct anpu_device *adev, const struct anpu_nl_job_event *ev)
{
	struct sk_buff *skb;
	void *hdr;
	int ret;

	skb = genlmsg_new(anpu_nl_job_msg_size(), GFP_NOWAIT | __GFP_NOWARN);
	if (!skb)
		goto dropped;
	hdr = genlmsg_put(skb, 0, 0, &anpu_nl_family, 0, ANPU_NL_CMD_JOB_DONE);
	if (!hdr || anpu_nl_fill_job(skb, anpu_nl_dev_id(adev), ev, ktime_get_ns())) {
		nlmsg_free(skb);
		goto dropped;
	}
	genlmsg_end(skb, hdr);
	ret = genlmsg_multicast(&anpu_nl_family, skb, 0, ANPU_NL_MCGRP_JOBS_INDEX,
				GFP_NOWAIT | __GFP_NOWARN);
	/* -ESRCH: the last listener left meanwhile */
	if (ret && ret != -ESRCH)
		goto dropped;
	return;
dropped:
	atomic64_inc(&adev->events_dropped);
}

/* ---- devices and the family ---- */

int anpu_nl_device_add(struct anpu_device *adev)
{
	guard(mutex)(&anpu_nl_lock);
	return xa_insert(&anpu_nl_devs, anpu_nl_dev_id(adev), adev, GFP_KERNEL);
}

void anpu_nl_device_remove(struct anpu_device *adev)
{
	guard(mutex)(&anpu_nl_lock);
	xa_erase(&anpu_nl_devs, anpu_nl_dev_id(adev));
}

int anpu_nl_init(void)
{
	return genl_register_family(&anpu_nl_family);
}

void anpu_nl_fini(void)
{
	genl_unregister_family(&anpu_nl_family);
	WARN_ON(!xa_empty(&anpu_nl_devs));
}
