/* SPDX-License-Identifier: MIT */
/*
 * ANPU DRM accel driver: telemetry over generic netlink (family "anpu").
 *
 * The spec of this family is docs/netlink/anpu.yaml (YNL format); this header
 * and the spec say the same thing. docs/kernel-abi.md has the prose.
 *
 * Requests (from any user of the initial network namespace; the family is not
 * available in other network namespaces):
 *   ANPU_NL_CMD_DEV_GET    do: ANPU_NL_A_DEV_ID -> one device;
 *                          dump: no attributes -> every device.
 *   ANPU_NL_CMD_STATS_GET  do: ANPU_NL_A_STATS_DEV_ID -> one device's statistics;
 *                          dump: no attributes -> every device's.
 * Every request is validated strictly: an attribute not listed for the
 * command, or one of the wrong size, fails with -EINVAL and an extended ACK
 * message naming it. An unknown device id fails with -ENODEV.
 *
 * Multicast group "jobs" (ANPU_NL_MCGRP_JOBS): one ANPU_NL_CMD_JOB_DONE
 * message per finished job of every device and every user. Joining it needs
 * CAP_SYS_ADMIN (in the initial user namespace): the events show other users'
 * activity. Unprivileged programs read their own processes' figures from
 * /proc/<pid>/fdinfo of their /dev/accel fds instead. Events are built only
 * while the group has a listener; one that cannot be built or delivered
 * without sleeping is dropped and counted (ANPU_NL_A_STATS_EVENTS_DROPPED).
 *
 * Clocks: ANPU_NL_A_JOB_SUBMIT_NS and ANPU_NL_A_JOB_DONE_NS are
 * CLOCK_MONOTONIC; ANPU_NL_A_JOB_START_NS and ANPU_NL_A_JOB_END_NS are the
 * device clock (map them to CLOCK_MONOTONIC with DRM_IOCTL_ANPU_CLOCK_SAMPLE;
 * both 0 when the job never ran).
 *
 * 64-bit values are NLA_U64 attributes aligned with the set's PAD attribute.
 * Append-only: command, group and attribute numbers never change; new
 * attributes may appear in replies and events (ignore the ones you do not
 * know).
 */
#ifndef _UAPI_ANPU_NETLINK_H_
#define _UAPI_ANPU_NETLINK_H_

#define ANPU_NL_FAMILY_NAME	"anpu"
#define ANPU_NL_FAMILY_VERSION	1
#define ANPU_NL_MCGRP_JOBS	"jobs"

enum anpu_nl_cmd {
	ANPU_NL_CMD_UNSPEC,
	ANPU_NL_CMD_DEV_GET,	/* reply attributes: ANPU_NL_A_DEV_* */
	ANPU_NL_CMD_STATS_GET,	/* reply attributes: ANPU_NL_A_STATS_* */
	ANPU_NL_CMD_JOB_DONE,	/* event (group "jobs"): ANPU_NL_A_JOB_* */

	__ANPU_NL_CMD_MAX,
	ANPU_NL_CMD_MAX = (__ANPU_NL_CMD_MAX - 1)
};

/* a device (ANPU_NL_CMD_DEV_GET) */
enum anpu_nl_a_dev {
	ANPU_NL_A_DEV_UNSPEC,
	ANPU_NL_A_DEV_PAD,
	ANPU_NL_A_DEV_ID,		/* u32: N of /dev/accel/accelN */
	ANPU_NL_A_DEV_BUS_ADDR,		/* string: PCI address, "0000:00:02.0" */
	ANPU_NL_A_DEV_HW_VERSION,	/* u32: the device's VERSION register */
	ANPU_NL_A_DEV_ISA_VERSION,	/* u32: the ISA version the device runs */
	ANPU_NL_A_DEV_CAPS,		/* u32: ANPU_CAP_* (as DRM_ANPU_PARAM_CAPS) */
	ANPU_NL_A_DEV_QUEUES,		/* u32: hardware queues (one per priority) */
	ANPU_NL_A_DEV_MEM_SIZE,		/* u64: bytes of device memory for BOs */
	ANPU_NL_A_DEV_MEM_USED,		/* u64: bytes of it allocated */

	__ANPU_NL_A_DEV_MAX,
	ANPU_NL_A_DEV_MAX = (__ANPU_NL_A_DEV_MAX - 1)
};

/*
 * A device's statistics (ANPU_NL_CMD_STATS_GET), counted since the device was
 * bound to the driver. The totals are the sums of the per-queue figures.
 */
enum anpu_nl_a_stats {
	ANPU_NL_A_STATS_UNSPEC,
	ANPU_NL_A_STATS_PAD,
	ANPU_NL_A_STATS_DEV_ID,		/* u32 */
	ANPU_NL_A_STATS_JOBS_SUBMITTED,	/* u64: jobs pushed to the scheduler */
	ANPU_NL_A_STATS_JOBS_COMPLETED,	/* u64: jobs that ended without error */
	ANPU_NL_A_STATS_JOBS_FAILED,	/* u64: jobs that ended with an error or were cancelled */
	ANPU_NL_A_STATS_BUSY_NS,	/* u64: device time of the ended jobs */
	ANPU_NL_A_STATS_FAULTS,		/* u64: jobs that faulted or hung */
	ANPU_NL_A_STATS_RESETS_QUEUE,	/* u64: queue resets by recovery */
	ANPU_NL_A_STATS_RESETS_DEVICE,	/* u64: device resets by recovery */
	ANPU_NL_A_STATS_MEM_USED,	/* u64: bytes of device memory allocated */
	ANPU_NL_A_STATS_EVENTS_DROPPED,	/* u64: job events lost (no memory, full receiver) */
	ANPU_NL_A_STATS_QUEUE,		/* nest, one per queue: ANPU_NL_A_QSTATS_* */

	__ANPU_NL_A_STATS_MAX,
	ANPU_NL_A_STATS_MAX = (__ANPU_NL_A_STATS_MAX - 1)
};

/* one hardware queue's statistics (nested in ANPU_NL_A_STATS_QUEUE) */
enum anpu_nl_a_qstats {
	ANPU_NL_A_QSTATS_UNSPEC,
	ANPU_NL_A_QSTATS_PAD,
	ANPU_NL_A_QSTATS_INDEX,		/* u32: queue = priority (0 low .. 3 realtime) */
	ANPU_NL_A_QSTATS_JOBS_SUBMITTED,	/* u64 */
	ANPU_NL_A_QSTATS_JOBS_COMPLETED,	/* u64 */
	ANPU_NL_A_QSTATS_JOBS_FAILED,	/* u64 */
	ANPU_NL_A_QSTATS_BUSY_NS,	/* u64 */
	ANPU_NL_A_QSTATS_FAULTS,	/* u64 */

	__ANPU_NL_A_QSTATS_MAX,
	ANPU_NL_A_QSTATS_MAX = (__ANPU_NL_A_QSTATS_MAX - 1)
};

/* a finished job (ANPU_NL_CMD_JOB_DONE, group "jobs") */
enum anpu_nl_a_job {
	ANPU_NL_A_JOB_UNSPEC,
	ANPU_NL_A_JOB_PAD,
	ANPU_NL_A_JOB_DEV_ID,		/* u32 */
	ANPU_NL_A_JOB_CLIENT_ID,	/* u64: the file's drm-client-id (fdinfo) */
	ANPU_NL_A_JOB_PID,		/* u32: submitting process (tgid, initial pid namespace) */
	ANPU_NL_A_JOB_UID,		/* u32: submitting user (initial user namespace) */
	ANPU_NL_A_JOB_CTX_ID,		/* u32: context id within the file */
	ANPU_NL_A_JOB_QUEUE,		/* u32: hardware queue (= the context's priority) */
	ANPU_NL_A_JOB_SEQNO,		/* u64: the job's seqno on its context (SUBMIT's reply) */
	ANPU_NL_A_JOB_SUBMIT_NS,	/* u64: CLOCK_MONOTONIC at SUBMIT */
	ANPU_NL_A_JOB_START_NS,		/* u64: device clock, the job began */
	ANPU_NL_A_JOB_END_NS,		/* u64: device clock, the job ended */
	ANPU_NL_A_JOB_DONE_NS,		/* u64: CLOCK_MONOTONIC, the driver saw it end */
	ANPU_NL_A_JOB_RESULT,		/* u32: ANPU_RESULT_* (anpu_isa.h) */
	ANPU_NL_A_JOB_ERROR,		/* u32: 0, or the errno of its fence (EIO, ETIMEDOUT, ECANCELED, ...) */

	__ANPU_NL_A_JOB_MAX,
	ANPU_NL_A_JOB_MAX = (__ANPU_NL_A_JOB_MAX - 1)
};

#endif /* _UAPI_ANPU_NETLINK_H_ */
