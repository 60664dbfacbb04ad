/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the libaccel conformance suite. The backend under test is
 * chosen explicitly with ANPU_DEVICE (default "sim"); accel_test_open()
 * asserts that the device opened is of that backend, so a run meant for the
 * kernel driver can never pass on the in-process NPU.
 */
#ifndef ACCEL_TEST_UTIL_H
#define ACCEL_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "libaccel/include/accel.h"

/* The device named by ANPU_DEVICE (default "sim"); fails the test otherwise. */
struct accel_device *accel_test_open(const struct accel_device_params *params);
/*
 * Group setup and teardown of a suite that shares one device: setup opens
 * accel_test_dev as accel_test_open(NULL) does, teardown closes it.
 */
extern struct accel_device *accel_test_dev;
int accel_test_setup(void **state);
int accel_test_teardown(void **state);
/* A finished command buffer of @n NOP ops. */
struct accel_cmdbuf *accel_test_nops(struct accel_device *dev, unsigned int n);
/* A finished command buffer of MATMULs that keeps the NPU busy for a while. */
struct accel_cmdbuf *accel_test_slow(struct accel_device *dev, struct accel_bo **bos);

#endif /* ACCEL_TEST_UTIL_H */
