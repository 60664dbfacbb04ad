// SPDX-License-Identifier: MIT
/*
 * libaccel conformance: devices, buffer objects, contexts and command-buffer
 * validation, success and error paths, and misuse caught as errors.
 */
#include "accel_test_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct accel_device *dev;

static int setup(void **state)
{
	(void)state;
	dev = accel_test_open(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return accel_device_close(dev);
}

static struct accel_device_info info_of(struct accel_device *d)
{
	struct accel_device_info info;

	assert_int_equal(accel_device_info(d, &info), 0);
	return info;
}

static void open_of_a_missing_kernel_device_fails_without_fallback(void **state)
{
	struct accel_device *d = (void *)1;

	(void)state;
	assert_int_equal(accel_device_open("/dev/accel/accel199", NULL, &d), -ENODEV);
	assert_null(d);
	assert_int_equal(accel_device_open("accel199", NULL, &d), -ENODEV);
	assert_int_equal(accel_device_open("nonsense", NULL, &d), -ENODEV);
}

static void enumerate_lists_no_more_than_asked(void **state)
{
	char paths[2][64];

	(void)state;
	assert_true(accel_device_enumerate(paths, 2) >= 0);
	assert_int_equal(accel_device_enumerate(NULL, -1), -EINVAL);
}

static void device_info_reports_queues_memory_and_isa(void **state)
{
	struct accel_device_info info;

	(void)state;
	assert_int_equal(accel_device_info(dev, &info), 0);
	assert_int_equal(info.num_queues, 4);
	assert_int_equal(info.isa_version >> 16, 1);
	assert_true(info.mem_total >= (16u << 20));
	assert_true(info.caps & ACCEL_CAP_PROFILING);
	assert_true(info.max_jobs_in_flight > 0);
	assert_int_equal(accel_device_info(dev, NULL), -EINVAL);
}

static void closing_a_device_twice_is_ebadf(void **state)
{
	struct accel_device *d = accel_test_open(NULL);

	(void)state;
	assert_int_equal(accel_device_close(d), 0);
	assert_int_equal(accel_device_close(d), -EBADF);
}

static void bo_create_gives_zeroed_mapped_memory(void **state)
{
	struct accel_bo *bo;
	uint8_t *p;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 10000, 0, &bo), 0);
	assert_int_equal(accel_bo_size(bo), 10000);
	assert_true(accel_bo_npu_addr(bo) >= 4096);
	p = accel_bo_map(bo);
	assert_non_null(p);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(accel_bo_free(bo), 0);
}

static void large_bo_is_2mib_aligned_and_bos_do_not_touch(void **state)
{
	struct accel_bo *a, *b;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 3u << 20, 0, &a), 0);
	assert_int_equal(accel_bo_create(dev, 4096, 0, &b), 0);
	assert_int_equal(accel_bo_npu_addr(a) % (2u << 20), 0);
	/* the guard page: b never starts right where a ends */
	assert_true(accel_bo_npu_addr(b) + 4096 <= accel_bo_npu_addr(a) ||
		    accel_bo_npu_addr(b) > accel_bo_npu_addr(a) + (4u << 20));
	accel_bo_free(a);
	accel_bo_free(b);
}

static void bo_create_rejects_zero_size_and_unknown_flags(void **state)
{
	struct accel_bo *bo;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 0, 0, &bo), -EINVAL);
	assert_int_equal(accel_bo_create(dev, 4096, 1u << 30, &bo), -EINVAL);
}

static void exhausting_the_memory_limit_is_enomem(void **state)
{
	struct accel_device_params p = accel_device_default_params();
	struct accel_device *d;
	struct accel_bo *a, *b;
	uint64_t used;

	(void)state;
	p.mem_limit = 1u << 20;
	d = accel_test_open(&p);
	assert_int_equal(accel_bo_create(d, 768u << 10, 0, &a), 0);
	assert_int_equal(accel_bo_create(d, 512u << 10, 0, &b), -ENOMEM);
	assert_int_equal(accel_device_mem_used(d, &used), 0);
	assert_int_equal(used, 768u << 10);
	assert_int_equal(accel_bo_create(dev, 1ull << 45, 0, &b), -ENOMEM);
	accel_bo_free(a);
	assert_int_equal(accel_bo_create(d, 512u << 10, 0, &b), 0);
	accel_device_close(d);
}

static void double_free_and_stale_handles_are_errors(void **state)
{
	struct accel_bo *bo;
	struct accel_context *ctx;
	struct accel_cmdbuf *cb;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 4096, 0, &bo), 0);
	assert_int_equal(accel_bo_free(bo), 0);
	assert_int_equal(accel_bo_free(bo), -EBADF);
	assert_null(accel_bo_map(bo));
	assert_int_equal(accel_bo_size(bo), 0);
	assert_int_equal(accel_bo_free(NULL), -EBADF);
	assert_int_equal(accel_context_create(dev, NULL, &ctx), 0);
	assert_int_equal(accel_context_free(ctx), 0);
	assert_int_equal(accel_context_free(ctx), -EBADF);
	cb = accel_test_nops(dev, 1);
	assert_int_equal(accel_cmdbuf_free(cb), 0);
	assert_int_equal(accel_cmdbuf_free(cb), -EBADF);
	assert_int_equal(accel_cmd_nop(cb), -EBADF);
}

static void export_import_shares_memory_between_handles(void **state)
{
	struct accel_device *d2 = accel_test_open(NULL);
	struct accel_bo *bo, *imp;
	int64_t token;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 8192, 0, &bo), 0);
	assert_int_equal(accel_bo_export(bo, &token), 0);
	assert_int_equal(accel_bo_import(d2, token, &imp), 0);
	assert_int_equal(accel_bo_size(imp), 8192);
	((uint32_t *)accel_bo_map(bo))[5] = 0xabcd;
	assert_int_equal(((uint32_t *)accel_bo_map(imp))[5], 0xabcd);
	/* the exporter's handle can go; the memory lives on */
	accel_bo_free(bo);
	assert_int_equal(((uint32_t *)accel_bo_map(imp))[5], 0xabcd);
	accel_bo_free(imp);
	/* kernel backend: the token is a PRIME fd, stale once the caller closed it */
	if (info_of(dev).backend == ACCEL_BACKEND_KERNEL)
		close((int)token);
	assert_int_equal(accel_bo_import(d2, token, &imp), -ENOENT);
	assert_int_equal(accel_bo_import(d2, 12345ll << 32 | 1, &imp), -EXDEV);
	accel_device_close(d2);
}

static void context_rejects_unknown_priority(void **state)
{
	struct accel_context_params p = accel_context_default_params();
	struct accel_context *ctx;

	(void)state;
	p.priority = (enum accel_priority)7;
	assert_int_equal(accel_context_create(dev, &p, &ctx), -EINVAL);
}

/* ---- command-buffer validation ---- */

static struct accel_bo *act_bo;

static void matmul_shape_error_names_op_and_field(void **state)
{
	struct accel_cmdbuf *cb;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 1 << 20, 0, &act_bo), 0);
	struct accel_tensor x = accel_tensor_packed(act_bo, 0, ACCEL_F32, 64, 2, 1, 1);
	struct accel_tensor w = accel_tensor_packed(act_bo, 4096, ACCEL_F32, 96, 8, 1, 1);
	struct accel_tensor y = accel_tensor_packed(act_bo, 65536, ACCEL_F32, 8, 2, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(accel_cmd_nop(cb), 0);
	assert_int_equal(accel_cmd_matmul(cb, &x, &w, NULL, &y, 0), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb), "op 3 MATMUL: w.ne[0] = 96 != x.ne[0] = 64");
	assert_int_equal(accel_cmdbuf_op_count(cb), 3);
	accel_cmdbuf_free(cb);
	accel_bo_free(act_bo);
}

static void tensor_outside_its_bo_is_rejected(void **state)
{
	struct accel_cmdbuf *cb;
	struct accel_bo *bo;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 4096, 0, &bo), 0);
	struct accel_tensor x = accel_tensor_packed(bo, 0, ACCEL_F32, 1024, 1, 1, 1);
	struct accel_tensor y = accel_tensor_packed(bo, 4, ACCEL_F32, 1024, 1, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_scale(cb, &x, &y, 2.0f), -EINVAL);
	assert_non_null(strstr(accel_cmdbuf_error(cb), "op 0 SCALE: y: bytes [4, 4100) lie outside"));
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
}

static void freed_or_foreign_bo_is_rejected(void **state)
{
	struct accel_device *d2 = accel_test_open(NULL);
	struct accel_cmdbuf *cb;
	struct accel_bo *bo, *other;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 4096, 0, &bo), 0);
	assert_int_equal(accel_bo_create(d2, 4096, 0, &other), 0);
	struct accel_tensor x = accel_tensor_packed(bo, 0, ACCEL_F32, 16, 1, 1, 1);
	struct accel_tensor y = accel_tensor_packed(other, 0, ACCEL_F32, 16, 1, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_scale(cb, &x, &y, 2.0f), -EXDEV);
	assert_string_equal(accel_cmdbuf_error(cb), "op 0 SCALE: y.bo belongs to another device");
	accel_bo_free(bo);
	assert_int_equal(accel_cmd_scale(cb, &x, &x, 2.0f), -EBADF);
	assert_string_equal(accel_cmdbuf_error(cb), "op 0 SCALE: x.bo is not a live buffer object");
	accel_cmdbuf_free(cb);
	accel_device_close(d2);
}

static void output_in_read_only_bo_and_bad_dtypes_are_rejected(void **state)
{
	struct accel_cmdbuf *cb;
	struct accel_bo *ro;

	(void)state;
	assert_int_equal(accel_bo_create(dev, 4096, ACCEL_BO_NPU_READ_ONLY, &ro), 0);
	struct accel_tensor x = accel_tensor_packed(ro, 0, ACCEL_F32, 16, 1, 1, 1);
	struct accel_tensor xi = accel_tensor_packed(ro, 0, ACCEL_I32, 16, 1, 1, 1);
	struct accel_tensor q = accel_tensor_packed(ro, 0, ACCEL_Q8_0, 48, 1, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmd_softmax(cb, &x, &x, 1.0f), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb),
			    "op 0 SOFTMAX: y (an output) is in an NPU-read-only BO");
	assert_int_equal(accel_cmd_argmax(cb, &xi, &xi), -EINVAL);
	assert_int_equal(accel_cmd_nop(cb), 0);
	assert_int_equal(accel_cmd_matmul(cb, &x, &q, NULL, &x, 0), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb),
			    "op 1 MATMUL: w.ne[0] = 48 is not a multiple of the Q8_0 block (32)");
	assert_int_equal(accel_cmd_softmax(cb, &x, &x, 1.0f / 0.0f), -EINVAL);
	/* Q4_KL: whole groups of 16 dense rows */
	struct accel_tensor x256 = accel_tensor_packed(ro, 0, ACCEL_F32, 256, 1, 1, 1);
	struct accel_tensor kl = accel_tensor_packed(ro, 0, ACCEL_Q4_KL, 256, 8, 1, 1);

	assert_int_equal(accel_cmd_matmul(cb, &x256, &kl, NULL, &x, 0), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb),
			    "op 1 MATMUL: w: Q4_KL wants ne[1] (8) a multiple of 16 and nb[0] "
			    "(144) = a row's 144 bytes");
	kl = accel_tensor_packed(ro, 0, ACCEL_Q4_KL, 256, 16, 1, 1);
	kl.nb[0] = 160;
	assert_int_equal(accel_cmd_matmul(cb, &x256, &kl, NULL, &x, 0), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb),
			    "op 1 MATMUL: w: Q4_KL wants ne[1] (16) a multiple of 16 and nb[0] "
			    "(160) = a row's 144 bytes");
	kl = accel_tensor_packed(ro, 0, ACCEL_Q6_KL, 256, 24, 1, 1);
	assert_int_equal(accel_cmd_matmul(cb, &x256, &kl, NULL, &x, 0), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb),
			    "op 1 MATMUL: w: Q6_KL wants ne[1] (24) a multiple of 16 and nb[0] "
			    "(210) = a row's 210 bytes");
	kl = accel_tensor_packed(ro, 0, ACCEL_Q4_0L, 256, 16, 1, 1);
	kl.nb[0] = 146;
	assert_int_equal(accel_cmd_matmul(cb, &x256, &kl, NULL, &x, 0), -EINVAL);
	assert_string_equal(accel_cmdbuf_error(cb),
			    "op 1 MATMUL: w: Q4_0L wants ne[1] (16) a multiple of 16 and nb[0] "
			    "(146) = a row's 144 bytes");
	accel_cmdbuf_free(cb);
	accel_bo_free(ro);
}

static void finish_rules_and_step_slots(void **state)
{
	struct accel_cmdbuf_params p = accel_cmdbuf_default_params();
	struct accel_cmdbuf *cb;
	struct accel_bo *bo;

	(void)state;
	assert_int_equal(accel_cmdbuf_create(dev, NULL, &cb), 0);
	assert_int_equal(accel_cmdbuf_finish(cb), -EINVAL);
	assert_int_equal(accel_cmd_nop(cb), 0);
	assert_int_equal(accel_cmdbuf_finish(cb), 0);
	assert_int_equal(accel_cmd_nop(cb), -EBUSY);
	assert_int_equal(accel_cmdbuf_finish(cb), -EBUSY);
	accel_cmdbuf_free(cb);

	p.step_params = 1;
	assert_int_equal(accel_bo_create(dev, 4096, 0, &bo), 0);
	struct accel_tensor src = accel_tensor_packed(bo, 0, ACCEL_F32, 4, 1, 1, 1);
	struct accel_tensor cache = accel_tensor_packed(bo, 64, ACCEL_F32, 4, 8, 1, 1);

	assert_int_equal(accel_cmdbuf_create(dev, &p, &cb), 0);
	assert_int_equal(accel_cmd_kv_store(cb, &src, &cache, accel_step(1)), -EINVAL);
	assert_int_equal(accel_cmd_kv_store(cb, &src, &cache, accel_imm(8)), -EINVAL);
	assert_int_equal(accel_cmd_kv_store(cb, &src, &cache, accel_step(0)), 0);
	accel_cmdbuf_free(cb);
	accel_bo_free(bo);
	p.step_params = 65;
	assert_int_equal(accel_cmdbuf_create(dev, &p, &cb), -EINVAL);
}

static void submit_checks_its_arguments(void **state)
{
	struct accel_device *d2 = accel_test_open(NULL);
	struct accel_context *ctx;
	struct accel_cmdbuf *cb, *open_cb, *foreign = accel_test_nops(d2, 1);
	struct accel_submit_params p = accel_submit_default_params();
	struct accel_fence f, bogus = { .seqno = 1000, .context_id = 0, .device_id = 0 };

	(void)state;
	assert_int_equal(accel_context_create(dev, NULL, &ctx), 0);
	cb = accel_test_nops(dev, 1);
	assert_int_equal(accel_cmdbuf_create(dev, NULL, &open_cb), 0);
	assert_int_equal(accel_cmd_nop(open_cb), 0);
	assert_int_equal(accel_submit(ctx, open_cb, NULL, &f), -EINVAL);
	assert_int_equal(accel_submit(ctx, foreign, NULL, &f), -EXDEV);
	assert_int_equal(accel_submit(NULL, cb, NULL, &f), -EBADF);
	p.n_step_params = 1;
	p.step_params = (const uint32_t[]){ 1 };
	assert_int_equal(accel_submit(ctx, cb, &p, &f), -EINVAL);
	p = accel_submit_default_params();
	assert_int_equal(accel_submit(ctx, cb, NULL, &f), 0);
	bogus.context_id = f.context_id;
	bogus.device_id = f.device_id;
	p.deps = &bogus;
	p.n_deps = 1;
	assert_int_equal(accel_submit(ctx, cb, &p, NULL), -EINVAL);
	assert_int_equal(accel_fence_wait(dev, &f, 5000000000ll), 0);
	assert_int_equal(accel_fence_wait(dev, &bogus, 0), -EINVAL);
	accel_cmdbuf_free(cb);
	accel_cmdbuf_free(open_cb);
	accel_context_free(ctx);
	accel_device_close(d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_of_a_missing_kernel_device_fails_without_fallback),
		cmocka_unit_test(enumerate_lists_no_more_than_asked),
		cmocka_unit_test(device_info_reports_queues_memory_and_isa),
		cmocka_unit_test(closing_a_device_twice_is_ebadf),
		cmocka_unit_test(bo_create_gives_zeroed_mapped_memory),
		cmocka_unit_test(large_bo_is_2mib_aligned_and_bos_do_not_touch),
		cmocka_unit_test(bo_create_rejects_zero_size_and_unknown_flags),
		cmocka_unit_test(exhausting_the_memory_limit_is_enomem),
		cmocka_unit_test(double_free_and_stale_handles_are_errors),
		cmocka_unit_test(export_import_shares_memory_between_handles),
		cmocka_unit_test(context_rejects_unknown_priority),
		cmocka_unit_test(matmul_shape_error_names_op_and_field),
		cmocka_unit_test(tensor_outside_its_bo_is_rejected),
		cmocka_unit_test(freed_or_foreign_bo_is_rejected),
		cmocka_unit_test(output_in_read_only_bo_and_bad_dtypes_are_rejected),
		cmocka_unit_test(finish_rules_and_step_slots),
		cmocka_unit_test(submit_checks_its_arguments),
	};

	return cmocka_run_group_tests_name("accel_api", tests, setup, teardown);
}
