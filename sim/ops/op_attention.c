// SPDX-License-Identifier: MIT
/*
 * ATTENTION: q F32 [head_dim, n_head, M, 1], k cache and v cache F16/F32
 * [head_dim * n_kv_head, ctx, 1, 1] (same shape; dtypes may differ), out[w]
 * F32 [head_dim, n_head, M, 1]. Params: scale (finite), reserved (0), pos.
 *
 * A cache row is one position; kv head g's slice is elements
 * [g * head_dim, (g + 1) * head_dim). n_kv_head = k.ne[0] / head_dim, and
 * query head h reads kv head h / (n_head / n_kv_head) (grouped-query).
 * Query row m is at position pos + m and attends causally to cache rows
 * 0..pos + m (kv_len = pos + m + 1):
 *   s_j   = scale * dot(q, k_j)               (float)
 *   out   = sum_j softmax(s)_j * v_j
 * The positions are cut into spans of ATT_SPAN (0..255, 256..511, ...).
 * In each span the softmax is computed online in blocks of ATT_BLOCK
 * positions in ascending order, from max = -inf, sum = 0, acc = 0: the
 * running maximum is subtracted before exp, and the running sum and
 * accumulator are rescaled by exp(old_max - new_max) when a block raises the
 * maximum; a block's weights are summed with 8 partial sums (lane j % 8)
 * combined like a dot product's and then added to the running sum. The spans
 * are merged in ascending order: the first one's state is taken as it is,
 * each next one merged by the path's att_merge (both sides rescaled to the
 * larger maximum, then added). The output is acc / sum. exp is sim_att_exp()
 * (kernels/att_exp.h: a fixed polynomial, so the same bits on every host, not
 * the C library's).
 * Dot products use 16 interleaved float partial sums (lane d % 16, each a
 * chain of FMAs in ascending d), lanes i and i + 8 added, and those 8
 * combined ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)); the weighted sum of values
 * is acc[d] = fma(w_j, v_j[d], acc[d]) in ascending j. F16 cache
 * values convert exactly to float. Non-finite inputs give unspecified (but
 * in-bounds) results.
 * Spans make a long decode step parallel without making the result depend
 * on the thread count: how the op is cut into tasks (below) never changes
 * the order of any operation.
 * Inner loops: the att_* entries of the kernel path in use (struct
 * sim_kernels: sim/kernels/att_vec.inc compiled for each path, F16C for the
 * conversion on x86); every path gives identical bits (FMA instructions,
 * fmaf() on the portable path).
 * Errors: DTYPE (q/out not F32, caches not F16/F32); SHAPE if q.ne[3] != 1,
 * a cache has ne[2] or ne[3] != 1, v's shape differs from k's, k.ne[0] is
 * not a multiple of head_dim, n_head is not a multiple of n_kv_head,
 * head_dim > ATT_MAX_HEAD_DIM (1024), or out's shape differs from q's;
 * RESERVED_NONZERO if reserved != 0; PARAM if scale is not finite;
 * STEP_PARAM (fault address: the k cache) if pos + M > ctx.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

#define ATT_MAX_HEAD_DIM	1024u
#define ATT_BLOCK		64u
#define ATT_SPAN		256u	/* positions per span: 4 blocks */
/* a task's state: accumulators of at most ATT_TASK_HEADS query heads and
 * ATT_TASK_FLOATS floats (twice: span and merged), and ATT_CHUNK_FLOATS floats
 * of converted cache rows (16 KiB: a 32 KiB buffer, all of L1, slowed the
 * stream of cache rows through it); about 150 KiB a thread at most */
#define ATT_TASK_HEADS		64u
#define ATT_TASK_FLOATS		16384u
#define ATT_CHUNK_FLOATS	4096u
/*
 * F16 rows shared by at most this many query heads are read as they are,
 * each head converting them again, rather than converted into the chunk
 * buffer once and read back. Decode at position 4000: Qwen3-0.6B (2 heads
 * per kv head) attention 29 -> 21 ms, greedy decode 17.9-20.0 -> 23.7-27.3
 * tok/s; Qwen2.5-1.5B (6) attention 11.1 -> 9.8 ms alone but greedy decode
 * 18.4-19.6 -> 17.1-17.8 tok/s; Qwen2.5-0.5B (7, head_dim 64) attention
 * 5.9 -> 7.0 ms. Where the kernel path serves several heads with one load
 * of a row (att_head_block() > 1), F16 rows are always read as they are.
 */
#define ATT_DIRECT_GROUP	4u
/*
 * Cache rows a kernel call takes when F16 rows are read as they are (no
 * buffer bounds them): Qwen3-0.6B's 2 KiB rows went 4 a call, and the
 * calls' overhead cost ~10% of a decode step's attention at position 4000
 * (8: 585 -> 551 us a layer, rows streamed from memory; 12 or 16: no faster
 * than 4). Narrower rows had gone as many a call as the chunk buffer would
 * have held (Qwen2.5-0.5B 32, Qwen2.5-1.5B 16), their prefetches asked for
 * in fewer, larger bursts: 8 made the decode step's attention at 4000 with
 * the rows streamed from memory 6-8% faster for the 0.5B, 4% for the 1.5B
 * (4: slower again).
 */
#define ATT_DIRECT_ROWS		8u
/*
 * Query rows a prefill row task serves together: each block of cache rows is
 * converted (or read) once for all of them and stays in L1 while each row's
 * scores and sums are formed, row by row, exactly as alone.
 */
#define ATT_TASK_ROWS		4u
/*
 * Query rows a prefill row task serves where the path has att_scores_qt:
 * 16 lanes are 8 rows of Qwen3's 2 heads a kv head (4 rows left half of
 * each vector idle), 48 of Qwen2.5-1.5B's 6, 56 of Qwen2.5-0.5B's 7 (four
 * vectors, the last half full).
 */
#define ATT_TASK_ROWS_QT	8u
#define ATT_ROWSET_MAX		ATT_TASK_ROWS_QT
/* Query vectors att_scores_qt takes at once: one per lane */
#define ATT_QT_LANES		16u
/* Query heads a merge task serves (decode: two tasks for 9-16 heads) */
#define ATT_MERGE_HEADS		8u

static uint32_t fault(uint64_t *fault_addr, const struct sim_tensor *t,
		      uint32_t cause)
{
	*fault_addr = t->npu_addr;
	return cause;
}

static int is_cache_dtype(uint32_t dtype)
{
	return dtype == ANPU_DTYPE_F32 || dtype == ANPU_DTYPE_F16;
}

static uint32_t attention_check(const struct sim_op *op, uint64_t *fault_addr)
{
	const struct sim_tensor *q = &op->t[0], *k = &op->t[1], *v = &op->t[2];
	const struct sim_tensor *out = &op->t[3];
	const struct anpu_params_attention *p = &op->params.attention;
	uint32_t head_dim = q->ne[0], n_kv;

	if (q->dtype != ANPU_DTYPE_F32)
		return fault(fault_addr, q, ANPU_CAUSE_DTYPE);
	if (!is_cache_dtype(k->dtype))
		return fault(fault_addr, k, ANPU_CAUSE_DTYPE);
	if (!is_cache_dtype(v->dtype))
		return fault(fault_addr, v, ANPU_CAUSE_DTYPE);
	if (out->dtype != ANPU_DTYPE_F32)
		return fault(fault_addr, out, ANPU_CAUSE_DTYPE);
	if (q->ne[3] != 1 || head_dim > ATT_MAX_HEAD_DIM)
		return fault(fault_addr, q, ANPU_CAUSE_SHAPE);
	if (k->ne[2] != 1 || k->ne[3] != 1 || k->ne[0] % head_dim != 0)
		return fault(fault_addr, k, ANPU_CAUSE_SHAPE);
	if (!sim_tensor_same_shape(k, v))
		return fault(fault_addr, v, ANPU_CAUSE_SHAPE);
	n_kv = k->ne[0] / head_dim;
	if (q->ne[1] % n_kv != 0)
		return fault(fault_addr, q, ANPU_CAUSE_SHAPE);
	if (!sim_tensor_same_shape(q, out))
		return fault(fault_addr, out, ANPU_CAUSE_SHAPE);
	if (p->reserved != 0)
		return ANPU_CAUSE_RESERVED_NONZERO;
	if (!isfinite(p->scale))
		return ANPU_CAUSE_PARAM;
	if ((uint64_t)op->pos + q->ne[2] > k->ne[1])
		return fault(fault_addr, k, ANPU_CAUSE_STEP_PARAM);
	return 0;
}

/*
 * How an op is cut into tasks. Every output row is computed exactly as
 * defined above whatever the cut, so the result depends neither on it nor on
 * the thread count. A task serves query row m and a chunk of query heads:
 * every head where they fit, so the cache rows are read whole, in one stream
 * per task, and each F16 row is converted once for the heads that share it.
 * Either it computes every span of its row and merges them itself (row tasks:
 * prefill, where rows are many), or one span, whose state it leaves in the
 * op's partials for a merge pass (span tasks: decode, where one row's spans
 * are what keeps the threads busy).
 */
struct attention_job {
	const struct sim_op *op;
	const struct sim_kernels *k;	/* the inner loops */
	uint32_t hd, n_head, group;	/* head_dim, query heads, per kv head */
	uint32_t chunk_heads, chunks;	/* query heads per task, tasks per row and span */
	uint32_t spans;			/* span tasks: the most spans of any row; else 0 */
	uint32_t task_rows;		/* row tasks: query rows per task (1 .. ATT_ROWSET_MAX) */
	/*
	 * Row tasks of several rows on a path with att_scores_qt: the scores
	 * of a task's rows and of the heads of one kv head go 16 at a time, the
	 * queries transposed once per task (qt_sets vectors of 16 a kv head,
	 * query v of kv head g: row v / group, head g * group + v % group).
	 */
	bool qt;
	uint32_t qt_sets;
	bool direct;			/* F16 rows read as they are, not converted first */
	uint32_t head_block;		/* direct F16 rows: heads of a kv head per kernel call */
	size_t state_floats;		/* one thread's state (struct attention_state) */
	float *states;			/* threads x state_floats */
	float *partials;		/* span tasks: [m][span][head], ATT_PARTIAL(hd) each */
};

/* A span's state in the partials: acc[hd], then max and sum. */
#define ATT_PARTIAL(hd)		((size_t)(hd) + 2)

/* One thread's working state, carved from job->states in 64-byte aligned parts. */
struct attention_state {
	float *acc, *s, *max, *sum;	/* the span being computed, per head of the chunk */
	float *macc, *mmax, *msum;	/* row tasks: the spans merged so far */
	float *rows;			/* converted cache rows */
	float *qt;			/* job->qt: the task's queries transposed */
	float *qt_s;			/* job->qt: scratch for the scores of lanes of no row */
};

static size_t state_part(size_t floats)
{
	return (floats + 15) & ~(size_t)15;
}

/* The transposed queries of a task: @qt_sets vectors of 16 for each kv head of the chunk */
static size_t qt_floats(uint32_t heads, uint32_t group, uint32_t hd, uint32_t qt_sets)
{
	return (size_t)heads / group * qt_sets * ATT_QT_LANES * hd;
}

/*
 * One thread's state: @rows query rows' parts, then the shared row buffer
 * and, for att_scores_qt, the transposed queries and a chunk's scores.
 */
static size_t attention_state_floats(uint32_t heads, uint32_t hd, uint32_t rows,
				     size_t qt_part)
{
	return rows * (2 * state_part((size_t)heads * hd) +
		       state_part((size_t)heads * ATT_BLOCK) + 4 * state_part(heads)) +
	       ATT_CHUNK_FLOATS + (qt_part ? qt_part + ATT_BLOCK : 0);
}

/* st[0 .. job->task_rows - 1]: thread @thread's state of each row of a task */
static void attention_state_init(struct attention_state *st,
				 const struct attention_job *job, unsigned int thread)
{
	float *p = job->states + thread * job->state_floats;
	size_t heads = job->chunk_heads, hd = job->hd;
	size_t qt_part = job->qt ? qt_floats(job->chunk_heads, job->group, job->hd, job->qt_sets) : 0;
	float *rows = p + job->state_floats - ATT_CHUNK_FLOATS -
		      (qt_part ? qt_part + ATT_BLOCK : 0);

	for (uint32_t r = 0; r < job->task_rows; r++) {
		st[r].acc = p;
		p += state_part(heads * hd);
		st[r].macc = p;
		p += state_part(heads * hd);
		st[r].s = p;
		p += state_part(heads * ATT_BLOCK);
		st[r].max = p;
		p += state_part(heads);
		st[r].sum = p;
		p += state_part(heads);
		st[r].mmax = p;
		p += state_part(heads);
		st[r].msum = p;
		p += state_part(heads);
		st[r].rows = rows;
		st[r].qt = qt_part ? rows + ATT_CHUNK_FLOATS : NULL;
		st[r].qt_s = qt_part ? rows + ATT_CHUNK_FLOATS + qt_part : NULL;
	}
}

static size_t cache_elem_bytes(const struct sim_tensor *c)
{
	return c->dtype == ANPU_DTYPE_F16 ? 2 : 4;
}

/* Element @off of cache row @j. */
static const uint8_t *cache_at(const struct sim_tensor *c, uint32_t j, size_t off)
{
	return c->data + (size_t)j * c->nb[1] + off * cache_elem_bytes(c);
}

/*
 * Cache rows j0 .. j0 + n - 1, elements [@off, @off + @width) of each (the
 * kv heads being worked on, side by side), as floats, one row every *stride
 * floats: F32 rows in place, F16 rows converted into @buf. The rows are read
 * whole and in order.
 */
static const float *cache_rows(const struct sim_tensor *c, size_t off, uint32_t j0,
			       uint32_t n, uint32_t width, float *buf, size_t *stride,
			       const struct sim_kernels *k)
{
	const uint8_t *src = cache_at(c, j0, off);

	if (c->dtype == ANPU_DTYPE_F32) {
		*stride = c->nb[1] / 4;
		return (const float *)src;
	}
	if (c->nb[1] == (size_t)width * 2)	/* whole rows, back to back: one call */
		k->att_f16_to_f32(buf, src, n * width);
	else
		for (uint32_t j = 0; j < n; j++)
			k->att_f16_to_f32(buf + (size_t)j * width, src + (size_t)j * c->nb[1],
					  width);
	*stride = width;
	return buf;
}

/*
 * Cache rows as the kernels take them: floats (cache_rows()) or, for F16
 * caches where job->direct says so, the F16 rows as they are.
 */
struct att_rows {
	const float *f;
	const uint16_t *h;	/* set: F16 rows read directly */
	size_t stride;		/* elements from one row to the next */
};

static void rows_view(const struct attention_job *job, const struct sim_tensor *c, size_t off,
		      uint32_t j0, uint32_t n, uint32_t width, float *buf, struct att_rows *r)
{
	if (c->dtype == ANPU_DTYPE_F16 && job->direct) {
		r->f = NULL;
		r->h = (const uint16_t *)(const void *)cache_at(c, j0, off);
		r->stride = c->nb[1] / 2;
		return;
	}
	r->h = NULL;
	r->f = cache_rows(c, off, j0, n, width, buf, &r->stride, job->k);
}

/*
 * Software prefetch of the cache rows a later step reads, spread over the
 * kernel calls of the step before: the core misses memory only when the
 * requests come a few at a time between computations. Asked for in bursts,
 * or left to the hardware prefetcher, a decode step at position 4000 read
 * the cache at a third of the bandwidth.
 */
struct att_prefetch {
	uintptr_t row;		/* the current row's first byte */
	uintptr_t line;		/* the next cache line to ask for */
	size_t nb1, bytes;	/* row stride; bytes of a row to fetch */
	uint32_t rows;		/* rows left, the current one included */
};

/* Rows j0 .. j0 + n - 1, elements [@off, @off + @width) of cache @c. */
static void prefetch_plan(struct att_prefetch *pf, const struct sim_tensor *c, size_t off,
			  uint32_t j0, uint32_t n, uint32_t width)
{
	*pf = (struct att_prefetch){ .rows = n };
	if (!n)
		return;
	/* addresses as integers: a row's first line may start before the tensor */
	pf->row = (uintptr_t)cache_at(c, j0, off);
	pf->line = pf->row & ~(uintptr_t)63;
	pf->nb1 = c->nb[1];
	pf->bytes = width * cache_elem_bytes(c);
}

/* At most this many lines (a row may straddle one more line than it fills). */
static uint32_t prefetch_lines(const struct att_prefetch *pf)
{
	return pf->rows * (uint32_t)((pf->bytes + 63) / 64 + 1);
}

/*
 * Ask for the next @lines lines of the plan (into L2: the rows are read once),
 * a row's lines in one tight loop: per line, the loop that checked for the
 * row's end and kept the plan in memory cost as much as a tenth of a decode
 * step's attention with the rows in L3.
 */
static void prefetch_some(struct att_prefetch *pf, uint32_t lines)
{
	uintptr_t line = pf->line, row = pf->row;
	uint32_t rows = pf->rows;

	while (lines && rows) {
		uintptr_t end = row + pf->bytes;	/* past the row's last byte */
		uintptr_t stop = line + (uintptr_t)lines * 64;

		if (stop > end)
			stop = end;
		for (; line < stop; line += 64, lines--)
			__builtin_prefetch((const void *)line, 0, 1);
		if (line >= end) {
			row += pf->nb1;
			line = row & ~(uintptr_t)63;
			rows--;
		}
	}
	pf->line = line;
	pf->row = row;
	pf->rows = rows;
}

/*
 * Query rows of a task that take part in a block or span: row m[r] with
 * state st[r] takes cache rows j0 .. j0 + nb[r] - 1 of the block (rows in
 * ascending order, so nb[] ascends too).
 */
struct att_rowset {
	uint32_t n;
	uint32_t m0;			/* the task's first row */
	uint32_t m[ATT_ROWSET_MAX];
	uint32_t nb[ATT_ROWSET_MAX];
	uint32_t j_end[ATT_ROWSET_MAX];	/* each row's end of the span */
	struct attention_state *st[ATT_ROWSET_MAX];
};

/* What a pass over a chunk of cache rows computes: K rows' scores or V rows' sums. */
enum att_pass {
	ATT_SCORES,
	ATT_VALUES,
};

/*
 * Query heads from @h that one kernel call serves, of the @left heads still
 * to go: F16 rows read directly go to the path's multi-head kernels, at most
 * job->head_block heads of one kv head at a time; other rows one head a call.
 */
static uint32_t call_heads(const struct attention_job *job, const struct att_rows *r,
			   uint32_t h, uint32_t left)
{
	uint32_t n = job->group - h % job->group;

	if (!r->h)
		return 1;
	n = n < job->head_block ? n : job->head_block;
	return n < left ? n : left;
}

/* Kernel calls of a pass over the chunk at @c0: the heads [h, h + nh) of every row that reaches it. */
static uint32_t att_calls(const struct attention_job *job, const struct att_rowset *rs,
			  const struct att_rows *r, uint32_t c0, uint32_t h, uint32_t nh)
{
	uint32_t calls = 0, rows = 0;

	for (uint32_t q = 0; q < rs->n; q++)
		rows += rs->nb[q] > c0;
	for (uint32_t i = 0; i < nh; i += call_heads(job, r, h + i, nh - i))
		calls++;
	return rows * calls;
}

/*
 * Cache rows @r (@n of them, from @c0 in the block) through query heads
 * [h, h + nh) of every row of @rs that reaches them, each row taking its
 * own part: their scores (ATT_SCORES, K rows) or their weighted sums
 * (ATT_VALUES, V rows). @per_call lines of @pf are asked for per call.
 */
static void att_chunk_pass(const struct attention_job *job, const struct att_rowset *rs,
			   enum att_pass pass, const struct att_rows *r, uint32_t c0, uint32_t n,
			   uint32_t h, uint32_t local, uint32_t nh, uint32_t g0,
			   struct att_prefetch *pf, uint32_t per_call)
{
	const struct sim_kernels *k = job->k;
	uint32_t hd = job->hd;
	float scale = job->op->params.attention.scale;

	for (uint32_t q = 0; q < rs->n; q++) {
		struct attention_state *st = rs->st[q];
		uint32_t nq = rs->nb[q] - c0 < n ? rs->nb[q] - c0 : n;

		if (rs->nb[q] <= c0)
			continue;
		for (uint32_t i = 0, c; i < nh; i += c) {
			float *s = st->s + (size_t)(local + i) * ATT_BLOCK + c0;
			float *acc = st->acc + (size_t)(local + i) * hd;
			size_t at = (size_t)((h + i) / job->group - g0) * hd;
			const struct sim_tensor *qt = &job->op->t[0];
			const float *qv;

			c = call_heads(job, r, h + i, nh - i);
			prefetch_some(pf, per_call);
			if (pass == ATT_VALUES) {
				if (r->h)
					k->att_accum_f16_heads(acc, hd, s, ATT_BLOCK, r->h + at,
							       r->stride, nq, hd, c);
				else
					k->att_accum(acc, s, r->f + at, r->stride, nq, hd);
				continue;
			}
			qv = (const float *)sim_tensor_row(qt, h + i, rs->m[q], 0);
			if (r->h)
				k->att_scores_f16_heads(s, ATT_BLOCK, qv, qt->nb[1] / 4,
							r->h + at, r->stride, nq, hd, scale, c);
			else
				k->att_scores(s, qv, r->f + at, r->stride, nq, hd, scale);
		}
	}
}

/*
 * The scores pass of attention_block() through att_scores_qt (job->qt;
 * heads [h, h + n_kv * group): whole kv heads, as job->qt has them): kv
 * head by kv head, a chunk of its K rows as floats (converted once for
 * the task's rows and heads), then each vector of 16 queries against them,
 * the scores stored in each row's and head's place (a row that takes fewer
 * of the chunk's K rows gets scores past its own, never read). The bits
 * are att_scores's, so a row's scores are what it gets alone.
 */
static void attention_scores_qt(const struct attention_job *job, const struct att_rowset *rs,
				uint32_t h, uint32_t local, uint32_t g0, uint32_t n_kv, uint32_t j0)
{
	const struct sim_tensor *kc = &job->op->t[1];
	const uint32_t hd = job->hd, group = job->group;
	const uint32_t step = ATT_CHUNK_FLOATS / hd < ATT_BLOCK ? ATT_CHUNK_FLOATS / hd : ATT_BLOCK;
	const uint32_t nb = rs->nb[rs->n - 1], g_first = (h - local) / group;
	const float scale = job->op->params.attention.scale;
	struct attention_state *st0 = rs->st[0];
	int32_t at[ATT_ROWSET_MAX];	/* task row -> its place in @rs, -1: not in this block */

	for (uint32_t q = 0; q < job->task_rows; q++)
		at[q] = -1;
	for (uint32_t x = 0; x < rs->n; x++)
		at[rs->m[x] - rs->m0] = (int32_t)x;
	for (uint32_t g = g0; g < g0 + n_kv; g++) {
		for (uint32_t c0 = 0; c0 < nb; c0 += step) {
			uint32_t n = nb - c0 < step ? nb - c0 : step;
			size_t stride;
			const float *rows = cache_rows(kc, (size_t)g * hd, j0 + c0, n, hd, st0->rows,
						       &stride, job->k);
			struct att_prefetch pf;
			uint32_t per_set;

			/* the same V rows, for the values pass, while the scores are formed */
			prefetch_plan(&pf, &job->op->t[2], (size_t)g * hd, j0 + c0, n, hd);
			per_set = (prefetch_lines(&pf) + job->qt_sets - 1) / job->qt_sets;
			for (uint32_t set = 0; set < job->qt_sets; set++) {
				const float *qt = st0->qt + ((size_t)(g - g_first) * job->qt_sets + set) *
							    ATT_QT_LANES * hd;
				float *dst[ATT_QT_LANES];

				/* each query's scores in its row's and head's place (lanes of no row: scratch) */
				for (uint32_t l = 0; l < ATT_QT_LANES; l++) {
					uint32_t v = set * ATT_QT_LANES + l, q = v / group;
					uint32_t head = g * group + v % group;
					int32_t x = q < job->task_rows ? at[q] : -1;

					dst[l] = st0->qt_s;
					if (x >= 0 && rs->nb[x] > c0)
						dst[l] = rs->st[x]->s + (size_t)(local + head - h) *
									ATT_BLOCK + c0;
				}
				prefetch_some(&pf, per_set);
				job->k->att_scores_qt(dst, qt, rows, stride, n, hd, scale);
			}
		}
	}
}

/*
 * The values pass of attention_block() for att_scores_qt's tasks (heads
 * as for attention_scores_qt): kv head by kv head, a chunk of its V rows
 * as floats (converted once for the task's rows), summed into each row's
 * heads, att_head_block() heads a call (att_accum_heads: the bits of att_accum, so of a row alone), while
 * the next block's K rows of that kv head are asked for.
 */
static void attention_values_qt(const struct attention_job *job, const struct att_rowset *rs,
				uint32_t h, uint32_t local, uint32_t g0, uint32_t n_kv, uint32_t j0)
{
	const struct sim_tensor *vc = &job->op->t[2];
	const uint32_t hd = job->hd, group = job->group;
	const uint32_t step = ATT_CHUNK_FLOATS / hd < ATT_BLOCK ? ATT_CHUNK_FLOATS / hd : ATT_BLOCK;
	const uint32_t nb = rs->nb[rs->n - 1], j_end = rs->j_end[rs->n - 1];
	float *buf = rs->st[0]->rows;

	for (uint32_t g = g0; g < g0 + n_kv; g++) {
		for (uint32_t c0 = 0; c0 < nb; c0 += step) {
			uint32_t n = nb - c0 < step ? nb - c0 : step, ahead = 0;
			size_t stride;
			const float *rows = cache_rows(vc, (size_t)g * hd, j0 + c0, n, hd, buf, &stride,
						       job->k);
			struct att_prefetch pf;

			/* the address is formed only for rows of the span */
			if (j0 + ATT_BLOCK + c0 < j_end)
				ahead = j_end - (j0 + ATT_BLOCK + c0) < n ?
					j_end - (j0 + ATT_BLOCK + c0) : n;
			prefetch_plan(&pf, &job->op->t[1], (size_t)g * hd, j0 + ATT_BLOCK + c0, ahead,
				      hd);
			for (uint32_t x = 0; x < rs->n; x++) {
				struct attention_state *st = rs->st[x];
				uint32_t nq = rs->nb[x] - c0 < n ? rs->nb[x] - c0 : n;

				if (rs->nb[x] <= c0)
					continue;
				prefetch_some(&pf, (prefetch_lines(&pf) + rs->n - 1) / rs->n);
				for (uint32_t e = 0, c; e < group; e += c) {
					uint32_t i = g * group + e - h;	/* the head's place in @rs */

					c = group - e < job->head_block ? group - e : job->head_block;
					job->k->att_accum_heads(st->acc + (size_t)(local + i) * hd, hd,
								st->s + (size_t)(local + i) * ATT_BLOCK + c0,
								ATT_BLOCK, rows, stride, nq, hd, c);
				}
			}
		}
	}
}

/*
 * The queries of task rows m0 .. m0 + nr - 1, heads [h0, h0 + nh) (whole kv
 * heads), transposed for attention_scores_qt; lanes of rows the task does
 * not have are zero (their scores are never read).
 */
static void attention_qt_init(const struct attention_job *job, float *qt, uint32_t m0,
			      uint32_t nr, uint32_t h0, uint32_t nh)
{
	const struct sim_tensor *qtn = &job->op->t[0];
	const uint32_t hd = job->hd, group = job->group, nv = nr * group;

	for (uint32_t gi = 0; gi < nh / group; gi++)
		for (uint32_t set = 0; set < job->qt_sets; set++) {
			const float *q[ATT_QT_LANES];
			uint32_t n = 0;

			for (uint32_t v = set * ATT_QT_LANES; v < nv && n < ATT_QT_LANES; v++)
				q[n++] = (const float *)sim_tensor_row(qtn, h0 + gi * group + v % group,
								       m0 + v / group, 0);
			job->k->att_qt_transpose(qt + ((size_t)gi * job->qt_sets + set) *
						      ATT_QT_LANES * hd, q, n, hd);
		}
}

/*
 * Cache rows j0 .. j0 + nb - 1 (nb <= ATT_BLOCK, per row of @rs) for query
 * heads [h, h + nh) of every row of @rs (@local: the first head's index in
 * the chunk's state), whose kv heads are g0 .. g0 + n_kv - 1: the block's
 * scores, its online-softmax step and its weighted sum of values, row by
 * row as each row alone would do them. The kv heads' slices of a cache row
 * are converted together, a few rows at a time, once for all the query rows.
 * While the scores of some rows are computed, their V rows are prefetched;
 * while their values are summed, the same K rows of the next block (below
 * the span's end).
 */
static void attention_block(const struct attention_job *job, const struct att_rowset *rs,
			    uint32_t h, uint32_t local, uint32_t nh, uint32_t g0,
			    uint32_t n_kv, uint32_t j0)
{
	const struct sim_op *op = job->op;
	const struct sim_kernels *k = job->k;
	uint32_t hd = job->hd, width = n_kv * hd;
	uint32_t step = ATT_CHUNK_FLOATS / width < ATT_BLOCK ? ATT_CHUNK_FLOATS / width : ATT_BLOCK;
	uint32_t nb = rs->nb[rs->n - 1], j_end = rs->j_end[rs->n - 1];
	size_t off = (size_t)g0 * hd;
	float *buf = rs->st[0]->rows;
	/* att_scores_qt's passes where more than one row takes the block */
	const bool qt = job->qt && rs->n > 1;
	struct att_prefetch pf;
	struct att_rows r;

	if (job->direct)	/* the buffer is not used */
		step = ATT_DIRECT_ROWS;
	if (qt)
		attention_scores_qt(job, rs, h, local, g0, n_kv, j0);
	for (uint32_t c0 = 0; c0 < nb && !qt; c0 += step) {
		uint32_t n = nb - c0 < step ? nb - c0 : step, calls;

		prefetch_plan(&pf, &op->t[2], off, j0 + c0, n, width);
		rows_view(job, &op->t[1], off, j0 + c0, n, width, buf, &r);
		calls = att_calls(job, rs, &r, c0, h, nh);
		att_chunk_pass(job, rs, ATT_SCORES, &r, c0, n, h, local, nh, g0, &pf,
			       (prefetch_lines(&pf) + calls - 1) / calls);
	}
	for (uint32_t q = 0; q < rs->n; q++) {
		struct attention_state *st = rs->st[q];

		k->att_softmax_step(st->s + (size_t)local * ATT_BLOCK, ATT_BLOCK, rs->nb[q],
				    st->max + local, st->sum + local, st->acc + (size_t)local * hd,
				    hd, nh);
	}
	if (qt) {
		attention_values_qt(job, rs, h, local, g0, n_kv, j0);
		return;
	}
	for (uint32_t c0 = 0; c0 < nb; c0 += step) {
		uint32_t n = nb - c0 < step ? nb - c0 : step, ahead = 0, calls;

		/* the address is formed only for rows of the span */
		if (j0 + ATT_BLOCK + c0 < j_end)
			ahead = j_end - (j0 + ATT_BLOCK + c0) < n ? j_end - (j0 + ATT_BLOCK + c0) : n;
		prefetch_plan(&pf, &op->t[1], off, j0 + ATT_BLOCK + c0, ahead, width);
		rows_view(job, &op->t[2], off, j0 + c0, n, width, buf, &r);
		calls = att_calls(job, rs, &r, c0, h, nh);
		att_chunk_pass(job, rs, ATT_VALUES, &r, c0, n, h, local, nh, g0, &pf,
			       (prefetch_lines(&pf) + calls - 1) / calls);
	}
}

/*
 * The online softmax of query heads [h0, h0 + nh) of each row of @rs over
 * cache rows j_begin .. rs->j_end[r] - 1 (one span), from the empty state.
 * Block by block; in a block, the kv heads go in batches whose converted
 * rows fit the chunk buffer (every kv head of the chunk where they fit, so
 * the cache rows are read whole), each batch with the query heads that read
 * it.
 */
static void attention_span(const struct attention_job *job, struct att_rowset *rs,
			   uint32_t h0, uint32_t nh, uint32_t j_begin)
{
	uint32_t hd = job->hd, group = job->group, batch = ATT_CHUNK_FLOATS / hd;
	uint32_t j_last = rs->j_end[rs->n - 1];

	for (uint32_t q = 0; q < rs->n; q++) {
		struct attention_state *st = rs->st[q];

		for (uint32_t i = 0; i < nh; i++) {
			st->max[i] = -INFINITY;
			st->sum[i] = 0.0f;
		}
		memset(st->acc, 0, sizeof(float) * nh * hd);
	}
	for (uint32_t j0 = j_begin; j0 < j_last; j0 += ATT_BLOCK) {
		struct att_rowset b = { 0 };

		/* the rows that reach this block, each with its part of it */
		for (uint32_t q = 0; q < rs->n; q++) {
			if (rs->j_end[q] <= j0)
				continue;
			b.m0 = rs->m0;
			b.m[b.n] = rs->m[q];
			b.st[b.n] = rs->st[q];
			b.j_end[b.n] = rs->j_end[q];
			b.nb[b.n++] = rs->j_end[q] - j0 < ATT_BLOCK ? rs->j_end[q] - j0 : ATT_BLOCK;
		}
		for (uint32_t i = 0, n; i < nh; i += n) {
			uint32_t g0 = (h0 + i) / group, g_end = (h0 + nh - 1) / group + 1;

			if (g_end - g0 > batch)
				g_end = g0 + batch;
			/* the query heads of kv heads g0 .. g_end - 1 within the chunk */
			n = g_end * group - (h0 + i);
			if (n > nh - i)
				n = nh - i;
			attention_block(job, &b, h0 + i, i, n, g0, g_end - g0, j0);
		}
	}
}

typedef float att_out_v4f __attribute__((vector_size(16)));

/*
 * Row m's head h: acc / sum, four lanes a division (the same IEEE quotient
 * as one at a time). A division at a time (the loop was not vectorized: out
 * might alias acc) was ~18% of a Qwen3-0.6B 128-token prefill's attention.
 */
static void write_out(const struct attention_job *job, uint32_t m, uint32_t h,
		      const float *acc, float sum)
{
	float *out = (float *)sim_tensor_row(&job->op->t[3], h, m, 0);
	const uint32_t hd = job->hd;
	uint32_t d = 0;

	for (; d + 4 <= hd; d += 4) {
		att_out_v4f v;

		memcpy(&v, acc + d, sizeof(v));
		v = v / sum;
		memcpy(out + d, &v, sizeof(v));
	}
	for (; d < hd; d++)
		out[d] = acc[d] / sum;
}

/* Cache rows 0 .. kv_len - 1 are row m's. */
static uint32_t kv_len_of(const struct attention_job *job, uint32_t m)
{
	return job->op->pos + m + 1;
}

static uint32_t chunk_size(const struct attention_job *job, uint32_t h0)
{
	return job->n_head - h0 < job->chunk_heads ? job->n_head - h0 : job->chunk_heads;
}

/*
 * Row task: every span of query rows m0 .. m0 + job->task_rows - 1 (those
 * the op has) for one chunk of heads, each row's spans merged in order.
 */
static void attention_row_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct attention_job *job = ctx;
	uint32_t m0 = task / job->chunks * job->task_rows, h0 = task % job->chunks * job->chunk_heads;
	uint32_t rows = job->op->t[0].ne[2], hd = job->hd, nh = chunk_size(job, h0);
	uint32_t nr = rows - m0 < job->task_rows ? rows - m0 : job->task_rows;
	uint32_t kv_last = kv_len_of(job, m0 + nr - 1);
	struct attention_state st[ATT_ROWSET_MAX];

	attention_state_init(st, job, thread);
	if (job->qt)
		attention_qt_init(job, st[0].qt, m0, nr, h0, nh);
	for (uint32_t j = 0; j < kv_last; j += ATT_SPAN) {
		struct att_rowset rs = { .m0 = m0 };

		for (uint32_t q = 0; q < nr; q++) {	/* the rows with cache rows in this span */
			uint32_t kv_len = kv_len_of(job, m0 + q);

			if (kv_len <= j)
				continue;
			rs.m[rs.n] = m0 + q;
			rs.st[rs.n] = &st[q];
			rs.j_end[rs.n++] = kv_len - j < ATT_SPAN ? kv_len : j + ATT_SPAN;
		}
		attention_span(job, &rs, h0, nh, j);
		for (uint32_t q = 0; q < rs.n; q++) {
			struct attention_state *s = rs.st[q];
			struct sim_att_heads run = { .acc = s->macc, .max = s->mmax, .sum = s->msum,
						     .acc_stride = hd, .stride = 1 };
			struct sim_att_heads span_st = { .acc = s->acc, .max = s->max, .sum = s->sum,
							 .acc_stride = hd, .stride = 1 };

			if (j == 0) {	/* the first span's state is taken as it is */
				memcpy(s->macc, s->acc, sizeof(float) * nh * hd);
				memcpy(s->mmax, s->max, sizeof(float) * nh);
				memcpy(s->msum, s->sum, sizeof(float) * nh);
				continue;
			}
			job->k->att_merge(&run, &span_st, hd, nh);
		}
	}
	for (uint32_t q = 0; q < nr; q++)
		for (uint32_t i = 0; i < nh; i++)
			write_out(job, m0 + q, h0 + i, st[q].macc + (size_t)i * hd, st[q].msum[i]);
}

static float *partial(const struct attention_job *job, uint32_t m, uint32_t span, uint32_t h)
{
	return job->partials +
	       (((size_t)m * job->spans + span) * job->n_head + h) * ATT_PARTIAL(job->hd);
}

/*
 * The K rows of a span task's first block (rows j .. j_end - 1, at most a
 * block; the kv heads of query heads [h0, h0 + nh)), asked for all at once:
 * later blocks' rows are prefetched while the block before is worked on,
 * the first one's came as the kernels' misses, a few at a time (decode at
 * position 4000: Qwen3-0.6B's attention ~5% faster, Qwen2.5-1.5B's ~2%).
 */
static void prefetch_first_block(const struct attention_job *job, uint32_t h0, uint32_t nh,
				 uint32_t j, uint32_t j_end)
{
	uint32_t g0 = h0 / job->group, g_end = (h0 + nh - 1) / job->group + 1;
	uint32_t n = j_end - j < ATT_BLOCK ? j_end - j : ATT_BLOCK;
	struct att_prefetch pf;

	prefetch_plan(&pf, &job->op->t[1], (size_t)g0 * job->hd, j, n, (g_end - g0) * job->hd);
	prefetch_some(&pf, prefetch_lines(&pf));
}

/*
 * Span task: one span of row m for one chunk of heads, into the partials.
 * Tasks go chunk by chunk within a span, spans in order: the whole spans
 * before the last, shorter one.
 */
static void attention_span_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct attention_job *job = ctx;
	uint32_t c = task % job->chunks, span = task / job->chunks % job->spans;
	uint32_t m = task / job->chunks / job->spans, h0 = c * job->chunk_heads;
	uint32_t nh = chunk_size(job, h0), kv_len = kv_len_of(job, m), hd = job->hd;
	uint32_t j = span * ATT_SPAN;
	struct attention_state st;

	struct att_rowset rs = { .n = 1, .m = { m }, .st = { &st } };

	if (j >= kv_len)	/* row m has fewer spans than the last row */
		return;
	attention_state_init(&st, job, thread);
	rs.j_end[0] = kv_len - j < ATT_SPAN ? kv_len : j + ATT_SPAN;
	prefetch_first_block(job, h0, nh, j, rs.j_end[0]);
	attention_span(job, &rs, h0, nh, j);
	for (uint32_t i = 0; i < nh; i++) {
		float *p = partial(job, m, span, h0 + i);

		memcpy(p, st.acc + (size_t)i * hd, sizeof(float) * hd);
		p[hd] = st.max[i];
		p[hd + 1] = st.sum[i];
	}
}

/* Span @span's partials of row m, heads [h, h + nh), as att_merge takes them. */
static struct sim_att_heads partial_heads(const struct attention_job *job, uint32_t m,
					  uint32_t span, uint32_t h)
{
	float *p = partial(job, m, span, h);

	return (struct sim_att_heads){ .acc = p, .max = p + job->hd, .sum = p + job->hd + 1,
				       .acc_stride = ATT_PARTIAL(job->hd),
				       .stride = ATT_PARTIAL(job->hd) };
}

/*
 * The merge pass after span tasks: row m, ATT_MERGE_HEADS heads from h, every
 * span merged in order into span 0's. A head a task (14 a decode step of
 * Qwen2.5-0.5B), each waiting on scalar exponentials and on the partials
 * another core wrote, took ~8% of two threads at position 4000; this way
 * the step's attention was ~6% faster.
 */
static void attention_merge_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct attention_job *job = ctx;
	uint32_t groups = (job->n_head + ATT_MERGE_HEADS - 1) / ATT_MERGE_HEADS;
	uint32_t m = task / groups, h = task % groups * ATT_MERGE_HEADS, hd = job->hd;
	uint32_t nh = job->n_head - h < ATT_MERGE_HEADS ? job->n_head - h : ATT_MERGE_HEADS;
	uint32_t spans = (kv_len_of(job, m) + ATT_SPAN - 1) / ATT_SPAN;
	struct sim_att_heads run = partial_heads(job, m, 0, h), part;

	(void)thread;
	for (uint32_t span = 1; span < spans; span++) {
		part = partial_heads(job, m, span, h);
		job->k->att_merge(&run, &part, hd, nh);
	}
	for (uint32_t i = 0; i < nh; i++)
		write_out(job, m, h + i, run.acc + i * run.acc_stride, run.sum[i * run.stride]);
}

/*
 * Query heads per task: every head where their state fits, else whole kv-head
 * groups, else part of one group; fewer (whole groups) when even a task per
 * span of every row would leave threads idle, or when one task of a whole
 * span (@span_rows cache rows) would be more than 1.5 times a thread's share
 * of the op's @rows_total (the cache rows its query rows read). A decode step
 * just past position 256 has a whole span and a short one, and its two span
 * tasks left one thread with nearly all the work: 2 threads, rows in L3, us
 * a layer at position 256 / 300, Qwen2.5-0.5B 9.8 / 9.4 -> 5.7 / 6.4,
 * Qwen3-0.6B 29.9 / 30.0 -> 20.0 / 25.7, Qwen2.5-1.5B 15.1 / 15.3 -> 9.3 /
 * 10.1. Where the short span is longer (Qwen3 at position 400, 1.28 times a
 * share), halving its tasks' heads was slower (34 -> 43 us).
 */
static uint32_t attention_chunk_heads(uint32_t n_head, uint32_t group, uint32_t hd,
				      uint64_t row_spans, uint32_t span_rows,
				      uint64_t rows_total, unsigned int threads)
{
	uint32_t fit = ATT_TASK_FLOATS / hd < ATT_TASK_HEADS ? ATT_TASK_FLOATS / hd :
							       ATT_TASK_HEADS;
	uint32_t heads = n_head <= fit ? n_head : group <= fit ? fit / group * group : fit;

	while (heads > group && heads % group == 0 &&
	       (row_spans * ((n_head + heads - 1) / heads) < threads ||
		2 * (uint64_t)span_rows * heads * threads > 3 * rows_total * n_head))
		heads = (heads / group + 1) / 2 * group;
	return heads;
}

static uint32_t attention_run(struct sim_exec *ex, const struct sim_op *op)
{
	const struct sim_tensor *q = &op->t[0];
	unsigned int threads = sim_pool_threads(ex->pool);
	uint32_t hd = q->ne[0], n_kv = op->t[1].ne[0] / hd, rows = q->ne[2];
	uint32_t spans = (uint32_t)(((uint64_t)op->pos + rows + ATT_SPAN - 1) / ATT_SPAN);
	struct attention_job job = {
		.op = op, .k = sim_kernels_get(), .hd = hd, .n_head = q->ne[1],
		.group = q->ne[1] / n_kv,
	};
	size_t partial_floats = 0;
	uint64_t rows_total;
	uint32_t span_rows;
	float *scratch;

	/* query rows pos + m read pos + m + 1 cache rows; the last one the most */
	rows_total = (uint64_t)rows * (op->pos + 1) + (uint64_t)rows * (rows - 1) / 2;
	span_rows = op->pos + rows < ATT_SPAN ? (uint32_t)op->pos + rows : ATT_SPAN;
	job.chunk_heads = attention_chunk_heads(job.n_head, job.group, hd,
						(uint64_t)rows * spans, span_rows, rows_total,
						threads);
	job.chunks = (job.n_head + job.chunk_heads - 1) / job.chunk_heads;
	job.head_block = job.k->att_head_block(hd);
	job.direct = job.group <= ATT_DIRECT_GROUP || job.head_block > 1;
	job.task_rows = 1;
	if (spans > 1 && (uint64_t)rows * job.chunks < 4u * threads) {
		job.spans = spans;
		partial_floats = (size_t)rows * spans * job.n_head * ATT_PARTIAL(hd);
	} else {
		/*
		 * att_scores_qt (and the transpose of the queries it takes): whole
		 * kv heads a chunk, head_dim in whole vectors
		 */
		bool qt = job.k->att_scores_qt && job.k->att_qt_transpose && hd % 16 == 0 &&
			  job.chunk_heads % job.group == 0;

		/* still >= 8 row tasks a thread */
		if (qt && (uint64_t)rows * job.chunks >= 8u * ATT_TASK_ROWS_QT * threads) {
			job.task_rows = ATT_TASK_ROWS_QT;
			job.qt = true;
		} else if ((uint64_t)rows * job.chunks >= 8u * ATT_TASK_ROWS * threads) {
			job.task_rows = ATT_TASK_ROWS;
		}
	}
	if (job.qt)
		job.qt_sets = (job.task_rows * job.group + ATT_QT_LANES - 1) / ATT_QT_LANES;
	job.state_floats = attention_state_floats(job.chunk_heads, hd, job.task_rows,
						  job.qt ? qt_floats(job.chunk_heads, job.group, hd,
								     job.qt_sets) : 0);
	/* thread 0's scratch: every thread's state, then the partials */
	scratch = sim_pool_scratch(ex->pool, 0,
				   sizeof(float) * (threads * job.state_floats + partial_floats));
	if (!scratch)	/* host out of memory: nothing fits the ISA better */
		return ANPU_CAUSE_SIZE_OVERFLOW;
	job.states = scratch;
	job.partials = scratch + threads * job.state_floats;
	if (!job.spans) {
		sim_pool_run(ex->pool, (rows + job.task_rows - 1) / job.task_rows * job.chunks,
			     attention_row_task, &job);
		return 0;
	}
	sim_pool_run(ex->pool, rows * job.chunks * job.spans, attention_span_task, &job);
	sim_pool_run(ex->pool, rows * ((job.n_head + ATT_MERGE_HEADS - 1) / ATT_MERGE_HEADS),
		     attention_merge_task, &job);
	return 0;
}

static void attention_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	const struct sim_tensor *q = &op->t[0], *k = &op->t[1], *v = &op->t[2];
	uint64_t hd = q->ne[0], n_head = q->ne[1], macs = 0, kv_bytes = 0;
	/* Grouped heads share their KV head's rows: K/V are read once per KV head. */
	uint64_t n_kv_head = k->ne[0] / hd;
	uint64_t row_bytes = hd * (cache_elem_bytes(k) + cache_elem_bytes(v));

	for (uint64_t m = 0; m < q->ne[2]; m++) {
		uint64_t kv_len = op->pos + m + 1;

		macs += 2 * hd * kv_len * n_head;
		kv_bytes += row_bytes * kv_len * n_kv_head;
	}
	cost->macs = macs;
	cost->bytes = kv_bytes + 8 * hd * n_head * q->ne[2];
	cost->macs_per_cycle = (unsigned int)ANPU_COST_MACS_PER_CYCLE_F32;
}

const struct sim_op_class sim_op_attention = {
	.name = "ATTENTION",
	.min_tensors = 4,
	.max_tensors = 4,
	.out_mask = 1u << 3,
	.params_bytes = sizeof(struct anpu_params_attention),
	.pos_offset = offsetof(struct anpu_params_attention, pos),
	.valid_flags = 0,
	.check = attention_check,
	.run = attention_run,
	.cost = attention_cost,
};
