// SPDX-License-Identifier: MIT
#include "accel_test_util.h"

#include <stdlib.h>
#include <string.h>

struct accel_device *accel_test_open(const struct accel_device_params *params)
{
	const char *want = getenv("ANPU_DEVICE");
	struct accel_device_info info;
	struct accel_device *dev = NULL;

	if (!want || !*want)
		want = "sim";
	assert_int_equal(accel_device_open(want, params, &dev), 0);
	assert_int_equal(accel_device_info(dev, &info), 0);
	assert_int_equal(info.backend, strcmp(want, "sim") ? ACCEL_BACKEND_KERNEL : ACCEL_BACKEND_SIM);
	return dev;
}

struct accel_device *accel_test_dev;

int accel_test_setup(void **state)
{
	(void)state;
	accel_test_dev = accel_test_open(NULL);
	return 0;
}

int accel_test_teardown(void **state)
{
	(void)state;
	return accel_device_close(accel_test_dev);
}

struct accel_cmdbuf *accel_test_nops(struct accel_device *dev, unsigned int n)
{
	struct accel_cmdbuf *cb;

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(accel_cmd_nop(cb), 0);
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	return cb;
}

struct accel_cmdbuf *accel_test_slow(struct accel_device *dev, struct accel_bo **bos)
{
	enum { K = 1024, N = 1024, M = 32 };
	struct accel_cmdbuf *cb;

	assert_int_equal(accel_bo_create(dev, (uint64_t)K * N * 4, ACCEL_BO_NPU_READ_ONLY, &bos[0]), 0);
	assert_int_equal(accel_bo_create(dev, (uint64_t)(K + N) * M * 4, 0, &bos[1]), 0);
	struct accel_tensor w = accel_tensor_packed(bos[0], 0, ACCEL_F32, K, N, 1, 1);
	struct accel_tensor x = accel_tensor_packed(bos[1], 0, ACCEL_F32, K, M, 1, 1);
	struct accel_tensor y = accel_tensor_packed(bos[1], (uint64_t)K * M * 4, ACCEL_F32, N, M, 1, 1);

	struct accel_device_info info;
	int ops;

	/*
	 * Long enough that the jobs a test submits after it (a few ioctls in a
	 * TCG guest, which other guests may share the host's cores with) are
	 * queued before it ends, and that a test thread the model's workers
	 * keep off the CPU for a few scheduler slices (check-unit runs suites
	 * in parallel) still finds it running: ~30 ms in-process, ~100 ms
	 * behind the kernel, times the guest's slowness (ANPU_VP_TIMEOUT_SCALE:
	 * 4 on the debug kernel, whose KASAN-checked ioctls are several times
	 * slower).
	 */
	assert_int_equal(accel_device_info(dev, &info), 0);
	ops = 16;
	if (info.backend == ACCEL_BACKEND_KERNEL) {
		const char *scale = getenv("ANPU_VP_TIMEOUT_SCALE");
		int k = scale ? atoi(scale) : 1;

		ops = 32 * (k < 1 ? 1 : k > 8 ? 8 : k);
	}
	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	for (int i = 0; i < ops; i++)
		assert_int_equal(accel_cmd_matmul(cb, &x, &w, NULL, &y, 0), 0);
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	return cb;
}
