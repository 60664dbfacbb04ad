// SPDX-License-Identifier: MIT
/*
 * Races of the job side of anpu.ko, for guests with two or more vCPUs (they
 * also pass on one, where most races cannot happen):
 * - several threads submitting on one fd, to one shared and to their own
 *   contexts (the job used to be touched after its push: a use-after-free
 *   oops in drm_gem_unlock_reservations on 2 vCPUs: each job lists 1024
 *   BOs, ANPU_RACE_BOS changes it, so the unlock after the push is long);
 * - SUBMIT racing CTX_DESTROY: every SUBMIT that succeeded must signal its
 *   out-fence (a job pushed to a killed entity never did), the others fail
 *   with -ENOENT, the object counters return to the baseline and the idle
 *   device autosuspends (no runtime-PM reference left);
 * - the fd closed and the process killed with jobs in flight;
 * - the command or profile BO also listed in bos, and profile == cmd (were
 *   -EALREADY), a timeline out-sync at point 0 and array strides above the
 *   cap (were accepted).
 * Kernel splats fail the run (anpu-vp checks the guest log).
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "anpu_test.h"

#define RACE_THREADS	4
#define RACE_JOBS	300	/* per thread */
#define RACE_BOS	1024	/* at most, listed per job: a long unlock after the push */
#define RACE_ROUNDS	40	/* CTX_DESTROY rounds */
#define RACE_SUBMITS	24	/* per thread and round, at most */
#define MAX_STRIDE	256	/* ANPU_MAX_STRIDE, docs/kernel-abi.md */

struct submitter {
	int fd;
	uint32_t ctx;
	const struct anpu_bo *cmd;
	const struct drm_anpu_bo_ref *bos;
	uint32_t n_bos;
	unsigned int jobs;
	/* results */
	int err;		/* first unexpected error, 0 if none */
	unsigned int ok;	/* SUBMITs that returned 0 */
	unsigned int gone;	/* SUBMITs that returned -ENOENT (context destroyed) */
	uint32_t sync[RACE_SUBMITS];	/* out-syncobj of each successful SUBMIT */
	const volatile int *start;
};

/* Submit NOP jobs with a binary out-syncobj each; waits every 16 jobs. */
static void *submit_loop(void *arg)
{
	struct submitter *s = arg;
	uint32_t sync = anpu_syncobj(s->fd);

	if (!sync) {
		s->err = -ENOMEM;
		return NULL;
	}
	for (unsigned int i = 0; i < s->jobs; i++) {
		struct drm_anpu_sync out = { .handle = sync };
		struct anpu_submit_args a = { .ctx_id = s->ctx, .cmd = s->cmd, .out = &out, .n_out = 1,
					      .bos = s->bos, .n_bos = s->n_bos };
		int r = anpu_submit(s->fd, &a, NULL);

		if (r) {
			s->err = r;
			break;
		}
		s->ok++;
		if (i % 16 == 15) {
			r = anpu_syncobj_wait(s->fd, sync, 0, ANPU_JOB_WAIT_MS);
			if (r || anpu_syncobj_status(s->fd, sync, 0) != 1) {
				s->err = r ? r : -EIO;
				break;
			}
		}
	}
	if (!s->err && s->ok && anpu_syncobj_wait(s->fd, sync, 0, ANPU_JOB_WAIT_MS))
		s->err = -ETIMEDOUT;
	drmSyncobjDestroy(s->fd, sync);
	return NULL;
}

/*
 * Back-to-back valid NOP jobs from four threads of one fd, two of them on a
 * shared context, each job listing ANPU_RACE_BOS (default RACE_BOS) BOs of its
 * thread.
 */
TEST_F_TIMEOUT(anpu, threads_submit_on_one_fd, 300)
{
	static struct drm_anpu_bo_ref refs[RACE_THREADS][RACE_BOS];
	const char *env = getenv("ANPU_RACE_BOS");
	int nbos = env ? atoi(env) : RACE_BOS;
	struct submitter s[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	uint32_t ctx[3];
	struct anpu_bo cmd;

	if (nbos < 0 || nbos > RACE_BOS)
		nbos = RACE_BOS;

	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &cmd, NULL));
	for (int i = 0; i < RACE_THREADS; i++)
		for (int j = 0; j < nbos; j++) {
			ASSERT_EQ(0, anpu_bo_create(self->fd, 4096, 0, &refs[i][j].handle, NULL));
			refs[i][j].flags = j & 1 ? DRM_ANPU_BO_REF_WRITE : 0;
		}
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL - (i & 1), &ctx[i]));
	for (int i = 0; i < RACE_THREADS; i++) {
		s[i] = (struct submitter){ .fd = self->fd, .ctx = ctx[i < 2 ? 0 : i - 1],
					   .cmd = &cmd, .bos = refs[i], .n_bos = nbos,
					   .jobs = RACE_JOBS };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, submit_loop, &s[i]));
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, s[i].err) TH_LOG("thread %d: %s after %u jobs", i,
					      strerror(-s[i].err), s[i].ok);
		EXPECT_EQ(RACE_JOBS, s[i].ok);
	}
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, anpu_ctx_destroy(self->fd, ctx[i]));
	for (int i = 0; i < RACE_THREADS; i++)
		for (int j = 0; j < nbos; j++)
			EXPECT_EQ(0, anpu_bo_close(self->fd, refs[i][j].handle));
	anpu_bo_free(self->fd, &cmd);
	EXPECT_COUNTERS(self, 0, 0, 0);
}

/* Submit until the context is gone; every successful SUBMIT gets its own syncobj. */
static void *submit_until_gone(void *arg)
{
	struct submitter *s = arg;

	while (!*s->start)
		sched_yield();
	for (unsigned int i = 0; i < RACE_SUBMITS; i++) {
		uint32_t sync = anpu_syncobj(s->fd);
		struct drm_anpu_sync out = { .handle = sync };
		struct anpu_submit_args a = { .ctx_id = s->ctx, .cmd = s->cmd, .out = &out, .n_out = 1 };
		int r;

		if (!sync) {
			s->err = -ENOMEM;
			break;
		}
		r = anpu_submit(s->fd, &a, NULL);
		if (r) {
			drmSyncobjDestroy(s->fd, sync);
			if (r == -ENOENT) {
				s->gone++;
				break;
			}
			s->err = r;
			break;
		}
		s->sync[s->ok++] = sync;
	}
	return NULL;
}

/*
 * CTX_DESTROY while threads submit to the context: SUBMIT either succeeds and
 * its out-fence signals (done, or cancelled with an error), or fails with
 * -ENOENT; no job is stranded, and the counters return to the baseline.
 */
TEST_F_TIMEOUT(anpu, submit_races_ctx_destroy, 600)
{
	unsigned int pushed = 0, refused = 0;
	struct anpu_bo cmd;

	ASSERT_EQ(0, anpu_nop_bo(self->fd, 4, &cmd, NULL));
	for (unsigned int round = 0; round < RACE_ROUNDS; round++) {
		struct submitter s[RACE_THREADS];
		pthread_t th[RACE_THREADS];
		volatile int start = 0;
		uint32_t ctx;

		ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &ctx));
		for (int i = 0; i < RACE_THREADS; i++) {
			s[i] = (struct submitter){ .fd = self->fd, .ctx = ctx, .cmd = &cmd,
						   .start = &start };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, submit_until_gone, &s[i]));
		}
		start = 1;
		/* land the destroy at a different point of the submit stream each round */
		usleep(200 * (round % 10));
		EXPECT_EQ(0, anpu_ctx_destroy(self->fd, ctx));
		for (int i = 0; i < RACE_THREADS; i++) {
			pthread_join(th[i], NULL);
			EXPECT_EQ(0, s[i].err) TH_LOG("round %u thread %d: %s", round, i,
						      strerror(-s[i].err));
			for (unsigned int j = 0; j < s[i].ok; j++) {
				int r = anpu_syncobj_wait(self->fd, s[i].sync[j], 0, ANPU_JOB_WAIT_MS);

				EXPECT_EQ(0, r) TH_LOG("round %u thread %d job %u: out-fence never signalled (%s)",
						       round, i, j, strerror(-r));
				drmSyncobjDestroy(self->fd, s[i].sync[j]);
			}
			pushed += s[i].ok;
			refused += s[i].gone;
		}
		if (_metadata->exit_code)
			break;
	}
	TH_LOG("%u SUBMITs succeeded and signalled, %u refused with -ENOENT", pushed, refused);
	anpu_bo_free(self->fd, &cmd);
	EXPECT_COUNTERS(self, 0, 0, 0);
	/* no job kept its runtime-PM reference: the idle device autosuspends */
	EXPECT_EQ(0, anpu_runtime_status_wait(self->fd, "suspended", 5000));
}

/* A child submitting from two threads on its own fd; killed or closing mid-flight. */
static int submit_child(bool close_fd, int ready_fd)
{
	struct submitter s[2];
	pthread_t th[2];
	struct anpu_bo cmd;
	uint32_t ctx[2];
	int fd = anpu_open();
	char c = 1;

	if (fd < 0 || anpu_nop_bo(fd, 64, &cmd, NULL))
		return 10;
	for (int i = 0; i < 2; i++) {
		if (anpu_ctx_create(fd, DRM_ANPU_PRIORITY_NORMAL - i, &ctx[i]))
			return 11;
		s[i] = (struct submitter){ .fd = fd, .ctx = ctx[i], .cmd = &cmd, .jobs = 1000 };
		if (pthread_create(&th[i], NULL, submit_loop, &s[i]))
			return 12;
	}
	if (write(ready_fd, &c, 1) != 1)
		return 13;
	if (!close_fd) {
		pause();	/* the parent kills us */
		return 14;
	}
	usleep(20000);
	/*
	 * close with jobs queued: the submitters' next ioctl fails with EBADF
	 * (the command BO's mapping stays until exit: they read its header)
	 */
	close(fd);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static void run_child(struct __test_metadata *_metadata, bool close_fd)
{
	int p[2], pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		_exit(submit_child(close_fd, p[1]));
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	if (close_fd) {
		EXPECT_EQ(0, anpu_wait_child(pid));
		return;
	}
	usleep(30000);
	kill(pid, SIGKILL);
	EXPECT_EQ(-1, anpu_wait_child(pid));
}

TEST_F_TIMEOUT(anpu, fd_closed_mid_flight, 300)
{
	for (int i = 0; i < 5; i++)
		run_child(_metadata, true);
	EXPECT_COUNTERS(self, 0, 0, 0);
}

TEST_F_TIMEOUT(anpu, process_killed_mid_flight, 300)
{
	for (int i = 0; i < 5; i++)
		run_child(_metadata, false);
	EXPECT_COUNTERS(self, 0, 0, 0);
	EXPECT_EQ(0, anpu_runtime_status_wait(self->fd, "suspended", 5000));
}

/* A raw SUBMIT of @cmd (stream at 0) with @bos, optionally profiling into @prof at @prof_off. */
static int submit_raw(int fd, uint32_t ctx, const struct anpu_bo *cmd,
		      const struct drm_anpu_bo_ref *bos, uint32_t n_bos,
		      const struct anpu_bo *prof, uint64_t prof_off, uint32_t out_sync)
{
	const struct anpu_stream_header *h = cmd->map;
	struct drm_anpu_sync out = { .handle = out_sync };
	struct drm_anpu_submit s = {
		.ctx_id = ctx,
		.cmd_handle = cmd->handle,
		.cmd_size = h->size,
	};

	if (n_bos)
		s.bos = (struct drm_anpu_obj_array){ sizeof(*bos), n_bos, (uintptr_t)bos };
	if (out_sync)
		s.out_syncs = (struct drm_anpu_obj_array){ sizeof(out), 1, (uintptr_t)&out };
	if (prof) {
		s.flags = DRM_ANPU_SUBMIT_PROFILE;
		s.profile_handle = prof->handle;
		s.profile_offset = prof_off;
		s.profile_size = 4096;
	}
	return anpu_ioctl(fd, DRM_IOCTL_ANPU_SUBMIT, &s);
}

/*
 * The command BO listed in bos, the profile BO listed in bos, and one BO as
 * both command and profile: accepted (the job holds each BO once), and the
 * job runs.
 */
TEST_F(anpu, cmd_and_profile_bo_also_listed)
{
	struct anpu_bo nop, both, prof;
	uint64_t caps = 0;
	uint32_t size, sync;

	ASSERT_EQ(0, anpu_get_param(self->fd, DRM_ANPU_PARAM_CAPS, &caps));
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 2, &nop, &size));
	ASSERT_NE(0, sync = anpu_syncobj(self->fd));
	{
		struct drm_anpu_bo_ref ref = { .handle = nop.handle };

		EXPECT_EQ(0, submit_raw(self->fd, self->ctx, &nop, &ref, 1, NULL, 0, sync));
		EXPECT_EQ(0, anpu_syncobj_wait(self->fd, sync, 0, ANPU_JOB_WAIT_MS));
		EXPECT_EQ(1, anpu_syncobj_status(self->fd, sync, 0));
	}
	if (caps & DRM_ANPU_CAP_PROFILING) {
		struct drm_anpu_bo_ref refs[2];

		/* a writable BO holding the stream at 0 and the profile at 4096 */
		ASSERT_EQ(0, anpu_bo_new(self->fd, 8192, 0, &both));
		memcpy(both.map, nop.map, size);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		EXPECT_EQ(0, submit_raw(self->fd, self->ctx, &both, NULL, 0, &both, 4096, sync));
		EXPECT_EQ(0, anpu_syncobj_wait(self->fd, sync, 0, ANPU_JOB_WAIT_MS));
		EXPECT_EQ(1, anpu_syncobj_status(self->fd, sync, 0));
		/* both listed too, the profile one read-only in the list */
		refs[0] = (struct drm_anpu_bo_ref){ .handle = both.handle };
		EXPECT_EQ(0, submit_raw(self->fd, self->ctx, &both, refs, 1, &both, 4096, sync));
		EXPECT_EQ(0, anpu_syncobj_wait(self->fd, sync, 0, ANPU_JOB_WAIT_MS));
		/* a separate profile BO listed, and the command BO listed */
		ASSERT_EQ(0, anpu_bo_new(self->fd, 4096, 0, &prof));
		refs[0] = (struct drm_anpu_bo_ref){ .handle = prof.handle };
		refs[1] = (struct drm_anpu_bo_ref){ .handle = nop.handle };
		EXPECT_EQ(0, submit_raw(self->fd, self->ctx, &nop, refs, 2, &prof, 0, sync));
		EXPECT_EQ(0, anpu_syncobj_wait(self->fd, sync, 0, ANPU_JOB_WAIT_MS));
		EXPECT_EQ(1, anpu_syncobj_status(self->fd, sync, 0));
		anpu_bo_free(self->fd, &prof);
		anpu_bo_free(self->fd, &both);
	}
	/* the user's own list still may not name a BO twice */
	{
		struct drm_anpu_bo_ref refs[2] = { { .handle = nop.handle }, { .handle = nop.handle } };

		EXPECT_EQ(-EINVAL, submit_raw(self->fd, self->ctx, &nop, refs, 2, NULL, 0, 0));
	}
	drmSyncobjDestroy(self->fd, sync);
	anpu_bo_free(self->fd, &nop);
	EXPECT_COUNTERS(self, 0, 0, 1);
}

/* A timeline out-sync at point 0 is no point to signal: -EINVAL (an in-sync may use it). */
TEST_F(anpu, timeline_out_sync_point_zero)
{
	struct drm_anpu_sync out = { .flags = DRM_ANPU_SYNC_TIMELINE, .point = 0 };
	struct anpu_submit_args a = { .out = &out, .n_out = 1 };
	struct anpu_bo cmd;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &cmd, NULL));
	ASSERT_NE(0, out.handle = anpu_syncobj(self->fd));
	a.ctx_id = self->ctx;
	a.cmd = &cmd;
	EXPECT_EQ(-EINVAL, anpu_submit(self->fd, &a, NULL));
	out.point = 1;
	EXPECT_EQ(0, anpu_submit(self->fd, &a, NULL));
	EXPECT_EQ(0, anpu_syncobj_wait(self->fd, out.handle, 1, ANPU_JOB_WAIT_MS));
	drmSyncobjDestroy(self->fd, out.handle);
	anpu_bo_free(self->fd, &cmd);
	EXPECT_COUNTERS(self, 0, 0, 1);
}

/*
 * Element strides up to the cap are read with copy_struct_from_user
 * semantics (zero tail); above it -EINVAL at once, even with a huge stride
 * that used to make one SUBMIT scan gigabytes.
 */
TEST_F(anpu, array_stride_cap)
{
	size_t len = 2 * 4096;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct drm_anpu_submit s = { 0 };
	struct anpu_bo cmd;
	uint64_t t0;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &cmd, NULL));
	s.ctx_id = self->ctx;
	s.cmd_handle = cmd.handle;
	s.cmd_size = ((const struct anpu_stream_header *)cmd.map)->size;
	((struct drm_anpu_bo_ref *)buf)->handle = cmd.handle;
	s.bos = (struct drm_anpu_obj_array){ MAX_STRIDE, 1, (uintptr_t)buf };
	EXPECT_EQ(0, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_SUBMIT, &s));
	s.bos.stride = MAX_STRIDE + 8;
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_SUBMIT, &s));
	t0 = anpu_now_ns();
	s.bos = (struct drm_anpu_obj_array){ 0xfffffff8u, 2, (uintptr_t)buf };
	EXPECT_EQ(-EINVAL, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_SUBMIT, &s));
	EXPECT_GT(100000000ull, anpu_now_ns() - t0);
	anpu_bo_free(self->fd, &cmd);
	munmap(buf, len);
	EXPECT_COUNTERS(self, 0, 0, 1);
}

/*
 * Job-interrupt moderation (hardware 1.1): with 16 jobs in flight, fewer job
 * interrupts than jobs, every job still retired (its fence signalled) and
 * the debugfs NOP self-test still sees its completion interrupt.
 */
TEST_F_TIMEOUT(anpu, job_interrupts_moderated_under_load, 300)
{
	const int njobs = 512, inflight = 16;
	uint32_t sync[16];
	long irq0, irq1, loops0, loops1;
	char dir[256], path[300];
	struct anpu_bo cmd;

	if (anpu_debugfs_counter("irq_moderation") != 1)
		SKIP(return, "job-interrupt moderation is off (hardware 1.0?)");
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &cmd, NULL));
	for (int i = 0; i < inflight; i++)
		ASSERT_NE(0, sync[i] = anpu_syncobj(self->fd));
	irq0 = anpu_debugfs_counter("irq_job");
	loops0 = anpu_debugfs_counter("irq_job_loops");
	ASSERT_LE(0, irq0);
	for (int i = 0; i < njobs; i++) {
		struct drm_anpu_sync out = { .handle = sync[i % inflight] };
		struct anpu_submit_args a = { .ctx_id = self->ctx, .cmd = &cmd, .out = &out, .n_out = 1 };

		if (i >= inflight)
			ASSERT_EQ(0, anpu_syncobj_wait(self->fd, out.handle, 0, ANPU_JOB_WAIT_MS));
		ASSERT_EQ(0, anpu_submit(self->fd, &a, NULL));
	}
	for (int i = 0; i < inflight; i++) {
		EXPECT_EQ(0, anpu_syncobj_wait(self->fd, sync[i], 0, ANPU_JOB_WAIT_MS));
		EXPECT_EQ(1, anpu_syncobj_status(self->fd, sync[i], 0));
		drmSyncobjDestroy(self->fd, sync[i]);
	}
	irq1 = anpu_debugfs_counter("irq_job");
	loops1 = anpu_debugfs_counter("irq_job_loops");
	TH_LOG("%d jobs: %ld job interrupts, %ld service-loop passes", njobs, irq1 - irq0,
	       loops1 - loops0);
	EXPECT_GT(njobs, irq1 - irq0);
	EXPECT_LT(0, irq1 - irq0);
	ASSERT_EQ(0, anpu_debugfs_dir(dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/selftest_nop", dir);
	EXPECT_EQ(0, anpu_write_file(path, "1"));
	anpu_bo_free(self->fd, &cmd);
	EXPECT_COUNTERS(self, 0, 0, 1);
}

TEST_HARNESS_MAIN
