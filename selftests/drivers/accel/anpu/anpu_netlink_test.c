// SPDX-License-Identifier: MIT
/*
 * The driver's telemetry family (generic netlink "anpu", uapi/drm/
 * anpu_netlink.h): the device dump describes the device as GET_PARAM does,
 * malformed requests are refused with -EINVAL and an extended ACK, the
 * statistics count a job, the "jobs" group carries one event per job that
 * matches what the submitter saw (JOB_INFO), and only CAP_SYS_ADMIN may join
 * that group. Requests go through the tools' libnl-genl-3 client
 * (tools/common/anpu_nl.c); malformed ones are built by hand on a raw socket.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "anpu_test.h"
#include "tools/common/anpu_nl.h"
#include "uapi/drm/anpu_netlink.h"

#define EVENT_JOBS	16

static uint32_t node_id(void)
{
	unsigned int id = ~0u;

	sscanf(anpu_node_path(), "/dev/accel/accel%u", &id);
	return id;
}

/* ---- raw requests: the kernel's answer with its extended ACK ---- */

struct nl_answer {
	int error;		/* the NLMSG_ERROR's error (0: ack or reply) */
	char msg[128];		/* NLMSGERR_ATTR_MSG */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, or -1 */
	bool bad_attr;		/* NLMSGERR_ATTR_OFFS present */
};

static int family_id(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id = -ENOMEM;

	if (sk && !genl_connect(sk))
		id = genl_ctrl_resolve(sk, ANPU_NL_FAMILY_NAME);
	nl_socket_free(sk);
	return id;
}

static void parse_ack_tlvs(const struct nlmsghdr *nh, struct nl_answer *a)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	const char *p = (const char *)(e + 1);
	const char *end = (const char *)nh + nh->nlmsg_len;

	a->error = e->error;
	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *nla = (const void *)p;

		if (nla->nla_len < NLA_HDRLEN || p + nla->nla_len > end)
			break;
		if (nla->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(a->msg, sizeof(a->msg), "%.*s",
				 (int)(nla->nla_len - NLA_HDRLEN), p + NLA_HDRLEN);
		else if (nla->nla_type == NLMSGERR_ATTR_MISS_TYPE)
			memcpy(&a->miss_type, p + NLA_HDRLEN, 4);
		else if (nla->nla_type == NLMSGERR_ATTR_OFFS)
			a->bad_attr = true;
		p += NLA_ALIGN(nla->nla_len);
	}
}

/* Send @cmd with the raw attributes @attrs; 0 and *@a filled, or -errno. */
static int raw_request(uint8_t cmd, uint16_t flags, const void *attrs, size_t len,
		       struct nl_answer *a)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr gh;
		char attrs[64];
	} req = { 0 };
	char buf[8192];
	int one = 1, fd, family = family_id();
	ssize_t n;

	if (family < 0)
		return -ENOENT;
	if (len > sizeof(req.attrs))
		return -E2BIG;
	memset(a, 0, sizeof(*a));
	a->miss_type = -1;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN + len);
	req.nh.nlmsg_type = family;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	req.nh.nlmsg_seq = 1;
	req.gh.cmd = cmd;
	req.gh.version = ANPU_NL_FAMILY_VERSION;
	memcpy(req.attrs, attrs, len);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		close(fd);
		return -errno;
	}
	/* answers until the ACK, the error or the end of the dump */
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			close(fd);
			return -errno;
		}
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_ERROR) {
				parse_ack_tlvs(nh, a);
				close(fd);
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return 0;
			}
		}
	}
}

/* One attribute: @type with @len bytes of @value. Returns its aligned size. */
static size_t put_attr(void *buf, uint16_t type, const void *value, uint16_t len)
{
	struct nlattr *nla = buf;

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)buf + NLA_HDRLEN, value, len);
	return NLA_ALIGN(nla->nla_len);
}

/* ---- device description ---- */

TEST_F(anpu, device_dump_describes_the_device_as_get_param_does)
{
	struct anpu_nl_dev devs[8], one;
	uint64_t hw, isa, queues, mem;
	struct anpu_nl *nl;
	size_t n = 0, i;
	char bdf[32];

	ASSERT_EQ(0, anpu_nl_open(&nl));
	ASSERT_EQ(0, anpu_nl_devices(nl, devs, 8, &n));
	ASSERT_LE(1, n);
	for (i = 0; i < n && i < 8; i++)
		if (devs[i].id == node_id())
			break;
	ASSERT_LT(i, n) TH_LOG("%s not in the dump", anpu_node_path());
	ASSERT_EQ(0, anpu_bdf(self->fd, bdf, sizeof(bdf)));
	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_HW_VERSION, &hw));
	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_ISA_VERSION, &isa));
	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_NUM_QUEUES, &queues));
	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_DEVMEM_SIZE, &mem));
	EXPECT_STREQ(bdf, devs[i].bus_addr);
	EXPECT_EQ(hw, devs[i].hw_version);
	EXPECT_EQ(isa, devs[i].isa_version);
	EXPECT_EQ(queues, devs[i].queues);
	EXPECT_EQ(mem, devs[i].mem_size);
	EXPECT_LE(devs[i].mem_used, devs[i].mem_size);

	ASSERT_EQ(0, anpu_nl_device(nl, node_id(), &one));
	EXPECT_STREQ(bdf, one.bus_addr);
	EXPECT_EQ(-ENODEV, anpu_nl_device(nl, 4000, &one));
	anpu_nl_close(nl);
}

/* ---- strict validation ---- */

TEST_F(anpu, unknown_attribute_is_refused_with_extack)
{
	char attrs[16];
	uint32_t v = 0;
	struct nl_answer a;

	/* ANPU_NL_A_DEV_BUS_ADDR is a reply attribute, not a request one */
	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_DEV_GET, 0, attrs,
				 put_attr(attrs, ANPU_NL_A_DEV_BUS_ADDR, &v, 4), &a));
	EXPECT_EQ(-EINVAL, a.error);
	EXPECT_NE(0, a.msg[0]) TH_LOG("no extack message");
	/* and one past every attribute the family knows */
	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_STATS_GET, 0, attrs,
				 put_attr(attrs, 200, &v, 4), &a));
	EXPECT_EQ(-EINVAL, a.error);
	EXPECT_NE(0, a.msg[0]) TH_LOG("no extack message");
}

TEST_F(anpu, attribute_of_the_wrong_size_is_refused_with_extack)
{
	uint64_t id = node_id();
	char attrs[16];
	struct nl_answer a;

	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_DEV_GET, 0, attrs,
				 put_attr(attrs, ANPU_NL_A_DEV_ID, &id, 8), &a));
	EXPECT_EQ(-EINVAL, a.error);
	EXPECT_NE(0, a.msg[0]) TH_LOG("no extack message");
	EXPECT_TRUE(a.bad_attr);
	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_STATS_GET, 0, attrs,
				 put_attr(attrs, ANPU_NL_A_STATS_DEV_ID, "x", 2), &a));
	EXPECT_GT(0, a.error);
	EXPECT_NE(0, a.msg[0]) TH_LOG("no extack message");
}

TEST_F(anpu, request_without_device_id_names_the_missing_attribute)
{
	struct nl_answer a;

	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_STATS_GET, 0, NULL, 0, &a));
	EXPECT_EQ(-EINVAL, a.error);
	EXPECT_EQ(ANPU_NL_A_STATS_DEV_ID, a.miss_type);
}

TEST_F(anpu, dump_with_attributes_and_unknown_commands_are_refused)
{
	uint32_t id = node_id();
	char attrs[16];
	struct nl_answer a;

	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_DEV_GET, NLM_F_DUMP, attrs,
				 put_attr(attrs, ANPU_NL_A_DEV_ID, &id, 4), &a));
	EXPECT_EQ(-EINVAL, a.error);
	EXPECT_NE(0, a.msg[0]) TH_LOG("no extack message");
	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_STATS_GET, NLM_F_DUMP, attrs,
				 put_attr(attrs, ANPU_NL_A_STATS_PAD, &id, 4), &a));
	EXPECT_EQ(-EINVAL, a.error);
	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_JOB_DONE, 0, NULL, 0, &a));
	EXPECT_EQ(-EOPNOTSUPP, a.error);
	ASSERT_EQ(0, raw_request(99, 0, NULL, 0, &a));
	EXPECT_EQ(-EOPNOTSUPP, a.error);
	/* a well-formed dump succeeds on the same path */
	ASSERT_EQ(0, raw_request(ANPU_NL_CMD_DEV_GET, NLM_F_DUMP, NULL, 0, &a));
	EXPECT_EQ(0, a.error);
}

/* ---- statistics ---- */

static const struct anpu_nl_queue_stats *queue_stats(const struct anpu_nl_stats *st,
						     uint32_t q)
{
	for (unsigned int i = 0; i < st->n_queues; i++)
		if (st->queue[i].index == q)
			return &st->queue[i];
	return NULL;
}

TEST_F_TIMEOUT(anpu, statistics_count_a_job_on_its_queue, 120)
{
	const struct anpu_nl_queue_stats *q0, *q1;
	struct anpu_nl_stats before, after;
	struct anpu_heavy h;
	struct anpu_nl *nl;
	uint64_t seq;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_HIGH, &self->ctx));
	ASSERT_EQ(0, anpu_heavy_new(self->fd, 1, &h));
	ASSERT_EQ(0, anpu_nl_open(&nl));
	ASSERT_EQ(0, anpu_nl_stats(nl, node_id(), &before));
	ASSERT_EQ(0, anpu_run(self->fd, self->ctx, &h.cmd, h.refs, 3, &seq, ANPU_JOB_WAIT_MS));
	ASSERT_EQ(0, anpu_nl_stats(nl, node_id(), &after));
	EXPECT_EQ(4, after.n_queues);
	q0 = queue_stats(&before, DRM_ANPU_PRIORITY_HIGH);
	q1 = queue_stats(&after, DRM_ANPU_PRIORITY_HIGH);
	ASSERT_NE(NULL, q0);
	ASSERT_NE(NULL, q1);
	EXPECT_EQ(q0->jobs_submitted + 1, q1->jobs_submitted);
	EXPECT_EQ(q0->jobs_completed + 1, q1->jobs_completed);
	EXPECT_EQ(q0->jobs_failed, q1->jobs_failed);
	EXPECT_LT(q0->busy_ns, q1->busy_ns);
	EXPECT_EQ(before.jobs_submitted + 1, after.jobs_submitted);
	EXPECT_EQ(before.jobs_completed + 1, after.jobs_completed);
	EXPECT_EQ(q1->busy_ns - q0->busy_ns, after.busy_ns - before.busy_ns);
	EXPECT_LT(0, after.mem_used);
	anpu_nl_close(nl);
	anpu_heavy_free(self->fd, &h);
}

/* ---- job events ---- */

struct seen {
	struct anpu_nl_job job[EVENT_JOBS + 8];
	int n;
	pid_t pid;
};

static void collect(const struct anpu_nl_job *job, void *arg)
{
	struct seen *s = arg;

	if ((pid_t)job->pid == s->pid && s->n < EVENT_JOBS + 8)
		s->job[s->n++] = *job;
}

TEST_F_TIMEOUT(anpu, every_job_has_one_event_matching_job_info, 120)
{
	struct drm_anpu_job_info ji[EVENT_JOBS + 1];
	uint64_t seq[EVENT_JOBS + 1];
	struct seen *seen = calloc(1, sizeof(*seen));
	struct anpu_nl_stats st0, st1;
	struct drm_anpu_bo_ref ref;
	struct simdev_stream s;
	struct anpu_bo nop, bad, dst;
	uint32_t nop_size, bad_ctx;
	struct anpu_nl *nl;
	int i, r;

	ASSERT_NE(NULL, seen);
	seen->pid = getpid();
	ASSERT_EQ(0, anpu_nl_open(&nl));
	ASSERT_EQ(0, anpu_nl_stats(nl, node_id(), &st0));
	ASSERT_EQ(0, anpu_nl_jobs_subscribe(nl, collect, seen));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 8, &nop, &nop_size));
	for (i = 0; i < EVENT_JOBS - 1; i++)
		ASSERT_EQ(0, anpu_run(self->fd, self->ctx, &nop, NULL, 0, &seq[i],
				      ANPU_JOB_WAIT_MS));
	/* the last one faults: a copy from an address nothing is mapped at */
	ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &dst));
	ref = (struct drm_anpu_bo_ref){ .handle = dst.handle, .flags = DRM_ANPU_BO_REF_WRITE };
	simdev_stream_init(&s);
	anpu_stream_copy(&s, 1ull << 40, dst.addr, 16);
	ASSERT_TRUE(simdev_stream_finish(&s, 0, 0));
	ASSERT_EQ(0, anpu_stream_bo(self->fd, &s, &bad));
	simdev_stream_free(&s);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &bad_ctx));
	r = anpu_run(self->fd, bad_ctx, &bad, &ref, 1, &seq[i], ANPU_JOB_WAIT_MS);
	EXPECT_EQ(-EIO, r);
	for (i = 0; i < EVENT_JOBS; i++)
		ASSERT_EQ(0, anpu_job_info(self->fd, i < EVENT_JOBS - 1 ? self->ctx : bad_ctx,
					   seq[i], &ji[i]));

	for (int waited = 0; seen->n < EVENT_JOBS && waited < 5000; waited += 100)
		ASSERT_LE(0, anpu_nl_jobs_poll(nl, 100));
	ASSERT_EQ(EVENT_JOBS, seen->n);
	for (i = 0; i < EVENT_JOBS; i++) {
		const struct anpu_nl_job *e = &seen->job[i];

		EXPECT_EQ(node_id(), e->dev_id);
		EXPECT_EQ(i < EVENT_JOBS - 1 ? self->ctx : bad_ctx, e->ctx_id);
		EXPECT_EQ(DRM_ANPU_PRIORITY_NORMAL, e->queue);
		EXPECT_EQ(seq[i], e->seqno) TH_LOG("event %d out of order", i);
		EXPECT_EQ(getuid(), e->uid);
		EXPECT_EQ(ji[i].result, e->result);
		EXPECT_EQ(ji[i].error, e->error);
		EXPECT_EQ(ji[i].start_ns, e->start_ns);
		EXPECT_EQ(ji[i].end_ns, e->end_ns);
		EXPECT_LE(e->submit_ns, e->done_ns);
		if (i)
			EXPECT_EQ(seen->job[0].client_id, e->client_id);
	}
	EXPECT_EQ(ANPU_RESULT_OK, seen->job[0].result);
	EXPECT_EQ(0, seen->job[0].error);
	EXPECT_EQ(ANPU_RESULT_FAULT, seen->job[EVENT_JOBS - 1].result);
	EXPECT_EQ(EIO, seen->job[EVENT_JOBS - 1].error);
	ASSERT_EQ(0, anpu_nl_stats(nl, node_id(), &st1));
	EXPECT_EQ(st0.events_dropped, st1.events_dropped);
	EXPECT_EQ(st0.faults + 1, st1.faults);

	anpu_ctx_destroy(self->fd, bad_ctx);
	anpu_bo_free(self->fd, &bad);
	anpu_bo_free(self->fd, &dst);
	anpu_bo_free(self->fd, &nop);
	anpu_nl_close(nl);
	free(seen);
}

/* ---- who may listen ---- */

static void ignore_job(const struct anpu_nl_job *job, void *arg)
{
	(void)job;
	(void)arg;
}

/*
 * In a child: become @how ("nobody": uid 65534; "nocap": uid 0 without
 * CAP_SYS_ADMIN), then try to join "jobs" and read the device list.
 * Exit status: 0 joining was refused with EPERM and the dump worked.
 */
static int listener_child(const char *how)
{
	struct anpu_nl_dev devs[8];
	struct anpu_nl *nl;
	size_t n;
	int r;

	if (!strcmp(how, "nobody")) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return 10;
	} else {
		struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct data[2];

		if (syscall(SYS_capget, &hdr, data))
			return 11;
		data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
		data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
		if (syscall(SYS_capset, &hdr, data))
			return 12;
	}
	if (anpu_nl_open(&nl))
		return 13;
	r = anpu_nl_jobs_subscribe(nl, ignore_job, NULL);
	if (r != -EPERM)
		return r ? 14 : 15;
	if (anpu_nl_devices(nl, devs, 8, &n) || !n)
		return 16;
	anpu_nl_close(nl);
	return 0;
}

TEST_F(anpu, only_cap_sys_admin_may_join_the_jobs_group)
{
	const char *how[] = { "nobody", "nocap" };

	if (geteuid())
		SKIP(return, "needs root to drop privileges from");
	for (int i = 0; i < 2; i++) {
		int pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			_exit(listener_child(how[i]));
		EXPECT_EQ(0, anpu_wait_child(pid)) TH_LOG("listener as %s", how[i]);
	}
}

TEST_HARNESS_MAIN
