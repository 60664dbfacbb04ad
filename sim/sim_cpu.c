// SPDX-License-Identifier: MIT
/*
 * CPU feature detection. Global state: the feature word, written once under
 * pthread_once and read-only afterwards.
 */
#include "sim_cpu.h"

#include <pthread.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static unsigned int features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
static unsigned long long xgetbv0(void)
{
	unsigned int lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((unsigned long long)hi << 32) | lo;
}

static void detect(void)
{
	unsigned int a, b, c, d, f = 0;
	unsigned long long xcr0;
	int os_avx, os_avx512;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return;
	/* OSXSAVE (ecx bit 27) is needed before XGETBV may run */
	if (!(c & (1u << 27)))
		return;
	xcr0 = xgetbv0();
	os_avx = (xcr0 & 0x6) == 0x6;		/* XMM and YMM state */
	os_avx512 = (xcr0 & 0xe6) == 0xe6;	/* + opmask, ZMM_Hi256, Hi16_ZMM */
	if (!os_avx)
		return;
	if (c & (1u << 12))
		f |= SIM_CPU_FMA;
	if (c & (1u << 29))
		f |= SIM_CPU_F16C;
	if (__get_cpuid_max(0, NULL) >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		if (b & (1u << 5))
			f |= SIM_CPU_AVX2;
		if (c & (1u << 8))
			f |= SIM_CPU_GFNI;
		if (a >= 1) {	/* leaf 7's subleaf 1: eax bit 4 */
			unsigned int a1, b1, c1, d1;

			__cpuid_count(7, 1, a1, b1, c1, d1);
			if (a1 & (1u << 4))
				f |= SIM_CPU_AVXVNNI;
		}
		if (os_avx512) {
			if (b & (1u << 16))
				f |= SIM_CPU_AVX512F;
			if (b & (1u << 17))
				f |= SIM_CPU_AVX512DQ;
			if (b & (1u << 30))
				f |= SIM_CPU_AVX512BW;
			if (b & (1u << 31))
				f |= SIM_CPU_AVX512VL;
			if (c & (1u << 1))
				f |= SIM_CPU_AVX512VBMI;
			if (c & (1u << 11))
				f |= SIM_CPU_AVX512VNNI;
			if (c & (1u << 12))
				f |= SIM_CPU_AVX512BITALG;
		}
	}
	features = f;
}
#else
static void detect(void)
{
}
#endif

unsigned int sim_cpu_features(void)
{
	pthread_once(&features_once, detect);
	return features;
}
