// SPDX-License-Identifier: MIT
/* The driver's tracepoints from tracefs (trace_sources.h). */
#include "trace_sources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const tracefs_dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

struct tracefs_session {
	char dir[64];
	char old_clock[32];	/* the trace_clock to restore */
	char old_record_cmd[4];	/* options/record-cmd to restore ("" if absent) */
};

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[160];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The first line of @name (up to @n - 1 bytes, newline dropped), or "" if unreadable. */
static void read_line(const char *dir, const char *name, char *out, size_t n)
{
	char path[160];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(out, (int)n, f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* The selected clock of trace_clock's "local [global] mono ..." line. */
static void current_clock(const char *dir, char *out, size_t n)
{
	char line[512], *open_br, *close_br;

	snprintf(out, n, "local");
	read_line(dir, "trace_clock", line, sizeof(line));
	if ((open_br = strchr(line, '[')) && (close_br = strchr(open_br, ']'))) {
		*close_br = 0;
		snprintf(out, n, "%s", open_br + 1);
	}
}

int tracefs_start(struct tracefs_session **out, const char **why)
{
	struct tracefs_session *s;
	char probe[160];
	int ret;

	*out = NULL;
	if (geteuid() != 0) {
		*why = "not root: the driver's tracepoints are left out";
		return -EPERM;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/events/anpu/enable", tracefs_dirs[i]);
		if (!access(probe, W_OK)) {
			snprintf(s->dir, sizeof(s->dir), "%s", tracefs_dirs[i]);
			break;
		}
	}
	if (!s->dir[0]) {
		free(s);
		*why = "no tracefs events/anpu (anpu.ko not loaded or tracefs not mounted)";
		return -ENOENT;
	}
	current_clock(s->dir, s->old_clock, sizeof(s->old_clock));
	/*
	 * No task-name recording while we trace: with it, enabling an event
	 * also hooks sched_switch and sched_wakeup, so every context switch of
	 * the machine pays for the trace; task names are not read from it.
	 */
	read_line(s->dir, "options/record-cmd", s->old_record_cmd, sizeof(s->old_record_cmd));
	if (s->old_record_cmd[0])
		write_file(s->dir, "options/record-cmd", "0");
	ret = write_file(s->dir, "trace_clock", "mono");
	if (!ret)
		ret = write_file(s->dir, "trace", "");	/* clears the buffer */
	if (!ret)
		ret = write_file(s->dir, "events/anpu/enable", "1");
	if (!ret)
		ret = write_file(s->dir, "tracing_on", "1");
	if (ret) {
		write_file(s->dir, "trace_clock", s->old_clock);
		if (s->old_record_cmd[0])
			write_file(s->dir, "options/record-cmd", s->old_record_cmd);
		free(s);
		*why = "tracefs refused the settings";
		return ret;
	}
	*out = s;
	return 0;
}

/* "  task-123  [001] d..1.  4711.000123: anpu_done: queue=1 ..." */
static void parse_line(struct tr_trace *t, const char *line)
{
	const char *br = strchr(line, '['), *colon;
	unsigned long long sec, frac;
	char name[64];
	int cpu, pos = 0;

	if (line[0] == '#' || !br || sscanf(br, "[%d]", &cpu) != 1)
		return;
	colon = strstr(br, ": anpu_");
	if (!colon)
		return;
	/* the timestamp ends at that colon: seconds.microseconds */
	while (colon > br && colon[-1] != ' ')
		colon--;
	if (sscanf(colon, "%llu.%llu: %63[a-z_0-9]: %n", &sec, &frac, name, &pos) < 3 || !pos)
		return;
	tr_add_instant(t, name, colon + pos, cpu, (int64_t)(sec * 1000000000ull + frac * 1000ull));
}

int tracefs_collect(struct tracefs_session *s, struct tr_trace *t)
{
	char path[160], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!s)
		return 0;
	write_file(s->dir, "events/anpu/enable", "0");
	snprintf(path, sizeof(path), "%s/trace", s->dir);
	f = fopen(path, "r");
	if (f) {
		while ((n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] == '\n')
				line[n - 1] = 0;
			parse_line(t, line);
		}
		fclose(f);
	}
	free(line);
	write_file(s->dir, "trace_clock", s->old_clock);
	if (s->old_record_cmd[0])
		write_file(s->dir, "options/record-cmd", s->old_record_cmd);
	free(s);
	return 0;
}
