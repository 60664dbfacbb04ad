// SPDX-License-Identifier: MIT
/*
 * AVX-512 VNNI kernels: the x86 template (kernels_x86.inc) with int8 dots from
 * vpdpbusd and scaled sums from vpdpwssd, plus the 512-bit kernels below,
 * which this path's table uses for Q4_0/Q5_0/Q8_0 (against the pair and quad
 * forms of the activations, struct sim_xpair_q8 / sim_xquad_q8) and the K-quants.
 */
#include <immintrin.h>

#define DOT_U8S8(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define MADD_I16(acc, p, sc) _mm256_dpwssd_epi32((acc), (p), (sc))

#include "kernels_x86.inc"

/*
 * 512-bit variants: 64 weights per
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

/*
 * Every byte's high nibble as a byte 0..15: one GF2P8AFFINEQB, whose bit
 * matrix takes bits 4..7 of each byte to 0..3 and clears the rest, where a
 * shift and a mask were two uops. Intel cores run 512-bit uops on two ports
 * (Zen 5 on four), and the nibble split is a good part of a Q4_0 quad's:
 * the decode kernel (dot_q4_0_w2, weights in L2) ~5% faster on an Emerald
 * Rapids Xeon (2.62 -> 2.49 ns a quad).
 */
static inline __m512i hi_nibbles512(__m512i v)
{
	return _mm512_gf2p8affine_epi64_epi8(v, _mm512_set1_epi64(0x1020408000000000ll), 0);
}

/*
 * _mm512_reduce_add_ps's additions (hi 256 + lo 256, lanes i + 4, then (0 +
 * 2) + (1 + 3)) written out: clang treats that builtin's order as free (it
 * dropped the Q5_0L kernels' lane permutation before it, changing the bits).
 */
static inline float reduce_add_ps_ordered(__m512 v)
{
	const __m256 a = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
	const __m128 b = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
	const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));	/* (0 + 2), (1 + 3) */

	return _mm_cvtss_f32(_mm_add_ss(c, _mm_shuffle_ps(c, c, 1)));
}

/*
 * out[r] = _mm512_reduce_add_ps(acc[r]) for r < 4, every row's additions the
 * same pairs in the same order (hi 256 + lo 256, then lanes i + 4, then
 * (0 + 2) + (1 + 3)), but the four trees share their shuffles: 15
 * instructions instead of ~32 (the 4-row kernels at K = 896 spent a fifth of
 * their time on the per-row reductions).
 */
static inline void reduce4_ps(const __m512 *acc, float *out)
{
	const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(acc[0], acc[1], _MM_SHUFFLE(3, 2, 3, 2)),
					_mm512_shuffle_f32x4(acc[0], acc[1], _MM_SHUFFLE(1, 0, 1, 0)));
	const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2], acc[3], _MM_SHUFFLE(3, 2, 3, 2)),
					_mm512_shuffle_f32x4(acc[2], acc[3], _MM_SHUFFLE(1, 0, 1, 0)));
	/* 128-bit lane r: row r's lanes 4..7 + 0..3 */
	const __m512 u = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)),
				       _mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)));
	const __m512 v = _mm512_add_ps(u, _mm512_permute_ps(u, _MM_SHUFFLE(1, 0, 3, 2)));
	const __m512 t = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));

	_mm_storeu_ps(out, _mm512_castps512_ps128(_mm512_permutexvar_ps(
		_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), t)));
}

/*
 * Q8_0 against struct sim_xpair_q8 rows (Q4_0/Q5_0 take the quad form, below):
 * per pair of blocks, the 64 weights as w + 128 (unsigned) against x, each
 * lane the sum of its 4 (w + 128) * x. Eight pairs (16 blocks) at a time,
 * the lanes are summed into whole block sums (pair_sums8), x's -128 * sum
 * added, and acc = fma(float(sum), dw * dx, acc) per lane: 16 partial sums,
 * block b of the 16 in lane sim_xpair_lane(b), combined by
 * _mm512_reduce_add_ps (the order docs/hardware.md gives for Q4_0/Q5_0; the
 * panel kernel below computes the same).
 */
/*
 * Eight pairs' block sums in one vector: v[p]'s lanes 0..7 hold parts of
 * block 2p, lanes 8..15 of block 2p + 1; the result's lane
 * sim_xpair_lane(b) is block b's whole sum. Exact integer adds.
 */
static inline __m512i pair_sums8(const __m512i *v)
{
	__m512i t[4], u[2];

#pragma GCC unroll 4	/* t[], u[] in registers */
	for (int i = 0; i < 4; i++)	/* per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] */
		t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
					_mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
#pragma GCC unroll 2
	for (int i = 0; i < 2; i++)	/* lane 4c + m: 128-bit lane c of v[4i + m], summed */
		u[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * i], t[2 * i + 1]),
					_mm512_unpackhi_epi64(t[2 * i], t[2 * i + 1]));
	/* 128-bit lanes 0 + 1 (the first block of a pair) and 2 + 3 (the second) */
	return _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
				_mm512_shuffle_i32x4(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

/* word L: 0 (the first block's d) for L % 8 < 4, else word 17 (the second's) */
static const uint16_t q8p_idx_d[32] __attribute__((aligned(64))) = {
	0, 0, 0, 0, 17, 17, 17, 17, 0, 0, 0, 0, 17, 17, 17, 17,
};

/*
 * Pair @p (blocks 2p, 2p + 1 of its group of 16) of weights at @b, the blocks
 * present given by @m (bit 0, bit 1): w + 128, and their scales merged into
 * words sim_xpair_lane() of *dwh.
 */
static inline __attribute__((always_inline)) void
q8_0_unpack_pair(const struct sim_block_q8_0 *b, unsigned int p, unsigned int m, __m512i *u,
		 __m512i *dwh)
{
	const __m512i wq = join256(_mm256_maskz_loadu_epi8((__mmask32)(m & 1 ? ~0u : 0), b[0].qs),
				   _mm256_maskz_loadu_epi8((__mmask32)(m & 2 ? ~0u : 0), b[1].qs));
	const __m512i d2 = _mm512_maskz_loadu_epi16((m & 1) | (m & 2) << 16, b);

	*u = _mm512_xor_si512(wq, _mm512_set1_epi8(-128));
	*dwh = _mm512_mask_permutexvar_epi16(*dwh, (__mmask32)(0x11u << (p % 4 + 8 * (p / 4))),
					     load512(q8p_idx_d), d2);
}

/* acc += 16 blocks (8 pairs, np of them present; x is zero past them) of x row @x */
static inline __attribute__((always_inline)) __m512
q8_0_acc8(__m512 acc, const __m512i *u, __m512 dw, const struct sim_xpair_q8 *x,
	  unsigned int np)
{
	__m512i s[8];

#pragma GCC unroll 8
	for (unsigned int p = 0; p < 8; p++)
		s[p] = p < np ? _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[p], load512(x[p].qs)) :
				_mm512_setzero_si512();
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(pair_sums8(s),
								   load512(x[0].off))),
			       _mm512_mul_ps(dw, _mm512_loadu_ps(x[0].d)), acc);
}

/* weights of the group at block 16 g: @full, or the row's last nb - 16 g blocks */
static inline __attribute__((always_inline)) __m512
q8_0_unpack8(const struct sim_block_q8_0 *b, size_t nb, size_t g, const int full, __m512i *u,
	     unsigned int *np)
{
	__m512i dwh = _mm512_setzero_si512();
	const size_t left = nb - 16 * g;

	*np = full ? 8 : (unsigned int)(left + 1) / 2;
#pragma GCC unroll 8
	for (unsigned int p = 0; p < 8; p++) {
		const size_t b0 = 16 * g + 2 * p;

		if (full || 2 * p + 2 <= left)
			q8_0_unpack_pair(&b[b0], p, 3, &u[p], &dwh);
		else if (2 * p < left)
			q8_0_unpack_pair(&b[b0], p, 1, &u[p], &dwh);
		else
			u[p] = _mm512_setzero_si512();
	}
	return _mm512_cvtph_ps(_mm512_castsi512_si256(dwh));
}

static inline __attribute__((always_inline)) void
q8_0_prefetch_group(const struct sim_block_q8_0 *b)
{
#pragma GCC unroll 9
	for (int l = 0; l < (16 * (int)sizeof(*b) + 63) / 64; l++)
		prefetch_w((const uint8_t *)b + 64 * l);
}

static inline __attribute__((always_inline)) void
q8_0_group(const struct sim_block_q8_0 *b, size_t nb, size_t g, const int full,
	   const struct sim_xpair_q8 *const *xp, __m512 *acc, const unsigned int nx)
{
	__m512i u[8];
	unsigned int np;
	const __m512 dw = q8_0_unpack8(b, nb, g, full, u, &np);

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++)
		acc[r] = q8_0_acc8(acc[r], u, dw, &xp[r][8 * g], np);
}

/* x rows are whole groups (zero past the end), so only weights are masked */
static inline __attribute__((always_inline)) void
q8_0_rows(size_t n, const void *w, const void *const *x, float *out, const unsigned int nx)
{
	const struct sim_block_q8_0 *b = w;
	const struct sim_xpair_q8 *xp[R];
	__m512 acc[R];
	size_t nb = n / SIM_QK, g;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		xp[r] = x[r];
		acc[r] = _mm512_setzero_ps();
	}
	for (g = 0; 16 * g + 16 <= nb; g++) {
		q8_0_prefetch_group(&b[16 * g]);
		q8_0_group(b, nb, g, 1, xp, acc, nx);
	}
	if (16 * g < nb) {
		q8_0_prefetch_group(&b[16 * g]);
		q8_0_group(b, nb, g, 0, xp, acc, nx);
	}
	if (nx == R)
		reduce4_ps(acc, out);
	else
		out[0] = _mm512_reduce_add_ps(acc[0]);
}

DOT_COLS(dot_q8_0_x2_cols, q8_0_rows)

/* separate functions: the 1-row one (decode) keeps a small frame */
static __attribute__((noinline)) void dot_q8_0_x2_1(size_t n, const void *w,
						     const void *const *x, float *out)
{
	q8_0_rows(n, w, x, out, 1);
}

static __attribute__((noinline)) void dot_q8_0_x2_4(size_t n, const void *w,
						     const void *const *x, float *out)
{
	q8_0_rows(n, w, x, out, R);
}

static void dot_q8_0_x2(size_t n, const void *w, const void *const *x, unsigned int nx,
			float *out)
{
	if (nx == R) {
		dot_q8_0_x2_4(n, w, x, out);
		return;
	}
	for (unsigned int r = 0; r < nx; r++)
		dot_q8_0_x2_1(n, w, x + r, out + r);
}

/*
 * Q4_0/Q5_0 four blocks at a time against struct sim_xquad_q8 rows: one
 * vpermt2w gathers the 4 x 16 quant bytes (two loads cover the 72 or 88
 * bytes; masked, so nothing past the row is read), their low nibbles pair
 * with x's lo and high nibbles with x's hi, so both dots land in the same 4
 * lanes per block; the block scales come from one more vpermt2w. Four quads
 * (16 blocks) at a time, their lanes are summed into one vector of whole
 * block sums (quad_sums4), the offsets -off * sum added, and
 * acc = fma(float(sum), dw * dx, acc) per lane: 16 partial sums, lane
 * 4k + q taking block 16g + 4q + k, combined by _mm512_reduce_add_ps
 * (docs/hardware.md: this path's order for Q4_0/Q5_0; the panel kernels
 * below compute the same). A row's last 1..15 blocks are a group with the
 * missing blocks zero (on both sides).
 */
static const uint8_t q4q_idx_qs[64] __attribute__((aligned(64))) = {
	2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
	38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
	56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71,
};
/* word 4k + q of a group's scales: block k's d (bytes BS * k) of quad q */
static const uint8_t q4q_idx_d[64] __attribute__((aligned(64))) = {
	0, 1, 0, 1, 0, 1, 0, 1, 18, 19, 18, 19, 18, 19, 18, 19,
	36, 37, 36, 37, 36, 37, 36, 37, 54, 55, 54, 55, 54, 55, 54, 55,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
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
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
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

/*
 * Four quads' block sums in one vector: quad q's lanes 4k..4k+3 hold parts of
 * block k's sum (each |part| <= 8 * 31 * 127 < 2^15, so packing to int16 is
 * exact); the result's lane 4k + q is that block's whole sum.
 */
static inline __m512i quad_sums4(__m512i s0, __m512i s1, __m512i s2, __m512i s3)
{
	const __m512i one = _mm512_set1_epi16(1);
	/* per 128-bit lane: [s0 0+1, s0 2+3, s1 0+1, s1 2+3] */
	const __m512 u01 = _mm512_castsi512_ps(_mm512_madd_epi16(_mm512_packs_epi32(s0, s1), one));
	const __m512 u23 = _mm512_castsi512_ps(_mm512_madd_epi16(_mm512_packs_epi32(s2, s3), one));

	return _mm512_add_epi32(
		_mm512_castps_si512(_mm512_shuffle_ps(u01, u23, _MM_SHUFFLE(2, 0, 2, 0))),
		_mm512_castps_si512(_mm512_shuffle_ps(u01, u23, _MM_SHUFFLE(3, 1, 3, 1))));
}

/* The first min(@valid, 64) bytes of a 64-byte load (valid may be <= 0). */
static inline __mmask64 load_mask64(ptrdiff_t valid)
{
	return _cvtu64_mask64(valid >= 64 ? ~0ull : valid <= 0 ? 0 : (1ull << valid) - 1);
}

#define Q_X4_DOT512(fn, BS, OFFI, IDXQS, IDXD, HIBITS, DWMERGE)		\
/* quad @B: nibbles in the x quads' order (lo, hi) and the block scales dw */	\
static inline __attribute__((always_inline)) void				\
fn##_unpack(const uint8_t *B, __mmask64 m0, __mmask64 m1, __m512i *lo_out,	\
	    __m512i *hi_out, __m512i *dwh, __mmask64 kq)			\
{										\
	__m512i t0 = _mm512_maskz_loadu_epi8(m0, B);				\
	/* the quad's last 8 or 24 bytes (m1 has no bit past 31): a masked	\
	 * zmm load, zero above them without the vmovdqa (a uop) that	\
	 * widening a ymm load cost */						\
	const __m512i t1 = _mm512_maskz_loadu_epi8((m1), B + 64);		\
	/* keep t0 in a register: gcc reloaded it for every vpermt2b, and	\
	 * L1 load slots bound this loop */					\
	__asm__("" : "+v"(t0));							\
	const __m512i z = _mm512_permutex2var_epi8(t0, load512(IDXQS), t1);	\
	const __m512i m4 = _mm512_set1_epi8(0x0f);				\
	__m512i lo = _mm512_and_si512(z, m4);					\
	__m512i hi = hi_nibbles512(z);						\
	HIBITS;									\
	*lo_out = lo;								\
	*hi_out = hi;								\
	DWMERGE(*dwh, kq, t0, t1, IDXD);					\
}										\
/* the partial quad @q (4 q < nb < 4 q + 4) of a row of @nb blocks, masked */	\
static inline __attribute__((always_inline)) void				\
fn##_unpack_tail(const uint8_t *B, size_t nb, size_t q, __m512i *lo, __m512i *hi, \
		 __m512i *dwh, __mmask64 kq)					\
{										\
	const size_t valid = (nb - 4 * q) * (BS);				\
	fn##_unpack(B + q * 4 * (BS), load_mask64((ptrdiff_t)valid),		\
		    load_mask64((ptrdiff_t)valid - 64), lo, hi, dwh, kq);		\
}										\
/*										\
 * Quads q..q+3 of the weights (whole if @full, else masked): nibbles, and dw	\
 * in quad_sums4's lanes.							\
 */										\
static inline __attribute__((always_inline)) __m512				\
fn##_unpack4(const uint8_t *B, size_t nb, size_t q, const int full, __m512i *lo, \
	     __m512i *hi)							\
{										\
	__m512i dwh = _mm512_setzero_si512();					\
	_Pragma("GCC unroll 4")							\
	for (int k = 0; k < 4; k++) {						\
		/* words 4j + k: quad k's scales in quad_sums4's lanes */	\
		const __mmask64 kq = _cvtu64_mask64(0x03030303ull << (2 * k));	\
		if (full || 4 * (q + k) + 4 <= nb) {				\
			fn##_unpack(B + (q + k) * 4 * (BS), ~(__mmask64)0,	\
				    _cvtu64_mask64((1ull << (4 * (BS) - 64)) - 1), \
				    &lo[k], &hi[k], &dwh, kq);			\
		} else if (4 * (q + k) < nb) {					\
			fn##_unpack_tail(B, nb, q + k, &lo[k], &hi[k], &dwh, kq); \
		} else {	/* past the end: the x quads are zero too */	\
			lo[k] = hi[k] = _mm512_setzero_si512();			\
		}								\
	}									\
	return _mm512_cvtph_ps(_mm512_castsi512_si256(dwh));			\
}										\
/* acc += a group of x quads @x against the unpacked weight quads (nk present) */ \
static inline __attribute__((always_inline)) __m512				\
fn##_acc4(__m512 acc, const __m512i *lo, const __m512i *hi, const __m512 dwv,	\
	  const struct sim_xquad_q8 *x, size_t nk)				\
{										\
	__m512i s[4];								\
	_Pragma("GCC unroll 4")							\
	for (size_t k = 0; k < 4; k++)						\
		s[k] = k < nk ? _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(	\
				_mm512_setzero_si512(), lo[k], load512(x[k].lo)), \
				hi[k], load512(x[k].hi)) : _mm512_setzero_si512(); \
	const __m512i sum = _mm512_add_epi32(quad_sums4(s[0], s[1], s[2], s[3]), \
					     load512(x[0].off[OFFI]));		\
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum),				\
			       _mm512_mul_ps(dwv, _mm512_loadu_ps(x[0].d)), acc); \
}										\
static inline __attribute__((always_inline)) void				\
fn##_x4group(const uint8_t *B, size_t nb, size_t q, const int full,		\
	     const struct sim_xquad_q8 *const *xq, __m512 *acc, const unsigned int nx) \
{										\
	__m512i lo[4], hi[4];							\
	const __m512 dwv = fn##_unpack4(B, nb, q, full, lo, hi);		\
	const size_t nk = full ? 4 : (nb - 4 * q + 3) / 4;			\
	_Pragma("GCC unroll 4")							\
	for (unsigned int r = 0; r < nx; r++)					\
		acc[r] = fn##_acc4(acc[r], lo, hi, dwv, &xq[r][q], nk);		\
}										\
/* every cache line of a group's 16 weight blocks, PF_DIST ahead */		\
static inline __attribute__((always_inline)) void				\
fn##_prefetch_group(const uint8_t *g)						\
{										\
	_Pragma("GCC unroll 6")							\
	for (int l = 0; l < (16 * (BS) + 63) / 64; l++)				\
		prefetch_w(g + 64 * l);						\
}										\
/* x rows are whole groups (zero past the end), so only weights are masked */	\
static inline __attribute__((always_inline)) void				\
fn##_x4rows(size_t n, const void *w, const void *const *x, float *out,	\
	    const unsigned int nx)						\
{										\
	const uint8_t *B = w;							\
	const struct sim_xquad_q8 *xq[R];					\
	__m512 acc[R];								\
	size_t nb = n / SIM_QK, q;						\
	_Pragma("GCC unroll 4")							\
	for (unsigned int r = 0; r < nx; r++) {					\
		xq[r] = x[r];							\
		acc[r] = _mm512_setzero_ps();					\
	}									\
	for (q = 0; 4 * q + 16 <= nb; q += 4) {					\
		fn##_prefetch_group(B + q * 4 * (BS));				\
		fn##_x4group(B, nb, q, 1, xq, acc, nx);				\
	}									\
	if (4 * q < nb) {							\
		fn##_prefetch_group(B + q * 4 * (BS));				\
		fn##_x4group(B, nb, q, 0, xq, acc, nx);				\
	}									\
	if (nx == R)								\
		reduce4_ps(acc, out);						\
	else									\
		out[0] = _mm512_reduce_add_ps(acc[0]);				\
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
	__m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();		\
	size_t nb = n / SIM_QK, q;						\
	for (q = 0; 4 * q + 16 <= nb; q += 4) {					\
		fn##_prefetch_group(B0 + q * 4 * (BS));				\
		fn##_prefetch_group(B1 + q * 4 * (BS));				\
		fn##_x4group(B0, nb, q, 1, &xq, &a, 1);				\
		fn##_x4group(B1, nb, q, 1, &xq, &b, 1);				\
	}									\
	if (4 * q < nb) {							\
		fn##_prefetch_group(B0 + q * 4 * (BS));				\
		fn##_prefetch_group(B1 + q * 4 * (BS));				\
		fn##_x4group(B0, nb, q, 0, &xq, &a, 1);				\
		fn##_x4group(B1, nb, q, 0, &xq, &b, 1);				\
	}									\
	out[0] = _mm512_reduce_add_ps(a);					\
	out[1] = _mm512_reduce_add_ps(b);					\
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

/* merge a quad's scale words into *dwh (Q4_0: all four d are in t0) */
#define DWMERGE_T0(dwh, kq, t0, t1, idx)					\
	((dwh) = _mm512_mask_permutexvar_epi8((dwh), (kq), load512(idx), (t0)))
#define DWMERGE_T01(dwh, kq, t0, t1, idx)					\
	((dwh) = _mm512_mask_mov_epi8((dwh), (kq), _mm512_permutex2var_epi8((t0), load512(idx), (t1))))

Q_X4_DOT512(dot_q4_0, 18, SIM_XQUAD_OFF8, q4q_idx_qs, q4q_idx_d, HIBITS_NONE, DWMERGE_T0)
Q_X4_DOT512(dot_q5_0, 22, SIM_XQUAD_OFF16, q5q_idx_qs, q5q_idx_d, HIBITS_Q5_0X4, DWMERGE_T01)
DOT_COLS(dot_q4_0_x4_cols, dot_q4_0_x4rows)
DOT_COLS(dot_q5_0_x4_cols, dot_q5_0_x4rows)

/*
 * Q4_0/Q5_0 (Q8_0 below) against 1-4 x rows and 1-2 weight rows in the lane
 * form (the op's last 2-3 rows after its groups of 4, Q8_0's rows from 2: a
 * batched decode step, a prefill's last rows), x as struct sim_xpanel_q8 per
 * 16 blocks of a row:
 * block i of the group in lane sim_xquad_lane(i) (the partial sum dot()
 * gives it), its quant dword t in qs[t], -off * sum in off, d in d
 * (sim_q8_to_lanes). A weight row's group is put in the same order once for
 * all x rows: 4 blocks' quants into the 128-bit lanes of one vector (one
 * vpermt2b), a 4x4 transpose of dwords across the four vectors (which puts
 * block 4j + c in lane 4c + j, the quad lane), nibbles split. A row's 16
 * block sums are then 8 vpdpbusd in its lanes, no horizontal sums, each x
 * load serving both weight rows, and acc = fma(float(sum), dw * dx, acc) per
 * lane is dot_q4_0_x4's step on the same partials: dot()'s bits. Hot, K =
 * 4096, ns per weight row and group of 16 blocks with 2 / 3 / 4 x rows:
 * dot() (a call per row below 4) Q4_0 7.5 / 11.1 / 8.5, Q5_0 11.5 / 17.0 /
 * 10.9; here 5.2 / 6.4 / 7.3 and 7.9 / 9.0 / 10.1. The weights' unpacking
 * is most of it (Q5_0: ~5.4 of the 10.1); one more x row costs ~1.1.
 */
/*
 * The gathers from 4 blocks are the quad form's (q4q_idx_qs, q5q_idx_qs:
 * block c's 16 quant bytes to 128-bit lane c; q4q_idx_d, q5q_idx_d: its d
 * to words 4c..4c+3, masked here to word 4c + j; q5q_idx_h: its qh to
 * dwords 4c..4c+3, masked to 4c + j).
 */
/*
 * _mm512_bitshuffle_epi64_mask indices: byte k of each dword lane selects
 * bit @b + k of that lane's qh (a qword holds two lanes' qh).
 */
static inline __m512i q5l_bit_idx(unsigned int b)
{
	return _mm512_set1_epi64((long long)(0x2322212003020100ull + 0x0101010101010101ull * b));
}

/*
 * The 16 blocks at @B (BS bytes each; the first @nvalid, the rest read as
 * zero) in lane order: wq[t] / wq[4 + t] the low / high nibbles of quant
 * dword t (elements 4t.. / 16 + 4t.., x's qs[t] / qs[4 + t]), Q5_0's fifth
 * bits added (@q5), and the 16 scales as f32.
 */
static inline __attribute__((always_inline)) __m512
q32_lanes_unpack(const uint8_t *B, const size_t BS, const uint8_t *idx_qs, const uint8_t *idx_d,
		 const int q5, size_t nvalid, __m512i wq[8])
{
	__m512i *const lo = wq, *const hi = wq + 4;
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	__m512i q[4], d = _mm512_setzero_si512(), h = _mm512_setzero_si512();

#pragma GCC unroll 4
	for (unsigned int j = 0; j < 4; j++) {	/* blocks 4j .. 4j + 3 */
		const ptrdiff_t left = (ptrdiff_t)(nvalid * BS) - (ptrdiff_t)(4 * BS * j);
		const __m512i w0 = _mm512_maskz_loadu_epi8(load_mask64(left), B + 4 * BS * j);
		const __m512i w1 = _mm512_maskz_loadu_epi8(
			load_mask64(left < (ptrdiff_t)(4 * BS) ? left - 64 : (ptrdiff_t)(4 * BS) - 64),
			B + 4 * BS * j + 64);

		q[j] = _mm512_permutex2var_epi8(w0, load512(idx_qs), w1);
		d = _mm512_mask_mov_epi8(d, _cvtu64_mask64(0x03030303ull << (2 * j)),
					 _mm512_permutex2var_epi8(w0, load512(idx_d), w1));
		if (q5)
			h = _mm512_mask_mov_epi8(h, _cvtu64_mask64(0x000f000f000f000full << (4 * j)),
						 _mm512_permutex2var_epi8(w0, load512(q5q_idx_h), w1));
	}
	/* q[j] 128-bit lane c: block 4j + c; transposed, dword 4c + j of r[t] */
	const __m512i a0 = _mm512_unpacklo_epi32(q[0], q[1]);
	const __m512i a1 = _mm512_unpackhi_epi32(q[0], q[1]);
	const __m512i a2 = _mm512_unpacklo_epi32(q[2], q[3]);
	const __m512i a3 = _mm512_unpackhi_epi32(q[2], q[3]);
	const __m512i r[4] = {
		_mm512_unpacklo_epi64(a0, a2), _mm512_unpackhi_epi64(a0, a2),
		_mm512_unpacklo_epi64(a1, a3), _mm512_unpackhi_epi64(a1, a3),
	};

#pragma GCC unroll 4
	for (unsigned int t = 0; t < 4; t++) {
		lo[t] = _mm512_and_si512(r[t], m4);
		hi[t] = hi_nibbles512(r[t]);
		if (q5) {
			const __m512i x10 = _mm512_set1_epi8(0x10);

			const __mmask64 blo = _mm512_bitshuffle_epi64_mask(h, q5l_bit_idx(4 * t));
			const __mmask64 bhi = _mm512_bitshuffle_epi64_mask(h, q5l_bit_idx(16 + 4 * t));

			lo[t] = _mm512_mask_add_epi8(lo[t], blo, lo[t], x10);
			hi[t] = _mm512_mask_add_epi8(hi[t], bhi, hi[t], x10);
		}
	}
	return _mm512_cvtph_ps(_mm512_castsi512_si256(d));
}

/*
 * Q8_0: the 16 blocks at @b (the first @nvalid; the rest zero) as w + 128 in
 * lane order, wq[t] quant dword t, and the scales, by q8_0_unpack_pair() (u[j]:
 * block 2j in the low 256 bits, 2j + 1 in the high; d already in the pair
 * lanes) and an 8x8 dword transpose in each half, whose last step (128-bit
 * lanes from two vectors) lands block i in lane sim_xpair_lane(i). Hot, K =
 * 4096, 2 / 3 / 4 x rows: dot() 19.4 / 27.2 / 21.9 ns a weight row and group
 * (its pair form sums each row's lanes per group), here 7.0 / 8.0 / 9.3.
 */
static inline __attribute__((always_inline)) __m512
q8_0_lanes_unpack(const struct sim_block_q8_0 *b, size_t nvalid, __m512i wq[8])
{
	__m512i u[8], t[8], v[8], dwh = _mm512_setzero_si512();

#pragma GCC unroll 8
	for (unsigned int j = 0; j < 8; j++) {
		if (2 * j + 2 <= nvalid)
			q8_0_unpack_pair(&b[2 * j], j, 3, &u[j], &dwh);
		else if (2 * j < nvalid)
			q8_0_unpack_pair(&b[2 * j], j, 1, &u[j], &dwh);
		else
			u[j] = _mm512_setzero_si512();	/* x is zero there */
	}
#pragma GCC unroll 4
	for (unsigned int k = 0; k < 8; k += 2) {
		t[k] = _mm512_unpacklo_epi32(u[k], u[k + 1]);
		t[k + 1] = _mm512_unpackhi_epi32(u[k], u[k + 1]);
	}
#pragma GCC unroll 2
	for (unsigned int k = 0; k < 8; k += 4) {	/* v[k + c]: dword 4 half-lane + c */
		v[k] = _mm512_unpacklo_epi64(t[k], t[k + 2]);
		v[k + 1] = _mm512_unpackhi_epi64(t[k], t[k + 2]);
		v[k + 2] = _mm512_unpacklo_epi64(t[k + 1], t[k + 3]);
		v[k + 3] = _mm512_unpackhi_epi64(t[k + 1], t[k + 3]);
	}
	/* v[c] 128-bit lane 2h + e: blocks h, 2 + h, 4 + h, 6 + h (v[4 + c]: + 8), dword 4e + c */
#pragma GCC unroll 4
	for (unsigned int c = 0; c < 4; c++) {
		wq[c] = _mm512_shuffle_i32x4(v[c], v[4 + c], _MM_SHUFFLE(2, 0, 2, 0));
		wq[4 + c] = _mm512_shuffle_i32x4(v[c], v[4 + c], _MM_SHUFFLE(3, 1, 3, 1));
	}
	return _mm512_cvtph_ps(_mm512_castsi512_si256(dwh));
}

/* A group of weight row @w for the lane kernels: Q4_0 (@kind 0), Q5_0 (1), Q8_0 (2). */
static inline __attribute__((always_inline)) __m512
q32_lanes_group(const uint8_t *w, const int kind, size_t nvalid, __m512i wq[8])
{
	if (kind == 2)
		return q8_0_lanes_unpack((const struct sim_block_q8_0 *)w, nvalid, wq);
	return kind ? q32_lanes_unpack(w, 22, q5q_idx_qs, q5q_idx_d, 1, nvalid, wq) :
		      q32_lanes_unpack(w, 18, q4q_idx_qs, q4q_idx_d, 0, nvalid, wq);
}

/*
 * acc[i][r] += x row r's group @x[r] against weight row i's unpacked group
 * wq[i] (i < nw, r < nx): one x load serves both weight rows (the loads,
 * two a cycle, bound the one-row form).
 */
static inline __attribute__((always_inline)) void
q32_lanes_acc(const __m512i (*wq)[8], const __m512 *dw, const struct sim_xpanel_q8 *const *x,
	      __m512 (*acc)[R], const unsigned int nw, const unsigned int nx)
{
	__m512i s[R][SIM_LANE_WROWS];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		const __m512i off = load512(x[r]->off);

#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			s[r][i] = off;
	}
	/* the nx * nw chains a step at a time: the scheduler holds them all */
#pragma GCC unroll 8
	for (unsigned int t = 0; t < 8; t++) {
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++) {
			__m512i xv = load512(x[r]->qs[t]);

			__asm__("" : "+v"(xv));	/* one load for both rows: gcc folded one into each */
#pragma GCC unroll 2
			for (unsigned int i = 0; i < nw; i++)
				s[r][i] = _mm512_dpbusd_epi32(s[r][i], wq[i][t], xv);
		}
	}
#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		const __m512 dx = _mm512_loadu_ps(x[r]->d);

#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			acc[i][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r][i]),
						    _mm512_mul_ps(dw[i], dx), acc[i][r]);
	}
}

/* out[i * nx + r] = the sum of partials acc[i][r] (dot()'s reduction) */
static inline __attribute__((always_inline)) void
lanes_out(__m512 (*acc)[R], float *out, const unsigned int nw, const unsigned int nx)
{
#pragma GCC unroll 2
	for (unsigned int i = 0; i < nw; i++) {
		if (nx == R) {
			reduce4_ps(acc[i], out + i * nx);
			continue;
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			out[i * nx + r] = reduce_add_ps_ordered(acc[i][r]);
	}
}

static inline __attribute__((always_inline)) void
q32_lanes_rows(size_t n, const uint8_t *w, size_t w_stride, const void *const *x, float *out,
	       const unsigned int nw, const unsigned int nx, const int kind)
{
	const size_t BS = kind == 2 ? 34 : kind ? 22 : 18;
	const size_t nb = n / SIM_QK;
	const struct sim_xpanel_q8 *xg[R];
	__m512 acc[SIM_LANE_WROWS][R];
	__m512i wq[SIM_LANE_WROWS][8];
	__m512 dw[SIM_LANE_WROWS];
	size_t g = 0;

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		xg[r] = x[r];
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			acc[i][r] = _mm512_setzero_ps();
	}
	for (; 16 * g + 16 <= nb; g++) {
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++) {	/* streamed: prefetch as dot() does */
#pragma GCC unroll 9
			for (size_t l = 0; l < (16 * BS + 63) / 64; l++)
				prefetch_w(w + i * w_stride + 16 * BS * g + 64 * l);
		}
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			dw[i] = q32_lanes_group(w + i * w_stride + 16 * BS * g, kind, 16, wq[i]);
		q32_lanes_acc(wq, dw, xg, acc, nw, nx);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			xg[r]++;
	}
	if (16 * g < nb) {	/* the last 1..15 blocks, zero past them (x too) */
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			for (size_t l = 0; l < ((nb - 16 * g) * BS + 63) / 64; l++)
				prefetch_w(w + i * w_stride + 16 * BS * g + 64 * l);
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			dw[i] = q32_lanes_group(w + i * w_stride + 16 * BS * g, kind, nb - 16 * g,
						wq[i]);
		q32_lanes_acc(wq, dw, xg, acc, nw, nx);
	}
	lanes_out(acc, out, nw, nx);
}

#define Q32_LANES_NX(fn, NW, NX, KIND)						\
static __attribute__((noinline)) void fn##_##NW##_##NX(size_t n, const uint8_t *w, \
		size_t w_stride, const void *const *x, float *out)		\
{										\
	q32_lanes_rows(n, w, w_stride, x, out, NW, NX, KIND);			\
}
#define Q32_LANES(fn, KIND)							\
Q32_LANES_NX(fn, 1, 1, KIND)							\
Q32_LANES_NX(fn, 1, 2, KIND)							\
Q32_LANES_NX(fn, 1, 3, KIND)							\
Q32_LANES_NX(fn, 1, 4, KIND)							\
Q32_LANES_NX(fn, 2, 1, KIND)							\
Q32_LANES_NX(fn, 2, 2, KIND)							\
Q32_LANES_NX(fn, 2, 3, KIND)							\
Q32_LANES_NX(fn, 2, 4, KIND)							\
static void fn(size_t n, const void *w, size_t w_stride, unsigned int nw,	\
	       const void *const *x, unsigned int nx, float *out)		\
{										\
	static void (*const k[2][4])(size_t, const uint8_t *, size_t,		\
				     const void *const *, float *) = {		\
		{ fn##_1_1, fn##_1_2, fn##_1_3, fn##_1_4 },			\
		{ fn##_2_1, fn##_2_2, fn##_2_3, fn##_2_4 },			\
	};									\
	k[nw - 1][nx - 1](n, w, w_stride, x, out);				\
}

Q32_LANES(dot_q4_0_lanes, 0)
Q32_LANES(dot_q5_0_lanes, 1)
Q32_LANES(dot_q8_0_lanes, 2)

/*
 * Q5_0L (ISA 1.2; hw/anpu_hwif.h): a group's 16 blocks are stored in lanes,
 * block i in lane i, so its unpacking is 4 loads of quant planes, the nibble
 * split and the fifth bits gathered from the qh vector (AVX512_BITALG): no
 * byte permutes or transposes, which are ~5.4 of Q5_0's 10.1 ns a group in
 * the lane kernel above. x is the lane form with block i in lane i
 * (SIM_LANE_BLOCK_ORDER); the partials are put into dot()'s order (partial
 * sim_xquad_lane(i) holds block i) before they are combined, so the bits are
 * those of the Q5_0 row. @g: blocks in the group (16, or the row's last
 * nb % 16: lanes past them load as zero, as x is there).
 */
static inline __attribute__((always_inline)) __m512
q5_0l_unpack(const uint8_t *G, const unsigned int g, __m512i wq[8])
{
	const __mmask16 m = (__mmask16)((1u << g) - 1);
	const __m512i m4 = _mm512_set1_epi8(0x0f), x10 = _mm512_set1_epi8(0x10);
	const __m512i h = _mm512_maskz_loadu_epi32(m, G + 16 * g);

#pragma GCC unroll 4
	for (unsigned int t = 0; t < 4; t++) {
		const __m512i r = _mm512_maskz_loadu_epi32(m, G + 4 * g * t);
		const __m512i lo = _mm512_and_si512(r, m4);
		const __m512i hi = hi_nibbles512(r);

		wq[t] = _mm512_mask_add_epi8(lo, _mm512_bitshuffle_epi64_mask(h, q5l_bit_idx(4 * t)),
					     lo, x10);
		wq[4 + t] = _mm512_mask_add_epi8(
			hi, _mm512_bitshuffle_epi64_mask(h, q5l_bit_idx(16 + 4 * t)), hi, x10);
	}
	return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, G + 20 * g));
}

/* lane L <- lane 4 (L % 4) + L / 4: block order to dot()'s partial order */
static inline __m512 q5_0l_partials(__m512 acc)
{
	return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13,
						       2, 6, 10, 14, 3, 7, 11, 15), acc);
}

#define Q5_0L_GROUP_BYTES (16 * sizeof(struct sim_block_q5_0))

/* weight rows wr[0 .. nw - 1] against x rows x[0 .. nx - 1]: out[i * nx + r] */
static inline __attribute__((always_inline)) void
q5_0l_rows(size_t n, const uint8_t *const *wr, const void *const *x, float *out,
	   const unsigned int nw, const unsigned int nx)
{
	const size_t nb = n / SIM_QK, full = nb / 16;
	const unsigned int rem = (unsigned int)(nb % 16);
	const struct sim_xpanel_q8 *xg[R];
	__m512 acc[SIM_LANE_WROWS][R];
	__m512i wq[SIM_LANE_WROWS][8];
	__m512 dw[SIM_LANE_WROWS];

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nx; r++) {
		xg[r] = x[r];
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			acc[i][r] = _mm512_setzero_ps();
	}
	for (size_t g = 0; g < full; g++) {
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++) {
#pragma GCC unroll 6
			for (size_t l = 0; l < (Q5_0L_GROUP_BYTES + 63) / 64; l++)
				prefetch_w(wr[i] + Q5_0L_GROUP_BYTES * g + 64 * l);
		}
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			dw[i] = q5_0l_unpack(wr[i] + Q5_0L_GROUP_BYTES * g, 16, wq[i]);
		q32_lanes_acc(wq, dw, xg, acc, nw, nx);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			xg[r]++;
	}
	if (rem) {	/* the row's last nb % 16 blocks (x is zero past them) */
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			for (size_t l = 0; l < (rem * sizeof(struct sim_block_q5_0) + 63) / 64; l++)
				prefetch_w(wr[i] + Q5_0L_GROUP_BYTES * full + 64 * l);
#pragma GCC unroll 2
		for (unsigned int i = 0; i < nw; i++)
			dw[i] = q5_0l_unpack(wr[i] + Q5_0L_GROUP_BYTES * full, rem, wq[i]);
		q32_lanes_acc(wq, dw, xg, acc, nw, nx);
	}
#pragma GCC unroll 2
	for (unsigned int i = 0; i < nw; i++)
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[i][r] = q5_0l_partials(acc[i][r]);
	lanes_out(acc, out, nw, nx);
}

#define Q5_0L_NX(NW, NX)							\
static __attribute__((noinline)) void q5_0l_##NW##_##NX(size_t n,		\
		const uint8_t *const *wr, const void *const *x, float *out)	\
{										\
	q5_0l_rows(n, wr, x, out, NW, NX);					\
}
Q5_0L_NX(1, 1)
Q5_0L_NX(1, 2)
Q5_0L_NX(1, 3)
Q5_0L_NX(1, 4)
Q5_0L_NX(2, 1)
Q5_0L_NX(2, 2)
Q5_0L_NX(2, 3)
Q5_0L_NX(2, 4)

static void (*const q5_0l_kernels[2][4])(size_t, const uint8_t *const *, const void *const *,
					  float *) = {
	{ q5_0l_1_1, q5_0l_1_2, q5_0l_1_3, q5_0l_1_4 },
	{ q5_0l_2_1, q5_0l_2_2, q5_0l_2_3, q5_0l_2_4 },
};

static void dot_q5_0l(size_t n, const void *w, const void *const *x, unsigned int nx,
		      float *out)
{
	const uint8_t *const wr[1] = { w };

	q5_0l_kernels[0][nx - 1](n, wr, x, out);
}

static void dot_q5_0l_w2(size_t n, const void *w0, const void *w1, const void *x, float *out)
{
	const uint8_t *const wr[2] = { w0, w1 };

	q5_0l_kernels[1][0](n, wr, &x, out);
}

static void dot_q5_0l_lanes(size_t n, const void *w, size_t w_stride, unsigned int nw,
			    const void *const *x, unsigned int nx, float *out)
{
	const uint8_t *const wr[2] = { w, nw > 1 ? (const uint8_t *)w + w_stride : NULL };

	q5_0l_kernels[nw - 1][nx - 1](n, wr, x, out);
}

/* columns two at a time: one x load serves both rows */
static void dot_q5_0l_cols(size_t n, const void *w, size_t w_stride, unsigned int ncols,
			   const void *x, float *out)
{
	const uint8_t *p = w;
	unsigned int c = 0;

	for (; c + 2 <= ncols; c += 2, p += 2 * w_stride) {
		const uint8_t *const wr[2] = { p, p + w_stride };

		q5_0l_2_1(n, wr, &x, out + c);
	}
	if (c < ncols) {
		const uint8_t *const wr[1] = { p };

		q5_0l_1_1(n, wr, &x, out + c);
	}
}


/*
 * The K-quants' f32 update is the portable path's, one per super-block and
 * row, from exact integer sums (so every path gives the same bits). With
 * R = 4 rows their horizontal sums share one reduction tree and the update
 * is one 4-lane mul/sub/add (the same IEEE operations, element-wise).
 */
_Static_assert(R == 4, "the 4-row reductions below");

/* [sum of a, of b, of c, of d] (16 int32 lanes each) */
static inline __m128i hsum4_epi32x16(__m512i a, __m512i b, __m512i c, __m512i d)
{
	const __m256i ta = _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
	const __m256i tb = _mm256_add_epi32(_mm512_castsi512_si256(b), _mm512_extracti64x4_epi64(b, 1));
	const __m256i tc = _mm256_add_epi32(_mm512_castsi512_si256(c), _mm512_extracti64x4_epi64(c, 1));
	const __m256i td = _mm256_add_epi32(_mm512_castsi512_si256(d), _mm512_extracti64x4_epi64(d, 1));
	const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(ta, tb), _mm256_hadd_epi32(tc, td));

	return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* [sum of a, of b, of c, of d] (4 int32 lanes each) */
static inline __m128i hsum4_epi32x4(__m128i a, __m128i b, __m128i c, __m128i d)
{
	return _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));
}

/*
 * One row (nx = 1): the integer sums of up to 4 super-blocks are reduced
 * together (one hsum4 instead of a reduce per block: a decode step's K-quant
 * matmuls are compute-bound), then added to @acc block by block in order with
 * the same float operations as the per-block form and the 4-row path (so the
 * rows of a prefill and a decode step stay bit-identical).
 * acc += dd[k] * sum(s[k]) - dm[k] * sum(m[k]) for k < n; @dm/@m may be NULL.
 */
static inline float kq_flush1(float acc, const __m512i *s, const __m128i *m, const float *dd,
			      const float *dm, unsigned int n)
{
	float fs[4], fm[4];

	_mm_storeu_ps(fs, _mm_cvtepi32_ps(hsum4_epi32x16(s[0], s[1], s[2], s[3])));
	if (m) {
		_mm_storeu_ps(fm, _mm_cvtepi32_ps(hsum4_epi32x4(m[0], m[1], m[2], m[3])));
		for (unsigned int k = 0; k < n; k++)
			acc += dd[k] * fs[k] - dm[k] * fm[k];
	} else {
		for (unsigned int k = 0; k < n; k++)
			acc += dd[k] * fs[k];
	}
	return acc;
}

/* the x rows' scales d of super-block i, rows 0..3 */
#define XD4(xb, i) _mm_set_ps((xb)[3][i].d, (xb)[2][i].d, (xb)[1][i].d, (xb)[0][i].d)

/* a Q4_K/Q5_K super-block's low 4 bits as bytes in element order, 64 per zmm */
static inline void kq45_nibbles(const uint8_t *qs, __m512i u[4])
{
	const __m512i m4 = _mm512_set1_epi8(0x0f);

#pragma GCC unroll 4
	for (int c = 0; c < 4; c++) {	/* [q, q >> 4] & 15 */
		const __m512i q = _mm512_broadcast_i64x4(load256(qs + 32 * c));

		u[c] = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xffff0000u, q, 4), m4);
	}
}

/* Q5_K: adds the fifth bits from qh to kq45_nibbles' bytes */
static inline void q5k_high_bits(const uint8_t *qh32, __m512i u[4])
{
	const __m256i qh = load256(qh32);

#pragma GCC unroll 4
	for (int c = 0; c < 4; c++) {
		__mmask32 lo = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * c))));
		__mmask32 hi = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(2 << (2 * c))));

		u[c] = _mm512_mask_add_epi8(u[c], _mm512_kunpackd((__mmask64)hi, (__mmask64)lo),
					   u[c], _mm512_set1_epi8(0x10));
	}
}

/* a Q6_K super-block's 6-bit quants (unsigned, before the -32) in element order */
static inline void q6k_quants(const struct sim_block_q6_K *b, __m512i u[4])
{
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	const __m512i m30 = _mm512_set1_epi8(0x30);

#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		const __m512i ql = load512(b->ql + 64 * h);
		const __m256i qh = load256(b->qh + 32 * h);
		const __m512i qh2 = join256(qh, _mm256_srli_epi16(qh, 2));

		/* (low & 15) | high bits at 4, 5: one ternary op (0xec: a & c | b) */
		u[2 * h] = _mm512_ternarylogic_epi32(ql, _mm512_and_si512(_mm512_slli_epi16(qh2, 4), m30),
						     m4, 0xec);
		u[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4),
							 _mm512_and_si512(qh2, m30), m4, 0xec);
	}
}

/*
 * The integer sums of a super-block against one x row, four chunk dots at
 * once: vpdpbusd of each 64-weight chunk from zero (every dword lane a sum of
 * 4 products, |.| <= 4 * 63 * 128 < 2^15, so packing two chunks' dwords to
 * words is exact), then for each pair of chunks one multiply-add of words
 * (vpmaddwd for the first pair, vpdpwssd adding the second) multiplies the
 * words by their sub-block's scale and adds pairs: 6 multiply-port
 * instructions per x row where vpmaddubsw + vpdpwssd per chunk took 8. @scp:
 * the scale words in the order of _mm512_packs_epi32(chunk 2p, chunk 2p + 1)
 * for pair p (kq45_pack_ctrl, q6_pack_idx). Integer sums are exact, so the
 * order does not matter. The rows512 kernels (four x rows: a batched decode
 * step's ffn_down; one: each of 1-3 rows), 4864x896 at M = 4, 2 threads,
 * weights in L3: Q4_K 81 -> 70.5 us, Q6_K 66.5 -> 65.
 */
static inline __attribute__((always_inline)) __m512i
kq_sums4(const __m512i u[4], const int8_t *xq, const __m512i scp[2])
{
	const __m512i z = _mm512_setzero_si512();
	const __m512i a0 = _mm512_dpbusd_epi32(z, u[0], load512(xq));
	const __m512i a1 = _mm512_dpbusd_epi32(z, u[1], load512(xq + 64));
	const __m512i a2 = _mm512_dpbusd_epi32(z, u[2], load512(xq + 128));
	const __m512i a3 = _mm512_dpbusd_epi32(z, u[3], load512(xq + 192));

	return _mm512_dpwssd_epi32(_mm512_madd_epi16(_mm512_packs_epi32(a0, a1), scp[0]),
				   _mm512_packs_epi32(a2, a3), scp[1]);
}

/*
 * Control of a byte shuffle of kq45_scales_mins() broadcast to 4 lanes: the
 * scale words of kq_sums4's pair @p, _mm512_packs_epi32(chunk c, chunk c + 1)
 * with c = 2p, whose 128-bit lane L holds dwords 4L..4L+3 of each (sub-block
 * 2c + L / 2, then 2c + 2 + L / 2).
 */
static inline __m512i kq45_pack_ctrl(int p)
{
	const int c = 2 * p;
	const __m128i lo = _mm_set_epi16((short)((2 * c + 2) | 0x8000), (short)((2 * c + 2) | 0x8000),
					 (short)((2 * c + 2) | 0x8000), (short)((2 * c + 2) | 0x8000),
					 (short)(2 * c | 0x8000), (short)(2 * c | 0x8000),
					 (short)(2 * c | 0x8000), (short)(2 * c | 0x8000));
	const __m128i hi = _mm_add_epi16(lo, _mm_set1_epi16(1));

	return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(lo, lo)),
				  _mm256_set_m128i(hi, hi), 1);
}

/*
 * Four rows' sums of a super-block (s[r] 16 lanes, m[r] 8) reduced to
 * [sum s[0] .. sum s[3]] and the same of m, one reduction tree for both.
 */
static inline void kq_reduce4(const __m512i *s, const __m256i *m, __m128i *ss, __m128i *ms)
{
	__m256i t[4];

#pragma GCC unroll 4
	for (int r = 0; r < 4; r++)
		t[r] = _mm256_add_epi32(_mm512_castsi512_si256(s[r]), _mm512_extracti64x4_epi64(s[r], 1));
	const __m256i ht = _mm256_hadd_epi32(_mm256_hadd_epi32(t[0], t[1]),
					     _mm256_hadd_epi32(t[2], t[3]));
	const __m256i hm = _mm256_hadd_epi32(_mm256_hadd_epi32(m[0], m[1]),
					     _mm256_hadd_epi32(m[2], m[3]));
	/* [ht lo | hm lo] + [ht hi | hm hi] */
	const __m256i sum = _mm256_add_epi32(_mm256_permute2x128_si256(ht, hm, 0x20),
					     _mm256_permute2x128_si256(ht, hm, 0x31));

	*ss = _mm256_castsi256_si128(sum);
	*ms = _mm256_extracti128_si256(sum, 1);
}

#define KQ45_DOT512(fn, BLOCK, HIBITS)						\
static inline __attribute__((always_inline)) void				\
fn##_rows512(size_t n, const void *w, const void *const *x, float *out,	\
	     const unsigned int nx)						\
{										\
	const BLOCK *b = w;							\
	const struct sim_xblock_q8K *xb[R];					\
	float acc[R];								\
	__m128 acc4 = _mm_setzero_ps();						\
	const __m512i ctl0 = kq45_pack_ctrl(0), ctl1 = kq45_pack_ctrl(1);	\
	__m512i pend_s[4] = { _mm512_setzero_si512(), _mm512_setzero_si512(),	\
			      _mm512_setzero_si512(), _mm512_setzero_si512() };	\
	__m128i pend_m[4] = { _mm_setzero_si128(), _mm_setzero_si128(),	\
			      _mm_setzero_si128(), _mm_setzero_si128() };	\
	float pend_dd[4], pend_dm[4];						\
	unsigned int np = 0;							\
	_Pragma("GCC unroll 4")							\
	for (unsigned int r = 0; r < nx; r++) {					\
		xb[r] = x[r];							\
		acc[r] = 0.0f;							\
	}									\
	for (size_t i = 0; i < n / SIM_QK_K; i++) {				\
		__m512i u[4], scp[2];						\
		prefetch_w(&b[i]);						\
		prefetch_w((const uint8_t *)&b[i] + 64);			\
		prefetch_w((const uint8_t *)&b[i] + 128);			\
		const __m128i sm = kq45_scales_mins(b[i].scales);		\
		const __m512i sm4 = _mm512_broadcast_i32x4(sm);			\
		/* min j as words 2j, 2j + 1: against bsums 2j, 2j + 1 */	\
		const __m256i mins = kq45_mins16(_mm512_castsi512_si256(sm4));	\
		scp[0] = _mm512_shuffle_epi8(sm4, ctl0);			\
		scp[1] = _mm512_shuffle_epi8(sm4, ctl1);			\
		kq45_nibbles(b[i].qs, u);					\
		HIBITS;								\
		const float d = f16_to_f32(b[i].d);				\
		const float dmin = f16_to_f32(b[i].dmin);			\
		__m512i sv[R];							\
		__m256i mv[R];							\
		_Pragma("GCC unroll 4")	/* sv[], mv[] in registers */		\
		for (unsigned int r = 0; r < nx; r++) {				\
			const struct sim_xblock_q8K *xr = &xb[r][i];		\
			sv[r] = kq_sums4(u, xr->qs, scp);			\
			mv[r] = _mm256_madd_epi16(mins, load256(xr->bsums));	\
		}								\
		/* s += d d_x * sumi - dmin d_x * mins, as the portable path */	\
		if (nx == R) {							\
			const __m128 xd = XD4(xb, i);				\
			__m128i ss, ms;						\
			kq_reduce4(sv, mv, &ss, &ms);				\
			const __m128 t1 = _mm_mul_ps(_mm_mul_ps(_mm_set1_ps(d), xd), \
						     _mm_cvtepi32_ps(ss));	\
			const __m128 t2 = _mm_mul_ps(_mm_mul_ps(_mm_set1_ps(dmin), xd), \
						     _mm_cvtepi32_ps(ms));	\
			acc4 = _mm_add_ps(acc4, _mm_sub_ps(t1, t2));		\
		} else {	/* nx = 1: 4 blocks' sums reduced at once */	\
			pend_s[np] = sv[0];					\
			pend_m[np] = _mm_add_epi32(_mm256_castsi256_si128(mv[0]), \
						   _mm256_extracti128_si256(mv[0], 1)); \
			pend_dd[np] = d * xb[0][i].d;				\
			pend_dm[np] = dmin * xb[0][i].d;			\
			if (++np == 4) {					\
				acc[0] = kq_flush1(acc[0], pend_s, pend_m, pend_dd, pend_dm, 4); \
				np = 0;						\
			}							\
		}								\
	}									\
	if (nx == R) {								\
		_mm_storeu_ps(out, acc4);					\
		return;								\
	}									\
	out[0] = np ? kq_flush1(acc[0], pend_s, pend_m, pend_dd, pend_dm, np) : acc[0]; \
}

#define HIBITS_Q5_K q5k_high_bits(b[i].qh, u)

KQ45_DOT512(dot_q4_K, struct sim_block_q4_K, HIBITS_NONE)
KQ45_DOT512(dot_q5_K, struct sim_block_q5_K, HIBITS_Q5_K)

/* qword k of the vector: word index @i[k] four times (a _mm512_permutexvar_epi16 control) */
static inline __m512i word_idx_qwords(const int i[8])
{
	uint64_t q[8];

	for (int k = 0; k < 8; k++)
		q[k] = 0x0001000100010001ull * (uint64_t)i[k];
	return _mm512_loadu_si512(q);
}

/* Q6_K chunk g's scale words: its 128-bit lane L is sub-block 4g + L */
static inline __m512i q6_idx(int g)
{
	const int i[8] = { 4 * g, 4 * g, 4 * g + 1, 4 * g + 1, 4 * g + 2, 4 * g + 2, 4 * g + 3, 4 * g + 3 };

	return word_idx_qwords(i);
}

/*
 * Word indices into a Q6_K block's 16 scales for kq_sums4's pair @p of chunks
 * (2p, 2p + 1): chunk g's 128-bit lane L is its sub-block 4g + L (16
 * elements each), so lane L of the pack takes scale 8p + L, then 8p + 4 + L.
 */
static inline __m512i q6_pack_idx(int p)
{
	const int i[8] = { 8 * p, 8 * p + 4, 8 * p + 1, 8 * p + 5,
			   8 * p + 2, 8 * p + 6, 8 * p + 3, 8 * p + 7 };

	return word_idx_qwords(i);
}

static inline __attribute__((always_inline)) void
dot_q6_K_rows512(size_t n, const void *w, const void *const *x, float *out,
		 const unsigned int nx)
{
	const struct sim_block_q6_K *b = w;
	const struct sim_xblock_q8K *xb[R];
	float acc[R];
	__m128 acc4 = _mm_setzero_ps();
	const __m512i idx0 = q6_pack_idx(0), idx1 = q6_pack_idx(1);
	__m512i pend_s[4] = { _mm512_setzero_si512(), _mm512_setzero_si512(),
			      _mm512_setzero_si512(), _mm512_setzero_si512() };
	float pend_dd[4];
	unsigned int np = 0;

	for (unsigned int r = 0; r < nx; r++) {
		xb[r] = x[r];
		acc[r] = 0.0f;
	}
	for (size_t i = 0; i < n / SIM_QK_K; i++) {
		__m512i u[4], scp[2];

		prefetch_w(&b[i]);
		prefetch_w((const uint8_t *)&b[i] + 64);
		prefetch_w((const uint8_t *)&b[i] + 128);
		prefetch_w((const uint8_t *)&b[i] + 192);
		q6k_quants(&b[i], u);
		const __m256i sc16y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b[i].scales));
		const __m512i sc16 = _mm512_castsi256_si512(sc16y);

		scp[0] = _mm512_permutexvar_epi16(idx0, sc16);
		scp[1] = _mm512_permutexvar_epi16(idx1, sc16);
		const float d = f16_to_f32(b[i].d);
		__m512i sv[R];

#pragma GCC unroll 4	/* sv[] in registers */
		for (unsigned int r = 0; r < nx; r++) {
			const struct sim_xblock_q8K *xr = &xb[r][i];
			const __m512i s = kq_sums4(u, xr->qs, scp);
			__m256i offs = _mm256_madd_epi16(sc16y, load256(xr->bsums));

			/* zext: a cast leaves the upper 256 bits undefined */
			sv[r] = _mm512_sub_epi32(s, _mm512_zextsi256_si512(_mm256_slli_epi32(offs, 5)));
		}
		/* s += d d_x * (sumi - 32 offs), as the portable path */
		if (nx == R) {
			acc4 = _mm_add_ps(acc4, _mm_mul_ps(_mm_mul_ps(_mm_set1_ps(d), XD4(xb, i)),
				_mm_cvtepi32_ps(hsum4_epi32x16(sv[0], sv[1], sv[2], sv[3]))));
		} else {	/* nx = 1: 4 blocks' sums reduced at once */
			pend_s[np] = sv[0];
			pend_dd[np] = d * xb[0][i].d;
			if (++np == 4) {
				acc[0] = kq_flush1(acc[0], pend_s, NULL, pend_dd, NULL, 4);
				np = 0;
			}
		}
	}
	if (nx == R) {
		_mm_storeu_ps(out, acc4);
		return;
	}
	out[0] = np ? kq_flush1(acc[0], pend_s, NULL, pend_dd, NULL, np) : acc[0];
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

/*
 * Decode (M = 1) columns of K-quant weights, four weight rows per step. The
 * one-row kernel spent as much on its per-super-block glue as on the dot
 * products (the scales and mins unpacked in xmm, two f16 scales, the
 * reduction of kq_flush1); here four rows share the x vectors, one zmm
 * unpacking of their scales and mins, the mins' products and one 4-lane f32
 * update, lane r for row r with kq_flush1's operations in its order (so
 * each row keeps dot()'s bits). Quants are unpacked from 64-byte loads, two
 * chunks at a time: vector k holds sub-blocks 2k - k % 2 and that + 2 (0|2,
 * 1|3, 4|6, 5|7), x loaded in the same order. Columns past a multiple of 4
 * take the one-row kernel. Q4_K, ns per 32 weights: hot (L2) at K = 1536
 * 1.06 -> 0.68; streamed, one process per core, K = 1024 / 1536 / 4864 /
 * 8960: 1.06 / 1.12 / 1.09 / 1.09 -> 0.86 / 0.84 / 0.78 / 0.79 (with
 * kq_cols_prefetch, kernels_x86.inc). Q6_K below in the same form.
 */

/* kq45_scales_mins() (kernels_x86.inc) of four blocks, block r in 128-bit lane r */
static inline __m512i kq45_scales_mins4(const uint8_t *const sc12[4])
{
	const __m512i v = join256(
		_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)sc12[0])),
					_mm_loadu_si128((const __m128i *)sc12[1]), 1),
		_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)sc12[2])),
					_mm_loadu_si128((const __m128i *)sc12[3]), 1));
	const __m512i a = _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(
		_mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)));
	const __m512i b = _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(
		_mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7)));
	const __m512i lo = _mm512_and_si512(_mm512_mask_blend_epi16(0xc0c0c0c0u, a, _mm512_srli_epi16(a, 4)),
		_mm512_broadcast_i32x4(_mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15,
						      63, 63, 63, 63, 15, 15, 15, 15)));

	return _mm512_or_si512(lo, _mm512_and_si512(_mm512_srli_epi16(b, 2), _mm512_set1_epi8(0x30)));
}

/* scale words of sub-block a for the low 256 bits, b for the high, from a kq45_scales_mins lane */
static inline __m512i kq45_sc_ctrl2(int a, int b)
{
	const __m128i lo = _mm_set1_epi16((short)(a | 0x8000));
	const __m128i hi = _mm_set1_epi16((short)(b | 0x8000));

	return join256(_mm256_set_m128i(lo, lo), _mm256_set_m128i(hi, hi));
}

/* x's quants of super-block @xr in the pairs of sub-blocks above */
static inline void kq45_x_pairs(const struct sim_xblock_q8K *xr, __m512i xv[4])
{
#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		xv[2 * h] = join256(load256(xr->qs + 128 * h), load256(xr->qs + 128 * h + 64));
		xv[2 * h + 1] = join256(load256(xr->qs + 128 * h + 32), load256(xr->qs + 128 * h + 96));
	}
}

/* a Q4_K/Q5_K super-block's low 4 bits in the pairs of sub-blocks above */
static inline void kq45_nibble_pairs(const uint8_t *qs, __m512i u[4])
{
	const __m512i m4 = _mm512_set1_epi8(0x0f);

#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		const __m512i q = load512(qs + 64 * h);

		u[2 * h] = _mm512_and_si512(q, m4);
		u[2 * h + 1] = hi_nibbles512(q);
	}
}

/* Q5_K: the fifth bits (qh bit 2c: chunk c's first 32 elements, 2c + 1: its last) */
static inline void q5k_high_bit_pairs(const uint8_t *qh32, __m512i u[4])
{
	const __m256i qh = load256(qh32);

#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {
		const int bit = (k & 1) + 4 * (k >> 1);	/* of the low sub-block; the high: + 2 */
		__mmask32 lo = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << bit)));
		__mmask32 hi = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(4 << bit)));

		u[k] = _mm512_mask_add_epi8(u[k], _mm512_kunpackd((__mmask64)hi, (__mmask64)lo),
					    u[k], _mm512_set1_epi8(0x10));
	}
}

#define HIBITS_PAIRS_Q5_K(b) q5k_high_bit_pairs((b)->qh, u)
#define HIBITS_PAIRS_NONE(b) (void)0

#define KQ45_COLS512(fn, BLOCK, HIBITS, ONE_ROW)				\
static inline __attribute__((always_inline)) __m512i				\
fn##_isum(const BLOCK *b, const __m512i xv[4], const __m512i ctl[4], __m512i sm) \
{										\
	__m512i u[4];								\
	kq45_nibble_pairs(b->qs, u);						\
	HIBITS(b);								\
	/* two integer chains (exact: any order, same sum) */			\
	__m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(),		\
		_mm512_maddubs_epi16(u[0], xv[0]), _mm512_shuffle_epi8(sm, ctl[0])); \
	__m512i s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(),		\
		_mm512_maddubs_epi16(u[1], xv[1]), _mm512_shuffle_epi8(sm, ctl[1])); \
	s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(u[2], xv[2]),		\
				_mm512_shuffle_epi8(sm, ctl[2]));		\
	s1 = _mm512_dpwssd_epi32(s1, _mm512_maddubs_epi16(u[3], xv[3]),	\
				 _mm512_shuffle_epi8(sm, ctl[3]));		\
	return _mm512_add_epi32(s, s1);						\
}										\
static void fn(size_t n, const void *w, size_t w_stride, unsigned int ncols,	\
	       const void *x, float *out)					\
{										\
	const struct sim_xblock_q8K *xb = x;					\
	const __m512i ctl[4] = { kq45_sc_ctrl2(0, 2), kq45_sc_ctrl2(1, 3),	\
				 kq45_sc_ctrl2(4, 6), kq45_sc_ctrl2(5, 7) };	\
	const __m512i mins_idx = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0,	\
						   0, 0, 0, 0, 0, 0, 0, 0);	\
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
			const uint8_t *const sc12[R] = { b[0][i].scales, b[1][i].scales, \
							 b[2][i].scales, b[3][i].scales }; \
			__m512i xv[4];						\
										\
			kq45_x_pairs(xr, xv);					\
			kq_cols_prefetch(b[0], pf_ahead, i, R * sizeof(BLOCK));	\
			const __m512i sm = kq45_scales_mins4(sc12);		\
			const __m128i s4 = hsum4_epi32x16(			\
				fn##_isum(&b[0][i], xv, ctl, _mm512_shuffle_i32x4(sm, sm, 0x00)), \
				fn##_isum(&b[1][i], xv, ctl, _mm512_shuffle_i32x4(sm, sm, 0x55)), \
				fn##_isum(&b[2][i], xv, ctl, _mm512_shuffle_i32x4(sm, sm, 0xaa)), \
				fn##_isum(&b[3][i], xv, ctl, _mm512_shuffle_i32x4(sm, sm, 0xff))); \
			/* mins (bytes 8..15 of each lane) . x's 32-element sums */ \
			const __m256i bs = load256(xr->bsums);			\
			const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(bs), \
							     _mm256_extracti128_si256(bs, 1)); \
			__m512i mz = _mm512_madd_epi16(_mm512_unpackhi_epi8(sm, _mm512_setzero_si512()), \
						       _mm512_broadcast_i32x4(pairs)); \
			mz = _mm512_add_epi32(mz, _mm512_shuffle_epi32(mz, _MM_PERM_BADC)); \
			mz = _mm512_add_epi32(mz, _mm512_shuffle_epi32(mz, _MM_PERM_CDAB)); \
			const __m128i m4 = _mm512_castsi512_si128(_mm512_permutexvar_epi32(mins_idx, mz)); \
			acc = kq45_update4(acc, &b[0][i], &b[1][i], &b[2][i], &b[3][i], xr->d, s4, m4); \
		}								\
		_mm_storeu_ps(out + c, acc);					\
	}									\
	if (c < ncols)	/* the rest one row at a time */			\
		ONE_ROW(n, (const uint8_t *)w + c * w_stride, w_stride, ncols - c, x, out + c); \
}

DOT_COLS(dot_q4_K_512_cols1, dot_q4_K_rows512)
DOT_COLS(dot_q5_K_512_cols1, dot_q5_K_rows512)
DOT_COLS(dot_q6_K_512_cols1, dot_q6_K_rows512)

KQ45_COLS512(dot_q4_K_512_cols, struct sim_block_q4_K, HIBITS_PAIRS_NONE, dot_q4_K_512_cols1)
KQ45_COLS512(dot_q5_K_512_cols, struct sim_block_q5_K, HIBITS_PAIRS_Q5_K, dot_q5_K_512_cols1)

static inline __attribute__((always_inline)) __m512i
dot_q6_K_isum(const struct sim_block_q6_K *b, const __m512i xv[4], const __m512i idx[4],
	      __m256i bsums)
{
	const __m256i sc16y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
	const __m512i sc16 = _mm512_castsi256_si512(sc16y);
	__m512i u[4];

	q6k_quants(b, u);
	/* two integer chains (exact: any order, same sum) */
	__m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(u[0], xv[0]),
					_mm512_permutexvar_epi16(idx[0], sc16));
	__m512i s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(u[1], xv[1]),
					 _mm512_permutexvar_epi16(idx[1], sc16));
	s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(u[2], xv[2]), _mm512_permutexvar_epi16(idx[2], sc16));
	s1 = _mm512_dpwssd_epi32(s1, _mm512_maddubs_epi16(u[3], xv[3]),
				 _mm512_permutexvar_epi16(idx[3], sc16));
	s = _mm512_add_epi32(s, s1);
	/* the quants' -32: sumi - 32 * sum(scale * bsum) */
	const __m256i offs = _mm256_madd_epi16(sc16y, bsums);

	return _mm512_sub_epi32(s, _mm512_zextsi256_si512(_mm256_slli_epi32(offs, 5)));
}

/*
 * Q6_K columns, four rows a step as above (one row: dot_q6_K_rows512): hot,
 * K = 1536, 1.04 -> 0.78 ns per 32 weights. Inside the two-thread matmul
 * the gain depends on the bandwidth the host has at the moment: 8960x1536
 * 34 -> 35 GB/s or 37 -> 50, the lm_head 1536x151936 35 -> 33 or 42 -> 53;
 * Qwen2.5-1.5B Q4_K_M decode, five interleaved pairs: best 35.9 -> 38.0 tok/s.
 */
static void dot_q6_K_512_cols(size_t n, const void *w, size_t w_stride, unsigned int ncols,
			      const void *x, float *out)
{
	const struct sim_xblock_q8K *xb = x;
	const __m512i idx[4] = { q6_idx(0), q6_idx(1), q6_idx(2), q6_idx(3) };
	const size_t pf_ahead = kq_cols_pf_ahead(w_stride);
	unsigned int c = 0;

	for (; c + R <= ncols; c += R) {
		const struct sim_block_q6_K *b[R];
		__m128 acc = _mm_setzero_ps();

		for (unsigned int r = 0; r < R; r++)
			b[r] = (const void *)((const uint8_t *)w + (c + r) * w_stride);
		for (size_t i = 0; i < n / SIM_QK_K; i++) {
			const struct sim_xblock_q8K *xr = &xb[i];
			const __m256i bsums = load256(xr->bsums);
			__m512i xv[4], sv[R];

#pragma GCC unroll 4
			for (int g = 0; g < 4; g++)
				xv[g] = load512(xr->qs + 64 * g);
			kq_cols_prefetch(b[0], pf_ahead, i, R * sizeof(struct sim_block_q6_K));
#pragma GCC unroll 4	/* sv[] in registers */
			for (unsigned int r = 0; r < R; r++)
				sv[r] = dot_q6_K_isum(&b[r][i], xv, idx, bsums);
			acc = kq6_update4(acc, b, i, xr->d, hsum4_epi32x16(sv[0], sv[1], sv[2], sv[3]));
		}
		_mm_storeu_ps(out + c, acc);
	}
	if (c < ncols)	/* the rest one row at a time */
		dot_q6_K_512_cols1(n, (const uint8_t *)w + c * w_stride, w_stride, ncols - c, x, out + c);
}

/* the 4 bytes at @p in every dword */
static inline __m512i bcast32(const void *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return _mm512_set1_epi32(v);
}

/*
 * Q4_KL (hw/anpu_hwif.h): 16 weight rows a vector, row l in dword lane l, so
 * a group's block dword p is one 64-byte load and nothing is reduced
 * across lanes: per 64 bytes of quants two vpdpbusd (the low nibbles and,
 * masked in place, the high ones: 16 times their value) against x's
 * broadcast dwords, per sub-block one vpmulld by its scale (the low
 * sub-block's times 16, so sumi is 16 times dot()'s, exactly: srai 4), the
 * mins as word pairs by vpdpwssd, then each lane takes the four-row
 * kernels' f32 step. Integer sums are exact and the f32 step per block is
 * dot()'s, so each lane has its Q4_K row's bits. Hot, K = 1024, one
 * thread: 2x the rate of dot_q4_K_512_cols (four Q4_K rows a step, each
 * reduced across lanes).
 */
#define KL_UNIT (ANPU_Q4_KL_GROUP * sizeof(struct sim_block_q4_K))	/* a block of 16 rows */
#ifndef KL_PF_UNITS
#define KL_PF_UNITS 4	/* blocks of 16 rows prefetched ahead (into L2) */
#endif

/* sc[j]: sub-block j's scale per lane, the even (low-nibble) ones times 16; mp[c]: mins 2c | 2c+1 << 16 */
static inline __attribute__((always_inline)) void
q4kl_scales(const uint8_t *u, __m512i sc[8], __m512i mp[4])
{
	const __m512i v0 = load512(u + 64), v1 = load512(u + 128), v2 = load512(u + 192);
	const __m512i m6 = _mm512_set1_epi32(63), m4 = _mm512_set1_epi32(15);
	const __m512i m30 = _mm512_set1_epi32(0x30);
	__m512i mn[8];

#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {	/* j = k and k + 4 (sim_q4k_scale_min) */
		sc[k] = _mm512_and_si512(_mm512_srli_epi32(v0, 8 * k), m6);
		mn[k] = _mm512_and_si512(_mm512_srli_epi32(v1, 8 * k), m6);
		sc[k + 4] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v2, 8 * k), m4),
					    _mm512_and_si512(_mm512_srli_epi32(v0, 8 * k + 2), m30));
		mn[k + 4] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v2, 8 * k + 4), m4),
					    _mm512_and_si512(_mm512_srli_epi32(v1, 8 * k + 2), m30));
	}
#pragma GCC unroll 4
	for (int c = 0; c < 4; c++) {
		sc[2 * c] = _mm512_slli_epi32(sc[2 * c], 4);
		mp[c] = _mm512_or_si512(mn[2 * c], _mm512_slli_epi32(mn[2 * c + 1], 16));
	}
}

static inline __attribute__((always_inline)) void
q4kl_groups(size_t n, const uint8_t *w, unsigned int ngroups, const void *const *x,
	    const unsigned int nx, float *out)
{
	const size_t nsb = n / SIM_QK_K;
	const __m512i m4 = _mm512_set1_epi8(0x0f);

	for (unsigned int g = 0; g < ngroups; g++) {
		__m512 acc[R];

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[r] = _mm512_setzero_ps();
		for (size_t i = 0; i < nsb; i++) {
			const uint8_t *u = w + (g * nsb + i) * KL_UNIT;
			__m512i sc[8], mp[4], lo[R], hi[R], sumi[R];

#pragma GCC unroll 36
			for (unsigned int o = 0; o < KL_UNIT; o += 64)
				prefetch_l2(u + KL_PF_UNITS * KL_UNIT + o);
			q4kl_scales(u, sc, mp);
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++)
				sumi[r] = _mm512_setzero_si512();
#pragma GCC unroll 4
			for (int c = 0; c < 4; c++) {
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++)
					lo[r] = hi[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
				for (int t = 0; t < 8; t++) {
					const __m512i q = load512(u + 256 + 64 * (8 * c + t));
					const __m512i ql = _mm512_and_si512(q, m4);
					const __m512i qh = _mm512_andnot_si512(m4, q);

#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++) {
						const int8_t *xq = ((const struct sim_xblock_q8K *)x[r])[i].qs +
								   64 * c + 4 * t;

						lo[r] = _mm512_dpbusd_epi32(lo[r], ql, bcast32(xq));
						hi[r] = _mm512_dpbusd_epi32(hi[r], qh, bcast32(xq + 32));
					}
				}
#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++)
					sumi[r] = _mm512_add_epi32(sumi[r], _mm512_add_epi32(
						_mm512_mullo_epi32(lo[r], sc[2 * c]),
						_mm512_mullo_epi32(hi[r], sc[2 * c + 1])));
			}
			const __m512i dw = load512(u);	/* d | dmin << 16 per lane */
			const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dw));
			const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dw, 16)));

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++) {
				const struct sim_xblock_q8K *xr = &((const struct sim_xblock_q8K *)x[r])[i];
				/* x's 32-element sums as words, sub-blocks 2c | 2c + 1 in dword c */
				const __m256i bs = _mm256_madd_epi16(load256(xr->bsums), _mm256_set1_epi16(1));
				const __m128i bp = _mm_packs_epi32(_mm256_castsi256_si128(bs),
								   _mm256_extracti128_si256(bs, 1));
				const __m512 xd = _mm512_set1_ps(xr->d);
				__m512i mins = _mm512_setzero_si512();
				int32_t bpd[4];

				_mm_storeu_si128((__m128i *)bpd, bp);
#pragma GCC unroll 4
				for (int c = 0; c < 4; c++)
					mins = _mm512_dpwssd_epi32(mins, mp[c], _mm512_set1_epi32(bpd[c]));
				sumi[r] = _mm512_srai_epi32(sumi[r], 4);
				acc[r] = _mm512_add_ps(acc[r], _mm512_sub_ps(
					_mm512_mul_ps(_mm512_mul_ps(d, xd), _mm512_cvtepi32_ps(sumi[r])),
					_mm512_mul_ps(_mm512_mul_ps(dmin, xd), _mm512_cvtepi32_ps(mins))));
			}
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			_mm512_storeu_ps(out + (size_t)r * ANPU_Q4_KL_GROUP * ngroups +
					 ANPU_Q4_KL_GROUP * g, acc[r]);
	}
}

GROUPS_BY_NX(dot_q4_kl_groups, q4kl_groups)

/*
 * Q6_KL (hw/anpu_hwif.h), the same way: per 4 x dwords of a half's 32
 * elements, one ql dword of the low and one of the high 32 bytes and the qh
 * dword make the 6-bit quants of 4 sub-blocks (each nibble ORed with its two
 * bits moved to bits 4-5 by GF2P8AFFINEQB: 9 ops for four vpdpbusd's
 * operands, 13 with shifts and masks, ~1.3x slower with the weights in L2), a vpmulld
 * per sub-block by its scale (int8 in the scale dwords, sign-extended), the
 * -32 offset as word pairs of scales (vpdpwssd) against x's 16-element sums,
 * then each lane dot()'s f32 step d d_x (sumi - 32 offs). Exact integer sums
 * and dot()'s f32 step: each lane has its Q6_K row's bits.
 */
#define KL6_UNIT (ANPU_Q4_KL_GROUP * sizeof(struct sim_block_q6_K))	/* a block of 16 rows */

/* bits 2k, 2k + 1 of every byte to bits 4, 5, the rest clear: one GF2P8AFFINEQB */
static inline __m512i qh_bits_to_45(__m512i qh, int k)
{
	/* output bit i takes the input bits set in byte 7 - i of the matrix */
	return _mm512_gf2p8affine_epi64_epi8(qh, _mm512_set1_epi64(
		(long long)((0x02ull << (2 * k)) << 16 | (0x01ull << (2 * k)) << 24)), 0);
}

static inline __attribute__((always_inline)) void
q6kl_groups(size_t n, const uint8_t *w, unsigned int ngroups, const void *const *x,
	    const unsigned int nx, float *out)
{
	const size_t nsb = n / SIM_QK_K;
	const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);

	for (unsigned int g = 0; g < ngroups; g++) {
		__m512 acc[R];

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[r] = _mm512_setzero_ps();
		for (size_t i = 0; i < nsb; i++) {
			const uint8_t *u = w + (g * nsb + i) * KL6_UNIT;
			__m512i sumi[R], offs[R];

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++)
				sumi[r] = offs[r] = _mm512_setzero_si512();
#pragma GCC unroll 2
			for (int h = 0; h < 2; h++)
#pragma GCC unroll 2
				for (int f = 0; f < 2; f++) {	/* sub-blocks 8h + f + 2k, k = 0 .. 3 */
					__m512i sb[R][4];

					/* a quarter of the block 16 rows ahead a step, not all at once */
					for (unsigned int o = 896u * (2 * h + f); o < 896u * (2 * h + f) + 896 &&
					     o < KL6_UNIT; o += 64)
						prefetch_l2(u + KL_PF_UNITS * KL6_UNIT + o);

#pragma GCC unroll 4
					for (unsigned int r = 0; r < nx; r++)
						sb[r][0] = sb[r][1] = sb[r][2] = sb[r][3] =
							_mm512_setzero_si512();
#pragma GCC unroll 4
					for (int t = 4 * f; t < 4 * f + 4; t++) {
						const __m512i qa = load512(u + 64 * (16 * h + t));
						const __m512i qb = load512(u + 64 * (16 * h + 8 + t));
						const __m512i qh = load512(u + 64 * (32 + 8 * h + t));
						const __m512i q[4] = {	/* nibble | 2 bits in bits 4, 5 */
							_mm512_ternarylogic_epi32(qa, m4, qh_bits_to_45(qh, 0), 0xea),
							_mm512_ternarylogic_epi32(qb, m4, qh_bits_to_45(qh, 1), 0xea),
							_mm512_ternarylogic_epi32(hi_nibbles512(qa), qh, m30, 0xf8),
							_mm512_or_si512(hi_nibbles512(qb), qh_bits_to_45(qh, 3)),
						};

#pragma GCC unroll 4
						for (unsigned int r = 0; r < nx; r++) {
							const int8_t *xq = ((const struct sim_xblock_q8K *)x[r])[i].qs +
									   128 * h + 4 * t;

#pragma GCC unroll 4
							for (int k = 0; k < 4; k++)
								sb[r][k] = _mm512_dpbusd_epi32(sb[r][k], q[k],
											       bcast32(xq + 32 * k));
						}
					}
#pragma GCC unroll 4
					for (int k = 0; k < 4; k++) {	/* sub-block j's int8 scale */
						const int j = 8 * h + f + 2 * k;
						const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(
							load512(u + 64 * (48 + j / 4)), 24 - 8 * (j % 4)), 24);

#pragma GCC unroll 4
						for (unsigned int r = 0; r < nx; r++)
							sumi[r] = _mm512_add_epi32(sumi[r],
										   _mm512_mullo_epi32(sb[r][k], sc));
					}
				}
#pragma GCC unroll 4
			for (int k = 0; k < 4; k++) {	/* scales 4k, 4k + 2 | 4k + 1, 4k + 3 as words */
				const __m512i v = load512(u + 64 * (48 + k));
				const __m512i even = _mm512_srai_epi16(_mm512_slli_epi16(v, 8), 8);
				const __m512i odd = _mm512_srai_epi16(v, 8);

#pragma GCC unroll 4
				for (unsigned int r = 0; r < nx; r++) {
					const int16_t *bs = ((const struct sim_xblock_q8K *)x[r])[i].bsums + 4 * k;

					offs[r] = _mm512_dpwssd_epi32(offs[r], even,
								      _mm512_set1_epi32(q6kl_bsum_pair(bs, 0)));
					offs[r] = _mm512_dpwssd_epi32(offs[r], odd,
								      _mm512_set1_epi32(q6kl_bsum_pair(bs, 1)));
				}
			}
			const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(
				(const __m256i *)(u + 64 * ANPU_Q6_KL_DWORDS)));

#pragma GCC unroll 4
			for (unsigned int r = 0; r < nx; r++) {
				const __m512 xd = _mm512_set1_ps(((const struct sim_xblock_q8K *)x[r])[i].d);

				acc[r] = _mm512_add_ps(acc[r], _mm512_mul_ps(_mm512_mul_ps(d, xd),
					_mm512_cvtepi32_ps(_mm512_sub_epi32(sumi[r],
									     _mm512_slli_epi32(offs[r], 5)))));
			}
		}
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			_mm512_storeu_ps(out + (size_t)r * ANPU_Q4_KL_GROUP * ngroups +
					 ANPU_Q4_KL_GROUP * g, acc[r]);
	}
}

GROUPS_BY_NX(dot_q6_kl_groups, q6kl_groups)

/*
 * Q4_0L (hw/anpu_hwif.h), the same way: per block, its 4 quant dwords of 16
 * rows (one 64-byte load each) split into low and high nibbles, two
 * vpdpbusd each against x's broadcast dwords (elements 4t.. and 16 + 4t..),
 * the -8 offset through x's sum as the sum's start; then each lane dot()'s
 * f32 step: fma(f32(sumi), d d_x) into the row's partial sum of the block
 * (the 16 partials of docs/hardware.md 10.4 are 16 vectors, a row a lane),
 * and the partials added pairwise in dot()'s order. Exact integer sums and
 * dot()'s order of f32 steps: each lane has its Q4_0 row's bits. Hot, two
 * threads, Zen 4: 1.7-2.1x the rate of the four-row Q4_0 kernels at the
 * Qwen2.5-0.5B decode shapes (no sums across lanes, no quad unpacking).
 */
#define KL40_UNIT (ANPU_Q4_KL_GROUP * sizeof(struct sim_block_q4_0))	/* a block of 16 rows */
#ifndef KL40_PF_UNITS
#define KL40_PF_UNITS 16	/* blocks of 16 rows prefetched ahead (into L2) */
#endif

/* acc += block @b (at @u) of 16 rows against x row block @xb */
static inline __attribute__((always_inline)) __m512
q40l_block(__m512 acc, const uint8_t *u, const struct sim_xblock_q8 *xb)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	__m512i lo = _mm512_set1_epi32(-8 * xb->sum), hi = _mm512_setzero_si512();

#pragma GCC unroll 4
	for (int t = 0; t < 4; t++) {
		const __m512i q = load512(u + 64 * t);

		lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(q, m4), bcast32(xb->qs + 4 * t));
		hi = _mm512_dpbusd_epi32(hi, hi_nibbles512(q), bcast32(xb->qs + 16 + 4 * t));
	}
	const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)
							    (u + 64 * ANPU_Q4_0L_DWORDS)));

	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, hi)),
			       _mm512_mul_ps(d, _mm512_set1_ps(xb->d)), acc);
}

/*
 * Blocks 16 s .. 16 s + @nblk - 1 of a group (@w: its first byte) for @nx x
 * rows; block 16 s + j goes to partial sim_xquad_lane(j), a constant here.
 */
static inline __attribute__((always_inline)) void
q40l_blocks16(const uint8_t *w, size_t s, const void *const *x, const unsigned int nx,
	      __m512 acc[][16], const unsigned int nblk)
{
#pragma GCC unroll 16
	for (unsigned int j = 0; j < 16; j++) {
		const uint8_t *u = w + (16 * s + j) * KL40_UNIT;

		if (j >= nblk)
			break;
		for (unsigned int o = 0; o < KL40_UNIT; o += 64)
			prefetch_l2(u + KL40_PF_UNITS * KL40_UNIT + o);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			acc[r][sim_xquad_lane(j)] = q40l_block(acc[r][sim_xquad_lane(j)], u,
							       (const struct sim_xblock_q8 *)x[r] + 16 * s + j);
	}
}

/* The 16 partials of each lane added pairwise (i + 8, i + 4, then (0 + 2) + (1 + 3)). */
static inline __attribute__((always_inline)) __m512 q40l_reduce(const __m512 *p)
{
	__m512 a[8];

#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		a[i] = _mm512_add_ps(p[i], p[i + 8]);
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
		a[i] = _mm512_add_ps(a[i], a[i + 4]);
	return _mm512_add_ps(_mm512_add_ps(a[0], a[2]), _mm512_add_ps(a[1], a[3]));
}

static inline __attribute__((always_inline)) void
q40l_groups(size_t n, const uint8_t *w, unsigned int ngroups, const void *const *x,
	    const unsigned int nx, float *out)
{
	const size_t nb = n / SIM_QK;

	for (unsigned int g = 0; g < ngroups; g++) {
		const uint8_t *gw = w + g * nb * KL40_UNIT;
		__m512 acc[R][16];
		size_t s;

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
#pragma GCC unroll 16
			for (int i = 0; i < 16; i++)
				acc[r][i] = _mm512_setzero_ps();
		for (s = 0; 16 * s + 16 <= nb; s++)
			q40l_blocks16(gw, s, x, nx, acc, 16);
		if (16 * s < nb)
			q40l_blocks16(gw, s, x, nx, acc, (unsigned int)(nb - 16 * s));
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nx; r++)
			_mm512_storeu_ps(out + (size_t)r * ANPU_Q4_KL_GROUP * ngroups +
					 ANPU_Q4_KL_GROUP * g, q40l_reduce(acc[r]));
	}
}

GROUPS_BY_NX(dot_q4_0l_groups, q40l_groups)

/*
 * K-quant panels (prefill): one x row per 32-bit lane, 16 rows per zmm
 * (struct sim_xpanel_q8K), so each vpdpbusd is 4 quants of one weight row
 * (broadcast) against 4 of each of 16 x rows, and the scales, the min or
 * offset correction and the f32 update are done for 16 rows at once. The
 * four-row kernels above spend ~2 instructions per vpdpbusd-worth on
 * unpacking, maddubs/dpwssd and reductions; here the weights of up to
 * PANEL_SB super-blocks of SIM_DOT_MAX_ROWS rows are unpacked once into
 * struct kq_unpacked and then serve every panel of the batch. Integer sums
 * are exact and the f32 update per super-block and row is the four-row
 * path's (d * d_x) * sumi - (dmin * d_x) * mins, added in super-block order,
 * so the bits are dot()'s.
 */
#define PANEL_SB 8

struct kq_unpacked {
	uint8_t q[SIM_QK_K];	/* quants in element order, unsigned */
	int32_t sc[16];		/* scale of each sub-block (Q4_K/Q5_K: 8 of 32 elements) */
	int32_t pair[8];	/* int16 pairs: Q4_K/Q5_K mins (4), Q6_K scales (8) */
	float d, dmin;
} __attribute__((aligned(64)));

/* Q4_K/Q5_K scales and mins from the block's 12 bytes (16 read, see above) */
static inline void kq45_unpack_scales(const uint8_t *sc12, struct kq_unpacked *u)
{
	const __m128i sm = kq45_scales_mins(sc12);

	_mm512_store_si512(u->sc, _mm512_cvtepu8_epi32(sm));
	_mm_store_si128((__m128i *)u->pair, _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)));
}

static inline void kq_store_quants(struct kq_unpacked *u, const __m512i q[4])
{
	for (int c = 0; c < 4; c++)
		_mm512_store_si512(u->q + 64 * c, q[c]);
}

/* Q4_K and Q5_K share the block's fields; @qh: Q5_K's fifth bits, or NULL */
static inline void kq45_unpack(const uint8_t *qs, const uint8_t *qh, const uint8_t *scales,
			       uint16_t d, uint16_t dmin, struct kq_unpacked *u)
{
	__m512i q[4];

	kq45_nibbles(qs, q);
	if (qh)
		q5k_high_bits(qh, q);
	kq_store_quants(u, q);
	kq45_unpack_scales(scales, u);
	u->d = f16_to_f32(d);
	u->dmin = f16_to_f32(dmin);
}

static inline void q4k_unpack(const void *row, size_t i, struct kq_unpacked *u)
{
	const struct sim_block_q4_K *b = (const struct sim_block_q4_K *)row + i;

	kq45_unpack(b->qs, NULL, b->scales, b->d, b->dmin, u);
}

static inline void q5k_unpack(const void *row, size_t i, struct kq_unpacked *u)
{
	const struct sim_block_q5_K *b = (const struct sim_block_q5_K *)row + i;

	kq45_unpack(b->qs, b->qh, b->scales, b->d, b->dmin, u);
}

static inline void q6k_unpack(const void *row, size_t i, struct kq_unpacked *u)
{
	const struct sim_block_q6_K *b = (const struct sim_block_q6_K *)row + i;
	const __m128i sc8 = _mm_loadu_si128((const __m128i *)b->scales);
	__m512i q[4];

	q6k_quants(b, q);
	kq_store_quants(u, q);
	_mm512_store_si512(u->sc, _mm512_cvtepi8_epi32(sc8));
	_mm256_store_si256((__m256i *)u->pair, _mm256_cvtepi8_epi16(sc8));
	u->d = f16_to_f32(b->d);
	u->dmin = 0.0f;
}

/*
 * acc[k][r] += super-block xs[k] of panel k against row r's unpacked block
 * u[r * PANEL_SB], r < nw, k < np. Sub-blocks of 32 (Q4_K/Q5_K) or 16 (Q6_K)
 * quants: 2 nw vpdpbusd chains (latency: one a row is half the core's rate),
 * two a row for one panel, one a row and panel for two (each broadcast weight
 * dword then serves both), then sumi * scale into S.
 */
static inline __attribute__((always_inline)) void
kq_panel_sb(const struct kq_unpacked *u, const struct sim_xpanel_q8K *const *xs,
	    __m512 (*acc)[SIM_DOT_MAX_ROWS], const unsigned int nw, const unsigned int np,
	    const int q6)
{
	const unsigned int per = q6 ? 4 : 8, nsub = q6 ? 16 : 8, nch = 2 / np;
	__m512i S[2][SIM_DOT_MAX_ROWS];

#pragma GCC unroll 2
	for (unsigned int k = 0; k < np; k++)
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++)
			S[k][r] = _mm512_setzero_si512();
	for (unsigned int j = 0; j < nsub; j++) {
		__m512i s[2][SIM_DOT_MAX_ROWS];	/* [chain, or panel][row] */

#pragma GCC unroll 2
		for (unsigned int c = 0; c < 2; c++)
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nw; r++)
				s[c][r] = _mm512_setzero_si512();
#pragma GCC unroll 8
		for (unsigned int t = 0; t < per; t++) {
			const unsigned int g = j * per + t;
			__m512i xv[2];

#pragma GCC unroll 2
			for (unsigned int k = 0; k < np; k++)
				xv[k] = load512(xs[k]->qs[g]);
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nw; r++) {
				const __m512i wv = bcast32(u[r * PANEL_SB].q + 4 * g);

#pragma GCC unroll 2
				for (unsigned int k = 0; k < np; k++) {
					const unsigned int c = nch == 2 ? t % 2 : k;

					s[c][r] = _mm512_dpbusd_epi32(s[c][r], wv, xv[k]);
				}
			}
		}
#pragma GCC unroll 2
		for (unsigned int k = 0; k < np; k++)
#pragma GCC unroll 4
			for (unsigned int r = 0; r < nw; r++) {
				const __m512i sum = nch == 2 ? _mm512_add_epi32(s[0][r], s[1][r]) : s[k][r];

				S[k][r] = _mm512_add_epi32(S[k][r], _mm512_mullo_epi32(sum,
							   _mm512_set1_epi32(u[r * PANEL_SB].sc[j])));
			}
	}
#pragma GCC unroll 2
	for (unsigned int k = 0; k < np; k++) {
		const __m512 xd = _mm512_load_ps(xs[k]->d);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++) {
			const struct kq_unpacked *ur = &u[r * PANEL_SB];
			__m512i m = _mm512_setzero_si512();
			__m512 t;

			if (q6) {	/* sumi - 32 * sum(sc * bsum16) */
#pragma GCC unroll 8
				for (int i = 0; i < 8; i++)
					m = _mm512_dpwssd_epi32(m, load512(xs[k]->bsum16[i]),
								_mm512_set1_epi32(ur->pair[i]));
				t = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ur->d), xd),
						  _mm512_cvtepi32_ps(_mm512_sub_epi32(S[k][r],
										      _mm512_slli_epi32(m, 5))));
			} else {	/* (d * d_x) * sumi - (dmin * d_x) * sum(m * bsum32) */
#pragma GCC unroll 4
				for (int i = 0; i < 4; i++)
					m = _mm512_dpwssd_epi32(m, load512(xs[k]->bsum32[i]),
								_mm512_set1_epi32(ur->pair[i]));
				t = _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ur->d), xd),
								_mm512_cvtepi32_ps(S[k][r])),
						  _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(ur->dmin), xd),
								_mm512_cvtepi32_ps(m)));
			}
			acc[k][r] = _mm512_add_ps(acc[k][r], t);
		}
	}
}

typedef void (*kq_unpack_fn)(const void *row, size_t i, struct kq_unpacked *u);

static inline __attribute__((always_inline)) void
kq_panel(size_t n, const uint8_t *w, size_t w_stride, const unsigned int nw,
	 const struct sim_xpanel_q8K *x, unsigned int npanels, float *out,
	 const kq_unpack_fn unpack, const int q6)
{
	struct kq_unpacked ub[SIM_DOT_MAX_ROWS * PANEL_SB];
	const size_t nsb = n / SIM_QK_K;

	for (unsigned int i = 0; i < nw * npanels; i++)
		_mm512_storeu_ps(out + SIM_PANEL_ROWS * i, _mm512_setzero_ps());
	for (size_t s0 = 0; s0 < nsb; s0 += PANEL_SB) {
		const unsigned int cnt = nsb - s0 < PANEL_SB ? (unsigned int)(nsb - s0) : PANEL_SB;

		for (unsigned int r = 0; r < nw; r++)
			for (unsigned int i = 0; i < cnt; i++)
				unpack(w + r * w_stride, s0 + i, &ub[r * PANEL_SB + i]);
		for (unsigned int p = 0; p < npanels;) {
			const unsigned int np = npanels - p >= 2 ? 2 : 1;
			__m512 acc[2][SIM_DOT_MAX_ROWS];

			for (unsigned int k = 0; k < np; k++)
				for (unsigned int r = 0; r < nw; r++)
					acc[k][r] = _mm512_loadu_ps(out + SIM_PANEL_ROWS *
								    (r * npanels + p + k));
			for (unsigned int i = 0; i < cnt; i++) {
				const struct sim_xpanel_q8K *const xs[2] = {
					&x[p * nsb + s0 + i], &x[(p + np - 1) * nsb + s0 + i] };

				if (np == 2)
					kq_panel_sb(&ub[i], xs, acc, nw, 2, q6);
				else
					kq_panel_sb(&ub[i], xs, acc, nw, 1, q6);
			}
			for (unsigned int k = 0; k < np; k++)
				for (unsigned int r = 0; r < nw; r++)
					_mm512_storeu_ps(out + SIM_PANEL_ROWS * (r * npanels + p + k),
							 acc[k][r]);
			p += np;
		}
	}
}

DOT_PANEL(dot_q4_K_panel, kq_panel, q4k_unpack, 0)
DOT_PANEL(dot_q5_K_panel, kq_panel, q5k_unpack, 0)
DOT_PANEL(dot_q6_K_panel, kq_panel, q6k_unpack, 1)

/*
 * Q4_0/Q5_0 panels: struct sim_xpanel_q8 per block, x rows in lanes as for
 * the K-quants. A block's sum for 16 rows is the rows' -off * sum plus 8
 * vpdpbusd of broadcast weight quads, then the M = 1 kernels' step
 * part = fma(float(sum), dw * dx, part) on partial sum 4k + q of block
 * 16g + 4q + k, and the 16 partials are combined as _mm512_reduce_add_ps
 * does, so the bits are dot()'s. Weights are unpacked (bytes in element
 * order) PANEL_B blocks at a time; the partials live in memory.
 */
#define PANEL_B 16

/* byte 2w + e of word w (4j + c): block c's d byte e in a quad's first 64 bytes */
static const uint8_t q4g_idx_d[64] __attribute__((aligned(64))) = {
#define Q4G_D4(c) 18 * (c), 18 * (c) + 1
#define Q4G_D16 Q4G_D4(0), Q4G_D4(1), Q4G_D4(2), Q4G_D4(3)
	Q4G_D16, Q4G_D16, Q4G_D16, Q4G_D16, Q4G_D16, Q4G_D16, Q4G_D16, Q4G_D16,
#undef Q4G_D16
#undef Q4G_D4
};

/*
 * Blocks @b0 .. @b0 + @g - 1 of a Q4_0 row (g <= 16, a panel step) as the
 * panel kernel takes them: each block's 32 quants 0..15 in element order in
 * q[i], its d as f32 in dw[i]. Four blocks at a time: one vpermt2b puts each
 * block's 16 quant bytes in a 128-bit lane (the decode kernels' quad
 * gather), the nibbles are split and two vpermt2q interleave them into
 * blocks of 32; the scales gather into one vector of words, converted once.
 * Blocks past @g come out zero (unused). A block at a time (a scalar f16
 * conversion each) the unpacking was ~12% of a prefill MATMUL's time on an
 * Intel core.
 */
static inline void q4_0_unpack_group(const uint8_t *row, size_t b0, unsigned int g,
				     uint8_t (*q)[SIM_QK], float *dw)
{
	const uint8_t *B = row + b0 * sizeof(struct sim_block_q4_0);
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	const __m512i lo01 = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
	const __m512i lo23 = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
	__m512i dwh = _mm512_setzero_si512();

#pragma GCC unroll 4
	for (unsigned int j = 0; j < 4; j++) {	/* blocks 4j .. 4j + 3 */
		const ptrdiff_t valid = ((ptrdiff_t)g - 4 * (ptrdiff_t)j) * 18;

		if (valid <= 0)
			break;

		const __m512i t0 = _mm512_maskz_loadu_epi8(load_mask64(valid), B + 72 * j);
		const __m512i t1 = _mm512_maskz_loadu_epi8(load_mask64(valid - 64),
							    B + 72 * j + 64);
		const __m512i z = _mm512_permutex2var_epi8(t0, load512(q4q_idx_qs), t1);
		const __m512i lo = _mm512_and_si512(z, m4), hi = hi_nibbles512(z);

		_mm512_store_si512(q[4 * j], _mm512_permutex2var_epi64(lo, lo01, hi));
		_mm512_store_si512(q[4 * j + 2], _mm512_permutex2var_epi64(lo, lo23, hi));
		dwh = _mm512_mask_permutexvar_epi8(dwh, _cvtu64_mask64(0xffull << (8 * j)),
						   load512(q4g_idx_d), t0);
	}
	_mm512_storeu_ps(dw, _mm512_cvtph_ps(_mm512_castsi512_si256(dwh)));
}

static inline void q5_0_unpack_blk(const void *row, size_t i, uint8_t *q, float *dw)
{
	const struct sim_block_q5_0 *b = (const struct sim_block_q5_0 *)row + i;
	const __m128i v = _mm_loadu_si128((const __m128i *)b->qs);
	const __m256i lo = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v),
					     _mm256_set1_epi8(0x0f));
	uint32_t qh;

	memcpy(&qh, b->qh, sizeof(qh));	/* bit j: the fifth bit of element j */
	_mm256_storeu_si256((__m256i *)q, _mm256_mask_add_epi8(lo, (__mmask32)qh, lo,
								_mm256_set1_epi8(0x10)));
	*dw = f16_to_f32(b->d);
}

/*
 * A whole Q5_0L group (16 blocks at @G) in the panel kernels' form: the four
 * quant planes transposed to blocks (block 4k + j in 128-bit lane k of e[j],
 * two unpacks of dwords and two of qwords), then nibbles, fifth bits by bit
 * gathers from each block's qh and the scales: a group of ~80 instructions,
 * where 16 gathered blocks took ~400.
 */
typedef void (*q32_unpack_group_fn)(const uint8_t *row, size_t b0, unsigned int g,
				    uint8_t (*q)[SIM_QK], float *dw);

_Static_assert(PANEL_B == ANPU_Q5_0L_GROUP, "a panel step's blocks are one Q5_0L group");

/*
 * The group at block @b0 of @row, @g blocks (16, or a row's last nb % 16):
 * lanes past them load as zero, unused.
 */
static inline void q5_0l_unpack_group(const uint8_t *row, size_t b0, unsigned int g,
				      uint8_t (*q)[SIM_QK], float *dw)
{
	const uint8_t *G = row + b0 * sizeof(struct sim_block_q5_0);
	const __mmask16 m = (__mmask16)((1u << g) - 1);
	const __m512i m4 = _mm512_set1_epi8(0x0f), x10 = _mm512_set1_epi8(0x10);
	const __m512i p0 = _mm512_maskz_loadu_epi32(m, G);
	const __m512i p1 = _mm512_maskz_loadu_epi32(m, G + 4 * g);
	const __m512i p2 = _mm512_maskz_loadu_epi32(m, G + 8 * g);
	const __m512i p3 = _mm512_maskz_loadu_epi32(m, G + 12 * g);
	const __m512i qh = _mm512_maskz_loadu_epi32(m, G + 16 * g);
	const __m512i a = _mm512_unpacklo_epi32(p0, p1), b = _mm512_unpackhi_epi32(p0, p1);
	const __m512i c = _mm512_unpacklo_epi32(p2, p3), d = _mm512_unpackhi_epi32(p2, p3);
	const __m512i e[4] = {
		_mm512_unpacklo_epi64(a, c), _mm512_unpackhi_epi64(a, c),
		_mm512_unpacklo_epi64(b, d), _mm512_unpackhi_epi64(b, d),
	};

#pragma GCC unroll 4
	for (int j = 0; j < 4; j++) {
		/* block 4k + j's qh in both qwords of lane k */
		const __m512i h = _mm512_permutexvar_epi32(
			_mm512_add_epi32(_mm512_set1_epi32(j),
					 _mm512_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8,
							   12, 12, 12, 12)), qh);
		__m512i lo = _mm512_and_si512(e[j], m4);
		__m512i hi = hi_nibbles512(e[j]);

		lo = _mm512_mask_add_epi8(lo, _mm512_bitshuffle_epi64_mask(h, load512(q5q_bits_lo)),
					  lo, x10);
		hi = _mm512_mask_add_epi8(hi, _mm512_bitshuffle_epi64_mask(h, load512(q5q_bits_hi)),
					  hi, x10);
		/* 128-bit lane k: block 4k + j (extract indices must be constants) */
#define Q5L_STORE_LANE(k) do {								\
			if (4u * (k) + (unsigned int)j < g) {					\
				_mm_store_si128((__m128i *)(void *)q[4 * (k) + j],		\
						_mm512_extracti32x4_epi32(lo, k));		\
				_mm_store_si128((__m128i *)(void *)(q[4 * (k) + j] + 16),	\
						_mm512_extracti32x4_epi32(hi, k));		\
			}									\
		} while (0)
		Q5L_STORE_LANE(0);
		Q5L_STORE_LANE(1);
		Q5L_STORE_LANE(2);
		Q5L_STORE_LANE(3);
#undef Q5L_STORE_LANE
	}
	_mm512_mask_storeu_ps(dw, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, G + 20 * g)));
}

typedef void (*q32_unpack_fn)(const void *row, size_t i, uint8_t *q, float *dw);

/*
 * A block's term for partial @part of a row: blocks 0..15 are their partials'
 * first terms (fma with 0, nothing read: no zeroing pass per call), later
 * ones add to them in block order.
 */
static inline __m512 q32_panel_term(__m512 sum, __m512 scale, const __m512 *part, size_t b)
{
	return _mm512_fmadd_ps(sum, scale, b < 16 ? _mm512_setzero_ps() : *part);
}

/*
 * A row of fewer than 16 blocks leaves partials that no block starts (which
 * ones depends on the dtype's lane order): all zeroed first, for the finish.
 */
static inline void q32_panel_zero_unstarted(__m512 (*part)[SIM_DOT_MAX_ROWS][16], unsigned int nw,
					    unsigned int npanels, size_t nb)
{
	for (unsigned int p = 0; nb < 16 && p < npanels; p++)
		for (unsigned int r = 0; r < nw; r++)
			for (int l = 0; l < 16; l++)
				part[p][r][l] = _mm512_setzero_ps();
}

/*
 * part[k][r][lane] += block b of weight row r against block xb[k] of panel
 * k, for rows r < nw and panels k < np: np = 2 gives 2 nw chains of eight
 * vpdpbusd (one latency-bound chain a row is half the core's rate) and each
 * broadcast weight dword serves both panels. Row r's quants are the dwords
 * at wq + r * wq_stride, its scale dw[r * PANEL_B]. Q8_0 (@x_biased): x is
 * the unsigned operand (x + 128) and the sums start at wstart[r * PANEL_B];
 * Q4_0/Q5_0: the weights' unpacked 0..31 are, and the sums start at the
 * panel's off.
 */
static inline __attribute__((always_inline)) void
q32_panel_blk(const uint8_t *wq, size_t wq_stride, const int32_t *wstart, const float *dw,
	      const struct sim_xpanel_q8 *const *xb, size_t b, __m512 (*const *part)[16],
	      const unsigned int nw, const unsigned int np, const int x_biased)
{
	__m512i s[2][SIM_DOT_MAX_ROWS];
	const unsigned int lane = x_biased ? sim_xpair_lane(b) : sim_xquad_lane(b);

#pragma GCC unroll 4
	for (unsigned int r = 0; r < nw; r++)
#pragma GCC unroll 2
		for (unsigned int k = 0; k < np; k++)
			s[k][r] = x_biased ? _mm512_set1_epi32(wstart[r * PANEL_B]) : load512(xb[k]->off);
#pragma GCC unroll 8
	for (int g = 0; g < SIM_QK / 4; g++) {
		__m512i xv[2];

#pragma GCC unroll 2
		for (unsigned int k = 0; k < np; k++)
			xv[k] = load512(xb[k]->qs[g]);
#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++) {
			const __m512i wv = bcast32(wq + r * wq_stride + 4 * g);

#pragma GCC unroll 2
			for (unsigned int k = 0; k < np; k++)
				s[k][r] = x_biased ? _mm512_dpbusd_epi32(s[k][r], xv[k], wv) :
						     _mm512_dpbusd_epi32(s[k][r], wv, xv[k]);
		}
	}
#pragma GCC unroll 2
	for (unsigned int k = 0; k < np; k++) {
		const __m512 dx = _mm512_load_ps(xb[k]->d);

#pragma GCC unroll 4
		for (unsigned int r = 0; r < nw; r++)
			part[k][r][lane] = q32_panel_term(_mm512_cvtepi32_ps(s[k][r]),
							  _mm512_mul_ps(_mm512_set1_ps(dw[r * PANEL_B]), dx),
							  &part[k][r][lane], b);
	}
}

/*
 * The blocks b0 .. b0 + cnt - 1 of every panel: pairs of panels, then the
 * odd one. @wq, @wq_stride: the first block's quants, as for q32_panel_blk().
 */
static inline __attribute__((always_inline)) void
q32_panel_blocks(const uint8_t *wq, size_t wq_stride, size_t wq_step, const int32_t *wstart,
		 const float *dw, const struct sim_xpanel_q8 *x, size_t nb, size_t b0,
		 unsigned int cnt, __m512 (*part)[SIM_DOT_MAX_ROWS][16], unsigned int npanels,
		 const unsigned int nw, const int x_biased)
{
	unsigned int p = 0;

	for (; p + 2 <= npanels; p += 2) {
		__m512 (*const pp[2])[16] = { part[p], part[p + 1] };

		for (unsigned int i = 0; i < cnt; i++) {
			const struct sim_xpanel_q8 *const xb[2] = { &x[p * nb + b0 + i],
								     &x[(p + 1) * nb + b0 + i] };

			q32_panel_blk(wq + i * wq_step, wq_stride, x_biased ? wstart + i : NULL,
				      dw + i, xb, b0 + i, pp, nw, 2, x_biased);
		}
	}
	for (; p < npanels; p++) {
		__m512 (*const pp[1])[16] = { part[p] };

		for (unsigned int i = 0; i < cnt; i++) {
			const struct sim_xpanel_q8 *const xb[1] = { &x[p * nb + b0 + i] };

			q32_panel_blk(wq + i * wq_step, wq_stride, x_biased ? wstart + i : NULL,
				      dw + i, xb, b0 + i, pp, nw, 1, x_biased);
		}
	}
}

/* out = the partials of each panel and row combined as _mm512_reduce_add_ps does */
static inline void q32_panel_finish(__m512 (*part)[SIM_DOT_MAX_ROWS][16], unsigned int nw,
				    unsigned int npanels, float *out)
{
	for (unsigned int p = 0; p < npanels; p++) {
		for (unsigned int r = 0; r < nw; r++) {
			__m512 t[8];

			/*
			 * i + (i + 8), i + (i + 4), (0 + 2) + (1 + 3); unrolled so
			 * t stays in registers (a loop kept it in memory: with K =
			 * 896 the finish was ~11% of a prefill MATMUL, Intel)
			 */
#pragma GCC unroll 8
			for (int l = 0; l < 8; l++)
				t[l] = _mm512_add_ps(part[p][r][l + 8], part[p][r][l]);
#pragma GCC unroll 4
			for (int l = 0; l < 4; l++)
				t[l] = _mm512_add_ps(t[l + 4], t[l]);
			_mm512_storeu_ps(out + SIM_PANEL_ROWS * (r * npanels + p),
					 _mm512_add_ps(_mm512_add_ps(t[0], t[2]), _mm512_add_ps(t[1], t[3])));
		}
	}
}

static inline __attribute__((always_inline)) void
q32_panel(size_t n, const uint8_t *w, size_t w_stride, const unsigned int nw,
	  const struct sim_xpanel_q8 *x, unsigned int npanels, float *out,
	  const q32_unpack_fn unpack, const q32_unpack_group_fn unpack_group)
{
	uint8_t uq[SIM_DOT_MAX_ROWS][PANEL_B][SIM_QK] __attribute__((aligned(64)));
	float dw[SIM_DOT_MAX_ROWS][PANEL_B];
	__m512 part[SIM_PANEL_MAX][SIM_DOT_MAX_ROWS][16];	/* [panel][row][lane] */
	const size_t nb = n / SIM_QK;

	q32_panel_zero_unstarted(part, nw, npanels, nb);
	for (size_t b0 = 0; b0 < nb; b0 += PANEL_B) {
		const unsigned int cnt = nb - b0 < PANEL_B ? (unsigned int)(nb - b0) : PANEL_B;

		for (unsigned int r = 0; r < nw; r++) {
			if (unpack_group) {	/* b0: a group's first block */
				unpack_group(w + r * w_stride, b0, cnt, uq[r], dw[r]);
				continue;
			}
			for (unsigned int i = 0; i < cnt; i++)
				unpack(w + r * w_stride, b0 + i, uq[r][i], &dw[r][i]);
		}
		q32_panel_blocks(uq[0][0], sizeof(uq[0]), SIM_QK, NULL, dw[0], x, nb, b0, cnt, part,
				 npanels, nw, 0);
	}
	q32_panel_finish(part, nw, npanels, out);
}

/*
 * A panel step's Q8_0 starts and scales: for blocks i < @g (16 at most) at
 * @b, wstart[i] = -128 * the sum of block i's quants and dw[i] its d as
 * f32 (lanes past @g: 0, unused). Sixteen sums at once: two blocks a zmm,
 * their quants summed four at a time by one vpdpbusd with ones, then the
 * sixteen lanes of each block added across the eight vectors (two 128-bit
 * shuffles, a dword and a qword unpack: a block's eight partials meet in a
 * lane, block 4m + l in dword 4l + m, which vpermd puts in block order).
 * The scales are copied to a row of words and converted at once. A block
 * at a time (a vpsadbw, its extracts, a scalar f16 conversion each) this was
 * 18% of the panel kernel's time on an Intel core, whose 512-bit uops have
 * two ports.
 */
static inline void q8_0_panel_starts(const struct sim_block_q8_0 *b, unsigned int g,
				     int32_t *wstart, float *dw)
{
	const __m512i ones = _mm512_set1_epi8(1);
	uint16_t d[PANEL_B] __attribute__((aligned(32))) = { 0 };
	__m512i s[8], u[4];

#pragma GCC unroll 8
	for (unsigned int k = 0; k < 8; k++) {	/* blocks 2k (low half), 2k + 1 */
		const __m256i lo = 2 * k < g ? load256(b[2 * k].qs) : _mm256_setzero_si256();
		const __m256i hi = 2 * k + 1 < g ? load256(b[2 * k + 1].qs) : _mm256_setzero_si256();

		s[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, join256(lo, hi));
	}
#pragma GCC unroll 4
	for (unsigned int m = 0; m < 4; m++)	/* 128-bit lane l: block 4m + l's four partials */
		u[m] = _mm512_add_epi32(_mm512_shuffle_i32x4(s[2 * m], s[2 * m + 1], 0x88),
					_mm512_shuffle_i32x4(s[2 * m], s[2 * m + 1], 0xdd));
	const __m512i p = _mm512_add_epi32(_mm512_unpacklo_epi32(u[0], u[1]),
					   _mm512_unpackhi_epi32(u[0], u[1]));
	const __m512i q = _mm512_add_epi32(_mm512_unpacklo_epi32(u[2], u[3]),
					   _mm512_unpackhi_epi32(u[2], u[3]));
	const __m512i sum = _mm512_permutexvar_epi32(
		_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15),
		_mm512_add_epi32(_mm512_unpacklo_epi64(p, q), _mm512_unpackhi_epi64(p, q)));

	_mm512_storeu_si512(wstart, _mm512_sub_epi32(_mm512_setzero_si512(),
						     _mm512_slli_epi32(sum, 7)));
	for (unsigned int i = 0; i < g; i++)
		d[i] = b[i].d;
	_mm512_storeu_ps(dw, _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(void *)d)));
}

/*
 * Q8_0 panels: x is stored as x + 128 (unsigned), so a weight dword is the
 * signed operand and broadcasts straight from the block; each block's sum
 * starts at -128 * sum(w) and is then exactly dot_q8_0_x2's. The f32 steps
 * are the M = 1 kernel's, on partial sim_xpair_lane(b).
 */
static inline __attribute__((always_inline)) void
q8_0_panel(size_t n, const uint8_t *w, size_t w_stride, const unsigned int nw,
	   const struct sim_xpanel_q8 *x, unsigned int npanels, float *out)
{
	int32_t wstart[SIM_DOT_MAX_ROWS][PANEL_B];
	float dw[SIM_DOT_MAX_ROWS][PANEL_B];
	__m512 part[SIM_PANEL_MAX][SIM_DOT_MAX_ROWS][16];	/* [panel][row][lane] */
	const size_t nb = n / SIM_QK;

	q32_panel_zero_unstarted(part, nw, npanels, nb);
	for (size_t b0 = 0; b0 < nb; b0 += PANEL_B) {
		const unsigned int cnt = nb - b0 < PANEL_B ? (unsigned int)(nb - b0) : PANEL_B;

		for (unsigned int r = 0; r < nw; r++)
			q8_0_panel_starts((const struct sim_block_q8_0 *)(const void *)(w + r * w_stride) +
					  b0, cnt, wstart[r], dw[r]);
		q32_panel_blocks(w + b0 * sizeof(struct sim_block_q8_0) +
				 offsetof(struct sim_block_q8_0, qs), w_stride,
				 sizeof(struct sim_block_q8_0), wstart[0], dw[0], x, nb, b0, cnt, part,
				 npanels, nw, 1);
	}
	q32_panel_finish(part, nw, npanels, out);
}

DOT_PANEL(dot_q8_0_panel, q8_0_panel)
DOT_PANEL(dot_q4_0_panel, q32_panel, NULL, q4_0_unpack_group)
DOT_PANEL(dot_q5_0_panel, q32_panel, q5_0_unpack_blk, NULL)
DOT_PANEL(dot_q5_0l_panel, q32_panel, NULL, q5_0l_unpack_group)

const struct sim_kernels sim_kernels_avx512 = {
	.name = "avx512",
	SIM_X86_KERNELS_COMMON,
	.dot[ANPU_DTYPE_Q4_0] = dot_q4_0_x4,
	.dot[ANPU_DTYPE_Q5_0] = dot_q5_0_x4,
	.dot[ANPU_DTYPE_Q8_0] = dot_q8_0_x2,
	.dot[ANPU_DTYPE_Q4_K] = dot_q4_K_512,
	.dot[ANPU_DTYPE_Q5_K] = dot_q5_K_512,
	.dot[ANPU_DTYPE_Q6_K] = dot_q6_K_512,
	.dot_cols[ANPU_DTYPE_Q4_0] = dot_q4_0_x4_cols,
	.dot_cols[ANPU_DTYPE_Q5_0] = dot_q5_0_x4_cols,
	.dot_cols[ANPU_DTYPE_Q8_0] = dot_q8_0_x2_cols,
	.dot_cols[ANPU_DTYPE_Q4_K] = dot_q4_K_512_cols,
	.dot_cols[ANPU_DTYPE_Q5_K] = dot_q5_K_512_cols,
	.dot_cols[ANPU_DTYPE_Q6_K] = dot_q6_K_512_cols,
	.dot_w2[ANPU_DTYPE_Q4_0] = dot_q4_0_w2,
	.dot_w2[ANPU_DTYPE_Q5_0] = dot_q5_0_w2,
	.dot_lanes[ANPU_DTYPE_Q4_0] = dot_q4_0_lanes,
	.dot_lanes[ANPU_DTYPE_Q5_0] = dot_q5_0_lanes,
	.dot_lanes[ANPU_DTYPE_Q8_0] = dot_q8_0_lanes,
	.dot[ANPU_DTYPE_Q5_0L] = dot_q5_0l,
	.dot_w2[ANPU_DTYPE_Q5_0L] = dot_q5_0l_w2,
	.dot_cols[ANPU_DTYPE_Q5_0L] = dot_q5_0l_cols,
	.dot_lanes[ANPU_DTYPE_Q5_0L] = dot_q5_0l_lanes,
	.dot_panel[ANPU_DTYPE_Q5_0L] = dot_q5_0l_panel,
	.dot_panel[ANPU_DTYPE_Q8_0] = dot_q8_0_panel,
	.dot_panel[ANPU_DTYPE_Q4_0] = dot_q4_0_panel,
	.dot_panel[ANPU_DTYPE_Q5_0] = dot_q5_0_panel,
	.dot_panel[ANPU_DTYPE_Q4_K] = dot_q4_K_panel,
	.dot_groups[ANPU_DTYPE_Q4_KL] = dot_q4_kl_groups,
	.dot_groups[ANPU_DTYPE_Q6_KL] = dot_q6_kl_groups,
	.dot_groups[ANPU_DTYPE_Q4_0L] = dot_q4_0l_groups,
	.dot_panel[ANPU_DTYPE_Q5_K] = dot_q5_K_panel,
	.dot_panel[ANPU_DTYPE_Q6_K] = dot_q6_K_panel,
	.att_scores_qt = att_scores_qt,
	.att_qt_transpose = att_qt_transpose,
};

#undef R
