/* SPDX-License-Identifier: MIT */
/*
 * End-of-run checks shared by the guest-side robustness programs (the ioctl
 * fuzzer and the fail-nth sweep): the device still runs a known job with the
 * right result, and the driver's debugfs object counters are back at their
 * idle values (nothing leaked).
 */
#ifndef ANPU_VMCHECK_H
#define ANPU_VMCHECK_H

#include <stddef.h>

/* The live-object counters of /sys/kernel/debug/accel/<dev>/counters. */
struct vmcheck_counters {
	long bos, jobs, contexts, address_spaces;
};

/* Read the counters now; 0 or -errno. */
int vmcheck_counters_read(struct vmcheck_counters *c);
/* Format @c as "bos N jobs N contexts N address_spaces N" into @buf. */
void vmcheck_counters_format(const struct vmcheck_counters *c, char *buf, size_t len);
/*
 * Wait up to @timeout_ms for the counters to equal @idle (freeing is partly
 * deferred: jobs end on the scheduler's thread, BOs when their last job
 * ends). 0, or -ETIMEDOUT with the last values described in @why.
 */
int vmcheck_idle(const struct vmcheck_counters *idle, int timeout_ms, char *why, size_t len);
/*
 * Run a known job on a fresh file and context: an ADD of two 1024-float
 * vectors and a 4x64 by 32x64 MATMUL, both compared with the CPU's result.
 * 0, or a negative errno with the reason in @why.
 */
int vmcheck_known_job(char *why, size_t len);

#endif /* ANPU_VMCHECK_H */
