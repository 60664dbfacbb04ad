/* SPDX-License-Identifier: MIT */
/*
 * Running tokens: prefill in chunks (one command buffer per chunk, covering
 * every layer; the chunks before the prompt's last share one recorded once,
 * without the logits; the last is recorded for its length, with them), decode
 * by resubmitting the session's one decode command buffer with the new
 * position as its step parameter. The greedy token stays on the device (ARGMAX
 * writes the decode input), so a greedy step writes nothing and reads back 4
 * bytes.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/rt_error.h"
#include "common/rt_time.h"
#include "session/session.h"

static int check_room(const struct anpurt_session *s, size_t n)
{
	if (n > s->bufs.n_ctx - s->pos)
		return rt_error(-ENOSPC, "context full: %zu more tokens at position %u of %u",
				n, s->pos, s->bufs.n_ctx);
	return 0;
}

static int check_tokens(const struct anpurt_session *s, const int32_t *tokens, size_t n)
{
	uint32_t n_vocab = s->engine->model->info.n_vocab;
	size_t i;

	for (i = 0; i < n; i++)
		if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab)
			return rt_error(-EINVAL, "token %zu is %d, outside the vocabulary of %u",
					i, tokens[i], n_vocab);
	return 0;
}

/*
 * One chunk of @m tokens at s->pos; @last: the prompt's last, which computes
 * the logits and greedy token (recorded for each prompt: a full-length one
 * too, which the session used to keep). The others are full chunks and share
 * one command buffer without the output block, recorded once.
 */
static int prefill_chunk(struct anpurt_session *s, const int32_t *tokens, uint32_t m, int last)
{
	uint8_t *scratch = accel_bo_map(s->bufs.scratch);
	struct graph_cmd tail = { 0 }, *g = &s->prefill;
	int64_t span = accel_trace_span_begin();	/* trace mode: a CPU span */
	int ret;

	if (!last && !s->prefill.cb) {
		ret = graph_record(s->engine, &s->bufs, m, GRAPH_NO_LOGITS, &s->prefill);
		if (ret)
			return ret;
	} else if (last) {
		ret = graph_record(s->engine, &s->bufs, m, 0, &tail);
		if (ret)
			return ret;
		g = &tail;
	}
	/* the previous job of the session has finished: the ids are free to overwrite */
	memcpy(scratch + s->bufs.lay.ids, tokens, (size_t)m * sizeof(*tokens));
	ret = session_run(s, g, s->pos);
	accel_trace_span_end("prefill_chunk", span);
	graph_cmd_free(&tail);
	if (!ret) {
		memcpy(s->hist + s->pos, tokens, (size_t)m * sizeof(*tokens));
		s->pos += m;
	}
	return ret;
}

int anpurt_session_prefill(struct anpurt_session *s, const int32_t *tokens, size_t n,
			   int32_t *next)
{
	uint64_t t0 = rt_now_ns();
	size_t done = 0;
	int ret;

	if (n == 0)
		return rt_error(-EINVAL, "prefill of no tokens");
	if ((ret = check_room(s, n)) || (ret = check_tokens(s, tokens, n)))
		return ret;
	/*
	 * only the last chunk writes the logits and lay.next: until it has run
	 * they belong to an older position (a failed chunk leaves them so)
	 */
	s->have_next = 0;
	while (done < n) {
		uint32_t m = n - done < s->bufs.lay.chunk ? (uint32_t)(n - done) : s->bufs.lay.chunk;

		ret = prefill_chunk(s, tokens + done, m, done + m == n);
		if (ret)
			return ret;
		done += m;
	}
	s->have_next = 1;
	s->stats.prefill_tokens += n;
	s->stats.prefill_ns += rt_now_ns() - t0;
	if (next)
		*next = session_next_token(s);
	rt_error_clear();
	return 0;
}

/* One decode step from the token in lay.next. */
static int decode_step(struct anpurt_session *s, int32_t *next)
{
	uint64_t t0 = rt_now_ns();
	int64_t span = accel_trace_span_begin();	/* trace mode: a CPU span */
	int32_t fed = session_next_token(s);	/* the decode input: lay.next */
	int ret;

	ret = session_run(s, &s->decode, s->pos);
	accel_trace_span_end("decode_step", span);
	if (ret)
		return ret;
	s->hist[s->pos++] = fed;
	s->have_next = 1;
	s->stats.decode_tokens++;
	s->stats.decode_ns += rt_now_ns() - t0;
	if (next)
		*next = session_next_token(s);
	return 0;
}

int anpurt_session_decode(struct anpurt_session *s, int32_t token, int32_t *next)
{
	uint8_t *scratch = accel_bo_map(s->bufs.scratch);
	int ret;

	if ((ret = check_room(s, 1)) || (ret = check_tokens(s, &token, 1)))
		return ret;
	memcpy(scratch + s->bufs.lay.next, &token, sizeof(token));
	ret = decode_step(s, next);
	if (!ret)
		rt_error_clear();
	return ret;
}

int anpurt_session_generate_greedy(struct anpurt_session *s, size_t n, int32_t *out)
{
	size_t i;
	int ret;

	if (!s->have_next)
		return rt_error(-ENODATA, "greedy generation needs a prefill first");
	for (i = 0; i < n; i++) {
		ret = check_room(s, 1);
		if (!ret)
			ret = decode_step(s, &out[i]);
		if (ret)
			return i ? (int)i : ret;
	}
	rt_error_clear();
	return (int)n;
}

int anpurt_session_truncate(struct anpurt_session *s, uint32_t pos)
{
	if (pos > s->pos)
		return rt_error(-EINVAL, "truncate to %u: the session holds %u tokens", pos, s->pos);
	/* attention reads positions [0, pos] only: later entries are overwritten as they come */
	s->pos = pos;
	s->have_next = 0;	/* the device's greedy token belongs to the dropped tail */
	rt_error_clear();
	return 0;
}

size_t anpurt_session_tokens(const struct anpurt_session *s, const int32_t **tokens)
{
	*tokens = s->hist;
	return s->pos;
}

int anpurt_session_sync(struct anpurt_session *s, const int32_t *tokens, size_t n, int32_t *next,
			size_t *reused)
{
	size_t common = 0;
	int ret;

	if (n == 0)
		return rt_error(-EINVAL, "sync to no tokens");
	while (common < n && common < s->pos && s->hist[common] == tokens[common])
		common++;
	if (common == n)	/* all cached: run the last one again for its logits */
		common--;
	ret = anpurt_session_truncate(s, (uint32_t)common);
	if (!ret)
		ret = anpurt_session_prefill(s, tokens + common, n - common, next);
	if (!ret && reused)
		*reused = common;
	return ret;
}
