/* SPDX-License-Identifier: MIT */
/*
 * The forward pass as libaccel ops: one transformer builder shared by the
 * architectures, which differ only in the hooks below. A recorded graph runs
 * M tokens starting at the position in step-parameter slot GRAPH_STEP_POS,
 * through every layer, and leaves the last position's logits and their argmax
 * (the greedy next token) in the session's scratch memory (except a prefill
 * chunk recorded with GRAPH_NO_LOGITS: the layers only).
 */
#ifndef RT_GRAPH_H
#define RT_GRAPH_H

#include <accel.h>

#include "graph/engine.h"

#define GRAPH_STEP_POS		0	/* step slot: position of the first token */
#define GRAPH_STEP_COUNT	1
#define GRAPH_LABEL_MAX		ACCEL_OP_LABEL_MAX	/* "blk.123.attn_q_norm" */
#define GRAPH_DEFAULT_CTX	4096	/* session context unless asked (capped by the model's) */
#define GRAPH_DEFAULT_CHUNK	128	/* prefill tokens per command buffer */
/*
 * ... for LOW-priority sessions: jobs are not preempted, so a higher-priority
 * job waits at most for one chunk of a background prefill
 */
#define GRAPH_LOW_PRIORITY_CHUNK	16
#define GRAPH_BATCH_MAX		32	/* sessions in one batched decode step (a step slot each) */
#define GRAPH_ISA_COPY		0x10001u	/* the COPY op came with ISA 1.1 */
#define GRAPH_ISA_Q5_0L		0x10002u	/* the Q5_0L weight layout, ISA 1.2 */
#define GRAPH_ISA_Q4_KL		0x10003u	/* the Q4_KL weight layout, ISA 1.3 */
#define GRAPH_ISA_Q6_KL		0x10004u	/* the Q6_KL weight layout, ISA 1.4 */
#define GRAPH_ISA_Q4_0L		0x10005u	/* the Q4_0L weight layout, ISA 1.5 */

/* What sets an architecture's forward pass apart. */
struct arch_hooks {
	const char *name;
	enum accel_rope_mode rope_mode;
	int qkv_bias;		/* attn_q/k/v.bias added by the MATMULs (qwen2) */
	int qk_norm;		/* per-head RMSNORM of q and k before RoPE (qwen3) */
};

extern const struct arch_hooks arch_qwen2, arch_qwen3, arch_llama;

/* The hooks of @m's architecture. */
const struct arch_hooks *arch_hooks_of(const struct anpurt_model *m);

/*
 * Byte offsets of the activations in a scratch BO (a session's, or a batch's),
 * for chunks of up to @chunk tokens, with @logits_rows rows of logits.
 */
struct scratch_layout {
	uint32_t chunk;
	uint64_t x, xn, q, k, v, att, gate, up;	/* F32 [dim, chunk] each */
	uint64_t logits;			/* F32 [n_vocab, logits_rows]: a session's last position */
	uint64_t ids;				/* I32 [chunk]: prefill input */
	uint64_t next;				/* I32 [1]: greedy token = decode input */
	uint64_t size;
};

void scratch_layout(const struct anpurt_model_info *in, uint32_t chunk, uint32_t logits_rows,
		    struct scratch_layout *l);

/* A session's device buffers, as the builder addresses them. */
struct graph_bufs {
	struct accel_bo *scratch;
	struct scratch_layout lay;
	struct accel_bo *kv;		/* layer l: K at l * 2 * kv_layer_bytes, V after it */
	uint32_t kv_dtype;		/* ACCEL_F16 or ACCEL_F32 */
	uint32_t n_ctx;
	uint64_t kv_layer_bytes;
};

/*
 * A recorded command buffer. Each op carries its label ("blk.3.attn_q",
 * "output", ...) in libaccel (accel_cmdbuf_op_label()), so profiles, observers
 * and error messages name the model's layer and role.
 */
struct graph_cmd {
	struct accel_cmdbuf *cb;
};

/* graph_record() flags */
#define GRAPH_DECODE	1u	/* the input is the single token in lay.next */
/*
 * A prefill chunk that is not the prompt's last: the layers only (its KV
 * entries), no logits or greedy token (the output MATMUL over the vocabulary
 * was 3-6% of a 512-token prefill, once per chunk)
 */
#define GRAPH_NO_LOGITS	2u

/*
 * Record the forward pass of @m tokens (1 <= m <= chunk). Flag GRAPH_DECODE:
 * the input is the single token in lay.next (what the previous run's ARGMAX
 * wrote), else lay.ids[0..m); GRAPH_NO_LOGITS: see above. Errors name the op's
 * label and libaccel's message.
 */
int graph_record(const struct anpurt_engine *e, const struct graph_bufs *b, uint32_t m,
		 unsigned int flags, struct graph_cmd *out);
/*
 * Record one decode step of @n sessions at once (1 <= n <= GRAPH_BATCH_MAX):
 * row i is session @rows[i]'s greedy token (its lay.next), at the position in
 * step slot i, into its own KV cache. The weight ops run on all n rows (the
 * weights are read once), ROPE, KV_STORE and ATTENTION per row; each row's
 * logits and greedy token land in its session's scratch, as its own decode
 * graph leaves them, with the same bits (docs/hardware.md: an op's rows do not
 * depend on one another). @batch: the activations, laid out for chunk n with
 * n rows of logits.
 */
int graph_record_batch(const struct anpurt_engine *e, const struct graph_bufs *const *rows,
		       uint32_t n, const struct graph_bufs *batch, struct graph_cmd *out);
void graph_cmd_free(struct graph_cmd *g);
/*
 * After an encoder call that returned @ret: on success give the op just recorded
 * @label (accel_cmdbuf_set_op_label()), on failure return an error naming @graph,
 * @label and libaccel's message.
 */
int graph_cmd_note(struct graph_cmd *g, int ret, const char *graph, const char *label);

/*
 * Record the copy of the first @n positions of every layer's K and V rows
 * from @src's cache into @dst's (COPY ops, one per layer; same KV dtype,
 * n <= both contexts), and with @last also the last position's logits and
 * greedy token from @src's scratch into @dst's: forking a session on the
 * device.
 */
int graph_record_kv_copy(const struct anpurt_engine *e, const struct graph_bufs *src,
			 const struct graph_bufs *dst, uint32_t n, int last, struct graph_cmd *out);

#endif
