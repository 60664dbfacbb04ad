// SPDX-License-Identifier: MIT
/*
 * AVX2 + FMA + F16C kernels: the x86 template with int8 dots from maddubs +
 * madd, plus this path's own Q4_0/Q5_0/Q8_0 row kernels and the panel kernels
 * (prefill) of every quantized type. Built twice: as the AVX2 path, and with
 * SIM_AVXVNNI as the AVX-VNNI path (kernels_avxvnni.c), whose int8 steps are
 * vpdpbusd / vpdpwssd (the SIM_AVXVNNI blocks below).
 *
 * The 32-element block types sum in the AVX-512 path's order (docs/hardware.md
 * 10.4), against the same activation forms (struct sim_xquad_q8 for Q4_0/Q5_0,
 * sim_xpair_q8 for Q8_0): each block's integer sum is formed whole and added
 * by fma to one of 16 f32 partial sums, so the two x86 paths give the same
 * bits. Here the 16 partials are two ymm: partials 0..7 and 8..15. A row in
 * that order turns into panels with x rows in vector lanes (8 per ymm, a
 * 16-row panel is two halves), where a broadcast dword of weights serves 8
 * rows per maddubs: the row kernels spend most of their instructions on
 * per-row conversions and reductions (prefill ran at 0.19-0.37 of this
 * path's int8 peak with them).
 *
 * maddubs sums two u8 * s8 products into an int16 and saturates past 32767;
 * the activations are in [-127, 127], so a product pair of weights <= 15
 * (Q4_0, Q4_K) is <= 3810 and 8 of them can be summed in int16 before the
 * madd to int32, of weights <= 31 (Q5_0, Q5_K) 4, of weights <= 63 (Q6_K) 2,
 * and Q8_0's |w| <= 128 gives <= 32512: one. Integer sums are exact, so how
 * they are grouped never changes a result.
 */
#include <immintrin.h>

#ifdef SIM_AVXVNNI
/*
 * Built a second time as the AVX-VNNI path (kernels_avxvnni.c): the int8
 * steps are vpdpbusd / vpdpwssd (VEX, 256-bit), one instruction where AVX2
 * takes a maddubs, a madd and an add. Integer sums are exact, so the two
 * builds give the same bits.
 */
#define DOT_U8S8(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define MADD_I16(acc, p, sc) _mm256_dpwssd_avx_epi32((acc), (p), (sc))
#else
#define DOT_U8S8(acc, u, s) \
	_mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), \
						  _mm256_set1_epi16(1)))
#define MADD_I16(acc, p, sc) _mm256_add_epi32((acc), _mm256_madd_epi16((p), (sc)))
#endif

#include "kernels_x86.inc"

static inline __m256i ones16(void)
{
	return _mm256_set1_epi16(1);
}

static inline __m256i bcast32(const void *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return _mm256_set1_epi32(v);
}

/* ---- Q4_0/Q5_0 rows against struct sim_xquad_q8, Q8_0 against sim_xpair_q8 ---- */

/*
 * Eight whole block sums in partial order from 4 vectors that each hold two
 * blocks' 4-lane parts: v[i] lanes 0..3 are parts of block a(i), lanes 4..7
 * of block b(i). The result's lanes are [a(0), a(1), a(2), a(3) | b(0),
 * b(1), b(2), b(3)], each summed whole. Exact integer adds.
 */
static inline __m256i sums4x2(const __m256i *v)
{
	return _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
}

/*
 * The same when every lane of v[] fits in int16 (Q4_0/Q5_0: 8 products,
 * |part| <= 8 * 31 * 127): the first level packs to int16 and adds pairs
 * with one madd, cheaper than vphaddd.
 */
static inline __m256i sums4x2_i16(const __m256i *v)
{
	return _mm256_hadd_epi32(_mm256_madd_epi16(_mm256_packs_epi32(v[0], v[1]), ones16()),
				 _mm256_madd_epi16(_mm256_packs_epi32(v[2], v[3]), ones16()));
}

/*
 * Scale bits of four blocks, @bs bytes apart from @B, in the words of a
 * qword: assembled in general registers (the vector ports bound these
 * loops; an insert per word cost 2 of their instructions).
 */
static inline uint64_t f16x4(const uint8_t *B, const int bs, const unsigned int b0,
			     const unsigned int step, const unsigned int left)
{
	uint64_t v = 0;

#pragma GCC unroll 4
	for (unsigned int j = 0; j < 4; j++) {
		const unsigned int b = b0 + j * step;
		uint16_t d = 0;
		uint64_t t;

		if (b < left)
			memcpy(&d, B + (size_t)b * bs, 2);
		t = d;
		__asm__("" : "+r"(t));	/* keep it scalar: gcc moved the ORs to vector ops */
		v |= t << (16 * j);
	}
	return v;
}

/* 8 blocks' scales: lane l < 4 of block first0 + l * step, lane 4 + l of first1 + l * step */
static inline __m256 f16x8(const uint8_t *B, const int bs, const unsigned int first0,
			   const unsigned int first1, const unsigned int step,
			   const unsigned int left)
{
	return _mm256_cvtph_ps(_mm_set_epi64x((long long)f16x4(B, bs, first1, step, left),
					      (long long)f16x4(B, bs, first0, step, left)));
}

/*
 * Q4_0/Q5_0: quad q (blocks 4q..4q+3 of the group) pairs blocks 4q + 2j and
 * 4q + 2j + 1 in one ymm (j = 0, 1): their low nibbles (elements 0..15) with
 * x's lo[32j ..], high with hi[32j ..]; madd gives lane 4i + l the part l
 * of block 4q + 2j + i. Then sums4x2 over quads 0..3 puts block 4q + k in
 * lane 4(k % 2) + q of partial vector k / 2: partial 4k + q as the order
 * wants. Weights are unpacked pair by pair and used for every x row at once.
 */

/*
 * Q5_0's fifth bits of blocks b0, b1 (qh0, qh1) as bytes of 0x10, in the
 * layout of q4x_pair's lo (bits 0..15 of each) and hi (bits 16..31): a byte
 * shuffle of the 8 bytes to the 8 bytes each takes its bit from, then a
 * test of that bit.
 */
static inline __attribute__((always_inline)) void
q5x_high_bits(const uint8_t *qh0, const uint8_t *qh1, __m256i *lo, __m256i *hi)
{
	/* dwords qh0, qh1, qh0, ...: two broadcast loads and a blend, no general register */
	const __m256i q = _mm256_blend_epi32(qh0 ? bcast32(qh0) : _mm256_setzero_si256(),
					     qh1 ? bcast32(qh1) : _mm256_setzero_si256(), 0xaa);
	const __m256i bit = _mm256_set1_epi64x(0x8040201008040201ll);
	const __m256i ctl_lo = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
						4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5);
	const __m256i ctl_hi = _mm256_add_epi8(ctl_lo, _mm256_set1_epi8(2));
	const __m256i x10 = _mm256_set1_epi8(0x10);

	*lo = _mm256_or_si256(*lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(
		_mm256_shuffle_epi8(q, ctl_lo), bit), bit), x10));
	*hi = _mm256_or_si256(*hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(
		_mm256_shuffle_epi8(q, ctl_hi), bit), bit), x10));
}

/* blocks b0, b1 (NULL: past the row's end): low nibbles (x's lo), high (x's hi) */
static inline __attribute__((always_inline)) void
q4x_pair(const uint8_t *b0, const uint8_t *b1, const int bs, __m256i *lo, __m256i *hi)
{
	const __m128i z = _mm_setzero_si128();
	const __m128i v0 = b0 ? _mm_loadu_si128((const __m128i *)(b0 + bs - 16)) : z;
	const __m128i v1 = b1 ? _mm_loadu_si128((const __m128i *)(b1 + bs - 16)) : z;
	const __m256i v = _mm256_set_m128i(v1, v0);
	const __m256i m4 = _mm256_set1_epi8(0x0f);

	*lo = _mm256_and_si256(v, m4);
	*hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
	if (bs == (int)sizeof(struct sim_block_q5_0)) {	/* fifth bits: qh after d */
		q5x_high_bits(b0 ? b0 + 2 : NULL, b1 ? b1 + 2 : NULL, lo, hi);
	}
}

/* acc[r][0..1] += the group of 16 blocks at @B (its first @left present) for x rows r < nx */
static inline __attribute__((always_inline)) void
q4x_group(const uint8_t *B, const int bs, const unsigned int left,
	  const struct sim_xquad_q8 *const *xq, const int offi, __m256 (*acc)[2],
	  const unsigned int nx)
{
	__m256i s[R][8];
	/* partials 0..7: blocks 0, 4, 8, 12, 1, 5, 9, 13; 8..15 the same + 2 */
	const __m256 dw[2] = { f16x8(B, bs, 0, 1, 4, left), f16x8(B, bs, 2, 3, 4, left) };

#pragma GCC unroll 8
	for (unsigned int i = 0; i < 8; i++) {	/* quad i / 2, blocks 2i, 2i + 1 */
		const unsigned int q = i / 2, j = i % 2;
		__m256i lo, hi;

		if (2 * i >= left) {	/* past the row's end (a constant for the usual K) */
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++)
				s[r][4 * j + q] = _mm256_setzero_si256();
			continue;
		}
		q4x_pair(B + 2 * i * bs, 2 * i + 1 < left ? B + (2 * i + 1) * bs : NULL,
			 bs, &lo, &hi);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
#ifdef SIM_AVXVNNI
			s[r][4 * j + q] = DOT_U8S8(DOT_U8S8(_mm256_setzero_si256(), lo,
							    load256(xq[r][q].lo + 32 * j)),
						   hi, load256(xq[r][q].hi + 32 * j));
#else			/* <= 2 * 7874: no int16 overflow */
			const __m256i p = _mm256_add_epi16(
				_mm256_maddubs_epi16(lo, load256(xq[r][q].lo + 32 * j)),
				_mm256_maddubs_epi16(hi, load256(xq[r][q].hi + 32 * j)));

			s[r][4 * j + q] = _mm256_madd_epi16(p, ones16());
#endif
		}
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
#pragma GCC unroll 2
		for (int k = 0; k < 2; k++) {
			const __m256i sum = _mm256_add_epi32(sums4x2_i16(&s[r][4 * k]),
							     load256(&xq[r][0].off[offi][8 * k]));

			acc[r][k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum),
				_mm256_mul_ps(dw[k], _mm256_loadu_ps(&xq[r][0].d[8 * k])), acc[r][k]);
		}
	}
}

/* the partials combined in the order of _mm512_reduce_add_ps on the AVX-512 path */
static inline float partials_sum(const __m256 *acc)
{
	return hsum_ps(_mm256_add_ps(acc[1], acc[0]));
}

static inline __attribute__((always_inline)) void
prefetch_group(const uint8_t *B, const int bs)
{
#pragma GCC unroll 9
	for (int l = 0; l < (16 * bs + 63) / 64; l++)
		prefetch_w(B + 64 * l);
}

/*
 * acc[r][0..1]: the 16 partial sums of x row r < nx, not yet combined. x
 * rows are whole groups (zero past the end), so only weights are cut short.
 */
static inline __attribute__((always_inline)) void
q4x_acc(size_t n, const void *w, const void *const *x, __m256 (*acc)[2], const unsigned int nx,
	const int bs, const int offi)
{
	const uint8_t *B = w;
	const size_t nb = n / SIM_QK;
	const struct sim_xquad_q8 *xq[R];
	size_t b0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		xq[r] = x[r];
		acc[r][0] = acc[r][1] = _mm256_setzero_ps();
	}
	for (b0 = 0; b0 + 16 <= nb; b0 += 16) {
		prefetch_group(B + b0 * bs, bs);
		q4x_group(B + b0 * bs, bs, 16, xq, offi, acc, nx);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			xq[r] += 4;
	}
	if (b0 < nb) {	/* constant ends for K = 896, 4864, 8960 (12, 8, 8 blocks) */
		const unsigned int left = (unsigned int)(nb - b0);

		prefetch_group(B + b0 * bs, bs);
		if (left == 8)
			q4x_group(B + b0 * bs, bs, 8, xq, offi, acc, nx);
		else if (left == 12)
			q4x_group(B + b0 * bs, bs, 12, xq, offi, acc, nx);
		else
			q4x_group(B + b0 * bs, bs, left, xq, offi, acc, nx);
	}
}

static inline __attribute__((always_inline)) void
q4x_rows(size_t n, const void *w, const void *const *x, float *out, const unsigned int nx,
	 const int bs, const int offi)
{
	__m256 acc[R][2];

	q4x_acc(n, w, x, acc, nx, bs, offi);
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = partials_sum(acc[r]);
}

/*
 * A dot_cols kernel from an always-inline ACC(n, w, x, acc, 1, ...) (q4x_acc,
 * q8x_acc): the partials of 8 columns first, then their 8 reductions, so a
 * column's last fma -> horizontal sum latency does not hold up the next
 * column. With the skip of blocks past a row's end in the group kernels,
 * ns per 32 weights at K = 896 (columns of 28 blocks, hot in L2):
 * Q5_0 1.57 -> 1.30, Q4_0 0.81 -> 0.71, Q8_0 1.17 -> 0.95.
 */
#define PARTIALS_COLS(name, ACC, ...)						\
static void name(size_t n, const void *w, size_t w_stride, unsigned int ncols,	\
		 const void *x, float *out)					\
{										\
	const void *const xr[1] = { x };					\
	__m256 acc[8][2];							\
										\
	for (unsigned int c0 = 0; c0 < ncols; c0 += 8) {			\
		const unsigned int m = ncols - c0 < 8 ? ncols - c0 : 8;		\
										\
		for (unsigned int c = 0; c < m; c++)				\
			ACC(n, (const uint8_t *)w + (c0 + c) * w_stride, xr,	\
			    &acc[c], 1, ##__VA_ARGS__);				\
		for (unsigned int c = 0; c < m; c++)				\
			out[c0 + c] = partials_sum(acc[c]);			\
	}									\
}

#define ROWS_1_4(fn, ROWS, ...)							\
static __attribute__((noinline)) void fn##_1(size_t n, const void *w,		\
					     const void *const *x, float *out)	\
{										\
	ROWS(n, w, x, out, 1, ##__VA_ARGS__);					\
}										\
static __attribute__((noinline)) void fn##_4(size_t n, const void *w,		\
					     const void *const *x, float *out)	\
{										\
	ROWS(n, w, x, out, R, ##__VA_ARGS__);					\
}										\
static void fn(size_t n, const void *w, const void *const *x, unsigned int nx,	\
	       float *out)							\
{										\
	if (nx == R) {								\
		fn##_4(n, w, x, out);						\
		return;								\
	}									\
	for (unsigned int r = 0; r < nx; r++)					\
		fn##_1(n, w, x + r, out + r);					\
}

ROWS_1_4(dot_q4_0_x4, q4x_rows, (int)sizeof(struct sim_block_q4_0), SIM_XQUAD_OFF8)
ROWS_1_4(dot_q5_0_x4, q4x_rows, (int)sizeof(struct sim_block_q5_0), SIM_XQUAD_OFF16)
PARTIALS_COLS(dot_q4_0_x4_cols, q4x_acc, (int)sizeof(struct sim_block_q4_0), SIM_XQUAD_OFF8)
PARTIALS_COLS(dot_q5_0_x4_cols, q4x_acc, (int)sizeof(struct sim_block_q5_0), SIM_XQUAD_OFF16)

/*
 * Q8_0: each block in one ymm, |w| against x with w's signs (exact, no
 * offset: the pair form's off is for the AVX-512 kernels' w + 128).
 * sums4x2 over blocks 0, 2, 4, 6 and over 1, 3, 5, 7 gives each block's
 * two halves in lanes 4 apart; the halves' sum puts block b (< 8) in lane
 * 4 (b % 2) + b / 2 = sim_xpair_lane(b), blocks 8..15 the same in the second
 * partial vector.
 */
static inline __m256i q8x_block(__m256i w, const int8_t *x)
{
#ifdef SIM_AVXVNNI
	return DOT_U8S8(_mm256_setzero_si256(), _mm256_sign_epi8(w, w),
			_mm256_sign_epi8(load256(x), w));
#else
	return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w),
						      _mm256_sign_epi8(load256(x), w)),
				 ones16());
#endif
}

static inline __attribute__((always_inline)) void
q8x_group(const struct sim_block_q8_0 *b, const unsigned int left,
	  const struct sim_xpair_q8 *const *xp, __m256 (*acc)[2], const unsigned int nx)
{
	const int bs = (int)sizeof(*b);
	const uint8_t *B = (const uint8_t *)b;
	/* partials 0..7: blocks 0, 2, 4, 6, 1, 3, 5, 7; 8..15 the same + 8 */
	const __m256 dw[2] = { f16x8(B, bs, 0, 1, 2, left), f16x8(B, bs, 8, 9, 2, left) };

#pragma GCC unroll 2
	for (unsigned int k = 0; k < 2; k++) {	/* blocks 8k .. 8k + 7 */
		__m256i s[R][8];

#pragma GCC unroll 8
		for (unsigned int i = 0; i < 8; i++) {	/* s[i / 2 + 4 (i % 2)]: block 8k + i */
			const unsigned int blk = 8 * k + i;

			if (blk >= left) {	/* past the row's end (a constant for the usual K) */
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++)
					s[r][i / 2 + 4 * (i % 2)] = _mm256_setzero_si256();
				continue;
			}
			const __m256i wv = load256(b[blk].qs);

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++)
				s[r][i / 2 + 4 * (i % 2)] = q8x_block(wv, xp[r][blk / 2].qs +
								      SIM_QK * (blk % 2));
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			const __m256i e = sums4x2(&s[r][0]), o = sums4x2(&s[r][4]);
			const __m256i sum = _mm256_add_epi32(_mm256_permute2x128_si256(e, o, 0x20),
							     _mm256_permute2x128_si256(e, o, 0x31));

			acc[r][k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum),
				_mm256_mul_ps(dw[k], _mm256_loadu_ps(&xp[r][0].d[8 * k])), acc[r][k]);
		}
	}
}

static inline __attribute__((always_inline)) void
q8x_acc(size_t n, const void *w, const void *const *x, __m256 (*acc)[2], const unsigned int nx)
{
	const struct sim_block_q8_0 *b = w;
	const size_t nb = n / SIM_QK;
	const struct sim_xpair_q8 *xp[R];
	size_t b0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		xp[r] = x[r];
		acc[r][0] = acc[r][1] = _mm256_setzero_ps();
	}
	for (b0 = 0; b0 + 16 <= nb; b0 += 16) {
		prefetch_group((const uint8_t *)&b[b0], (int)sizeof(*b));
		q8x_group(&b[b0], 16, xp, acc, nx);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			xp[r] += 8;
	}
	if (b0 < nb) {	/* constant ends for K = 896, 4864, 8960 (12, 8, 8 blocks) */
		const unsigned int left = (unsigned int)(nb - b0);

		prefetch_group((const uint8_t *)&b[b0], (int)sizeof(*b));
		if (left == 8)
			q8x_group(&b[b0], 8, xp, acc, nx);
		else if (left == 12)
			q8x_group(&b[b0], 12, xp, acc, nx);
		else
			q8x_group(&b[b0], left, xp, acc, nx);
	}
}

static inline __attribute__((always_inline)) void
q8x_rows(size_t n, const void *w, const void *const *x, float *out, const unsigned int nx)
{
	__m256 acc[R][2];

	q8x_acc(n, w, x, acc, nx);
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = partials_sum(acc[r]);
}

ROWS_1_4(dot_q8_0_x2, q8x_rows)
PARTIALS_COLS(dot_q8_0_x2_cols, q8x_acc)

/*
 * Q5_0L (ISA 1.2; hw/anpu_hwif.h): the AVX-512 path's lane kernel in two
 * halves, lanes 0..7 (blocks 0..7 of a group) and 8..15, against the lane
 * form with block i in lane i. A half's quant planes and qh are plain loads
 * (masked in a row's last group); a plane's fifth bits are a byte shuffle of
 * the qh byte that holds them, then a test of each byte's bit. The partials
 * are put into dot()'s order (partial sim_xquad_lane(i) holds block i)
 * before partials_sum(), so the bits are those of the Q5_0 row here and on
 * the AVX-512 path.
 */
/* blocks 8h .. 8h + 7 of a group of @g: wq[t] / wq[4 + t] low / high nibbles of dword t */
static inline __attribute__((always_inline)) __m256
q5_0l_half(const uint8_t *G, const unsigned int g, const unsigned int h, __m256i wq[8])
{
	const unsigned int v = g <= 8 * h ? 0 : g - 8 * h < 8 ? g - 8 * h : 8;
	const __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)v),
					      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
	const __m256i m4 = _mm256_set1_epi8(0x0f), x10 = _mm256_set1_epi8(0x10);
	const __m256i bits[2] = {
		_mm256_set1_epi32(0x08040201), _mm256_set1_epi32((int)0x80402010u),
	};
	__m128i d = _mm_setzero_si128();
	__m256i qh;

#define Q5L_LOAD(p) (v == 8 ? load256(p) : _mm256_maskload_epi32((const int *)(const void *)(p), lm))
	qh = Q5L_LOAD(G + 16 * g + 32 * h);
#pragma GCC unroll 4
	for (unsigned int t = 0; t < 4; t++) {
		const __m256i r = Q5L_LOAD(G + 4 * g * t + 32 * h);
		/* byte k of a lane: the qh byte with bit 4t + k (lo), 16 + 4t + k (hi) */
		const __m256i lane4 = _mm256_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8,
						       12, 12, 12, 12, 0, 0, 0, 0, 4, 4, 4, 4,
						       8, 8, 8, 8, 12, 12, 12, 12);
		const __m256i ctl_lo = _mm256_add_epi8(lane4, _mm256_set1_epi8((char)(t / 2)));
		const __m256i ctl_hi = _mm256_add_epi8(ctl_lo, _mm256_set1_epi8(2));
		const __m256i b = bits[t % 2];

		wq[t] = _mm256_or_si256(_mm256_and_si256(r, m4), _mm256_and_si256(
			_mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(qh, ctl_lo), b), b),
			x10));
		wq[4 + t] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(r, 4), m4),
			_mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(
				_mm256_shuffle_epi8(qh, ctl_hi), b), b), x10));
	}
#undef Q5L_LOAD
	if (v == 8) {
		d = _mm_loadu_si128((const __m128i *)(const void *)(G + 20 * g + 16 * h));
	} else if (v) {	/* a row's last group: only its v scales are read */
		uint16_t sc[8] = { 0 };

		for (unsigned int i = 0; i < v; i++)
			memcpy(&sc[i], G + 20 * g + 16 * h + 2 * i, sizeof(sc[i]));
		d = _mm_loadu_si128((const __m128i *)(const void *)sc);
	}
	return _mm256_cvtph_ps(d);
}

/* acc[r][h] += half h of a group (@wq, @dw) against x rows @xg */
static inline __attribute__((always_inline)) void
q5_0l_half_acc(const __m256i wq[8], __m256 dw, const struct sim_xpanel_q8 *const *xg,
	       const unsigned int h, __m256 (*acc)[2], const unsigned int nx)
{
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		const struct sim_xpanel_q8 *x = xg[r];
		__m256i sum = load256(&x->off[8 * h]);

#ifdef SIM_AVXVNNI
#pragma GCC unroll 8
		for (unsigned int t = 0; t < 8; t++)
			sum = DOT_U8S8(sum, wq[t], load256(&x->qs[t][32 * h]));
#else
#pragma GCC unroll 2
		for (unsigned int k = 0; k < 2; k++) {	/* <= 4 * 7874: no int16 overflow */
			const __m256i p = _mm256_add_epi16(
				_mm256_add_epi16(
					_mm256_maddubs_epi16(wq[4 * k], load256(&x->qs[4 * k][32 * h])),
					_mm256_maddubs_epi16(wq[4 * k + 1],
							     load256(&x->qs[4 * k + 1][32 * h]))),
				_mm256_add_epi16(
					_mm256_maddubs_epi16(wq[4 * k + 2],
							     load256(&x->qs[4 * k + 2][32 * h])),
					_mm256_maddubs_epi16(wq[4 * k + 3],
							     load256(&x->qs[4 * k + 3][32 * h]))));

			sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, ones16()));
		}
#endif
		acc[r][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum),
					    _mm256_mul_ps(dw, _mm256_loadu_ps(&x->d[8 * h])),
					    acc[r][h]);
	}
}

/* blocks in lane order (halves b[0], b[1]) to dot()'s partial order, combined */
static inline float q5_0l_partials_sum(const __m256 *b)
{
	const __m256i i0 = _mm256_setr_epi32(0, 4, 0, 4, 1, 5, 1, 5);
	const __m256i i1 = _mm256_setr_epi32(2, 6, 2, 6, 3, 7, 3, 7);
	const __m256 p[2] = {
		_mm256_blend_ps(_mm256_permutevar8x32_ps(b[0], i0),
				_mm256_permutevar8x32_ps(b[1], i0), 0xcc),
		_mm256_blend_ps(_mm256_permutevar8x32_ps(b[0], i1),
				_mm256_permutevar8x32_ps(b[1], i1), 0xcc),
	};

	return partials_sum(p);
}

#define Q5_0L_GROUP_BYTES (16 * sizeof(struct sim_block_q5_0))

/* a row's last group of @g < 16 blocks */
static inline __attribute__((always_inline)) void
q5_0l_tail(const uint8_t *G, const unsigned int g, const struct sim_xpanel_q8 *const *xg,
	   __m256 (*acc)[2], const unsigned int nx)
{
	__m256i wq[8];

#pragma GCC unroll 2
	for (unsigned int h = 0; h < 2; h++) {
		/*
		 * A half with no block adds nothing: the AVX-512 path's fma of 0 there
		 * leaves a partial as it is (a partial is never -0: it starts at +0
		 * and only exact-zero sums, which are +0, could make it zero again).
		 */
		if (8 * h >= g)
			continue;
		q5_0l_half_acc(wq, q5_0l_half(G, g, h, wq), xg, h, acc, nx);
	}
}

/* acc[r][0..1]: the 16 partial sums (lanes in block order) of x row r < nx */
static inline __attribute__((always_inline)) void
q5_0l_acc(size_t n, const uint8_t *w, const void *const *x, __m256 (*acc)[2],
	  const unsigned int nx)
{
	const size_t nb = n / SIM_QK, full = nb / 16;
	const unsigned int rem = (unsigned int)(nb % 16);
	const struct sim_xpanel_q8 *xg[R];
	__m256i wq[8];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		xg[r] = x[r];
		acc[r][0] = acc[r][1] = _mm256_setzero_ps();
	}
	for (size_t g = 0; g < full; g++) {
		const uint8_t *G = w + Q5_0L_GROUP_BYTES * g;

		prefetch_group(G, (int)sizeof(struct sim_block_q5_0));
#pragma GCC unroll 2
		for (unsigned int h = 0; h < 2; h++) {
			const __m256 dw = q5_0l_half(G, 16, h, wq);

			q5_0l_half_acc(wq, dw, xg, h, acc, nx);
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			xg[r]++;
	}
	if (rem) {	/* the row's last nb % 16 blocks (x is zero past them) */
		const uint8_t *G = w + Q5_0L_GROUP_BYTES * full;

		/* constant ends for K = 896, 4864, 8960 (12, 8, 8 blocks) */
		if (rem == 12)
			q5_0l_tail(G, 12, xg, acc, nx);
		else if (rem == 8)
			q5_0l_tail(G, 8, xg, acc, nx);
		else
			q5_0l_tail(G, rem, xg, acc, nx);
	}
}

static inline __attribute__((always_inline)) void
q5_0l_rows(size_t n, const uint8_t *w, const void *const *x, float *out, const unsigned int nx)
{
	__m256 acc[R][2];

	q5_0l_acc(n, w, x, acc, nx);
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		out[r] = q5_0l_partials_sum(acc[r]);
}

#define Q5_0L_NX(NX)								\
static __attribute__((noinline)) void q5_0l_##NX(size_t n, const uint8_t *w,	\
						  const void *const *x, float *out) \
{										\
	q5_0l_rows(n, w, x, out, NX);						\
}
Q5_0L_NX(1)
Q5_0L_NX(2)
Q5_0L_NX(3)
Q5_0L_NX(4)

static void (*const q5_0l_kernels[4])(size_t, const uint8_t *, const void *const *, float *) = {
	q5_0l_1, q5_0l_2, q5_0l_3, q5_0l_4,
};

static void dot_q5_0l(size_t n, const void *w, const void *const *x, unsigned int nx,
		      float *out)
{
	q5_0l_kernels[nx - 1](n, w, x, out);
}

/* a weight row at a time (two rows' accumulators would not fit the 16 registers) */
static void dot_q5_0l_lanes(size_t n, const void *w, size_t w_stride, unsigned int nw,
			    const void *const *x, unsigned int nx, float *out)
{
	for (unsigned int i = 0; i < nw; i++)
		q5_0l_kernels[nx - 1](n, (const uint8_t *)w + i * w_stride, x, out + i * nx);
}

/* PARTIALS_COLS' form: 8 columns' partials, then their 8 reductions */
static void dot_q5_0l_cols(size_t n, const void *w, size_t w_stride, unsigned int ncols,
			   const void *x, float *out)
{
	const void *const xr[1] = { x };
	__m256 acc[8][2];

	for (unsigned int c0 = 0; c0 < ncols; c0 += 8) {
		const unsigned int m = ncols - c0 < 8 ? ncols - c0 : 8;

		for (unsigned int c = 0; c < m; c++)
			q5_0l_acc(n, (const uint8_t *)w + (c0 + c) * w_stride, xr, &acc[c], 1);
		for (unsigned int c = 0; c < m; c++)
			out[c0 + c] = q5_0l_partials_sum(acc[c]);
	}
}

/* ---- panels (prefill): 16 x rows in lanes, two halves of 8 ---- */

/*
 * K-quants: the weights of up to PANEL_SB super-blocks of SIM_DOT_MAX_ROWS
 * rows are unpacked once into struct kq_unpacked and serve every panel of
 * the batch. Per super-block and row the integer sums are exact and the f32
 * update is the row kernels' (d * d_x) * sumi - (dmin * d_x) * mins, added in
 * super-block order, so the bits are dot()'s (every path's).
 */
#define PANEL_SB 8

struct kq_unpacked {
	uint8_t q[SIM_QK_K];	/* quants in element order, unsigned */
	int32_t scw[16];	/* sub-block scale as two equal int16 (madd operand) */
	int32_t pair[8];	/* int16 pairs: Q4_K/Q5_K mins (4), Q6_K scales (8) */
	float d, dmin;
} __attribute__((aligned(32)));

static inline void kq_store_quants(struct kq_unpacked *u, const __m256i q[8])
{
	for (int j = 0; j < 8; j++)
		_mm256_store_si256((__m256i *)(u->q + 32 * j), q[j]);
}

static inline void kq45_unpack_scales(const uint8_t *sc12, struct kq_unpacked *u)
{
	const __m128i sm = kq45_scales_mins(sc12);	/* [scales 0-7, mins 0-7] */
	const __m256i sc = _mm256_cvtepu8_epi32(sm);

	_mm256_store_si256((__m256i *)u->scw, _mm256_or_si256(sc, _mm256_slli_epi32(sc, 16)));
	_mm_store_si128((__m128i *)u->pair, _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)));
}

/* Q4_K and Q5_K: the quants (@q, unpacked), scales and mins, d and dmin */
static inline void kq45_unpack(const __m256i q[8], const uint8_t *scales, uint16_t d,
			       uint16_t dmin, struct kq_unpacked *u)
{
	kq_store_quants(u, q);
	kq45_unpack_scales(scales, u);
	u->d = f16_to_f32(d);
	u->dmin = f16_to_f32(dmin);
}

static inline void q4k_unpack(const void *row, size_t i, struct kq_unpacked *u)
{
	const struct sim_block_q4_K *b = (const struct sim_block_q4_K *)row + i;
	__m256i q[8];

	unpack_q4_K(b, q);
	kq45_unpack(q, b->scales, b->d, b->dmin, u);
}

static inline void q5k_unpack(const void *row, size_t i, struct kq_unpacked *u)
{
	const struct sim_block_q5_K *b = (const struct sim_block_q5_K *)row + i;
	__m256i q[8];

	unpack_q5_K(b, q);
	kq45_unpack(q, b->scales, b->d, b->dmin, u);
}

static inline void q6k_unpack(const void *row, size_t i, struct kq_unpacked *u)
{
	const struct sim_block_q6_K *b = (const struct sim_block_q6_K *)row + i;
	__m256i q[8];

	unpack_q6_K(b, q);
	kq_store_quants(u, q);
	for (int j = 0; j < 16; j++)
		u->scw[j] = (int32_t)((uint32_t)(uint16_t)b->scales[j] * 0x10001u);
	_mm256_store_si256((__m256i *)u->pair,
			   _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales)));
	u->d = f16_to_f32(b->d);
	u->dmin = 0.0f;
}

/* acc[r] += the f32 step of super-block @x (half @h) for row r's integer sums S[r] */
static inline __attribute__((always_inline)) void
kq_panel_sb_finish(const struct kq_unpacked *u, const struct sim_xpanel_q8K *x,
		   const unsigned int h, const __m256i *S, __m256 *acc, const unsigned int nw,
		   const int q6)
{
	const __m256 xd = _mm256_loadu_ps(&x->d[8 * h]);

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nw; r++) {
		const struct kq_unpacked *ur = &u[r * PANEL_SB];
		__m256i m = _mm256_setzero_si256();
		__m256 t;

		if (q6) {	/* sumi - 32 * sum(sc * bsum16) */
#pragma GCC unroll 8
			for (int k = 0; k < 8; k++)
				m = MADD_I16(m, load256(&x->bsum16[k][16 * h]),
					     _mm256_set1_epi32(ur->pair[k]));
			t = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(ur->d), xd),
					  _mm256_cvtepi32_ps(_mm256_sub_epi32(S[r], _mm256_slli_epi32(m, 5))));
		} else {	/* (d * d_x) * sumi - (dmin * d_x) * sum(m * bsum32) */
#pragma GCC unroll 4
			for (int k = 0; k < 4; k++)
				m = MADD_I16(m, load256(&x->bsum32[k][16 * h]),
					     _mm256_set1_epi32(ur->pair[k]));
			t = _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(ur->d), xd),
							_mm256_cvtepi32_ps(S[r])),
					  _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(ur->dmin), xd),
							_mm256_cvtepi32_ps(m)));
		}
		acc[r] = _mm256_add_ps(acc[r], t);
	}
}

#ifdef SIM_AVXVNNI
/*
 * ASan builds keep the step below a call: inlined into the three K-quant
 * panel kernels, clang 14 -O1 with ASan + UBSan (the fuzz targets' build)
 * spent ~12 minutes in IndVarSimplify on them, a fifth of a CI run; as a call
 * the unit compiles in ~1 minute (5 s without the sanitizers).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KQ_VNNI_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(KQ_VNNI_ASAN)
#define KQ_VNNI_STEP static __attribute__((noinline)) void
#else
#define KQ_VNNI_STEP static inline __attribute__((always_inline)) void
#endif

/*
 * acc[h][r] += super-block @x (both halves) against row r's unpacked block
 * u[r * PANEL_SB], r < nw. A sub-block's sum in int32, one vpdpbusd chain a
 * half and row (2 nw chains; each broadcast weight dword serves both halves),
 * times its scale: 1.5x the AVX2 form's rate, which sums maddubs pairs in
 * int16 to take one madd by the scale. |sum| <= 32 * 63 * 127, |scale| <= 128.
 * @per: dwords of a sub-block (8 of 32 quants for Q4_K/Q5_K, 4 of 16 for Q6_K).
 */
KQ_VNNI_STEP
kq_panel_sb_vnni(const struct kq_unpacked *u, const struct sim_xpanel_q8K *x,
		 __m256 (*acc)[SIM_DOT_MAX_ROWS], const unsigned int nw, const unsigned int per)
{
	__m256i S[2][SIM_DOT_MAX_ROWS];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nw; r++)
		S[0][r] = S[1][r] = _mm256_setzero_si256();
	for (unsigned int j = 0; j < SIM_QK_K / 4 / per; j++) {
		__m256i s[2][SIM_DOT_MAX_ROWS];

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++)
			s[0][r] = s[1][r] = _mm256_setzero_si256();
#pragma GCC unroll 8
		for (unsigned int t = 0; t < per; t++) {
			const unsigned int g = j * per + t;
			const __m256i x0 = load256(&x->qs[g][0]), x1 = load256(&x->qs[g][32]);

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nw; r++) {
				const __m256i wv = bcast32(u[r * PANEL_SB].q + 4 * g);

				s[0][r] = DOT_U8S8(s[0][r], wv, x0);
				s[1][r] = DOT_U8S8(s[1][r], wv, x1);
			}
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++) {
			const __m256i sc = _mm256_set1_epi32((int16_t)u[r * PANEL_SB].scw[j]);

			S[0][r] = _mm256_add_epi32(S[0][r], _mm256_mullo_epi32(s[0][r], sc));
			S[1][r] = _mm256_add_epi32(S[1][r], _mm256_mullo_epi32(s[1][r], sc));
		}
	}
	kq_panel_sb_finish(u, x, 0, S[0], acc[0], nw, per == 4);
	kq_panel_sb_finish(u, x, 1, S[1], acc[1], nw, per == 4);
}
#else
/*
 * acc[r] += super-block @x (half @h: rows 8h .. 8h + 7) against row r's
 * unpacked block u[r * PANEL_SB], r < nw. @per: dwords of a sub-block (8 of
 * 32 quants for Q4_K/Q5_K, 4 of 16 for Q6_K); @grp: dwords summed in int16
 * before the madd by the scale (the bound above).
 */
static inline __attribute__((always_inline)) void
kq_panel_sb(const struct kq_unpacked *u, const struct sim_xpanel_q8K *x, const unsigned int h,
	    __m256 *acc, const unsigned int nw, const unsigned int per, const unsigned int grp)
{
	__m256i S[SIM_DOT_MAX_ROWS];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nw; r++)
		S[r] = _mm256_setzero_si256();
	for (unsigned int j = 0; j < SIM_QK_K / 4 / per; j++) {
#pragma GCC unroll 2
		for (unsigned int t0 = 0; t0 < per; t0 += grp) {
			__m256i p[SIM_DOT_MAX_ROWS];

#pragma GCC unroll 8
			for (unsigned int t = 0; t < grp; t++) {
				const unsigned int g = j * per + t0 + t;
				const __m256i xv = load256(&x->qs[g][32 * h]);

#pragma GCC unroll 4
				for (unsigned int r = 0; r < nw; r++) {
					const __m256i m = _mm256_maddubs_epi16(
						bcast32(u[r * PANEL_SB].q + 4 * g), xv);

					p[r] = t ? _mm256_add_epi16(p[r], m) : m;
				}
			}
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nw; r++)
				S[r] = MADD_I16(S[r], p[r], _mm256_set1_epi32(u[r * PANEL_SB].scw[j]));
		}
	}
	kq_panel_sb_finish(u, x, h, S, acc, nw, per == 4);
}
#endif

typedef void (*kq_unpack_fn)(const void *row, size_t i, struct kq_unpacked *u);

static inline __attribute__((always_inline)) void
kq_panel(size_t n, const uint8_t *w, size_t w_stride, const unsigned int nw,
	 const struct sim_xpanel_q8K *x, unsigned int npanels, float *out,
	 const kq_unpack_fn unpack, const unsigned int per, const unsigned int grp)
{
	struct kq_unpacked ub[SIM_DOT_MAX_ROWS * PANEL_SB];
	const size_t nsb = n / SIM_QK_K;

	for (unsigned int i = 0; i < 2 * nw * npanels; i++)
		_mm256_storeu_ps(out + 8 * i, _mm256_setzero_ps());
	for (size_t s0 = 0; s0 < nsb; s0 += PANEL_SB) {
		const unsigned int cnt = nsb - s0 < PANEL_SB ? (unsigned int)(nsb - s0) : PANEL_SB;

		for (unsigned int r = 0; r < nw; r++)
			for (unsigned int i = 0; i < cnt; i++)
				unpack(w + r * w_stride, s0 + i, &ub[r * PANEL_SB + i]);
		for (unsigned int p = 0; p < npanels; p++) {
#ifdef SIM_AVXVNNI
			__m256 acc[2][SIM_DOT_MAX_ROWS];
			float *o = out + SIM_PANEL_ROWS * p;

			(void)grp;
			for (unsigned int h = 0; h < 2; h++)
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nw; r++)
					acc[h][r] = _mm256_loadu_ps(o + SIM_PANEL_ROWS * npanels * r + 8 * h);
			for (unsigned int i = 0; i < cnt; i++)
				kq_panel_sb_vnni(&ub[i], &x[p * nsb + s0 + i], acc, nw, per);
			for (unsigned int h = 0; h < 2; h++)
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nw; r++)
					_mm256_storeu_ps(o + SIM_PANEL_ROWS * npanels * r + 8 * h, acc[h][r]);
#else
			for (unsigned int h = 0; h < 2; h++) {
				__m256 acc[SIM_DOT_MAX_ROWS];
				float *o = out + SIM_PANEL_ROWS * p + 8 * h;

#pragma GCC unroll 4
				for (unsigned int r = 0; r < nw; r++)
					acc[r] = _mm256_loadu_ps(o + SIM_PANEL_ROWS * npanels * r);
				for (unsigned int i = 0; i < cnt; i++)
					kq_panel_sb(&ub[i], &x[p * nsb + s0 + i], h, acc, nw, per, grp);
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nw; r++)
					_mm256_storeu_ps(o + SIM_PANEL_ROWS * npanels * r, acc[r]);
			}
#endif
		}
	}
}

DOT_PANEL(dot_q4_K_panel, kq_panel, q4k_unpack, 8, 8)


/*
 * Q4_KL (hw/anpu_hwif.h) for M <= 4: 8 weight rows a vector (each half of a
 * group in turn), row l in dword lane l, so a block dword of 8 rows is one
 * 32-byte load and nothing is reduced across lanes: per 32 bytes of quants
 * the low and the high nibbles against x's broadcast dwords, per sub-block
 * a multiply by its scale, the mins as word pairs, then each lane takes the
 * four-row kernels' f32 step (the same bits as dot()). AVX-VNNI: vpdpbusd
 * sums, vpmulld by the scale; AVX2: a sub-block's 8 vpmaddubsw summed as
 * words (|.| <= 8 * 2 * 15 * 127 < 2^15: exact), one vpmaddwd by the
 * scale in both words.
 */
#define KL_UNIT (ANPU_Q4_KL_GROUP * sizeof(struct sim_block_q4_K))
#ifndef KL_PF_UNITS
#define KL_PF_UNITS 4
#endif

static inline __attribute__((always_inline)) void
q4kl_half_scales(const uint8_t *u, __m256i sc[8], __m256i mp[4])
{
	const __m256i v0 = load256(u + 64), v1 = load256(u + 128), v2 = load256(u + 192);
	const __m256i m6 = _mm256_set1_epi32(63), m4 = _mm256_set1_epi32(15);
	const __m256i m30 = _mm256_set1_epi32(0x30);
	__m256i mn[8];

#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {	/* j = k and k + 4 (sim_q4k_scale_min) */
		sc[k] = _mm256_and_si256(_mm256_srli_epi32(v0, 8 * k), m6);
		mn[k] = _mm256_and_si256(_mm256_srli_epi32(v1, 8 * k), m6);
		sc[k + 4] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(v2, 8 * k), m4),
					    _mm256_and_si256(_mm256_srli_epi32(v0, 8 * k + 2), m30));
		mn[k + 4] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(v2, 8 * k + 4), m4),
					    _mm256_and_si256(_mm256_srli_epi32(v1, 8 * k + 2), m30));
	}
#pragma GCC unroll 4
	for (int c = 0; c < 4; c++)
		mp[c] = _mm256_or_si256(mn[2 * c], _mm256_slli_epi32(mn[2 * c + 1], 16));
#ifndef SIM_AVXVNNI
#pragma GCC unroll 8
	for (int j = 0; j < 8; j++)	/* the scale in both words: vpmaddwd's */
		sc[j] = _mm256_or_si256(sc[j], _mm256_slli_epi32(sc[j], 16));
#endif
}

static inline __attribute__((always_inline)) void
q4kl_groups(size_t n, const uint8_t *w, unsigned int ngroups, const void *const *x,
	    const unsigned int nx, float *out)
{
	const size_t nsb = n / SIM_QK_K;
	const __m256i m4 = _mm256_set1_epi8(0x0f);

	for (unsigned int g = 0; g < ngroups; g++) {
		__m256 acc[2][R];

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[0][r] = acc[1][r] = _mm256_setzero_ps();
		for (size_t i = 0; i < nsb; i++)
			for (unsigned int h = 0; h < 2; h++) {	/* lanes 8h .. 8h + 7 */
				const uint8_t *u = w + (g * nsb + i) * KL_UNIT + 32 * h;
				__m256i sc[8], mp[4], sumi[R];

				if (!h) {
#pragma GCC unroll 36
					for (unsigned int o = 0; o < KL_UNIT; o += 64)
						prefetch_l2(u + KL_PF_UNITS * KL_UNIT + o);
				}
				q4kl_half_scales(u, sc, mp);
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++)
					sumi[r] = _mm256_setzero_si256();
				for (int c = 0; c < 4; c++) {
					__m256i lo[R], hi[R];

#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++)
						lo[r] = hi[r] = _mm256_setzero_si256();
#pragma GCC unroll 8
					for (int t = 0; t < 8; t++) {
						const __m256i q = load256(u + 256 + 64 * (8 * c + t));
						const __m256i ql = _mm256_and_si256(q, m4);
						const __m256i qh = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);

#pragma GCC unroll 4
						for (unsigned int r = 0; r < nx; r++) {
							const int8_t *xq = ((const struct sim_xblock_q8K *)x[r])[i].qs +
									   64 * c + 4 * t;
							int32_t xl, xh;

							memcpy(&xl, xq, 4);
							memcpy(&xh, xq + 32, 4);
#ifdef SIM_AVXVNNI
							lo[r] = DOT_U8S8(lo[r], ql, _mm256_set1_epi32(xl));
							hi[r] = DOT_U8S8(hi[r], qh, _mm256_set1_epi32(xh));
#else
							lo[r] = _mm256_add_epi16(lo[r], _mm256_maddubs_epi16(
								ql, _mm256_set1_epi32(xl)));
							hi[r] = _mm256_add_epi16(hi[r], _mm256_maddubs_epi16(
								qh, _mm256_set1_epi32(xh)));
#endif
						}
					}
#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++)
#ifdef SIM_AVXVNNI
						sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(
							_mm256_mullo_epi32(lo[r], sc[2 * c]),
							_mm256_mullo_epi32(hi[r], sc[2 * c + 1])));
#else
						sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(
							_mm256_madd_epi16(lo[r], sc[2 * c]),
							_mm256_madd_epi16(hi[r], sc[2 * c + 1])));
#endif
				}
				const __m256i dw = load256(u);	/* d | dmin << 16 per lane */
				const __m256 d = _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(
					_mm256_shuffle_epi8(dw, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13,
						2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12, 13,
						2, 3, 6, 7, 10, 11, 14, 15)), 0x08)));
				const __m256 dmin = _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(
					_mm256_shuffle_epi8(dw, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13,
						2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12, 13,
						2, 3, 6, 7, 10, 11, 14, 15)), 0x0d)));

#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++) {
					const struct sim_xblock_q8K *xr = &((const struct sim_xblock_q8K *)x[r])[i];
					/* x's 32-element sums as words, sub-blocks 2c | 2c + 1 in dword c */
					const __m256i bs = _mm256_madd_epi16(load256(xr->bsums), ones16());
					const __m128i bp = _mm_packs_epi32(_mm256_castsi256_si128(bs),
									   _mm256_extracti128_si256(bs, 1));
					const __m256 xd = _mm256_set1_ps(xr->d);
					__m256i mins = _mm256_setzero_si256();
					int32_t bpd[4];

					_mm_storeu_si128((__m128i *)bpd, bp);
#pragma GCC unroll 4
					for (int c = 0; c < 4; c++)
						mins = MADD_I16(mins, mp[c], _mm256_set1_epi32(bpd[c]));
					acc[h][r] = _mm256_add_ps(acc[h][r], _mm256_sub_ps(
						_mm256_mul_ps(_mm256_mul_ps(d, xd), _mm256_cvtepi32_ps(sumi[r])),
						_mm256_mul_ps(_mm256_mul_ps(dmin, xd), _mm256_cvtepi32_ps(mins))));
				}
			}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			for (unsigned int h = 0; h < 2; h++)
				_mm256_storeu_ps(out + (size_t)r * ANPU_Q4_KL_GROUP * ngroups +
						 ANPU_Q4_KL_GROUP * g + 8 * h, acc[h][r]);
	}
}

GROUPS_BY_NX(dot_q4_kl_groups, q4kl_groups)

/*
 * Q6_KL for M <= 4, 8 weight rows a vector as Q4_KL above: per sub-block,
 * its 4 quant dwords made from the ql and qh dwords (nibble | two bits moved
 * to bits 4-5), summed against x's broadcast dwords and multiplied by the
 * sub-block's int8 scale; the -32 offset as word pairs of scales against
 * x's 16-element sums; then each lane dot()'s f32 step d d_x (sumi - 32 offs).
 * AVX2: two vpmaddubsw summed as words (|.| <= 2 * 2 * 63 * 128 < 2^15:
 * exact), then vpmaddwd by the scale in both words.
 */
#define KL6_UNIT (ANPU_Q4_KL_GROUP * sizeof(struct sim_block_q6_K))

/* quants of sub-blocks 8h + f + 2k, dword t (4 * f .. 4 * f + 3) of lanes at @u */
static inline __attribute__((always_inline)) __m256i
q6kl_quants(const uint8_t *u, int h, int k, int t)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
	const __m256i ql = load256(u + 64 * (16 * h + 8 * (k & 1) + t));
	const __m256i qh = load256(u + 64 * (32 + 8 * h + t));
	/* bits 2k, 2k + 1 of each qh byte to bits 4, 5 */
	const __m256i hb = k == 0 ? _mm256_slli_epi32(qh, 4) : k == 1 ? _mm256_slli_epi32(qh, 2) :
			   k == 2 ? qh : _mm256_srli_epi32(qh, 2);

	return _mm256_or_si256(_mm256_and_si256(k < 2 ? ql : _mm256_srli_epi32(ql, 4), m4),
			       _mm256_and_si256(hb, m30));
}

static inline __attribute__((always_inline)) void
q6kl_groups(size_t n, const uint8_t *w, unsigned int ngroups, const void *const *x,
	    const unsigned int nx, float *out)
{
	const size_t nsb = n / SIM_QK_K;

	for (unsigned int g = 0; g < ngroups; g++) {
		__m256 acc[2][R];

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[0][r] = acc[1][r] = _mm256_setzero_ps();
		for (size_t i = 0; i < nsb; i++)
			for (unsigned int lh = 0; lh < 2; lh++) {	/* lanes 8 lh .. 8 lh + 7 */
				const uint8_t *u = w + (g * nsb + i) * KL6_UNIT + 32 * lh;
				__m256i sumi[R], offs[R];

#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++)
					sumi[r] = offs[r] = _mm256_setzero_si256();
#pragma GCC unroll 16
				for (int j = 0; j < 16; j++) {	/* sub-block j = 8h + f + 2k */
					const int h = j / 8, k = j % 8 / 2, f = j % 2;
					__m256i sc = _mm256_srai_epi32(_mm256_slli_epi32(
						load256(u + 64 * (48 + j / 4)), 24 - 8 * (j % 4)), 24);
					__m256i sb[R];

					if (!lh) {	/* a few lines a sub-block, not all at once */
						for (unsigned int o = 256u * j; o < 256u * j + 256 && o < KL6_UNIT; o += 64)
							prefetch_l2(u + KL_PF_UNITS * KL6_UNIT + o);
					}
#ifndef SIM_AVXVNNI
					sc = _mm256_or_si256(_mm256_and_si256(sc, _mm256_set1_epi32(0xffff)),
							     _mm256_slli_epi32(sc, 16));
#endif
#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++)
						sb[r] = _mm256_setzero_si256();
#pragma GCC unroll 2
					for (int t = 4 * f; t < 4 * f + 4; t += 2) {
						const __m256i q0 = q6kl_quants(u, h, k, t);
						const __m256i q1 = q6kl_quants(u, h, k, t + 1);

#pragma GCC unroll 4
						for (unsigned int r = 0; r < nx; r++) {
							const int8_t *xq = ((const struct sim_xblock_q8K *)x[r])[i].qs +
									   128 * h + 32 * k + 4 * t;
							int32_t x0, x1;

							memcpy(&x0, xq, 4);
							memcpy(&x1, xq + 4, 4);
#ifdef SIM_AVXVNNI
							sb[r] = DOT_U8S8(DOT_U8S8(sb[r], q0, _mm256_set1_epi32(x0)),
									 q1, _mm256_set1_epi32(x1));
#else
							sb[r] = _mm256_add_epi32(sb[r], _mm256_madd_epi16(
								_mm256_add_epi16(
									_mm256_maddubs_epi16(q0, _mm256_set1_epi32(x0)),
									_mm256_maddubs_epi16(q1, _mm256_set1_epi32(x1))),
								sc));
#endif
						}
					}
#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++)
#ifdef SIM_AVXVNNI
						sumi[r] = _mm256_add_epi32(sumi[r], _mm256_mullo_epi32(sb[r], sc));
#else
						sumi[r] = _mm256_add_epi32(sumi[r], sb[r]);
#endif
				}
#pragma GCC unroll 4
				for (int k = 0; k < 4; k++) {	/* scales 4k, 4k + 2 | 4k + 1, 4k + 3 as words */
					const __m256i v = load256(u + 64 * (48 + k));
					const __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8);
					const __m256i odd = _mm256_srai_epi16(v, 8);

#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++) {
						const int16_t *bs = ((const struct sim_xblock_q8K *)x[r])[i].bsums +
								    4 * k;

						offs[r] = MADD_I16(offs[r], even, _mm256_set1_epi32(q6kl_bsum_pair(bs, 0)));
						offs[r] = MADD_I16(offs[r], odd, _mm256_set1_epi32(q6kl_bsum_pair(bs, 1)));
					}
				}
				const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(
					(const __m128i *)(u - 16 * lh + 64 * ANPU_Q6_KL_DWORDS)));

#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++) {
					const __m256 xd = _mm256_set1_ps(((const struct sim_xblock_q8K *)x[r])[i].d);

					acc[lh][r] = _mm256_add_ps(acc[lh][r], _mm256_mul_ps(_mm256_mul_ps(d, xd),
						_mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r],
										    _mm256_slli_epi32(offs[r], 5)))));
				}
			}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			for (unsigned int lh = 0; lh < 2; lh++)
				_mm256_storeu_ps(out + (size_t)r * ANPU_Q4_KL_GROUP * ngroups +
						 ANPU_Q4_KL_GROUP * g + 8 * lh, acc[lh][r]);
	}
}

GROUPS_BY_NX(dot_q6_kl_groups, q6kl_groups)

/*
 * Q4_0L for M <= 4, 8 weight rows a vector (lanes 8 lh .. 8 lh + 7 of each
 * 64-byte dword), as the AVX-512 kernel: per block the 4 quant dwords'
 * nibbles against x's broadcast dwords, the -8 offset through x's sum, then
 * each lane dot()'s f32 step fma(f32(sumi), d d_x) into the row's partial
 * sum of the block, the 16 partials added pairwise in dot()'s order.
 * AVX2: the 8 vpmaddubsw of a block summed as words (|.| <= 8 * 2 * 15 *
 * 127 < 2^15: exact), then one vpmaddwd.
 */
#define KL40_UNIT (ANPU_Q4_KL_GROUP * sizeof(struct sim_block_q4_0))
#ifndef KL40_PF_UNITS
#define KL40_PF_UNITS 16	/* blocks of 16 rows prefetched ahead (into L2) */
#endif

/* acc + block (at @u, lanes 8 lh ..) against x row block @xb */
static inline __attribute__((always_inline)) __m256
q40l_block(__m256 acc, const uint8_t *u, unsigned int lh, const struct sim_xblock_q8 *xb)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);
	__m256i sum;
#ifdef SIM_AVXVNNI
	__m256i hi = _mm256_setzero_si256();

	sum = _mm256_set1_epi32(-8 * xb->sum);
#pragma GCC unroll 4
	for (int t = 0; t < 4; t++) {
		const __m256i q = load256(u + 64 * t + 32 * lh);

		sum = DOT_U8S8(sum, _mm256_and_si256(q, m4), bcast32(xb->qs + 4 * t));
		hi = DOT_U8S8(hi, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
			      bcast32(xb->qs + 16 + 4 * t));
	}
	sum = _mm256_add_epi32(sum, hi);
#else
	__m256i s16 = _mm256_setzero_si256();

#pragma GCC unroll 4
	for (int t = 0; t < 4; t++) {
		const __m256i q = load256(u + 64 * t + 32 * lh);

		s16 = _mm256_add_epi16(s16, _mm256_add_epi16(
			_mm256_maddubs_epi16(_mm256_and_si256(q, m4), bcast32(xb->qs + 4 * t)),
			_mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
					     bcast32(xb->qs + 16 + 4 * t))));
	}
	sum = _mm256_add_epi32(_mm256_madd_epi16(s16, ones16()), _mm256_set1_epi32(-8 * xb->sum));
#endif
	const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)
							 (u + 64 * ANPU_Q4_0L_DWORDS + 16 * lh)));

	return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_mul_ps(d, _mm256_set1_ps(xb->d)), acc);
}

/* Blocks 16 s .. 16 s + @nblk - 1 of a group, lanes 8 lh ..; block 16 s + j to partial sim_xquad_lane(j). */
static inline __attribute__((always_inline)) void
q40l_blocks16(const uint8_t *w, size_t s, unsigned int lh, const void *const *x,
	      const unsigned int nx, __m256 acc[][16], const unsigned int nblk)
{
#pragma GCC unroll 16
	for (unsigned int j = 0; j < 16; j++) {
		const uint8_t *u = w + (16 * s + j) * KL40_UNIT;

		if (j >= nblk)
			break;
		if (!lh)
			for (unsigned int o = 0; o < KL40_UNIT; o += 64)
				prefetch_l2(u + KL40_PF_UNITS * KL40_UNIT + o);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[r][sim_xquad_lane(j)] = q40l_block(acc[r][sim_xquad_lane(j)], u, lh,
							       (const struct sim_xblock_q8 *)x[r] + 16 * s + j);
	}
}

/* The 16 partials of each lane added pairwise (i + 8, i + 4, then (0 + 2) + (1 + 3)). */
static inline __attribute__((always_inline)) __m256 q40l_reduce(const __m256 *p)
{
	__m256 a[8];

#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		a[i] = _mm256_add_ps(p[i], p[i + 8]);
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
		a[i] = _mm256_add_ps(a[i], a[i + 4]);
	return _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3]));
}

/* A group's two halves of lanes one after the other: 16 partials a row fill the registers. */
static inline __attribute__((always_inline)) void
q40l_groups(size_t n, const uint8_t *w, unsigned int ngroups, const void *const *x,
	    const unsigned int nx, float *out)
{
	const size_t nb = n / SIM_QK;

	for (unsigned int g = 0; g < ngroups; g++)
		for (unsigned int lh = 0; lh < 2; lh++) {
			const uint8_t *gw = w + g * nb * KL40_UNIT;
			__m256 acc[R][16];
			size_t s;

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++)
#pragma GCC unroll 16
				for (int i = 0; i < 16; i++)
					acc[r][i] = _mm256_setzero_ps();
			for (s = 0; 16 * s + 16 <= nb; s++)
				q40l_blocks16(gw, s, lh, x, nx, acc, 16);
			if (16 * s < nb)
				q40l_blocks16(gw, s, lh, x, nx, acc, (unsigned int)(nb - 16 * s));
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++)
				_mm256_storeu_ps(out + (size_t)r * ANPU_Q4_KL_GROUP * ngroups +
						 ANPU_Q4_KL_GROUP * g + 8 * lh, q40l_reduce(acc[r]));
		}
}

GROUPS_BY_NX(dot_q4_0l_groups, q40l_groups)
DOT_PANEL(dot_q5_K_panel, kq_panel, q5k_unpack, 8, 4)
DOT_PANEL(dot_q6_K_panel, kq_panel, q6k_unpack, 4, 2)

/*
 * Q4_0/Q5_0/Q8_0 panels: struct sim_xpanel_q8 per block. A block's sum for 8
 * rows is the rows' -off * sum plus the maddubs of its 8 broadcast weight
 * dwords, then the row kernels' step part = fma(float(sum), dw * dx, part) on
 * the block's partial, and the 16 partials combined as partials_sum() does,
 * so the bits are dot()'s. Weights are unpacked PANEL_B blocks at a time;
 * the partials live in memory.
 */
#define PANEL_B 16

typedef void (*q32_unpack_fn)(const void *row, size_t i, uint8_t *q, float *dw);

static inline void q4_0_unpack_blk(const void *row, size_t i, uint8_t *q, float *dw)
{
	const struct sim_block_q4_0 *b = (const struct sim_block_q4_0 *)row + i;

	_mm256_store_si256((__m256i *)q, nibbles_lo_hi(b->qs));
	*dw = f16_to_f32(b->d);
}

static inline void q5_0_unpack_blk(const void *row, size_t i, uint8_t *q, float *dw)
{
	const struct sim_block_q5_0 *b = (const struct sim_block_q5_0 *)row + i;

	_mm256_store_si256((__m256i *)q, _mm256_or_si256(nibbles_lo_hi(b->qs),
							 bits_to_0x10(b->qh)));
	*dw = f16_to_f32(b->d);
}

/*
 * A whole Q5_0L group (@g blocks at @G: 16, or a row's last nb % 16) in the
 * panel kernels' form, 8 blocks a half: the four quant planes transposed to
 * blocks (block 8h + 4k + j in 128-bit lane k of e[j]), then each block's
 * nibbles and fifth bits; gathered a block at a time, the AVX-VNNI panels ran
 * ~10% slower than Q5_0's.
 */
typedef void (*q32_unpack_group_fn)(const uint8_t *G, unsigned int g, uint8_t (*q)[SIM_QK],
				    float *dw);

_Static_assert(PANEL_B == ANPU_Q5_0L_GROUP, "a panel step's blocks are one Q5_0L group");

static inline void q5_0l_unpack_group(const uint8_t *G, unsigned int g, uint8_t (*q)[SIM_QK],
				      float *dw)
{
	const __m256i m4 = _mm256_set1_epi8(0x0f);

	for (unsigned int h = 0; 8 * h < g; h++) {
		const unsigned int v = g - 8 * h < 8 ? g - 8 * h : 8;
		const __m256i lm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)v),
						      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		__m256i p[4];

		for (unsigned int t = 0; t < 4; t++)
			p[t] = v == 8 ? load256(G + 4 * g * t + 32 * h) :
			       _mm256_maskload_epi32((const int *)(const void *)(G + 4 * g * t + 32 * h), lm);
		const __m256i a = _mm256_unpacklo_epi32(p[0], p[1]), b = _mm256_unpackhi_epi32(p[0], p[1]);
		const __m256i c = _mm256_unpacklo_epi32(p[2], p[3]), d = _mm256_unpackhi_epi32(p[2], p[3]);
		const __m256i e[4] = {
			_mm256_unpacklo_epi64(a, c), _mm256_unpackhi_epi64(a, c),
			_mm256_unpacklo_epi64(b, d), _mm256_unpackhi_epi64(b, d),
		};

		for (unsigned int j = 0; j < 4; j++) {
			const __m256i lo = _mm256_and_si256(e[j], m4);
			const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(e[j], 4), m4);

			for (unsigned int k = 0; k < 2; k++) {
				const unsigned int i = 8 * h + 4 * k + j;
				const __m256i qv = k ? _mm256_permute2x128_si256(lo, hi, 0x31) :
						       _mm256_permute2x128_si256(lo, hi, 0x20);
				uint16_t dh;

				if (i >= g)
					continue;
				_mm256_store_si256((__m256i *)(void *)q[i],
						   _mm256_or_si256(qv, bits_to_0x10(G + 16 * g + 4 * i)));
				memcpy(&dh, G + 20 * g + 2 * i, sizeof(dh));
				dw[i] = f16_to_f32(dh);
			}
		}
	}
}

/* Q8_0: |w| here; the signs come from the block itself */
static inline void q8_0_unpack_blk(const void *row, size_t i, uint8_t *q, float *dw)
{
	const struct sim_block_q8_0 *b = (const struct sim_block_q8_0 *)row + i;
	const __m256i v = load256(b->qs);

	_mm256_store_si256((__m256i *)q, _mm256_sign_epi8(v, v));
	*dw = f16_to_f32(b->d);
}

#ifndef SIM_AVXVNNI
/*
 * part[r][lane] += block @xb (block b of the row; half @h) for weight rows
 * r < nw, Q4_0/Q5_0 (Q8_0: q8_0_panel_blk2()). @grp: dwords summed in int16
 * (4; Q4_0 may take 8, but ran 10% slower so at M = 128).
 */
static inline __attribute__((always_inline)) void
q32_panel_blk(const uint8_t (*uq)[PANEL_B][SIM_QK], const float (*dw)[PANEL_B], unsigned int i,
	      const struct sim_xpanel_q8 *xb, unsigned int h, unsigned int lane,
	      __m256 (*part)[16], const unsigned int nw, const unsigned int grp)
{
	__m256i s[SIM_DOT_MAX_ROWS];
	const __m256i off = load256(&xb->off[8 * h]);

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nw; r++)
		s[r] = off;
#pragma GCC unroll 2
	for (unsigned int g0 = 0; g0 < SIM_QK / 4; g0 += grp) {
		__m256i p[SIM_DOT_MAX_ROWS];

#pragma GCC unroll 8
		for (unsigned int t = 0; t < grp; t++) {
			const unsigned int g = g0 + t;
			const __m256i xv = load256(&xb->qs[g][32 * h]);

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nw; r++) {
				const __m256i m = _mm256_maddubs_epi16(bcast32(&uq[r][i][4 * g]), xv);

				p[r] = t ? _mm256_add_epi16(p[r], m) : m;
			}
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++)
			s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(p[r], ones16()));
	}
	const __m256 dx = _mm256_loadu_ps(&xb->d[8 * h]);

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nw; r++)
		part[r][lane] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r]),
						_mm256_mul_ps(_mm256_set1_ps(dw[r][i]), dx),
						part[r][lane]);
}
#endif

/* sums of both halves of panel block @xb started at its off (+ Q8_0's wstart[r * PANEL_B]) */
static inline __attribute__((always_inline)) void
q32_halves_start(const struct sim_xpanel_q8 *xb, const int32_t *wstart,
		 __m256i (*s)[SIM_DOT_MAX_ROWS], const unsigned int nw)
{
#pragma GCC unroll 2
	for (unsigned int h = 0; h < 2; h++) {
		const __m256i off = load256(&xb->off[8 * h]);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++)
			s[h][r] = wstart ? _mm256_add_epi32(off, _mm256_set1_epi32(wstart[r * PANEL_B])) :
					   off;
	}
}

/* the f32 step of both halves' sums into part[h][r][lane]; row r's scale dw[r * PANEL_B] */
static inline __attribute__((always_inline)) void
q32_halves_finish(const struct sim_xpanel_q8 *xb, const float *dw, unsigned int lane,
		  __m256 (*const *part)[16], __m256i (*s)[SIM_DOT_MAX_ROWS], const unsigned int nw)
{
#pragma GCC unroll 2
	for (unsigned int h = 0; h < 2; h++) {
		const __m256 dx = _mm256_loadu_ps(&xb->d[8 * h]);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++)
			part[h][r][lane] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[h][r]),
							   _mm256_mul_ps(_mm256_set1_ps(dw[r * PANEL_B]), dx),
							   part[h][r][lane]);
	}
}

#ifndef SIM_AVXVNNI
/*
 * q32_panel_blk() for Q8_0 with both halves of panel block @xb at once
 * (part[h][r][lane]): each row's two broadcast dwords (|w| and the signs)
 * serve both halves, a sixth fewer instructions a step than a half at a time.
 */
static inline __attribute__((always_inline)) void
q8_0_panel_blk2(const uint8_t (*uq)[PANEL_B][SIM_QK], const float (*dw)[PANEL_B], unsigned int i,
		const struct sim_xpanel_q8 *xb, unsigned int lane, __m256 (*const *part)[16],
		const unsigned int nw, const struct sim_block_q8_0 *const *wq8)
{
	__m256i s[2][SIM_DOT_MAX_ROWS];

	q32_halves_start(xb, NULL, s, nw);
#pragma GCC unroll 8
	for (unsigned int g = 0; g < SIM_QK / 4; g++) {
		const __m256i x0 = _mm256_xor_si256(load256(&xb->qs[g][0]), _mm256_set1_epi8(-128));
		const __m256i x1 = _mm256_xor_si256(load256(&xb->qs[g][32]), _mm256_set1_epi8(-128));

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++) {
			const __m256i wa = bcast32(&uq[r][i][4 * g]), ws = bcast32(&wq8[r]->qs[4 * g]);

			s[0][r] = _mm256_add_epi32(s[0][r], _mm256_madd_epi16(
				_mm256_maddubs_epi16(wa, _mm256_sign_epi8(x0, ws)), ones16()));
			s[1][r] = _mm256_add_epi32(s[1][r], _mm256_madd_epi16(
				_mm256_maddubs_epi16(wa, _mm256_sign_epi8(x1, ws)), ones16()));
		}
	}
	q32_halves_finish(xb, &dw[0][i], lane, part, s, nw);
}
#endif

#ifdef SIM_AVXVNNI
/*
 * AVX-VNNI: both halves of panel block @xb at once (part[h][r][lane]), so a
 * block has 2 nw vpdpbusd chains (one a row is latency-bound) and each
 * broadcast weight dword serves both. Row r's quants are the dwords at
 * wq + r * wq_stride, its scale dw[r * PANEL_B]. Q8_0 (@wstart): x as stored
 * (x + 128, unsigned) against the signed weights straight from the block,
 * the sum started at -128 * sum(w) (no sign step: the AVX-512 form);
 * Q4_0/Q5_0: the unpacked weights are the unsigned operand.
 */
static inline __attribute__((always_inline)) void
q32_panel_blk_vnni(const uint8_t *wq, size_t wq_stride, const int32_t *wstart, const float *dw,
		   const struct sim_xpanel_q8 *xb, unsigned int lane, __m256 (*const *part)[16],
		   const unsigned int nw)
{
	__m256i s[2][SIM_DOT_MAX_ROWS];

	q32_halves_start(xb, wstart, s, nw);
#pragma GCC unroll 8
	for (unsigned int g = 0; g < SIM_QK / 4; g++) {
		const __m256i x0 = load256(&xb->qs[g][0]), x1 = load256(&xb->qs[g][32]);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++) {
			const __m256i wv = bcast32(wq + r * wq_stride + 4 * g);

			s[0][r] = wstart ? DOT_U8S8(s[0][r], x0, wv) : DOT_U8S8(s[0][r], wv, x0);
			s[1][r] = wstart ? DOT_U8S8(s[1][r], x1, wv) : DOT_U8S8(s[1][r], wv, x1);
		}
	}
	q32_halves_finish(xb, dw, lane, part, s, nw);
}
#endif

/* out = each panel half's and row's partials combined as partials_sum() does */
static inline void q32_panel_finish(__m256 (*part)[SIM_DOT_MAX_ROWS][16], unsigned int nw,
				    unsigned int npanels, float *out)
{
	for (unsigned int p = 0; p < 2 * npanels; p++) {
		for (unsigned int r = 0; r < nw; r++) {
			__m256 t[8];

			for (int l = 0; l < 8; l++)	/* i + (i + 8), i + (i + 4), (0 + 2) + (1 + 3) */
				t[l] = _mm256_add_ps(part[p][r][l + 8], part[p][r][l]);
			for (int l = 0; l < 4; l++)
				t[l] = _mm256_add_ps(t[l + 4], t[l]);
			_mm256_storeu_ps(out + SIM_PANEL_ROWS * (r * npanels + p / 2) + 8 * (p % 2),
					 _mm256_add_ps(_mm256_add_ps(t[0], t[2]), _mm256_add_ps(t[1], t[3])));
		}
	}
}

static inline __attribute__((always_inline)) void
q32_panel(size_t n, const uint8_t *w, size_t w_stride, const unsigned int nw,
	  const struct sim_xpanel_q8 *x, unsigned int npanels, float *out,
	  const q32_unpack_fn unpack, const q32_unpack_group_fn unpack_group,
	  const unsigned int grp, const int q8)
{
	uint8_t uq[SIM_DOT_MAX_ROWS][PANEL_B][SIM_QK] __attribute__((aligned(32)));
	float dw[SIM_DOT_MAX_ROWS][PANEL_B];
	/* [panel half][row][partial] */
	__m256 part[2 * SIM_PANEL_MAX][SIM_DOT_MAX_ROWS][16];
	const size_t nb = n / SIM_QK;

	for (unsigned int p = 0; p < 2 * npanels; p++)
		for (unsigned int r = 0; r < nw; r++)
			for (int l = 0; l < 16; l++)
				part[p][r][l] = _mm256_setzero_ps();
	for (size_t b0 = 0; b0 < nb; b0 += PANEL_B) {
		const unsigned int cnt = nb - b0 < PANEL_B ? (unsigned int)(nb - b0) : PANEL_B;
#ifdef SIM_AVXVNNI
		int32_t wstart[SIM_DOT_MAX_ROWS][PANEL_B];	/* Q8_0: -128 * each block's sum */

		for (unsigned int r = 0; r < nw; r++) {
			if (unpack_group) {	/* b0: a group's first block */
				unpack_group(w + r * w_stride + b0 * sizeof(struct sim_block_q5_0),
					     cnt, uq[r], dw[r]);
				continue;
			}
			for (unsigned int i = 0; i < cnt; i++) {
				const struct sim_block_q8_0 *b;
				int32_t hs[2];

				if (!q8) {
					unpack(w + r * w_stride, b0 + i, uq[r][i], &dw[r][i]);
					continue;
				}
				b = (const struct sim_block_q8_0 *)(w + r * w_stride) + b0 + i;
				sum16x2(load256(b->qs), hs);
				wstart[r][i] = -128 * (hs[0] + hs[1]);
				dw[r][i] = f16_to_f32(b->d);
			}
		}
		for (unsigned int p = 0; p < npanels; p++) {
			__m256 (*const ph[2])[16] = { part[2 * p], part[2 * p + 1] };

			for (unsigned int i = 0; i < cnt; i++) {
				const size_t b = b0 + i;
				const unsigned int lane = q8 ? sim_xpair_lane(b) : sim_xquad_lane(b);

				if (q8)
					q32_panel_blk_vnni(w + b * sizeof(struct sim_block_q8_0) +
							   offsetof(struct sim_block_q8_0, qs), w_stride,
							   &wstart[0][i], &dw[0][i], &x[p * nb + b], lane,
							   ph, nw);
				else
					q32_panel_blk_vnni(uq[0][i], sizeof(uq[0]), NULL, &dw[0][i],
							   &x[p * nb + b], lane, ph, nw);
			}
		}
		(void)grp;
#else
		for (unsigned int r = 0; r < nw; r++) {
			if (unpack_group) {	/* b0: a group's first block */
				unpack_group(w + r * w_stride + b0 * sizeof(struct sim_block_q5_0),
					     cnt, uq[r], dw[r]);
				continue;
			}
			for (unsigned int i = 0; i < cnt; i++)
				unpack(w + r * w_stride, b0 + i, uq[r][i], &dw[r][i]);
		}
		for (unsigned int p = 0; q8 && p < npanels; p++) {
			__m256 (*const ph[2])[16] = { part[2 * p], part[2 * p + 1] };

			for (unsigned int i = 0; i < cnt; i++) {
				const size_t b = b0 + i;
				const struct sim_block_q8_0 *wb[SIM_DOT_MAX_ROWS];

				for (unsigned int r = 0; r < nw; r++)
					wb[r] = (const struct sim_block_q8_0 *)(w + r * w_stride) + b;
				q8_0_panel_blk2(uq, dw, i, &x[p * nb + b], sim_xpair_lane(b), ph, nw, wb);
			}
		}
		for (unsigned int p = 0; !q8 && p < 2 * npanels; p++) {
			for (unsigned int i = 0; i < cnt; i++) {
				const size_t b = b0 + i;

				q32_panel_blk(uq, dw, i, &x[p / 2 * nb + b], p % 2,
					      sim_xquad_lane(b), part[p], nw, grp);
			}
		}
#endif
	}
	q32_panel_finish(part, nw, npanels, out);
}

DOT_PANEL(dot_q4_0_panel, q32_panel, q4_0_unpack_blk, NULL, 4, 0)
DOT_PANEL(dot_q5_0_panel, q32_panel, q5_0_unpack_blk, NULL, 4, 0)
DOT_PANEL(dot_q5_0l_panel, q32_panel, NULL, q5_0l_unpack_group, 4, 0)
DOT_PANEL(dot_q8_0_panel, q32_panel, q8_0_unpack_blk, NULL, 1, 1)

/*
 * Decode (M = 1) columns of Q4_K/Q5_K weights, four weight rows a step (the
 * AVX-512 unit's form, kernels_avx512.c): each row's integer sums as in
 * dot_q4_K_rows, then the four rows' horizontal sums in one tree and one
 * 4-lane f32 update, lane r for row r with dot_q4_K_rows' operations in its
 * order (so each row keeps dot()'s bits), instead of a reduction and scalar
 * update per row and super-block; the weights prefetched as one sequential
 * stream (kq_cols_prefetch). Columns past a multiple of 4: the one-row kernel.
 * Hot, ns per 32 weights: Q4_K 1.02 -> 0.84, Q6_K 1.07 -> 0.97 (K = 1536 and
 * 8960); decode on this path, interleaved pairs: Qwen2.5-1.5B Q4_K_M 31.5 ->
 * 32.5-33.7 tok/s, Qwen3-0.6B 71.6 -> 73.7-74.2.
 */
#define KQ45_COLS4(fn, BLOCK, UNPACK, ONE_ROW)				\
/* row @b's super-block against @xr: integer sums *s, mins' products *m */	\
static inline __attribute__((always_inline)) void				\
fn##_sums(const BLOCK *b, const struct sim_xblock_q8K *xr, __m256i *s_out,	\
	  __m256i *m_out)							\
{										\
	const __m256i sm2 = _mm256_broadcastsi128_si256(kq45_scales_mins(b->scales)); \
	__m256i s = _mm256_setzero_si256();					\
	_Pragma("GCC unroll 4")							\
	for (int c = 0; c < 4; c++) {						\
		__m256i u[2];							\
		UNPACK(b, c, u);						\
		_Pragma("GCC unroll 2")						\
		for (int k = 0; k < 2; k++)					\
			s = MADD_I16(s, _mm256_maddubs_epi16(u[k],		\
				load256(xr->qs + 64 * c + 32 * k)), kq45_word16(sm2, 2 * c + k)); \
	}									\
	*s_out = s;								\
	*m_out = _mm256_madd_epi16(load_bsums(xr->bsums), kq45_mins16(sm2));	\
}										\
static void fn(size_t n, const void *w, size_t w_stride, unsigned int ncols,	\
	       const void *x, float *out)					\
{										\
	const struct sim_xblock_q8K *xb = x;					\
	const size_t pf_ahead = kq_cols_pf_ahead(w_stride);			\
	unsigned int c = 0;							\
										\
	for (; c + R <= ncols; c += R) {					\
		const BLOCK *b[R];						\
		__m128 acc = _mm_setzero_ps();					\
										\
		for (unsigned int r = 0; r < R; r++)				\
			b[r] = (const void *)((const uint8_t *)w + (c + r) * w_stride); \
		for (size_t i = 0; i < n / SIM_QK_K; i++) {			\
			const struct sim_xblock_q8K *xr = &xb[i];		\
			__m256i s0, m0, s1, m1;					\
										\
			kq_cols_prefetch(b[0], pf_ahead, i, R * sizeof(BLOCK));	\
			/* rows 0, 1 then 2, 3: their lanes pairwise summed */	\
			fn##_sums(&b[0][i], xr, &s0, &m0);			\
			fn##_sums(&b[1][i], xr, &s1, &m1);			\
			const __m256i s01 = _mm256_hadd_epi32(s0, s1);		\
			const __m256i m01 = _mm256_hadd_epi32(m0, m1);		\
			fn##_sums(&b[2][i], xr, &s0, &m0);			\
			fn##_sums(&b[3][i], xr, &s1, &m1);			\
			/* [row 0 .. 3] of each, as hsum2_epi32 adds them (exact) */ \
			const __m256i sh = _mm256_hadd_epi32(s01, _mm256_hadd_epi32(s0, s1)); \
			const __m256i mh = _mm256_hadd_epi32(m01, _mm256_hadd_epi32(m0, m1)); \
			const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sh), \
							 _mm256_extracti128_si256(sh, 1)); \
			const __m128i m4 = _mm_add_epi32(_mm256_castsi256_si128(mh), \
							 _mm256_extracti128_si256(mh, 1)); \
			acc = kq45_update4(acc, &b[0][i], &b[1][i], &b[2][i], &b[3][i], xr->d, s4, m4); \
		}								\
		_mm_storeu_ps(out + c, acc);					\
	}									\
	if (c < ncols)	/* the rest one row at a time */			\
		ONE_ROW(n, (const uint8_t *)w + c * w_stride, w_stride, ncols - c, x, out + c); \
}

KQ45_COLS4(dot_q4_K_cols4, struct sim_block_q4_K, unpack_q4_K_chunk, dot_q4_K_cols)
KQ45_COLS4(dot_q5_K_cols4, struct sim_block_q5_K, unpack_q5_K_chunk, dot_q5_K_cols)

/* Q6_K, four rows a step the same way: row @b's Σ sumi - 32 Σ sc·bsum lanes against @xr */
static inline __attribute__((always_inline)) __m256i
dot_q6_K_sums(const struct sim_block_q6_K *b, const struct sim_xblock_q8K *xr)
{
	const __m128i sc = _mm_loadu_si128((const __m128i *)b->scales);
	__m256i s = _mm256_setzero_si256();

#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		const __m256i w8 = _mm256_broadcastsi128_si256(
			_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc, 8) : sc));
		__m256i u[4];

		unpack_q6_K_half(b, h, u);
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++)
			s = MADD_I16(s, _mm256_maddubs_epi16(u[k], load256(xr->qs + 128 * h + 32 * k)),
				     q6k_scale_words(w8, k));
	}
	return _mm256_sub_epi32(s, _mm256_madd_epi16(load_bsums(xr->bsums),
						     _mm256_slli_epi16(_mm256_cvtepi8_epi16(sc), 5)));
}

static void dot_q6_K_cols4(size_t n, const void *w, size_t w_stride, unsigned int ncols,
			   const void *x, float *out)
{
	const struct sim_xblock_q8K *xb = x;
	const size_t pf_ahead = kq_cols_pf_ahead(w_stride);
	unsigned int c = 0;

	for (; c + R <= ncols; c += R) {
		const struct sim_block_q6_K *b[R];
		__m128 acc = _mm_setzero_ps();

		for (unsigned int r = 0; r < R; r++)
			b[r] = (const void *)((const uint8_t *)w + (c + r) * w_stride);
		for (size_t i = 0; i < n / SIM_QK_K; i++) {
			const struct sim_xblock_q8K *xr = &xb[i];

			kq_cols_prefetch(b[0], pf_ahead, i, R * sizeof(struct sim_block_q6_K));
			const __m256i t01 = _mm256_hadd_epi32(dot_q6_K_sums(&b[0][i], xr),
							      dot_q6_K_sums(&b[1][i], xr));
			const __m256i t23 = _mm256_hadd_epi32(dot_q6_K_sums(&b[2][i], xr),
							      dot_q6_K_sums(&b[3][i], xr));
			const __m256i th = _mm256_hadd_epi32(t01, t23);
			const __m128i t4 = _mm_add_epi32(_mm256_castsi256_si128(th),
							 _mm256_extracti128_si256(th, 1));
			acc = kq6_update4(acc, b, i, xr->d, t4);
		}
		_mm_storeu_ps(out + c, acc);
	}
	if (c < ncols)	/* the rest one row at a time */
		dot_q6_K_cols(n, (const uint8_t *)w + c * w_stride, w_stride, ncols - c, x, out + c);
}

#ifdef SIM_AVXVNNI
const struct sim_kernels sim_kernels_avxvnni = {
	.name = "avxvnni",
#else
const struct sim_kernels sim_kernels_avx2 = {
	.name = "avx2",
#endif
	SIM_X86_KERNELS_COMMON,
	.dot[ANPU_DTYPE_Q4_0] = dot_q4_0_x4,
	.dot[ANPU_DTYPE_Q5_0] = dot_q5_0_x4,
	.dot[ANPU_DTYPE_Q8_0] = dot_q8_0_x2,
	.dot[ANPU_DTYPE_Q4_K] = dot_q4_K,
	.dot[ANPU_DTYPE_Q5_K] = dot_q5_K,
	.dot[ANPU_DTYPE_Q6_K] = dot_q6_K,
	.dot_cols[ANPU_DTYPE_Q4_0] = dot_q4_0_x4_cols,
	.dot_cols[ANPU_DTYPE_Q5_0] = dot_q5_0_x4_cols,
	.dot_cols[ANPU_DTYPE_Q8_0] = dot_q8_0_x2_cols,
	.dot_cols[ANPU_DTYPE_Q4_K] = dot_q4_K_cols4,
	.dot_cols[ANPU_DTYPE_Q5_K] = dot_q5_K_cols4,
	.dot_cols[ANPU_DTYPE_Q6_K] = dot_q6_K_cols4,
	.dot_panel[ANPU_DTYPE_Q4_0] = dot_q4_0_panel,
	.dot_panel[ANPU_DTYPE_Q5_0] = dot_q5_0_panel,
	.dot_panel[ANPU_DTYPE_Q8_0] = dot_q8_0_panel,
	.dot_panel[ANPU_DTYPE_Q4_K] = dot_q4_K_panel,
	.dot_groups[ANPU_DTYPE_Q4_KL] = dot_q4_kl_groups,
	.dot_groups[ANPU_DTYPE_Q6_KL] = dot_q6_kl_groups,
	.dot_groups[ANPU_DTYPE_Q4_0L] = dot_q4_0l_groups,
	.dot_panel[ANPU_DTYPE_Q5_K] = dot_q5_K_panel,
	.dot_panel[ANPU_DTYPE_Q6_K] = dot_q6_K_panel,
	.dot[ANPU_DTYPE_Q5_0L] = dot_q5_0l,
	.dot_cols[ANPU_DTYPE_Q5_0L] = dot_q5_0l_cols,
	.dot_lanes[ANPU_DTYPE_Q5_0L] = dot_q5_0l_lanes,
	.dot_panel[ANPU_DTYPE_Q5_0L] = dot_q5_0l_panel,
};

#undef R
