// SPDX-License-Identifier: MIT
/*
 * anpu-llamacpp-agree - our greedy picks against llama.cpp's, teacher-forced.
 *
 *   anpu-llamacpp-agree MODEL.gguf TOLERANCE < STEPS
 *
 * STEPS (from tests/llamacpp/check-agree.sh, which runs llama.cpp's greedy
 * generation): the first line holds the prompt ids, each further line one
 * llama.cpp step: "<token id> <margin>", margin = (p1 - p2) / (p1 + p2) of that
 * step's two best tokens at temperature 1.
 *
 * The runtime prefills the prompt and then runs llama.cpp's tokens one by one,
 * so both sides always see the same context, even after a near tie made them
 * pick differently. At step i our pick (the NPU's argmax) must equal
 * llama.cpp's token unless the step is a near tie: llama.cpp's logit gap
 * between its two best tokens, 2 atanh(margin), is at most 4 x TOLERANCE x the
 * RMS of our logits. TOLERANCE is the runtime's stated max |error| / RMS of
 * logits for the file's weight type (tests/runtime/test_rt_forward.c); each of
 * two implementations within it may move each of the two logits by that much,
 * so a gap up to four times it may flip.
 *
 * Prints one line per step and a summary line
 *   "steps N clear C agree A near-ties-differing D disagree F"
 * and exits 0 when F = 0, 1 when some clear step disagrees, 2 on bad usage.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpurt.h"

#define MAX_PROMPT 4096
#define MAX_STEPS 1024

struct llama_steps {
	int32_t prompt[MAX_PROMPT];
	size_t n_prompt;
	int32_t token[MAX_STEPS];
	double margin[MAX_STEPS];
	size_t n;
};

static int read_steps(FILE *in, struct llama_steps *s)
{
	char line[1 << 16];
	char *p, *end;

	if (!fgets(line, sizeof(line), in))
		return -1;
	for (p = line; s->n_prompt < MAX_PROMPT; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		s->prompt[s->n_prompt++] = (int32_t)v;
	}
	while (s->n < MAX_STEPS && fgets(line, sizeof(line), in)) {
		int id;
		double m;

		if (sscanf(line, "%d %lf", &id, &m) != 2)
			return -1;
		s->token[s->n] = id;
		s->margin[s->n++] = m;
	}
	return s->n_prompt ? 0 : -1;
}

/* RMS of the logits and the gap between the two best (the step's own view). */
static double logits_rms(const float *x, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)x[i] * x[i];
	return sqrt(sum / (double)n);
}

static int check(const char *path, double tol, const struct llama_steps *s)
{
	struct anpurt_model *model = NULL;
	struct anpurt_engine *engine = NULL;
	struct anpurt_session *session = NULL;
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct anpurt_session_params sp = anpurt_session_default_params();
	size_t n_vocab, clear = 0, agree = 0, tie_differs = 0, disagree = 0;
	float *logits = NULL;
	int32_t ours;
	int ret;

	ret = anpurt_model_open(path, NULL, &model);
	if (ret < 0)
		goto out;
	ep.n_sessions = 1;
	ep.n_ctx = sp.n_ctx = (uint32_t)(s->n_prompt + s->n + 1);
	ret = anpurt_engine_load(model, &ep, &engine);
	if (ret < 0)
		goto out;
	ret = anpurt_session_create(engine, &sp, &session);
	if (ret < 0)
		goto out;
	n_vocab = anpurt_vocab_size(anpurt_model_tokenizer(model));
	logits = malloc(n_vocab * sizeof(*logits));
	if (!logits) {
		ret = -ENOMEM;
		goto out;
	}
	ret = anpurt_session_prefill(session, s->prompt, s->n_prompt, &ours);
	for (size_t i = 0; ret >= 0 && i < s->n; i++) {
		double rms, gap, limit;
		int same;

		ret = anpurt_session_logits(session, logits, n_vocab);
		if (ret < 0)
			break;
		rms = logits_rms(logits, n_vocab);
		gap = 2 * atanh(fmin(s->margin[i], 1 - 1e-15));
		limit = 4 * tol * rms;
		same = ours == s->token[i];
		if (gap > limit) {
			clear++;
			agree += same;
			disagree += !same;
		} else if (!same) {
			tie_differs++;
		}
		printf("step %zu: llama.cpp %d, ours %d, gap %.4g (near-tie limit %.4g)%s", i,
		       s->token[i], ours, gap, limit,
		       same ? "" : gap > limit ? " DISAGREE" : " (near tie)");
		if (!same)	/* how far apart our own logits put the two picks */
			printf(", our logits %.4g (llama.cpp's) vs %.4g (ours)",
			       s->token[i] >= 0 && (size_t)s->token[i] < n_vocab ?
			       logits[s->token[i]] : NAN, logits[ours]);
		printf("\n");
		ret = anpurt_session_decode(session, s->token[i], &ours);
	}
out:
	if (ret < 0)
		fprintf(stderr, "anpu-llamacpp-agree: %s: %s\n", path, anpurt_last_error());
	else
		printf("steps %zu clear %zu agree %zu near-ties-differing %zu disagree %zu\n", s->n,
		       clear, agree, tie_differs, disagree);
	free(logits);
	anpurt_session_free(session);
	anpurt_engine_free(engine);
	anpurt_model_free(model);
	return ret < 0 || disagree ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct llama_steps steps;
	char *end;
	double tol;

	if (argc != 3 || (tol = strtod(argv[2], &end), *end || !(tol > 0))) {
		fprintf(stderr, "Usage: anpu-llamacpp-agree MODEL.gguf TOLERANCE < STEPS\n");
		return 2;
	}
	if (read_steps(stdin, &steps) < 0) {
		fprintf(stderr, "anpu-llamacpp-agree: stdin: expected prompt ids, then \"id margin\" lines\n");
		return 2;
	}
	return check(argv[1], tol, &steps);
}
