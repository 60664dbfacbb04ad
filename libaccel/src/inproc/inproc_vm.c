// SPDX-License-Identifier: MIT
/*
 * Address spaces: one per device handle. Page tables are built with the
 * hw/ encoders in device memory; 2 MiB pages for large BOs, 4 KiB pages
 * otherwise; every BO is followed by an unmapped guard page in NPU address
 * space, so a tensor can never run from one BO into the next.
 */
#include "inproc_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t *host_pte(struct inproc_hw *hw, uint64_t table, unsigned int index)
{
	return (uint64_t *)(void *)(hw->bar + table) + index;
}

static void store_pte(uint64_t *pte, uint64_t v)
{
	atomic_store_explicit((_Atomic uint64_t *)pte, v, memory_order_relaxed);
}

static int new_table(struct inproc_file *f, uint64_t *dpa)
{
	struct inproc_hw *hw = f->hw;
	int ret;

	if (f->n_tables == f->cap_tables) {
		size_t cap = f->cap_tables ? f->cap_tables * 2 : 16;
		uint64_t *v = realloc(f->tables, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->tables = v;
		f->cap_tables = cap;
	}
	ret = inproc_mem_alloc_locked(hw, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE, dpa);
	if (ret)
		return ret;
	memset(hw->bar + *dpa, 0, ANPU_PAGE_SIZE);
	f->tables[f->n_tables++] = *dpa;
	return 0;
}

/* The entry for @va at @level, creating the tables above it; NULL on failure. */
static uint64_t *walk(struct inproc_file *f, uint64_t va, unsigned int level)
{
	uint64_t table = f->root;

	for (unsigned int l = 0; l < level; l++) {
		uint64_t *e = host_pte(f->hw, table, anpu_va_index(va, l));

		if (!(*e & ANPU_PTE_VALID)) {
			uint64_t t;

			if (new_table(f, &t))
				return NULL;
			store_pte(e, anpu_pte_table(t));
		} else if (*e & ANPU_PTE_LARGE) {
			return NULL;
		}
		table = anpu_pte_addr(*e);
	}
	return host_pte(f->hw, table, anpu_va_index(va, level));
}

int inproc_file_vm_init(struct inproc_file *f)
{
	int ret = inproc_ranges_init(&f->va, INPROC_VA_BASE, (1ull << ANPU_VA_BITS) - INPROC_VA_BASE);

	if (ret)
		return ret;
	ret = new_table(f, &f->root);
	if (ret) {
		inproc_ranges_fini(&f->va);
		return ret;
	}
	return 0;
}

void inproc_file_vm_fini(struct inproc_file *f)
{
	for (size_t i = 0; i < f->n_tables; i++)
		inproc_mem_free_locked(f->hw, f->tables[i], ANPU_PAGE_SIZE);
	free(f->tables);
	f->tables = NULL;
	f->n_tables = f->cap_tables = 0;
	inproc_ranges_fini(&f->va);
}

int inproc_vm_map_locked(struct inproc_file *f, struct inproc_mem *mem, bool writable,
			 uint64_t *va_out, uint64_t *va_bytes_out)
{
	uint64_t page = mem->large ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;
	uint64_t va_bytes = mem->bytes + ANPU_PAGE_SIZE;	/* + the guard page */
	uint64_t va;
	int ret = inproc_ranges_alloc(&f->va, va_bytes, page, &va);

	if (ret)
		return ret;
	for (uint64_t off = 0; off < mem->bytes; off += page) {
		uint64_t *e = walk(f, va + off, mem->large ? 1 : 2);

		if (!e) {
			inproc_vm_unmap_locked(f, va, va_bytes, mem);
			return -ENOMEM;
		}
		store_pte(e, mem->large ? anpu_pte_large(mem->dpa + off, writable) :
					  anpu_pte_page(mem->dpa + off, writable));
	}
	atomic_thread_fence(memory_order_release);
	*va_out = va;
	*va_bytes_out = va_bytes;
	return 0;
}

void inproc_vm_unmap_locked(struct inproc_file *f, uint64_t va, uint64_t va_bytes,
			    const struct inproc_mem *mem)
{
	uint64_t page = mem->large ? ANPU_LARGE_PAGE_SIZE : ANPU_PAGE_SIZE;

	for (uint64_t off = 0; off < mem->bytes; off += page) {
		uint64_t table = f->root;
		unsigned int level = mem->large ? 1 : 2;
		uint64_t *e = NULL;

		/* walk without creating: a partly built mapping stops early */
		for (unsigned int l = 0; l <= level; l++) {
			uint64_t *x = host_pte(f->hw, table, anpu_va_index(va + off, l));

			if (l == level) {
				e = x;
				break;
			}
			if (!(*x & ANPU_PTE_VALID) || (*x & ANPU_PTE_LARGE))
				break;
			table = anpu_pte_addr(*x);
		}
		if (e)
			store_pte(e, 0);
	}
	atomic_thread_fence(memory_order_release);
	(void)inproc_ranges_free(&f->va, va, va_bytes);
}
