/* SPDX-License-Identifier: MIT */
/*
 * SIMD kernel dispatch: the inner loops of the weight ops and of ATTENTION.
 *
 * One struct sim_kernels per code path (portable C, AVX2, AVX2 with AVX-VNNI,
 * AVX-512 VNNI).
 * The path is chosen once, on first use: ANPU_SIM_SIMD = portable | avx2 |
 * avxvnni | avx512 where this CPU runs it, else the widest it runs (cpuid);
 * that choice is the only global mutable state of the kernels. sim_kernels_select() lets tests force a path: it is not
 * thread-safe against ops running at the same time (call it between runs).
 *
 * A dot kernel computes, for one weight row of n elements, its dot products
 * with nx (1..4) activation rows. Activation rows are in the form
 * sim_kernels_act(path, dtype) says: F32 for float weights, struct
 * sim_xblock_q8 rows for Q4_0/Q5_0/Q8_0 (on the x86 paths the same values
 * in quad form, struct sim_xquad_q8, for Q4_0/Q5_0 and in pair form, struct
 * sim_xpair_q8, for Q8_0) and for Q4_1/Q5_1 (on every path), struct
 * sim_xblock_q8K rows for K-quants; for Q5_0L the lane form below with block
 * i in lane i (SIM_ACT_LANES) where the path has a lane kernel for it (x86),
 * else plain blocks. Each row's result depends only on that
 * row (not on nx): a fixed reduction order, so the op gives the same bits for
 * any thread count and row grouping.
 */
#ifndef SIM_KERNELS_KERNELS_H
#define SIM_KERNELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "hw/anpu_hwif.h"
#include "quant.h"

#define SIM_DOT_MAX_ROWS 4

typedef void (*sim_dot_fn)(size_t n, const void *w, const void *const *x,
			   unsigned int nx, float *out);

/*
 * Two weight rows w0, w1 against one activation row: out[0], out[1] are
 * bit-identical to dot() of each row with nx = 1 (optional, per dtype; the
 * activation loads are shared, which M = 1 is bound by).
 */
typedef void (*sim_dot_w2_fn)(size_t n, const void *w0, const void *w1,
			      const void *x, float *out);

/*
 * Columns kernel (optional, per dtype; decode): weight rows 0 .. ncols - 1,
 * w_stride bytes apart, against one activation row: out[c] is bit-identical
 * to dot() of row c with nx = 1. One call per column cost a decode step of
 * Qwen3-0.6B (K = 1024: 4 super-blocks a row) ~5% in calls and stores.
 */
typedef void (*sim_dot_cols_fn)(size_t n, const void *w, size_t w_stride, unsigned int ncols,
				const void *x, float *out);

/*
 * Panel kernel (optional, per dtype; prefill): nw (1..SIM_DOT_MAX_ROWS)
 * weight rows, w_stride bytes apart, against npanels (1..SIM_PANEL_MAX)
 * panels of SIM_PANEL_ROWS x rows, x rows in vector lanes so one unpacked
 * weight serves 8 or 16 rows per instruction. Panels are struct
 * sim_xpanel_q8K per 256 (K-quants, sim_q8K_to_panel) or struct sim_xpanel_q8
 * per 32 (Q4_0/Q5_0/Q8_0: sim_q8_to_panel; Q8_0's x + 128); panel p starts at
 * unit p * (n / elements per unit).
 * out[(r * npanels + p) * SIM_PANEL_ROWS + l] is bit-identical to dot() of
 * weight row r with row l of panel p (exact integer sums, the same f32 steps).
 */
#define SIM_PANEL_MAX 4

typedef void (*sim_dot_panel_fn)(size_t n, const void *w, size_t w_stride, unsigned int nw,
				 const void *x, unsigned int npanels, float *out);

/*
 * Lane-form kernel (optional, per dtype: AVX-512 Q4_0/Q5_0/Q8_0, AVX2 and
 * AVX-512 Q5_0L, whose dot() takes the lane form too): nw
 * (1..SIM_LANE_WROWS) weight rows, w_stride bytes apart, against nx
 * (1..SIM_DOT_MAX_ROWS) x rows in the lane form: struct sim_xpanel_q8 per
 * SIM_LANE_BLOCKS blocks of a row (a panel whose lanes are the row's blocks,
 * block i of a group in the lane of the partial sum dot() adds it to:
 * sim_xquad_lane(i), Q8_0 sim_xpair_lane(i); Q5_0L lane i, its stored order,
 * the partials reordered at the end; sim_q8_to_lanes()), whole
 * groups, zero past the row. out[i * nx + r] is bit-identical to dot() of
 * weight row i with x row r. For batches of 2-4 rows, which dot() takes a
 * row at a time below 4: no horizontal sums per row, one x load for two
 * weight rows.
 */
#define SIM_LANE_BLOCKS 16

/*
 * Row-group kernel (Q4_KL, Q6_KL, Q4_0L: hw/anpu_hwif.h): @ngroups groups of
 * ANPU_Q4_KL_GROUP weight rows of n elements, back to back from @w (a group's
 * first byte), against nx (1..SIM_DOT_MAX_ROWS) x rows (struct
 * sim_xblock_q8K; Q4_0L: struct sim_xblock_q8): out[r * 16 * ngroups +
 * 16 * g + l] is bit-identical to dot() of the Q4_K (Q6_K, Q4_0) row in
 * lane l of group g with x row r.
 */
typedef void (*sim_dot_groups_fn)(size_t n, const void *w, unsigned int ngroups,
				  const void *const *x, unsigned int nx, float *out);
/* Rows an rmsnorm_rows call takes at most */
#define SIM_RMSNORM_ROWS 4
#define SIM_LANE_WROWS 2

typedef void (*sim_dot_lanes_fn)(size_t n, const void *w, size_t w_stride, unsigned int nw,
				 const void *const *x, unsigned int nx, float *out);

/*
 * ATTENTION's online-softmax states of a few query heads: head i's
 * accumulator (head_dim floats) at acc + i * acc_stride, its running maximum
 * and sum at max + i * stride and sum + i * stride.
 */
struct sim_att_heads {
	float *acc, *max, *sum;
	size_t acc_stride, stride;
};

struct sim_kernels {
	const char *name;		/* "portable", "avx2", "avxvnni", "avx512" */
	sim_dot_fn dot[ANPU_DTYPE_COUNT];	/* by weight dtype */
	sim_dot_w2_fn dot_w2[ANPU_DTYPE_COUNT];	/* NULL: use dot() */
	sim_dot_cols_fn dot_cols[ANPU_DTYPE_COUNT];	/* NULL: use dot() */
	sim_dot_panel_fn dot_panel[ANPU_DTYPE_COUNT];	/* NULL: use dot() */
	sim_dot_lanes_fn dot_lanes[ANPU_DTYPE_COUNT];	/* NULL: use dot() */
	sim_dot_groups_fn dot_groups[ANPU_DTYPE_COUNT];	/* Q4_KL, Q6_KL, Q4_0L: every path */
	/* activation quantizers: the same bytes as sim_quantize_row_q8/_q8K */
	void (*quantize_q8)(const float *x, struct sim_xblock_q8 *y, size_t n);
	void (*quantize_q8K)(const float *x, struct sim_xblock_q8K *y, size_t n);
	/*
	 * Set when this path's Q4_0/Q5_0/Q8_0 dots take struct sim_xpair_q8
	 * rows (SIM_ACT_Q8X2): quantize_q8's blocks in pair form.
	 */
	void (*quantize_q8x2)(const float *x, struct sim_xpair_q8 *y, size_t n);
	/* Set when Q4_0/Q5_0 dots take struct sim_xquad_q8 rows (SIM_ACT_Q8X4). */
	void (*quantize_q8x4)(const float *x, struct sim_xquad_q8 *y, size_t n);
	/* sim_q8_to_panel()'s bytes, where the path has panel kernels (else NULL) */
	void (*q8_to_panel)(const struct sim_xblock_q8 *const *rows, unsigned int nrows,
			    int32_t off_per_sum, uint32_t qs_xor, struct sim_xpanel_q8 *y, size_t nb);
	/*
	 * ATTENTION's inner loops (sim/ops/op_attention.c). Every path computes
	 * the portable loops' bits (same lanes, same order; the dot products and
	 * the accumulation are FMAs, fmaf() on the portable path, every other
	 * step one rounded operation), so results never depend on the host;
	 * only NaN payloads may differ.
	 */
	/* F16 -> F32 of n values, exactly. */
	void (*att_f16_to_f32)(float *dst, const uint8_t *src, uint32_t n);
	/*
	 * s[j] = scale * dot(q, rows + j * stride), j < n: 16 partial sums
	 * (lane d % 16, FMAs in ascending d), lane i + lane i + 8 for i < 8,
	 * combined ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)).
	 */
	void (*att_scores)(float *s, const float *q, const float *rows, size_t stride,
			   uint32_t n, uint32_t hd, float scale);
	/*
	 * A block's online-softmax step for nh heads (head i: n scores at s +
	 * i * s_stride, max[i], sum[i], accumulator acc + i * hd): bmax = the
	 * largest score that is not NaN (-inf if none); where bmax > max[i],
	 * sum[i] and the accumulator times sim_att_exp(max[i] - bmax), max[i] =
	 * bmax; then s[j] = sim_att_exp(s[j] - max[i]) and sum[i] += their sum
	 * (8 partial sums, lane j % 8, combined like a dot product's).
	 */
	void (*att_softmax_step)(float *s, size_t s_stride, uint32_t n, float *max, float *sum,
				 float *acc, uint32_t hd, uint32_t nh);
	/*
	 * A later span's states @part merged into the running ones @run, head by
	 * head: m = the larger maximum, a = sim_att_exp(max - m), b =
	 * sim_att_exp(max_s - m); sum = sum * a + sum_s * b and acc[d] =
	 * acc[d] * a + acc_s[d] * b, each product and sum rounded; max = m.
	 */
	void (*att_merge)(const struct sim_att_heads *run, const struct sim_att_heads *part,
			  uint32_t hd, uint32_t nh);
	/* acc[d] = fma(p[j], rows[j * stride + d], acc[d]) for j = 0 .. n - 1 in turn */
	void (*att_accum)(float *acc, const float *p, const float *rows, size_t stride,
			  uint32_t n, uint32_t hd);
	/* att_scores and att_accum reading F16 rows (stride in elements) */
	void (*att_scores_f16)(float *s, const float *q, const uint16_t *rows, size_t stride,
			       uint32_t n, uint32_t hd, float scale);
	void (*att_accum_f16)(float *acc, const float *p, const uint16_t *rows, size_t stride,
			      uint32_t n, uint32_t hd);
	/*
	 * The same for nh query heads that read the same F16 rows (nh at most
	 * att_head_block(hd): how many heads the path serves with one load of
	 * each row, 1 where every head loads it): head i's q at q + i * q_stride
	 * and scores at s + i * s_stride, its accumulator at acc + i * acc_stride
	 * and weights at p + i * p_stride. Each head's results are exactly the
	 * one-head kernel's.
	 */
	uint32_t (*att_head_block)(uint32_t hd);
	void (*att_scores_f16_heads)(float *s, size_t s_stride, const float *q, size_t q_stride,
				     const uint16_t *rows, size_t stride, uint32_t n, uint32_t hd,
				     float scale, uint32_t nh);
	void (*att_accum_f16_heads)(float *acc, size_t acc_stride, const float *p, size_t p_stride,
				    const uint16_t *rows, size_t stride, uint32_t n, uint32_t hd,
				    uint32_t nh);
	/* att_accum_f16_heads on float rows (a prefill's V rows converted once) */
	void (*att_accum_heads)(float *acc, size_t acc_stride, const float *p, size_t p_stride,
				const float *rows, size_t stride, uint32_t n, uint32_t hd,
				uint32_t nh);
	/*
	 * Prefill scores with query vectors in the lanes (optional: NULL where
	 * the path has none): dst[v][j] = scale * dot(query v, rows + j *
	 * stride) for j < n and v < 16, the queries transposed in @qt (element
	 * d of query v at qt[16 * d + v]; 64-byte aligned), hd a multiple of
	 * 16. Each score is
	 * exactly att_scores's: the same 16 chains of FMAs in ascending d,
	 * combined by the same additions, only across a vector of queries
	 * instead of within one (no horizontal sums).
	 */
	void (*att_scores_qt)(float *const *dst, const float *qt, const float *rows,
			      size_t stride, uint32_t n, uint32_t hd, float scale);
	/*
	 * With att_scores_qt: the queries it takes, qt[16 * d + v] = q[v][d]
	 * for v < nq (<= 16), 0 in lanes v >= nq, d < hd (a multiple of 16).
	 */
	void (*att_qt_transpose)(float *qt, const float *const *q, uint32_t nq, uint32_t hd);
	/*
	 * RMSNORM of @rows rows (1 .. SIM_RMSNORM_ROWS) x[r] -> y[r] of n
	 * elements (sim/ops/op_rmsnorm.c's definition: the sum of squares in
	 * double in 4 interleaved partial sums, lane i % 4, then y[i] = (x[i] *
	 * scale) * w[i]): each row the same bits on every path and whatever rows
	 * share the call; y[r] may be x[r].
	 */
	void (*rmsnorm_rows)(const float *const *x, float *const *y, const float *w, uint32_t n,
			     uint32_t rows, float eps);
	/*
	 * ROPE's rotation of @n pairs (sim/ops/op_rope.c): pair i is a = xa[i *
	 * stride], b = xb[i * stride], its angle's cosine c[i] and sine s[i];
	 * ya/yb[i * stride] = (float)(a * c - b * s) and (float)(a * s + b * c)
	 * in double, each product and sum rounded as written (the same bits on
	 * every path). y may be x (each pair is loaded before it is stored).
	 */
	void (*rope_pairs)(float *ya, float *yb, const float *xa, const float *xb,
			   const double *c, const double *s, uint32_t n, uint32_t stride);
	/* SWIGLU: y[i] = sim_swiglu1(g[i], u[i]), i < n (att_exp.h; the same bits on every path) */
	void (*swiglu)(float *y, const float *g, const float *u, uint32_t n);
	/* F32 -> F16 of n values: sim_f32_to_f16()'s bits (NaN: a quiet NaN, no payload) */
	void (*f32_to_f16)(uint16_t *dst, const float *src, uint32_t n);
};

enum sim_act {
	SIM_ACT_F32,	/* x rows used as they are */
	SIM_ACT_Q8,	/* struct sim_xblock_q8 per 32 */
	SIM_ACT_Q8K,	/* struct sim_xblock_q8K per 256 */
	SIM_ACT_Q8X2,	/* struct sim_xpair_q8 per 64, whole groups of 8 (quantize_q8x2) */
	SIM_ACT_Q8X4,	/* struct sim_xquad_q8 per 128, whole groups of 4 (quantize_q8x4) */
	SIM_ACT_LANES,	/* struct sim_xpanel_q8 per 16 blocks, block i in lane i (Q5_0L) */
};

static inline enum sim_act sim_act_for(uint32_t dtype)
{
	switch (dtype) {
	case ANPU_DTYPE_Q4_0:
	case ANPU_DTYPE_Q5_0:
	case ANPU_DTYPE_Q5_0L:
	case ANPU_DTYPE_Q4_0L:
	case ANPU_DTYPE_Q8_0:
	case ANPU_DTYPE_Q4_1:
	case ANPU_DTYPE_Q5_1:
		return SIM_ACT_Q8;
	case ANPU_DTYPE_Q4_K:
	case ANPU_DTYPE_Q4_KL:
	case ANPU_DTYPE_Q5_K:
	case ANPU_DTYPE_Q6_K:
	case ANPU_DTYPE_Q6_KL:
		return SIM_ACT_Q8K;
	default:
		return SIM_ACT_F32;
	}
}

/* The activation form path @k's dot kernel for @dtype takes. */
static inline enum sim_act sim_kernels_act(const struct sim_kernels *k, uint32_t dtype)
{
	enum sim_act a = sim_act_for(dtype);

	/* Q5_0L: the lane form where the path has its lane kernel, else plain blocks */
	if (dtype == ANPU_DTYPE_Q5_0L)
		return k->dot_lanes[dtype] ? SIM_ACT_LANES : SIM_ACT_Q8;

	/*
	 * Q4_1/Q5_1 take plain q8 blocks on every path (d and sum per block),
	 * and so do the Q4_0L row-group kernels (one block's x for 16 rows).
	 */
	if (a != SIM_ACT_Q8 || dtype == ANPU_DTYPE_Q4_1 || dtype == ANPU_DTYPE_Q5_1 ||
	    dtype == ANPU_DTYPE_Q4_0L)
		return a;
	if (k->quantize_q8x4 && (dtype == ANPU_DTYPE_Q4_0 || dtype == ANPU_DTYPE_Q5_0))
		return SIM_ACT_Q8X4;
	return k->quantize_q8x2 ? SIM_ACT_Q8X2 : a;
}

/* Bytes of one activation row of n elements in form @act. */
static inline size_t sim_act_row_bytes(enum sim_act act, size_t n)
{
	switch (act) {
	case SIM_ACT_Q8:
		return n / SIM_QK * sizeof(struct sim_xblock_q8);
	case SIM_ACT_Q8K:
		return n / SIM_QK_K * sizeof(struct sim_xblock_q8K);
	case SIM_ACT_Q8X2:	/* whole groups of 8 pairs */
		return (n / SIM_QK + 15) / 16 * 8 * sizeof(struct sim_xpair_q8);
	case SIM_ACT_Q8X4:	/* whole groups of 4 quads */
		return (n / SIM_QK + 15) / 16 * 4 * sizeof(struct sim_xquad_q8);
	case SIM_ACT_LANES:	/* whole groups of 16 blocks */
		return (n / SIM_QK + 15) / 16 * sizeof(struct sim_xpanel_q8);
	default:
		return n * sizeof(float);
	}
}

extern const struct sim_kernels sim_kernels_portable;
extern const struct sim_kernels sim_kernels_avx2;
extern const struct sim_kernels sim_kernels_avxvnni;
extern const struct sim_kernels sim_kernels_avx512;

/* The path in use (chosen on first call). */
const struct sim_kernels *sim_kernels_get(void);

/*
 * Force a path by name. Returns 0, -EINVAL for an unknown name, -ENOTSUP if
 * this CPU cannot run it. Not safe while ops run.
 */
int sim_kernels_select(const char *name);

/* Whether this CPU can run path @name. */
int sim_kernels_supported(const char *name);

#endif /* SIM_KERNELS_KERNELS_H */
