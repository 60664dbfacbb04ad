/* SPDX-License-Identifier: MIT */
/*
 * Test support for the op kernels: an independent, plain scalar reference
 * of every non-matmul op (double arithmetic throughout, textbook formulas,
 * packed row-major arrays), and host tensors with padded (non-packed)
 * strides whose gaps are filled with a guard pattern so tests can detect
 * writes outside the rows.
 */
#ifndef REF_OPS_H
#define REF_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "../../sim/sim_ops.h"

/* ---- host tensors ---- */

/* Byte every gap of a test tensor holds. */
#define REF_GUARD_BYTE	0xa5

/*
 * Allocate @t (dtype F32, F16 or I32) with shape @ne; each stride is the
 * packed size of the dimension below plus @pad elements, so pad > 0 gives a
 * non-packed layout. Every byte starts as REF_GUARD_BYTE. Returns 0 or -1.
 */
int ref_tensor_alloc(struct sim_tensor *t, uint32_t dtype, const uint32_t ne[4],
		     uint32_t pad, uint64_t npu_addr);
void ref_tensor_free(struct sim_tensor *t);
uint64_t ref_tensor_nelems(const struct sim_tensor *t);
/* Copy between a packed float array (ne[0] fastest) and the tensor (F32 or
 * F16, converted with sim_fp16.h; I32 rows for store/load_i32). */
void ref_tensor_store(struct sim_tensor *t, const float *packed);
void ref_tensor_load(const struct sim_tensor *t, float *packed);
void ref_tensor_load_i32(const struct sim_tensor *t, int32_t *packed);
/* 1 if every byte outside the rows still holds REF_GUARD_BYTE. */
int ref_tensor_gaps_intact(const struct sim_tensor *t);

/* Check then run @op with a fresh pool of @threads threads; returns the
 * cause from check() or run(), or 0. *fault_addr gets the fault address. */
uint32_t ref_check_op(const struct sim_op_class *cls, const struct sim_op *op,
		      uint64_t *fault_addr);
uint32_t ref_run_op(const struct sim_op_class *cls, const struct sim_op *op,
		    unsigned int threads);

/* 1 if |got - want| <= atol + rtol * |want| everywhere (NaN matches NaN);
 * otherwise prints the first mismatch and returns 0. */
int ref_close(const float *got, const float *want, size_t n, double atol,
	      double rtol);

/* Deterministic pseudo-random floats in [lo, hi). */
void ref_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

/* ---- reference ops (packed arrays; shapes as in anpu_isa.h) ---- */

void ref_rmsnorm(const float *x, const float *w, float *y, size_t d,
		 size_t rows, float eps);
/* x, y [head_dim, n_heads, m_rows], head_dim <= 4096; mode: enum anpu_rope_mode */
void ref_rope(const float *x, float *y, size_t head_dim, size_t n_heads,
	      size_t m_rows, uint32_t mode, uint32_t n_rot, float theta_base,
	      float freq_scale, uint32_t pos);
/* ref_rope with frequency factors: angle i divided by freq[i] (freq NULL: none) */
void ref_rope_ext(const float *x, float *y, size_t head_dim, size_t n_heads,
		  size_t m_rows, uint32_t mode, uint32_t n_rot, float theta_base,
		  float freq_scale, uint32_t pos, const float *freq);
/* q, out [head_dim, n_head, m_rows]; k, v [head_dim * n_kv_head, ctx] */
void ref_attention(const float *q, const float *k, const float *v, float *out,
		   size_t head_dim, size_t n_head, size_t n_kv_head,
		   size_t m_rows, uint32_t pos, float scale);
void ref_swiglu(const float *gate, const float *up, float *y, size_t n);
/* op: 0 add, 1 mul; b broadcasts over a (b_ne[i] is 1 or a_ne[i]) */
void ref_binary(int op, const float *a, const uint32_t a_ne[4], const float *b,
		const uint32_t b_ne[4], float *y);
void ref_scale(const float *x, float *y, size_t n, float s);
void ref_softmax(const float *x, float *y, size_t n, size_t rows, float scale);
/* first maximum wins; NaN never wins; all NaN -> 0 */
void ref_argmax(const float *x, int32_t *y, size_t n, size_t rows);

#endif /* REF_OPS_H */
