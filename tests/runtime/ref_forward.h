/* SPDX-License-Identifier: MIT */
/*
 * An independent reference of the transformer forward pass, in plain C with
 * fp32 weights (dequantised by ref_dequant.c, written from the format
 * description in docs/hardware.md 12) and double accumulators, one token at a
 * time with an f32 KV cache. It shares no code with the runtime or the NPU
 * model: it is what the NPU's logits are compared against.
 */
#ifndef REF_FORWARD_H
#define REF_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "lib_gguf_build.h"

struct ref_model;

/* The model @spec built into @b (weights from @b's tensor data). NULL for an unknown type. */
struct ref_model *ref_model_new(const struct gb_model_spec *spec, const struct gb *b);
void ref_model_free(struct ref_model *m);

/*
 * Run @token at the next position (0, 1, ... up to the spec's n_ctx - 1) and
 * write the n_vocab logits into @logits.
 */
void ref_forward_token(struct ref_model *m, int32_t token, float *logits);

/* n_elems values of tensor data @src of ggml type @type into @dst; -1 for an unknown type. */
int ref_dequant(uint32_t type, const uint8_t *src, size_t n_elems, float *dst);

#endif
