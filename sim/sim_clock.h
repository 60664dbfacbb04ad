/* SPDX-License-Identifier: MIT */
/* The device clock: nanoseconds since the device was created (CLOCK_MONOTONIC). */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdint.h>

struct sim_clock {
	uint64_t base_ns;	/* CLOCK_MONOTONIC at device creation */
};

void sim_clock_init(struct sim_clock *clock);
uint64_t sim_clock_now(const struct sim_clock *clock);
/* Adapter for struct sim_exec.clock_ns (ctx is a struct sim_clock). */
uint64_t sim_clock_now_cb(void *ctx);

#endif /* SIM_CLOCK_H */
