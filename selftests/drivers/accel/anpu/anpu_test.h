/* SPDX-License-Identifier: MIT */
/*
 * The fixture every ANPU selftest program uses: an open device file, the
 * debugfs object counters read before it was opened, and its fdinfo memory
 * right after. Teardown closes the file and requires the counters to return
 * to the baseline (jobs are freed asynchronously: it waits up to 5 s), unless
 * the test already failed (it may have left BOs mapped).
 *
 * Children forked inside a test must not use the ASSERT or EXPECT macros (the
 * harness would run the teardown in them): they _exit() with a status instead.
 */
#ifndef ANPU_SELFTEST_TEST_H
#define ANPU_SELFTEST_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "anpu_lib.h"

#define ANPU_JOB_WAIT_MS	20000
/* a user pointer no process has mapped (the bad-input tests expect -EFAULT) */
#define BADPTR			((uint64_t)0x10)

FIXTURE(anpu) {
	int fd;
	struct anpu_counters base;
	long long mem0;
	uint32_t ctx;
};

FIXTURE_SETUP(anpu)
{
	int r;

	self->fd = -1;
	self->ctx = 0;
	if (access("/dev/accel", F_OK))
		SKIP(return, "no /dev/accel: not running on the ANPU virtual platform (make check-selftests)");
	r = anpu_counters_read(&self->base);
	ASSERT_EQ(0, r) TH_LOG("debugfs counters unreadable: %s", strerror(-r));
	self->fd = anpu_open();
	ASSERT_LE(0, self->fd) TH_LOG("no ANPU accel node: %s", strerror(-self->fd));
	self->mem0 = anpu_fdinfo_total(self->fd);
}

FIXTURE_TEARDOWN(anpu)
{
	struct anpu_counters now;
	int r;

	if (self->fd < 0)
		return;
	close(self->fd);
	if (_metadata->exit_code)
		return;	/* a test that failed may still hold mappings (BO references) */
	r = anpu_counters_settle(&self->base, &now, 5000);
	EXPECT_EQ(0, r) TH_LOG("counters not back to baseline: bos %ld->%ld jobs %ld->%ld contexts %ld->%ld",
			       self->base.bos, now.bos, self->base.jobs, now.jobs,
			       self->base.contexts, now.contexts);
}

/* The file's fdinfo memory equals what it was after open. */
#define EXPECT_MEM_BASELINE(self) do { \
	long long __m = anpu_fdinfo_total((self)->fd); \
	ASSERT_LE(0, __m) TH_LOG("fdinfo has no drm-total-* memory keys"); \
	EXPECT_EQ((self)->mem0, __m) TH_LOG("fdinfo memory %lld, baseline %lld", __m, (self)->mem0); \
} while (0)

/* The debugfs counters (bos, jobs, contexts) are at the baseline plus deltas. */
#define EXPECT_COUNTERS(self, dbos, djobs, dctx) do { \
	struct anpu_counters __b = (self)->base, __n; \
	__b.bos += (dbos); __b.jobs += (djobs); __b.contexts += (dctx); \
	EXPECT_EQ(0, anpu_counters_settle(&__b, &__n, 5000)) \
		TH_LOG("counters bos %ld jobs %ld contexts %ld, want %ld %ld %ld", \
		       __n.bos, __n.jobs, __n.contexts, __b.bos, __b.jobs, __b.contexts); \
} while (0)

#endif /* ANPU_SELFTEST_TEST_H */
