/* SPDX-License-Identifier: MIT */
/* rt_now_ns(): the monotonic clock in nanoseconds, for the runtime's statistics. */
#ifndef RT_TIME_H
#define RT_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
