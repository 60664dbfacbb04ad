/* SPDX-License-Identifier: MIT */
/* anpu-bench-runtime's subcommands (bench/bench_runtime.c dispatches). */
#ifndef BENCH_RUNTIME_H
#define BENCH_RUNTIME_H

/* CLOCK_MONOTONIC in milliseconds */
double now_ms(void);

/* runtime.bw.read_gbs, best of @runs reads (bench/bench_rt_bw.c) */
int bench_bw_read(int runs);

/* `model FILE LABEL [options]`: @argc/@argv start at FILE (bench/bench_rt_model.c) */
int bench_model(int argc, char **argv);

#endif
