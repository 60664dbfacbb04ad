// SPDX-License-Identifier: MIT
#include "sim_clock.h"

#include <time.h>

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sim_clock_init(struct sim_clock *clock)
{
	clock->base_ns = monotonic_ns();
}

uint64_t sim_clock_now(const struct sim_clock *clock)
{
	return monotonic_ns() - clock->base_ns;
}

uint64_t sim_clock_now_cb(void *ctx)
{
	return sim_clock_now(ctx);
}
