// SPDX-License-Identifier: MIT
/*
 * anpu-npu-busy DEVICE SECONDS: keeps an NPU busy for a while (F32 MATMULs
 * of [1024 x 16] by [1024 x 1024], one job after another) so that a monitor
 * (anpu-top) sampling meanwhile sees the process. DEVICE is "sim" or
 * /dev/accel/accelN. Prints "running" once the first job ended; exit 0 when
 * every job succeeded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libaccel/include/accel.h"

#define K 1024
#define N 1024
#define M 16

static int fail(const char *what, int err)
{
	fprintf(stderr, "anpu-npu-busy: %s: %s\n", what, strerror(-err));
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct accel_device *dev;
	struct accel_bo *w_bo, *act_bo;
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;
	struct accel_fence fence;
	struct accel_job_status st;
	double end;
	int ret, jobs = 0;

	if (argc != 3 || atof(argv[2]) <= 0) {
		fprintf(stderr, "Usage: anpu-npu-busy DEVICE SECONDS\n");
		return 2;
	}
	end = now_s() + atof(argv[2]);
	ret = accel_device_open(argv[1], NULL, &dev);
	if (ret)
		return fail(argv[1], ret);
	ret = accel_bo_create(dev, sizeof(float) * K * N, ACCEL_BO_NPU_READ_ONLY, &w_bo);
	if (!ret)
		ret = accel_bo_create(dev, sizeof(float) * (K * M + N * M), 0, &act_bo);
	if (ret)
		return fail("bo_create", ret);
	memset(accel_bo_map(w_bo), 0, sizeof(float) * K * N);
	memset(accel_bo_map(act_bo), 0, sizeof(float) * (K * M + N * M));

	struct accel_tensor tw = accel_tensor_packed(w_bo, 0, ACCEL_F32, K, N, 1, 1);
	struct accel_tensor tx = accel_tensor_packed(act_bo, 0, ACCEL_F32, K, M, 1, 1);
	struct accel_tensor ty = accel_tensor_packed(act_bo, sizeof(float) * K * M, ACCEL_F32,
						     N, M, 1, 1);

	ret = accel_cmdbuf_create(dev, NULL, &cb);
	for (int i = 0; !ret && i < 4; i++)
		ret = accel_cmd_matmul(cb, &tx, &tw, NULL, &ty, 0);
	if (!ret)
		ret = accel_cmdbuf_finish(cb);
	if (ret)
		return fail("record", ret);
	ret = accel_context_create(dev, NULL, &ctx);
	if (ret)
		return fail("context_create", ret);
	do {
		ret = accel_submit(ctx, cb, NULL, &fence);
		if (!ret)
			ret = accel_fence_wait(dev, &fence, 20000000000ll);
		if (!ret)
			ret = accel_fence_status(dev, &fence, &st);
		if (!ret)
			ret = st.error;
		if (ret)
			return fail("job", ret);
		if (!jobs++) {
			printf("running\n");
			fflush(stdout);
		}
	} while (now_s() < end);
	printf("%d jobs\n", jobs);
	accel_context_free(ctx);
	accel_cmdbuf_free(cb);
	accel_bo_free(act_bo);
	accel_bo_free(w_bo);
	return accel_device_close(dev) ? 1 : 0;
}
