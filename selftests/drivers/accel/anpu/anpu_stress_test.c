// SPDX-License-Identifier: MIT
/*
 * Stress: 4 processes x 2 contexts x 1000 jobs (ANPU_STRESS_JOBS changes the
 * count) with random dependencies between the two contexts' timelines, while
 * one process chosen at random is SIGKILLed mid-flight. Each job signals the
 * next point of its context's timeline syncobj: a surviving process must see
 * its timelines at exactly the job count (nothing lost, nothing signalled
 * twice), every fence without error; the debugfs counters return to the
 * baseline once all files are closed (teardown); anpu-vp fails the run on any
 * kernel splat. The victim is killed once it has submitted a random 10-70 % of
 * its jobs (a shared progress counter), so the kill always lands mid-flight,
 * and it must have died of that SIGKILL.
 */
#include <sys/mman.h>
#include <time.h>

#include "anpu_test.h"

#define NPROC 4
#define WINDOW 48

static unsigned int jobs_per_ctx(void)
{
	const char *e = getenv("ANPU_STRESS_JOBS");
	int n = e ? atoi(e) : 1000;

	return n > 0 ? (unsigned int)n : 1000;
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)*s;
}

/* One worker process. Exit status 0, or the step that failed. */
static int worker(unsigned int id, unsigned int njobs, int ready_fd,
		  volatile unsigned int *progress)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * (id + 1) + (uint64_t)getpid();
	uint32_t ctx[2], tl[2];
	struct anpu_bo cmd[2];
	uint64_t done[2] = { 0, 0 };
	int fd = anpu_open();
	char c = 1;

	if (fd < 0)
		return 10;
	for (int k = 0; k < 2; k++) {
		if (anpu_ctx_create(fd, rnd(&seed) % 2, &ctx[k]))
			return 11;
		tl[k] = anpu_syncobj(fd);
		if (!tl[k] || anpu_nop_bo(fd, 1 + rnd(&seed) % 8, &cmd[k], NULL))
			return 12;
	}
	if (write(ready_fd, &c, 1) != 1)
		return 13;
	for (unsigned int i = 0; i < njobs; i++) {
		for (int k = 0; k < 2; k++) {
			struct drm_anpu_sync in[2], out = { .handle = tl[k], .flags = DRM_ANPU_SYNC_TIMELINE,
							    .point = done[k] + 1 };
			struct anpu_submit_args a = { .ctx_id = ctx[k], .cmd = &cmd[k], .in = in,
						      .out = &out, .n_out = 1 };
			uint32_t r = rnd(&seed);

			/* random dependencies: an earlier point of the other context, or our own */
			if (done[!k] && (r & 3) == 0)
				in[a.n_in++] = (struct drm_anpu_sync){ .handle = tl[!k],
					.flags = DRM_ANPU_SYNC_TIMELINE, .point = 1 + (r >> 8) % done[!k] };
			if (done[k] && (r & 12) == 0)
				in[a.n_in++] = (struct drm_anpu_sync){ .handle = tl[k],
					.flags = DRM_ANPU_SYNC_TIMELINE, .point = done[k] };
			if (anpu_submit(fd, &a, NULL))
				return 14;
			done[k]++;
			__atomic_store_n(progress, i + 1, __ATOMIC_RELAXED);
			if (done[k] > WINDOW &&
			    anpu_syncobj_wait(fd, tl[k], done[k] - WINDOW, ANPU_JOB_WAIT_MS))
				return 15;
		}
	}
	for (int k = 0; k < 2; k++) {
		uint64_t v = 0;

		if (anpu_syncobj_wait(fd, tl[k], done[k], 60000))
			return 16;
		if (drmSyncobjQuery(fd, &tl[k], &v, 1) || v != njobs)
			return 17;	/* lost or extra completions */
		if (anpu_syncobj_status(fd, tl[k], done[k]) != 1)
			return 18;	/* a fence carries an error */
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(anpu, four_processes_two_contexts_random_deps_and_a_kill, 900)
{
	unsigned int njobs = jobs_per_ctx();
	int pid[NPROC], ready[2], victim, st;
	uint64_t seed = (uint64_t)time(NULL) | 1;
	unsigned int *progress, kill_at;
	char c;

	progress = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, progress);
	victim = (int)(rnd(&seed) % NPROC);
	kill_at = njobs / 10 + rnd(&seed) % (njobs * 6 / 10 + 1);
	ASSERT_EQ(0, pipe(ready));
	for (int p = 0; p < NPROC; p++) {
		pid[p] = fork();
		ASSERT_LE(0, pid[p]);
		if (!pid[p]) {
			close(ready[0]);
			_exit(worker((unsigned int)p, njobs, ready[1], &progress[p]));
		}
	}
	close(ready[1]);
	for (int p = 0; p < NPROC; p++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	/* kill one worker mid-flight, after kill_at of its jobs per context */
	while (__atomic_load_n(&progress[victim], __ATOMIC_RELAXED) < kill_at &&
	       waitpid(pid[victim], &st, WNOHANG) == 0)
		usleep(1000);
	kill(pid[victim], SIGKILL);
	for (int p = 0; p < NPROC; p++) {
		if (p == victim) {
			ASSERT_EQ(pid[p], waitpid(pid[p], &st, 0));
			EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
				TH_LOG("victim %d was not killed mid-flight (status 0x%x)", p, st);
			continue;
		}
		st = anpu_wait_child(pid[p]);
		EXPECT_EQ(0, st) TH_LOG("worker %d failed at step %d (14 submit, 15/16 wait, "
					"17 lost/extra completion, 18 fence error)", p, st);
	}
	TH_LOG("victim: worker %d, killed after %u of %u jobs per context", victim,
	       progress[victim], njobs);
	munmap(progress, 4096);
}

TEST_HARNESS_MAIN
