// SPDX-License-Identifier: MIT
/*
 * anpu-bench-runtime: the runtime's benchmarks, one subcommand each, results as
 * JSON lines (scripts/bench-record.sh's convention).
 *
 *   anpu-bench-runtime gguf-open FILE [RUNS]
 *       runtime.gguf.open_ms: anpurt_model_open + anpurt_model_free of FILE (map,
 *       check every field, bind and check every tensor, describe), median of RUNS
 *       (default 20) after one warm-up run (page cache warm: the number is the
 *       runtime's work, not the disk's).
 *   anpu-bench-runtime bw-read [RUNS]
 *       runtime.bw.read_gbs: this machine's read bandwidth (all online threads,
 *       widest loads, bench/bw_read.h as the simulator benchmark), best of RUNS
 *       (default 8) reads of 256 MiB. A separate process from `model` so its
 *       buffer does not count in the model's peak RSS.
 *   anpu-bench-runtime model FILE LABEL [--runs N] [--threads T] [--bw GBS | --bw-probe]
 *                     [--ids-out FILE] ...
 *       one model in-process (bench/bench_rt_model.c): runtime.load/prefill/ttft/
 *       decode/rss.LABEL.*; with --bw (the bw-read figure of the same run) or
 *       --bw-probe (bw-read 4 in a child process just before and just after each
 *       timed decode) also runtime.decode.LABEL.roofline.
 *   anpu-bench-runtime responsive FILE LABEL --device DEV
 *       runtime.ttft.foreground_under_load_ratio: a HIGH session's time to first
 *       token while another process prefills at LOW priority on the same kernel
 *       device (bench/bench_rt_responsive.c; its `background FILE --device DEV`
 *       subcommand is that other process).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpurt.h"
#include "bench/bench_runtime.h"
#include "tools/common/anpu_cli.h"

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int open_once(const char *path, double *ms, struct anpurt_model_info *copy_to)
{
	struct anpurt_model *m;
	double t0 = now_ms();

	if (anpurt_model_open(path, NULL, &m)) {
		fprintf(stderr, "anpu-bench-runtime: %s\n", anpurt_last_error());
		return -1;
	}
	if (copy_to)
		*copy_to = *anpurt_model_info(m);
	anpurt_model_free(m);
	*ms = now_ms() - t0;
	return 0;
}

static int bench_gguf_open(const char *path, int runs)
{
	struct anpurt_model_info info = { 0 };
	double *ms = calloc((size_t)runs, sizeof(*ms)), warm;
	int i;

	if (!ms || open_once(path, &warm, &info)) {
		free(ms);
		return 1;
	}
	for (i = 0; i < runs; i++)
		if (open_once(path, &ms[i], NULL)) {
			free(ms);
			return 1;
		}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("{\"name\":\"runtime.gguf.open_ms\",\"value\":%.3f,\"unit\":\"ms\",\"min_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"runs\":%d,\"architecture\":\"%s\",\"n_tensors\":%u,"
	       "\"file_bytes\":%llu}\n", ms[runs / 2], ms[0], ms[runs - 1], runs,
	       info.architecture, info.n_tensors, (unsigned long long)info.file_bytes);
	free(ms);
	return 0;
}

static int runs_arg(const char *s, int *runs)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 100000) {
		fprintf(stderr, "anpu-bench-runtime: RUNS must be 1 to 100000\n");
		return 2;
	}
	*runs = (int)v;
	return 0;
}

#define PROG "anpu-bench-runtime"
#define USAGE "Usage: " PROG " gguf-open FILE [RUNS] | bw-read [RUNS] |\n" \
	"       model FILE LABEL [--runs N] [--threads T] [--bw GBS] [--bw-probe] [--ids-out FILE]\n" \
	"       [--device DEV] [--decode-only] [--long N] [--batch N] [--responsive] |\n" \
	"       responsive FILE LABEL --device DEV | -h | --help | --version\n" \
	"  JSON lines on stdout\n" \
	"  gguf-open FILE [RUNS]  open+check time of a GGUF file (best of RUNS, default 20)\n" \
	"  bw-read [RUNS]         memory read bandwidth (best of RUNS, default 8)\n" \
	"  model FILE LABEL       load, prefill, decode, time to first token of a model\n" \
	"    --runs N             timed runs\n" \
	"    --threads T          model worker threads\n" \
	"    --bw GBS             the machine's read bandwidth, for the decode's fraction of it\n" \
	"    --bw-probe           instead, probe it just before and after each timed decode\n" \
	"    --ids-out FILE       write the prompt's 512 ids (JSON array) for llama.cpp\n" \
	"    --device DEV         libaccel device (default: the in-process NPU)\n" \
	"    --decode-only        only the p128 prefill and the decode (the VM benchmark)\n" \
	"    --long N             also decode at position N (>= 256) and at position 1\n" \
	"    --batch N            also N sessions decoding together (2..32) against one alone\n" \
	"    --responsive         also a HIGH session's time to first token under a LOW prefill\n" \
	"  responsive FILE LABEL --device DEV  the same with the LOW prefill in another\n" \
	"                         process on kernel device DEV (anpu.ko, e.g. in anpu-vp)\n" \
	"  -h, --help             print this help and exit\n" \
	"  --version              print the version and exit\n"

int main(int argc, char **argv)
{
	int runs = 20;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf(USAGE);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version"))
		return anpu_cli_version(PROG);
	if (argc >= 2 && !strcmp(argv[1], "bw-read") && argc <= 3) {
		runs = 8;
		if (argc == 3 && runs_arg(argv[2], &runs))
			return 2;
		return bench_bw_read(runs);
	}
	if (argc >= 4 && !strcmp(argv[1], "model"))
		return bench_model(argc - 2, argv + 2);
	if (argc >= 4 && !strcmp(argv[1], "responsive"))
		return bench_responsive_processes(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "background"))
		return bench_background(argc - 2, argv + 2);
	if (argc < 2)
		return anpu_cli_usage_error(PROG, "no subcommand (gguf-open, bw-read, model or responsive)");
	if (argv[1][0] == '-')
		return anpu_cli_usage_error(PROG, "unknown option '%s'", argv[1]);
	if (argc < 3 || argc > 4 || strcmp(argv[1], "gguf-open"))
		return anpu_cli_usage_error(PROG, "bad arguments to '%s'", argv[1]);
	if (argc == 4 && runs_arg(argv[3], &runs))
		return 2;
	return bench_gguf_open(argv[2], runs);
}
