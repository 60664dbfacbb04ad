// SPDX-License-Identifier: MIT
/* anpu-top's sampling: /proc/<pid>/fdinfo of accel files, and the in-process stats files. */
#include "top.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Read a small file whole (NUL-terminated); false if it cannot be read. */
static bool read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return false;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return got > 0;
}

/* A value with an optional unit ("12 ns", "4 KiB", "7"), in the base unit. */
static uint64_t parse_value(const char *v)
{
	char *end;
	uint64_t x = strtoull(v, &end, 10);

	while (*end == ' ')
		end++;
	if (!strncmp(end, "KiB", 3))
		x <<= 10;
	else if (!strncmp(end, "MiB", 3))
		x <<= 20;
	else if (!strncmp(end, "GiB", 3))
		x <<= 30;
	return x;
}

bool top_parse_usage(const char *text, struct top_client *c)
{
	bool anpu = false;

	c->busy_ns = c->mem_bytes = c->jobs_submitted = 0;
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *colon = strchr(line, ':');
		const char *v;

		if (!colon)
			break;
		v = colon + 1;
		while (*v == '\t' || *v == ' ')
			v++;
#define KEY(k) ((size_t)(colon - line) == strlen(k) && !strncmp(line, k, strlen(k)))
		if (KEY("drm-driver"))
			anpu = !strncmp(v, "anpu\n", 5) || !strncmp(v, "anpu-sim\n", 9);
		else if (KEY("drm-client-id"))
			c->client_id = parse_value(v);
		else if (KEY("drm-engine-npu"))
			c->busy_ns = parse_value(v);
		else if (!strncmp(line, "drm-total-", 10))
			c->mem_bytes += parse_value(v);
		else if (KEY("anpu-jobs-submitted"))
			c->jobs_submitted = parse_value(v);
#undef KEY
	}
	return anpu;
}

static void read_comm(int pid, char *comm, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!read_text(path, comm, len))
		snprintf(comm, len, "?");
	comm[strcspn(comm, "\n")] = '\0';
}

static bool seen_client(const struct top_sample *s, int pid, const char *dev, uint64_t id)
{
	for (int i = 0; i < s->n; i++)
		if (s->client[i].pid == pid && s->client[i].client_id == id &&
		    !strcmp(s->client[i].device, dev))
			return true;
	return false;
}

/* Every accel file @pid has open; another user's process is unreadable and skipped. */
static void sample_kernel_files(struct top_sample *s, int pid)
{
	char dir[32], link[96], target[64], text[4096];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && s->n < TOP_MAX_CLIENTS) {
		struct top_client *c = &s->client[s->n];
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(link, sizeof(link), "%s/%.32s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "/dev/accel/accel", 16))
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fdinfo/%.32s", pid, de->d_name);
		memset(c, 0, sizeof(*c));
		if (!read_text(link, text, sizeof(text)) || !top_parse_usage(text, c))
			continue;
		/* a dup()ed or inherited fd is the same client */
		snprintf(c->device, sizeof(c->device), "%.24s", target + 11);
		if (seen_client(s, pid, c->device, c->client_id))
			continue;
		c->pid = pid;
		read_comm(pid, c->comm, sizeof(c->comm));
		s->n++;
	}
	closedir(d);
}

/* The in-process NPUs of this user's processes that are still alive. */
static void sample_inproc_files(struct top_sample *s)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char dir[512], path[800], text[4096], proc[64];
	struct dirent *de;
	DIR *d;

	if (!rt)
		return;
	snprintf(dir, sizeof(dir), "%s/anpu", rt);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && s->n < TOP_MAX_CLIENTS) {
		struct top_client *c = &s->client[s->n];
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (pid <= 0 || strcmp(end, ".stats"))
			continue;
		snprintf(proc, sizeof(proc), "/proc/%ld", pid);
		if (access(proc, F_OK))
			continue;	/* left behind by a process that died */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		memset(c, 0, sizeof(*c));
		if (!read_text(path, text, sizeof(text)) || !top_parse_usage(text, c))
			continue;
		c->pid = (int)pid;
		snprintf(c->device, sizeof(c->device), "sim");
		read_comm(c->pid, c->comm, sizeof(c->comm));
		s->n++;
	}
	closedir(d);
}

void top_sample_take(struct top_sample *s)
{
	struct dirent *de;
	DIR *d = opendir("/proc");

	s->n = 0;
	s->time_ns = now_ns();
	if (d) {
		while ((de = readdir(d)))
			if (isdigit((unsigned char)de->d_name[0]))
				sample_kernel_files(s, atoi(de->d_name));
		closedir(d);
	}
	sample_inproc_files(s);
}

void top_sample_rate(struct top_sample *now, const struct top_sample *prev)
{
	double dt = (double)(now->time_ns - prev->time_ns);

	for (int i = 0; i < now->n; i++) {
		struct top_client *c = &now->client[i];

		c->busy_pct = 0;
		for (int j = 0; j < prev->n; j++) {
			const struct top_client *p = &prev->client[j];

			if (p->pid == c->pid && p->client_id == c->client_id &&
			    !strcmp(p->device, c->device)) {
				if (dt > 0 && c->busy_ns >= p->busy_ns)
					c->busy_pct = 100.0 * (double)(c->busy_ns - p->busy_ns) / dt;
				break;
			}
		}
	}
}
