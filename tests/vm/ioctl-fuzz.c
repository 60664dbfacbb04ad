// SPDX-License-Identifier: MIT
/*
 * anpu-ioctl-fuzz: a seeded, time-bounded fuzzer of anpu.ko's ioctls, run in
 * the guest (tests/vm/fuzz.sh; docs/virtual-platform.md).
 *
 *   anpu-ioctl-fuzz [--seed N] [--duration SECS] [--procs N] [--threads N]
 *                   [--kill-ms MS] [--avoid LIST] [--settle-ms MS]
 *
 * PROCS worker processes of THREADS threads each make random calls (every
 * ioctl of uapi/drm/anpu_accel.h and the GEM/PRIME/syncobj ones it uses, with
 * edge-case and random arguments, command streams in BOs, mmaps, partial
 * munmaps, dma-buf mmaps, files closed under other threads). Each process
 * ends after a random lifetime, and the supervisor SIGKILLs one every
 * KILL_MS on average (mid-flight); both are restarted. Process SLOT's
 * GENERATION-th incarnation and its threads draw from generators seeded by
 * (seed, slot, generation, thread), so a seed replays the same sequence of
 * calls per process (the kernel's answers still depend on timing).
 *
 * Errors of the calls are counted, never fatal. At the end, after every
 * worker exited: the device must run a known job correctly and the driver's
 * debugfs object counters must be back at their idle values (waited for up
 * to SETTLE_MS). Prints PASS:/FAIL: lines and "N passed, N failed, N
 * skipped"; exits 0, 1 on a failed check, 4 when there is no ANPU device.
 *
 * --avoid takes a comma list of known-bug paths to leave out (default none):
 * dmabuf-mmap, private-mmap, ctx-destroy, handle-guess, parallel-submit;
 * "known" is all of them.
 */
#include "tests/vm/ioctl-fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "selftests/drivers/accel/anpu/anpu_lib.h"
#include "tests/vm/vmcheck.h"

struct options {
	uint64_t seed;
	unsigned int duration_s, procs, threads, kill_ms, settle_ms, avoid;
};

struct worker {
	pid_t pid;
	unsigned int gen;
	bool killed;		/* by the supervisor */
};

struct tally {
	unsigned long started, exited, killed, crashed;
	bool unkillable;
};

static int parse_avoid(const char *s, unsigned int *avoid)
{
	static const struct { const char *name; unsigned int bit; } names[] = {
		{ "dmabuf-mmap", FZ_AVOID_DMABUF_MMAP }, { "ctx-destroy", FZ_AVOID_CTX_DESTROY },
		{ "handle-guess", FZ_AVOID_HANDLE_GUESS },
		{ "parallel-submit", FZ_AVOID_PARALLEL_SUBMIT },
		{ "private-mmap", FZ_AVOID_PRIVATE_MMAP }, { "known", ~0u },
	};
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (!strcmp(tok, names[k].name))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return -1;
		*avoid |= names[k].bit;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "kill-ms", required_argument, NULL, 'k' },
		{ "settle-ms", required_argument, NULL, 'S' },
		{ "avoid", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct options){ .seed = anpu_now_ns() ^ ((uint64_t)getpid() << 32),
			       .duration_s = 60, .procs = 2, .threads = 2,
			       .kill_ms = 3000, .settle_ms = 60000 };
	while ((c = getopt_long(argc, argv, "s:d:p:t:k:S:a:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'd': o->duration_s = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'p': o->procs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': o->threads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'k': o->kill_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'S': o->settle_ms = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'a':
			if (parse_avoid(optarg, &o->avoid)) {
				fprintf(stderr, "unknown --avoid item in %s\n", optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (!o->procs || o->procs > 64 || !o->threads || o->threads > 64)
		return -1;
	return 0;
}

/* ---- a worker process ---- */

static void *thread_main(void *arg)
{
	struct fz_thread *t = arg;

	while (!atomic_load(&t->p->sh->stop) && anpu_now_ns() < t->p->deadline_ns)
		fz_op(t);
	return NULL;
}

static __attribute__((noreturn)) void worker_main(const struct options *o, struct fz_shared *sh,
						  const char *node, unsigned int slot,
						  unsigned int gen)
{
	struct fz_rng r = { fz_derive(o->seed, slot, gen, 0) };
	struct fz_proc p = { .sh = sh, .avoid = o->avoid, .node = node };
	struct fz_thread *t = calloc(o->threads, sizeof(*t));
	pthread_t *tid = calloc(o->threads, sizeof(*tid));

	if (!t || !tid)
		_exit(3);
	p.deadline_ns = anpu_now_ns() + (2000 + fz_below(&r, 13000)) * 1000000ull;
	fz_guard_install();
	if (fz_pool_init(&p))
		_exit(3);
	for (unsigned int i = 0; i < o->threads; i++) {
		/* the scratch buffer has a PROT_NONE page after it: bad pointers
		 * that run off its end fault instead of reaching other memory */
		uint8_t *m = mmap(NULL, FZ_SCRATCH + 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED || mprotect(m + FZ_SCRATCH, 4096, PROT_NONE))
			_exit(3);
		t[i] = (struct fz_thread){ .p = &p, .scratch = m, .flow_fd = -1,
					   .rng = { fz_derive(o->seed, slot, gen, 1 + i) } };
		if (pthread_create(&tid[i], NULL, thread_main, &t[i]))
			_exit(3);
	}
	for (unsigned int i = 0; i < o->threads; i++)
		pthread_join(tid[i], NULL);
	/* half of the time the files are closed here, else by exit */
	if (fz_chance(&r, 50))
		for (int i = 0; i < FZ_FILES; i++)
			if (p.file[i].fd >= 0)
				close(p.file[i].fd);
	_exit(0);
}

/* ---- the supervisor ---- */

static void start(const struct options *o, struct fz_shared *sh, const char *node,
		  struct worker *w, unsigned int slot, struct tally *ty)
{
	pid_t pid = fork();

	if (pid == 0)
		worker_main(o, sh, node, slot, w->gen);
	w->pid = pid;
	w->killed = false;
	if (pid > 0)
		ty->started++;
}

/* Account for worker @w's end (@st from waitpid). */
static void ended(const struct options *o, struct worker *w, unsigned int slot, int st,
		  struct tally *ty)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		ty->exited++;
	} else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && w->killed) {
		ty->killed++;
	} else {
		ty->crashed++;
		printf("# worker slot %u generation %u (seed %#" PRIx64 ") ended: %s %d\n", slot,
		       w->gen, o->seed, WIFSIGNALED(st) ? "signal" : "exit status",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	w->pid = 0;
	w->gen++;
}

static void reap(const struct options *o, struct worker *w, struct tally *ty, bool block)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, block ? 0 : WNOHANG)) > 0) {
		for (unsigned int i = 0; i < o->procs; i++)
			if (w[i].pid == pid)
				ended(o, &w[i], i, st, ty);
		if (block)
			return;
	}
}

static unsigned int running(const struct options *o, const struct worker *w)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < o->procs; i++)
		n += w[i].pid > 0;
	return n;
}

/* Wait up to @ms for every worker to end. */
static void wait_all(const struct options *o, struct worker *w, struct tally *ty, unsigned int ms)
{
	uint64_t end = anpu_now_ns() + ms * 1000000ull;

	while (running(o, w) && anpu_now_ns() < end) {
		reap(o, w, ty, false);
		usleep(20000);
	}
}

static void supervise(const struct options *o, struct fz_shared *sh, const char *node,
		      struct worker *w, struct tally *ty)
{
	struct fz_rng r = { fz_derive(o->seed, UINT32_MAX, 0, 0) };
	uint64_t end = anpu_now_ns() + o->duration_s * 1000000000ull;
	uint64_t next_kill = anpu_now_ns() + (1 + fz_below(&r, 2 * o->kill_ms)) * 1000000ull;

	for (unsigned int i = 0; i < o->procs; i++)
		start(o, sh, node, &w[i], i, ty);
	while (anpu_now_ns() < end) {
		reap(o, w, ty, false);
		for (unsigned int i = 0; i < o->procs; i++)
			if (!w[i].pid)
				start(o, sh, node, &w[i], i, ty);
		if (o->kill_ms && anpu_now_ns() >= next_kill) {
			struct worker *v = &w[fz_below(&r, o->procs)];

			if (v->pid > 0 && !kill(v->pid, SIGKILL))
				v->killed = true;
			next_kill = anpu_now_ns() + (1 + fz_below(&r, 2 * o->kill_ms)) * 1000000ull;
		}
		usleep(20000);
	}
	atomic_store(&sh->stop, 1);
	wait_all(o, w, ty, 30000);
	for (unsigned int i = 0; i < o->procs; i++)
		if (w[i].pid > 0 && !kill(w[i].pid, SIGKILL))
			w[i].killed = true;	/* stuck in a wait: not a failure */
	wait_all(o, w, ty, 30000);
	ty->unkillable = running(o, w) > 0;
}

/* ---- the summary ---- */

static void print_counts(const struct fz_shared *sh)
{
	printf("# %-20s %10s %10s  errors (touch mapping: EFAULT = SIGBUS, EACCES = SIGSEGV)\n",
	       "call", "total", "ok");
	for (int c = 0; c < FZ_NCALLS; c++) {
		unsigned long total = 0, ok = atomic_load(&sh->count[c][0]);
		char errs[512] = "";
		size_t at = 0;

		for (int e = 0; e < FZ_NERRNO; e++)
			total += atomic_load(&sh->count[c][e]);
		for (int e = 1; e < FZ_NERRNO && at < sizeof(errs) - 40; e++) {
			unsigned long n = atomic_load(&sh->count[c][e]);
			const char *name = e == FZ_NERRNO - 1 ? "other" : strerrorname_np(e);

			if (n)
				at += (size_t)snprintf(errs + at, sizeof(errs) - at, "%s%s %lu",
						       at ? ", " : "", name ? name : "?", n);
		}
		printf("# %-20s %10lu %10lu  %s\n", fz_call_names[c], total, ok, errs);
	}
}

/* A line in the kernel log, so a report there can be placed in the run. */
static void kmsg(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, line, strlen(line)) < 0)
			perror("/dev/kmsg");
		close(fd);
	}
}

struct verdict {
	unsigned int pass, fail;
};

static void check(struct verdict *v, bool ok, const char *what, const char *why)
{
	if (ok) {
		printf("PASS: fuzz: %s\n", what);
		v->pass++;
	} else {
		printf("FAIL: fuzz: %s: %s\n", what, why);
		v->fail++;
	}
}

int main(int argc, char **argv)
{
	struct vmcheck_counters idle;
	struct verdict v = { 0 };
	struct tally ty = { 0 };
	struct options o;
	struct fz_shared *sh;
	struct worker *w;
	char node[64], why[512];
	uint64_t t0;
	int fd, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_options(argc, argv, &o)) {
		fprintf(stderr, "usage: %s [--seed N] [--duration SECS] [--procs N] [--threads N] "
			"[--kill-ms MS] [--settle-ms MS] [--avoid dmabuf-mmap,private-mmap,"
			"ctx-destroy,handle-guess,parallel-submit|known]\n", argv[0]);
		return 2;
	}
	fd = anpu_open();
	if (fd < 0) {
		printf("SKIP: fuzz: no ANPU accel device\n0 passed, 0 failed, 1 skipped\n");
		return 4;
	}
	snprintf(node, sizeof(node), "%s", anpu_node_path());
	close(fd);
	r = vmcheck_counters_read(&idle);
	if (r) {
		printf("SKIP: fuzz: no debugfs object counters (%s)\n0 passed, 0 failed, 1 skipped\n",
		       strerror(-r));
		return 4;
	}
	vmcheck_counters_format(&idle, why, sizeof(why));
	printf("# anpu-ioctl-fuzz: seed %#" PRIx64 ", %u s, %u processes x %u threads, "
	       "a kill every ~%u ms, avoid %#x; idle counters: %s\n", o.seed, o.duration_s,
	       o.procs, o.threads, o.kill_ms, o.avoid, why);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	w = calloc(o.procs, sizeof(*w));
	if (sh == MAP_FAILED || !w)
		return 3;
	snprintf(why, sizeof(why), "anpu-ioctl-fuzz: start, seed %#" PRIx64 "\n", o.seed);
	kmsg(why);
	t0 = anpu_now_ns();
	supervise(&o, sh, node, w, &ty);
	kmsg("anpu-ioctl-fuzz: workers done\n");
	printf("# %lu operations in %.1f s (%lu jobs seen done); worker processes: %lu started, "
	       "%lu exited, %lu killed, %lu crashed%s\n", atomic_load(&sh->iterations),
	       (double)(anpu_now_ns() - t0) / 1e9, atomic_load(&sh->jobs_done), ty.started,
	       ty.exited, ty.killed, ty.crashed, ty.unkillable ? ", some unkillable" : "");
	print_counts(sh);

	snprintf(why, sizeof(why), "%lu crashed, %s", ty.crashed,
		 ty.unkillable ? "some still alive 30 s after SIGKILL (stuck in the kernel)"
			       : "none stuck");
	check(&v, !ty.crashed && !ty.unkillable, "every worker process ended cleanly", why);
	snprintf(why, sizeof(why), "%lu reads of a page after a partial munmap showed another "
		 "page's data", atomic_load(&sh->map_mismatch));
	check(&v, !atomic_load(&sh->map_mismatch), "BO mappings keep their pages after a partial munmap",
	      why);
	if (!ty.unkillable) {
		r = vmcheck_idle(&idle, (int)o.settle_ms, why, sizeof(why));
		check(&v, !r, "object counters back to idle after the run", why);
		r = vmcheck_known_job(why, sizeof(why));
		check(&v, !r, "a known job (ADD, MATMUL) runs correctly after the run", why);
		r = vmcheck_idle(&idle, (int)o.settle_ms, why, sizeof(why));
		check(&v, !r, "object counters idle after the known job", why);
	}
	printf("# seed %#" PRIx64 " (replay: --seed %#" PRIx64 " --procs %u --threads %u)\n",
	       o.seed, o.seed, o.procs, o.threads);
	printf("%u passed, %u failed, 0 skipped\n", v.pass, v.fail);
	return v.fail ? 1 : 0;
}
