// SPDX-License-Identifier: MIT
/*
 * anpu-sim: the ANPU device behind QEMU. It serves QEMU's stock
 * ivshmem-doorbell device (1af4:1110): the shared memory is BAR2 (register
 * page + device memory) and the model runs on it natively. Guest doorbells
 * (Doorbell register = 0 << 16 | vector) arrive on our peer-0 eventfds and
 * become anpusim_doorbell(); the model's interrupts are written to the
 * guest's vector eventfds (MSI-X).
 *
 *   anpu-sim --socket PATH [--dev-mem SIZE] [--threads N] [-v]
 *   qemu-system-x86_64 ... -chardev socket,path=PATH,id=anpu \
 *       -device ivshmem-doorbell,chardev=anpu,vectors=8
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "anpusim.h"
#include "hw/anpu_hwif.h"
#include "ivshmem_server.h"
#include "tools/common/anpu_cli.h"

struct daemon {
	struct ivs_server ivs;
	struct anpusim *sim;
	struct anpusim_params params;
	int verbose;
	uint64_t doorbells;
	uint64_t irqs;
};

static void irq_cb(void *ctx, unsigned int vector)
{
	struct daemon *d = ctx;

	__atomic_fetch_add(&d->irqs, 1, __ATOMIC_RELAXED);
	ivs_server_notify(&d->ivs, vector);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	case 't': case 'T': v <<= 40; end++; break;
	default: break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

#define PROG "anpu-sim"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: anpu-sim --socket PATH [--dev-mem SIZE] [--threads N] [-v] | -h | --version\n"
		"  the ANPU device model as the ivshmem-doorbell server for QEMU\n"
		"  --socket PATH   UNIX socket QEMU connects to (-chardev socket,path=PATH)\n"
		"  --dev-mem SIZE  BAR2 size, a power of two, %llu MiB..%llu GiB (default 1G)\n"
		"  --threads N     model worker threads (default 1, never spinning)\n"
		"  -v              log connections, doorbells and interrupts\n"
		"  -h, --help      print this help and exit\n"
		"  --version       print the version and exit\n"
		"QEMU: -device ivshmem-doorbell,chardev=ID,vectors=%d\n",
		(unsigned long long)(ANPU_BAR_MIN_SIZE >> 20),
		(unsigned long long)(ANPU_BAR_MAX_SIZE >> 30), ANPU_HW_NUM_VECTORS);
}

static int device_start(struct daemon *d)
{
	int err = anpusim_create(&d->params, &d->sim);

	if (err) {
		fprintf(stderr, "anpu-sim: cannot create the device: %s\n", strerror(-err));
		d->sim = NULL;
	}
	return err;
}

/* A fresh device for the next guest: nothing of the last one survives. */
static int device_restart(struct daemon *d)
{
	if (d->sim)
		anpusim_destroy(d->sim);
	d->sim = NULL;
	return device_start(d);
}

struct options {
	const char *path;
	uint64_t size;
	unsigned int threads;
	int verbose;
};

#define MAX_THREADS	256

/* Returns -1 to go on, else the exit status (after --help or a usage error). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dev-mem", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .size = 1ull << 30, .threads = 1 };
	opterr = 0;	/* usage errors are one line of ours */
	while ((c = getopt_long(argc, argv, ":s:m:t:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->path = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &o->size))
				return anpu_cli_usage_error(PROG, "bad --dev-mem size '%s'", optarg);
			break;
		case 't':
			o->threads = (unsigned int)strtoul(optarg, NULL, 0);
			if (o->threads == 0 || o->threads > MAX_THREADS)
				return anpu_cli_usage_error(PROG, "bad --threads count '%s' (1..%d)",
							    optarg, MAX_THREADS);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			return anpu_cli_version(PROG);
		case ':':
			return anpu_cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
		default:
			return anpu_cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return anpu_cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
	if (!o->path)
		return anpu_cli_usage_error(PROG, "--socket PATH is required");
	if (o->size < ANPU_BAR_MIN_SIZE || o->size > ANPU_BAR_MAX_SIZE || (o->size & (o->size - 1))) {
		fprintf(stderr,
			"anpu-sim: --dev-mem %" PRIu64 ": BAR2 must be a power of two between %llu MiB and %llu GiB (QEMU requires a power of two)\n",
			o->size, (unsigned long long)(ANPU_BAR_MIN_SIZE >> 20),
			(unsigned long long)(ANPU_BAR_MAX_SIZE >> 30));
		return 2;
	}
	return -1;
}

/* SIGINT/SIGTERM/SIGHUP on a signalfd; call before any thread starts. */
static int signals_to_fd(void)
{
	sigset_t sigs;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* a shell starts background jobs with SIGINT ignored: undo that */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (fd < 0)
		perror("anpu-sim: signalfd");
	return fd;
}

/* Guest doorbells (peer-0 eventfds that poll found readable) into the model. */
static void take_doorbells(struct daemon *d, const struct pollfd *own)
{
	for (unsigned int v = 0; v < ANPU_HW_NUM_VECTORS; v++) {
		uint64_t cnt;

		if (!(own[v].revents & POLLIN))
			continue;
		if (read(d->ivs.own_fd[v], &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		d->doorbells++;
		if (d->verbose)
			fprintf(stderr, "anpu-sim: doorbell %u (x%" PRIu64 ")\n", v, cnt);
		anpusim_doorbell(d->sim, v);
	}
}

/* QEMU's socket is readable or hung up: a departed guest resets the device. */
static int client_event(struct daemon *d, short revents)
{
	char buf[64];
	ssize_t r = recv(d->ivs.client_fd, buf, sizeof(buf), MSG_DONTWAIT);

	/* QEMU never sends: data is ignored, EOF/error means it is gone */
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
	    (revents & (POLLHUP | POLLERR))) {
		ivs_server_drop_client(&d->ivs);
		if (d->verbose)
			fprintf(stderr, "anpu-sim: guest gone (%" PRIu64 " doorbells, %" PRIu64 " interrupts); device reset\n",
				d->doorbells, d->irqs);
		return device_restart(d);
	}
	return 0;
}

/* Until a signal (returns 0) or an error (1). */
static int serve(struct daemon *d, int sig_fd)
{
	enum { PFD_SIGNAL, PFD_LISTEN, PFD_CLIENT, PFD_DOORBELLS };
	struct pollfd pfd[PFD_DOORBELLS + ANPU_HW_NUM_VECTORS];

	for (;;) {
		int err;

		pfd[PFD_SIGNAL] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		pfd[PFD_LISTEN] = (struct pollfd){ .fd = d->ivs.listen_fd, .events = POLLIN };
		pfd[PFD_CLIENT] = (struct pollfd){ .fd = d->ivs.client_fd, .events = POLLIN };
		for (unsigned int v = 0; v < ANPU_HW_NUM_VECTORS; v++)
			pfd[PFD_DOORBELLS + v] = (struct pollfd){ .fd = d->ivs.own_fd[v],
								  .events = POLLIN };
		if (poll(pfd, PFD_DOORBELLS + ANPU_HW_NUM_VECTORS, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("anpu-sim: poll");
			return 1;
		}
		if (pfd[PFD_SIGNAL].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si) && d->verbose)
				fprintf(stderr, "anpu-sim: signal %u, shutting down\n", si.ssi_signo);
			return 0;
		}
		/* Doorbells before a disconnect, so nothing rung is lost. */
		take_doorbells(d, &pfd[PFD_DOORBELLS]);
		if (pfd[PFD_CLIENT].revents && client_event(d, pfd[PFD_CLIENT].revents))
			return 1;
		if (pfd[PFD_LISTEN].revents & POLLIN) {
			err = ivs_server_accept(&d->ivs);
			if (err < 0) {
				fprintf(stderr, "anpu-sim: accept: %s\n", strerror(-err));
				return 1;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct daemon d;
	void *bar;
	int shm_fd, sig_fd, err, rc = 1;

	memset(&d, 0, sizeof(d));
	rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = 1;
	d.verbose = o.verbose;
	sig_fd = signals_to_fd();
	if (sig_fd < 0)
		return 1;

	shm_fd = memfd_create("anpu-bar2", MFD_CLOEXEC);
	if (shm_fd < 0 || ftruncate(shm_fd, (off_t)o.size) < 0) {
		perror("anpu-sim: shared memory");
		return 1;
	}
	bar = mmap(NULL, o.size, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	if (bar == MAP_FAILED) {
		perror("anpu-sim: mmap");
		return 1;
	}

	err = ivs_server_init(&d.ivs, o.path, shm_fd, ANPU_HW_NUM_VECTORS, d.verbose);
	if (err) {
		if (err != -EADDRINUSE && err != -EEXIST && err != -ENAMETOOLONG)
			fprintf(stderr, "anpu-sim: %s: %s\n", o.path, strerror(-err));
		return 1;
	}

	d.params = anpusim_default_params();
	d.params.bar_size = o.size;
	d.params.bar = bar;
	d.params.threads = o.threads;
	d.params.spin_us = 0;
	d.params.irq = irq_cb;
	d.params.irq_ctx = &d;
	if (!device_start(&d)) {
		if (d.verbose)
			fprintf(stderr, "anpu-sim: listening on %s, BAR2 %" PRIu64 " MiB, %u thread(s), simd %s\n",
				o.path, o.size >> 20, anpusim_threads(d.sim), anpusim_simd_path());
		rc = serve(&d, sig_fd);
	}
	if (d.sim)
		anpusim_destroy(d.sim);
	ivs_server_fini(&d.ivs);
	munmap(bar, o.size);
	close(shm_fd);
	close(sig_fd);
	return rc;
}
