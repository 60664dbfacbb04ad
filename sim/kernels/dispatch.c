// SPDX-License-Identifier: MIT
/*
 * Chooses the kernel path once from cpuid or ANPU_SIM_SIMD.
 *
 * Global state: `current`, written once by pthread_once (and again only by
 * sim_kernels_select(), which tests call between runs).
 */
#include "kernels.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "anpusim.h"
#include "../sim_cpu.h"

static const struct sim_kernels *current;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static const struct sim_kernels *by_name(const char *name)
{
	if (!strcmp(name, "portable"))
		return &sim_kernels_portable;
	if (!strcmp(name, "avx2"))
		return &sim_kernels_avx2;
	if (!strcmp(name, "avxvnni"))
		return &sim_kernels_avxvnni;
	if (!strcmp(name, "avx512"))
		return &sim_kernels_avx512;
	return NULL;
}

/* CPU features each SIMD path is compiled for (its build flags in the Makefile). */
#define CPU_AVX2_PATH	(SIM_CPU_AVX2 | SIM_CPU_FMA | SIM_CPU_F16C)
#define CPU_AVXVNNI_PATH	(CPU_AVX2_PATH | SIM_CPU_AVXVNNI)
#define CPU_AVX512_PATH	(CPU_AVX2_PATH | SIM_CPU_AVX512F | SIM_CPU_AVX512BW | \
			 SIM_CPU_AVX512VL | SIM_CPU_AVX512DQ | SIM_CPU_AVX512VNNI | \
			 SIM_CPU_AVX512VBMI | SIM_CPU_AVX512BITALG | SIM_CPU_GFNI)

static int cpu_has(const struct sim_kernels *k)
{
	if (k == &sim_kernels_avx2)
		return sim_cpu_has(CPU_AVX2_PATH);
	if (k == &sim_kernels_avxvnni)
		return sim_cpu_has(CPU_AVXVNNI_PATH);
	if (k == &sim_kernels_avx512)
		return sim_cpu_has(CPU_AVX512_PATH);
	return 1;
}

static void choose(void)
{
	const char *env = getenv("ANPU_SIM_SIMD");
	const struct sim_kernels *k = env ? by_name(env) : NULL;

	if (k && cpu_has(k)) {
		current = k;
		return;
	}
	if (cpu_has(&sim_kernels_avx512))
		current = &sim_kernels_avx512;
	else if (cpu_has(&sim_kernels_avxvnni))
		current = &sim_kernels_avxvnni;
	else if (cpu_has(&sim_kernels_avx2))
		current = &sim_kernels_avx2;
	else
		current = &sim_kernels_portable;
}

const struct sim_kernels *sim_kernels_get(void)
{
	pthread_once(&choose_once, choose);
	return current;
}

int sim_kernels_supported(const char *name)
{
	const struct sim_kernels *k = by_name(name);

	return k && cpu_has(k);
}

int sim_kernels_select(const char *name)
{
	const struct sim_kernels *k = by_name(name);

	if (!k)
		return -EINVAL;
	if (!cpu_has(k))
		return -ENOTSUP;
	pthread_once(&choose_once, choose);
	current = k;
	return 0;
}

const char *anpusim_simd_path(void)
{
	return sim_kernels_get()->name;
}
