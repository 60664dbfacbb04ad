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
 * The softmax is computed online in blocks of ATT_BLOCK positions in
 * ascending order: the running maximum is subtracted before exp, and the
 * running sum and accumulator are rescaled by exp(old_max - new_max) when a
 * block raises the maximum; a block's weights are summed with 8 partial sums
 * (lane j % 8) combined like a dot product's and then added to the running
 * sum; the output is acc / sum. exp is sim_att_exp() (kernels/att_exp.h: a
 * fixed polynomial, so the same bits on every host, not the C library's).
 * Dot products use 8 interleaved float partial sums (lane d % 8) combined
 * ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)). F16 cache
 * values convert exactly to float. Non-finite inputs give unspecified (but
 * in-bounds) results.
 * One pool task computes, for query row m, up to ATT_HEADS query heads that
 * share a kv head (so each cache row is converted once for all of them);
 * every output row is computed in the fixed order above whatever the
 * grouping, so the result does not depend on the thread count.
 * Inner loops: the att_* entries of the kernel path in use (struct
 * sim_kernels: sim/kernels/att_vec.inc compiled for each path, F16C for the
 * conversion on x86); every path gives identical bits (no FMA).
 * Errors: DTYPE (q/out not F32, caches not F16/F32); SHAPE if q.ne[3] != 1,
 * a cache has ne[2] or ne[3] != 1, v's shape differs from k's, k.ne[0] is
 * not a multiple of head_dim, n_head is not a multiple of n_kv_head,
 * head_dim > ATT_MAX_HEAD_DIM (1024), or out's shape differs from q's;
 * RESERVED_NONZERO if reserved != 0; PARAM if scale is not finite;
 * STEP_PARAM (fault address: the k cache) if pos + M > ctx.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/att_exp.h"
#include "../kernels/kernels.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

#define ATT_MAX_HEAD_DIM	1024u
#define ATT_BLOCK		64u
#define ATT_LANES		8u
/* query heads one task serves, and floats of converted cache rows it holds:
 * with the accumulators about 70 KiB of stack per task */
#define ATT_HEADS		8u
#define ATT_CHUNK_FLOATS	8192u

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

/* acc[d] *= c: element-wise, so any vectorisation gives the same bits. */
static void scale_row(float *acc, float c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		acc[i] *= c;
}

/*
 * One task: query row m of up to ATT_HEADS query heads that share kv head g.
 * They share the cache rows, so each row is converted once per task; the
 * arithmetic of every output row is exactly the one-row algorithm above.
 */
struct attention_job {
	const struct sim_op *op;
	uint32_t group;		/* query heads per kv head */
	uint32_t batches;	/* tasks per (kv head, row): ceil(group / ATT_HEADS) */
	uint32_t chunk_rows;	/* cache rows converted at once */
	const struct sim_kernels *k;	/* the inner loops */
};

struct attention_state {
	const float *q[ATT_HEADS];
	float *out[ATT_HEADS];
	float acc[ATT_HEADS][ATT_MAX_HEAD_DIM];
	float s[ATT_HEADS][ATT_BLOCK];
	float max[ATT_HEADS], sum[ATT_HEADS];
	float rows[ATT_CHUNK_FLOATS];	/* converted cache rows */
};

/*
 * Cache rows j0 .. j0 + n - 1 of the kv head at element @off as floats, one
 * every *stride floats: F32 rows in place, F16 rows converted into @buf.
 * Meanwhile the same rows of the next block (ATT_BLOCK further, below
 * @kv_len) are prefetched: a task streams only its kv head's slice of every
 * row, which the hardware prefetcher alone fetches with few misses in
 * flight; asked for here, they arrive while this block is computed on.
 */
static const float *cache_rows(const struct sim_tensor *c, size_t off, uint32_t j0,
			       uint32_t n, uint32_t hd, uint32_t kv_len, float *buf,
			       size_t *stride, const struct sim_kernels *k)
{
	size_t es = c->dtype == ANPU_DTYPE_F16 ? 2 : 4;
	const uint8_t *src = c->data + (size_t)j0 * c->nb[1] + off * es;
	uint32_t n_ahead = 0;

	if (j0 + ATT_BLOCK < kv_len)
		n_ahead = kv_len - j0 - ATT_BLOCK < n ? kv_len - j0 - ATT_BLOCK : n;
	for (uint32_t j = 0; j < n; j++) {
		/* the address is formed only for rows that exist */
		if (j < n_ahead) {
			const uint8_t *ahead = src + (size_t)(ATT_BLOCK + j) * c->nb[1];

			for (size_t b = 0; b < hd * es; b += 64)
				__builtin_prefetch(ahead + b);
		}
		if (es == 2)
			k->att_f16_to_f32(buf + (size_t)j * hd, src + (size_t)j * c->nb[1], hd);
	}
	if (es == 2) {
		*stride = hd;
		return buf;
	}
	*stride = c->nb[1] / 4;
	return (const float *)src;
}

static void attention_block(const struct attention_job *job,
			    struct attention_state *st, uint32_t nh,
			    size_t off, uint32_t j0, uint32_t nb, uint32_t kv_len)
{
	const struct sim_op *op = job->op;
	const struct sim_kernels *k = job->k;
	uint32_t hd = op->t[0].ne[0];
	float scale = op->params.attention.scale;
	uint32_t step = job->chunk_rows;
	const float *rows;
	size_t stride;

	for (uint32_t c0 = 0; c0 < nb; c0 += step) {
		uint32_t n = nb - c0 < step ? nb - c0 : step;

		rows = cache_rows(&op->t[1], off, j0 + c0, n, hd, kv_len, st->rows, &stride, k);
		for (uint32_t h = 0; h < nh; h++)
			k->att_scores(st->s[h] + c0, st->q[h], rows, stride, n, hd, scale);
	}
	for (uint32_t h = 0; h < nh; h++) {
		float bmax = -INFINITY;

		for (uint32_t j = 0; j < nb; j++)
			bmax = st->s[h][j] > bmax ? st->s[h][j] : bmax;
		if (bmax > st->max[h]) {
			float corr = sim_att_exp(st->max[h] - bmax);

			st->sum[h] *= corr;
			scale_row(st->acc[h], corr, hd);
			st->max[h] = bmax;
		}
		st->sum[h] += k->att_exp_sum(st->s[h], nb, st->max[h]);
	}
	for (uint32_t c0 = 0; c0 < nb; c0 += step) {
		uint32_t n = nb - c0 < step ? nb - c0 : step;

		rows = cache_rows(&op->t[2], off, j0 + c0, n, hd, kv_len, st->rows, &stride, k);
		for (uint32_t h = 0; h < nh; h++)
			k->att_accum(st->acc[h], st->s[h] + c0, rows, stride, n, hd);
	}
}

static void attention_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct attention_job *job = ctx;
	const struct sim_op *op = job->op;
	const struct sim_tensor *q = &op->t[0];
	uint32_t hd = q->ne[0], n_kv = op->t[1].ne[0] / hd;
	uint32_t batch = task % job->batches;
	uint32_t g = task / job->batches % n_kv;
	uint32_t m = task / job->batches / n_kv;
	uint32_t h0 = g * job->group + batch * ATT_HEADS;
	uint32_t nh = job->group - batch * ATT_HEADS;
	uint32_t kv_len = op->pos + m + 1;
	size_t off = (size_t)g * hd;
	struct attention_state st;

	(void)thread;
	if (nh > ATT_HEADS)
		nh = ATT_HEADS;
	for (uint32_t h = 0; h < nh; h++) {
		st.q[h] = (const float *)sim_tensor_row(q, h0 + h, m, 0);
		st.out[h] = (float *)sim_tensor_row(&op->t[3], h0 + h, m, 0);
		st.max[h] = -INFINITY;
		st.sum[h] = 0.0f;
		memset(st.acc[h], 0, 4 * (size_t)hd);
	}
	for (uint32_t j0 = 0; j0 < kv_len; j0 += ATT_BLOCK)
		attention_block(job, &st, nh, off, j0,
				kv_len - j0 < ATT_BLOCK ? kv_len - j0 : ATT_BLOCK, kv_len);
	for (uint32_t h = 0; h < nh; h++)
		for (uint32_t d = 0; d < hd; d++)
			st.out[h][d] = st.acc[h][d] / st.sum[h];
}

static uint32_t attention_run(struct sim_exec *ex, const struct sim_op *op)
{
	uint32_t hd = op->t[0].ne[0], n_kv = op->t[1].ne[0] / hd;
	struct attention_job job = { .op = op, .group = op->t[0].ne[1] / n_kv };
	uint32_t rows = ATT_CHUNK_FLOATS / hd;

	job.k = sim_kernels_get();
	job.batches = (job.group + ATT_HEADS - 1) / ATT_HEADS;
	job.chunk_rows = rows > ATT_BLOCK ? ATT_BLOCK : rows;
	sim_pool_run(ex->pool, job.batches * n_kv * op->t[0].ne[2],
		     attention_task, &job);
	return 0;
}

static void attention_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	const struct sim_tensor *q = &op->t[0], *k = &op->t[1], *v = &op->t[2];
	uint64_t hd = q->ne[0], n_head = q->ne[1], macs = 0, kv_bytes = 0;
	/* Grouped heads share their KV head's rows: K/V are read once per KV head. */
	uint64_t n_kv_head = k->ne[0] / hd;
	uint64_t row_bytes = hd * ((k->dtype == ANPU_DTYPE_F16 ? 2 : 4) +
				   (v->dtype == ANPU_DTYPE_F16 ? 2 : 4));

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
