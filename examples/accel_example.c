// SPDX-License-Identifier: MIT
/*
 * accel_example: the smallest complete libaccel program.
 *
 * Opens the default device (a kernel ANPU if there is one, else the
 * in-process NPU; ANPU_DEVICE=sim|/dev/accel/accelN chooses), allocates
 * buffer objects, records y = softmax(x . w^T) as a MATMUL and a SOFTMAX,
 * submits it, waits, and prints the result next to a CPU reference.
 * Exit status 0 when they agree.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accel.h"

enum { K = 64, N = 8, M = 2 };

static int fail(const char *what, int err)
{
	fprintf(stderr, "accel-example: %s: %s\n", what, strerror(-err));
	return 1;
}

/* -h/--help, --version, anything else a usage error: -1 to go on, else the exit status */
static int command_line(int argc, char **argv)
{
	if (argc < 2)
		return -1;
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("Usage: accel-example | -h | --help | --version\n"
		     "  y = softmax(x . w^T) on the NPU next to a CPU reference; exit 0 when they agree\n"
		     "  ANPU_DEVICE=sim|/dev/accel/accelN picks the device (default: a kernel ANPU, else sim)");
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("accel-example (libaccel API %d)\n", ACCEL_API_VERSION);
		return 0;
	}
	fprintf(stderr, "accel-example: unknown argument '%s' (try accel-example --help)\n", argv[1]);
	return 2;
}

int main(int argc, char **argv)
{
	struct accel_device *dev;
	struct accel_device_info info;
	struct accel_bo *w_bo, *act_bo;
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;
	struct accel_fence fence;
	struct accel_job_status st;
	float *w, *x, *y, *p, want[M][N];
	int ret = command_line(argc, argv), bad = 0;

	if (ret >= 0)
		return ret;
	ret = accel_device_open(NULL, NULL, &dev);
	if (ret)
		return fail("open", ret);
	accel_device_info(dev, &info);
	printf("device: %s (%s backend), ISA %u.%u, %llu MiB\n", info.path,
	       info.backend == ACCEL_BACKEND_SIM ? "in-process" : "kernel",
	       info.isa_version >> 16, info.isa_version & 0xffff,
	       (unsigned long long)(info.mem_total >> 20));

	/* weights in an NPU-read-only BO; activations (x, y, p) in a writable one */
	ret = accel_bo_create(dev, sizeof(float) * K * N, ACCEL_BO_NPU_READ_ONLY, &w_bo);
	if (!ret)
		ret = accel_bo_create(dev, sizeof(float) * (K * M + 2 * N * M), 0, &act_bo);
	if (ret)
		return fail("bo_create", ret);
	w = accel_bo_map(w_bo);
	x = accel_bo_map(act_bo);
	y = x + K * M;
	p = y + N * M;
	for (int i = 0; i < K * N; i++)
		w[i] = (float)((i * 7 % 13) - 6) / 16.0f;
	for (int i = 0; i < K * M; i++)
		x[i] = (float)((i * 5 % 11) - 5) / 8.0f;

	struct accel_tensor tw = accel_tensor_packed(w_bo, 0, ACCEL_F32, K, N, 1, 1);
	struct accel_tensor tx = accel_tensor_packed(act_bo, 0, ACCEL_F32, K, M, 1, 1);
	struct accel_tensor ty = accel_tensor_packed(act_bo, sizeof(float) * K * M, ACCEL_F32, N, M, 1, 1);
	struct accel_tensor tp = accel_tensor_packed(act_bo, sizeof(float) * (K * M + N * M),
						     ACCEL_F32, N, M, 1, 1);

	ret = accel_cmdbuf_create(dev, NULL, &cb);
	if (!ret)
		ret = accel_cmd_matmul(cb, &tx, &tw, NULL, &ty, 0);
	if (!ret)
		ret = accel_cmd_softmax(cb, &ty, &tp, 1.0f);
	if (!ret)
		ret = accel_cmdbuf_finish(cb);
	if (ret) {
		fprintf(stderr, "accel_example: record: %s\n", accel_cmdbuf_error(cb));
		return 1;
	}
	ret = accel_context_create(dev, NULL, &ctx);
	if (!ret)
		ret = accel_submit(ctx, cb, NULL, &fence);
	if (ret)
		return fail("submit", ret);
	ret = accel_fence_wait(dev, &fence, 5000000000ll);
	accel_fence_status(dev, &fence, &st);
	if (ret) {
		fprintf(stderr, "accel_example: job failed: %s, cause %s at op %u\n",
			strerror(-st.error), accel_cause_name(st.cause), st.op_index);
		return 1;
	}
	printf("job done in %.1f us on the device\n", (double)(st.end_ns - st.start_ns) / 1e3);

	for (int m = 0; m < M; m++) {
		double mx = -INFINITY, sum = 0, logits[N];

		for (int n = 0; n < N; n++) {
			logits[n] = 0;
			for (int k = 0; k < K; k++)
				logits[n] += (double)x[m * K + k] * w[n * K + k];
			mx = fmax(mx, logits[n]);
		}
		for (int n = 0; n < N; n++)
			sum += exp(logits[n] - mx);
		for (int n = 0; n < N; n++)
			want[m][n] = (float)(exp(logits[n] - mx) / sum);
	}
	for (int m = 0; m < M; m++) {
		printf("row %d:", m);
		for (int n = 0; n < N; n++) {
			printf(" %.4f", p[m * N + n]);
			bad += fabsf(p[m * N + n] - want[m][n]) > 1e-4f;
		}
		printf("\n");
	}
	printf("%s\n", bad ? "MISMATCH against the CPU reference" : "matches the CPU reference");

	accel_context_free(ctx);
	accel_cmdbuf_free(cb);
	accel_bo_free(act_bo);
	accel_bo_free(w_bo);
	accel_device_close(dev);
	return bad ? 1 : 0;
}
