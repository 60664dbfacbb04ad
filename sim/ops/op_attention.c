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
 * block raises the maximum; the output is acc / sum. Dot products use 8
 * interleaved float partial sums (lane d % 8) combined pairwise. F16 cache
 * values convert exactly to float. Non-finite inputs give unspecified (but
 * in-bounds) results.
 * One pool task computes one output row (h, m) in this fixed order, so the
 * result does not depend on the thread count.
 * Errors: DTYPE (q/out not F32, caches not F16/F32); SHAPE if q.ne[3] != 1,
 * a cache has ne[2] or ne[3] != 1, v's shape differs from k's, k.ne[0] is
 * not a multiple of head_dim, n_head is not a multiple of n_kv_head,
 * head_dim > ATT_MAX_HEAD_DIM (1024), or out's shape differs from q's;
 * RESERVED_NONZERO if reserved != 0; PARAM if scale is not finite;
 * STEP_PARAM (fault address: the k cache) if pos + M > ctx.
 */
#include <math.h>

#include "../sim_fp16.h"
#include "../sim_ops.h"
#include "../sim_pool.h"

#define ATT_MAX_HEAD_DIM	1024u
#define ATT_BLOCK		64u
#define ATT_LANES		8u

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

/* Cache row -> float, exactly. */
static void load_row(float *dst, const uint8_t *src, uint32_t dtype, uint32_t n)
{
	if (dtype == ANPU_DTYPE_F32) {
		const float *s = (const float *)src;

		for (uint32_t i = 0; i < n; i++)
			dst[i] = s[i];
	} else {
		const uint16_t *s = (const uint16_t *)src;

		for (uint32_t i = 0; i < n; i++)
			dst[i] = sim_f16_to_f32(s[i]);
	}
}

static float dot_lanes(const float *a, const float *b, uint32_t n)
{
	float l[ATT_LANES] = { 0 };
	uint32_t i;

	for (i = 0; i + ATT_LANES <= n; i += ATT_LANES)
		for (uint32_t j = 0; j < ATT_LANES; j++)
			l[j] += a[i + j] * b[i + j];
	for (; i < n; i++)
		l[i % ATT_LANES] += a[i] * b[i];
	return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
}

struct attention_job {
	const struct sim_op *op;
	uint32_t group;		/* query heads per kv head */
};

static void attention_task(void *ctx, uint32_t task, unsigned int thread)
{
	const struct attention_job *job = ctx;
	const struct sim_op *op = job->op;
	const struct sim_tensor *q = &op->t[0], *k = &op->t[1], *v = &op->t[2];
	uint32_t hd = q->ne[0], n_head = q->ne[1];
	uint32_t h = task % n_head, m = task / n_head;
	size_t kv_off = (size_t)(h / job->group) * hd;
	size_t k_es = k->dtype == ANPU_DTYPE_F16 ? 2 : 4;
	size_t v_es = v->dtype == ANPU_DTYPE_F16 ? 2 : 4;
	uint32_t kv_len = op->pos + m + 1;
	float scale = op->params.attention.scale;
	const float *qr = (const float *)sim_tensor_row(q, h, m, 0);
	float *out = (float *)sim_tensor_row(&op->t[3], h, m, 0);
	float acc[ATT_MAX_HEAD_DIM], row[ATT_MAX_HEAD_DIM], s[ATT_BLOCK];
	float run_max = -INFINITY, sum = 0.0f;

	(void)thread;
	for (uint32_t d = 0; d < hd; d++)
		acc[d] = 0.0f;
	for (uint32_t j0 = 0; j0 < kv_len; j0 += ATT_BLOCK) {
		uint32_t nb = kv_len - j0 < ATT_BLOCK ? kv_len - j0 : ATT_BLOCK;
		float bmax = -INFINITY;

		for (uint32_t j = 0; j < nb; j++) {
			load_row(row, k->data + (size_t)(j0 + j) * k->nb[1] + kv_off * k_es,
				 k->dtype, hd);
			s[j] = scale * dot_lanes(qr, row, hd);
			if (s[j] > bmax)
				bmax = s[j];
		}
		if (bmax > run_max) {
			float corr = expf(run_max - bmax);

			sum *= corr;
			for (uint32_t d = 0; d < hd; d++)
				acc[d] *= corr;
			run_max = bmax;
		}
		for (uint32_t j = 0; j < nb; j++) {
			float pj = expf(s[j] - run_max);

			sum += pj;
			load_row(row, v->data + (size_t)(j0 + j) * v->nb[1] + kv_off * v_es,
				 v->dtype, hd);
			for (uint32_t d = 0; d < hd; d++)
				acc[d] += pj * row[d];
		}
	}
	for (uint32_t d = 0; d < hd; d++)
		out[d] = acc[d] / sum;
}

static uint32_t attention_run(struct sim_exec *ex, const struct sim_op *op)
{
	uint32_t n_kv = op->t[1].ne[0] / op->t[0].ne[0];
	struct attention_job job = { .op = op, .group = op->t[0].ne[1] / n_kv };

	sim_pool_run(ex->pool, op->t[0].ne[1] * op->t[0].ne[2], attention_task,
		     &job);
	return 0;
}

static void attention_cost(const struct sim_op *op, struct sim_op_cost *cost)
{
	const struct sim_tensor *q = &op->t[0], *k = &op->t[1], *v = &op->t[2];
	uint64_t hd = q->ne[0], n_head = q->ne[1], macs = 0, kv_bytes = 0;
	uint64_t row_bytes = hd * ((k->dtype == ANPU_DTYPE_F16 ? 2 : 4) +
				   (v->dtype == ANPU_DTYPE_F16 ? 2 : 4));

	for (uint64_t m = 0; m < q->ne[2]; m++) {
		uint64_t kv_len = op->pos + m + 1;

		macs += 2 * hd * kv_len * n_head;
		kv_bytes += row_bytes * kv_len * n_head;
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
