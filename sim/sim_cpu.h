/* SPDX-License-Identifier: MIT */
/*
 * Host CPU features the SIMD kernel paths need, read once with cpuid and
 * XGETBV (so a feature counts only when the OS saves its registers too).
 * Used instead of __builtin_cpu_supports, which clang 14 lacks some names for
 * and which needs __builtin_cpu_init ordering care.
 */
#ifndef SIM_CPU_H
#define SIM_CPU_H

#define SIM_CPU_AVX2		(1u << 0)
#define SIM_CPU_FMA		(1u << 1)
#define SIM_CPU_F16C		(1u << 2)
#define SIM_CPU_AVX512F		(1u << 3)
#define SIM_CPU_AVX512BW	(1u << 4)
#define SIM_CPU_AVX512VL	(1u << 5)
#define SIM_CPU_AVX512DQ	(1u << 6)
#define SIM_CPU_AVX512VNNI	(1u << 7)
#define SIM_CPU_AVX512VBMI	(1u << 8)
#define SIM_CPU_AVX512BITALG	(1u << 9)
#define SIM_CPU_AVXVNNI		(1u << 10)	/* VEX vpdpbusd/vpdpwssd (AVX-VNNI) */
#define SIM_CPU_GFNI		(1u << 11)	/* GF2P8AFFINEQB and friends */

/* SIM_CPU_* bits of this host; thread-safe, computed on first use. */
unsigned int sim_cpu_features(void);

/* True when every bit of @mask is present. */
static inline int sim_cpu_has(unsigned int mask)
{
	return (sim_cpu_features() & mask) == mask;
}

#endif /* SIM_CPU_H */
