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
 * token; the loaded runs start at spaced instants (37, 74, ... ms apart) so that
 * they land at different points of the background's jobs.
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

extern char **environ;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ms of RESPONSIVE_RUNS times to first token of @s for the first 64 ids. */
static int ttft_median(struct anpurt_session *s, const int32_t *ids, int spaced, double *ms)
{
	double t[RESPONSIVE_RUNS];
	int32_t next;

	for (int r = 0; r < RESPONSIVE_RUNS; r++) {
		double t0;

		if (spaced)
			usleep(37000 * (unsigned int)(r + 1));
		if (anpurt_session_truncate(s, 0))
			return bench_fail("foreground truncate");
		t0 = now_ms();
		if (anpurt_session_prefill(s, ids, N_FOREGROUND, &next))
			return bench_fail("foreground prefill");
		t[r] = now_ms() - t0;
	}
	qsort(t, RESPONSIVE_RUNS, sizeof(t[0]), cmp_double);
	*ms = t[RESPONSIVE_RUNS / 2];
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
	atomic_int stop, started;
	int rc;
};

/* The LOW-priority session: 2000-token prefills back to back until told to stop. */
static void *background_prefill(void *arg)
{
	struct background *bg = arg;
	int32_t next;

	while (!atomic_load(&bg->stop)) {
		if (anpurt_session_truncate(bg->s, 0) ||
		    anpurt_session_prefill(bg->s, bg->ids, N_BACKGROUND, &next)) {
			bg->rc = bench_fail("background prefill");
			break;
		}
		atomic_store(&bg->started, 1);
	}
	atomic_store(&bg->started, 1);
	return NULL;
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
	if (!rc)
		rc = ttft_median(fg, ids, 0, &idle);
	if (!rc) {
		bg.ids = ids;
		if (pthread_create(&th, NULL, background_prefill, &bg)) {
			rc = bench_fail("background thread");
		} else {
			while (!atomic_load(&bg.started))	/* one whole prefill first */
				usleep(10000);
			rc = bg.rc ? bg.rc : ttft_median(fg, ids, 1, &loaded);
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

/* Ends the background process; 0 when it ran until then (killed by SIGTERM). */
static int stop_background(pid_t pid, FILE *out)
{
	int status;

	kill(pid, SIGTERM);
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
	const char *path = argv[0], *label = argv[1], *device = argv[3];
	struct anpurt_session *fg = NULL;
	struct loaded_engine le;
	double idle = 0, loaded = 0;
	char ready[16];
	int32_t *ids;
	FILE *out;
	pid_t pid;
	int rc;

	if (argc != 4 || strcmp(argv[2], "--device") || !strcmp(device, "sim")) {
		fprintf(stderr, "anpu-bench-runtime: responsive FILE LABEL --device DEV"
			" (a kernel device: two processes share it)\n");
		return 2;
	}
	if (load_engine(path, device, &le))
		return 1;
	ids = background_ids(le.model);
	rc = ids ? session_at(le.engine, ANPURT_PRIORITY_HIGH, &fg) : 1;
	if (!rc)
		rc = ttft_median(fg, ids, 0, &idle);
	if (!rc && !(rc = spawn_background(path, device, &pid, &out))) {
		/* its engine loaded and one whole prefill done: it is in full flow */
		if (!fgets(ready, sizeof(ready), out) || strcmp(ready, "ready\n")) {
			fprintf(stderr, "anpu-bench-runtime: the background process did not start\n");
			rc = 1;
		}
		if (!rc)
			rc = ttft_median(fg, ids, 1, &loaded);
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
