/* SPDX-License-Identifier: MIT */
/*
 * The graph and the engine from the inside: the ops and labels each
 * architecture's builder records, the decode command buffer recorded once and
 * resubmitted, the weights uploaded byte for byte with progress, device memory
 * sizing, and the error of a model that does not fit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "anpurt.h"
#include "graph/graph.h"
#include "lib_gguf_build.h"
#include "lib_model_file.h"
#include "session/session.h"

struct loaded {
	struct model_file f;
	uint8_t *image;
	size_t size;
	struct anpurt_model *model;
	struct anpurt_engine *engine;
	uint64_t progress_calls, progress_done, progress_total;
};

static void on_progress(void *user, uint64_t done, uint64_t total)
{
	struct loaded *l = user;

	assert_true(done > l->progress_done);
	assert_true(done <= total);
	l->progress_calls++;
	l->progress_done = done;
	l->progress_total = total;
}

static int load(struct loaded *l, const char *arch, uint64_t mem_limit)
{
	struct gb_model_spec spec = gb_model_spec_tiny(arch);
	struct anpurt_engine_params ep = anpurt_engine_default_params();

	memset(l, 0, sizeof(*l));
	model_file_make(&l->f, &spec, 42);
	l->image = gb_build(l->f.b, &l->size);
	if (anpurt_model_open(l->f.path, NULL, &l->model))
		fail_msg("%s", anpurt_last_error());
	ep.device = "sim";
	ep.n_ctx = 64;
	ep.mem_limit = mem_limit;
	ep.progress = on_progress;
	ep.progress_user = l;
	return anpurt_engine_load(l->model, &ep, &l->engine);
}

static void unload(struct loaded *l)
{
	anpurt_engine_free(l->engine);
	anpurt_model_free(l->model);
	free(l->image);
	model_file_remove(&l->f);
}

/* The ops of one layer per architecture, in order (the label after "blk.N."). */
static const char *const layer_qwen2[] = {
	"attn_norm", "attn_q", "attn_k", "attn_v", "attn_q_rope", "attn_k_rope", "cache_k",
	"cache_v", "attn", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_swiglu",
	"ffn_down", NULL,
};
static const char *const layer_qwen3[] = {
	"attn_norm", "attn_q", "attn_k", "attn_v", "attn_q_norm", "attn_k_norm", "attn_q_rope",
	"attn_k_rope", "cache_k", "cache_v", "attn", "attn_output", "ffn_norm", "ffn_gate",
	"ffn_up", "ffn_swiglu", "ffn_down", NULL,
};

static void check_labels(const char *arch, const char *const *layer_ops)
{
	struct anpurt_session *s;
	struct graph_cmd *g;
	struct loaded l;
	uint32_t n_layer_ops = 0, op = 0, blk;
	char want[GRAPH_LABEL_MAX];

	assert_int_equal(load(&l, arch, 0), 0);
	assert_int_equal(anpurt_session_create(l.engine, NULL, &s), 0);
	g = &s->decode;
	while (layer_ops[n_layer_ops])
		n_layer_ops++;
	assert_int_equal(accel_cmdbuf_op_count(g->cb), 1 + 2 * n_layer_ops + 3);
	assert_string_equal(accel_cmdbuf_op_label(g->cb, op++), "token_embd");
	for (blk = 0; blk < 2; blk++)
		for (uint32_t i = 0; i < n_layer_ops; i++) {
			snprintf(want, sizeof(want), "blk.%u.%s", blk, layer_ops[i]);
			assert_string_equal(accel_cmdbuf_op_label(g->cb, op++), want);
		}
	assert_string_equal(accel_cmdbuf_op_label(g->cb, op++), "output_norm");
	assert_string_equal(accel_cmdbuf_op_label(g->cb, op++), "output");
	assert_string_equal(accel_cmdbuf_op_label(g->cb, op++), "argmax");
	anpurt_session_free(s);
	unload(&l);
}

static void test_labels_qwen2_llama(void **state)
{
	(void)state;
	check_labels("qwen2", layer_qwen2);
	check_labels("llama", layer_qwen2);	/* the same ops; biases and RoPE pairs differ */
}

static void test_labels_qwen3(void **state)
{
	(void)state;
	check_labels("qwen3", layer_qwen3);
}

/* Decode: one command buffer, recorded at session creation, one submit per token. */
static void test_decode_recorded_once(void **state)
{
	struct anpurt_session_stats st;
	struct accel_cmdbuf *cb;
	struct anpurt_session *s;
	int32_t out[5], next;
	struct loaded l;

	(void)state;
	assert_int_equal(load(&l, "qwen2", 0), 0);
	assert_int_equal(anpurt_session_create(l.engine, NULL, &s), 0);
	cb = s->decode.cb;
	assert_int_equal(anpurt_session_prefill(s, (const int32_t[]){ 3, 1, 4 }, 3, &next), 0);
	assert_int_equal(anpurt_session_generate_greedy(s, 5, out), 5);
	assert_int_equal(anpurt_session_decode(s, 7, &next), 0);
	assert_ptr_equal(s->decode.cb, cb);
	assert_int_equal(anpurt_session_stats(s, &st), 0);
	assert_int_equal(st.prefill_tokens, 3);
	assert_int_equal(st.decode_tokens, 6);
	assert_int_equal(st.submits, 1 + 6);
	assert_int_equal(st.kv_bytes, 2ull * 2 * (2 * 16) * 256 * 2);	/* ctx capped at the model's 256 */
	anpurt_session_free(s);
	unload(&l);
}

/*
 * A profile of the decode command buffer speaks the model's language: every
 * record carries its op's label, "blk.0.attn_q" is layer 0's query MATMUL with
 * the model's shapes, and a resubmitted decode keeps the labels.
 */
static void test_decode_profile_has_labels(void **state)
{
	struct accel_submit_params sp = accel_submit_default_params();
	const struct anpurt_model_info *in;
	struct accel_op_profile rec[128];
	struct accel_profile *prof;
	struct anpurt_session *s;
	struct accel_op_desc d;
	struct accel_fence f;
	struct loaded l;
	uint32_t n, pos, attn_q = UINT32_MAX;
	int32_t next;

	(void)state;
	assert_int_equal(load(&l, "qwen2", 0), 0);
	in = anpurt_model_info(l.model);
	assert_int_equal(anpurt_session_create(l.engine, NULL, &s), 0);
	assert_int_equal(anpurt_session_prefill(s, (const int32_t[]){ 3, 1, 4 }, 3, &next), 0);
	n = accel_cmdbuf_op_count(s->decode.cb);
	assert_true(n <= 128);
	assert_int_equal(accel_profile_create(l.engine->dev, n, &prof), 0);
	sp.profile = prof;
	sp.step_params = &pos;
	sp.n_step_params = GRAPH_STEP_COUNT;
	for (pos = 3; pos < 5; pos++) {
		assert_int_equal(accel_submit(s->ctx, s->decode.cb, &sp, &f), 0);
		assert_int_equal(accel_fence_wait(l.engine->dev, &f, -1), 0);
		while (accel_profile_read(prof, rec, 128, NULL) == -EAGAIN)
			;	/* the fence is signalled just before the profile is handed back */
		assert_int_equal(accel_profile_read(prof, rec, 128, NULL), n);
		assert_string_equal(rec[0].label, "token_embd");
		assert_string_equal(rec[n - 1].label, "argmax");
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(rec[i].op_index, i);
			assert_true(rec[i].label[0] != '\0');
			assert_string_equal(rec[i].label, accel_cmdbuf_op_label(s->decode.cb, i));
			if (!strcmp(rec[i].label, "blk.0.attn_q"))
				attn_q = i;
		}
		assert_int_equal(attn_q, 2);	/* token_embd, blk.0.attn_norm, blk.0.attn_q */
		assert_string_equal(accel_op_name(rec[attn_q].opcode), "MATMUL");
	}
	assert_ptr_equal(accel_profile_cmdbuf(prof), s->decode.cb);
	assert_int_equal(accel_cmdbuf_describe_op(accel_profile_cmdbuf(prof), attn_q, &d), 0);
	assert_string_equal(d.label, "blk.0.attn_q");
	assert_string_equal(d.tensors[1].role, "w");
	assert_int_equal(d.tensors[1].ne[0], in->n_embd);
	assert_int_equal(d.tensors[1].ne[1], in->n_head * in->head_dim_k);
	assert_int_equal(d.tensors[0].ne[1], 1);	/* one token */
	accel_profile_free(prof);
	anpurt_session_free(s);
	unload(&l);
}

/*
 * The weights BO holds the file's tensor data as it is, from the page holding
 * its start (a BO maps whole pages of the file); progress reaches the total.
 */
static void test_weights_as_in_file(void **state)
{
	struct loaded l;
	const uint8_t *w;

	(void)state;
	assert_int_equal(load(&l, "qwen3", 0), 0);
	w = accel_bo_map(l.engine->weights);
	assert_non_null(w);
	assert_int_equal(l.engine->data_start,
			 gb_data_offset(l.f.b) & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1));
	assert_int_equal(l.engine->data_end, l.size);
	assert_memory_equal(w, l.image + l.engine->data_start, l.size - l.engine->data_start);
	assert_true(accel_bo_flags(l.engine->weights) & ACCEL_BO_NPU_READ_ONLY);
	assert_true(l.progress_calls >= 1);
	assert_int_equal(l.progress_done, l.size - l.engine->data_start);
	assert_int_equal(l.progress_total, l.progress_done);
	unload(&l);
}

/* A model that does not fit: one error naming the bytes needed and available. */
static void test_does_not_fit(void **state)
{
	char want[96];
	struct loaded l;

	(void)state;
	assert_int_equal(load(&l, "qwen2", 4096), -ENOMEM);
	assert_null(l.engine);
	snprintf(want, sizeof(want), "need %llu bytes",
		 (unsigned long long)(l.size - (gb_data_offset(l.f.b) &
						~(uint64_t)(sysconf(_SC_PAGESIZE) - 1))));
	assert_non_null(strstr(anpurt_last_error(), want));
	assert_non_null(strstr(anpurt_last_error(), "4096 bytes available"));
	unload(&l);
}

/* Sizing: KV = 2 * layers * kv_dim * ctx * element; the device figure covers it all. */
static void test_sizing(void **state)
{
	struct anpurt_model_info in = {
		.n_layer = 24, .n_embd = 896, .n_ff = 4864, .n_head = 14, .n_head_kv = 2,
		.head_dim_k = 64, .head_dim_v = 64, .n_vocab = 151936,
	};
	struct session_size s = session_size(&in, 4096, 2, 64);
	uint64_t need = device_mem_needed(400ull << 20, &s, 2);

	(void)state;
	assert_int_equal(s.kv_bytes, 2ull * 24 * 128 * 4096 * 2);
	assert_true(s.scratch_bytes >= 4ull * 151936 + 4ull * 64 * (2 * 896 + 2 * 896 + 2 * 128 +
								    2 * 4864));
	assert_true(need >= (400ull << 20) + 2 * (s.kv_bytes + s.scratch_bytes));
	assert_true(need < (400ull << 20) + 2 * (s.kv_bytes + s.scratch_bytes) + (64ull << 20));
}

/* Qwen2.5-0.5B Q4_K_M's layout (a sparse file): what the in-process NPU is sized to. */
static void test_mem_needed_qwen25_05b(void **state)
{
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	const struct anpurt_model_info *in;
	struct anpurt_model *model;
	uint64_t need, kv, floor;
	struct model_file f = { .path = "/tmp/test_rt_graph.XXXXXX" };
	int fd;

	(void)state;
	f.b = gb_new();
	gb_model_qwen25_05b_q4_k_m(f.b);
	fd = mkstemp(f.path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gb_write_file_sparse(f.b, f.path), 0);
	if (anpurt_model_open(f.path, NULL, &model))
		fail_msg("%s", anpurt_last_error());
	in = anpurt_model_info(model);
	ep.n_sessions = 2;
	ep.n_ctx = 4096;
	need = anpurt_engine_mem_needed(model, &ep);
	kv = 2ull * 24 * 128 * 4096 * 2;	/* K and V, 24 layers, 2 KV heads of 64, F16 */
	floor = in->weight_bytes + 2 * (kv + 4ull * 151936);
	assert_true(need >= floor);
	assert_true(need <= floor + (64ull << 20));
	ep.kv_type = ANPURT_KV_F32;
	assert_true(anpurt_engine_mem_needed(model, &ep) >= need + 2 * kv);
	anpurt_model_free(model);
	model_file_remove(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_qwen2_llama),
		cmocka_unit_test(test_labels_qwen3),
		cmocka_unit_test(test_decode_recorded_once),
		cmocka_unit_test(test_decode_profile_has_labels),
		cmocka_unit_test(test_weights_as_in_file),
		cmocka_unit_test(test_does_not_fit),
		cmocka_unit_test(test_sizing),
		cmocka_unit_test(test_mem_needed_qwen25_05b),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
