/* SPDX-License-Identifier: MIT */
/*
 * NPU MMU of the model: three-level page walks (4 KiB pages, 2 MiB large
 * pages) over page tables in device memory, as hw/anpu_hwif.h defines them.
 *
 * Every page-table entry is read exactly once per walk with an atomic load:
 * the guest may rewrite tables while the model walks them, and the model must
 * never act on a value it did not check.
 */
#ifndef SIM_MMU_H
#define SIM_MMU_H

#include <stdbool.h>
#include <stdint.h>

struct sim_mmu {
	uint8_t *bar;		/* BAR2 in host memory */
	uint64_t bar_size;	/* bytes of BAR2; device memory is [DEVMEM_BASE, bar_size) */
	uint64_t root;		/* DPA of the level-0 table (AS_ROOT snapshot) */
};

/* One translated page. */
struct sim_mmu_page {
	uint64_t dpa;		/* DPA of the translated address */
	uint64_t avail;		/* bytes from there to the end of the page */
	bool writable;
};

/* True when [dpa, dpa + len) lies inside device memory. */
bool sim_mmu_dpa_ok(uint64_t bar_size, uint64_t dpa, uint64_t len);

/*
 * Translate the single address @va. Returns 0 or an ANPU_CAUSE_*
 * (UNMAPPED, PAGE_TABLE); *fault_addr is @va for UNMAPPED and the DPA of the
 * offending table or entry for PAGE_TABLE.
 */
uint32_t sim_mmu_walk(const struct sim_mmu *mmu, uint64_t va,
		      struct sim_mmu_page *page, uint64_t *fault_addr);

/*
 * Translate [va, va + len) (len >= 1) needing read, or read+write when
 * @write. The range must map to one physically contiguous run of device
 * memory. Returns 0 and the DPA of @va, or an ANPU_CAUSE_* (UNMAPPED,
 * PERMISSION, STRADDLE, PAGE_TABLE) and the faulting address.
 */
uint32_t sim_mmu_translate(const struct sim_mmu *mmu, uint64_t va, uint64_t len,
			   bool write, uint64_t *dpa, uint64_t *fault_addr);

#endif /* SIM_MMU_H */
