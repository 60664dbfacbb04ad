// SPDX-License-Identifier: MIT
/* hello.c: y = a + b for four floats on the NPU (docs/libaccel.md, libaccel(3)).
 * cc hello.c $(pkg-config --cflags --libs accel) && ./a.out */
#include <stdio.h>
#include <string.h>
#include <accel.h>

int main(void)
{
	struct accel_device *dev;
	struct accel_bo *bo;
	struct accel_cmdbuf *cb;
	struct accel_context *ctx;
	struct accel_fence fence;
	int err = accel_device_open(NULL, NULL, &dev);	/* $ANPU_DEVICE, a kernel ANPU, else "sim" */

	if (err || (err = accel_bo_create(dev, 12 * sizeof(float), 0, &bo)))
		return fprintf(stderr, "hello: %s\n", strerror(-err)), 1;
	float *v = accel_bo_map(bo);	/* a[4] b[4] y[4], shared with the NPU */
	for (int i = 0; i < 8; i++)
		v[i] = (float)i;
	struct accel_tensor a = accel_tensor_packed(bo, 0, ACCEL_F32, 4, 1, 1, 1);
	struct accel_tensor b = accel_tensor_packed(bo, 4 * sizeof(float), ACCEL_F32, 4, 1, 1, 1);
	struct accel_tensor y = accel_tensor_packed(bo, 8 * sizeof(float), ACCEL_F32, 4, 1, 1, 1);
	if ((err = accel_cmdbuf_create(dev, NULL, &cb)) || (err = accel_cmd_add(cb, &a, &b, &y)) ||
	    (err = accel_cmdbuf_finish(cb)) || (err = accel_context_create(dev, NULL, &ctx)) ||
	    (err = accel_submit(ctx, cb, NULL, &fence)) ||
	    (err = accel_fence_wait(dev, &fence, 1000000000)))	/* ns */
		return fprintf(stderr, "hello: %s\n", strerror(-err)), 1;
	printf("%g %g %g %g\n", v[8], v[9], v[10], v[11]);	/* 4 6 8 10 */
	accel_context_free(ctx);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
	accel_device_close(dev);
	return 0;
}
