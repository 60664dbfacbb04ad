/* SPDX-License-Identifier: MIT */
/*
 * x86 dot kernels, written once and compiled twice: kernels_avx2.c and
 * kernels_avx512.c include this after defining
 *   DOT_U8S8(acc, u, s)   acc(i32x8) += sum of 4 u8*s8 products per lane
 *   MADD_I16(acc, p, sc)  acc(i32x8) += p(i16x16) * sc(i16x16), pairwise
 *   KERNELS_NAME          the path's name and KERNELS_SYM the table symbol.
 * AVX2 builds them from maddubs/madd, AVX-512 from VNNI vpdpbusd/vpdpwssd.
 * All operands stay small enough that maddubs never saturates: weights are
 * unsigned (<= 63, or |w| <= 128 with the sign moved onto x for Q8_0) and
 * activations are in [-127, 127].
 *
 * Every kernel unpacks a weight block once and uses it for all nx rows; each
 * row has its own accumulators, so a row's result never depends on nx.
 * With -mavx512bw (kernels_avx512.c) the Q4_0/Q5_0/Q8_0 and K-quant kernels
 * are replaced by the 512-bit ones at the end of this file (Q4_0/Q5_0/Q8_0
 * against the pair form of the activations, struct sim_xpair_q8). Weight rows are
 * software-prefetched PF_DIST bytes ahead (except Q8_0, which streams well
 * without). The activation quantizers here give quant.c's bytes exactly.
 */
#ifndef SIM_KERNELS_X86_H
#define SIM_KERNELS_X86_H

#include <immintrin.h>
#include <string.h>

#include "kernels.h"

#define R SIM_DOT_MAX_ROWS

static inline float hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static inline int32_t hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

static inline float f16_to_f32(uint16_t h)
{
	return _cvtsh_ss(h);
}

/* Software prefetch distance in bytes of weights (the row kernels stream
 * weights; hardware prefetch alone leaves the slower kernels latency bound). */
#ifndef PF_DIST
#define PF_DIST 4096	/* 1024 streamed ~12% slower (q4_0/q5_0/q6_K, one thread) */
#endif
#ifndef Q8_PF
#define Q8_PF 0		/* 1: prefetch Q8_0 weights too (experiments) */
#endif

/* inline asm: gcc 12 drops _mm_prefetch/__builtin_prefetch in these loops */
static inline void prefetch_w(const void *p)
{
	__asm__ volatile("prefetcht0 %0" : : "m"(*((const char *)p + PF_DIST)));
}

static inline __m256i load256(const void *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

/* ---- float weights ---- */

#define FLOAT_DOT(fn, LOAD8, SCALAR)						\
static void fn(size_t n, const void *w, const void *const *x,			\
	       unsigned int nx, float *out)					\
{										\
	size_t n8 = n & ~(size_t)31;						\
	for (unsigned int r = 0; r < nx; r++) {					\
		const float *xf = x[r];						\
		__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;	\
		size_t i;							\
		for (i = 0; i < n8; i += 32) {					\
			a0 = _mm256_fmadd_ps(LOAD8(w, i), _mm256_loadu_ps(xf + i), a0); \
			a1 = _mm256_fmadd_ps(LOAD8(w, i + 8), _mm256_loadu_ps(xf + i + 8), a1); \
			a2 = _mm256_fmadd_ps(LOAD8(w, i + 16), _mm256_loadu_ps(xf + i + 16), a2); \
			a3 = _mm256_fmadd_ps(LOAD8(w, i + 24), _mm256_loadu_ps(xf + i + 24), a3); \
		}								\
		float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1),		\
						_mm256_add_ps(a2, a3)));	\
		for (; i < n; i++)						\
			s += SCALAR(w, i) * xf[i];				\
		out[r] = s;							\
	}									\
}

#define LOAD8_F32(w, i) _mm256_loadu_ps((const float *)(w) + (i))
#define LOAD8_F16(w, i) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)(w) + (i))))
#define LOAD8_BF16(w, i) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32( \
	_mm_loadu_si128((const __m128i *)((const uint16_t *)(w) + (i)))), 16))
#define SCALAR_F32(w, i) (((const float *)(w))[i])
#define SCALAR_F16(w, i) f16_to_f32(((const uint16_t *)(w))[i])
#define SCALAR_BF16(w, i) sim_bits_f32((uint32_t)((const uint16_t *)(w))[i] << 16)

static inline float sim_bits_f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

FLOAT_DOT(dot_f32, LOAD8_F32, SCALAR_F32)
FLOAT_DOT(dot_f16, LOAD8_F16, SCALAR_F16)
FLOAT_DOT(dot_bf16, LOAD8_BF16, SCALAR_BF16)

/* ---- 32-element blocks against struct sim_xblock_q8 ---- */

/* 32 bits -> 32 bytes of 0x10 where the bit is set (ggml's bytes_from_bits) */
static inline __m256i bits_to_0x10(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
					       0x0101010101010101, 0x0000000000000000);
	__m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)v), shuf);

	bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
	bytes = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
	return _mm256_and_si256(bytes, _mm256_set1_epi8(0x10));
}

static inline __m256i nibbles_lo_hi(const uint8_t *qs)
{
	__m128i q = _mm_loadu_si128((const __m128i *)qs);

	return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q),
				_mm256_set1_epi8(0x0f));
}

/*
 * Two accumulators per row (even and odd blocks) break the add chain; the
 * body is instantiated for nx = 1 and nx = 4 so accumulators stay in
 * registers. Rows of a 2- or 3-row group run one at a time: same result.
 */
#define Q_ROWS(fn, BLOCK, XBLOCK)						\
static inline __attribute__((always_inline)) void				\
fn##_rows(size_t n, const void *w, const void *const *x, float *out,		\
	  const unsigned int nx)						\
{										\
	const BLOCK *b = w;							\
	const XBLOCK *xb[R];							\
	__m256 a0[R], a1[R];							\
	size_t nb = n / SIM_QK, i;						\
	for (unsigned int r = 0; r < nx; r++) {					\
		xb[r] = x[r];							\
		a0[r] = _mm256_setzero_ps();					\
		a1[r] = _mm256_setzero_ps();					\
	}									\
	for (i = 0; i + 1 < nb; i += 2) {					\
		fn##_block(&b[i], xb, i, a0, nx);				\
		fn##_block(&b[i + 1], xb, i + 1, a1, nx);			\
	}									\
	if (i < nb)								\
		fn##_block(&b[i], xb, i, a0, nx);				\
	for (unsigned int r = 0; r < nx; r++)					\
		out[r] = hsum_ps(_mm256_add_ps(a0[r], a1[r]));			\
}										\
NX_DISPATCH(fn)

#define NX_DISPATCH(fn)								\
static __attribute__((unused)) void fn(size_t n, const void *w, const void *const *x,			\
	       unsigned int nx, float *out)					\
{										\
	if (nx == R) {								\
		fn##_rows(n, w, x, out, R);					\
		return;								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		fn##_rows(n, w, x + r, out + r, 1);				\
}

/*
 * Unsigned weights u with offset: block sum = dot(u, xq) - off * sum(xq);
 * the offset enters as the start value of lane 0, so it is exact.
 */
#define Q_0_DOT(fn, BLOCK, UNPACK, OFF)						\
static inline __attribute__((always_inline)) void				\
fn##_block(const BLOCK *blk, const struct sim_xblock_q8 *const *xb, size_t i,	\
	   __m256 *acc, const unsigned int nx)					\
{										\
	const __m256i u = UNPACK(blk);						\
	const float dw = f16_to_f32(blk->d);					\
	for (unsigned int r = 0; r < nx; r++) {					\
		const struct sim_xblock_q8 *xr = &xb[r][i];			\
		__m256i s = _mm256_setr_epi32(-(OFF) * xr->sum, 0, 0, 0, 0, 0, 0, 0); \
		s = DOT_U8S8(s, u, load256(xr->qs));				\
		acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),			\
					 _mm256_set1_ps(dw * xr->d), acc[r]);	\
	}									\
}										\
Q_ROWS(fn, BLOCK, struct sim_xblock_q8)

#define UNPACK_Q4_0(blk) nibbles_lo_hi((blk)->qs)
#define UNPACK_Q5_0(blk) _mm256_or_si256(nibbles_lo_hi((blk)->qs), bits_to_0x10((blk)->qh))

Q_0_DOT(dot_q4_0, struct sim_block_q4_0, UNPACK_Q4_0, 8)
Q_0_DOT(dot_q5_0, struct sim_block_q5_0, UNPACK_Q5_0, 16)

/* Q8_0: signed weights; move the sign onto x so the u8 operand is |w|. */
static inline __attribute__((always_inline)) void
dot_q8_0_block(const struct sim_block_q8_0 *blk, const struct sim_xblock_q8 *const *xb,
	       size_t i, __m256 *acc, const unsigned int nx)
{
	const __m256i q = load256(blk->qs);
	const __m256i u = _mm256_sign_epi8(q, q);
	const float dw = f16_to_f32(blk->d);

	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xblock_q8 *xr = &xb[r][i];
		__m256i s = DOT_U8S8(_mm256_setzero_si256(), u,
				     _mm256_sign_epi8(load256(xr->qs), q));

		acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
					 _mm256_set1_ps(dw * xr->d), acc[r]);
	}
}

Q_ROWS(dot_q8_0, struct sim_block_q8_0, struct sim_xblock_q8)

/* ---- K-quants against struct sim_xblock_q8K ---- */

static inline int32_t kquant_mins(const uint8_t *m, const int16_t *bsums)
{
	int32_t s = 0;

	for (int j = 0; j < 8; j++)
		s += m[j] * (bsums[2 * j] + bsums[2 * j + 1]);
	return s;
}

/* Q4_K and Q5_K: u[2c], u[2c+1] are the 64 weights of chunk c. */
#define KQ45_DOT(fn, BLOCK, UNPACK)						\
static inline __attribute__((always_inline)) void				\
fn##_rows(size_t n, const void *w, const void *const *x, float *out,		\
	  const unsigned int nx)						\
{										\
	const BLOCK *b = w;							\
	const struct sim_xblock_q8K *xb[R];					\
	float acc[R];								\
	for (unsigned int r = 0; r < nx; r++) {					\
		xb[r] = x[r];							\
		acc[r] = 0.0f;							\
	}									\
	for (size_t i = 0; i < n / SIM_QK_K; i++) {				\
		uint8_t sc[8], m[8];						\
		__m256i u[8], scv[8];						\
		for (unsigned int j = 0; j < 8; j++) {				\
			sim_q4k_scale_min(j, b[i].scales, &sc[j], &m[j]);	\
			scv[j] = _mm256_set1_epi16(sc[j]);			\
		}								\
		prefetch_w(&b[i]);						\
		prefetch_w((const uint8_t *)&b[i] + 64);			\
		prefetch_w((const uint8_t *)&b[i] + 128);			\
		UNPACK(&b[i], u);						\
		const float d = f16_to_f32(b[i].d);				\
		const float dmin = f16_to_f32(b[i].dmin);			\
		for (unsigned int r = 0; r < nx; r++) {				\
			const struct sim_xblock_q8K *xr = &xb[r][i];		\
			__m256i s = _mm256_setzero_si256();			\
			for (int j = 0; j < 8; j++)				\
				s = MADD_I16(s, _mm256_maddubs_epi16(u[j],	\
					load256(xr->qs + 32 * j)), scv[j]);	\
			const float dd = d * xr->d;				\
			const float dm = dmin * xr->d;				\
			acc[r] += dd * (float)hsum_epi32(s) -			\
				  dm * (float)kquant_mins(m, xr->bsums);	\
		}								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		out[r] = acc[r];						\
}										\
NX_DISPATCH(fn)

static inline __attribute__((always_inline)) void unpack_q4_K(const struct sim_block_q4_K *blk, __m256i u[8])
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);

	for (int c = 0; c < 4; c++) {
		__m256i q = load256(blk->qs + 32 * c);

		u[2 * c] = _mm256_and_si256(q, m4);
		u[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
	}
}

static inline __attribute__((always_inline)) void unpack_q5_K(const struct sim_block_q5_K *blk, __m256i u[8])
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	const __m256i one = _mm256_set1_epi8(1);
	const __m256i qh = load256(blk->qh);

	for (int c = 0; c < 4; c++) {
		__m256i q = load256(blk->qs + 32 * c);
		__m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
		__m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);

		u[2 * c] = _mm256_or_si256(_mm256_and_si256(q, m4),
					   _mm256_slli_epi16(h0, 4));
		u[2 * c + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
					       _mm256_slli_epi16(h1, 4));
	}
}

KQ45_DOT(dot_q4_K, struct sim_block_q4_K, unpack_q4_K)
KQ45_DOT(dot_q5_K, struct sim_block_q5_K, unpack_q5_K)

/* Q6_K: u[k] holds elements 32k..32k+31 (0..63); scales per 16 elements. */
static inline __attribute__((always_inline)) void
dot_q6_K_rows(size_t n, const void *w, const void *const *x, float *out,
	      const unsigned int nx)
{
	const struct sim_block_q6_K *b = w;
	const struct sim_xblock_q8K *xb[R];
	float acc[R];
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	const __m256i m3 = _mm256_set1_epi8(3);

	for (unsigned int r = 0; r < nx; r++) {
		xb[r] = x[r];
		acc[r] = 0.0f;
	}
	for (size_t i = 0; i < n / SIM_QK_K; i++) {
		__m256i u[8], scv[8];

		prefetch_w(&b[i]);
		prefetch_w((const uint8_t *)&b[i] + 64);
		prefetch_w((const uint8_t *)&b[i] + 128);
		prefetch_w((const uint8_t *)&b[i] + 192);
		for (int h = 0; h < 2; h++) {
			__m256i ql0 = load256(b[i].ql + 64 * h);
			__m256i ql1 = load256(b[i].ql + 64 * h + 32);
			__m256i qh = load256(b[i].qh + 32 * h);

			u[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(ql0, m4),
				_mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
			u[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, m4),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4));
			u[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4));
			u[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4));
		}
		for (int k = 0; k < 8; k++)
			scv[k] = _mm256_set_m128i(_mm_set1_epi16(b[i].scales[2 * k + 1]),
						  _mm_set1_epi16(b[i].scales[2 * k]));
		const float d = f16_to_f32(b[i].d);

		for (unsigned int r = 0; r < nx; r++) {
			const struct sim_xblock_q8K *xr = &xb[r][i];
			__m256i s = _mm256_setzero_si256();
			int32_t offs = 0;

			for (int k = 0; k < 8; k++)
				s = MADD_I16(s, _mm256_maddubs_epi16(u[k],
					load256(xr->qs + 32 * k)), scv[k]);
			for (int k = 0; k < 16; k++)
				offs += b[i].scales[k] * xr->bsums[k];
			acc[r] += (d * xr->d) * (float)(hsum_epi32(s) - 32 * offs);
		}
	}
	for (unsigned int r = 0; r < nx; r++)
		out[r] = acc[r];
}

NX_DISPATCH(dot_q6_K)


/* ---- activation quantizers, bit-identical to quant.c ---- */

/* (int)lroundf(v) per lane for |v| < 2^23: round half away from zero */
static inline __m256i lround8(__m256 v)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	const __m256 a = _mm256_andnot_ps(sign, v);
	const __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	const __m256 up = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(a, t),
						      _mm256_set1_ps(0.5f), _CMP_GE_OQ),
					_mm256_set1_ps(1.0f));

	return _mm256_cvttps_epi32(_mm256_or_ps(_mm256_add_ps(t, up),
						_mm256_and_ps(v, sign)));
}

/* 32 int8 from four int32x8 in order */
static inline __m256i pack4_i8(__m256i a, __m256i b, __m256i c, __m256i d)
{
	__m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));

	return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/*
 * amax of n8 ymm of x; returns -1 if some x is NaN, amax is not finite or
 * tiny (those blocks take the portable code, whatever lroundf does there).
 */
static inline float block_amax(const float *x, unsigned int n8)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 m = _mm256_setzero_ps(), bad = _mm256_setzero_ps();

	for (unsigned int j = 0; j < n8; j++) {
		__m256 v = _mm256_loadu_ps(x + 8 * j);

		m = _mm256_max_ps(_mm256_andnot_ps(sign, v), m);
		bad = _mm256_or_ps(bad, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
	}
	__m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));

	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_movehdup_ps(h));
	float amax = _mm_cvtss_f32(h);

	if (_mm256_movemask_ps(bad) || !(amax <= 3.0e38f) ||
	    (amax != 0.0f && amax < 1.0e-30f))	/* 1 / d could overflow */
		return -1.0f;
	return amax;
}

/* sum of 16-byte halves of 32 int8: lo in [0], hi in [1] */
static inline void sum16x2(__m256i q, int32_t s[2])
{
	__m256i t = _mm256_sad_epu8(_mm256_xor_si256(q, _mm256_set1_epi8((char)0x80)),
				    _mm256_setzero_si256());
	__m128i lo = _mm256_castsi256_si128(t), hi = _mm256_extracti128_si256(t, 1);

	s[0] = _mm_cvtsi128_si32(lo) + _mm_extract_epi32(lo, 2) - 16 * 128;
	s[1] = _mm_cvtsi128_si32(hi) + _mm_extract_epi32(hi, 2) - 16 * 128;
}

static void quantize_q8(const float *x, struct sim_xblock_q8 *y, size_t n)
{
	for (size_t i = 0; i < n / SIM_QK; i++, x += SIM_QK) {
		const float amax = block_amax(x, SIM_QK / 8);

		if (amax < 0) {
			sim_quantize_row_q8(x, &y[i], SIM_QK);
			continue;
		}
		const float d = amax / 127.0f;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;
		const __m256 vid = _mm256_set1_ps(id);
		__m256i q[4];
		int32_t s[2];

		for (int j = 0; j < 4; j++)
			q[j] = lround8(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * j), vid));
		__m256i b = pack4_i8(q[0], q[1], q[2], q[3]);

		_mm256_storeu_si256((__m256i *)y[i].qs, b);
		sum16x2(b, s);
		y[i].d = d;
		y[i].sum = s[0] + s[1];
	}
}

static void quantize_q8K(const float *x, struct sim_xblock_q8K *y, size_t n)
{
	for (size_t i = 0; i < n / SIM_QK_K; i++, x += SIM_QK_K) {
		const float amax = block_amax(x, SIM_QK_K / 8);

		if (amax < 0) {
			sim_quantize_row_q8K(x, &y[i], SIM_QK_K);
			continue;
		}
		const float d = amax / 127.0f;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;
		const __m256 vid = _mm256_set1_ps(id);

		for (int c = 0; c < SIM_QK_K / 32; c++) {
			const float *xc = x + 32 * c;
			__m256i q[4];
			int32_t s[2];

			for (int j = 0; j < 4; j++)
				q[j] = lround8(_mm256_mul_ps(_mm256_loadu_ps(xc + 8 * j), vid));
			__m256i b = pack4_i8(q[0], q[1], q[2], q[3]);

			_mm256_storeu_si256((__m256i *)(y[i].qs + 32 * c), b);
			sum16x2(b, s);
			y[i].bsums[2 * c] = (int16_t)s[0];
			y[i].bsums[2 * c + 1] = (int16_t)s[1];
		}
		y[i].d = d;
	}
}

#ifdef __AVX512BW__
/*
 * AVX-512 variants (this header compiled with -mavx512*): 64 weights per
 * zmm, so two 32-element blocks or one 64-element K-quant chunk per
 * instruction, and the K-quant scales and mins unpacked with vector ops.
 * Integer sums are exact as above; float accumulation is per row in zmm
 * lanes (a fixed order for a row, whatever nx).
 */
static inline __m512i load512(const void *p)
{
	return _mm512_loadu_si512(p);
}

static inline __m512i join256(__m256i lo, __m256i hi)
{
	return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

static inline __m512 scale_pair(float s0, float s1)
{
	return _mm512_insertf32x8(_mm512_set1_ps(s0), _mm256_set1_ps(s1), 1);
}

/* two q4_0/q5_0 blocks -> 64 u8 in x order: [b0 0..31, b1 0..31] */
static inline __m512i nibbles_pair(const uint8_t *qs0, const uint8_t *qs1)
{
	/* 128-bit lanes b0, b0, b1, b1; lanes 1 and 3 take the high nibbles */
	__m512i z = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)qs0));

	z = _mm512_mask_broadcast_i32x4(z, 0xff00, _mm_loadu_si128((const __m128i *)qs1));
	z = _mm512_mask_srli_epi16(z, 0xff00ff00u, z, 4);
	return _mm512_and_si512(z, _mm512_set1_epi8(0x0f));
}

/*
 * Q4_0/Q5_0/Q8_0 against struct sim_xpair_q8 rows: per pair of blocks, u =
 * 64 unsigned weights (the weight plus OFF), integer dot started at
 * -OFF * sum per block (from x's pair form), so the block sums are exact;
 * then acc += float(sum) * (dw * dx) per lane as the 256-bit kernels do.
 * Q8_0's signed weights become unsigned by w ^ 0x80 (w + 128).
 */
static inline __m512i unpack2_q4_0(const struct sim_block_q4_0 *b)
{
	return nibbles_pair(b[0].qs, b[1].qs);
}

static inline __m512i unpack2_q5_0(const struct sim_block_q5_0 *b)
{
	uint32_t h0, h1;

	memcpy(&h0, b[0].qh, 4);
	memcpy(&h1, b[1].qh, 4);
	__m512i u = nibbles_pair(b[0].qs, b[1].qs);

	return _mm512_mask_add_epi8(u, _cvtu64_mask64(h0 | (uint64_t)h1 << 32),
				    u, _mm512_set1_epi8(0x10));
}

static inline __m512i unpack2_q8_0(const struct sim_block_q8_0 *b)
{
	return _mm512_xor_si512(join256(load256(b[0].qs), load256(b[1].qs)),
				_mm512_set1_epi8((char)0x80));
}

static inline __m256i unpack1_q8_0(const struct sim_block_q8_0 *b)
{
	return _mm256_xor_si256(load256(b->qs), _mm256_set1_epi8((char)0x80));
}

/* [d of b[0] x 8, d of b[1] x 8] as floats (d is each block's first field) */
#define DW_PAIR(b) _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(	\
	_mm512_castsi256_si512(_mm256_mask_set1_epi16(_mm256_setzero_si256(), 0xff00,	\
						      (short)(sizeof(*(b)) / 2))),	\
	_mm512_maskz_loadu_epi16(1u | 1u << (sizeof(*(b)) / 2), (b)))))

#define Q_X2_DOT512(fn, BLOCK, OFFI, UNPACK2, UNPACK1)				\
static inline __attribute__((always_inline)) void				\
fn##_x2pair(const BLOCK *b, const struct sim_xpair_q8 *const *xp, size_t p,	\
	    __m512 *acc, const unsigned int nx)					\
{										\
	const __m512i u = UNPACK2(&b[2 * p]);					\
	const __m512 dw = DW_PAIR(&b[2 * p]);					\
	for (unsigned int r = 0; r < nx; r++) {					\
		const struct sim_xpair_q8 *xr = &xp[r][p];			\
		__m512i s = load512(xr->off[OFFI]);				\
		s = _mm512_dpbusd_epi32(s, u, load512(xr->qs));			\
		acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),			\
			_mm512_mul_ps(dw, _mm512_loadu_ps(xr->d)), acc[r]);	\
	}									\
}										\
static inline __attribute__((always_inline)) void				\
fn##_x2rows(size_t n, const void *w, const void *const *x, float *out,	\
	    const unsigned int nx)						\
{										\
	const BLOCK *b = w;							\
	const struct sim_xpair_q8 *xp[R];					\
	__m512 acc0[R], acc1[R];						\
	__m256 acc2[R];								\
	size_t nb = n / SIM_QK, np = nb / 2, p;					\
	for (unsigned int r = 0; r < nx; r++) {					\
		xp[r] = x[r];							\
		acc0[r] = _mm512_setzero_ps();					\
		acc1[r] = _mm512_setzero_ps();					\
		acc2[r] = _mm256_setzero_ps();					\
	}									\
	for (p = 0; p + 1 < np; p += 2) {					\
		if (sizeof(BLOCK) < 32 || Q8_PF) {	/* Q8_0 streams better without */ \
			prefetch_w(&b[2 * p]);					\
			prefetch_w((const uint8_t *)&b[2 * p] + 64);		\
			if (sizeof(BLOCK) > 32)					\
				prefetch_w((const uint8_t *)&b[2 * p] + 128);	\
		}								\
		fn##_x2pair(b, xp, p, acc0, nx);				\
		fn##_x2pair(b, xp, p + 1, acc1, nx);				\
	}									\
	if (p < np) {								\
		fn##_x2pair(b, xp, p, acc0, nx);				\
		p++;								\
	}									\
	if (nb & 1) {								\
		const __m256i u = UNPACK1(&b[nb - 1]);				\
		const float dw = f16_to_f32(b[nb - 1].d);			\
		for (unsigned int r = 0; r < nx; r++) {				\
			const struct sim_xpair_q8 *xr = &xp[r][p];		\
			__m256i s = load256(xr->off[OFFI]);			\
			s = _mm256_dpbusd_epi32(s, u, load256(xr->qs));		\
			acc2[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),	\
				_mm256_set1_ps(dw * xr->d[0]), acc2[r]);	\
		}								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0[r], acc1[r]), \
					      _mm512_zextps256_ps512(acc2[r]))); \
}										\
/* separate functions: the 1-row one (decode) keeps a small frame */	\
static __attribute__((noinline)) void fn##_x2_1(size_t n, const void *w,	\
						const void *const *x, float *out) \
{										\
	fn##_x2rows(n, w, x, out, 1);						\
}										\
static __attribute__((noinline)) void fn##_x2_4(size_t n, const void *w,	\
						const void *const *x, float *out) \
{										\
	fn##_x2rows(n, w, x, out, R);						\
}										\
static void fn##_x2(size_t n, const void *w, const void *const *x,		\
		    unsigned int nx, float *out)				\
{										\
	if (nx == R) {								\
		fn##_x2_4(n, w, x, out);					\
		return;								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		fn##_x2_1(n, w, x + r, out + r);				\
}

/*
 * Q4_0/Q5_0 four blocks at a time against struct sim_xquad_q8 rows: one
 * vpermt2w gathers the 4 x 16 quant bytes (two loads cover the 72 or 88
 * bytes; masked, so nothing past the row is read), their low nibbles pair
 * with x's lo and high nibbles with x's hi, so both dots land in the same 4
 * lanes per block; the block scales come from one more vpermt2w. Integer sums
 * exact as above (start value -off * sum from x), then acc += float(sum) *
 * (dw * dx) per lane. A row's last 1..3 blocks are a quad with the missing
 * blocks zero (on both sides).
 */
static const uint8_t q4q_idx_qs[64] __attribute__((aligned(64))) = {
	2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
	38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
	56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71,
};
static const uint8_t q4q_idx_d[64] __attribute__((aligned(64))) = {
	0, 1, 0, 1, 0, 1, 0, 1, 18, 19, 18, 19, 18, 19, 18, 19,
	36, 37, 36, 37, 36, 37, 36, 37, 54, 55, 54, 55, 54, 55, 54, 55,
	0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
	0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
};
static const uint8_t q5q_idx_qs[64] __attribute__((aligned(64))) = {
	6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
	50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
	72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87,
};
static const uint8_t q5q_idx_d[64] __attribute__((aligned(64))) = {
	0, 1, 0, 1, 0, 1, 0, 1, 22, 23, 22, 23, 22, 23, 22, 23,
	44, 45, 44, 45, 44, 45, 44, 45, 66, 67, 66, 67, 66, 67, 66, 67,
	0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
	0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
};
/* per qword of lane k: block k's qh (words 1, 2 of the block), twice */
static const uint8_t q5q_idx_h[64] __attribute__((aligned(64))) = {
	2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5, 2, 3, 4, 5,
	24, 25, 26, 27, 24, 25, 26, 27, 24, 25, 26, 27, 24, 25, 26, 27,
	46, 47, 48, 49, 46, 47, 48, 49, 46, 47, 48, 49, 46, 47, 48, 49,
	68, 69, 70, 71, 68, 69, 70, 71, 68, 69, 70, 71, 68, 69, 70, 71,
};
/* vpshufbitqmb selectors: byte i of a lane takes qh bit i (lo) or i + 16 (hi) */
static const uint8_t q5q_bits_lo[64] __attribute__((aligned(64))) = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
};
static const uint8_t q5q_bits_hi[64] __attribute__((aligned(64))) = {
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

#define HIBITS_NONE (void)0
/* fifth bits: qh per qword by one vpermt2w, then AVX512_BITALG bit gathers */
#define HIBITS_Q5_0X4 do {							\
		const __m512i h = _mm512_permutex2var_epi8(t0, load512(q5q_idx_h), t1); \
		lo = _mm512_mask_add_epi8(lo, _mm512_bitshuffle_epi64_mask(h, load512(q5q_bits_lo)), \
					  lo, _mm512_set1_epi8(0x10));		\
		hi = _mm512_mask_add_epi8(hi, _mm512_bitshuffle_epi64_mask(h, load512(q5q_bits_hi)), \
					  hi, _mm512_set1_epi8(0x10));		\
	} while (0)

#define Q_X4_DOT512(fn, BS, OFFI, IDXQS, IDXD, HIBITS)				\
static inline __attribute__((always_inline)) void				\
fn##_quad(const uint8_t *B, __mmask64 m0, __mmask64 m1,				\
	  const struct sim_xquad_q8 *const *xq, size_t q, __m512 *acc,		\
	  const unsigned int nx)						\
{										\
	__m512i t0 = _mm512_maskz_loadu_epi8(m0, B);				\
	/* the quad's last 8 or 24 bytes: one 256-bit load */			\
	const __m512i t1 = _mm512_zextsi256_si512(				\
		_mm256_maskz_loadu_epi8((__mmask32)(m1), B + 64));		\
	/* keep t0 in a register: gcc reloaded it for every vpermt2b, and	\
	 * L1 load slots bound this loop */					\
	__asm__("" : "+v"(t0));							\
	const __m512i z = _mm512_permutex2var_epi8(t0, load512(IDXQS), t1);	\
	const __m512i m4 = _mm512_set1_epi8(0x0f);				\
	__m512i lo = _mm512_and_si512(z, m4);					\
	__m512i hi = _mm512_and_si512(_mm512_srli_epi16(z, 4), m4);		\
	HIBITS;									\
	const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(		\
		_mm512_permutex2var_epi8(t0, load512(IDXD), t1)));		\
	for (unsigned int r = 0; r < nx; r++) {					\
		const struct sim_xquad_q8 *x = &xq[r][q];			\
		__m512i s = _mm512_dpbusd_epi32(load512(x->off[OFFI]), lo,	\
						load512(x->lo));		\
		s = _mm512_dpbusd_epi32(s, hi, load512(x->hi));			\
		acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),			\
			_mm512_mul_ps(dw, _mm512_loadu_ps(x->d)), acc[r]);	\
	}									\
}										\
static inline __attribute__((always_inline)) void				\
fn##_x4rows(size_t n, const void *w, const void *const *x, float *out,	\
	    const unsigned int nx)						\
{										\
	const uint8_t *B = w;							\
	const struct sim_xquad_q8 *xq[R];					\
	__m512 acc0[R], acc1[R];						\
	const __mmask64 full1 = _cvtu64_mask64((1ull << (4 * (BS) - 64)) - 1);	\
	size_t nb = n / SIM_QK, nq = nb / 4, q;					\
	for (unsigned int r = 0; r < nx; r++) {					\
		xq[r] = x[r];							\
		acc0[r] = _mm512_setzero_ps();					\
		acc1[r] = _mm512_setzero_ps();					\
	}									\
	for (q = 0; q + 1 < nq; q += 2) {					\
		const uint8_t *bq = B + q * 4 * (BS);				\
		prefetch_w(bq);							\
		prefetch_w(bq + 64);						\
		prefetch_w(bq + 128);						\
		fn##_quad(bq, ~(__mmask64)0, full1, xq, q, acc0, nx);		\
		fn##_quad(bq + 4 * (BS), ~(__mmask64)0, full1, xq, q + 1, acc1, nx); \
	}									\
	if (q < nq) {								\
		fn##_quad(B + q * 4 * (BS), ~(__mmask64)0, full1, xq, q, acc0, nx); \
		q++;								\
	}									\
	if (nb % 4) {								\
		const size_t valid = nb % 4 * (BS);				\
		const __mmask64 m0 = _cvtu64_mask64(valid >= 64 ? ~0ull : (1ull << valid) - 1); \
		const __mmask64 m1 = _cvtu64_mask64(valid > 64 ? (1ull << (valid - 64)) - 1 : 0); \
		fn##_quad(B + q * 4 * (BS), m0, m1, xq, q, acc1, nx);		\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r]));	\
}										\
static __attribute__((noinline)) void fn##_x4_1(size_t n, const void *w,	\
						const void *const *x, float *out) \
{										\
	fn##_x4rows(n, w, x, out, 1);						\
}										\
static __attribute__((noinline)) void fn##_x4_4(size_t n, const void *w,	\
						const void *const *x, float *out) \
{										\
	fn##_x4rows(n, w, x, out, R);						\
}										\
/* two weight rows, one x row: each row's sums in the order of fn##_x4_1 */	\
static __attribute__((noinline)) void fn##_w2(size_t n, const void *w0,	\
					      const void *w1, const void *x,	\
					      float *out)			\
{										\
	const uint8_t *B0 = w0, *B1 = w1;					\
	const struct sim_xquad_q8 *xq = x;					\
	__m512 a0[1], a1[1], b0[1], b1[1];					\
	const __mmask64 full1 = _cvtu64_mask64((1ull << (4 * (BS) - 64)) - 1);	\
	size_t nb = n / SIM_QK, nq = nb / 4, q;					\
	a0[0] = a1[0] = b0[0] = b1[0] = _mm512_setzero_ps();			\
	for (q = 0; q + 1 < nq; q += 2) {					\
		const uint8_t *p0 = B0 + q * 4 * (BS), *p1 = B1 + q * 4 * (BS);	\
		prefetch_w(p0);							\
		prefetch_w(p0 + 64);						\
		prefetch_w(p0 + 128);						\
		prefetch_w(p1);							\
		prefetch_w(p1 + 64);						\
		prefetch_w(p1 + 128);						\
		fn##_quad(p0, ~(__mmask64)0, full1, &xq, q, a0, 1);		\
		fn##_quad(p1, ~(__mmask64)0, full1, &xq, q, b0, 1);		\
		fn##_quad(p0 + 4 * (BS), ~(__mmask64)0, full1, &xq, q + 1, a1, 1); \
		fn##_quad(p1 + 4 * (BS), ~(__mmask64)0, full1, &xq, q + 1, b1, 1); \
	}									\
	if (q < nq) {								\
		fn##_quad(B0 + q * 4 * (BS), ~(__mmask64)0, full1, &xq, q, a0, 1); \
		fn##_quad(B1 + q * 4 * (BS), ~(__mmask64)0, full1, &xq, q, b0, 1); \
		q++;								\
	}									\
	if (nb % 4) {								\
		const size_t valid = nb % 4 * (BS);				\
		const __mmask64 m0 = _cvtu64_mask64(valid >= 64 ? ~0ull : (1ull << valid) - 1); \
		const __mmask64 m1 = _cvtu64_mask64(valid > 64 ? (1ull << (valid - 64)) - 1 : 0); \
		fn##_quad(B0 + q * 4 * (BS), m0, m1, &xq, q, a1, 1);		\
		fn##_quad(B1 + q * 4 * (BS), m0, m1, &xq, q, b1, 1);		\
	}									\
	out[0] = _mm512_reduce_add_ps(_mm512_add_ps(a0[0], a1[0]));		\
	out[1] = _mm512_reduce_add_ps(_mm512_add_ps(b0[0], b1[0]));		\
}										\
static void fn##_x4(size_t n, const void *w, const void *const *x,		\
		    unsigned int nx, float *out)				\
{										\
	if (nx == R) {								\
		fn##_x4_4(n, w, x, out);					\
		return;								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		fn##_x4_1(n, w, x + r, out + r);				\
}

Q_X4_DOT512(dot_q4_0, 18, SIM_XQUAD_OFF8, q4q_idx_qs, q4q_idx_d, HIBITS_NONE)
Q_X4_DOT512(dot_q5_0, 22, SIM_XQUAD_OFF16, q5q_idx_qs, q5q_idx_d, HIBITS_Q5_0X4)

static void quantize_q8x4(const float *x, struct sim_xquad_q8 *y, size_t n)
{
	struct sim_xblock_q8 t[4];
	size_t nb = n / SIM_QK;

	for (size_t q = 0; q < (nb + 3) / 4; q++) {
		size_t k = nb - 4 * q < 4 ? nb - 4 * q : 4;

		quantize_q8(x + 4 * SIM_QK * q, t, k * SIM_QK);
		sim_q8_to_quads(t, &y[q], k);
	}
}

Q_X2_DOT512(dot_q8_0, struct sim_block_q8_0, SIM_XPAIR_OFF128, unpack2_q8_0, unpack1_q8_0)

static void quantize_q8x2(const float *x, struct sim_xpair_q8 *y, size_t n)
{
	struct sim_xblock_q8 t[2];
	size_t nb = n / SIM_QK;

	for (size_t p = 0; p < (nb + 1) / 2; p++) {
		size_t k = 2 * p + 1 < nb ? 2 : 1;

		quantize_q8(x + 2 * SIM_QK * p, t, k * SIM_QK);
		sim_q8_to_pairs(t, &y[p], k);
	}
}

/*
 * Q4_K / Q5_K: 8 scales then 8 mins (6 bits each) as 16 bytes, ggml's trick,
 * in registers: with 32-bit words w0, w1, w2 of the 12 bytes,
 *   scales 0-3 = w0 & 0x3f..,  scales 4-7 = (w2 & 0x0f..) | (w0 >> 6 & 0x03..) << 4,
 *   mins 0-3   = w1 & 0x3f..,  mins 4-7   = (w2 >> 4 & 0x0f..) | (w1 >> 6 & 0x03..) << 4.
 * (Building them in a uint32_t[4] and loading that stalled on store forwarding.)
 * Reads 16 bytes at sc12: the block's qs follow the scales.
 */
static inline __m128i kq45_scales_mins(const uint8_t *sc12)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)sc12);	/* w0 w1 w2 - */
	const __m128i lo = _mm_and_si128(v, _mm_set1_epi8(0x3f));	/* lanes 0, 1 */
	/* lanes 2, 3: w2 and w2 >> 4 (low nibbles), w0 and w1 >> 6 (high 2 bits) */
	const __m128i w22 = _mm_srlv_epi32(_mm_shuffle_epi32(v, 0xa0), _mm_set_epi32(4, 0, 0, 0));
	const __m128i w01 = _mm_srli_epi32(_mm_shuffle_epi32(v, 0x40), 6);
	const __m128i hi = _mm_or_si128(_mm_and_si128(w22, _mm_set1_epi8(0x0f)),
					 _mm_slli_epi32(_mm_and_si128(w01, _mm_set1_epi8(0x03)), 4));
	/* [w0 & 3f, w1 & 3f, hi2, hi3] -> [scales 0-3, scales 4-7, mins 0-3, mins 4-7] */
	return _mm_shuffle_epi32(_mm_blend_epi32(lo, hi, 0xc), 0xd8);
}

/* index vectors for vpermw: chunk c takes word 2c (low 256) and 2c+1 (high) */
static inline __m512i kq45_idx(int c)
{
	return join256(_mm256_set1_epi16((short)(2 * c)), _mm256_set1_epi16((short)(2 * c + 1)));
}

#define KQ45_DOT512(fn, BLOCK, HIBITS)						\
static inline __attribute__((always_inline)) void				\
fn##_rows512(size_t n, const void *w, const void *const *x, float *out,	\
	     const unsigned int nx)						\
{										\
	const BLOCK *b = w;							\
	const struct sim_xblock_q8K *xb[R];					\
	__m512 acc[R];								\
	__m128 accm[R];								\
	const __m512i m4 = _mm512_set1_epi8(0x0f);				\
	const __m512i idx0 = kq45_idx(0), idx1 = kq45_idx(1);			\
	const __m512i idx2 = kq45_idx(2), idx3 = kq45_idx(3);			\
	for (unsigned int r = 0; r < nx; r++) {					\
		xb[r] = x[r];							\
		acc[r] = _mm512_setzero_ps();					\
		accm[r] = _mm_setzero_ps();					\
	}									\
	for (size_t i = 0; i < n / SIM_QK_K; i++) {				\
		__m512i u[4], scv[4];						\
		prefetch_w(&b[i]);						\
		prefetch_w((const uint8_t *)&b[i] + 64);			\
		prefetch_w((const uint8_t *)&b[i] + 128);			\
		const __m128i sm = kq45_scales_mins(b[i].scales);		\
		const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm)); \
		const __m128i mins16 = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)); \
		scv[0] = _mm512_permutexvar_epi16(idx0, sc16);			\
		scv[1] = _mm512_permutexvar_epi16(idx1, sc16);			\
		scv[2] = _mm512_permutexvar_epi16(idx2, sc16);			\
		scv[3] = _mm512_permutexvar_epi16(idx3, sc16);			\
		for (int c = 0; c < 4; c++) {	/* [q, q >> 4] & 15 */		\
			__m512i q = _mm512_broadcast_i64x4(load256(b[i].qs + 32 * c)); \
			u[c] = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xffff0000u, q, 4), m4); \
		}								\
		HIBITS;								\
		const float d = f16_to_f32(b[i].d);				\
		const float dmin = f16_to_f32(b[i].dmin);			\
		for (unsigned int r = 0; r < nx; r++) {				\
			const struct sim_xblock_q8K *xr = &xb[r][i];		\
			/* two integer chains (exact: any order, same sum) */	\
			__m512i s = _mm512_setzero_si512(), s1 = s;		\
			for (int c = 0; c < 4; c += 2) {			\
				s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(u[c], \
					load512(xr->qs + 64 * c)), scv[c]);	\
				s1 = _mm512_dpwssd_epi32(s1, _mm512_maddubs_epi16(u[c + 1], \
					load512(xr->qs + 64 * c + 64)), scv[c + 1]); \
			}							\
			s = _mm512_add_epi32(s, s1);				\
			__m256i bs = load256(xr->bsums);			\
			__m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), \
						       _mm256_extracti128_si256(bs, 1)); \
			__m128i mp = _mm_madd_epi16(mins16, pairs);		\
			acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),		\
						 _mm512_set1_ps(d * xr->d), acc[r]); \
			accm[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(mp),		\
					       _mm_set1_ps(dmin * xr->d), accm[r]); \
		}								\
	}									\
	for (unsigned int r = 0; r < nx; r++) {					\
		__m128 m = accm[r];						\
		m = _mm_add_ps(m, _mm_movehl_ps(m, m));				\
		m = _mm_add_ss(m, _mm_movehdup_ps(m));				\
		out[r] = _mm512_reduce_add_ps(acc[r]) - _mm_cvtss_f32(m);	\
	}									\
}

#define HIBITS_Q5_K do {							\
		const __m256i qh = load256(b[i].qh);				\
		for (int c = 0; c < 4; c++) {					\
			__mmask32 lo = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * c)))); \
			__mmask32 hi = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(2 << (2 * c)))); \
			u[c] = _mm512_mask_add_epi8(u[c], _mm512_kunpackd((__mmask64)hi, (__mmask64)lo), \
						   u[c], _mm512_set1_epi8(0x10)); \
		}								\
	} while (0)

KQ45_DOT512(dot_q4_K, struct sim_block_q4_K, HIBITS_NONE)
KQ45_DOT512(dot_q5_K, struct sim_block_q5_K, HIBITS_Q5_K)

static inline __m512i q6_idx(int g)
{
	return _mm512_set_epi64((long long)(0x0001000100010001ull * (uint64_t)(4 * g + 3)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g + 3)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g + 2)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g + 2)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g + 1)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g + 1)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g)),
				(long long)(0x0001000100010001ull * (uint64_t)(4 * g)));
}

static inline __attribute__((always_inline)) void
dot_q6_K_rows512(size_t n, const void *w, const void *const *x, float *out,
		 const unsigned int nx)
{
	const struct sim_block_q6_K *b = w;
	const struct sim_xblock_q8K *xb[R];
	__m512 acc[R];
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	const __m512i m3 = _mm512_set1_epi8(3);
	const __m512i idx[4] = { q6_idx(0), q6_idx(1), q6_idx(2), q6_idx(3) };

	for (unsigned int r = 0; r < nx; r++) {
		xb[r] = x[r];
		acc[r] = _mm512_setzero_ps();
	}
	for (size_t i = 0; i < n / SIM_QK_K; i++) {
		__m512i u[4], scv[4];

		prefetch_w(&b[i]);
		prefetch_w((const uint8_t *)&b[i] + 64);
		prefetch_w((const uint8_t *)&b[i] + 128);
		prefetch_w((const uint8_t *)&b[i] + 192);
		for (int h = 0; h < 2; h++) {
			const __m512i ql = load512(b[i].ql + 64 * h);
			const __m256i qh = load256(b[i].qh + 32 * h);
			const __m512i qh2 = join256(qh, _mm256_srli_epi16(qh, 2));

			u[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4),
				_mm512_slli_epi16(_mm512_and_si512(qh2, m3), 4));
			u[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
				_mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh2, 4), m3), 4));
		}
		const __m256i sc16y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b[i].scales));
		const __m512i sc16 = _mm512_castsi256_si512(sc16y);

		for (int g = 0; g < 4; g++)
			scv[g] = _mm512_permutexvar_epi16(idx[g], sc16);
		const float d = f16_to_f32(b[i].d);

		for (unsigned int r = 0; r < nx; r++) {
			const struct sim_xblock_q8K *xr = &xb[r][i];
			/* two integer chains (exact: any order, same sum) */
			__m512i s = _mm512_setzero_si512(), s1 = s;

			for (int g = 0; g < 4; g += 2) {
				s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(u[g],
					load512(xr->qs + 64 * g)), scv[g]);
				s1 = _mm512_dpwssd_epi32(s1, _mm512_maddubs_epi16(u[g + 1],
					load512(xr->qs + 64 * g + 64)), scv[g + 1]);
			}
			s = _mm512_add_epi32(s, s1);
			__m256i offs = _mm256_madd_epi16(sc16y, load256(xr->bsums));

			s = _mm512_sub_epi32(s, _mm512_castsi256_si512(_mm256_slli_epi32(offs, 5)));
			acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
						 _mm512_set1_ps(d * xr->d), acc[r]);
		}
	}
	for (unsigned int r = 0; r < nx; r++)
		out[r] = _mm512_reduce_add_ps(acc[r]);
}

#define NX_DISPATCH512(fn)							\
static void fn##_512(size_t n, const void *w, const void *const *x,		\
		     unsigned int nx, float *out)				\
{										\
	if (nx == R) {								\
		fn##_rows512(n, w, x, out, R);					\
		return;								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		fn##_rows512(n, w, x + r, out + r, 1);				\
}

NX_DISPATCH512(dot_q4_K)
NX_DISPATCH512(dot_q5_K)
NX_DISPATCH512(dot_q6_K)
#define DOT512(fn) fn##_512
#define DOTX2(fn) fn##_x2
#define QUANTIZE_Q8X2 quantize_q8x2
#define QUANTIZE_Q8X4 quantize_q8x4
#define DOTX4(fn) fn##_x4
#define DOTW2(fn) fn##_w2
#else

#define DOT512(fn) fn
#define DOTX2(fn) fn
#define QUANTIZE_Q8X2 NULL
#define QUANTIZE_Q8X4 NULL
#define DOTX4(fn) fn
#define DOTW2(fn) NULL
#endif /* __AVX512BW__ */

#undef R

const struct sim_kernels KERNELS_SYM = {
	.name = KERNELS_NAME,
	.dot = {
		[ANPU_DTYPE_F32] = dot_f32,
		[ANPU_DTYPE_F16] = dot_f16,
		[ANPU_DTYPE_BF16] = dot_bf16,
		[ANPU_DTYPE_Q4_0] = DOTX4(dot_q4_0),
		[ANPU_DTYPE_Q5_0] = DOTX4(dot_q5_0),
		[ANPU_DTYPE_Q8_0] = DOTX2(dot_q8_0),
		[ANPU_DTYPE_Q4_K] = DOT512(dot_q4_K),
		[ANPU_DTYPE_Q5_K] = DOT512(dot_q5_K),
		[ANPU_DTYPE_Q6_K] = DOT512(dot_q6_K),
	},
	.dot_w2 = {
		[ANPU_DTYPE_Q4_0] = DOTW2(dot_q4_0),
		[ANPU_DTYPE_Q5_0] = DOTW2(dot_q5_0),
	},
	.quantize_q8 = quantize_q8,
	.quantize_q8K = quantize_q8K,
	.quantize_q8x2 = QUANTIZE_Q8X2,
	.quantize_q8x4 = QUANTIZE_Q8X4,
};

#endif /* SIM_KERNELS_X86_H */
