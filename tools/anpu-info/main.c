// SPDX-License-Identifier: MIT
/*
 * anpu-info: the ANPU devices this machine offers, kernel and in-process.
 *
 * Kernel devices come from libaccel (accel_device_enumerate(), then each
 * opened for its description) and from the driver's netlink family (bus
 * address, memory in use of the whole device); a device this user may not
 * open is still listed from netlink. The in-process NPU ("sim") is described
 * by libaccel's device query. Plain text, or JSON with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libaccel/include/accel.h"
#include "anpu_version.h"
#include "tools/common/anpu_nl.h"
#include "tools/common/tool_json.h"
#include "uapi/drm/anpu_netlink.h"

#define PROG "anpu-info"

struct device_row {
	bool have_info;			/* libaccel described it */
	struct accel_device_info info;
	bool have_nl;			/* netlink described it */
	struct anpu_nl_dev nl;
	char name[32];
	char path[64];
	int open_error;			/* libaccel's error opening it, or 0 */
};

static const char *const cap_names[] = { "profiling", "fault-injection", "large-pages", "kv-f16" };

static void usage_line(FILE *f)
{
	fprintf(f, "Usage: " PROG " [-j|--json] [-h|--help] [--version]\n");
}

static void help(void)
{
	usage_line(stdout);
	printf("List the ANPU devices: kernel devices (/dev/accel/accelN, anpu.ko) and the\n"
	       "in-process NPU (sim), with versions, capabilities, queues and memory.\n\n"
	       "Options:\n"
	       "  -j, --json     print as JSON\n"
	       "  -h, --help     print this help and exit\n"
	       "      --version  print the version and exit\n\n"
	       "Exit status: 0 success, 1 error (the message says which), 2 bad usage.\n");
}

static void version_string(char *buf, size_t len, uint32_t v)
{
	snprintf(buf, len, "%u.%u", v >> 16, v & 0xffff);
}

/* Describe kernel device @path (accelN) with libaccel; netlink fills in the rest. */
static void describe_kernel(struct device_row *row, const char *path)
{
	struct accel_device *dev;
	const char *base = strrchr(path, '/');

	snprintf(row->path, sizeof(row->path), "%s", path);
	snprintf(row->name, sizeof(row->name), "%s", base ? base + 1 : path);
	row->open_error = accel_device_open(path, NULL, &dev);
	if (row->open_error)
		return;
	row->have_info = !accel_device_info(dev, &row->info);
	accel_device_close(dev);
}

static void print_caps_text(uint32_t caps)
{
	bool any = false;

	for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (caps & (1u << i)) {
			printf("%s%s", any ? "," : "", cap_names[i]);
			any = true;
		}
	if (!any)
		printf("none");
}

static void print_text(const struct device_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct device_row *r = &rows[i];
		bool sim = r->have_info && r->info.backend == ACCEL_BACKEND_SIM;
		uint32_t hw = r->have_info ? r->info.hw_version : r->nl.hw_version;
		uint32_t isa = r->have_info ? r->info.isa_version : r->nl.isa_version;
		uint32_t caps = r->have_info ? r->info.caps : r->nl.caps;
		uint32_t queues = r->have_info ? r->info.num_queues : r->nl.queues;
		uint64_t total = r->have_info ? r->info.mem_total : r->nl.mem_size;
		char hws[16], isas[16];

		version_string(hws, sizeof(hws), hw);
		version_string(isas, sizeof(isas), isa);
		printf("%s: %s %s", r->name, sim ? "in-process NPU" : "kernel device", r->path);
		if (r->have_nl)
			printf(" (pci %s)", r->nl.bus_addr);
		printf("\n  hardware %s, ISA %s, %u queues, memory %.1f MiB", hws, isas, queues,
		       total / 1048576.0);
		if (r->have_nl)
			printf(" (%.1f MiB in use)", r->nl.mem_used / 1048576.0);
		printf("\n  capabilities: ");
		print_caps_text(caps);
		printf("\n");
		if (sim)
			printf("  model: %u threads, SIMD %s\n", r->info.model_threads, r->info.simd);
		if (r->open_error)
			printf("  (not opened: %s)\n", strerror(-r->open_error));
	}
}

static void print_json(const struct device_row *rows, size_t n)
{
	printf("{\"devices\":[");
	for (size_t i = 0; i < n; i++) {
		const struct device_row *r = &rows[i];
		bool sim = r->have_info && r->info.backend == ACCEL_BACKEND_SIM;
		uint32_t caps = r->have_info ? r->info.caps : r->nl.caps;
		char hws[16], isas[16];
		bool any = false;

		version_string(hws, sizeof(hws), r->have_info ? r->info.hw_version : r->nl.hw_version);
		version_string(isas, sizeof(isas), r->have_info ? r->info.isa_version : r->nl.isa_version);
		printf("%s{\"name\":", i ? "," : "");
		tool_json_string(stdout, r->name);
		printf(",\"backend\":\"%s\",\"path\":", sim ? "sim" : "kernel");
		tool_json_string(stdout, r->path);
		printf(",\"hw_version\":\"%s\",\"isa_version\":\"%s\",\"caps\":[", hws, isas);
		for (size_t c = 0; c < sizeof(cap_names) / sizeof(cap_names[0]); c++)
			if (caps & (1u << c)) {
				printf("%s\"%s\"", any ? "," : "", cap_names[c]);
				any = true;
			}
		printf("],\"queues\":%u,\"mem_total\":%llu",
		       r->have_info ? r->info.num_queues : r->nl.queues,
		       (unsigned long long)(r->have_info ? r->info.mem_total : r->nl.mem_size));
		if (r->have_nl) {
			printf(",\"id\":%u,\"bus_addr\":", r->nl.id);
			tool_json_string(stdout, r->nl.bus_addr);
			printf(",\"mem_used\":%llu", (unsigned long long)r->nl.mem_used);
		}
		if (sim) {
			printf(",\"model_threads\":%u,\"simd\":", r->info.model_threads);
			tool_json_string(stdout, r->info.simd);
		}
		if (r->open_error) {
			printf(",\"error\":");
			tool_json_string(stdout, strerror(-r->open_error));
		}
		printf("}");
	}
	printf("]}\n");
}

/* The netlink description of kernel device @name (accelN), if the family knows it. */
static void attach_netlink(struct device_row *row, const struct anpu_nl_dev *devs, size_t n)
{
	unsigned int id;

	if (sscanf(row->name, "accel%u", &id) != 1)
		return;
	for (size_t i = 0; i < n; i++)
		if (devs[i].id == id) {
			row->nl = devs[i];
			row->have_nl = true;
		}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct device_row rows[ACCEL_MAX_DEVICES + 1];
	struct anpu_nl_dev nl_devs[ACCEL_MAX_DEVICES];
	char paths[ACCEL_MAX_DEVICES][64];
	struct accel_device *sim;
	struct anpu_nl *nl = NULL;
	size_t n_nl = 0, n = 0;
	bool json = false;
	int opt, count, ret, status = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf(PROG " %s (netlink family %s v%d)\n", ANPU_VERSION,
			       ANPU_NL_FAMILY_NAME, ANPU_NL_FAMILY_VERSION);
			return 0;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (" PROG " --help lists the options)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (" PROG " --help lists the options)\n",
			argv[optind]);
		return 2;
	}

	memset(rows, 0, sizeof(rows));
	/* the netlink family is optional: no anpu.ko loaded means no kernel device */
	if (!anpu_nl_open(&nl)) {
		ret = anpu_nl_devices(nl, nl_devs, ACCEL_MAX_DEVICES, &n_nl);
		if (ret) {
			fprintf(stderr, PROG ": netlink device dump: %s\n", strerror(-ret));
			n_nl = 0;
		}
		anpu_nl_close(nl);
	}
	count = accel_device_enumerate(paths, ACCEL_MAX_DEVICES);
	if (count < 0) {
		fprintf(stderr, PROG ": listing kernel devices: %s\n", strerror(-count));
		status = 1;
		count = 0;
	}
	for (int i = 0; i < count && i < ACCEL_MAX_DEVICES; i++) {
		struct device_row *r = &rows[n++];

		describe_kernel(r, paths[i]);
		attach_netlink(r, nl_devs, n_nl);
		if (r->open_error && !r->have_nl) {
			fprintf(stderr, PROG ": %s: %s\n", r->path, strerror(-r->open_error));
			status = 1;
		}
	}

	ret = accel_device_open("sim", NULL, &sim);
	if (ret) {
		fprintf(stderr, PROG ": in-process NPU: %s\n", strerror(-ret));
		status = 1;
	} else {
		struct device_row *r = &rows[n];

		ret = accel_device_info(sim, &r->info);
		accel_device_close(sim);
		if (ret) {
			fprintf(stderr, PROG ": in-process NPU: %s\n", strerror(-ret));
			status = 1;
		} else {
			r->have_info = true;
			snprintf(r->name, sizeof(r->name), "sim");
			memcpy(r->path, r->info.path, sizeof(r->path));
			n++;
		}
	}
	if (json)
		print_json(rows, n);
	else
		print_text(rows, n);
	return status;
}
