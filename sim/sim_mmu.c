// SPDX-License-Identifier: MIT
#include "sim_mmu.h"

#include "../hw/anpu_hwif.h"
#include "sim_regs.h"

#define VA_LIMIT	(1ull << ANPU_VA_BITS)

bool sim_mmu_dpa_ok(uint64_t bar_size, uint64_t dpa, uint64_t len)
{
	return dpa >= ANPU_DEVMEM_BASE && dpa <= bar_size && len <= bar_size - dpa;
}

static bool table_ok(const struct sim_mmu *mmu, uint64_t table)
{
	return (table & (ANPU_PAGE_SIZE - 1)) == 0 &&
	       sim_mmu_dpa_ok(mmu->bar_size, table, ANPU_PAGE_SIZE);
}

/* Reads entry @index of the (checked) table at DPA @table. */
static uint64_t read_pte(const struct sim_mmu *mmu, uint64_t table, unsigned int index)
{
	return atomic_load_explicit((_Atomic uint64_t *)(void *)(mmu->bar + table + 8ull * index),
				    memory_order_relaxed);
}

uint32_t sim_mmu_walk(const struct sim_mmu *mmu, uint64_t va,
		      struct sim_mmu_page *page, uint64_t *fault_addr)
{
	uint64_t table = mmu->root;

	if (va < ANPU_PAGE_SIZE || va >= VA_LIMIT) {
		*fault_addr = va;
		return ANPU_CAUSE_UNMAPPED;
	}
	if (!table_ok(mmu, table)) {
		*fault_addr = table;
		return ANPU_CAUSE_PAGE_TABLE;
	}
	for (unsigned int level = 0; level < ANPU_PT_LEVELS; level++) {
		uint64_t entry_dpa = table + 8ull * anpu_va_index(va, level);
		uint64_t pte = read_pte(mmu, table, anpu_va_index(va, level));
		uint64_t addr = anpu_pte_addr(pte);
		bool leaf = level == ANPU_PT_LEVELS - 1 || (pte & ANPU_PTE_LARGE);

		if (!(pte & ANPU_PTE_VALID)) {
			*fault_addr = va;
			return ANPU_CAUSE_UNMAPPED;
		}
		if ((pte & ANPU_PTE_RESERVED_MASK) ||
		    ((pte & ANPU_PTE_LARGE) && level != 1) ||
		    ((pte & ANPU_PTE_WRITE) && !leaf)) {
			*fault_addr = entry_dpa;
			return ANPU_CAUSE_PAGE_TABLE;
		}
		if (!leaf) {
			if (!table_ok(mmu, addr)) {
				*fault_addr = entry_dpa;
				return ANPU_CAUSE_PAGE_TABLE;
			}
			table = addr;
			continue;
		}
		uint64_t size = level == 1 ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;

		/* a large page's address must be 2 MiB aligned and the page in memory */
		if ((addr & (size - 1)) || !sim_mmu_dpa_ok(mmu->bar_size, addr, size)) {
			*fault_addr = entry_dpa;
			return ANPU_CAUSE_PAGE_TABLE;
		}
		page->dpa = addr + (va & (size - 1));
		page->avail = size - (va & (size - 1));
		page->writable = (pte & ANPU_PTE_WRITE) != 0;
		return 0;
	}
	/* not reached: level 2 is always a leaf */
	*fault_addr = va;
	return ANPU_CAUSE_UNMAPPED;
}

uint32_t sim_mmu_translate(const struct sim_mmu *mmu, uint64_t va, uint64_t len,
			   bool write, uint64_t *dpa, uint64_t *fault_addr)
{
	uint64_t done = 0, first = 0;

	if (len == 0 || va >= VA_LIMIT || len > VA_LIMIT - va) {
		*fault_addr = va >= VA_LIMIT ? va : VA_LIMIT;
		if (len == 0)
			*fault_addr = va;
		return ANPU_CAUSE_UNMAPPED;
	}
	while (done < len) {
		struct sim_mmu_page page;
		uint64_t cur = va + done;
		uint32_t cause = sim_mmu_walk(mmu, cur, &page, fault_addr);

		if (cause)
			return cause;
		if (write && !page.writable) {
			*fault_addr = cur;
			return ANPU_CAUSE_PERMISSION;
		}
		if (done == 0)
			first = page.dpa;
		else if (page.dpa != first + done) {
			*fault_addr = cur;
			return ANPU_CAUSE_STRADDLE;
		}
		done += page.avail;
	}
	*dpa = first;
	return 0;
}
