// SPDX-License-Identifier: MIT
/*
 * Jobs with real ops through the kernel give bit-for-bit the results of the
 * in-process reference model (libanpusim driven by tests/lib/simdev) running
 * the very same command stream: the buffers are mapped in the model at the
 * NPU addresses the kernel chose, the stream bytes are identical, and the
 * output bytes are compared with memcmp. MATMUL in every weight type,
 * ATTENTION with F16 and F32 caches, a multi-op chain, and JOB_INFO.
 */
#include <math.h>

#include "anpu_test.h"
#include "tests/ref/ref_quant.h"

#define MODEL_ASID	1

struct job {
	struct anpu_bo bo[8];
	int n;
	struct simdev_stream s;
};

/* A BO with @len bytes of @data (or zeros). Returns its index. */
static int job_buf(struct __test_metadata *_metadata, int fd, struct job *j, const void *data,
		   size_t len, uint32_t flags)
{
	struct anpu_bo *b = &j->bo[j->n];

	ASSERT_GT(8, j->n);
	ASSERT_EQ(0, anpu_bo_new(fd, len, flags, b));
	if (data)
		memcpy(b->map, data, len);
	return j->n++;
}

/*
 * Run the finished stream @j->s through the kernel (context @ctx) and on the
 * in-process model with the same memory image, then compare every writable
 * BO byte for byte. The model runs on the BOs' contents as they were before
 * the kernel job.
 */
static void run_both(struct __test_metadata *_metadata, int fd, uint32_t ctx, struct job *j)
{
	struct drm_anpu_bo_ref refs[8];
	struct anpu_hw_job_desc desc = { 0 };
	struct anpu_hw_job_status st;
	struct simdev_buf mb[8];
	struct anpu_bo cmd;
	struct simdev d;
	uint64_t seqno, total = 4 << 20;
	struct drm_anpu_job_info ji;

	ASSERT_NE(0, simdev_stream_finish(&j->s, 0, 0));
	for (int i = 0; i < j->n; i++)
		total += j->bo[i].size + (2 << 20);
	while (total & (total - 1))
		total += total & -total;
	if (total < ANPU_BAR_MIN_SIZE)
		total = ANPU_BAR_MIN_SIZE;

	/* the model: same addresses, same contents, same stream */
	ASSERT_EQ(0, simdev_open(&d, total, 1));
	ASSERT_EQ(0, simdev_as_create(&d, MODEL_ASID));
	for (int i = 0; i < j->n; i++) {
		ASSERT_EQ(0, simdev_buf(&d, MODEL_ASID, j->bo[i].addr, j->bo[i].size,
					!(j->bo[i].flags & DRM_ANPU_BO_NPU_READONLY), &mb[i]));
		memcpy(mb[i].host, j->bo[i].map, j->bo[i].size);
	}

	/* the kernel */
	ASSERT_EQ(0, anpu_stream_bo(fd, &j->s, &cmd));
	for (int i = 0; i < j->n; i++)
		refs[i] = (struct drm_anpu_bo_ref){
			.handle = j->bo[i].handle,
			.flags = j->bo[i].flags & DRM_ANPU_BO_NPU_READONLY ? 0 : DRM_ANPU_BO_REF_WRITE,
		};
	ASSERT_EQ(0, simdev_stream_upload(&d, MODEL_ASID, cmd.addr, &j->s, &desc));
	ASSERT_EQ(0, simdev_run(&d, 0, &desc, &st));
	ASSERT_EQ(ANPU_RESULT_OK, st.result) TH_LOG("model: cause %u at op %u", st.cause, st.op_index);

	ASSERT_EQ(0, anpu_run(fd, ctx, &cmd, refs, (uint32_t)j->n, &seqno, ANPU_JOB_WAIT_MS));
	ASSERT_EQ(0, anpu_job_info(fd, ctx, seqno, &ji));
	EXPECT_EQ(ANPU_RESULT_OK, ji.result) TH_LOG("kernel: cause %u at op %u", ji.cause, ji.op_index);
	EXPECT_EQ(j->s.op_count, ji.ops_done);

	for (int i = 0; i < j->n; i++) {
		const uint8_t *k = j->bo[i].map, *m = mb[i].host;
		size_t first = SIZE_MAX;

		for (size_t b = 0; b < j->bo[i].size; b++)
			if (k[b] != m[b]) {
				first = b;
				break;
			}
		EXPECT_EQ(SIZE_MAX, first) TH_LOG("BO %d differs from the model at byte %zu", i, first);
	}
	simdev_close(&d);
	anpu_bo_free(fd, &cmd);
	for (int i = 0; i < j->n; i++)
		anpu_bo_free(fd, &j->bo[i]);
	simdev_stream_free(&j->s);
}

static void fill_floats(float *f, size_t n, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++)
		f[i] = ref_rand_float(seed);
}

/* ---- MATMUL in every weight type ---- */

FIXTURE(mm) {
	int fd;
	struct anpu_counters base;
	uint32_t ctx;
};

FIXTURE_VARIANT(mm) {
	uint32_t dtype;
	uint32_t k, n, m;
};

FIXTURE_VARIANT_ADD(mm, f32) { ANPU_DTYPE_F32, 96, 40, 3 };
FIXTURE_VARIANT_ADD(mm, f16) { ANPU_DTYPE_F16, 96, 40, 3 };
FIXTURE_VARIANT_ADD(mm, bf16) { ANPU_DTYPE_BF16, 96, 40, 3 };
FIXTURE_VARIANT_ADD(mm, q8_0) { ANPU_DTYPE_Q8_0, 128, 40, 3 };
FIXTURE_VARIANT_ADD(mm, q4_0) { ANPU_DTYPE_Q4_0, 128, 40, 3 };
FIXTURE_VARIANT_ADD(mm, q5_0) { ANPU_DTYPE_Q5_0, 128, 40, 3 };
FIXTURE_VARIANT_ADD(mm, q4_k) { ANPU_DTYPE_Q4_K, 512, 24, 3 };
FIXTURE_VARIANT_ADD(mm, q5_k) { ANPU_DTYPE_Q5_K, 512, 24, 3 };
FIXTURE_VARIANT_ADD(mm, q6_k) { ANPU_DTYPE_Q6_K, 512, 24, 3 };
FIXTURE_VARIANT_ADD(mm, q4_0_decode) { ANPU_DTYPE_Q4_0, 256, 64, 1 };

FIXTURE_SETUP(mm)
{
	self->fd = -1;
	ASSERT_EQ(0, anpu_counters_read(&self->base));
	self->fd = anpu_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
}

FIXTURE_TEARDOWN(mm)
{
	struct anpu_counters now;

	if (self->fd < 0)
		return;
	close(self->fd);
	if (!_metadata->exit_code)
		EXPECT_EQ(0, anpu_counters_settle(&self->base, &now, 5000));
}

TEST_F_TIMEOUT(mm, matmul_with_bias_equals_the_in_process_model_bit_for_bit, 120)
{
	const uint32_t K = variant->k, N = variant->n, M = variant->m;
	size_t rb = ref_row_bytes(variant->dtype, K);
	uint8_t *w = malloc(rb * N);
	float *x = malloc(sizeof(float) * K * M), bias[64];
	uint64_t seed = 0x5eed0000u + variant->dtype;
	struct job j = { 0 };
	int ix, iw, ib, iy;
	struct anpu_tensor t[4];

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, x);
	for (uint32_t r = 0; r < N; r++)
		ref_fill_weight_row(variant->dtype, w + r * rb, K, &seed);
	fill_floats(x, (size_t)K * M, &seed);
	fill_floats(bias, N, &seed);
	ix = job_buf(_metadata, self->fd, &j, x, sizeof(float) * K * M, 0);
	iw = job_buf(_metadata, self->fd, &j, w, rb * N, DRM_ANPU_BO_NPU_READONLY);
	ib = job_buf(_metadata, self->fd, &j, bias, sizeof(float) * N, DRM_ANPU_BO_NPU_READONLY);
	iy = job_buf(_metadata, self->fd, &j, NULL, sizeof(float) * N * M, 0);
	simdev_stream_init(&j.s);
	t[0] = simdev_tensor(j.bo[ix].addr, ANPU_DTYPE_F32, K, M, 1, 1);
	t[1] = simdev_tensor(j.bo[iw].addr, variant->dtype, K, N, 1, 1);
	t[2] = simdev_tensor(j.bo[iy].addr, ANPU_DTYPE_F32, N, M, 1, 1);
	t[3] = simdev_tensor(j.bo[ib].addr, ANPU_DTYPE_F32, N, 1, 1, 1);
	simdev_stream_op(&j.s, ANPU_OP_MATMUL, 0, NULL, 0, t, 4);
	/* and accumulate once more into the same output */
	simdev_stream_op(&j.s, ANPU_OP_MATMUL, ANPU_MATMUL_ACCUMULATE, NULL, 0, t, 3);
	run_both(_metadata, self->fd, self->ctx, &j);
	free(w);
	free(x);
}

/* ---- ATTENTION ---- */

FIXTURE(att) {
	int fd;
	struct anpu_counters base;
	uint32_t ctx;
};

FIXTURE_VARIANT(att) {
	uint32_t cache_dtype;
	uint32_t head_dim, n_head, n_kv_head, m, ctx, pos;
};

FIXTURE_VARIANT_ADD(att, f16_cache_gqa_prefill) { ANPU_DTYPE_F16, 64, 4, 2, 3, 32, 5 };
FIXTURE_VARIANT_ADD(att, f32_cache_mha_decode) { ANPU_DTYPE_F32, 64, 2, 2, 1, 64, 40 };

FIXTURE_SETUP(att)
{
	self->fd = -1;
	ASSERT_EQ(0, anpu_counters_read(&self->base));
	self->fd = anpu_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
}

FIXTURE_TEARDOWN(att)
{
	struct anpu_counters now;

	if (self->fd < 0)
		return;
	close(self->fd);
	if (!_metadata->exit_code)
		EXPECT_EQ(0, anpu_counters_settle(&self->base, &now, 5000));
}

TEST_F_TIMEOUT(att, attention_equals_the_in_process_model_bit_for_bit, 120)
{
	const struct _fixture_variant_att *v = variant;
	uint32_t kv_dim = v->head_dim * v->n_kv_head;
	size_t nq = (size_t)v->head_dim * v->n_head * v->m, nkv = (size_t)kv_dim * v->ctx;
	size_t esz = v->cache_dtype == ANPU_DTYPE_F16 ? 2 : 4;
	float *q = malloc(nq * 4), *tmp = malloc(nkv * 4);
	uint8_t *k = malloc(nkv * esz), *vv = malloc(nkv * esz);
	struct anpu_params_attention p = { .scale = 1.0f / sqrtf((float)v->head_dim),
					   .pos = { ANPU_SCALAR_IMM, v->pos } };
	uint64_t seed = 77;
	struct job j = { 0 };
	struct anpu_tensor t[4];
	int iq, ik, iv, io;

	ASSERT_NE(NULL, q);
	ASSERT_NE(NULL, k);
	fill_floats(q, nq, &seed);
	for (int pass = 0; pass < 2; pass++) {
		uint8_t *dst = pass ? vv : k;

		fill_floats(tmp, nkv, &seed);
		for (size_t i = 0; i < nkv; i++) {
			if (esz == 2) {
				uint16_t h = ref_double_to_half(tmp[i]);

				memcpy(dst + 2 * i, &h, 2);
			} else {
				memcpy(dst + 4 * i, &tmp[i], 4);
			}
		}
	}
	iq = job_buf(_metadata, self->fd, &j, q, nq * 4, DRM_ANPU_BO_NPU_READONLY);
	ik = job_buf(_metadata, self->fd, &j, k, nkv * esz, 0);
	iv = job_buf(_metadata, self->fd, &j, vv, nkv * esz, 0);
	io = job_buf(_metadata, self->fd, &j, NULL, nq * 4, 0);
	simdev_stream_init(&j.s);
	t[0] = simdev_tensor(j.bo[iq].addr, ANPU_DTYPE_F32, v->head_dim, v->n_head, v->m, 1);
	t[1] = simdev_tensor(j.bo[ik].addr, v->cache_dtype, kv_dim, v->ctx, 1, 1);
	t[2] = simdev_tensor(j.bo[iv].addr, v->cache_dtype, kv_dim, v->ctx, 1, 1);
	t[3] = simdev_tensor(j.bo[io].addr, ANPU_DTYPE_F32, v->head_dim, v->n_head, v->m, 1);
	simdev_stream_op(&j.s, ANPU_OP_ATTENTION, 0, &p, sizeof(p), t, 4);
	run_both(_metadata, self->fd, self->ctx, &j);
	free(q);
	free(tmp);
	free(k);
	free(vv);
}

/* ---- a chain of ops, each reading the previous one's output ---- */

TEST_F_TIMEOUT(anpu, op_chain_matmul_rmsnorm_softmax_argmax_equals_the_model, 120)
{
	const uint32_t K = 64, N = 48, M = 2;
	float x[64 * 2], w[64 * 48], nw[48];
	struct anpu_params_rmsnorm rn = { .eps = 1e-6f };
	struct anpu_params_softmax sm = { .scale = 0.5f };
	uint64_t seed = 99;
	struct job j = { 0 };
	struct anpu_tensor t[4];
	int ix, iw, in, iy, iz, ia;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	fill_floats(x, K * M, &seed);
	fill_floats(w, K * N, &seed);
	fill_floats(nw, N, &seed);
	ix = job_buf(_metadata, self->fd, &j, x, sizeof(x), 0);
	iw = job_buf(_metadata, self->fd, &j, w, sizeof(w), DRM_ANPU_BO_NPU_READONLY);
	in = job_buf(_metadata, self->fd, &j, nw, sizeof(nw), DRM_ANPU_BO_NPU_READONLY);
	iy = job_buf(_metadata, self->fd, &j, NULL, 4 * N * M, 0);
	iz = job_buf(_metadata, self->fd, &j, NULL, 4 * N * M, 0);
	ia = job_buf(_metadata, self->fd, &j, NULL, 4 * M, 0);
	simdev_stream_init(&j.s);
	t[0] = simdev_tensor(j.bo[ix].addr, ANPU_DTYPE_F32, K, M, 1, 1);
	t[1] = simdev_tensor(j.bo[iw].addr, ANPU_DTYPE_F32, K, N, 1, 1);
	t[2] = simdev_tensor(j.bo[iy].addr, ANPU_DTYPE_F32, N, M, 1, 1);
	simdev_stream_op(&j.s, ANPU_OP_MATMUL, 0, NULL, 0, t, 3);
	t[0] = simdev_tensor(j.bo[iy].addr, ANPU_DTYPE_F32, N, M, 1, 1);
	t[1] = simdev_tensor(j.bo[in].addr, ANPU_DTYPE_F32, N, 1, 1, 1);
	t[2] = simdev_tensor(j.bo[iz].addr, ANPU_DTYPE_F32, N, M, 1, 1);
	simdev_stream_op(&j.s, ANPU_OP_RMSNORM, 0, &rn, sizeof(rn), t, 3);
	t[0] = t[2];
	t[1] = t[2];	/* in place */
	simdev_stream_op(&j.s, ANPU_OP_SOFTMAX, 0, &sm, sizeof(sm), t, 2);
	t[1] = simdev_tensor(j.bo[ia].addr, ANPU_DTYPE_I32, 1, M, 1, 1);
	simdev_stream_op(&j.s, ANPU_OP_ARGMAX, 0, NULL, 0, t, 2);
	run_both(_metadata, self->fd, self->ctx, &j);
}

/* ---- JOB_INFO of a real job, and a job the NPU rejects ---- */

TEST_F(anpu, job_info_reports_ops_and_device_times_of_a_multi_op_job)
{
	struct anpu_bo cmd;
	struct drm_anpu_job_info ji;
	struct drm_anpu_clock_sample cs = { 0 };
	uint64_t seqno;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 17, &cmd, NULL));
	ASSERT_EQ(0, anpu_run(self->fd, self->ctx, &cmd, NULL, 0, &seqno, ANPU_JOB_WAIT_MS));
	ASSERT_EQ(0, anpu_ioctl(self->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &cs));
	ASSERT_EQ(0, anpu_job_info(self->fd, self->ctx, seqno, &ji));
	EXPECT_EQ(DRM_ANPU_JOB_DONE, ji.state);
	EXPECT_EQ(ANPU_RESULT_OK, ji.result);
	EXPECT_EQ(17, ji.op_index);
	EXPECT_EQ(17, ji.ops_done);
	EXPECT_LE(ji.start_ns, ji.end_ns);
	EXPECT_GE(cs.device_ns, ji.end_ns);
	anpu_bo_free(self->fd, &cmd);
}

TEST_F(anpu, job_with_an_invalid_stream_fails_its_fence_with_eio_and_reports_the_cause)
{
	struct anpu_bo cmd;
	struct drm_anpu_job_info ji;
	uint64_t seqno;
	int r;

	ASSERT_EQ(0, anpu_ctx_create(self->fd, DRM_ANPU_PRIORITY_NORMAL, &self->ctx));
	ASSERT_EQ(0, anpu_nop_bo(self->fd, 1, &cmd, NULL));
	((struct anpu_stream_header *)cmd.map)->magic = 0xdeadbeef;
	r = anpu_run(self->fd, self->ctx, &cmd, NULL, 0, &seqno, ANPU_JOB_WAIT_MS);
	EXPECT_EQ(-EIO, r);
	ASSERT_EQ(0, anpu_job_info(self->fd, self->ctx, seqno, &ji));
	EXPECT_EQ(ANPU_RESULT_INVALID, ji.result);
	EXPECT_EQ(ANPU_CAUSE_STREAM_MAGIC, ji.cause);
	EXPECT_EQ(EIO, ji.error);
	anpu_bo_free(self->fd, &cmd);
}

TEST_HARNESS_MAIN
