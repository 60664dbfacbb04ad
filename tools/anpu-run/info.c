/* SPDX-License-Identifier: MIT */
/* anpu-run --info [--json]: a model's description. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "anpu_run.h"

/*
 * Weight types by tensor count (ties in enum order), f32 (norms, biases) last:
 * "q5_0 132, q8_0 13, q4_K 12, q6_K 12, f32 121".
 */
static size_t types_in_order(const struct anpurt_model_info *in, enum anpurt_type *order)
{
	size_t n = 0, i, j;
	int t;

	for (t = 0; t < ANPURT_TYPE_COUNT; t++) {
		if (t == ANPURT_TYPE_F32 || !in->tensor_count[t])
			continue;
		for (i = n; i > 0 && in->tensor_count[order[i - 1]] < in->tensor_count[t]; i--)
			;
		for (j = n; j > i; j--)
			order[j] = order[j - 1];
		order[i] = (enum anpurt_type)t;
		n++;
	}
	if (in->tensor_count[ANPURT_TYPE_F32])
		order[n++] = ANPURT_TYPE_F32;
	return n;
}

static const char *rope_style(const struct anpurt_model_info *in)
{
	return in->rope_style == ANPURT_ROPE_NEOX ? "neox" : "normal";
}

static const char *rope_scaling(const struct anpurt_model_info *in)
{
	return in->rope_scaling == ANPURT_ROPE_SCALING_LLAMA3 ? "llama3" : "none";
}

static void print_json(FILE *out, const char *path, const struct anpurt_model_info *in)
{
	enum anpurt_type order[ANPURT_TYPE_COUNT];
	size_t n = types_in_order(in, order), i;

	fprintf(out, "{\"file\": ");
	tool_json_string(out, path);
	fprintf(out, ", \"architecture\": ");
	tool_json_string(out, in->architecture);
	fprintf(out, ", \"name\": ");
	tool_json_string(out, in->name);
	fprintf(out, ", \"n_layer\": %" PRIu32 ", \"n_embd\": %" PRIu32 ", \"n_ff\": %" PRIu32
		", \"n_head\": %" PRIu32 ", \"n_head_kv\": %" PRIu32 ", \"head_dim_k\": %" PRIu32
		", \"head_dim_v\": %" PRIu32 ", \"n_vocab\": %" PRIu32 ", \"context_length\": %"
		PRIu32, in->n_layer, in->n_embd, in->n_ff, in->n_head, in->n_head_kv,
		in->head_dim_k, in->head_dim_v, in->n_vocab, in->n_ctx_train);
	fprintf(out, ", \"rope_style\": \"%s\", \"rope_freq_base\": %.9g, \"rope_scaling\": \"%s\""
		", \"rms_norm_eps\": %.9g, \"tied_output\": %s, \"qkv_bias\": %s, \"qk_norm\": %s",
		rope_style(in), in->rope_freq_base, rope_scaling(in), in->rms_norm_eps,
		in->tied_output ? "true" : "false", in->has_qkv_bias ? "true" : "false",
		in->has_qk_norm ? "true" : "false");
	fprintf(out, ", \"n_params\": %" PRIu64 ", \"file_bytes\": %" PRIu64 ", \"weight_bytes\": %"
		PRIu64 ", \"n_tensors\": %" PRIu32 ", \"tensor_types\": {", in->n_params,
		in->file_bytes, in->weight_bytes, in->n_tensors);
	for (i = 0; i < n; i++)
		fprintf(out, "%s\"%s\": %" PRIu32, i ? ", " : "", anpurt_type_name(order[i]),
			in->tensor_count[order[i]]);
	fprintf(out, "}, \"chat_template\": ");
	tool_json_string(out, in->chat_template);
	fprintf(out, "}\n");
}

static void print_text(FILE *out, const char *path, const struct anpurt_model_info *in)
{
	enum anpurt_type order[ANPURT_TYPE_COUNT];
	size_t n = types_in_order(in, order), i;

	fprintf(out, "file:            %s\n", path);
	fprintf(out, "architecture:    %s\n", in->architecture);
	fprintf(out, "name:            %s\n", in->name);
	fprintf(out, "layers:          %" PRIu32 "\n", in->n_layer);
	fprintf(out, "embedding:       %" PRIu32 "\n", in->n_embd);
	fprintf(out, "feed-forward:    %" PRIu32 "\n", in->n_ff);
	fprintf(out, "heads:           %" PRIu32 " query, %" PRIu32 " key/value, head size %"
		PRIu32 " (value %" PRIu32 ")\n", in->n_head, in->n_head_kv, in->head_dim_k,
		in->head_dim_v);
	fprintf(out, "attention:       %s%s\n", in->has_qkv_bias ? "q/k/v biases" : "no biases",
		in->has_qk_norm ? ", q/k RMS norms" : "");
	fprintf(out, "vocabulary:      %" PRIu32 "\n", in->n_vocab);
	fprintf(out, "context length:  %" PRIu32 "\n", in->n_ctx_train);
	fprintf(out, "rope:            %s, base %.10g, scaling %s\n", rope_style(in),
		in->rope_freq_base, rope_scaling(in));
	fprintf(out, "rms norm eps:    %g\n", in->rms_norm_eps);
	fprintf(out, "output:          %s\n", in->tied_output ? "tied (token_embd.weight)" :
		"output.weight");
	fprintf(out, "parameters:      %" PRIu64 " (%.2f M)\n", in->n_params, in->n_params / 1e6);
	fprintf(out, "file bytes:      %" PRIu64 " (%.1f MiB)\n", in->file_bytes,
		in->file_bytes / 1048576.0);
	fprintf(out, "weight bytes:    %" PRIu64 " (%.1f MiB)\n", in->weight_bytes,
		in->weight_bytes / 1048576.0);
	fprintf(out, "tensors:         %" PRIu32 ": ", in->n_tensors);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s %" PRIu32, i ? ", " : "", anpurt_type_name(order[i]),
			in->tensor_count[order[i]]);
	fprintf(out, "\nchat template:   %s\n", in->chat_template);
}

int run_info(const struct run_opts *o, FILE *out)
{
	struct anpurt_model_params p = anpurt_model_default_params();
	struct anpurt_model *m;

	p.chat_template = o->chat_template;
	if (anpurt_model_open(o->model_path, &p, &m)) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());
		return 1;
	}
	if (o->json)
		print_json(out, o->model_path, anpurt_model_info(m));
	else
		print_text(out, o->model_path, anpurt_model_info(m));
	anpurt_model_free(m);
	return 0;
}

int run_mem_needed(const struct run_opts *o, FILE *out)
{
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	const struct anpurt_model_info *in;
	struct anpurt_model *m;
	uint32_t n_ctx;
	uint64_t need;

	if (anpurt_model_open(o->model_path, NULL, &m)) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());
		return 1;
	}
	/* as gen_open() loads the engine: the same figure the in-process NPU gets */
	ep.n_sessions = o->n_sessions;
	ep.n_ctx = o->n_ctx;
	need = anpurt_engine_mem_needed(m, &ep);
	in = anpurt_model_info(m);
	n_ctx = o->n_ctx ? o->n_ctx : 4096;	/* the session default, capped as sessions are */
	if (in->n_ctx_train && n_ctx > in->n_ctx_train)
		n_ctx = in->n_ctx_train;
	if (o->json)
		fprintf(out, "{\"mem_needed\": %" PRIu64 ", \"n_sessions\": %u, \"n_ctx\": %" PRIu32
			", \"weight_bytes\": %" PRIu64 "}\n", need, o->n_sessions, n_ctx,
			in->weight_bytes);
	else
		fprintf(out, "%" PRIu64 "\n", need);
	anpurt_model_free(m);
	return fflush(out) ? 1 : 0;
}
