/* SPDX-License-Identifier: MIT */
/*
 * The generation loop: pick (NPU argmax, or the sampler on the logits in the session's BO),
 * check the stops, detokenize, hold back possible stop-string text, run the
 * token. Both the pull-style next() and the callback-style anpurt_generate()
 * are this one loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rt_error.h"
#include "common/rt_time.h"
#include "graph/engine.h"
#include "session/gen_stop.h"
#include "session/sampler.h"
#include "session/session.h"

struct anpurt_generation {
	struct anpurt_session *s;
	struct anpurt_generate_params p;
	const struct anpurt_tokenizer *tok;
	struct anpurt_detok *detok;
	struct gen_stop stop;
	int32_t pending;		/* picked, not handed out yet */
	int32_t last;			/* handed out, not run yet */
	int have_pending;
	uint64_t t_start, t_first;
	struct anpurt_generate_stats st;
};

const char *anpurt_stop_reason_name(enum anpurt_stop_reason r)
{
	static const char *const names[] = {
		[ANPURT_STOP_NONE] = "none", [ANPURT_STOP_EOG] = "eog",
		[ANPURT_STOP_STRING] = "stop-string", [ANPURT_STOP_MAX_TOKENS] = "max-tokens",
		[ANPURT_STOP_CONTEXT_FULL] = "context-full", [ANPURT_STOP_CANCELLED] = "cancelled",
		[ANPURT_STOP_CALLBACK] = "callback", [ANPURT_STOP_ERROR] = "error",
	};

	return (unsigned int)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

struct anpurt_generate_params anpurt_generate_default_params(void)
{
	return (struct anpurt_generate_params){ .max_tokens = 0 };
}

void anpurt_session_cancel(struct anpurt_session *s)
{
	atomic_store(&s->cancel, 1);
}

static int sampling(const struct anpurt_generation *g)
{
	return g->p.sampler && !anpurt_sampler_is_greedy(g->p.sampler);
}

/* The token after the last run: *@next from the NPU's argmax, or sampled from the logits. */
static int pick(struct anpurt_generation *g, int32_t argmax_token)
{
	int64_t span = accel_trace_span_begin();	/* trace mode: a CPU span */

	if (!sampling(g)) {
		g->pending = argmax_token;
	} else {
		const float *logits = session_logits(g->s);

		if (!logits)
			return rt_error(-ENODATA, "session: no position has run yet");
		/* the NPU's ARGMAX ran on these logits: the sampler needs no scan for the maximum */
		g->pending = sampler_sample_at_max(g->p.sampler, logits, argmax_token);
	}
	if (g->p.sampler)
		anpurt_sampler_accept(g->p.sampler, g->pending);
	g->have_pending = 1;
	accel_trace_span_end("sample", span);
	return 0;
}

void anpurt_generation_free(struct anpurt_generation *g)
{
	if (!g)
		return;
	anpurt_detok_free(g->detok);
	gen_stop_free(&g->stop);
	free(g);
}

int anpurt_generation_start(struct anpurt_session *s, const int32_t *prompt, size_t n,
			    const struct anpurt_generate_params *params,
			    struct anpurt_generation **out)
{
	struct anpurt_generation *g;
	size_t reused = 0;
	int32_t next;
	int ret;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return rt_error(-ENOMEM, "generation: out of memory");
	g->s = s;
	g->p = params ? *params : anpurt_generate_default_params();
	g->tok = anpurt_model_tokenizer(s->engine->model);
	ret = gen_stop_init(&g->stop, g->p.stop, g->p.n_stop);
	if (!ret)
		ret = anpurt_detok_create(g->tok, g->p.detok_flags, &g->detok);
	/* the sampler reads n_vocab logits where the NPU wrote the model's */
	if (!ret && g->p.sampler && g->p.sampler->n_vocab != s->engine->model->info.n_vocab)
		ret = rt_error(-EINVAL, "generation: the sampler is for %u tokens, the model has %u",
			       g->p.sampler->n_vocab, s->engine->model->info.n_vocab);
	atomic_store(&s->cancel, 0);
	g->t_start = rt_now_ns();
	if (!ret)
		ret = anpurt_session_sync(s, prompt, n, &next, &reused);
	if (!ret && g->p.sampler) {	/* the penalties look back over the prompt too */
		size_t i, last_n = g->p.sampler->params.penalty_last_n;

		for (i = n > last_n ? n - last_n : 0; i < n; i++)
			anpurt_sampler_accept(g->p.sampler, prompt[i]);
	}
	if (!ret) {
		g->st.prompt_tokens = n;
		g->st.cached_tokens = reused;
		g->st.prefill_ns = rt_now_ns() - g->t_start;
		ret = pick(g, next);
	}
	if (ret) {
		anpurt_generation_free(g);
		return ret;
	}
	g->t_first = rt_now_ns();
	g->st.ttft_ns = g->t_first - g->t_start;
	*out = g;
	return 0;
}

static int finish(struct anpurt_generation *g, enum anpurt_stop_reason why, const char **text,
		  size_t *len)
{
	const char *t;
	size_t l;
	int ret = 0;

	g->st.stop = why;
	g->have_pending = 0;
	if (why != ANPURT_STOP_STRING) {
		ret = anpurt_detok_flush(g->detok, &t, &l);
		if (!ret && gen_stop_push(&g->stop, t, l) == 1)
			g->st.stop = ANPURT_STOP_STRING;
		else if (!ret)
			ret = gen_stop_flush(&g->stop);
	}
	*text = g->stop.out.p ? g->stop.out.p : "";
	*len = g->stop.out.len;
	return ret;
}

int anpurt_generation_next(struct anpurt_generation *g, int32_t *token, const char **text,
			   size_t *len)
{
	struct anpurt_session *s = g->s;
	const char *t;
	size_t l;
	int32_t next;
	int ret;

	*text = "";
	*len = 0;
	if (g->st.stop != ANPURT_STOP_NONE)
		return 0;
	if (atomic_load(&s->cancel))
		return finish(g, ANPURT_STOP_CANCELLED, text, len);
	if (g->p.max_tokens && g->st.generated_tokens >= g->p.max_tokens)
		return finish(g, ANPURT_STOP_MAX_TOKENS, text, len);
	if (!g->have_pending) {
		uint64_t t0 = rt_now_ns();

		if (s->pos >= s->bufs.n_ctx)
			return finish(g, ANPURT_STOP_CONTEXT_FULL, text, len);
		ret = anpurt_session_decode(s, g->last, &next);
		if (!ret)
			ret = pick(g, next);
		g->st.decode_ns += rt_now_ns() - t0;
		if (ret) {
			g->st.stop = ANPURT_STOP_ERROR;
			return ret;
		}
	}
	if (anpurt_token_is_eog(g->tok, g->pending))
		return finish(g, ANPURT_STOP_EOG, text, len);
	*token = g->last = g->pending;
	g->have_pending = 0;
	g->st.generated_tokens++;
	ret = anpurt_detok_push(g->detok, *token, &t, &l);
	if (!ret)
		ret = gen_stop_push(&g->stop, t, l);
	if (ret < 0)
		return ret;
	*text = g->stop.out.p ? g->stop.out.p : "";
	*len = g->stop.out.len;
	if (ret == 1)
		g->st.stop = ANPURT_STOP_STRING;
	return 1;
}

void anpurt_generation_stats(const struct anpurt_generation *g, struct anpurt_generate_stats *st)
{
	*st = g->st;
	st->prefill_tok_s = st->prefill_ns ?
			    (double)(st->prompt_tokens - st->cached_tokens) * 1e9 / (double)st->prefill_ns : 0.0;
	/* the first token comes from the prefill; the others each took one decode */
	st->decode_tok_s = st->decode_ns && st->generated_tokens > 1 ?
			   (double)(st->generated_tokens - 1) * 1e9 / (double)st->decode_ns : 0.0;
}

int anpurt_generate(struct anpurt_session *s, const int32_t *prompt, size_t n,
		    const struct anpurt_generate_params *params, struct anpurt_generate_stats *stats)
{
	struct anpurt_generation *g;
	const char *text;
	size_t len;
	int32_t token;
	int ret;

	ret = anpurt_generation_start(s, prompt, n, params, &g);
	if (ret)
		return ret;
	while ((ret = anpurt_generation_next(g, &token, &text, &len)) == 1)
		if (g->p.on_token && g->p.on_token(g->p.user, token, text, len)) {
			g->st.stop = ANPURT_STOP_CALLBACK;
			break;
		}
	if (ret == 0 && len && g->p.on_token)
		g->p.on_token(g->p.user, -1, text, len);
	if (stats)
		anpurt_generation_stats(g, stats);
	anpurt_generation_free(g);
	if (ret >= 0)
		rt_error_clear();
	return ret < 0 ? ret : 0;
}
