// SPDX-License-Identifier: MIT
/*
 * Independent scalar reference of the non-matmul ops, for the unit tests.
 * Everything is computed in double with the textbook formula (two-pass
 * softmax, direct angles), deliberately unlike the kernels' blocked/online
 * forms, and rounded to float once at the end.
 */
#include "ref_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/sim_fp16.h"
#include "../../sim/sim_pool.h"

static size_t dtype_size(uint32_t dtype)
{
	return dtype == ANPU_DTYPE_F16 ? 2 : 4;
}

int ref_tensor_alloc(struct sim_tensor *t, uint32_t dtype, const uint32_t ne[4],
		     uint32_t pad, uint64_t npu_addr)
{
	size_t es = dtype_size(dtype);

	memset(t, 0, sizeof(*t));
	t->dtype = dtype;
	t->npu_addr = npu_addr;
	for (unsigned int i = 0; i < 4; i++)
		t->ne[i] = ne[i];
	t->nb[0] = es;
	t->row_bytes = es * ne[0];
	t->nb[1] = t->row_bytes + pad * es;
	t->nb[2] = t->nb[1] * ne[1] + pad * es;
	t->nb[3] = t->nb[2] * ne[2] + pad * es;
	t->extent = t->row_bytes;
	for (unsigned int i = 1; i < 4; i++)
		t->extent += (size_t)(ne[i] - 1) * t->nb[i];
	t->data = malloc(t->extent);
	if (!t->data)
		return -1;
	memset(t->data, REF_GUARD_BYTE, t->extent);
	return 0;
}

void ref_tensor_free(struct sim_tensor *t)
{
	free(t->data);
	t->data = NULL;
}

uint64_t ref_tensor_nelems(const struct sim_tensor *t)
{
	return (uint64_t)t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

void ref_tensor_store(struct sim_tensor *t, const float *packed)
{
	uint64_t rows = sim_tensor_nrows(t);

	for (uint64_t r = 0; r < rows; r++) {
		uint8_t *row = sim_tensor_flat_row(t, r);
		const float *src = packed + r * t->ne[0];

		for (uint32_t i = 0; i < t->ne[0]; i++) {
			if (t->dtype == ANPU_DTYPE_F16) {
				uint16_t h = sim_f32_to_f16(src[i]);

				memcpy(row + 2 * i, &h, 2);
			} else {
				memcpy(row + 4 * i, &src[i], 4);
			}
		}
	}
}

void ref_tensor_load(const struct sim_tensor *t, float *packed)
{
	uint64_t rows = sim_tensor_nrows(t);

	for (uint64_t r = 0; r < rows; r++) {
		const uint8_t *row = sim_tensor_flat_row(t, r);
		float *dst = packed + r * t->ne[0];

		for (uint32_t i = 0; i < t->ne[0]; i++) {
			if (t->dtype == ANPU_DTYPE_F16) {
				uint16_t h;

				memcpy(&h, row + 2 * i, 2);
				dst[i] = sim_f16_to_f32(h);
			} else {
				memcpy(&dst[i], row + 4 * i, 4);
			}
		}
	}
}

void ref_tensor_load_i32(const struct sim_tensor *t, int32_t *packed)
{
	uint64_t rows = sim_tensor_nrows(t);

	for (uint64_t r = 0; r < rows; r++)
		memcpy(packed + r * t->ne[0], sim_tensor_flat_row(t, r),
		       4 * (size_t)t->ne[0]);
}

int ref_tensor_gaps_intact(const struct sim_tensor *t)
{
	uint8_t *in_row = calloc(t->extent, 1);
	uint64_t rows = sim_tensor_nrows(t);
	int ok = 1;

	if (!in_row)
		return 0;
	for (uint64_t r = 0; r < rows; r++)
		memset(in_row + (sim_tensor_flat_row(t, r) - t->data), 1,
		       t->row_bytes);
	for (size_t i = 0; i < t->extent; i++)
		if (!in_row[i] && t->data[i] != REF_GUARD_BYTE)
			ok = 0;
	free(in_row);
	return ok;
}

uint32_t ref_check_op(const struct sim_op_class *cls, const struct sim_op *op,
		      uint64_t *fault_addr)
{
	*fault_addr = 0;
	return cls->check(op, fault_addr);
}

uint32_t ref_run_op(const struct sim_op_class *cls, const struct sim_op *op,
		    unsigned int threads)
{
	struct sim_exec ex = { 0 };
	uint64_t fault_addr = 0;
	uint32_t cause = cls->check(op, &fault_addr);

	if (cause)
		return cause;
	ex.pool = sim_pool_create(threads, 0);
	if (!ex.pool)
		return ANPU_CAUSE_COUNT;
	cause = cls->run(&ex, op);
	sim_pool_destroy(ex.pool);
	return cause;
}

int ref_close(const float *got, const float *want, size_t n, double atol,
	      double rtol)
{
	for (size_t i = 0; i < n; i++) {
		double g = got[i], w = want[i];

		if (isnan(g) && isnan(w))
			continue;
		if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
			fprintf(stderr, "mismatch at %zu: got %.9g want %.9g\n",
				i, g, w);
			return 0;
		}
	}
	return 1;
}

void ref_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		/* xorshift64* */
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		uint64_t r = s * 0x2545f4914f6cdd1dull;

		x[i] = lo + (hi - lo) * (float)((double)(r >> 40) / (double)(1ull << 24));
	}
}

void ref_rmsnorm(const float *x, const float *w, float *y, size_t d,
		 size_t rows, float eps)
{
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * d;
		double ss = 0.0;

		for (size_t i = 0; i < d; i++)
			ss += (double)xr[i] * xr[i];
		double inv = 1.0 / sqrt(ss / (double)d + eps);

		for (size_t i = 0; i < d; i++)
			y[r * d + i] = (float)(xr[i] * inv * w[i]);
	}
}

void ref_rope(const float *x, float *y, size_t head_dim, size_t n_heads,
	      size_t m_rows, uint32_t mode, uint32_t n_rot, float theta_base,
	      float freq_scale, uint32_t pos)
{
	ref_rope_ext(x, y, head_dim, n_heads, m_rows, mode, n_rot, theta_base, freq_scale,
		     pos, NULL);
}

void ref_rope_ext(const float *x, float *y, size_t head_dim, size_t n_heads,
		  size_t m_rows, uint32_t mode, uint32_t n_rot, float theta_base,
		  float freq_scale, uint32_t pos, const float *freq)
{
	size_t half = n_rot / 2;

	for (size_t m = 0; m < m_rows; m++) {
		double p = (double)pos + (double)m;

		for (size_t h = 0; h < n_heads; h++) {
			const float *xr = x + (m * n_heads + h) * head_dim;
			float *yr = y + (m * n_heads + h) * head_dim;
			float tmp[4096];

			memcpy(tmp, xr, head_dim * sizeof(float));
			for (size_t i = 0; i < half; i++) {
				/* base^(-2i/n_rot) written as exp(-2i/n_rot * ln base) */
				double theta = p * freq_scale *
					exp(-(double)(2 * i) / n_rot * log(theta_base)) /
					(freq ? (double)freq[i] : 1.0);
				size_t a = mode == ANPU_ROPE_NEOX ? i : 2 * i;
				size_t b = mode == ANPU_ROPE_NEOX ? i + half : 2 * i + 1;

				yr[a] = (float)(tmp[a] * cos(theta) - tmp[b] * sin(theta));
				yr[b] = (float)(tmp[a] * sin(theta) + tmp[b] * cos(theta));
			}
			for (size_t i = n_rot; i < head_dim; i++)
				yr[i] = tmp[i];
		}
	}
}

void ref_attention(const float *q, const float *k, const float *v, float *out,
		   size_t head_dim, size_t n_head, size_t n_kv_head,
		   size_t m_rows, uint32_t pos, float scale)
{
	size_t kv_dim = head_dim * n_kv_head;
	size_t group = n_head / n_kv_head;

	for (size_t m = 0; m < m_rows; m++) {
		size_t kv_len = pos + m + 1;
		double *s = malloc(kv_len * sizeof(double));

		for (size_t h = 0; h < n_head; h++) {
			const float *qr = q + (m * n_head + h) * head_dim;
			size_t off = (h / group) * head_dim;
			double max = -INFINITY, sum = 0.0;

			for (size_t j = 0; j < kv_len; j++) {
				double dot = 0.0;

				for (size_t d = 0; d < head_dim; d++)
					dot += (double)qr[d] * k[j * kv_dim + off + d];
				s[j] = dot * scale;
				if (s[j] > max)
					max = s[j];
			}
			for (size_t j = 0; j < kv_len; j++) {
				s[j] = exp(s[j] - max);
				sum += s[j];
			}
			for (size_t d = 0; d < head_dim; d++) {
				double acc = 0.0;

				for (size_t j = 0; j < kv_len; j++)
					acc += s[j] * v[j * kv_dim + off + d];
				out[(m * n_head + h) * head_dim + d] = (float)(acc / sum);
			}
		}
		free(s);
	}
}

void ref_swiglu(const float *gate, const float *up, float *y, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double g = gate[i];

		y[i] = (float)(g / (1.0 + exp(-g)) * up[i]);
	}
}

void ref_binary(int op, const float *a, const uint32_t a_ne[4], const float *b,
		const uint32_t b_ne[4], float *y)
{
	for (uint32_t i3 = 0; i3 < a_ne[3]; i3++)
	for (uint32_t i2 = 0; i2 < a_ne[2]; i2++)
	for (uint32_t i1 = 0; i1 < a_ne[1]; i1++)
	for (uint32_t i0 = 0; i0 < a_ne[0]; i0++) {
		size_t ai = ((((size_t)i3 * a_ne[2] + i2) * a_ne[1] + i1) * a_ne[0]) + i0;
		uint32_t j0 = b_ne[0] == 1 ? 0 : i0, j1 = b_ne[1] == 1 ? 0 : i1;
		uint32_t j2 = b_ne[2] == 1 ? 0 : i2, j3 = b_ne[3] == 1 ? 0 : i3;
		size_t bi = ((((size_t)j3 * b_ne[2] + j2) * b_ne[1] + j1) * b_ne[0]) + j0;

		y[ai] = (float)(op == 0 ? (double)a[ai] + b[bi] : (double)a[ai] * b[bi]);
	}
}

void ref_scale(const float *x, float *y, size_t n, float s)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (float)((double)x[i] * s);
}

void ref_softmax(const float *x, float *y, size_t n, size_t rows, float scale)
{
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * n;
		double max = -INFINITY, sum = 0.0;

		for (size_t i = 0; i < n; i++)
			if ((double)xr[i] * scale > max)
				max = (double)xr[i] * scale;
		for (size_t i = 0; i < n; i++)
			sum += exp((double)xr[i] * scale - max);
		for (size_t i = 0; i < n; i++)
			y[r * n + i] = (float)(exp((double)xr[i] * scale - max) / sum);
	}
}

void ref_argmax(const float *x, int32_t *y, size_t n, size_t rows)
{
	for (size_t r = 0; r < rows; r++) {
		const float *xr = x + r * n;
		int32_t best = -1;

		for (size_t i = 0; i < n; i++) {
			if (isnan(xr[i]))
				continue;
			if (best < 0 || xr[i] > xr[best])
				best = (int32_t)i;
		}
		y[r] = best < 0 ? 0 : best;
	}
}
