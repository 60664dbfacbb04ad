// SPDX-License-Identifier: MIT
/*
 * Portable C dot kernels: the same integer sums as the SIMD paths. For the
 * K-quants the AVX2 path does the same float steps too (one scalar update
 * per super-block), so those two give the same bits there; the AVX-512 path
 * and, for the 32-element blocks and float weights, every SIMD path sum in
 * vector lanes instead (each path is deterministic on its own).
 */
#include "kernels.h"

#include <string.h>

#include "sim/sim_fp16.h"

/* Float weights: one sequential sum per x row, weight element by element. */
#define FLOAT_DOT(fn, T, TO_F32)						\
static void fn(size_t n, const void *w, const void *const *x,			\
	       unsigned int nx, float *out)					\
{										\
	const T *wt = w;							\
										\
	for (unsigned int r = 0; r < nx; r++) {					\
		const float *xf = x[r];						\
		float s = 0.0f;							\
										\
		for (size_t i = 0; i < n; i++)					\
			s += TO_F32(wt[i]) * xf[i];				\
		out[r] = s;							\
	}									\
}

#define F32_AS_IS(v) (v)
FLOAT_DOT(dot_f32, float, F32_AS_IS)
FLOAT_DOT(dot_f16, uint16_t, sim_f16_to_f32)
FLOAT_DOT(dot_bf16, uint16_t, sim_bf16_to_f32)

/* s plus block @b's step: its integer sum (the -8 offset through x's sum) times d d_x */
static inline float q4_0_step(float s, const struct sim_block_q4_0 *b, const struct sim_xblock_q8 *xb)
{
	int32_t sumi = -8 * xb->sum;

	for (int j = 0; j < SIM_QK / 2; j++)
		sumi += (b->qs[j] & 0xf) * xb->qs[j] + (b->qs[j] >> 4) * xb->qs[j + 16];
	return s + sim_f16_to_f32(b->d) * xb->d * (float)sumi;
}

static void dot_q4_0(size_t n, const void *w, const void *const *x,
		     unsigned int nx, float *out)
{
	const struct sim_block_q4_0 *b = w;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8 *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < n / SIM_QK; i++)
			s = q4_0_step(s, &b[i], &xb[i]);
		out[r] = s;
	}
}

/* Q4_1/Q5_1: d * sum(q * xq) * dx + m * dx * sum(xq), per block. */
static inline int32_t q4_1_sumi(const struct sim_block_q4_1 *b, const struct sim_xblock_q8 *xb)
{
	int32_t sumi = 0;

	for (int j = 0; j < SIM_QK / 2; j++)
		sumi += (b->qs[j] & 0xf) * xb->qs[j] + (b->qs[j] >> 4) * xb->qs[j + 16];
	return sumi;
}

/* sum of the unsigned 5-bit quants (nibbles of @qs, fifth bits of @qh8) times x's */
static inline int32_t q5_sumi(const uint8_t *qs, const uint8_t *qh8, const struct sim_xblock_q8 *xb)
{
	int32_t sumi = 0;
	uint32_t qh;

	memcpy(&qh, qh8, sizeof(qh));
	for (int j = 0; j < SIM_QK / 2; j++) {
		int lo = (qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4);
		int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);

		sumi += lo * xb->qs[j] + hi * xb->qs[j + 16];
	}
	return sumi;
}

static inline int32_t q5_1_sumi(const struct sim_block_q5_1 *b, const struct sim_xblock_q8 *xb)
{
	return q5_sumi(b->qs, b->qh, xb);
}

#define Q_1_DOT(fn, BLOCK, SUMI)						\
static void fn(size_t n, const void *w, const void *const *x,			\
	       unsigned int nx, float *out)					\
{										\
	const BLOCK *b = w;							\
										\
	for (unsigned int r = 0; r < nx; r++) {					\
		const struct sim_xblock_q8 *xb = x[r];				\
		float s = 0.0f;							\
										\
		for (size_t i = 0; i < n / SIM_QK; i++)				\
			s += sim_f16_to_f32(b[i].d) * xb[i].d * (float)SUMI(&b[i], &xb[i]) + \
			     sim_f16_to_f32(b[i].m) * xb[i].d * (float)xb[i].sum; \
		out[r] = s;							\
	}									\
}

Q_1_DOT(dot_q4_1, struct sim_block_q4_1, q4_1_sumi)
Q_1_DOT(dot_q5_1, struct sim_block_q5_1, q5_1_sumi)

/* Q5_0's integer sum of one block (the -16 offset through the x quants' sum) */
static inline int32_t q5_0_sumi(const struct sim_block_q5_0 *b, const struct sim_xblock_q8 *xb)
{
	return -16 * xb->sum + q5_sumi(b->qs, b->qh, xb);
}

static void dot_q5_0(size_t n, const void *w, const void *const *x,
		     unsigned int nx, float *out)
{
	const struct sim_block_q5_0 *b = w;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8 *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < n / SIM_QK; i++)
			s += sim_f16_to_f32(b[i].d) * xb[i].d * (float)q5_0_sumi(&b[i], &xb[i]);
		out[r] = s;
	}
}

/* Q5_0L: each block gathered from its group, then Q5_0's step (the same bits) */
static void dot_q5_0l(size_t n, const void *w, const void *const *x,
		      unsigned int nx, float *out)
{
	const size_t nb = n / SIM_QK;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8 *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < nb; i++) {
			struct sim_block_q5_0 b;

			sim_q5_0l_block(w, nb, i, &b);
			s += sim_f16_to_f32(b.d) * xb[i].d * (float)q5_0_sumi(&b, &xb[i]);
		}
		out[r] = s;
	}
}

static void dot_q8_0(size_t n, const void *w, const void *const *x,
		     unsigned int nx, float *out)
{
	const struct sim_block_q8_0 *b = w;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8 *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < n / SIM_QK; i++) {
			int32_t sumi = 0;

			for (int j = 0; j < SIM_QK; j++)
				sumi += b[i].qs[j] * xb[i].qs[j];
			s += sim_f16_to_f32(b[i].d) * xb[i].d * (float)sumi;
		}
		out[r] = s;
	}
}

/* sum over sub-blocks of min * (sum of x over the 32 elements) */
static int32_t kquant_mins(const uint8_t *m, const int16_t *bsums)
{
	int32_t s = 0;

	for (int j = 0; j < 8; j++)
		s += m[j] * (bsums[2 * j] + bsums[2 * j + 1]);
	return s;
}

/* s plus a Q4_K block's d d_x sumi - dmin d_x mins (dot()'s step per block) */
static float q4_K_step(float s, const struct sim_block_q4_K *b, const struct sim_xblock_q8K *xb)
{
	uint8_t sc[8], m[8];
	int32_t sumi = 0;

	for (unsigned int j = 0; j < 8; j++)
		sim_q4k_scale_min(j, b->scales, &sc[j], &m[j]);
	for (int c = 0; c < 4; c++) {
		const uint8_t *q = b->qs + 32 * c;
		const int8_t *xq = xb->qs + 64 * c;
		int32_t lo = 0, hi = 0;

		for (int l = 0; l < 32; l++) {
			lo += (q[l] & 0xf) * xq[l];
			hi += (q[l] >> 4) * xq[l + 32];
		}
		sumi += sc[2 * c] * lo + sc[2 * c + 1] * hi;
	}
	const float dd = sim_f16_to_f32(b->d) * xb->d;
	const float dm = sim_f16_to_f32(b->dmin) * xb->d;

	return s + (dd * (float)sumi - dm * (float)kquant_mins(m, xb->bsums));
}

static void dot_q4_K(size_t n, const void *w, const void *const *x,
		     unsigned int nx, float *out)
{
	const struct sim_block_q4_K *b = w;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8K *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < n / SIM_QK_K; i++)
			s = q4_K_step(s, &b[i], &xb[i]);
		out[r] = s;
	}
}

static void dot_q5_K(size_t n, const void *w, const void *const *x,
		     unsigned int nx, float *out)
{
	const struct sim_block_q5_K *b = w;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8K *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < n / SIM_QK_K; i++) {
			uint8_t sc[8], m[8];
			int32_t sumi = 0;

			for (unsigned int j = 0; j < 8; j++)
				sim_q4k_scale_min(j, b[i].scales, &sc[j], &m[j]);
			for (int c = 0; c < 4; c++) {
				const uint8_t *q = b[i].qs + 32 * c;
				const int8_t *xq = xb[i].qs + 64 * c;
				int32_t lo = 0, hi = 0;

				for (int l = 0; l < 32; l++) {
					int h = b[i].qh[l] >> (2 * c);

					lo += ((q[l] & 0xf) | ((h & 1) << 4)) * xq[l];
					hi += ((q[l] >> 4) | ((h & 2) << 3)) * xq[l + 32];
				}
				sumi += sc[2 * c] * lo + sc[2 * c + 1] * hi;
			}
			const float dd = sim_f16_to_f32(b[i].d) * xb[i].d;
			const float dm = sim_f16_to_f32(b[i].dmin) * xb[i].d;

			s += dd * (float)sumi - dm * (float)kquant_mins(m, xb[i].bsums);
		}
		out[r] = s;
	}
}

/* s plus a Q6_K block's d d_x (sumi - 32 offs) (dot()'s step per block) */
static float q6_K_step(float s, const struct sim_block_q6_K *b, const struct sim_xblock_q8K *xb)
{
	int32_t sumi = 0, offs = 0;

	for (int h = 0; h < 2; h++) {
		const uint8_t *ql = b->ql + 64 * h;
		const uint8_t *qh = b->qh + 32 * h;
		const int8_t *sc = b->scales + 8 * h;
		const int8_t *xq = xb->qs + 128 * h;
		int32_t g[8] = { 0 };

		for (int l = 0; l < 32; l++) {
			int is = l / 16;

			g[is + 0] += ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) * xq[l];
			g[is + 2] += ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) * xq[l + 32];
			g[is + 4] += ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) * xq[l + 64];
			g[is + 6] += ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) * xq[l + 96];
		}
		for (int k = 0; k < 8; k++)
			sumi += sc[k] * g[k];
	}
	for (int k = 0; k < 16; k++)
		offs += b->scales[k] * xb->bsums[k];
	const float dd = sim_f16_to_f32(b->d) * xb->d;

	return s + dd * (float)(sumi - 32 * offs);
}

static void dot_q6_K(size_t n, const void *w, const void *const *x,
		     unsigned int nx, float *out)
{
	const struct sim_block_q6_K *b = w;

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8K *xb = x[r];
		float s = 0.0f;

		for (size_t i = 0; i < n / SIM_QK_K; i++)
			s = q6_K_step(s, &b[i], &xb[i]);
		out[r] = s;
	}
}

/*
 * s plus dot()'s step for block @i of the row in lane @lane of a group (@row:
 * its first dword) against x's block @xb (struct sim_xblock_q8K; Q4_0L:
 * struct sim_xblock_q8)
 */
typedef float (*kl_step_fn)(float s, const void *row, unsigned int lane, size_t i,
			    const void *xb);

static float q4_kl_step(float s, const void *row, unsigned int lane, size_t i, const void *xb)
{
	struct sim_block_q4_K b;

	(void)lane;
	sim_q4_kl_block(row, i, &b);
	return q4_K_step(s, &b, xb);
}

static float q6_kl_step(float s, const void *row, unsigned int lane, size_t i, const void *xb)
{
	struct sim_block_q6_K b;

	sim_q6_kl_block(row, lane, i, &b);
	return q6_K_step(s, &b, xb);
}

static float q4_0l_step(float s, const void *row, unsigned int lane, size_t i, const void *xb)
{
	struct sim_block_q4_0 b;

	sim_q4_0l_block(row, lane, i, &b);
	return q4_0_step(s, &b, xb);
}

/*
 * Row groups of blocks of @block_elems elements and @block_bytes, x in
 * blocks of @x_bytes: each lane's blocks gathered, then the plain type's step
 */
static void kl_groups(size_t n, const void *w, unsigned int ngroups, const void *const *x,
		      unsigned int nx, float *out, size_t block_elems, size_t block_bytes,
		      size_t x_bytes, kl_step_fn step)
{
	const size_t nb = n / block_elems, group_bytes = nb * block_bytes * ANPU_Q4_KL_GROUP;

	for (unsigned int g = 0; g < ngroups; g++)
		for (unsigned int l = 0; l < ANPU_Q4_KL_GROUP; l++)
			for (unsigned int r = 0; r < nx; r++) {
				float s = 0.0f;

				for (size_t i = 0; i < nb; i++)
					s = step(s, (const uint8_t *)w + g * group_bytes + 4 * l, l, i,
						 (const uint8_t *)x[r] + i * x_bytes);
				out[(size_t)r * ANPU_Q4_KL_GROUP * ngroups + ANPU_Q4_KL_GROUP * g + l] = s;
			}
}

static void dot_q4_kl_groups(size_t n, const void *w, unsigned int ngroups,
			     const void *const *x, unsigned int nx, float *out)
{
	kl_groups(n, w, ngroups, x, nx, out, SIM_QK_K, sizeof(struct sim_block_q4_K),
		  sizeof(struct sim_xblock_q8K), q4_kl_step);
}

static void dot_q6_kl_groups(size_t n, const void *w, unsigned int ngroups,
			     const void *const *x, unsigned int nx, float *out)
{
	kl_groups(n, w, ngroups, x, nx, out, SIM_QK_K, sizeof(struct sim_block_q6_K),
		  sizeof(struct sim_xblock_q8K), q6_kl_step);
}

static void dot_q4_0l_groups(size_t n, const void *w, unsigned int ngroups,
			     const void *const *x, unsigned int nx, float *out)
{
	kl_groups(n, w, ngroups, x, nx, out, SIM_QK, sizeof(struct sim_block_q4_0),
		  sizeof(struct sim_xblock_q8), q4_0l_step);
}

/*
 * ---- ATTENTION's inner loops ----
 * GCC/Clang vector extensions: element-wise IEEE float arithmetic, so the
 * results are those of the scalar loops they replace, on any target; the
 * block loops are att_vec.inc's, as on every path.
 */
typedef float v4f __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef uint16_t v4h __attribute__((vector_size(8)));

/*
 * F16 -> F32, exactly (same bits as sim_f16_to_f32): shifting exponent and
 * mantissa into place and multiplying by 2^112 rebiases normals and
 * normalises subnormals exactly; exponent 31 (inf/NaN) gets the all-ones
 * float exponent; the sign is ORed back.
 */
static void att_f16_to_f32(float *dst, const uint8_t *src, uint32_t n)
{
	uint32_t i = 0;

	for (; i + 4 <= n; i += 4) {
		v4h h16;
		v4u h, em, b;
		v4f f;

		memcpy(&h16, src + 2 * (size_t)i, sizeof(h16));
		h = __builtin_convertvector(h16, v4u);
		em = (h & 0x7fffu) << 13;
		memcpy(&f, &em, sizeof(f));
		f *= 0x1p112f;
		memcpy(&b, &f, sizeof(b));
		b |= (h & 0x8000u) << 16;
		b |= (v4u)((h & 0x7c00u) == 0x7c00u) & 0x7f800000u;
		memcpy(dst + i, &b, sizeof(b));
	}
	for (; i < n; i++) {
		uint16_t h;

		memcpy(&h, src + 2 * (size_t)i, sizeof(h));
		dst[i] = sim_f16_to_f32(h);
	}
}

#define ATT_H2F sim_f16_to_f32
#include "att_vec.inc"

/* RMSNORM's row as sim/ops/op_rmsnorm.c defines it */
static void rmsnorm_row(const float *x, const float *w, float *y, uint32_t n,
			float eps)
{
	double s[4] = { 0, 0, 0, 0 };
	uint32_t i;
	float scale;

	for (i = 0; i + 4 <= n; i += 4)
		for (unsigned int l = 0; l < 4; l++)
			s[l] += (double)x[i + l] * x[i + l];
	for (; i < n; i++)
		s[i & 3] += (double)x[i] * x[i];
	scale = (float)(1.0 / sqrt(((s[0] + s[1]) + (s[2] + s[3])) / n + eps));
	for (i = 0; i < n; i++)
		y[i] = (x[i] * scale) * w[i];
}

static void rmsnorm_rows(const float *const *x, float *const *y, const float *w, uint32_t n,
			 uint32_t rows, float eps)
{
	for (uint32_t r = 0; r < rows; r++)
		rmsnorm_row(x[r], w, y[r], n, eps);
}


static void f32_to_f16(uint16_t *dst, const float *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dst[i] = sim_f32_to_f16(src[i]);
}

const struct sim_kernels sim_kernels_portable = {
	.name = "portable",
	.dot = {
		[ANPU_DTYPE_F32] = dot_f32,
		[ANPU_DTYPE_F16] = dot_f16,
		[ANPU_DTYPE_BF16] = dot_bf16,
		[ANPU_DTYPE_Q4_0] = dot_q4_0,
		[ANPU_DTYPE_Q4_1] = dot_q4_1,
		[ANPU_DTYPE_Q5_0] = dot_q5_0,
		[ANPU_DTYPE_Q5_1] = dot_q5_1,
		[ANPU_DTYPE_Q8_0] = dot_q8_0,
		[ANPU_DTYPE_Q4_K] = dot_q4_K,
		[ANPU_DTYPE_Q5_K] = dot_q5_K,
		[ANPU_DTYPE_Q6_K] = dot_q6_K,
		[ANPU_DTYPE_Q5_0L] = dot_q5_0l,
	},
	.dot_groups[ANPU_DTYPE_Q4_KL] = dot_q4_kl_groups,
	.dot_groups[ANPU_DTYPE_Q6_KL] = dot_q6_kl_groups,
	.dot_groups[ANPU_DTYPE_Q4_0L] = dot_q4_0l_groups,
	.quantize_q8 = sim_quantize_row_q8,
	.quantize_q8K = sim_quantize_row_q8K,
	.att_f16_to_f32 = att_f16_to_f32,
	.att_scores = att_scores,
	.att_softmax_step = att_softmax_step,
	.att_merge = att_merge,
	.att_accum = att_accum,
	.att_scores_f16 = att_scores_f16,
	.att_accum_f16 = att_accum_f16,
	.att_head_block = att_head_block,
	.att_scores_f16_heads = att_scores_f16_heads,
	.att_accum_f16_heads = att_accum_f16_heads,
	.att_accum_heads = att_accum_heads,
	.rmsnorm_rows = rmsnorm_rows,
	.rope_pairs = att_rope_pairs,
	.swiglu = att_swiglu,
	.f32_to_f16 = f32_to_f16,
};
