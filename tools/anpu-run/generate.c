/* SPDX-License-Identifier: MIT */
/*
 * anpu-run's generation: load the model onto the NPU (a progress bar on a
 * terminal), tokenize the prompt (raw template text, or with --chat a user
 * turn through the chat template), stream the text to stdout, and report
 * the speeds on stderr (or everything as one JSON object with --json).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anpu_run.h"
#include "gen.h"

static void progress_bar(void *user, uint64_t done, uint64_t total)
{
	int width = 40, filled = total ? (int)(done * (uint64_t)width / total) : width;

	(void)user;
	fprintf(stderr, "\rloading [%.*s%*s] %3d%%", filled, "########################################",
		width - filled, "", total ? (int)(done * 100 / total) : 100);
	if (done >= total)
		fputc('\n', stderr);
}

int gen_open(const struct run_opts *o, struct gen *g)
{
	struct anpurt_model_params mp = anpurt_model_default_params();
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct anpurt_session_params sp = anpurt_session_default_params();
	int ret;

	memset(g, 0, sizeof(*g));
	g->o = o;
	mp.chat_template = o->chat_template;
	ret = anpurt_model_open(o->model_path, &mp, &g->model);
	if (!ret) {
		ep.device = o->device;
		ep.n_sessions = 1;
		ep.n_ctx = o->n_ctx;
		ep.threads = o->threads;
		if (isatty(STDERR_FILENO))
			ep.progress = progress_bar;
		ret = anpurt_engine_load(g->model, &ep, &g->engine);
	}
	if (!ret) {
		sp.n_ctx = o->n_ctx;
		sp.priority = o->priority;
		ret = anpurt_session_create(g->engine, &sp, &g->session);
	}
	if (!ret && o->sampled)
		ret = anpurt_sampler_create(&o->sampling, anpurt_model_info(g->model)->n_vocab,
					    &g->sampler);
	if (ret) {
		fprintf(stderr, PROG ": %s: %s\n", o->model_path, anpurt_last_error());
		gen_close(g);
		return ret;
	}
	if (o->logits_path && !(g->logits_file = fopen(o->logits_path, "wb"))) {
		ret = -errno;
		fprintf(stderr, PROG ": %s: %s\n", o->logits_path, strerror(errno));
		gen_close(g);
	} else if (o->session_load && (ret = anpurt_session_restore(g->session, o->session_load))) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());	/* names the file */
		gen_close(g);
	}
	return ret;
}

void gen_close(struct gen *g)
{
	if (g->logits_file)
		fclose(g->logits_file);
	anpurt_sampler_free(g->sampler);
	anpurt_session_free(g->session);
	anpurt_engine_free(g->engine);
	anpurt_model_free(g->model);
	free(g->ids);
	free(g->text);
	memset(g, 0, sizeof(*g));
}

static int on_token(void *user, int32_t id, const char *text, size_t len)
{
	struct gen *g = user;
	uint32_t n_vocab = anpurt_model_info(g->model)->n_vocab;

	if (id >= 0) {
		int32_t *ids = realloc(g->ids, (g->n_ids + 1) * sizeof(*ids));

		if (!ids)
			return 1;
		g->ids = ids;
		g->ids[g->n_ids++] = id;
		if (g->logits_file) {	/* the logits this token was picked from */
			float *row = malloc(n_vocab * sizeof(*row));

			if (!row || anpurt_session_logits(g->session, row, n_vocab) ||
			    fwrite(row, sizeof(*row), n_vocab, g->logits_file) != n_vocab)
				g->logits_failed = 1;
			free(row);
		}
	}
	if (len) {
		char *t = realloc(g->text, g->text_len + len + 1);

		if (!t)
			return 1;
		g->text = t;
		memcpy(g->text + g->text_len, text, len);
		g->text_len += len;
		g->text[g->text_len] = '\0';
		if (!g->o->json) {
			fwrite(text, 1, len, stdout);
			fflush(stdout);
		}
	}
	return 0;
}

int gen_turn(struct gen *g, const int32_t *prompt, size_t n, struct anpurt_generate_stats *st)
{
	struct anpurt_generate_params p = anpurt_generate_default_params();

	g->n_ids = 0;
	g->text_len = 0;
	p.max_tokens = (size_t)g->o->n_predict;
	p.sampler = g->sampler;
	p.on_token = on_token;
	p.user = g;
	if (anpurt_generate(g->session, prompt, n, &p, st)) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());
		return 1;
	}
	if (g->logits_failed) {
		fprintf(stderr, PROG ": %s: writing the logits failed\n", g->o->logits_path);
		return 1;
	}
	if (g->o->session_save && anpurt_session_save(g->session, g->o->session_save)) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());
		return 1;
	}
	return 0;
}

void gen_report(const struct anpurt_generate_stats *st)
{
	fprintf(stderr, "\nprompt tokens: %llu (%llu cached), generated: %llu, stop: %s\n"
		"prefill: %.1f tok/s, decode: %.1f tok/s, time to first token: %.1f ms\n",
		(unsigned long long)st->prompt_tokens, (unsigned long long)st->cached_tokens,
		(unsigned long long)st->generated_tokens, anpurt_stop_reason_name(st->stop),
		st->prefill_tok_s, st->decode_tok_s, st->ttft_ns / 1e6);
}

/* The prompt's token ids: raw template text, or a (system +) user turn through the template. */
static int prompt_ids(struct gen *g, const char *text, int32_t **ids, size_t *n)
{
	const struct anpurt_tokenizer *tok = anpurt_model_tokenizer(g->model);
	const struct run_opts *o = g->o;
	struct anpurt_chat_message msgs[2];
	size_t m = 0;
	int need;

	if (o->chat) {
		if (o->system)
			msgs[m++] = (struct anpurt_chat_message){ "system", o->system };
		msgs[m++] = (struct anpurt_chat_message){ "user", text };
		return anpurt_chat_tokenize(tok, anpurt_model_info(g->model)->chat_template, msgs, m,
					    NULL, ids, n);
	}
	need = anpurt_tokenize(tok, text, strlen(text), o->no_special ? ANPURT_TOKENIZE_NO_SPECIAL : 0,
			       NULL, 0);
	if (need < 0)
		return need;
	*ids = malloc(((size_t)need + 1) * sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	*n = (size_t)anpurt_tokenize(tok, text, strlen(text),
				     o->no_special ? ANPURT_TOKENIZE_NO_SPECIAL : 0, *ids, (size_t)need);
	return 0;
}

static void json_ids(FILE *f, const int32_t *ids, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? ", " : "", ids[i]);
	fputc(']', f);
}

static void print_json(const struct gen *g, const int32_t *prompt, size_t n,
		       const struct anpurt_generate_stats *st)
{
	printf("{\"prompt_ids\": ");
	json_ids(stdout, prompt, n);
	printf(", \"generated_ids\": ");
	json_ids(stdout, g->ids, g->n_ids);
	printf(", \"text\": ");
	tool_json_string(stdout, g->text ? g->text : "");
	printf(", \"prompt_tokens\": %llu, \"generated_tokens\": %llu, \"prefill_tok_s\": %.3f,"
	       " \"decode_tok_s\": %.3f, \"ttft_ms\": %.3f, \"stop_reason\": \"%s\"}\n",
	       (unsigned long long)st->prompt_tokens, (unsigned long long)st->generated_tokens,
	       st->prefill_tok_s, st->decode_tok_s, st->ttft_ns / 1e6,
	       anpurt_stop_reason_name(st->stop));
}

int run_generate(const struct run_opts *o)
{
	struct anpurt_generate_stats st;
	struct gen g;
	int32_t *prompt = NULL;
	size_t n = 0, len;
	char *text;
	int ret;

	if (!o->prompt && !o->prompt_file)
		return run_chat(o);
	ret = run_read_prompt(o, &text, &len);
	if (ret) {
		fprintf(stderr, PROG ": %s: %s\n", o->prompt_file, strerror(-ret));
		return 1;
	}
	text = realloc(text, len + 1);	/* NUL-terminated for the tokenizer and the template */
	if (!text)
		return 1;
	text[len] = '\0';
	if (gen_open(o, &g)) {
		free(text);
		return 1;
	}
	ret = prompt_ids(&g, text, &prompt, &n);
	free(text);
	if (ret || n == 0) {
		fprintf(stderr, PROG ": the prompt: %s\n", ret ? anpurt_last_error() : "no tokens");
		gen_close(&g);
		free(prompt);
		return 1;
	}
	ret = gen_turn(&g, prompt, n, &st);
	if (!ret && o->json)
		print_json(&g, prompt, n, &st);
	else if (!ret)
		gen_report(&st);
	free(prompt);
	gen_close(&g);
	return ret;
}
