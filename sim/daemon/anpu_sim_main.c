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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: anpu-sim --socket PATH [--dev-mem SIZE] [--threads N] [-v]\n"
		"  the ANPU device model as the ivshmem-doorbell server for QEMU\n"
		"  --socket PATH   UNIX socket QEMU connects to (-chardev socket,path=PATH)\n"
		"  --dev-mem SIZE  BAR2 size, a power of two, %llu MiB..%llu GiB (default 1G)\n"
		"  --threads N     model worker threads (default 1, never spinning)\n"
		"  -v              log connections, doorbells and interrupts\n"
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dev-mem", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	uint64_t size = 1ull << 30;
	unsigned int threads = 1;
	struct daemon d;
	struct pollfd pfd[3 + ANPU_HW_NUM_VECTORS];
	sigset_t sigs;
	void *bar;
	int c, shm_fd, sig_fd, err, rc = 1;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "s:m:t:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &size)) {
				fprintf(stderr, "anpu-sim: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			threads = (unsigned int)strtoul(optarg, NULL, 0);
			if (threads == 0 || threads > 256) {
				fprintf(stderr, "anpu-sim: bad thread count '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v':
			d.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (size < ANPU_BAR_MIN_SIZE || size > ANPU_BAR_MAX_SIZE || (size & (size - 1))) {
		fprintf(stderr,
			"anpu-sim: --dev-mem %" PRIu64 ": BAR2 must be a power of two between %llu MiB and %llu GiB (QEMU requires a power of two)\n",
			size, (unsigned long long)(ANPU_BAR_MIN_SIZE >> 20),
			(unsigned long long)(ANPU_BAR_MAX_SIZE >> 30));
		return 2;
	}

	/* Signals arrive on a signalfd; block them before any thread starts. */
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
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sig_fd < 0) {
		perror("anpu-sim: signalfd");
		return 1;
	}

	shm_fd = memfd_create("anpu-bar2", MFD_CLOEXEC);
	if (shm_fd < 0 || ftruncate(shm_fd, (off_t)size) < 0) {
		perror("anpu-sim: shared memory");
		return 1;
	}
	bar = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	if (bar == MAP_FAILED) {
		perror("anpu-sim: mmap");
		return 1;
	}

	err = ivs_server_init(&d.ivs, path, shm_fd, ANPU_HW_NUM_VECTORS, d.verbose);
	if (err) {
		if (err != -EADDRINUSE && err != -EEXIST && err != -ENAMETOOLONG)
			fprintf(stderr, "anpu-sim: %s: %s\n", path, strerror(-err));
		return 1;
	}

	d.params = anpusim_default_params();
	d.params.bar_size = size;
	d.params.bar = bar;
	d.params.threads = threads;
	d.params.spin_us = 0;
	d.params.irq = irq_cb;
	d.params.irq_ctx = &d;
	if (device_start(&d))
		goto out;
	if (d.verbose)
		fprintf(stderr, "anpu-sim: listening on %s, BAR2 %" PRIu64 " MiB, %u thread(s), simd %s\n",
			path, size >> 20, anpusim_threads(d.sim), anpusim_simd_path());

	for (;;) {
		unsigned int n = 0, nvec = ANPU_HW_NUM_VECTORS;

		pfd[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = d.ivs.listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = d.ivs.client_fd, .events = POLLIN };
		for (unsigned int v = 0; v < nvec; v++)
			pfd[n++] = (struct pollfd){ .fd = d.ivs.own_fd[v], .events = POLLIN };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("anpu-sim: poll");
			goto out;
		}
		if (pfd[0].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si) && d.verbose)
				fprintf(stderr, "anpu-sim: signal %u, shutting down\n", si.ssi_signo);
			rc = 0;
			break;
		}
		/* Doorbells before a disconnect, so nothing rung is lost. */
		for (unsigned int v = 0; v < nvec; v++) {
			uint64_t cnt;

			if (!(pfd[3 + v].revents & POLLIN))
				continue;
			if (read(d.ivs.own_fd[v], &cnt, sizeof(cnt)) != sizeof(cnt))
				continue;
			d.doorbells++;
			if (d.verbose)
				fprintf(stderr, "anpu-sim: doorbell %u (x%" PRIu64 ")\n", v, cnt);
			anpusim_doorbell(d.sim, v);
		}
		if (pfd[2].revents) {
			char buf[64];
			ssize_t r = recv(d.ivs.client_fd, buf, sizeof(buf), MSG_DONTWAIT);

			/* QEMU never sends: data is ignored, EOF/error means it is gone */
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
			    (pfd[2].revents & (POLLHUP | POLLERR))) {
				ivs_server_drop_client(&d.ivs);
				if (d.verbose)
					fprintf(stderr, "anpu-sim: guest gone (%" PRIu64 " doorbells, %" PRIu64 " interrupts); device reset\n",
						d.doorbells, d.irqs);
				if (device_restart(&d))
					goto out;
			}
		}
		if (pfd[1].revents & POLLIN) {
			err = ivs_server_accept(&d.ivs);
			if (err < 0) {
				fprintf(stderr, "anpu-sim: accept: %s\n", strerror(-err));
				goto out;
			}
		}
	}
out:
	if (d.sim)
		anpusim_destroy(d.sim);
	ivs_server_fini(&d.ivs);
	munmap(bar, size);
	close(shm_fd);
	close(sig_fd);
	return rc;
}
