// SPDX-License-Identifier: MIT
/*
 * anpu-top: live per-process view of the ANPU devices. Every DELAY seconds
 * it samples the clients this user can see (top.h: kernel accel files via
 * fdinfo, in-process NPUs via their stats files) and, when the driver's
 * netlink family is there, each kernel device's totals; it prints busy % over
 * the interval, busy time, memory and jobs. Another user's processes are
 * skipped (their fdinfo is unreadable), so it needs no privilege. Plain text
 * (the screen is cleared only on a terminal), or one JSON object per report
 * with -J.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/anpu-top/top.h"
#include "anpu_version.h"
#include "tools/common/anpu_nl.h"
#include "tools/common/tool_json.h"
#include "uapi/drm/anpu_netlink.h"

#define PROG "anpu-top"
#define MAX_DEVICES 16

struct options {
	double delay_s;
	long iterations;	/* 0: until interrupted */
	int json;
};

/* one kernel device's totals from netlink, and its busy % over the interval */
struct device_view {
	struct anpu_nl_stats now, prev;
	bool have_prev;
	double busy_pct;
};

static void usage_line(FILE *f)
{
	fprintf(f, "Usage: " PROG " [-d|--delay SECS] [-n|--iterations COUNT] [-J|--json]"
		" [-h|--help] [--version]\n");
}

static void help(void)
{
	usage_line(stdout);
	printf("Show how much each process uses the ANPU: kernel devices (/dev/accel, from\n"
	       "/proc/PID/fdinfo and the driver's netlink statistics) and in-process NPUs\n"
	       "(from $XDG_RUNTIME_DIR/anpu/PID.stats). Only this user's processes are\n"
	       "visible unless run as root.\n\n"
	       "Options:\n"
	       "  -d, --delay SECS       time between reports (default 1)\n"
	       "  -n, --iterations COUNT stop after COUNT reports (default: run until interrupted)\n"
	       "  -J, --json             one JSON object per report\n"
	       "  -h, --help             print this help and exit\n"
	       "      --version          print the version and exit\n\n"
	       "Exit status: 0 success, 1 error (the message says which), 2 bad usage.\n");
}

static int bad_usage(const char *fmt, const char *what)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (" PROG " --help lists the options)\n");
	return 2;
}

/* 0, 1 (exit 0 now: help or version) or 2 (bad usage) */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	*o = (struct options){ .delay_s = 1.0 };
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:n:Jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			errno = 0;
			o->delay_s = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o->delay_s >= 0.01) || o->delay_s > 3600)
				return bad_usage("--delay: '%s' is not a number of seconds in [0.01, 3600]",
						 optarg);
			break;
		case 'n':
			errno = 0;
			o->iterations = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o->iterations < 1)
				return bad_usage("--iterations: '%s' is not a count of at least 1", optarg);
			break;
		case 'J':
			o->json = 1;
			break;
		case 'h':
			help();
			return 1;
		case 'V':
			printf(PROG " %s (netlink family %s v%d)\n", ANPU_VERSION,
			       ANPU_NL_FAMILY_NAME, ANPU_NL_FAMILY_VERSION);
			return 1;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - floor(s)) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Netlink totals of every kernel device; the family may be absent (no anpu.ko). */
static int sample_devices(struct anpu_nl *nl, struct device_view *dv, int64_t dt_ns)
{
	struct anpu_nl_dev devs[MAX_DEVICES];
	size_t n = 0;

	if (!nl || anpu_nl_devices(nl, devs, MAX_DEVICES, &n))
		return 0;
	if (n > MAX_DEVICES)
		n = MAX_DEVICES;
	for (size_t i = 0; i < n; i++) {
		struct device_view *d = &dv[i];

		d->prev = d->now;
		if (anpu_nl_stats(nl, devs[i].id, &d->now))
			memset(&d->now, 0, sizeof(d->now));
		d->busy_pct = d->have_prev && dt_ns > 0 && d->now.busy_ns >= d->prev.busy_ns ?
			      100.0 * (double)(d->now.busy_ns - d->prev.busy_ns) / (double)dt_ns : 0;
		d->have_prev = d->now.dev_id == d->prev.dev_id;
	}
	return (int)n;
}

static void print_json(const struct top_sample *s, const struct device_view *dv, int n_dev,
		       double interval_ms)
{
	printf("{\"time_ns\":%lld,\"interval_ms\":%.1f,\"devices\":[", (long long)s->time_ns,
	       interval_ms);
	for (int i = 0; i < n_dev; i++) {
		const struct anpu_nl_stats *st = &dv[i].now;

		printf("%s{\"name\":\"accel%u\",\"id\":%u,\"busy_pct\":%.2f,\"busy_ns\":%llu,"
		       "\"jobs_submitted\":%llu,\"jobs_completed\":%llu,\"jobs_failed\":%llu,"
		       "\"faults\":%llu,\"mem_used\":%llu}",
		       i ? "," : "", st->dev_id, st->dev_id, dv[i].busy_pct,
		       (unsigned long long)st->busy_ns, (unsigned long long)st->jobs_submitted,
		       (unsigned long long)st->jobs_completed, (unsigned long long)st->jobs_failed,
		       (unsigned long long)st->faults, (unsigned long long)st->mem_used);
	}
	printf("],\"processes\":[");
	for (int i = 0; i < s->n; i++) {
		const struct top_client *c = &s->client[i];

		printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", c->pid);
		tool_json_string(stdout, c->comm);
		printf(",\"device\":");
		tool_json_string(stdout, c->device);
		printf(",\"client_id\":%llu,\"busy_pct\":%.2f,\"busy_ns\":%llu,\"mem_bytes\":%llu,"
		       "\"jobs_submitted\":%llu}",
		       (unsigned long long)c->client_id, c->busy_pct,
		       (unsigned long long)c->busy_ns, (unsigned long long)c->mem_bytes,
		       (unsigned long long)c->jobs_submitted);
	}
	printf("]}\n");
}

static void print_text(const struct top_sample *s, const struct device_view *dv, int n_dev,
		       double interval_ms, bool tty)
{
	if (tty)
		printf("\033[H\033[2J");
	printf("anpu-top - every %.1f s\n", interval_ms / 1000.0);
	for (int i = 0; i < n_dev; i++) {
		const struct anpu_nl_stats *st = &dv[i].now;

		printf("accel%u: busy %5.1f%%  jobs %llu (%llu failed)  faults %llu  "
		       "memory %.1f MiB\n",
		       st->dev_id, dv[i].busy_pct, (unsigned long long)st->jobs_submitted,
		       (unsigned long long)st->jobs_failed, (unsigned long long)st->faults,
		       st->mem_used / 1048576.0);
	}
	printf("\n%8s %-16s %-8s %7s %14s %10s %10s\n", "PID", "COMMAND", "DEVICE", "BUSY%",
	       "BUSY-MS", "MEM-MIB", "JOBS");
	for (int i = 0; i < s->n; i++) {
		const struct top_client *c = &s->client[i];

		printf("%8d %-16s %-8s %6.1f%% %14.1f %10.1f %10llu\n", c->pid, c->comm, c->device,
		       c->busy_pct, c->busy_ns / 1e6, c->mem_bytes / 1048576.0,
		       (unsigned long long)c->jobs_submitted);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct top_sample samples[2];
	struct device_view dv[MAX_DEVICES];
	struct anpu_nl *nl = NULL;
	struct options o;
	bool tty = isatty(STDOUT_FILENO);
	int cur = 0, n_dev, ret;

	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	memset(dv, 0, sizeof(dv));
	/* no family (anpu.ko not loaded): in-process NPUs only */
	ret = anpu_nl_open(&nl);
	if (ret && ret != -ENOENT)
		fprintf(stderr, PROG ": netlink: %s (device totals not shown)\n", strerror(-ret));
	top_sample_take(&samples[cur]);
	n_dev = sample_devices(nl, dv, 0);
	for (long it = 0; !o.iterations || it < o.iterations; it++) {
		const struct top_sample *prev = &samples[cur];
		struct top_sample *now = &samples[cur ^ 1];
		double interval_ms;

		sleep_s(o.delay_s);
		top_sample_take(now);
		interval_ms = (double)(now->time_ns - prev->time_ns) / 1e6;
		n_dev = sample_devices(nl, dv, now->time_ns - prev->time_ns);
		top_sample_rate(now, prev);
		if (o.json)
			print_json(now, dv, n_dev, interval_ms);
		else
			print_text(now, dv, n_dev, interval_ms, tty);
		fflush(stdout);
		cur ^= 1;
	}
	anpu_nl_close(nl);
	return 0;
}
