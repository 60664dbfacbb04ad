// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the command processor (sim_cp_run) on arbitrary streams.
 *
 * The BAR is an mmap whose every page the model has no business touching is
 * PROT_NONE (register page, unmapped device memory, a guard after the BAR),
 * and whose read-only mappings and page tables are PROT_READ: any access
 * outside the job's translated ranges, or a write through a read-only
 * mapping, faults and libFuzzer reports it. Runs synchronously on one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim/sim_clock.h"
#include "sim/sim_cp.h"
#include "sim/sim_pool.h"
#include "tests/fuzz/fuzz_layout.h"

#define DPA_L0		0x10000ull
#define DPA_L1		0x11000ull
#define DPA_L2		0x12000ull
#define DPA_STREAM	0x20000ull
#define DPA_RW1		0x40000ull
#define DPA_RW2		0x60000ull
#define DPA_RO		0x80000ull
#define DPA_STEP	0xa0000ull
#define DPA_LARGE	0x400000ull
#define GUARD		0x10000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The fuzzer's device: built once, reused by every input. */
static struct {
	uint8_t *bar;
	struct sim_pool *pool;
	struct sim_cp cp;
	struct sim_clock clock;
	size_t last_stream;
	int verbose;
} fz;

static void die(const char *what)
{
	perror(what);
	abort();
}

static void protect(uint64_t dpa, uint64_t len, int prot)
{
	if (mprotect(fz.bar + dpa, len, prot))
		die("mprotect");
}

static void pte(uint64_t table, uint64_t va, unsigned int level, uint64_t value)
{
	uint64_t *e = (uint64_t *)(void *)(fz.bar + table) + anpu_va_index(va, level);

	*e = value;
}

static void map(uint64_t va, uint64_t dpa, uint64_t size, int writable)
{
	for (uint64_t off = 0; off < size; off += ANPU_PAGE_SIZE)
		pte(DPA_L2, va + off, 2, anpu_pte_page(dpa + off, writable));
}

static void fill_ro(void)
{
	float *f = (float *)(void *)(fz.bar + DPA_RO);
	int32_t *ids = (int32_t *)(void *)(fz.bar + DPA_RO + FUZZ_RO_SIZE / 2);

	for (size_t i = 0; i < FUZZ_RO_SIZE / 8; i++) {
		f[i] = (float)((int)(i % 17) - 8) * 0.125f;
		ids[i] = (int32_t)(i % 4);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz.bar = mmap(NULL, FUZZ_BAR_SIZE + GUARD, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fz.bar == MAP_FAILED)
		die("mmap");
	pte(DPA_L0, FUZZ_VA_STREAM, 0, anpu_pte_table(DPA_L1));
	pte(DPA_L1, FUZZ_VA_STREAM, 1, anpu_pte_table(DPA_L2));
	pte(DPA_L1, FUZZ_VA_LARGE, 1, anpu_pte_large(DPA_LARGE, 1));
	map(FUZZ_VA_STREAM, DPA_STREAM, FUZZ_STREAM_MAX, 0);
	map(FUZZ_VA_RW1, DPA_RW1, FUZZ_RW1_SIZE, 1);
	map(FUZZ_VA_RW2, DPA_RW2, FUZZ_RW2_SIZE, 1);
	map(FUZZ_VA_RO, DPA_RO, FUZZ_RO_SIZE, 0);
	map(FUZZ_VA_STEP, DPA_STEP, ANPU_PAGE_SIZE, 0);
	fill_ro();

	/* everything the job cannot reach becomes inaccessible */
	protect(0, DPA_L0, PROT_NONE);
	protect(DPA_L0, 3 * ANPU_PAGE_SIZE, PROT_READ);
	protect(DPA_L2 + ANPU_PAGE_SIZE, DPA_STREAM - DPA_L2 - ANPU_PAGE_SIZE, PROT_NONE);
	protect(DPA_STREAM, FUZZ_STREAM_MAX, PROT_READ);
	protect(DPA_STREAM + FUZZ_STREAM_MAX, DPA_RW1 - DPA_STREAM - FUZZ_STREAM_MAX, PROT_NONE);
	protect(DPA_RW2 + FUZZ_RW2_SIZE, DPA_RO - DPA_RW2 - FUZZ_RW2_SIZE, PROT_NONE);
	protect(DPA_RO, FUZZ_RO_SIZE, PROT_READ);
	protect(DPA_RO + FUZZ_RO_SIZE, DPA_STEP - DPA_RO - FUZZ_RO_SIZE, PROT_NONE);
	protect(DPA_STEP + ANPU_PAGE_SIZE, DPA_LARGE - DPA_STEP - ANPU_PAGE_SIZE, PROT_NONE);
	protect(DPA_LARGE + ANPU_LARGE_PAGE_SIZE,
		FUZZ_BAR_SIZE + GUARD - DPA_LARGE - ANPU_LARGE_PAGE_SIZE, PROT_NONE);

	fz.pool = sim_pool_create(1, 0);
	if (!fz.pool)
		die("sim_pool_create");
	sim_cp_init(&fz.cp);
	sim_clock_init(&fz.clock);
	fz.verbose = getenv("FUZZ_CP_VERBOSE") != NULL;
	return 0;
}

static void load_inputs(const struct fuzz_cp_ctl *ctl, const uint8_t *stream, size_t len)
{
	uint32_t step[ANPU_STEP_PARAMS_MAX];

	for (uint32_t i = 0; i < ANPU_STEP_PARAMS_MAX; i++)
		step[i] = i < 3 ? ctl->step[i] : i;
	protect(DPA_STEP, ANPU_PAGE_SIZE, PROT_READ | PROT_WRITE);
	memcpy(fz.bar + DPA_STEP, step, sizeof(step));
	protect(DPA_STEP, ANPU_PAGE_SIZE, PROT_READ);

	protect(DPA_STREAM, FUZZ_STREAM_MAX, PROT_READ | PROT_WRITE);
	memcpy(fz.bar + DPA_STREAM, stream, len);
	if (fz.last_stream > len)
		memset(fz.bar + DPA_STREAM + len, 0, fz.last_stream - len);
	fz.last_stream = len;
	protect(DPA_STREAM, FUZZ_STREAM_MAX, PROT_READ);

	/* outputs start from a fixed state so a crash reproduces */
	memset(fz.bar + DPA_RW1, 0, FUZZ_RW1_SIZE);
	memset(fz.bar + DPA_RW2, 0, FUZZ_RW2_SIZE);
	memset(fz.bar + DPA_LARGE, 0, 0x10000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cp_ctl ctl;
	struct sim_cp_result res;
	struct sim_cp_job job;
	size_t len;

	if (size < sizeof(ctl))
		return -1;
	memcpy(&ctl, data, sizeof(ctl));
	len = size - sizeof(ctl);
	if (len > FUZZ_STREAM_MAX)
		return -1;
	load_inputs(&ctl, data + sizeof(ctl), len);

	job = (struct sim_cp_job){
		.bar = fz.bar,
		.bar_size = FUZZ_BAR_SIZE,
		.root = DPA_L0,
		.cmd_addr = FUZZ_VA_STREAM,
		.cmd_size = (uint32_t)len + ctl.cmd_size_slack,
		.flags = (ctl.flags & FUZZ_CTL_PROFILE) ? ANPU_DESC_F_PROFILE : 0,
		.profile_addr = (ctl.flags & FUZZ_CTL_PROFILE_LARGE) ? FUZZ_VA_LARGE : FUZZ_VA_RW2,
		.profile_size = ctl.profile_kib ? ctl.profile_kib * 1024u :
			(uint32_t)(sizeof(struct anpu_hw_profile_header) +
				   sizeof(struct anpu_hw_profile_record)),
		.pool = fz.pool,
		.clock_ns = sim_clock_now_cb,
		.clock_ctx = &fz.clock,
	};
	sim_cp_run(&fz.cp, &job, &res);
	if (fz.verbose)
		fprintf(stderr, "result %u cause %u op %u done %u fault 0x%llx\n", res.result,
			res.cause, res.op_index, res.ops_done, (unsigned long long)res.fault_addr);
	/* the status the model reports is always well formed */
	if (res.result > ANPU_RESULT_ABORTED || res.cause >= ANPU_CAUSE_COUNT ||
	    (res.result == ANPU_RESULT_OK) != (res.cause == ANPU_CAUSE_NONE) ||
	    res.ops_done > res.op_index)
		abort();
	return 0;
}
