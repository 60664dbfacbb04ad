// SPDX-License-Identifier: MIT
/*
 * anpu-trace record: run a program with libaccel's trace mode on (ANPU_TRACE
 * names a file next to the output), collect the kernel's sources while it
 * runs, then write everything as one Chrome trace.
 */
#include "anpu_trace.h"
#include "trace_model.h"
#include "trace_sources.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libaccel/include/accel.h"

/* Run @cmd with ANPU_TRACE=@raw; its exit status (128 + signal if killed). */
static int run_traced(char **cmd, const char *raw)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	int status, ret;
	pid_t pid;

	/* Ctrl-C stops the program, not the recorder: its trace is still written */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		if (setenv(ACCEL_TRACE_ENV, raw, 1) == 0)
			execvp(cmd[0], cmd);
		fprintf(stderr, PROG ": %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	while ((ret = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (ret < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int trace_record(const struct record_opts *o)
{
	struct tracefs_session *tfs = NULL;
	struct netlink_session *nls = NULL;
	struct tr_trace t = { 0 };
	const char *why = NULL;
	char *raw = NULL;
	int status, ret, fd;

	if (o->raw)
		raw = strdup(o->raw);
	else if (asprintf(&raw, "%s.libaccel.jsonl", o->out) < 0)
		raw = NULL;
	if (!raw)
		return trace_fail("out of memory", -ENOMEM);
	/* the output must be writable before the program runs, not after */
	fd = open(o->out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = trace_fail(o->out, -errno);
		free(raw);
		return ret;
	}
	close(fd);
	/* an old file must not pass for this run's trace */
	if (unlink(raw) && errno != ENOENT) {
		ret = trace_fail(raw, -errno);
		free(raw);
		return ret;
	}
	if (tracefs_start(&tfs, &why) && why && getenv("ANPU_TRACE_VERBOSE"))
		fprintf(stderr, PROG ": note: %s\n", why);
	if (netlink_jobs_start(&nls, &why) && why && getenv("ANPU_TRACE_VERBOSE"))
		fprintf(stderr, PROG ": note: %s\n", why);
	status = run_traced(o->cmd, raw);
	if (status < 0) {
		tracefs_collect(tfs, &t);
		netlink_jobs_collect(nls, &t);
		free(raw);
		return trace_fail("fork", status);
	}
	ret = tr_load_libaccel(&t, raw);
	if (ret == -ENOENT) {
		/* the program never opened an ANPU device: an empty trace */
		memset(&t, 0, sizeof(t));
		ret = 0;
	}
	if (!ret)
		ret = netlink_jobs_collect(nls, &t);
	else
		netlink_jobs_collect(nls, NULL);
	if (!ret)
		ret = tracefs_collect(tfs, &t);
	else
		tracefs_collect(tfs, &t);
	if (!ret)
		ret = tr_write_chrome(&t, o->out);
	if (ret) {
		trace_fail(ret == -ENOMEM ? "out of memory" : o->out, ret);
	} else {
		size_t ops = 0;

		for (size_t i = 0; i < t.n_jobs; i++)
			ops += t.jobs[i].n_ops;
		fprintf(stderr, PROG ": %s: %zu NPU jobs, %zu op records, %zu CPU spans, "
			"%zu driver events (open it in https://ui.perfetto.dev)\n", o->out,
			t.n_jobs, ops, t.n_spans, t.n_instants);
		if (!o->raw)
			unlink(raw);
	}
	tr_free(&t);
	free(raw);
	return ret ? 1 : status;
}
