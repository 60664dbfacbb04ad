// SPDX-License-Identifier: MIT
/*
 * runtime.bw.read_gbs: the read bandwidth the decode roofline divides by,
 * measured in the same `make bench-runtime` run as the decode figures. All
 * online threads read disjoint parts of a 256 MiB slice with the widest loads
 * (bench/bw_read.h, the simulator benchmark's probes); consecutive reads take
 * the two halves of a 512 MiB buffer in turn so none is served from cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_runtime.h"
#include "bench/bw_read.h"

extern char **environ;

#define BW_SLICE	(256ull << 20)
#define BW_MAX_THREADS	64

struct bw_part {
	const uint8_t *p;
	size_t n;
	int avx512;
	uint64_t sink;
};

static void *bw_thread(void *arg)
{
	struct bw_part *part = arg;

	part->sink = part->avx512 ? bw_read_avx512(part->p, part->n) : bw_read_avx2(part->p, part->n);
	return NULL;
}

int bench_bw_read(int runs)
{
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	uint8_t *buf = aligned_alloc(4096, 2 * BW_SLICE);
	struct bw_part part[BW_MAX_THREADS];
	pthread_t tid[BW_MAX_THREADS];
	double best = 0;
	size_t per;
	int avx512;

	if (!buf) {
		fprintf(stderr, "anpu-bench-runtime: no memory for the bandwidth buffer\n");
		return 1;
	}
	nthreads = nthreads < 1 ? 1 : nthreads > BW_MAX_THREADS ? BW_MAX_THREADS : nthreads;
	per = BW_SLICE / (size_t)nthreads & ~(size_t)255;
	memset(buf, 1, 2 * BW_SLICE);
	__builtin_cpu_init();
	avx512 = __builtin_cpu_supports("avx512f");
	for (int r = 0; r <= runs; r++) {	/* read 0 warms up */
		const uint8_t *base = buf + (size_t)(r & 1) * BW_SLICE;
		double t0 = now_ms(), gbs;

		for (long i = 0; i < nthreads; i++) {
			part[i] = (struct bw_part){ base + (size_t)i * per, per, avx512, 0 };
			if (pthread_create(&tid[i], NULL, bw_thread, &part[i])) {
				fprintf(stderr, "anpu-bench-runtime: pthread_create failed\n");
				exit(1);
			}
		}
		for (long i = 0; i < nthreads; i++)
			pthread_join(tid[i], NULL);
		gbs = (double)per * (double)nthreads / ((now_ms() - t0) / 1e3) / 1e9;
		if (r && gbs > best)
			best = gbs;
	}
	free(buf);
	printf("{\"name\":\"runtime.bw.read_gbs\",\"value\":%.3f,\"unit\":\"GB/s\",\"threads\":%ld,"
	       "\"runs\":%d,\"avx512\":%d}\n", best, nthreads, runs, avx512);
	return 0;
}

/*
 * The read bandwidth now, for a roofline of the run about to start or just
 * done: `bw-read 4` in a child process (its 512 MiB buffer stays out of the
 * caller's peak RSS; posix_spawn, not fork, from a process with model
 * threads). Returns the GB/s, or a negative errno with a message on stderr.
 */
double bench_bw_probe(void)
{
	char *const argv[] = { "anpu-bench-runtime", "bw-read", "4", NULL };
	posix_spawn_file_actions_t fa;
	char out[512];
	const char *v;
	size_t len = 0;
	ssize_t got;
	int fds[2], status, err;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	err = posix_spawn_file_actions_init(&fa);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	if (!err)
		err = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		fprintf(stderr, "anpu-bench-runtime: bandwidth probe: %s\n", strerror(err));
		return -err;
	}
	while (len < sizeof(out) - 1 &&
	       ((got = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0 ||
		(got < 0 && errno == EINTR)))
		len += got > 0 ? (size_t)got : 0;
	out[len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	v = strstr(out, "\"value\":");
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !v) {
		fprintf(stderr, "anpu-bench-runtime: bandwidth probe failed\n");
		return -EIO;
	}
	return strtod(v + strlen("\"value\":"), NULL);
}
