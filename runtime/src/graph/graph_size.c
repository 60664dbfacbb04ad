/* SPDX-License-Identifier: MIT */
/* How much device memory a session and a whole model need. */
#include "graph/graph.h"

#define MIB		(1ull << 20)
#define BO_ALIGN	(2 * MIB)	/* libaccel: BOs >= 2 MiB are 2 MiB aligned, guard-separated */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

void scratch_layout(const struct anpurt_model_info *in, uint32_t chunk, uint32_t logits_rows,
		    struct scratch_layout *l)
{
	uint64_t row = 4ull * chunk, off = 0;
	uint64_t q_dim = (uint64_t)in->n_head * in->head_dim_k;
	uint64_t kv_dim = (uint64_t)in->n_head_kv * in->head_dim_k;

	l->chunk = chunk;
#define PLACE(field, bytes) do { l->field = off; off = align_up(off + (bytes), 64); } while (0)
	PLACE(x, in->n_embd * row);
	PLACE(xn, in->n_embd * row);
	PLACE(q, q_dim * row);
	PLACE(k, kv_dim * row);
	PLACE(v, kv_dim * row);
	PLACE(att, q_dim * row);
	PLACE(gate, in->n_ff * row);
	PLACE(up, in->n_ff * row);
	PLACE(logits, 4ull * in->n_vocab * logits_rows);
	PLACE(ids, row);
	PLACE(next, 4);
#undef PLACE
	l->size = off;
}

struct session_size session_size(const struct anpurt_model_info *in, uint32_t n_ctx,
				 uint32_t kv_elem, uint32_t chunk)
{
	struct scratch_layout l;
	struct session_size s;

	scratch_layout(in, chunk, 1, &l);
	s.kv_bytes = 2ull * in->n_layer * in->n_head_kv * in->head_dim_k * n_ctx * kv_elem;
	s.scratch_bytes = l.size;
	return s;
}

uint64_t device_mem_needed(uint64_t weight_bytes, const struct session_size *s,
			   unsigned int n_sessions)
{
	/* per session: its two BOs, a prefill and a decode command stream and step buffers */
	uint64_t per_session = align_up(s->kv_bytes, BO_ALIGN) + align_up(s->scratch_bytes, BO_ALIGN) +
			       4 * BO_ALIGN;
	uint64_t total = align_up(weight_bytes, BO_ALIGN) + n_sessions * per_session;

	/* page tables (8 bytes per 4 KiB page at worst) and the device's rings and status pages */
	return total + total / 512 + 16 * MIB;
}
