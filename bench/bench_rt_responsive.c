// SPDX-License-Identifier: MIT
/*
 * A responsive phone: a foreground (HIGH priority) session's time to first
 * token for a 64-token prompt on an idle NPU and while a background (LOW
 * priority) session prefills 2000-token prompts back to back. The NPU runs a
 * job to its end, so the foreground waits for at most the background's job in
 * flight: LOW sessions prefill in short chunks (anpurt_session_params'
 * prefill_chunk) and the device serves the HIGH queue first.
 *
 *   model FILE LABEL --responsive   (bench_responsive_sessions) both sessions in
 *       this process, the background on a thread of its own, one engine:
 *       runtime.ttft.LABEL.foreground_under_load_ratio
 *   responsive FILE LABEL --device DEV   (bench_responsive_processes) the phone's
 *       case through anpu.ko: the background is another process (this program's
 *       `background` subcommand, its own engine and file descriptor), so the two
 *       apps meet only in the kernel's scheduler and the device's queues:
 *       runtime.ttft.foreground_under_load_ratio
 *
 * Each figure is loaded / idle of the medians of RESPONSIVE_RUNS times to first
 * token, idle and loaded runs interleaved: for an idle run the background is
 * held (the thread parks between its chunks; the process gets SIGSTOP and its
 * job in flight ends), and the loaded runs start at spaced instants after it
 * resumed (37, 74, ... ms) so that they land at different points of its jobs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anpurt.h"
#include "bench/bench_runtime.h"

#define N_BACKGROUND	(BENCH_RESPONSIVE_CTX - 8)	/* the background's prompt */
#define N_FOREGROUND	64
#define RESPONSIVE_RUNS	5
#define BG_PIECE	16	/* a LOW session's prefill chunk (docs/runtime.md) */
/* longer than a LOW job: after it a stopped background process has none left on the NPU */
#define BG_SETTLE_US	600000

extern char **environ;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ms until the first token of a 64-token prompt in @s, from position 0 */
static int ttft_once(struct anpurt_session *s, const int32_t *ids, double *ms)
{
	int32_t next;
	double t0;

	if (anpurt_session_truncate(s, 0))
		return bench_fail("foreground truncate");
	t0 = now_ms();
	if (anpurt_session_prefill(s, ids, N_FOREGROUND, &next))
		return bench_fail("foreground prefill");
	*ms = now_ms() - t0;
	return 0;
}

/* How the figure holds the background app still and lets it go again. */
struct background_ops {
	int (*pause)(void *arg);	/* returns once the NPU has no job of it left */
	void (*resume)(void *arg);
	void *arg;
};

/*
 * RESPONSIVE_RUNS rounds, each one time to first token with the background
 * held (idle) and one while it runs (loaded), interleaved so that both medians
 * see the same machine; the loaded runs start at spaced instants (37, 74, ...
 * ms after the background resumed) to land at different points of its jobs.
 */
static int ttft_idle_loaded(struct anpurt_session *fg, const int32_t *ids,
			    const struct background_ops *bg, double *idle, double *loaded)
{
	double t_idle[RESPONSIVE_RUNS], t_loaded[RESPONSIVE_RUNS], warm;
	int rc = ttft_once(fg, ids, &warm);	/* records the foreground's command buffer */

	for (int r = 0; !rc && r < RESPONSIVE_RUNS; r++) {
		rc = bg->pause(bg->arg);
		if (!rc)
			rc = ttft_once(fg, ids, &t_idle[r]);
		bg->resume(bg->arg);
		if (!rc) {
			usleep(37000 * (unsigned int)(r + 1));
			rc = ttft_once(fg, ids, &t_loaded[r]);
		}
	}
	if (rc)
		return rc;
	qsort(t_idle, RESPONSIVE_RUNS, sizeof(t_idle[0]), cmp_double);
	qsort(t_loaded, RESPONSIVE_RUNS, sizeof(t_loaded[0]), cmp_double);
	*idle = t_idle[RESPONSIVE_RUNS / 2];
	*loaded = t_loaded[RESPONSIVE_RUNS / 2];
	return 0;
}

/* A session of @engine at @prio sized for the background's prompt. */
static int session_at(struct anpurt_engine *engine, enum anpurt_priority prio,
		      struct anpurt_session **s)
{
	struct anpurt_session_params sp = anpurt_session_default_params();

	sp.n_ctx = BENCH_RESPONSIVE_CTX;
	sp.priority = prio;
	return anpurt_session_create(engine, &sp, s) ?
	       bench_fail(prio == ANPURT_PRIORITY_HIGH ? "foreground session" : "background session") : 0;
}

/* The background's prompt ids (N_BACKGROUND of them); NULL after a message. */
static int32_t *background_ids(const struct anpurt_model *model)
{
	int32_t *ids = malloc(N_BACKGROUND * sizeof(*ids));

	if (!ids) {
		fprintf(stderr, "anpu-bench-runtime: out of memory\n");
		return NULL;
	}
	if (bench_prompt_ids(model, ids, N_BACKGROUND)) {
		free(ids);
		return NULL;
	}
	return ids;
}

static void emit_ratio(const char *name, const char *label, const char *how, double idle,
		       double loaded)
{
	printf("{\"name\":\"%s\",\"value\":%.4f,\"unit\":\"ratio\",\"model\":\"%s\",%s"
	       "\"idle_ms\":%.2f,\"loaded_ms\":%.2f,\"prompt\":%d,\"background_prompt\":%d,"
	       "\"runs\":%d,\"goal\":1.5}\n", name, loaded / idle, label, how, idle, loaded,
	       N_FOREGROUND, N_BACKGROUND, RESPONSIVE_RUNS);
}

/* ---- two sessions of one process ---- */

struct background {
	struct anpurt_session *s;
	const int32_t *ids;
	atomic_int stop, started, pause, parked;
	int rc;
};

/*
 * The LOW-priority session: 2000-token prompts back to back until told to
 * stop, fed in pieces of one prefill chunk so that it can be held between
 * them (the NPU sees the same jobs as for one 2000-token call).
 */
static void *background_prefill(void *arg)
{
	struct background *bg = arg;
	while (!atomic_load(&bg->stop) && !bg->rc) {
		if (anpurt_session_truncate(bg->s, 0)) {
			bg->rc = bench_fail("background truncate");
			break;
		}
		for (uint32_t done = 0; done < N_BACKGROUND && !atomic_load(&bg->stop);) {
			uint32_t n = N_BACKGROUND - done < BG_PIECE ? N_BACKGROUND - done : BG_PIECE;

			if (atomic_load(&bg->pause)) {
				atomic_store(&bg->parked, 1);
				while (atomic_load(&bg->pause) && !atomic_load(&bg->stop))
					usleep(1000);
				atomic_store(&bg->parked, 0);
				continue;
			}
			if (anpurt_session_prefill(bg->s, bg->ids + done, n, NULL)) {
				bg->rc = bench_fail("background prefill");
				break;
			}
			done += n;
		}
		atomic_store(&bg->started, 1);
	}
	atomic_store(&bg->parked, 1);
	atomic_store(&bg->started, 1);
	return NULL;
}

static int thread_pause(void *arg)
{
	struct background *bg = arg;

	atomic_store(&bg->pause, 1);
	while (!atomic_load(&bg->parked))
		usleep(1000);
	return bg->rc;
}

static void thread_resume(void *arg)
{
	atomic_store(&((struct background *)arg)->pause, 0);
}

int bench_responsive_sessions(struct anpurt_engine *engine, const struct anpurt_model *model,
			      const char *label)
{
	struct background bg = { 0 };
	struct anpurt_session *fg = NULL;
	int32_t *ids = background_ids(model);
	double idle = 0, loaded = 0;
	char name[160];
	pthread_t th;
	int rc = ids ? 0 : 1;

	if (!rc)
		rc = session_at(engine, ANPURT_PRIORITY_HIGH, &fg);
	if (!rc)
		rc = session_at(engine, ANPURT_PRIORITY_LOW, &bg.s);
	if (!rc) {
		struct background_ops ops = { thread_pause, thread_resume, &bg };

		bg.ids = ids;
		if (pthread_create(&th, NULL, background_prefill, &bg)) {
			rc = bench_fail("background thread");
		} else {
			while (!atomic_load(&bg.started))	/* one whole prefill first */
				usleep(10000);
			rc = bg.rc ? bg.rc : ttft_idle_loaded(fg, ids, &ops, &idle, &loaded);
			atomic_store(&bg.stop, 1);
			pthread_join(th, NULL);
			rc = rc ? rc : bg.rc;
		}
	}
	anpurt_session_free(bg.s);
	anpurt_session_free(fg);
	free(ids);
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "runtime.ttft.%s.foreground_under_load_ratio", label);
	emit_ratio(name, label, "\"sessions\":2,", idle, loaded);
	return 0;
}

/* ---- two processes through a kernel device ---- */

struct loaded_engine {
	struct anpurt_model *model;
	struct anpurt_engine *engine;
};

static int load_engine(const char *path, const char *device, struct loaded_engine *le)
{
	struct anpurt_engine_params ep = anpurt_engine_default_params();

	ep.device = device;
	ep.n_sessions = 1;
	ep.n_ctx = BENCH_RESPONSIVE_CTX;
	if (anpurt_model_open(path, NULL, &le->model))
		return bench_fail(path);
	if (anpurt_engine_load(le->model, &ep, &le->engine)) {
		anpurt_model_free(le->model);
		return bench_fail("engine load");
	}
	return 0;
}

static void unload_engine(struct loaded_engine *le)
{
	anpurt_engine_free(le->engine);
	anpurt_model_free(le->model);
}

/*
 * `background FILE --device DEV`: the other app. Prefills 2000-token prompts at
 * LOW priority back to back; writes one line to stdout after the first whole
 * prefill; runs until a signal ends it (and ends with its parent).
 */
int bench_background(int argc, char **argv)
{
	struct loaded_engine le;
	struct anpurt_session *s = NULL;
	int32_t *ids, next;
	int rc = 0;

	if (argc != 3 || strcmp(argv[1], "--device")) {
		fprintf(stderr, "anpu-bench-runtime: background FILE --device DEV\n");
		return 2;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGTERM))
		perror("anpu-bench-runtime: background: PR_SET_PDEATHSIG");
	if (load_engine(argv[0], argv[2], &le))
		return 1;
	ids = background_ids(le.model);
	rc = ids ? session_at(le.engine, ANPURT_PRIORITY_LOW, &s) : 1;
	for (int round = 0; !rc; round++) {
		if (anpurt_session_truncate(s, 0) ||
		    anpurt_session_prefill(s, ids, N_BACKGROUND, &next)) {
			rc = bench_fail("background prefill");
		} else if (round == 0 && (puts("ready") == EOF || fflush(stdout))) {
			perror("anpu-bench-runtime: background: stdout");
			rc = 1;
		}
	}
	anpurt_session_free(s);
	free(ids);
	unload_engine(&le);
	return rc;
}

/* Starts `background FILE --device DEV`, its stdout a pipe whose read end is *@out. */
static int spawn_background(const char *path, const char *device, pid_t *pid, FILE **out)
{
	char *argv[] = { "anpu-bench-runtime", "background", (char *)path, "--device",
			 (char *)device, NULL };
	posix_spawn_file_actions_t fa;
	int p[2], err;

	if (pipe2(p, O_CLOEXEC)) {
		perror("anpu-bench-runtime: pipe");
		return 1;
	}
	err = posix_spawn_file_actions_init(&fa);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	if (!err)
		err = posix_spawn(pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (err) {
		fprintf(stderr, "anpu-bench-runtime: starting the background process: %s\n",
			strerror(err));
		close(p[0]);
		return 1;
	}
	*out = fdopen(p[0], "r");
	if (!*out) {
		perror("anpu-bench-runtime: fdopen");
		close(p[0]);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		return 1;
	}
	return 0;
}

static int process_pause(void *arg)
{
	if (kill(*(pid_t *)arg, SIGSTOP)) {
		perror("anpu-bench-runtime: stopping the background process");
		return 1;
	}
	usleep(BG_SETTLE_US);	/* it waits for each chunk before the next: one in flight at most */
	return 0;
}

static void process_resume(void *arg)
{
	kill(*(pid_t *)arg, SIGCONT);
}

/* Ends the background process; 0 when it ran until then (killed by SIGTERM). */
static int stop_background(pid_t pid, FILE *out)
{
	int status;

	kill(pid, SIGTERM);
	kill(pid, SIGCONT);	/* should it still be held */
	fclose(out);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("anpu-bench-runtime: waitpid");
			return 1;
		}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		return 0;
	fprintf(stderr, "anpu-bench-runtime: the background process failed (%s %d)\n",
		WIFSIGNALED(status) ? "signal" : "exit status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return 1;
}

/* `responsive FILE LABEL --device DEV`: the two-process figure (see the top). */
int bench_responsive_processes(int argc, char **argv)
{
	const char *path, *label, *device;
	struct anpurt_session *fg = NULL;
	struct loaded_engine le;
	double idle = 0, loaded = 0;
	char ready[16];
	int32_t *ids;
	FILE *out;
	pid_t pid;
	int rc;

	if (argc != 4 || strcmp(argv[2], "--device") || !strcmp(argv[3], "sim")) {
		fprintf(stderr, "anpu-bench-runtime: responsive FILE LABEL --device DEV"
			" (a kernel device: two processes share it)\n");
		return 2;
	}
	path = argv[0];
	label = argv[1];
	device = argv[3];
	if (load_engine(path, device, &le))
		return 1;
	ids = background_ids(le.model);
	rc = ids ? session_at(le.engine, ANPURT_PRIORITY_HIGH, &fg) : 1;
	if (!rc && !(rc = spawn_background(path, device, &pid, &out))) {
		struct background_ops ops = { process_pause, process_resume, &pid };

		/* its engine loaded and one whole prefill done: it is in full flow */
		if (!fgets(ready, sizeof(ready), out) || strcmp(ready, "ready\n")) {
			fprintf(stderr, "anpu-bench-runtime: the background process did not start\n");
			rc = 1;
		}
		if (!rc)
			rc = ttft_idle_loaded(fg, ids, &ops, &idle, &loaded);
		rc = stop_background(pid, out) || rc;
	}
	anpurt_session_free(fg);
	free(ids);
	unload_engine(&le);
	if (rc)
		return rc;
	emit_ratio("runtime.ttft.foreground_under_load_ratio", label,
		   "\"processes\":2,\"backend\":\"kernel\",", idle, loaded);
	return 0;
}
