/* SPDX-License-Identifier: MIT */
/*
 * Client of the ANPU driver's telemetry family (generic netlink "anpu",
 * uapi/drm/anpu_netlink.h) over libnl-genl-3, for the tools (anpu-info,
 * anpu-top, anpu-trace) and the selftests.
 *
 * Every function returns 0 or a negative errno: -ENOENT when the family is
 * not registered (anpu.ko not loaded), -ENODEV for an unknown device id,
 * -EPERM when joining the "jobs" group is not allowed (it needs
 * CAP_SYS_ADMIN), the kernel's error for a refused request otherwise.
 * Nothing is printed. A handle is used by one thread at a time.
 */
#ifndef ANPU_TOOLS_NL_H
#define ANPU_TOOLS_NL_H

#include <stddef.h>
#include <stdint.h>

#define ANPU_NL_MAX_QUEUES 8

struct anpu_nl;

/* one device (ANPU_NL_CMD_DEV_GET) */
struct anpu_nl_dev {
	uint32_t id;		/* N of /dev/accel/accelN */
	char bus_addr[32];	/* PCI address */
	uint32_t hw_version;
	uint32_t isa_version;
	uint32_t caps;
	uint32_t queues;
	uint64_t mem_size;
	uint64_t mem_used;
};

struct anpu_nl_queue_stats {
	uint32_t index;
	uint64_t jobs_submitted, jobs_completed, jobs_failed, busy_ns, faults;
};

/* one device's statistics (ANPU_NL_CMD_STATS_GET) */
struct anpu_nl_stats {
	uint32_t dev_id;
	uint64_t jobs_submitted, jobs_completed, jobs_failed, busy_ns, faults;
	uint64_t resets_queue, resets_device, mem_used, events_dropped;
	unsigned int n_queues;
	struct anpu_nl_queue_stats queue[ANPU_NL_MAX_QUEUES];
};

/* one finished job (ANPU_NL_CMD_JOB_DONE event) */
struct anpu_nl_job {
	uint32_t dev_id, pid, uid, ctx_id, queue, result, error;
	uint64_t client_id, seqno;
	uint64_t submit_ns, done_ns;	/* CLOCK_MONOTONIC */
	uint64_t start_ns, end_ns;	/* device clock */
};

int anpu_nl_open(struct anpu_nl **out);
void anpu_nl_close(struct anpu_nl *nl);

/* Every device, up to @max in @devs; *@count gets how many there are. */
int anpu_nl_devices(struct anpu_nl *nl, struct anpu_nl_dev *devs, size_t max, size_t *count);
int anpu_nl_device(struct anpu_nl *nl, uint32_t id, struct anpu_nl_dev *dev);
int anpu_nl_stats(struct anpu_nl *nl, uint32_t id, struct anpu_nl_stats *st);

/*
 * Join the "jobs" group on a socket of its own: from then on
 * anpu_nl_jobs_poll() hands every job event to @fn.
 */
typedef void (*anpu_nl_job_fn)(const struct anpu_nl_job *job, void *arg);
int anpu_nl_jobs_subscribe(struct anpu_nl *nl, anpu_nl_job_fn fn, void *arg);
/*
 * Wait up to @timeout_ms (0: do not wait) for events and deliver those
 * received. Return: number of events delivered, or -errno (-ENOBUFS: the
 * socket overran and events were lost).
 */
int anpu_nl_jobs_poll(struct anpu_nl *nl, int timeout_ms);

#endif /* ANPU_TOOLS_NL_H */
