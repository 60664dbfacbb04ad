// SPDX-License-Identifier: MIT
/*
 * Jobs with real ops through the kernel give bit-for-bit the results of the
 * reference model running the very same command stream: MATMUL in every
 * weight type, ATTENTION with F16 and F32 caches, a multi-op chain, and
 * JOB_INFO.
 *
 * The expected outputs are computed on the HOST, not in the guest: the model
 * picks its SIMD kernel path by cpuid (or ANPU_SIM_SIMD), and the quantized
 * formats (Q4_0, Q5_0, Q4_K, Q5_K, Q6_K) give different last bits on the
 * portable, AVX2 and AVX-512 paths (each deterministic, by design). anpu-sim
 * runs on the host, so the in-process model in a TCG guest (no AVX-512) would
 * not be on its path. run_vm.sh therefore first runs
 *
 *   anpu_job_test --record DIR
 *
 * on the host, in the same environment as the anpu-sim it starts (so both
 * choose the same path): the same inputs and stream builders, each job run on
 * the in-process model, every buffer's bytes after the job written to
 * DIR/<case>.bin (DIR/simd names the path). In the guest,
 * ANPU_SELFTEST_EXPECTED=DIR; the kernel's output buffers are compared with
 * those files byte for byte. NPU addresses differ between the two runs (the
 * kernel chooses them); no op's result depends on its operands' addresses.
 */
#include <math.h>
#include <sys/stat.h>

#include "anpu_test.h"
#include "tests/ref/ref_quant.h"

#define MODEL_ASID	1
#define MAX_BUFS	8
#define EXP_MAGIC	"ANPUEXP1"

static const char *record_dir;	/* --record DIR: host mode, model only */
static const char *expect_dir;	/* ANPU_SELFTEST_EXPECTED: guest mode */

struct job {
	struct anpu_bo bo[MAX_BUFS];
	size_t len[MAX_BUFS];
	int n;
	uint64_t next_va;	/* record mode: NPU addresses handed out */
	struct simdev_stream s;
};

/*
 * Setup shared by the fixtures that compare with the model: on the host
 * (record mode) no device; in the guest a file, a context and the counters.
 */
static void model_setup(struct __test_metadata *_metadata, int *fd, struct anpu_counters *base,
			uint32_t *ctx)
{
	*fd = -1;
	if (record_dir)
		return;
	if (access("/dev/accel", F_OK))
		SKIP(return, "no /dev/accel: not running on the ANPU virtual platform (make check-selftests)");
	if (!expect_dir)
		SKIP(return, "no ANPU_SELFTEST_EXPECTED: the expected outputs are recorded on the host by run_vm.sh (make check-selftests)");
	ASSERT_EQ(0, anpu_counters_read(base));
	*fd = anpu_open();
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, anpu_ctx_create(*fd, DRM_ANPU_PRIORITY_NORMAL, ctx));
}

static void model_teardown(struct __test_metadata *_metadata, int fd,
			   const struct anpu_counters *base)
{
	struct anpu_counters now;

	if (fd < 0)
		return;
	close(fd);
	if (!_metadata->exit_code)
		EXPECT_EQ(0, anpu_counters_settle(base, &now, 5000));
}

/* A buffer with @len bytes of @data (or zeros): a BO, or host memory when recording. */
static int job_buf(struct __test_metadata *_metadata, int fd, struct job *j, const void *data,
		   size_t len, uint32_t flags)
{
	struct anpu_bo *b = &j->bo[j->n];

	ASSERT_GT(MAX_BUFS, j->n);
	if (record_dir) {
		if (!j->next_va)
			j->next_va = 1ull << 30;
		b->flags = flags;
		b->size = (len + 4095) & ~4095ull;
		b->addr = j->next_va;
		j->next_va += (b->size + (4 << 20) - 1) & ~((2ull << 20) - 1);
		b->map = calloc(1, b->size);
		ASSERT_NE(NULL, b->map);
	} else {
		ASSERT_EQ(0, anpu_bo_new(fd, len, flags, b));
	}
	if (data)
		memcpy(b->map, data, len);
	j->len[j->n] = len;
	return j->n++;
}

static void job_free(int fd, struct job *j)
{
	for (int i = 0; i < j->n; i++) {
		if (record_dir)
			free(j->bo[i].map);
		else
			anpu_bo_free(fd, &j->bo[i]);
	}
	simdev_stream_free(&j->s);
}

/*
 * Host: run the finished stream on the in-process model (the buffers mapped
 * at their addresses) and write every buffer's bytes after the job to
 * record_dir/@key.bin: magic, count, then per buffer its length and bytes.
 */
static void record(struct __test_metadata *_metadata, struct job *j, const char *key)
{
	struct anpu_hw_job_desc desc = { 0 };
	struct anpu_hw_job_status st;
	struct simdev_buf mb[MAX_BUFS];
	uint64_t total = 4 << 20;
	uint32_t n = (uint32_t)j->n;
	char path[4096];
	struct simdev d;
	FILE *f;

	for (int i = 0; i < j->n; i++)
		total += j->bo[i].size + (2 << 20);
	while (total & (total - 1))
		total += total & -total;
	if (total < ANPU_BAR_MIN_SIZE)
		total = ANPU_BAR_MIN_SIZE;
	ASSERT_EQ(0, simdev_open(&d, total, 1));
	ASSERT_EQ(0, simdev_as_create(&d, MODEL_ASID));
	for (int i = 0; i < j->n; i++) {
		ASSERT_EQ(0, simdev_buf(&d, MODEL_ASID, j->bo[i].addr, j->bo[i].size,
					!(j->bo[i].flags & DRM_ANPU_BO_NPU_READONLY), &mb[i]));
		memcpy(mb[i].host, j->bo[i].map, j->bo[i].size);
	}
	ASSERT_EQ(0, simdev_stream_upload(&d, MODEL_ASID, j->next_va, &j->s, &desc));
	ASSERT_EQ(0, simdev_run(&d, 0, &desc, &st));
	ASSERT_EQ(ANPU_RESULT_OK, st.result) TH_LOG("model: cause %u at op %u", st.cause, st.op_index);
	ASSERT_EQ(j->s.op_count, st.ops_done);

	snprintf(path, sizeof(path), "%s/%s.bin", record_dir, key);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
	fwrite(EXP_MAGIC, 1, 8, f);
	fwrite(&n, sizeof(n), 1, f);
	for (int i = 0; i < j->n; i++) {
		uint64_t len = j->len[i];

		fwrite(&len, sizeof(len), 1, f);
		fwrite(mb[i].host, 1, len, f);
	}
	ASSERT_EQ(0, ferror(f));
	ASSERT_EQ(0, fclose(f));
	simdev_close(&d);
}

/* The host's (anpu-sim's) SIMD path, as recorded. */
static const char *recorded_path(char *buf, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/simd", expect_dir);
	if (anpu_read_file(path, buf, len) <= 0)
		return "?";
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/*
 * Run the finished stream @j->s: on the host, record the model's results
 * under @key; in the guest, through the kernel (context @ctx), then compare
 * every buffer byte for byte with the recorded results.
 */
static void run_both(struct __test_metadata *_metadata, int fd, uint32_t ctx, struct job *j,
		     const char *key)
{
	struct drm_anpu_bo_ref refs[MAX_BUFS];
	struct drm_anpu_job_info ji;
	char path[4096], simd[32], magic[8];
	struct anpu_bo cmd;
	uint64_t seqno;
	uint32_t n;
	FILE *f;

	ASSERT_NE(0, simdev_stream_finish(&j->s, 0, 0));
	if (record_dir) {
		record(_metadata, j, key);
		job_free(fd, j);
		return;
	}

	/* the expected results, recorded on the host */
	snprintf(path, sizeof(path), "%s/%s.bin", expect_dir, key);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s: %s (run_vm.sh records it with anpu_job_test --record)",
				  path, strerror(errno));
	ASSERT_EQ(1, fread(magic, 8, 1, f));
	ASSERT_EQ(0, memcmp(magic, EXP_MAGIC, 8));
	ASSERT_EQ(1, fread(&n, sizeof(n), 1, f));
	ASSERT_EQ((uint32_t)j->n, n);

	/* the kernel */
	ASSERT_EQ(0, anpu_stream_bo(fd, &j->s, &cmd));
	for (int i = 0; i < j->n; i++)
		refs[i] = (struct drm_anpu_bo_ref){
			.handle = j->bo[i].handle,
			.flags = j->bo[i].flags & DRM_ANPU_BO_NPU_READONLY ? 0 : DRM_ANPU_BO_REF_WRITE,
		};
	ASSERT_EQ(0, anpu_run(fd, ctx, &cmd, refs, (uint32_t)j->n, &seqno, ANPU_JOB_WAIT_MS));
	ASSERT_EQ(0, anpu_job_info(fd, ctx, seqno, &ji));
	EXPECT_EQ(ANPU_RESULT_OK, ji.result) TH_LOG("kernel: cause %u at op %u", ji.cause, ji.op_index);
	EXPECT_EQ(j->s.op_count, ji.ops_done);

	for (int i = 0; i < j->n; i++) {
		const uint8_t *k = j->bo[i].map;
		uint8_t *m = malloc(j->len[i] ? j->len[i] : 1);
		size_t first = SIZE_MAX;
		uint64_t len = 0;

		ASSERT_NE(NULL, m);
		ASSERT_EQ(1, fread(&len, sizeof(len), 1, f));
		ASSERT_EQ(j->len[i], len);
		ASSERT_EQ(len, fread(m, 1, len, f));
		for (size_t b = 0; b < len; b++)
			if (k[b] != m[b]) {
				first = b;
				break;
			}
		EXPECT_EQ(SIZE_MAX, first)
			TH_LOG("BO %d differs from the model (host, %s path) at byte %zu",
			       i, recorded_path(simd, sizeof(simd)), first);
		for (size_t b = len; b < j->bo[i].size && first == SIZE_MAX; b++)
			if (k[b])
				first = b;
		EXPECT_EQ(SIZE_MAX, first) TH_LOG("BO %d written past its data at byte %zu", i, first);
		free(m);
	}
	fclose(f);
	anpu_bo_free(fd, &cmd);
	job_free(fd, j);
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
	model_setup(_metadata, &self->fd, &self->base, &self->ctx);
}

FIXTURE_TEARDOWN(mm)
{
	model_teardown(_metadata, self->fd, &self->base);
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
	char key[64];

	snprintf(key, sizeof(key), "mm-d%u-k%u-n%u-m%u", variant->dtype, K, N, M);
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
	run_both(_metadata, self->fd, self->ctx, &j, key);
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
	model_setup(_metadata, &self->fd, &self->base, &self->ctx);
}

FIXTURE_TEARDOWN(att)
{
	model_teardown(_metadata, self->fd, &self->base);
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
	char key[80];

	snprintf(key, sizeof(key), "att-d%u-%u-%u-%u-%u-%u-%u", v->cache_dtype, v->head_dim,
		 v->n_head, v->n_kv_head, v->m, v->ctx, v->pos);
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
	run_both(_metadata, self->fd, self->ctx, &j, key);
	free(q);
	free(tmp);
	free(k);
	free(vv);
}

/* ---- a chain of ops, each reading the previous one's output ---- */

FIXTURE(chain) {
	int fd;
	struct anpu_counters base;
	uint32_t ctx;
};

FIXTURE_SETUP(chain)
{
	model_setup(_metadata, &self->fd, &self->base, &self->ctx);
}

FIXTURE_TEARDOWN(chain)
{
	model_teardown(_metadata, self->fd, &self->base);
}

TEST_F_TIMEOUT(chain, op_chain_matmul_rmsnorm_softmax_argmax_equals_the_model, 120)
{
	const uint32_t K = 64, N = 48, M = 2;
	float x[64 * 2], w[64 * 48], nw[48];
	struct anpu_params_rmsnorm rn = { .eps = 1e-6f };
	struct anpu_params_softmax sm = { .scale = 0.5f };
	uint64_t seed = 99;
	struct job j = { 0 };
	struct anpu_tensor t[4];
	int ix, iw, in, iy, iz, ia;

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
	run_both(_metadata, self->fd, self->ctx, &j, "op-chain");
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

/*
 * anpu_job_test --record DIR: on the host, write the model's results of the
 * comparison tests (fixtures mm, att, chain) into DIR. Otherwise the usual
 * harness, comparing with ANPU_SELFTEST_EXPECTED.
 */
int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--record")) {
		char *args[] = { argv[0], "-f", "mm", "-f", "att", "-f", "chain", NULL };
		char path[4096];
		FILE *f;

		record_dir = argv[2];
		if (mkdir(record_dir, 0755) && errno != EEXIST) {
			perror(record_dir);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/simd", record_dir);
		f = fopen(path, "w");
		if (!f || fprintf(f, "%s\n", anpusim_simd_path()) < 0 || fclose(f)) {
			perror(path);
			return 1;
		}
		return test_harness_run(7, args);
	}
	expect_dir = getenv("ANPU_SELFTEST_EXPECTED");
	return test_harness_run(argc, argv);
}
