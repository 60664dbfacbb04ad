/* SPDX-License-Identifier: MIT */
/* anpu-bench-runtime's subcommands (bench/bench_runtime.c dispatches). */
#ifndef BENCH_RUNTIME_H
#define BENCH_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds */
double now_ms(void);

/* runtime.bw.read_gbs, best of @runs reads (bench/bench_rt_bw.c) */
int bench_bw_read(int runs);
/* the same (`bw-read 4`) in a child process, in GB/s; negative errno on failure */
double bench_bw_probe(void);

/* `model FILE LABEL [options]`: @argc/@argv start at FILE (bench/bench_rt_model.c) */
int bench_model(int argc, char **argv);

struct anpurt_model;
struct anpurt_engine;

/* the prompt: @n ids of a fixed English text in @model's vocabulary (bench_rt_model.c) */
int bench_prompt_ids(const struct anpurt_model *model, int32_t *ids, size_t n);

/* "anpu-bench-runtime: WHAT: <anpurt_last_error()>" on stderr; returns 1 */
int bench_fail(const char *what);

/* the context the responsive figures' sessions are sized for (a 2000-token prompt) */
#define BENCH_RESPONSIVE_CTX	2008

/* runtime.ttft.LABEL.foreground_under_load_ratio: two sessions of @engine
 * (bench/bench_rt_responsive.c, as the next two) */
int bench_responsive_sessions(struct anpurt_engine *engine, const struct anpurt_model *model,
			      const char *label);

/* `responsive FILE LABEL --device DEV`: runtime.ttft.foreground_under_load_ratio of
 * two processes; @argc/@argv start at FILE */
int bench_responsive_processes(int argc, char **argv);

/* `background FILE --device DEV`: the other process of that figure */
int bench_background(int argc, char **argv);

#endif
