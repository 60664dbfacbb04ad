// SPDX-License-Identifier: MIT
/*
 * Client of the ANPU telemetry family over libnl-genl-3 (anpu_nl.h).
 * Requests go over one socket (answers matched by libnl's sequence check);
 * job events over a second one that only listens, so an event never lands
 * in the middle of a request's answer.
 */
#include "tools/common/anpu_nl.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "uapi/drm/anpu_netlink.h"

/* events are bursty (one per job): room for a few thousand of them */
#define ANPU_NL_EVENT_RCVBUF	(4 << 20)

struct anpu_nl {
	struct nl_sock *sk;		/* requests */
	int family;
	struct nl_sock *events;		/* group "jobs", NULL until subscribed */
	anpu_nl_job_fn job_fn;
	void *job_arg;
	int delivered;
};

/* libnl's error codes back to the errno the kernel or the system gave */
static int anpu_nl_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_PERM: return -EPERM;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_NODEV: return -ENODEV;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NOACCESS: return -EACCES;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_MSG_OVERFLOW: return -ENOBUFS;
	case NLE_BAD_SOCK: return -EBADF;
	default: return -EIO;
	}
}

static struct nl_sock *anpu_nl_socket(int *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk) {
		*err = -ENOMEM;
		return NULL;
	}
	ret = genl_connect(sk);
	if (ret < 0) {
		nl_socket_free(sk);
		*err = anpu_nl_errno(ret);
		return NULL;
	}
	return sk;
}

int anpu_nl_open(struct anpu_nl **out)
{
	struct anpu_nl *nl = calloc(1, sizeof(*nl));
	int err = 0;

	if (!nl)
		return -ENOMEM;
	nl->sk = anpu_nl_socket(&err);
	if (!nl->sk) {
		free(nl);
		return err;
	}
	nl->family = genl_ctrl_resolve(nl->sk, ANPU_NL_FAMILY_NAME);
	if (nl->family < 0) {
		nl_socket_free(nl->sk);
		free(nl);
		return -ENOENT;
	}
	*out = nl;
	return 0;
}

void anpu_nl_close(struct anpu_nl *nl)
{
	if (!nl)
		return;
	if (nl->events)
		nl_socket_free(nl->events);
	nl_socket_free(nl->sk);
	free(nl);
}

/* ---- requests ---- */

struct anpu_nl_request {
	int (*parse)(struct nlmsghdr *nlh, void *arg);
	void *arg;
	int err;
	bool done;
};

static int anpu_nl_on_valid(struct nl_msg *msg, void *arg)
{
	struct anpu_nl_request *req = arg;
	int ret = req->parse(nlmsg_hdr(msg), req->arg);

	if (ret < 0 && !req->err)
		req->err = ret;
	return NL_OK;
}

static int anpu_nl_on_end(struct nl_msg *msg, void *arg)
{
	struct anpu_nl_request *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

static int anpu_nl_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct anpu_nl_request *req = arg;

	(void)who;
	req->err = e->error < 0 ? e->error : -EIO;
	req->done = true;
	return NL_STOP;
}

/* Send @cmd (a dump when @id_attr is 0, else a do for device @id) and parse the answers. */
static int anpu_nl_request(struct anpu_nl *nl, uint8_t cmd, int id_attr, uint32_t id,
			   int (*parse)(struct nlmsghdr *nlh, void *arg), void *arg)
{
	struct anpu_nl_request req = { .parse = parse, .arg = arg };
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret = -ENOMEM;

	if (!msg || !cb)
		goto out;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 id_attr ? 0 : NLM_F_DUMP, cmd, ANPU_NL_FAMILY_VERSION) ||
	    (id_attr && nla_put_u32(msg, id_attr, id) < 0))
		goto out;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, anpu_nl_on_valid, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, anpu_nl_on_end, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, anpu_nl_on_end, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, anpu_nl_on_error, &req);
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = anpu_nl_errno(ret);
		goto out;
	}
	ret = 0;
	while (!req.done && ret >= 0)
		ret = nl_recvmsgs(nl->sk, cb);
	ret = req.err ? req.err : ret < 0 ? anpu_nl_errno(ret) : 0;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return ret;
}

static uint32_t anpu_nl_u32(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

static uint64_t anpu_nl_u64(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

static int anpu_nl_parse_dev(struct nlmsghdr *nlh, struct anpu_nl_dev *dev)
{
	static struct nla_policy policy[ANPU_NL_A_DEV_MAX + 1] = {
		[ANPU_NL_A_DEV_ID] = { .type = NLA_U32 },
		[ANPU_NL_A_DEV_BUS_ADDR] = { .type = NLA_STRING },
		[ANPU_NL_A_DEV_HW_VERSION] = { .type = NLA_U32 },
		[ANPU_NL_A_DEV_ISA_VERSION] = { .type = NLA_U32 },
		[ANPU_NL_A_DEV_CAPS] = { .type = NLA_U32 },
		[ANPU_NL_A_DEV_QUEUES] = { .type = NLA_U32 },
		[ANPU_NL_A_DEV_MEM_SIZE] = { .type = NLA_U64 },
		[ANPU_NL_A_DEV_MEM_USED] = { .type = NLA_U64 },
	};
	struct nlattr *tb[ANPU_NL_A_DEV_MAX + 1];
	int ret = genlmsg_parse(nlh, 0, tb, ANPU_NL_A_DEV_MAX, policy);

	if (ret < 0)
		return anpu_nl_errno(ret);
	if (!tb[ANPU_NL_A_DEV_ID])
		return -EPROTO;
	memset(dev, 0, sizeof(*dev));
	dev->id = anpu_nl_u32(tb, ANPU_NL_A_DEV_ID);
	if (tb[ANPU_NL_A_DEV_BUS_ADDR])
		nla_strlcpy(dev->bus_addr, tb[ANPU_NL_A_DEV_BUS_ADDR], sizeof(dev->bus_addr));
	dev->hw_version = anpu_nl_u32(tb, ANPU_NL_A_DEV_HW_VERSION);
	dev->isa_version = anpu_nl_u32(tb, ANPU_NL_A_DEV_ISA_VERSION);
	dev->caps = anpu_nl_u32(tb, ANPU_NL_A_DEV_CAPS);
	dev->queues = anpu_nl_u32(tb, ANPU_NL_A_DEV_QUEUES);
	dev->mem_size = anpu_nl_u64(tb, ANPU_NL_A_DEV_MEM_SIZE);
	dev->mem_used = anpu_nl_u64(tb, ANPU_NL_A_DEV_MEM_USED);
	return 0;
}

struct anpu_nl_dev_list {
	struct anpu_nl_dev *devs;
	size_t max, count;
};

static int anpu_nl_add_dev(struct nlmsghdr *nlh, void *arg)
{
	struct anpu_nl_dev_list *list = arg;
	struct anpu_nl_dev dev;
	int ret = anpu_nl_parse_dev(nlh, &dev);

	if (ret)
		return ret;
	if (list->count < list->max)
		list->devs[list->count] = dev;
	list->count++;
	return 0;
}

int anpu_nl_devices(struct anpu_nl *nl, struct anpu_nl_dev *devs, size_t max, size_t *count)
{
	struct anpu_nl_dev_list list = { .devs = devs, .max = max };
	int ret = anpu_nl_request(nl, ANPU_NL_CMD_DEV_GET, 0, 0, anpu_nl_add_dev, &list);

	*count = list.count;
	return ret;
}

static int anpu_nl_one_dev(struct nlmsghdr *nlh, void *arg)
{
	return anpu_nl_parse_dev(nlh, arg);
}

int anpu_nl_device(struct anpu_nl *nl, uint32_t id, struct anpu_nl_dev *dev)
{
	return anpu_nl_request(nl, ANPU_NL_CMD_DEV_GET, ANPU_NL_A_DEV_ID, id,
			       anpu_nl_one_dev, dev);
}

static int anpu_nl_parse_queue(struct nlattr *nest, struct anpu_nl_queue_stats *q)
{
	static struct nla_policy policy[ANPU_NL_A_QSTATS_MAX + 1] = {
		[ANPU_NL_A_QSTATS_INDEX] = { .type = NLA_U32 },
		[ANPU_NL_A_QSTATS_JOBS_SUBMITTED] = { .type = NLA_U64 },
		[ANPU_NL_A_QSTATS_JOBS_COMPLETED] = { .type = NLA_U64 },
		[ANPU_NL_A_QSTATS_JOBS_FAILED] = { .type = NLA_U64 },
		[ANPU_NL_A_QSTATS_BUSY_NS] = { .type = NLA_U64 },
		[ANPU_NL_A_QSTATS_FAULTS] = { .type = NLA_U64 },
	};
	struct nlattr *tb[ANPU_NL_A_QSTATS_MAX + 1];
	int ret = nla_parse_nested(tb, ANPU_NL_A_QSTATS_MAX, nest, policy);

	if (ret < 0)
		return anpu_nl_errno(ret);
	q->index = anpu_nl_u32(tb, ANPU_NL_A_QSTATS_INDEX);
	q->jobs_submitted = anpu_nl_u64(tb, ANPU_NL_A_QSTATS_JOBS_SUBMITTED);
	q->jobs_completed = anpu_nl_u64(tb, ANPU_NL_A_QSTATS_JOBS_COMPLETED);
	q->jobs_failed = anpu_nl_u64(tb, ANPU_NL_A_QSTATS_JOBS_FAILED);
	q->busy_ns = anpu_nl_u64(tb, ANPU_NL_A_QSTATS_BUSY_NS);
	q->faults = anpu_nl_u64(tb, ANPU_NL_A_QSTATS_FAULTS);
	return 0;
}

static int anpu_nl_parse_stats(struct nlmsghdr *nlh, void *arg)
{
	static struct nla_policy policy[ANPU_NL_A_STATS_MAX + 1] = {
		[ANPU_NL_A_STATS_DEV_ID] = { .type = NLA_U32 },
		[ANPU_NL_A_STATS_JOBS_SUBMITTED] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_JOBS_COMPLETED] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_JOBS_FAILED] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_BUSY_NS] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_FAULTS] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_RESETS_QUEUE] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_RESETS_DEVICE] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_MEM_USED] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_EVENTS_DROPPED] = { .type = NLA_U64 },
		[ANPU_NL_A_STATS_QUEUE] = { .type = NLA_NESTED },
	};
	struct nlattr *tb[ANPU_NL_A_STATS_MAX + 1];
	struct anpu_nl_stats *st = arg;
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct nlattr *nla;
	int ret, rem;

	ret = genlmsg_parse(nlh, 0, tb, ANPU_NL_A_STATS_MAX, policy);
	if (ret < 0)
		return anpu_nl_errno(ret);
	memset(st, 0, sizeof(*st));
	st->dev_id = anpu_nl_u32(tb, ANPU_NL_A_STATS_DEV_ID);
	st->jobs_submitted = anpu_nl_u64(tb, ANPU_NL_A_STATS_JOBS_SUBMITTED);
	st->jobs_completed = anpu_nl_u64(tb, ANPU_NL_A_STATS_JOBS_COMPLETED);
	st->jobs_failed = anpu_nl_u64(tb, ANPU_NL_A_STATS_JOBS_FAILED);
	st->busy_ns = anpu_nl_u64(tb, ANPU_NL_A_STATS_BUSY_NS);
	st->faults = anpu_nl_u64(tb, ANPU_NL_A_STATS_FAULTS);
	st->resets_queue = anpu_nl_u64(tb, ANPU_NL_A_STATS_RESETS_QUEUE);
	st->resets_device = anpu_nl_u64(tb, ANPU_NL_A_STATS_RESETS_DEVICE);
	st->mem_used = anpu_nl_u64(tb, ANPU_NL_A_STATS_MEM_USED);
	st->events_dropped = anpu_nl_u64(tb, ANPU_NL_A_STATS_EVENTS_DROPPED);
	/* the queues are repeated attributes: walk them all */
	nla_for_each_attr(nla, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem) {
		if (nla_type(nla) != ANPU_NL_A_STATS_QUEUE || st->n_queues >= ANPU_NL_MAX_QUEUES)
			continue;
		ret = anpu_nl_parse_queue(nla, &st->queue[st->n_queues]);
		if (ret)
			return ret;
		st->n_queues++;
	}
	return 0;
}

int anpu_nl_stats(struct anpu_nl *nl, uint32_t id, struct anpu_nl_stats *st)
{
	return anpu_nl_request(nl, ANPU_NL_CMD_STATS_GET, ANPU_NL_A_STATS_DEV_ID, id,
			       anpu_nl_parse_stats, st);
}

/* ---- job events ---- */

static int anpu_nl_on_job(struct nl_msg *msg, void *arg)
{
	static struct nla_policy policy[ANPU_NL_A_JOB_MAX + 1] = {
		[ANPU_NL_A_JOB_DEV_ID] = { .type = NLA_U32 },
		[ANPU_NL_A_JOB_CLIENT_ID] = { .type = NLA_U64 },
		[ANPU_NL_A_JOB_PID] = { .type = NLA_U32 },
		[ANPU_NL_A_JOB_UID] = { .type = NLA_U32 },
		[ANPU_NL_A_JOB_CTX_ID] = { .type = NLA_U32 },
		[ANPU_NL_A_JOB_QUEUE] = { .type = NLA_U32 },
		[ANPU_NL_A_JOB_SEQNO] = { .type = NLA_U64 },
		[ANPU_NL_A_JOB_SUBMIT_NS] = { .type = NLA_U64 },
		[ANPU_NL_A_JOB_START_NS] = { .type = NLA_U64 },
		[ANPU_NL_A_JOB_END_NS] = { .type = NLA_U64 },
		[ANPU_NL_A_JOB_DONE_NS] = { .type = NLA_U64 },
		[ANPU_NL_A_JOB_RESULT] = { .type = NLA_U32 },
		[ANPU_NL_A_JOB_ERROR] = { .type = NLA_U32 },
	};
	struct nlattr *tb[ANPU_NL_A_JOB_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct anpu_nl *nl = arg;
	struct anpu_nl_job job;

	if (gh->cmd != ANPU_NL_CMD_JOB_DONE ||
	    genlmsg_parse(nlh, 0, tb, ANPU_NL_A_JOB_MAX, policy) < 0)
		return NL_SKIP;
	job = (struct anpu_nl_job){
		.dev_id = anpu_nl_u32(tb, ANPU_NL_A_JOB_DEV_ID),
		.pid = anpu_nl_u32(tb, ANPU_NL_A_JOB_PID),
		.uid = anpu_nl_u32(tb, ANPU_NL_A_JOB_UID),
		.ctx_id = anpu_nl_u32(tb, ANPU_NL_A_JOB_CTX_ID),
		.queue = anpu_nl_u32(tb, ANPU_NL_A_JOB_QUEUE),
		.result = anpu_nl_u32(tb, ANPU_NL_A_JOB_RESULT),
		.error = anpu_nl_u32(tb, ANPU_NL_A_JOB_ERROR),
		.client_id = anpu_nl_u64(tb, ANPU_NL_A_JOB_CLIENT_ID),
		.seqno = anpu_nl_u64(tb, ANPU_NL_A_JOB_SEQNO),
		.submit_ns = anpu_nl_u64(tb, ANPU_NL_A_JOB_SUBMIT_NS),
		.done_ns = anpu_nl_u64(tb, ANPU_NL_A_JOB_DONE_NS),
		.start_ns = anpu_nl_u64(tb, ANPU_NL_A_JOB_START_NS),
		.end_ns = anpu_nl_u64(tb, ANPU_NL_A_JOB_END_NS),
	};
	nl->job_fn(&job, nl->job_arg);
	nl->delivered++;
	return NL_OK;
}

int anpu_nl_jobs_subscribe(struct anpu_nl *nl, anpu_nl_job_fn fn, void *arg)
{
	struct nl_sock *sk;
	int err = 0, group, ret;

	if (nl->events)
		return -EBUSY;
	sk = anpu_nl_socket(&err);
	if (!sk)
		return err;
	group = genl_ctrl_resolve_grp(sk, ANPU_NL_FAMILY_NAME, ANPU_NL_MCGRP_JOBS);
	if (group < 0) {
		nl_socket_free(sk);
		return -ENOENT;
	}
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, anpu_nl_on_job, nl);
	ret = nl_socket_set_buffer_size(sk, ANPU_NL_EVENT_RCVBUF, 0);
	if (ret >= 0)
		ret = nl_socket_set_nonblocking(sk);
	if (ret >= 0)
		ret = nl_socket_add_membership(sk, group);
	if (ret < 0) {
		nl_socket_free(sk);
		return anpu_nl_errno(ret);
	}
	nl->events = sk;
	nl->job_fn = fn;
	nl->job_arg = arg;
	return 0;
}

int anpu_nl_jobs_poll(struct anpu_nl *nl, int timeout_ms)
{
	struct pollfd pfd = { .events = POLLIN };
	int ret;

	if (!nl->events)
		return -EINVAL;
	pfd.fd = nl_socket_get_fd(nl->events);
	nl->delivered = 0;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	/* the socket is non-blocking: read until it is empty */
	while (ret > 0) {
		ret = nl_recvmsgs_default(nl->events);
		if (ret == -NLE_AGAIN)
			break;
		if (ret < 0)
			return anpu_nl_errno(ret);
		ret = 1;
	}
	return nl->delivered;
}
