// SPDX-License-Identifier: MIT
/*
 * MATMUL: y[N, M...] = x[K, M...] . W[K, N]^T (+ bias[N]) (+ y if ACCUMULATE).
 *   t0 x F32 [K, M, M2, M3]
 *   t1 W (weight dtype) [K, N, 1, 1], K a whole number of blocks
 *   t2 y[w] F32 [N, M, M2, M3]
 *   t3 bias F32 [N, 1, 1, 1] (optional)
 * x and y may have batch dims (rows = M * M2 * M3, the same for both); W and
 * bias may not. Anything else is ANPU_CAUSE_SHAPE.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "sim/kernels/kernels.h"
#include "sim/kernels/quant.h"
#include "sim/sim_ops.h"
#include "sim/sim_pool.h"

enum { MM_X, MM_W, MM_Y, MM_BIAS };

static uint32_t shape_fault(const struct sim_tensor *t, uint64_t *fault_addr)
{
	*fault_addr = t->npu_addr;
	return ANPU_CAUSE_SHAPE;
}

static uint32_t dtype_fault(const struct sim_tensor *t, uint64_t *fault_addr)
{
	*fault_addr = t->npu_addr;
	return ANPU_CAUSE_DTYPE;
}

static uint32_t matmul_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *x = &op->t[MM_X];
	const struct sim_tensor *w = &op->t[MM_W];
	const struct sim_tensor *y = &op->t[MM_Y];
	unsigned int be = sim_weight_block_elems(w->dtype);

	if (x->dtype != ANPU_DTYPE_F32)
		return dtype_fault(x, fault_addr);
	if (!be)
		return dtype_fault(w, fault_addr);
	if (y->dtype != ANPU_DTYPE_F32)
		return dtype_fault(y, fault_addr);
	if (op->n_tensors > MM_BIAS && op->t[MM_BIAS].dtype != ANPU_DTYPE_F32)
		return dtype_fault(&op->t[MM_BIAS], fault_addr);

	if (w->ne[0] % be || w->ne[2] != 1 || w->ne[3] != 1)
		return shape_fault(w, fault_addr);
	if (x->ne[0] != w->ne[0])
		return shape_fault(x, fault_addr);
	if (y->ne[0] != w->ne[1] || y->ne[1] != x->ne[1] ||
	    y->ne[2] != x->ne[2] || y->ne[3] != x->ne[3])
		return shape_fault(y, fault_addr);
	if (op->n_tensors > MM_BIAS) {
		const struct sim_tensor *b = &op->t[MM_BIAS];

		if (b->ne[0] != w->ne[1] || b->ne[1] != 1 || b->ne[2] != 1 ||
		    b->ne[3] != 1)
			return shape_fault(b, fault_addr);
	}
	return ANPU_CAUSE_NONE;
}

/*
 * Execution: x rows are converted once per op into the activation form of
 * the weight dtype (8-bit blocks for quantized weights, see kernels.h), in
 * batches of MM_ROW_BATCH rows that live in thread 0's scratch. Then output
 * columns are split into chunks, one pool task each; a task walks its x rows
 * in groups of SIM_DOT_MAX_ROWS and, per group, every weight row of its
 * chunk, so one unpacked weight block serves up to 4 x rows. Each output
 * element is one kernel call with a fixed reduction order, whatever the
 * thread count or chunk size.
 *
 * Decode (M = 1) is a weight stream, and what it costs is stream starts and
 * threads idling at the op's end. Dtypes with a two-row kernel (dot_w2) run
 * two long streams per chunk (below) when the op has at least MM_W2_BYTES of
 * weights (smaller ones: 896x128 Q4_0 11.5 -> 19 GB/s, 896x896 37 -> 43 by
 * the range split). The others, and small ops, split the columns into one
 * contiguous range per thread: the owner claims pieces of MM_PIECE_BYTES of
 * weights from the front, a thread that ran out steals pieces from the back
 * of another range. One stream per thread, balanced to a piece at the end: a
 * decode step of Q8_0 ran ~13% faster than with 4 chunks per thread (the
 * small 896x128 ops ~60%), K-quants and F16 ~7%. (An owner claiming a
 * quarter of what is left instead of a piece made no difference; the range
 * words sharing a cache line cost ~5%.)
 *
 * Q4_KL, Q6_KL and Q4_0L weights (16 rows interleaved, docs/hardware.md section 12)
 * go in whole groups everywhere (tasks, pieces, ranges): rows up to 4 at a
 * time through dot_groups (16 weight rows a vector, 8 on AVX2; MM_COLS columns a call),
 * panels on each call's four rows de-interleaved into Q4_K (Q6_K, Q4_0) rows for
 * that type's panel kernel (mm_panels); rows too long for its buffer take
 * dot_groups four at a time instead.
 */
/*
 * Prefill on paths with a panel kernel (AVX2, AVX-512: K-quants, Q4_0, Q5_0, Q8_0):
 * a batch's rows are also interleaved 16 to a panel (struct sim_xpanel_q8K or
 * sim_xpanel_q8), and a task runs its columns 4 at a time against all full
 * panels (x rows in vector lanes, so an unpacked weight serves 16 rows per
 * instruction); the batch's last M % 16 rows take the path below. At
 * M = 128 the Qwen3-0.6B shapes (1024x3072 and 3072x1024 Q4_K, 3072x1024
 * Q6_K) ran 2.0-2.4x faster than with the four-row kernel, Qwen2.5-0.5B's
 * Q5_0 896x4864 2.0x and 4864x896 2.7x, Q8_0 896x4864 2.0x; the bits are
 * dot()'s.
 */
/*
 * Prefill (M > 1): a task walks its columns in tiles of ~MM_TILE_BYTES of
 * weights and, per tile, all row groups of the batch, so the tile is read
 * from memory once and then from L2 by every row group (a whole chunk,
 * 600 KB of Q8_0 at 896x4864, was streamed from L3 again for each group of
 * 4 rows), while a group's 4 activation rows stay in L1 across the tile
 * (their bytes per weight block are 4-8x the weights': 16 KiB tiles, which
 * re-read the activations from L2 per tile, were slower for Q4_0). The
 * calls per output element are the same, so are the bits.
 * Off by default: on the shared 2-core test host the A/B runs were within
 * noise or slower (see branch perf-prefill's report); ANPU_SIM_MM_TILE=1
 * turns it on so benchmarks can compare the two walks.
 */
#define MM_TILE_BYTES (256u << 10)
/*
 * 128 rows a batch (8 panels, two dot_panel() calls per column group): each
 * weight row is read from memory once per 128 rows; with 64 an M = 128
 * lm_head (144 MB of Q8_0) streamed its weights twice, 10% slower.
 */
#define MM_ROW_BATCH 128u
#define MM_PIECE_BYTES 32768u
#define MM_COLS 64u	/* columns per dot_cols() call */
/*
 * Rows of a batch that get a panel of their own (the rest of 16 zero): the
 * panel kernels serve a row ~2x cheaper than the four-row kernels, so 8 of
 * 16 lanes in use already pay (Qwen3-0.6B prefill of 447 tokens: the 15
 * rows after the last whole panel took 5% of it in four-row calls).
 */
#define MM_PANEL_MIN_ROWS 8u
#define MM_W2_BYTES (1u << 20)
#define MM_KL_ROWS_BYTES 32768u	/* mm_panels' de-interleaved rows (Q4_K: K <= 14336, Q6_K: 9984, Q4_0: 14560) */

/* A thread's column range [front, back) as front | back << 32; own cache line. */
struct mm_range {
	_Alignas(64) _Atomic uint64_t v;
};

struct mm_ctx {
	const struct sim_kernels *kern;
	const struct sim_op *op;
	enum sim_act act;
	size_t act_bytes;	/* bytes of one converted x row */
	uint8_t *xbuf;		/* converted rows of this batch (quantized dtypes) */
	uint64_t row0;		/* first x row of this batch */
	uint32_t nrows;		/* rows in this batch */
	uint32_t chunk;		/* output columns per task */
	uint32_t tile;		/* columns per tile of a task (M > 1) */
	uint8_t *xpanel;	/* panels of the batch's first rows (dot_panel) */
	size_t panel_bytes;	/* bytes of one panel */
	unsigned int npanels;	/* panels of the batch's first rows (the last may be partial) */
	uint32_t panel_rows;	/* rows 0 .. panel_rows - 1 go through dot_panel */
	uint32_t lane_row0;	/* rows lane_row0 .. nrows - 1 in the lane form (dot_lanes) */
	struct mm_range *ranges;	/* M = 1 range split: one per thread */
	unsigned int n_ranges;
	uint32_t piece;		/* columns per claimed piece, >= 1 */
	bool stream;		/* y tile rows written past the cache (mm_stream_y) */
	/*
	 * Q4_KL, Q6_KL, Q4_0L: rows in groups of ANPU_Q4_KL_GROUP (dot_groups, and
	 * @panel on a call's rows de-interleaved); every task, piece and range
	 * boundary is a group's.
	 */
	bool grouped;
	sim_dot_panel_fn panel;	/* the panel kernel, NULL for none (mm_panel_kernel) */
};

/* Columns every task, piece and range boundary is a multiple of. */
static uint32_t mm_col_unit(const struct mm_ctx *c)
{
	return c->grouped ? ANPU_Q4_KL_GROUP : SIM_DOT_MAX_ROWS;
}

/*
 * The panel kernel: a grouped weight's is its rows' type's, on the rows
 * de-interleaved (mm_kl_rows4) when four fit the buffer.
 */
static sim_dot_panel_fn mm_panel_kernel(const struct mm_ctx *c)
{
	const struct sim_tensor *w = &c->op->t[MM_W];

	if (!c->grouped)
		return c->kern->dot_panel[w->dtype];
	if (SIM_DOT_MAX_ROWS * w->row_bytes > MM_KL_ROWS_BYTES)
		return NULL;
	return c->kern->dot_panel[w->dtype == ANPU_DTYPE_Q4_KL ? ANPU_DTYPE_Q4_K :
				  w->dtype == ANPU_DTYPE_Q6_KL ? ANPU_DTYPE_Q6_K : ANPU_DTYPE_Q4_0];
}

/* Rows j .. j + 3 (j a multiple of 4) of a grouped weight as plain rows at @dst, a row's bytes apart. */
static void mm_kl_rows4(const struct sim_tensor *w, uint32_t j, uint8_t *dst)
{
	const uint8_t *row = sim_tensor_row(w, j, 0, 0);

	if (w->dtype == ANPU_DTYPE_Q4_KL)
		sim_q4_kl_rows4(row, w->ne[0] / SIM_QK_K, dst, w->row_bytes);
	else if (w->dtype == ANPU_DTYPE_Q6_KL)
		sim_q6_kl_rows4(row, j % ANPU_Q4_KL_GROUP, w->ne[0] / SIM_QK_K, dst, w->row_bytes);
	else
		sim_q4_0l_rows4(row, j % ANPU_Q4_KL_GROUP, w->ne[0] / SIM_QK, dst, w->row_bytes);
}

static const void *mm_xrow(const struct mm_ctx *c, uint32_t r)
{
	if (c->act == SIM_ACT_F32)
		return sim_tensor_flat_row(&c->op->t[MM_X], c->row0 + r);
	return c->xbuf + (size_t)r * c->act_bytes;
}

/*
 * Row @r in the lane form: quantized a group of SIM_LANE_BLOCKS blocks at a
 * time (the bytes of quantize_q8, as every form), then interleaved.
 */
static void mm_quantize_lanes(const struct mm_ctx *c, const float *xr, struct sim_xpanel_q8 *dst)
{
	const size_t nb = c->op->t[MM_X].ne[0] / SIM_QK;
	const uint32_t dt = c->op->t[MM_W].dtype;
	const int32_t off = dt == ANPU_DTYPE_Q4_0 ? -8 :
			    dt == ANPU_DTYPE_Q5_0 || dt == ANPU_DTYPE_Q5_0L ? -16 : -128;
	const enum sim_lane_order order = dt == ANPU_DTYPE_Q8_0 ? SIM_LANES_PAIR :
					  dt == ANPU_DTYPE_Q5_0L ? SIM_LANES_BLOCK : SIM_LANES_QUAD;
	struct sim_xblock_q8 blk[SIM_LANE_BLOCKS];

	for (size_t b0 = 0; b0 < nb; b0 += SIM_LANE_BLOCKS) {
		const size_t cnt = nb - b0 < SIM_LANE_BLOCKS ? nb - b0 : SIM_LANE_BLOCKS;

		c->kern->quantize_q8(xr + b0 * SIM_QK, blk, cnt * SIM_QK);
		sim_q8_to_lanes(blk, cnt, off, order, dst + b0 / SIM_LANE_BLOCKS);
	}
}

static void mm_quantize_row(const struct mm_ctx *c, uint32_t r)
{
	const float *xr = (const float *)sim_tensor_flat_row(&c->op->t[MM_X], c->row0 + r);
	size_t k = c->op->t[MM_X].ne[0];
	void *dst = c->xbuf + (size_t)r * c->act_bytes;

	if (r >= c->lane_row0 || c->act == SIM_ACT_LANES)
		mm_quantize_lanes(c, xr, dst);
	else if (c->act == SIM_ACT_Q8)
		c->kern->quantize_q8(xr, dst, k);
	else if (c->act == SIM_ACT_Q8X2)
		c->kern->quantize_q8x2(xr, dst, k);
	else if (c->act == SIM_ACT_Q8X4)
		c->kern->quantize_q8x4(xr, dst, k);
	else
		c->kern->quantize_q8K(xr, dst, k);
}

/* Bytes of one x row of n elements in the lane form (dot_lanes). */
static size_t mm_lanes_row_bytes(size_t n)
{
	return (n / SIM_QK + SIM_LANE_BLOCKS - 1) / SIM_LANE_BLOCKS * sizeof(struct sim_xpanel_q8);
}

/* Bytes of one panel of x rows of n elements in activation form @act. */
static size_t mm_panel_bytes(enum sim_act act, size_t n)
{
	if (act == SIM_ACT_Q8K)
		return n / SIM_QK_K * sizeof(struct sim_xpanel_q8K);
	return n / SIM_QK * sizeof(struct sim_xpanel_q8);
}

/*
 * Panel @p of the batch: its rows 16 p .. 16 p + 15 quantized (plain q8
 * blocks for the 32-element types: the pair and quad forms are for the row
 * kernels; writing them first was a third of an 896x128 Q8_0 MATMUL at
 * M = 128) into their row slots, then interleaved. One task does both, so
 * the rows are still in L1 (a pass of its own per step, with a barrier
 * between them, was most of an 896x128 MATMUL).
 */
static void mm_build_panel(const struct mm_ctx *c, uint32_t p)
{
	const void *rows[SIM_PANEL_ROWS];
	const size_t k = c->op->t[MM_X].ne[0];
	const uint32_t wt = c->op->t[MM_W].dtype;
	void *dst = c->xpanel + p * c->panel_bytes;
	const unsigned int nl = c->panel_rows - p * SIM_PANEL_ROWS < SIM_PANEL_ROWS ?
				c->panel_rows - p * SIM_PANEL_ROWS : SIM_PANEL_ROWS;

	for (unsigned int l = 0; l < nl; l++) {
		uint32_t r = p * SIM_PANEL_ROWS + l;
		const float *xr = (const float *)sim_tensor_flat_row(&c->op->t[MM_X], c->row0 + r);
		void *row = c->xbuf + (size_t)r * c->act_bytes;

		if (c->act == SIM_ACT_Q8K)
			c->kern->quantize_q8K(xr, row, k);
		else
			c->kern->quantize_q8(xr, row, k);
		rows[l] = row;
	}
	if (c->act == SIM_ACT_Q8K)
		sim_q8K_to_panel((const struct sim_xblock_q8K *const *)rows, nl, dst, k / SIM_QK_K);
	else
		c->kern->q8_to_panel((const struct sim_xblock_q8 *const *)rows, nl,
				     wt == ANPU_DTYPE_Q4_0 || wt == ANPU_DTYPE_Q4_0L ? -8 :
				     wt == ANPU_DTYPE_Q5_0 || wt == ANPU_DTYPE_Q5_0L ? -16 : 0,
				     wt == ANPU_DTYPE_Q8_0 ? 0x80808080u : 0, dst, k / SIM_QK);
}

/* Task @task of a batch's x conversion: a panel each, then a row each. */
static void mm_convert_task(void *arg, uint32_t task, unsigned int thread)
{
	const struct mm_ctx *c = arg;

	(void)thread;
	if (task < c->npanels)
		mm_build_panel(c, task);
	else
		mm_quantize_row(c, c->panel_rows + task - c->npanels);
}

/* Output row @yr: y[j] = @s (+ bias[j]) (+ y[j] if ACCUMULATE). */
static void mm_store(const struct mm_ctx *c, float *yr, uint32_t j, float s)
{
	const struct sim_op *op = c->op;

	if (op->n_tensors > MM_BIAS)
		s += ((const float *)op->t[MM_BIAS].data)[j];
	if (op->flags & ANPU_MATMUL_ACCUMULATE)
		s += yr[j];
	yr[j] = s;
}

/*
 * mm_store() of columns [j, j + n) of output row @yr from s[k * stride],
 * k < n, the flags tested once: per element, with a branch each, it was 18%
 * of a Qwen3-0.6B prefill's samples (and gathering s into a local array
 * first stalled on store forwarding).
 */
static inline void mm_store_cols(const struct mm_ctx *c, float *restrict yr, uint32_t j,
				 const float *restrict s, size_t stride, unsigned int n)
{
	const struct sim_op *op = c->op;
	float *y = yr + j;

	if (op->n_tensors > MM_BIAS) {
		const float *bias = (const float *)op->t[MM_BIAS].data + j;

		for (unsigned int k = 0; k < n; k++)
			y[k] = (op->flags & ANPU_MATMUL_ACCUMULATE) ?
			       s[k * stride] + bias[k] + y[k] : s[k * stride] + bias[k];
	} else if (op->flags & ANPU_MATMUL_ACCUMULATE) {
		for (unsigned int k = 0; k < n; k++)
			y[k] = s[k * stride] + y[k];
	} else {
		for (unsigned int k = 0; k < n; k++)
			y[k] = s[k * stride];
	}
}

typedef float mm_v4f __attribute__((vector_size(16)));

static inline mm_v4f mm_load4(const float *p)
{
	mm_v4f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Columns per output tile of mm_panels(): 64 bytes of each output row */
#define MM_TILE_COLS 16u

/*
 * Rows i .. i + 3 of a panel call's out (column k of row i at s[k * stride
 * + i]) into tile rows t, t + MM_TILE_COLS, ..., 4 columns each: a 4x4
 * transpose.
 */
static inline void mm_transpose_4x4(float *t, const float *s, size_t stride)
{
	const mm_v4f c0 = mm_load4(s), c1 = mm_load4(s + stride);
	const mm_v4f c2 = mm_load4(s + 2 * stride), c3 = mm_load4(s + 3 * stride);
	const mm_v4f t0 = __builtin_shufflevector(c0, c1, 0, 4, 1, 5);
	const mm_v4f t1 = __builtin_shufflevector(c2, c3, 0, 4, 1, 5);
	const mm_v4f t2 = __builtin_shufflevector(c0, c1, 2, 6, 3, 7);
	const mm_v4f t3 = __builtin_shufflevector(c2, c3, 2, 6, 3, 7);
	const mm_v4f r[4] = {
		__builtin_shufflevector(t0, t1, 0, 1, 4, 5),
		__builtin_shufflevector(t0, t1, 2, 3, 6, 7),
		__builtin_shufflevector(t2, t3, 0, 1, 4, 5),
		__builtin_shufflevector(t2, t3, 2, 3, 6, 7),
	};

	for (int i = 0; i < 4; i++)
		memcpy(t + i * MM_TILE_COLS, &r[i], sizeof(r[i]));
}

/*
 * mm_store_cols() of a whole tile row (y = yr + j): 4-lane vectors, the same
 * element-wise adds in the same order (a plain copy became rep movsq, whose
 * start-up cost more than the 64 bytes).
 */
static inline void mm_store_tile_row(const struct mm_ctx *c, float *y, uint32_t j,
				     const float *t)
{
	const struct sim_op *op = c->op;
	mm_v4f r[MM_TILE_COLS / 4];

	for (unsigned int k = 0; k < MM_TILE_COLS / 4; k++)
		r[k] = mm_load4(t + 4 * k);
	if (op->n_tensors > MM_BIAS) {
		const float *bias = (const float *)op->t[MM_BIAS].data + j;

		for (unsigned int k = 0; k < MM_TILE_COLS / 4; k++)
			r[k] += mm_load4(bias + 4 * k);
	}
	if (op->flags & ANPU_MATMUL_ACCUMULATE)
		for (unsigned int k = 0; k < MM_TILE_COLS / 4; k++)
			r[k] += mm_load4(y + 4 * k);
#if defined(__SSE__)
	if (c->stream) {
		for (unsigned int k = 0; k < MM_TILE_COLS / 4; k++)
			_mm_stream_ps(y + 4 * k, (__m128)r[k]);
		return;
	}
#endif
	for (unsigned int k = 0; k < MM_TILE_COLS / 4; k++)
		memcpy(y + 4 * k, &r[k], sizeof(r[k]));
}

/*
 * A prefill whose y is far larger than the caches (a 151936-entry vocabulary
 * at M = 128: 78 MB) writes it with non-temporal stores: a line would be read
 * first only to be written whole and evicted (896x151936: 5-6% faster). Not
 * for ACCUMULATE (it reads y anyway), and only where every row starts 16-byte
 * aligned (_mm_stream_ps faults otherwise): the strides of all of y's
 * addressed dimensions are checked, a batch dimension's too.
 */
#define MM_STREAM_Y_BYTES (32u << 20)

static bool mm_stream_y(const struct sim_op *op, uint64_t rows)
{
#if defined(__SSE__)
	const struct sim_tensor *y = &op->t[MM_Y];

	if ((op->flags & ANPU_MATMUL_ACCUMULATE) || rows < 2 ||
	    rows * y->row_bytes < MM_STREAM_Y_BYTES || (uintptr_t)y->data % 16)
		return false;
	for (int i = 1; i < 4; i++)	/* every row that is addressed starts aligned */
		if (y->ne[i] > 1 && y->nb[i] % 16)
			return false;
	return true;
#else
	(void)op;
	(void)rows;
	return false;
#endif
}

/*
 * The weight rows j .. j + SIM_DOT_MAX_ROWS - 1 (at most @left of them) into
 * the cache while the rows before them run: a prefill's weights come from
 * DRAM, and without it each column group's calls started on misses (Q4_0
 * panels, weights past L3: 0.85x the rate with them in L3). Each row's own
 * bytes only, whatever the stride.
 */
static void mm_prefetch_rows(const struct mm_ctx *c, uint32_t j, uint32_t left)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const uint32_t n = left < SIM_DOT_MAX_ROWS ? left : SIM_DOT_MAX_ROWS;

	/*
	 * grouped weights: every call of a tile reads its whole group, so each call
	 * prefetches a quarter of the next group (j, 4 past this call's first
	 * column, is 12 short of the next group's column there)
	 */
	if (c->grouped) {
		const uint8_t *p = w->data + ((size_t)j + 12) * w->nb[1];

		if (left <= 12)
			return;
		for (size_t o = 0; o < SIM_DOT_MAX_ROWS * w->row_bytes; o += 64)
			__builtin_prefetch(p + o);
		return;
	}
	for (uint32_t r = 0; r < n; r++) {
		const uint8_t *p = sim_tensor_row(w, j + r, 0, 0);

		for (size_t o = 0; o < w->row_bytes; o += 64)
			__builtin_prefetch(p + o);
	}
}

/*
 * Columns [j0, j1) for the rows of panels [pa, pb), SIM_DOT_MAX_ROWS columns
 * per call.
 * The calls' results are gathered into a tile of MM_TILE_COLS columns for
 * all rows and then stored a row at a time: stored 4 columns at a time, the
 * rows' y lines (strides of a multiple of 4 KiB for N = 1024, 2048, 3072:
 * one L1 set) were missed 4 times each, 7% of a Qwen3-0.6B prefill.
 */
static void mm_panels(const struct mm_ctx *c, unsigned int pa, unsigned int pb, uint32_t j0,
		      uint32_t j1)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const struct sim_tensor *y = &c->op->t[MM_Y];
	const unsigned int ra = pa * SIM_PANEL_ROWS;
	const unsigned int nr = pb * SIM_PANEL_ROWS < c->panel_rows ? pb * SIM_PANEL_ROWS :
								       c->panel_rows;
	float *yr[MM_ROW_BATCH];
	float out[SIM_DOT_MAX_ROWS * SIM_PANEL_MAX * SIM_PANEL_ROWS];
	float tile[MM_ROW_BATCH * MM_TILE_COLS] __attribute__((aligned(64)));
	/*
	 * grouped weights: a call's four rows de-interleaved once for every panel
	 * group (then the panel kernel of their rows' type: Q4_K, Q6_K, Q4_0); gathered by a Q4_KL panel
	 * kernel instead, per call and block, the M = 128 MATMUL ran ~1.1-1.25x
	 * slower
	 */
	uint8_t wrows[MM_KL_ROWS_BYTES] __attribute__((aligned(64)));

	_Static_assert(SIM_DOT_MAX_ROWS == 4, "mm_transpose_4x4 takes 4 columns");
	for (unsigned int i = ra; i < nr; i++)
		yr[i] = (float *)sim_tensor_flat_row(y, c->row0 + i);
	for (uint32_t t0 = j0; t0 < j1; t0 += MM_TILE_COLS) {
		const unsigned int ncols = j1 - t0 < MM_TILE_COLS ? j1 - t0 : MM_TILE_COLS;

		for (unsigned int jj = 0; jj < ncols; jj += SIM_DOT_MAX_ROWS) {
			const unsigned int nw = ncols - jj < SIM_DOT_MAX_ROWS ? ncols - jj :
										SIM_DOT_MAX_ROWS;

			const uint8_t *wr = sim_tensor_row(w, t0 + jj, 0, 0);
			size_t ws = w->nb[1];

			if (t0 + jj + SIM_DOT_MAX_ROWS < j1)
				mm_prefetch_rows(c, t0 + jj + SIM_DOT_MAX_ROWS,
						 j1 - (t0 + jj + SIM_DOT_MAX_ROWS));
			if (c->grouped) {	/* nw = 4: tiles of whole groups */
				mm_kl_rows4(w, t0 + jj, wrows);
				wr = wrows;
				ws = w->row_bytes;
			}
			/* up to SIM_PANEL_MAX panels a call; the weights are in L1 again */
			for (unsigned int p0 = pa; p0 < pb; p0 += SIM_PANEL_MAX) {
				const unsigned int np = pb - p0 < SIM_PANEL_MAX ? pb - p0 :
										  SIM_PANEL_MAX;
				const unsigned int r0 = p0 * SIM_PANEL_ROWS, stride = np * SIM_PANEL_ROWS;
				const unsigned int r1 = nr < r0 + stride ? nr : r0 + stride;
				unsigned int i = r0;

				c->panel(w->ne[0], wr, ws, nw, c->xpanel + p0 * c->panel_bytes, np, out);
				for (; nw == 4 && i + 4 <= r1; i += 4)
					mm_transpose_4x4(&tile[i * MM_TILE_COLS + jj], out + i - r0,
							 stride);
				for (; i < r1; i++)
					for (unsigned int k = 0; k < nw; k++)
						tile[i * MM_TILE_COLS + jj + k] = out[k * stride + i - r0];
			}
		}
		for (unsigned int i = ra; i < nr; i++) {
			if (ncols == MM_TILE_COLS)
				mm_store_tile_row(c, yr[i] + t0, t0, &tile[i * MM_TILE_COLS]);
			else
				mm_store_cols(c, yr[i], t0, &tile[i * MM_TILE_COLS], 1, ncols);
		}
	}
#if defined(__SSE__)
	if (c->stream)	/* streamed lines ordered before the task's end is published */
		_mm_sfence();
#endif
}

/*
 * The first row of the batch in the lane form (dot_lanes), nrows for none;
 * the rows after the panels go in groups of 4 from panel_rows. Q4_0/Q5_0:
 * the last 2 or 3 rows when the groups leave them: dot() has no 2- or 3-row
 * kernel (a call per row), the lane kernel serves them in one pass
 * (896x151936 Q5_0 streamed, 2 threads: M = 2 2.56 -> 2.18 ms, M = 3 3.74 ->
 * 2.33); dot()'s 4-row kernel is faster than the lane one (M = 4: 2.25-2.43
 * vs 2.59-2.66 ms; at K = 896 the lanes' 12-block last group costs a whole
 * one), so whole groups keep it. Q8_0: every row after the panels, from 2:
 * its pair form's per-row sums made dot() 2.2x slower at 4 rows hot (K = 896:
 * 25.6 vs 11.6 ns a weight row and group; one row 15.7 vs 8.2), 896x151936
 * streamed M = 4 2.68-2.81 -> 2.32-2.40 ms. The lane form fits the row slots
 * of the dtype's own form (640 bytes a group against 1280 or 1536).
 */
static uint32_t mm_lane_row0(const struct mm_ctx *c)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const uint32_t rows = c->nrows - c->panel_rows;

	if (!c->kern->dot_lanes[w->dtype] || rows < 2 ||
	    c->act_bytes < mm_lanes_row_bytes(w->ne[0]))
		return c->nrows;
	if (w->dtype == ANPU_DTYPE_Q8_0 || c->act == SIM_ACT_LANES)
		return c->panel_rows;
	return rows % 4 >= 2 ? c->nrows - rows % 4 : c->nrows;
}

/*
 * Columns [j0, j1) for the x rows @xr (lane form), columns j and j + h a
 * call (h: half the range): two long weight streams, as dot_w2 reads them
 * for M = 1 (columns j, j + 1 a call read 896x151936 Q8_0 at M = 2-4 ~10%
 * slower than dot()'s one row a call, 3.1 vs 2.9 ms).
 */
static void mm_lanes_cols(const struct mm_ctx *c, const void *const *xr, float *const *yr,
			  unsigned int nx, uint32_t j0, uint32_t j1)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const sim_dot_lanes_fn dot = c->kern->dot_lanes[w->dtype];
	const uint32_t h = (j1 - j0) / 2;
	float out[SIM_LANE_WROWS * SIM_DOT_MAX_ROWS];

	_Static_assert(SIM_LANE_WROWS == 2, "columns j and j + h a call");
	for (uint32_t j = j0; j < j0 + h; j++) {
		dot(w->ne[0], sim_tensor_row(w, j, 0, 0), (size_t)h * w->nb[1], 2, xr, nx, out);
		for (unsigned int r = 0; r < nx; r++) {
			mm_store(c, yr[r], j, out[r]);
			mm_store(c, yr[r], j + h, out[nx + r]);
		}
	}
	if ((j1 - j0) % 2) {
		dot(w->ne[0], sim_tensor_row(w, j1 - 1, 0, 0), w->nb[1], 1, xr, nx, out);
		for (unsigned int r = 0; r < nx; r++)
			mm_store(c, yr[r], j1 - 1, out[r]);
	}
}

/*
 * Columns [j0, j1) of a grouped weight (whole groups) for @nx x rows, MM_COLS
 * columns a dot_groups() call.
 */
static void mm_groups_cols(const struct mm_ctx *c, const void *const *xr, float *const *yr,
			   unsigned int nx, uint32_t j0, uint32_t j1)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const sim_dot_groups_fn dot_groups = c->kern->dot_groups[w->dtype];
	float out[SIM_DOT_MAX_ROWS * MM_COLS];

	_Static_assert(MM_COLS % ANPU_Q4_KL_GROUP == 0, "whole groups a call");
	for (uint32_t j = j0; j < j1; j += MM_COLS) {
		const unsigned int nc = j1 - j < MM_COLS ? j1 - j : MM_COLS;

		dot_groups(w->ne[0], sim_tensor_row(w, j, 0, 0), nc / ANPU_Q4_KL_GROUP, xr, nx, out);
		for (unsigned int r = 0; r < nx; r++)
			mm_store_cols(c, yr[r], j, out + (size_t)r * nc, 1, nc);
	}
}

/* Columns [j0, j1) for rows @r_first.. of the batch, rows in groups of 4. */
static void mm_tile(const struct mm_ctx *c, uint32_t r_first, uint32_t j0, uint32_t j1)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const struct sim_tensor *y = &c->op->t[MM_Y];
	const sim_dot_fn dot = c->kern->dot[w->dtype];

	for (uint32_t r0 = r_first; r0 < c->nrows; r0 += SIM_DOT_MAX_ROWS) {
		unsigned int nx = c->nrows - r0 < SIM_DOT_MAX_ROWS ? c->nrows - r0 : SIM_DOT_MAX_ROWS;
		const void *xr[SIM_DOT_MAX_ROWS];
		float *yr[SIM_DOT_MAX_ROWS];

		for (unsigned int i = 0; i < nx; i++) {
			xr[i] = mm_xrow(c, r0 + i);
			yr[i] = (float *)sim_tensor_flat_row(y, c->row0 + r0 + i);
		}
		if (r0 >= c->lane_row0) {
			mm_lanes_cols(c, xr, yr, nx, j0, j1);
			continue;
		}
		for (uint32_t j = j0; j < j1; j++) {
			float out[SIM_DOT_MAX_ROWS];

			dot(w->ne[0], sim_tensor_row(w, j, 0, 0), xr, nx, out);
			for (unsigned int i = 0; i < nx; i++)
				mm_store(c, yr[i], j, out[i]);
		}
	}
}

static void mm_dot_task(void *arg, uint32_t task, unsigned int thread)
{
	const struct mm_ctx *c = arg;
	const struct sim_op *op = c->op;
	const struct sim_tensor *w = &op->t[MM_W];
	const struct sim_tensor *y = &op->t[MM_Y];
	const sim_dot_fn dot = c->kern->dot[w->dtype];
	const sim_dot_w2_fn dot_w2 = c->kern->dot_w2[w->dtype];
	size_t k = w->ne[0];
	uint32_t n0 = task * c->chunk;
	uint32_t n1 = n0 + c->chunk < w->ne[1] ? n0 + c->chunk : w->ne[1];
	uint32_t r_first = c->panel_rows;

	(void)thread;
	if (c->npanels)
		mm_panels(c, 0, c->npanels, n0, n1);
	if (c->nrows > 1 && c->tile < n1 - n0) {
		for (uint32_t t0 = n0; t0 < n1; t0 += c->tile)
			mm_tile(c, r_first, t0, n1 - t0 < c->tile ? n1 : t0 + c->tile);
		return;
	}
	for (uint32_t r0 = r_first; r0 < c->nrows; r0 += SIM_DOT_MAX_ROWS) {
		unsigned int nx = c->nrows - r0 < SIM_DOT_MAX_ROWS ? c->nrows - r0 : SIM_DOT_MAX_ROWS;
		const void *xr[SIM_DOT_MAX_ROWS];
		float *yr[SIM_DOT_MAX_ROWS];

		for (unsigned int i = 0; i < nx; i++) {
			xr[i] = mm_xrow(c, r0 + i);
			yr[i] = (float *)sim_tensor_flat_row(y, c->row0 + r0 + i);
		}
		if (r0 >= c->lane_row0) {
			mm_lanes_cols(c, xr, yr, nx, n0, n1);
			continue;
		}
		if (c->grouped) {
			mm_groups_cols(c, xr, yr, nx, n0, n1);
			continue;
		}
		uint32_t j = n0;

		/*
		 * M = 1: rows j and j + h of the task's range per call (x loads
		 * shared; two long sequential weight streams prefetch well, rows
		 * j, j + 1 streamed ~30% slower); each out bit-identical to dot().
		 */
		if (nx == 1 && dot_w2) {
			const uint32_t h = (n1 - n0) / 2;

			for (; j < n0 + h; j++) {
				float out[2];

				dot_w2(k, sim_tensor_row(w, j, 0, 0),
				       sim_tensor_row(w, j + h, 0, 0), xr[0], out);
				mm_store(c, yr[0], j, out[0]);
				mm_store(c, yr[0], j + h, out[1]);
			}
			j = n0 + 2 * h;
		}
		for (; j < n1; j++) {
			float out[SIM_DOT_MAX_ROWS];

			dot(k, sim_tensor_row(w, j, 0, 0), xr, nx, out);
			for (unsigned int i = 0; i < nx; i++)
				mm_store(c, yr[i], j, out[i]);
		}
	}
}

/*
 * A batch whose rows are all in panels, against weights of at most
 * MM_SPLIT_ROWS_BYTES (read by every thread, from L2 or L3): each task
 * converts its SIM_PANEL_MAX panels and runs every column against them, one
 * pool run. The column split converts every panel (one pool run), then
 * splits the columns (another): for an 896x128 MATMUL at M = 128 the wait
 * between the two and the conversion's own were a third of it; at 896x896
 * (Q4_0 0.43 MiB to Q8_0 0.81 MiB) the row split ran 4-7% faster too. Each
 * row's results are the panel kernel's as in the column split, so the bits
 * are the same.
 */
#define MM_SPLIT_ROWS_BYTES (1024u << 10)

static void mm_rows_task(void *arg, uint32_t task, unsigned int thread)
{
	const struct mm_ctx *c = arg;
	const unsigned int pa = task * SIM_PANEL_MAX;
	const unsigned int pb = c->npanels - pa < SIM_PANEL_MAX ? c->npanels : pa + SIM_PANEL_MAX;

	(void)thread;
	for (unsigned int p = pa; p < pb; p++)
		mm_build_panel(c, p);
	mm_panels(c, pa, pb, 0, c->op->t[MM_W].ne[1]);
}

/* Columns [j0, j1) of the single x row. */
static void mm_columns(const struct mm_ctx *c, uint32_t j0, uint32_t j1)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const sim_dot_fn dot = c->kern->dot[w->dtype];
	const sim_dot_cols_fn dot_cols = c->kern->dot_cols[w->dtype];
	const void *xr = mm_xrow(c, 0);
	float *yr = (float *)sim_tensor_flat_row(&c->op->t[MM_Y], c->row0);

	if (c->grouped) {
		mm_groups_cols(c, &xr, &yr, 1, j0, j1);
		return;
	}
	for (uint32_t j = j0; dot_cols && j < j1; j += MM_COLS) {
		const unsigned int nc = j1 - j < MM_COLS ? j1 - j : MM_COLS;
		float out[MM_COLS];

		dot_cols(w->ne[0], sim_tensor_row(w, j, 0, 0), w->nb[1], nc, xr, out);
		mm_store_cols(c, yr, j, out, 1, nc);
	}
	for (uint32_t j = j0; !dot_cols && j < j1; j++) {
		float out[SIM_DOT_MAX_ROWS];

		dot(w->ne[0], sim_tensor_row(w, j, 0, 0), &xr, 1, out);
		mm_store(c, yr, j, out[0]);
	}
}

/* Claim a piece from the front of @r (its owner). */
static bool claim_front(const struct mm_ctx *c, struct mm_range *r, uint32_t *j0, uint32_t *j1)
{
	uint64_t cur = atomic_load_explicit(&r->v, memory_order_relaxed);

	for (;;) {
		uint32_t f = (uint32_t)cur, b = (uint32_t)(cur >> 32);

		if (f >= b)
			return false;
		*j0 = f;
		*j1 = b - f > c->piece ? f + c->piece : b;
		if (atomic_compare_exchange_weak_explicit(&r->v, &cur, *j1 | (uint64_t)b << 32,
							  memory_order_relaxed, memory_order_relaxed))
			return true;
	}
}

/* Steal a piece from the back of @r; the owner keeps at least one piece. */
static bool claim_back(const struct mm_ctx *c, struct mm_range *r, uint32_t *j0, uint32_t *j1)
{
	uint64_t cur = atomic_load_explicit(&r->v, memory_order_relaxed);

	for (;;) {
		uint32_t f = (uint32_t)cur, b = (uint32_t)(cur >> 32);

		if (b - f <= c->piece || f >= b)
			return false;
		*j0 = b - c->piece;
		*j1 = b;
		if (atomic_compare_exchange_weak_explicit(&r->v, &cur, f | (uint64_t)*j0 << 32,
							  memory_order_relaxed, memory_order_relaxed))
			return true;
	}
}

/*
 * Task @task owns range @task. Each column is claimed exactly once (CAS on
 * the range word), so results do not depend on who computed what.
 */
static void mm_range_task(void *arg, uint32_t task, unsigned int thread)
{
	const struct mm_ctx *c = arg;
	uint32_t j0, j1;

	(void)thread;
	while (claim_front(c, &c->ranges[task], &j0, &j1))
		mm_columns(c, j0, j1);
	for (unsigned int i = 1; i < c->n_ranges; i++) {
		struct mm_range *r = &c->ranges[(task + i) % c->n_ranges];

		while (claim_back(c, r, &j0, &j1))
			mm_columns(c, j0, j1);
	}
}

/* M = 1 without a two-row kernel: one range per thread, stealing at the end. */
static void mm_run_ranges(struct sim_exec *ex, struct mm_ctx *c, unsigned int threads)
{
	const struct sim_tensor *w = &c->op->t[MM_W];
	const uint32_t unit = mm_col_unit(c);
	uint32_t n = w->ne[1];

	c->n_ranges = threads;
	/*
	 * Pieces and ranges of whole SIM_DOT_MAX_ROWS columns (grouped weights: whole
	 * groups): the K-quant columns kernels take four rows a step (a piece
	 * of 6 rows at K = 8960 ran 2 of them one row at a time).
	 */
	c->piece = w->row_bytes < MM_PIECE_BYTES ? (uint32_t)(MM_PIECE_BYTES / w->row_bytes) : 1;
	c->piece = (c->piece + unit - 1) / unit * unit;
	for (unsigned int t = 0; t < threads; t++) {
		uint64_t f = (uint64_t)n * t / threads / unit * unit;
		uint64_t b = t + 1 < threads ? (uint64_t)n * (t + 1) / threads / unit * unit : n;

		atomic_store_explicit(&c->ranges[t].v, f | b << 32, memory_order_relaxed);
	}
	/* the pool's release of the loop publishes the ranges */
	sim_pool_run(ex->pool, threads, mm_range_task, c);
}

static uint32_t matmul_run(struct sim_exec *ex, const struct sim_op *op)
{
	const struct sim_tensor *w = &op->t[MM_W];
	uint64_t rows = sim_tensor_nrows(&op->t[MM_X]);
	unsigned int threads = sim_pool_threads(ex->pool);
	uint32_t n = w->ne[1];
	struct mm_ctx c = {
		.kern = sim_kernels_get(),
		.op = op,
	};

	c.act = sim_kernels_act(c.kern, w->dtype);
	c.stream = mm_stream_y(op, rows);
	/*
	 * ~4 tasks per thread: each task starts a new weight stream, which costs
	 * (a decode step of 175 ops ran ~15% slower with 16 per thread, ~30% with
	 * 64); 4 still lets a thread that runs ahead take over a preempted one.
	 */
	c.grouped = anpu_dtype_is_row_grouped(w->dtype);
	c.panel = mm_panel_kernel(&c);
	c.chunk = n / (threads * 4u);
	c.chunk = c.chunk < 16 ? 16 : (c.chunk + mm_col_unit(&c) - 1) / mm_col_unit(&c) *
				      mm_col_unit(&c);
	c.act_bytes = sim_act_row_bytes(c.act, w->ne[0]);
	{
		const char *env = getenv("ANPU_SIM_MM_TILE");

		c.tile = UINT32_MAX;
		if (env && !strcmp(env, "1") && !c.grouped)	/* mm_tile() calls dot() */
			c.tile = w->row_bytes < MM_TILE_BYTES ?
				 (uint32_t)(MM_TILE_BYTES / w->row_bytes) : 1;
	}
	{
		/*
		 * thread 0's scratch: the range words, the converted x rows,
		 * then their panels where the dtype has a panel kernel
		 */
		uint64_t batch = rows < MM_ROW_BATCH ? rows : MM_ROW_BATCH;
		size_t range_bytes = sizeof(struct mm_range) * threads;
		size_t x_bytes = c.act != SIM_ACT_F32 ? (batch * c.act_bytes + 63) & ~(size_t)63 : 0;
		size_t panel_bytes = 0;
		uint8_t *scratch;

		c.panel_bytes = mm_panel_bytes(c.act, w->ne[0]);
		if (c.panel && batch >= MM_PANEL_MIN_ROWS)
			panel_bytes = c.panel_bytes * ((batch + SIM_PANEL_ROWS - 1) / SIM_PANEL_ROWS);
		scratch = sim_pool_scratch(ex->pool, 0, range_bytes + x_bytes + panel_bytes);
		if (!scratch)	/* host out of memory: nothing fits the ISA better */
			return ANPU_CAUSE_SIZE_OVERFLOW;
		c.ranges = (struct mm_range *)scratch;
		c.xbuf = scratch + range_bytes;
		c.xpanel = panel_bytes ? c.xbuf + x_bytes : NULL;
	}
	for (c.row0 = 0; c.row0 < rows; c.row0 += c.nrows) {
		c.nrows = rows - c.row0 < MM_ROW_BATCH ? (uint32_t)(rows - c.row0) : MM_ROW_BATCH;
		c.npanels = c.xpanel ? c.nrows / SIM_PANEL_ROWS : 0;
		if (c.xpanel && c.nrows % SIM_PANEL_ROWS >= MM_PANEL_MIN_ROWS)
			c.npanels++;	/* a partial panel: its zero rows cost less than 4-row calls */
		c.panel_rows = c.npanels * SIM_PANEL_ROWS < c.nrows ? c.npanels * SIM_PANEL_ROWS :
								      c.nrows;
		c.lane_row0 = mm_lane_row0(&c);
		if (c.npanels && c.panel_rows == c.nrows &&
		    (uint64_t)n * w->row_bytes <= MM_SPLIT_ROWS_BYTES &&
		    (c.npanels + SIM_PANEL_MAX - 1) / SIM_PANEL_MAX >= threads) {
			sim_pool_run(ex->pool, (c.npanels + SIM_PANEL_MAX - 1) / SIM_PANEL_MAX,
				     mm_rows_task, &c);
			continue;
		}
		if (c.act != SIM_ACT_F32) {
			if (c.nrows == 1)
				mm_quantize_row(&c, 0);
			else	/* a task per panel, then per row left */
				sim_pool_run(ex->pool, c.npanels + c.nrows - c.panel_rows,
					     mm_convert_task, &c);
		}
		if (c.nrows == 1 && threads > 1 &&
		    (!c.kern->dot_w2[w->dtype] || (uint64_t)n * w->row_bytes < MM_W2_BYTES))
			mm_run_ranges(ex, &c, threads);
		else
			sim_pool_run(ex->pool, (n + c.chunk - 1) / c.chunk, mm_dot_task, &c);
	}
	return ANPU_CAUSE_NONE;
}

static void matmul_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	const struct sim_tensor *x = &op->t[MM_X];
	const struct sim_tensor *w = &op->t[MM_W];
	uint64_t rows = sim_tensor_nrows(x);
	uint64_t n = w->ne[1];

	cost->macs = (uint64_t)w->ne[0] * n * rows;
	cost->bytes = n * w->row_bytes + rows * x->row_bytes +
		      rows * op->t[MM_Y].row_bytes *
			      ((op->flags & ANPU_MATMUL_ACCUMULATE) ? 2 : 1);
	if (op->n_tensors > MM_BIAS)
		cost->bytes += op->t[MM_BIAS].row_bytes;
	switch (w->dtype) {
	case ANPU_DTYPE_F32:
		cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_F32;
		break;
	case ANPU_DTYPE_F16:
	case ANPU_DTYPE_BF16:
		cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_F16;
		break;
	default:
		cost->macs_per_cycle = ANPU_COST_MACS_PER_CYCLE_INT8;
		break;
	}
}

const struct sim_op_class sim_op_matmul = {
	.name = "matmul",
	.min_tensors = 3,
	.max_tensors = 4,
	.out_mask = 1u << MM_Y,
	.params_bytes = 0,
	.pos_offset = -1,
	.valid_flags = ANPU_MATMUL_FLAGS_ALL,
	.check = matmul_check,
	.run = matmul_run,
	.cost = matmul_cost,
};
