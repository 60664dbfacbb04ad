// SPDX-License-Identifier: MIT
/* Page walks of the model's MMU (sim/sim_mmu.c) over tables built by simdev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/sim_mmu.h"
#include "tests/lib/simdev.h"

#define AS	1

static int setup(void **state)
{
	static struct simdev d;

	if (simdev_open(&d, ANPU_BAR_MIN_SIZE * 2, 1) || simdev_as_create(&d, AS))
		return -1;
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	simdev_close(*state);
	return 0;
}

static struct sim_mmu mmu_of(struct simdev *d)
{
	return (struct sim_mmu){ .bar = d->bar, .bar_size = d->bar_size, .root = d->root[AS] };
}

static uint32_t xlate(struct simdev *d, uint64_t va, uint64_t len, bool write,
		      uint64_t *dpa, uint64_t *fault)
{
	struct sim_mmu m = mmu_of(d);

	*dpa = 0;
	*fault = 0;
	return sim_mmu_translate(&m, va, len, write, dpa, fault);
}

static void test_4k_page_translates_to_its_dpa(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	assert_int_equal(simdev_map(d, AS, 0x10000000, page, ANPU_PAGE_SIZE, false, false), 0);
	assert_int_equal(xlate(d, 0x10000123, 16, false, &dpa, &fault), 0);
	assert_int_equal(dpa, page + 0x123);
}

static void test_2m_page_translates_offset_within_it(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_LARGE_PAGE_SIZE, ANPU_LARGE_PAGE_SIZE), dpa, fault;

	assert_int_equal(simdev_map(d, AS, 0x20000000, page, ANPU_LARGE_PAGE_SIZE, true, true), 0);
	assert_int_equal(anpu_pte_addr(*simdev_pte(d, AS, 0x20000000, 1)), page);
	assert_int_equal(xlate(d, 0x20012340, 0x1000, true, &dpa, &fault), 0);
	assert_int_equal(dpa, page + 0x12340);
	/* a range over the whole large page is one contiguous run */
	assert_int_equal(xlate(d, 0x20000000, ANPU_LARGE_PAGE_SIZE, true, &dpa, &fault), 0);
}

static void test_unmapped_address_faults_at_that_address(void **state)
{
	struct simdev *d = *state;
	uint64_t dpa, fault;

	assert_int_equal(xlate(d, 0x30000040, 8, false, &dpa, &fault), ANPU_CAUSE_UNMAPPED);
	assert_int_equal(fault, 0x30000040);
}

static void test_range_running_into_unmapped_page_faults_at_that_page(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	assert_int_equal(simdev_map(d, AS, 0x31000000, page, ANPU_PAGE_SIZE, true, false), 0);
	assert_int_equal(xlate(d, 0x31000f00, 0x200, false, &dpa, &fault), ANPU_CAUSE_UNMAPPED);
	assert_int_equal(fault, 0x31001000);
}

static void test_address_zero_page_is_never_mapped(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	/* even with a valid entry for it */
	*simdev_pte(d, AS, 0, 2) = anpu_pte_page(page, 1);
	assert_int_equal(xlate(d, 0, 4, false, &dpa, &fault), ANPU_CAUSE_UNMAPPED);
	assert_int_equal(xlate(d, 0xffc, 4, false, &dpa, &fault), ANPU_CAUSE_UNMAPPED);
	assert_int_equal(fault, 0xffc);
}

static void test_address_beyond_39_bits_is_unmapped(void **state)
{
	struct simdev *d = *state;
	uint64_t dpa, fault;

	assert_int_equal(xlate(d, 1ull << ANPU_VA_BITS, 4, false, &dpa, &fault),
			 ANPU_CAUSE_UNMAPPED);
	assert_int_equal(xlate(d, UINT64_MAX - 3, 8, false, &dpa, &fault), ANPU_CAUSE_UNMAPPED);
}

static void test_write_to_read_only_page_faults_permission(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	assert_int_equal(simdev_map(d, AS, 0x40000000, page, ANPU_PAGE_SIZE, false, false), 0);
	assert_int_equal(xlate(d, 0x40000010, 8, false, &dpa, &fault), 0);
	assert_int_equal(xlate(d, 0x40000010, 8, true, &dpa, &fault), ANPU_CAUSE_PERMISSION);
	assert_int_equal(fault, 0x40000010);
}

static void test_range_over_non_contiguous_pages_straddles(void **state)
{
	struct simdev *d = *state;
	uint64_t a = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE);
	uint64_t gap = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE);
	uint64_t b = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	(void)gap;
	assert_int_equal(simdev_map(d, AS, 0x50000000, a, ANPU_PAGE_SIZE, true, false), 0);
	assert_int_equal(simdev_map(d, AS, 0x50001000, b, ANPU_PAGE_SIZE, true, false), 0);
	assert_int_equal(xlate(d, 0x50000ff0, 0x20, false, &dpa, &fault), ANPU_CAUSE_STRADDLE);
	assert_int_equal(fault, 0x50001000);
}

static void test_range_over_contiguous_pages_is_one_run(void **state)
{
	struct simdev *d = *state;
	uint64_t a = simdev_alloc(d, 2 * ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	assert_int_equal(simdev_map(d, AS, 0x51000000, a, 2 * ANPU_PAGE_SIZE, true, false), 0);
	assert_int_equal(xlate(d, 0x51000ff0, 0x20, true, &dpa, &fault), 0);
	assert_int_equal(dpa, a + 0xff0);
}

static void test_reserved_pte_bits_fault_page_table_at_the_entry(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;
	uint64_t *e;

	assert_int_equal(simdev_map(d, AS, 0x60000000, page, ANPU_PAGE_SIZE, true, false), 0);
	e = simdev_pte(d, AS, 0x60000000, 2);
	*e |= 1ull << 60;
	assert_int_equal(xlate(d, 0x60000000, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
	assert_int_equal(fault, (uint64_t)((uint8_t *)e - d->bar));
}

static void test_large_flag_at_level_2_faults_page_table(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	*simdev_pte(d, AS, 0x61000000, 2) = anpu_pte_large(page, 0);
	assert_int_equal(xlate(d, 0x61000000, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
}

static void test_large_flag_at_level_0_faults_page_table(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_LARGE_PAGE_SIZE, ANPU_LARGE_PAGE_SIZE), dpa, fault;
	uint64_t va = 5ull << 30;

	*simdev_pte(d, AS, va, 0) = anpu_pte_large(page, 0);
	assert_int_equal(xlate(d, va, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
	assert_int_equal(fault, d->root[AS] + 8 * 5);
}

static void test_misaligned_large_page_faults_page_table(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, 2 * ANPU_LARGE_PAGE_SIZE, ANPU_LARGE_PAGE_SIZE), dpa, fault;

	*simdev_pte(d, AS, 0x62000000, 1) = anpu_pte_large(page + ANPU_PAGE_SIZE, 0);
	assert_int_equal(xlate(d, 0x62000000, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
}

static void test_table_outside_device_memory_faults_page_table(void **state)
{
	struct simdev *d = *state;
	uint64_t dpa, fault, *e;

	/* a level-1 table in the register page */
	e = simdev_pte(d, AS, 6ull << 30, 0);
	*e = anpu_pte_table(0x1000);
	assert_int_equal(xlate(d, 6ull << 30, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
	/* and one past the end of BAR2 */
	*e = anpu_pte_table(d->bar_size);
	assert_int_equal(xlate(d, 6ull << 30, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
}

static void test_page_outside_device_memory_faults_page_table(void **state)
{
	struct simdev *d = *state;
	uint64_t dpa, fault;

	*simdev_pte(d, AS, 0x63000000, 2) = anpu_pte_page(d->bar_size, 1);
	assert_int_equal(xlate(d, 0x63000000, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
	*simdev_pte(d, AS, 0x63001000, 2) = anpu_pte_page(0x2000, 1);
	assert_int_equal(xlate(d, 0x63001000, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
}

static void test_write_bit_on_table_entry_faults_page_table(void **state)
{
	struct simdev *d = *state;
	uint64_t page = simdev_alloc(d, ANPU_PAGE_SIZE, ANPU_PAGE_SIZE), dpa, fault;

	assert_int_equal(simdev_map(d, AS, 7ull << 30, page, ANPU_PAGE_SIZE, true, false), 0);
	*simdev_pte(d, AS, 7ull << 30, 0) |= ANPU_PTE_WRITE;
	assert_int_equal(xlate(d, 7ull << 30, 4, false, &dpa, &fault), ANPU_CAUSE_PAGE_TABLE);
}

static void test_root_outside_device_memory_faults_page_table(void **state)
{
	struct simdev *d = *state;
	struct sim_mmu m = { .bar = d->bar, .bar_size = d->bar_size, .root = 0x3000 };
	uint64_t dpa, fault;

	assert_int_equal(sim_mmu_translate(&m, 0x10000000, 4, false, &dpa, &fault),
			 ANPU_CAUSE_PAGE_TABLE);
	assert_int_equal(fault, 0x3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4k_page_translates_to_its_dpa),
		cmocka_unit_test(test_2m_page_translates_offset_within_it),
		cmocka_unit_test(test_unmapped_address_faults_at_that_address),
		cmocka_unit_test(test_range_running_into_unmapped_page_faults_at_that_page),
		cmocka_unit_test(test_address_zero_page_is_never_mapped),
		cmocka_unit_test(test_address_beyond_39_bits_is_unmapped),
		cmocka_unit_test(test_write_to_read_only_page_faults_permission),
		cmocka_unit_test(test_range_over_non_contiguous_pages_straddles),
		cmocka_unit_test(test_range_over_contiguous_pages_is_one_run),
		cmocka_unit_test(test_reserved_pte_bits_fault_page_table_at_the_entry),
		cmocka_unit_test(test_large_flag_at_level_2_faults_page_table),
		cmocka_unit_test(test_large_flag_at_level_0_faults_page_table),
		cmocka_unit_test(test_misaligned_large_page_faults_page_table),
		cmocka_unit_test(test_table_outside_device_memory_faults_page_table),
		cmocka_unit_test(test_page_outside_device_memory_faults_page_table),
		cmocka_unit_test(test_write_bit_on_table_entry_faults_page_table),
		cmocka_unit_test(test_root_outside_device_memory_faults_page_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
