// SPDX-License-Identifier: MIT
/*
 * One model in-process (the "sim" NPU, T model worker threads, default 2), one
 * process per model so its peak RSS is its own:
 *
 *   runtime.load.L.ms                 anpurt_model_open + anpurt_engine_load (one
 *                                     load per process: the in-process NPU is
 *                                     sized by the first engine's parameters)
 *   runtime.prefill.L.p128.tok_s      128 / wall time of one 128-token prefill
 *   runtime.prefill.L.p512.tok_s      the same for 512 tokens
 *   runtime.ttft.L.p128_ms            the 128-token prefill until its greedy token
 *   runtime.decode.L.tok_s            128 greedy tokens after a 128-token prompt
 *   runtime.decode.L.cpu_us_per_token the calling thread's CPU time of those steps
 *                                     (CLOCK_THREAD_CPUTIME_ID: model workers excluded)
 *   runtime.decode.L.cpu_us_per_token_sampled  the same for 128 sampled tokens
 *                                     (anpurt_generation_next: logits read back,
 *                                     temperature 0.8 + top-p 0.95 over the whole
 *                                     vocabulary, detokenized), after the same prompt
 *   runtime.decode.L.roofline         (weight + KV bytes read per token) x tok_s /
 *                                     read GB/s: the fraction of the read-bandwidth
 *                                     bound reached (with --bw GBS, or --bw-probe:
 *                                     the mean of probes just before and after each
 *                                     timed decode, the best round's fraction; also
 *                                     with --decode-only)
 *   runtime.rss.L.peak_mib            the process's peak RSS (getrusage) at the end
 *   runtime.load.L.vs_read            load ms / ms to read the whole file from the
 *                                     page cache (pread into one reused buffer,
 *                                     best of 3, file read once before: warm)
 *                                     in the same process just before the load
 *                                     (goal <= 1.5)
 *   runtime.rss.L.vs_budget           peak RSS / (1.1 x (weight + KV cache bytes)
 *                                     + 64 MiB), KV of the one N_CTX-token session
 *                                     the engine is sized for (goal <= 1: weights
 *                                     held once, in device memory)
 *
 * With --long N (N >= 256; bench/runtime.sh: 4000), after those: decode far into
 * the context, 32 greedy steps each, at position 1 and at N back to back in 5
 * rounds (the N-token prompt prefilled once):
 *   runtime.decode.L.pos0.tok_s       after a 1-token prompt (best round)
 *   runtime.decode.L.posN.tok_s       after an N-token prompt (best round)
 *   runtime.decode.L.posN_ratio       posN / pos0 tok/s, the median of the rounds'
 *                                     own ratios (Qwen2.5-0.5B goal >= 0.85)
 *   runtime.decode.L.posN.roofline    (weight + KV bytes read per token at N) x
 *                                     tok/s / --bw, or the bandwidth probed around
 *                                     those steps (--bw-probe) (goal >= 0.80)
 * The engine is then sized for two N + 64 token sessions (lazily committed
 * device memory: the RSS figures above are taken before those sessions exist).
 *
 * With --batch N (2..32), after those: N sessions (prompts of 128 + i tokens)
 * decoding together (anpurt_batch_step) against one session alone, 32 greedy
 * steps each, rounds interleaved, best of --runs + 1:
 *   runtime.decode.L.batchN.tok_s     the N sessions' tokens together per second
 *   runtime.decode.L.batchN_ratio     that / one session's tok/s (goal for N = 4: >= 3)
 *
 * With --responsive, after those: a HIGH-priority session's time to first
 * token for a 64-token prompt (the first 64 prompt ids) on an idle NPU and
 * while a LOW-priority session of the same process prefills 2000-token prompts
 * back to back on another thread (default session parameters: the background
 * prefills in LOW's short chunks), 5 each, medians (bench/bench_rt_responsive.c):
 *   runtime.ttft.L.foreground_under_load_ratio  loaded / idle (goal <= 1.5)
 *
 * With --device DEV (e.g. /dev/accel/accel0 in anpu-vp) the engine runs there;
 * --decode-only times only the p128 + 128 greedy steps and prints only
 * runtime.decode.L.tok_s (bench/runtime.sh's VM ratio: the in-process run's
 * decode figure from the same file, prompt and token count), and its roofline
 * with --bw or --bw-probe (the AVX2 path's figures).
 *
 * Each timed figure is the best of --runs rounds (default 2) after a short
 * warm-up (a session with 16 prompt tokens and 4 greedy steps: command buffers
 * recorded, worker threads and pages touched); a round is a fresh session with
 * p128 + 128 greedy steps, then another fresh session with p512. The prompt is
 * real text of the model's vocabulary; --ids-out FILE writes its 512 ids (a
 * JSON array) so that llama.cpp is fed exactly the same tokens.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "anpurt.h"
#include "bench/bench_runtime.h"

#define N_DECODE	128
#define N_CTX		1024
#define MAX_PROMPT	512
#define N_LONG_STEPS	32
#define N_BATCH_STEPS	32

static const char prompt_text[] =
	"The quick brown fox jumps over the lazy dog while the compiler checks every "
	"reserved field, returns each error to its caller and documents each lock. ";

struct model_best {
	double p128_ms, p512_ms, decode_ms, decode_cpu_ms, sampled_cpu_ms;
	uint64_t kv_bytes;		/* device memory of one N_CTX session's KV cache */
	/* --bw-probe: the best round's decode ms over the bandwidth probed around it */
	double probed_ms, probed_gbs;
};

static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

int bench_fail(const char *what)
{
	fprintf(stderr, "anpu-bench-runtime: %s: %s\n", what, anpurt_last_error());
	return 1;
}

static void emit(const char *label, const char *what, double value, const char *unit)
{
	printf("{\"name\":\"runtime.%s\",\"value\":%.3f,\"unit\":\"%s\",\"model\":\"%s\"}\n",
	       what, value, unit, label);
}

/* @n ids of the prompt text repeated (the tokenizer of the model under test). */
int bench_prompt_ids(const struct anpurt_model *model, int32_t *ids, size_t n)
{
	const struct anpurt_tokenizer *tok = anpurt_model_tokenizer(model);
	size_t have = 0;

	while (have < n) {
		int32_t part[64];
		int got = anpurt_tokenize(tok, prompt_text, sizeof(prompt_text) - 1,
					  ANPURT_TOKENIZE_NO_SPECIAL, part, 64);

		if (got <= 0 || got > 64)
			return bench_fail("tokenize");
		for (int i = 0; i < got && have < n; i++)
			ids[have++] = part[i];
	}
	return 0;
}

/*
 * Milliseconds to read @path from the page cache: read once to warm it, then the
 * best of 3 whole reads into one reused 1 MiB buffer (so the reads add no RSS).
 */
static double page_cache_read_ms(const char *path)
{
	static char buf[1 << 20];
	double best = 1e30;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		perror(path);
		return -1;
	}
	for (int r = 0; r < 4; r++) {
		double t0 = now_ms();
		off_t off = 0;
		ssize_t got;

		while ((got = pread(fd, buf, sizeof(buf), off)) > 0)
			off += got;
		if (got < 0) {
			perror(path);
			close(fd);
			return -1;
		}
		if (r)
			best = min_d(best, now_ms() - t0);
	}
	close(fd);
	return best;
}

/* The warm-up: a short prompt and a few greedy steps in a session of their own. */
static int warm_up(struct anpurt_engine *engine, const int32_t *prompt, uint64_t *kv_bytes)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_session_stats st;
	struct anpurt_session *s;
	int32_t next, out[4];
	int rc = 0;

	sp.n_ctx = N_CTX;
	if (anpurt_session_create(engine, &sp, &s))
		return bench_fail("session");
	if (anpurt_session_prefill(s, prompt, 16, &next) || anpurt_session_generate_greedy(s, 4, out) != 4)
		rc = bench_fail("warm-up");
	else if (anpurt_session_stats(s, &st))
		rc = bench_fail("session stats");
	else
		*kv_bytes = st.kv_bytes;
	anpurt_session_free(s);
	return rc;
}

/*
 * Host CPU per sampled token: the 128-token prompt, the first token (prefill,
 * not counted), then N_DECODE sampled steps on the calling thread's clock.
 */
static int sampled_cpu_ms(struct anpurt_engine *engine, uint32_t n_vocab, const int32_t *prompt,
			  double *cpu_ms)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_sampler_params smp = anpurt_sampler_default_params();
	struct anpurt_generate_params gp = anpurt_generate_default_params();
	struct anpurt_generation *gen = NULL;
	struct anpurt_sampler *sampler = NULL;
	struct anpurt_session *s = NULL;
	const char *text;
	size_t len;
	int32_t tok;
	int got = 0, n = 0, rc = 0;
	double c0 = 0;

	sp.n_ctx = N_CTX;
	smp.temperature = 0.8f;
	smp.top_k = 0;		/* the whole vocabulary */
	smp.top_p = 0.95f;
	smp.min_p = 0;
	gp.max_tokens = N_DECODE + 1;
	if (anpurt_session_create(engine, &sp, &s) ||
	    anpurt_sampler_create(&smp, n_vocab, &sampler))
		rc = bench_fail("sampled decode: session or sampler");
	gp.sampler = sampler;
	if (!rc && anpurt_generation_start(s, prompt, 128, &gp, &gen))
		rc = bench_fail("sampled decode: start");
	for (int i = 0; !rc && i <= N_DECODE; i++) {
		got = anpurt_generation_next(gen, &tok, &text, &len);
		if (got < 0)
			rc = bench_fail("sampled decode");
		if (got <= 0)
			break;
		if (i == 0)
			c0 = thread_cpu_ms();
		else
			n++;
	}
	/* an end-of-generation token this early leaves too few steps to time */
	if (!rc && n < N_DECODE / 2) {
		fprintf(stderr, "anpu-bench-runtime: sampled decode ended after %d tokens\n", n);
		rc = 1;
	}
	if (!rc)
		*cpu_ms = (thread_cpu_ms() - c0) * N_DECODE / n;
	anpurt_generation_free(gen);
	anpurt_sampler_free(sampler);
	anpurt_session_free(s);
	return rc;
}

/*
 * --bw-probe: the read bandwidth probed just before and just after a timed
 * decode (a child process each, while the model's threads are idle), their
 * mean: what that decode had. A shared host's bandwidth drifts by a third
 * within a benchmark run (28.8-54.4 GB/s), so one probe taken seconds before
 * a round set its roofline by where the drift happened to be.
 */
static int probe_before(int probe, double *gbs)
{
	*gbs = probe ? bench_bw_probe() : 0;
	return *gbs < 0;
}

static int probe_after(int probe, double before, double *gbs)
{
	double after = probe ? bench_bw_probe() : 0;

	*gbs = (before + after) / 2;
	return after < 0;
}

/*
 * One round: fresh session, p128, 128 greedy steps; fresh session, p512 (not
 * @decode_only). With @probe the decode's bandwidth too: the round whose decode
 * reached the largest fraction of it is kept in b->probed_*.
 */
static int round_once(struct anpurt_engine *engine, uint32_t n_vocab, const int32_t *prompt,
		      struct model_best *b, int decode_only, int probe)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_session *s;
	int32_t next, out[N_DECODE];
	double t0, c0, ms, gbs;

	sp.n_ctx = N_CTX;
	if (anpurt_session_create(engine, &sp, &s))
		return bench_fail("session");
	t0 = now_ms();
	if (anpurt_session_prefill(s, prompt, 128, &next)) {
		anpurt_session_free(s);
		return bench_fail("prefill 128");
	}
	b->p128_ms = min_d(b->p128_ms, now_ms() - t0);
	if (probe_before(probe, &gbs)) {
		anpurt_session_free(s);
		return 1;
	}
	t0 = now_ms();
	c0 = thread_cpu_ms();
	if (anpurt_session_generate_greedy(s, N_DECODE, out) != N_DECODE) {
		anpurt_session_free(s);
		return bench_fail("greedy");
	}
	b->decode_cpu_ms = min_d(b->decode_cpu_ms, thread_cpu_ms() - c0);
	ms = now_ms() - t0;
	b->decode_ms = min_d(b->decode_ms, ms);
	anpurt_session_free(s);
	if (probe_after(probe, gbs, &gbs))
		return 1;
	if (probe && (!b->probed_gbs || ms * gbs < b->probed_ms * b->probed_gbs)) {
		b->probed_ms = ms;
		b->probed_gbs = gbs;
	}
	if (decode_only)
		return 0;

	{
		double cpu;

		if (sampled_cpu_ms(engine, n_vocab, prompt, &cpu))
			return 1;
		b->sampled_cpu_ms = min_d(b->sampled_cpu_ms, cpu);
	}

	if (anpurt_session_create(engine, &sp, &s))
		return bench_fail("session");
	t0 = now_ms();
	if (anpurt_session_prefill(s, prompt, 512, &next)) {
		anpurt_session_free(s);
		return bench_fail("prefill 512");
	}
	b->p512_ms = min_d(b->p512_ms, now_ms() - t0);
	anpurt_session_free(s);
	return 0;
}

/*
 * Session @s rewound to hold the first n - 1 of @ids, then prefilled with id
 * n - 1: it steps from position @n as it did the first time.
 */
static int rewind_to(struct anpurt_session *s, const int32_t *ids, uint32_t n)
{
	int32_t next;

	if (anpurt_session_truncate(s, n - 1) || anpurt_session_prefill(s, ids + n - 1, 1, &next))
		return bench_fail("long-context rewind");
	return 0;
}

/* *@ms: N_LONG_STEPS greedy steps of @s */
static int long_steps(struct anpurt_session *s, double *ms)
{
	int32_t out[N_LONG_STEPS];
	double t0 = now_ms();

	if (anpurt_session_generate_greedy(s, N_LONG_STEPS, out) != N_LONG_STEPS)
		return bench_fail("long-context decode");
	*ms = now_ms() - t0;
	return 0;
}

/* A session of @n + 64 tokens of context prefilled with the first @n of @ids. */
static int prefilled_session(struct anpurt_engine *engine, const int32_t *ids, uint32_t n,
			struct anpurt_session **s)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	int32_t next;

	sp.n_ctx = n + 64;
	if (anpurt_session_create(engine, &sp, s))
		return bench_fail("long-context session");
	if (anpurt_session_prefill(*s, ids, n, &next))
		return bench_fail("long-context prefill");
	return 0;
}

/*
 * --long N: decode at position 1 and at position N, back to back, in
 * LONG_ROUNDS rounds (with --bw-probe the bandwidth probed around each
 * round's pair): the tok/s figures are the best of the rounds, the ratio is
 * the median of the rounds' own ratios, the roofline the best of the rounds'
 * fractions. The read bandwidth of a shared host drifts within minutes and
 * even within a round: with position 1 timed before the N-token prefill and
 * position N once after it, the ratio measured the drift as much as the
 * attention (Qwen2.5-0.5B Q4_K_M 1.02 in one run, 0.77 in the next), and
 * best-of-rounds figures taken independently can still pair a fast round with
 * a slow one. The N-token prompt is prefilled once; each round rewinds both
 * sessions.
 */
#define LONG_ROUNDS 5

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int long_context(struct anpurt_engine *engine, const struct anpurt_model *model,
			const char *label, uint32_t n, double bw_gbs, int probe)
{
	const struct anpurt_model_info *info = anpurt_model_info(model);
	/* F16 K and V of every layer at the mean position of the steps at N */
	const double kv = (double)info->n_layer * info->n_head_kv *
			  (info->head_dim_k + info->head_dim_v) * 2.0 * (n + N_LONG_STEPS / 2.0);
	const double bytes = (double)info->weight_bytes + kv;
	int32_t *ids = malloc(n * sizeof(*ids));
	struct anpurt_session *one = NULL, *far = NULL;
	double ms0 = 1e30, msn = 1e30, ratio[LONG_ROUNDS], frac, best_frac = 0;
	double best_gbs = bw_gbs, gbs = 0, ms_one, ms_far, tok0, tokn;
	char name[160];
	int rc;

	if (!ids)
		return bench_fail("out of memory");
	rc = bench_prompt_ids(model, ids, n);
	if (!rc)
		rc = prefilled_session(engine, ids, 1, &one);
	if (!rc)
		rc = prefilled_session(engine, ids, n, &far);
	for (int r = 0; !rc && r < LONG_ROUNDS; r++) {
		rc = rewind_to(one, ids, 1);
		if (!rc)
			rc = rewind_to(far, ids, n);
		if (!rc)
			rc = probe_before(probe, &gbs);
		if (!rc)
			rc = long_steps(one, &ms_one);
		if (!rc)
			rc = long_steps(far, &ms_far);
		if (!rc)
			rc = probe_after(probe, gbs, &gbs);
		if (rc)
			break;
		ms0 = min_d(ms0, ms_one);
		msn = min_d(msn, ms_far);
		ratio[r] = ms_one / ms_far;
		/* --bw-probe: the round's fraction of the bandwidth it had */
		frac = probe && gbs > 0 ? bytes * N_LONG_STEPS / (ms_far / 1e3) / (gbs * 1e9) : 0;
		if (frac > best_frac) {
			best_frac = frac;
			best_gbs = gbs;
		}
	}
	anpurt_session_free(one);
	anpurt_session_free(far);
	free(ids);
	if (rc)
		return rc;
	qsort(ratio, LONG_ROUNDS, sizeof(ratio[0]), cmp_double);
	tok0 = N_LONG_STEPS / (ms0 / 1e3);
	tokn = N_LONG_STEPS / (msn / 1e3);
	snprintf(name, sizeof(name), "decode.%s.pos0.tok_s", label);
	emit(label, name, tok0, "tok/s");
	snprintf(name, sizeof(name), "decode.%s.pos%u.tok_s", label, n);
	emit(label, name, tokn, "tok/s");
	printf("{\"name\":\"runtime.decode.%s.pos%u_ratio\",\"value\":%.4f,\"unit\":\"ratio\","
	       "\"model\":\"%s\",\"pos0_tok_s\":%.3f,\"pos%u_tok_s\":%.3f,"
	       "\"how\":\"median of the rounds' ratios\",\"min\":%.4f,\"max\":%.4f,\"runs\":%d}\n",
	       label, n, ratio[LONG_ROUNDS / 2], label, tok0, n, tokn, ratio[0],
	       ratio[LONG_ROUNDS - 1], LONG_ROUNDS);
	if (!probe && bw_gbs > 0)	/* --bw: the best round against the given bandwidth */
		best_frac = bytes * tokn / (bw_gbs * 1e9);
	if (best_frac > 0)
		printf("{\"name\":\"runtime.decode.%s.pos%u.roofline\",\"value\":%.4f,"
		       "\"unit\":\"fraction\",\"model\":\"%s\",\"bytes_per_token\":%.0f,"
		       "\"kv_bytes_per_token\":%.0f,\"read_gbs\":%.3f,\"runs\":%d}\n",
		       label, n, best_frac, label, bytes, kv, best_gbs, LONG_ROUNDS);
	return 0;
}

/* @n sessions, session i prefilled with the first 128 + i prompt ids. */
static int batch_sessions(struct anpurt_engine *engine, const int32_t *prompt, int n,
			  struct anpurt_session **s)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	int32_t next;

	sp.n_ctx = 128 + (uint32_t)n + 2 * N_BATCH_STEPS;
	for (int i = 0; i < n; i++) {
		s[i] = NULL;
		if (anpurt_session_create(engine, &sp, &s[i]) ||
		    anpurt_session_prefill(s[i], prompt, 128 + (size_t)i, &next))
			return bench_fail("batch session");
	}
	return 0;
}

/* --batch N: N sessions stepped together against session 0 stepping alone. */
static int batch_figures(struct anpurt_engine *engine, const char *label, const int32_t *prompt,
			 int n, int runs)
{
	struct anpurt_session *s[ANPURT_BATCH_MAX];
	int32_t next[ANPURT_BATCH_MAX], out[N_BATCH_STEPS];
	double one = 1e30, all = 1e30, t0;
	struct anpurt_batch *b = NULL;
	int rc = batch_sessions(engine, prompt, n, s);

	if (!rc && anpurt_batch_create(s, (size_t)n, &b))
		rc = bench_fail("batch");
	for (int r = 0; !rc && r <= runs; r++) {
		/* each round steps from where the last left: the positions move by 32 */
		t0 = now_ms();
		if (anpurt_session_generate_greedy(s[0], N_BATCH_STEPS, out) != N_BATCH_STEPS)
			rc = bench_fail("batch: one session");
		one = min_d(one, now_ms() - t0);
		t0 = now_ms();
		for (int k = 0; !rc && k < N_BATCH_STEPS; k++)
			if (anpurt_batch_step(b, next))
				rc = bench_fail("batch step");
		all = min_d(all, now_ms() - t0);
		for (int i = 0; !rc && i < n; i++)	/* back to after the prompt: its last token again */
			if (anpurt_session_truncate(s[i], 127 + (uint32_t)i) ||
			    anpurt_session_decode(s[i], prompt[127 + i], &next[0]))
				rc = bench_fail("batch: rewind");
	}
	anpurt_batch_free(b);
	for (int i = 0; i < n; i++)
		anpurt_session_free(s[i]);
	if (rc)
		return rc;
	printf("{\"name\":\"runtime.decode.%s.batch%d.tok_s\",\"value\":%.3f,\"unit\":\"tok/s\","
	       "\"model\":\"%s\",\"runs\":%d}\n", label, n, n * N_BATCH_STEPS / (all / 1e3), label,
	       runs + 1);
	printf("{\"name\":\"runtime.decode.%s.batch%d_ratio\",\"value\":%.4f,\"unit\":\"ratio\","
	       "\"model\":\"%s\",\"one_tok_s\":%.3f,\"batch_tok_s\":%.3f,\"goal\":%s,\"runs\":%d}\n",
	       label, n, n * one / all, label, N_BATCH_STEPS / (one / 1e3),
	       n * N_BATCH_STEPS / (all / 1e3), n == 4 ? "3" : "null", runs + 1);
	return 0;
}

/* The prompt ids as a JSON array into @path. */
static int write_ids(const char *path, const int32_t *ids, size_t n)
{
	FILE *f = fopen(path, "w");
	int bad;

	if (!f) {
		perror(path);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%c%d", i ? ',' : '[', ids[i]);
	fprintf(f, "]\n");
	bad = ferror(f);
	if (fclose(f) || bad) {
		perror(path);
		return -1;
	}
	return 0;
}

static void emit_decode(const char *label, const struct model_best *b, unsigned int threads,
			int runs)
{
	printf("{\"name\":\"runtime.decode.%s.tok_s\",\"value\":%.3f,\"unit\":\"tok/s\",\"model\":\"%s\","
	       "\"prompt\":128,\"tokens\":%d,\"threads\":%u,\"runs\":%d}\n",
	       label, N_DECODE / (b->decode_ms / 1e3), label, N_DECODE, threads, runs);
}

/*
 * runtime.decode.L.roofline: bytes read per token x tok/s over the read
 * bandwidth, from the bandwidth probed around each round (--bw-probe: the
 * round that reached the largest fraction) or from --bw GBS.
 */
static void emit_roofline(const char *label, const struct anpurt_model_info *info,
			  const struct model_best *b, double bw_gbs)
{
	/* F16 K and V of every layer for the mean position of the 128 steps (128..255) */
	double kv = (double)info->n_layer * info->n_head_kv *
		    (info->head_dim_k + info->head_dim_v) * 2.0 * (128 + N_DECODE / 2.0);
	double bytes = (double)info->weight_bytes + kv;
	double tok_s = N_DECODE / (b->decode_ms / 1e3);
	const char *how = "probed before the run";

	if (b->probed_gbs > 0) {
		tok_s = N_DECODE / (b->probed_ms / 1e3);
		bw_gbs = b->probed_gbs;
		how = "probed around the round";
	}
	if (bw_gbs <= 0)
		return;
	printf("{\"name\":\"runtime.decode.%s.roofline\",\"value\":%.4f,\"unit\":\"fraction\","
	       "\"model\":\"%s\",\"bytes_per_token\":%.0f,\"tok_s\":%.3f,\"read_gbs\":%.3f,"
	       "\"read\":\"%s\",\"bound_tok_s\":%.2f,\"goal\":0.85}\n", label,
	       bytes * tok_s / (bw_gbs * 1e9), label, bytes, tok_s, bw_gbs, how,
	       bw_gbs * 1e9 / bytes);
}

static void emit_figures(const char *label, const struct anpurt_model_info *info,
			 const struct model_best *b, double load_ms, double read_ms, double bw_gbs,
			 unsigned int threads, int runs)
{
	char name[160];
	struct rusage ru;
	double budget = 1.1 * (double)(info->weight_bytes + b->kv_bytes) + 64.0 * 1024 * 1024;

	getrusage(RUSAGE_SELF, &ru);
	snprintf(name, sizeof(name), "load.%s.ms", label);
	emit(label, name, load_ms, "ms");
	printf("{\"name\":\"runtime.load.%s.vs_read\",\"value\":%.3f,\"unit\":\"ratio\","
	       "\"model\":\"%s\",\"load_ms\":%.2f,\"read_ms\":%.2f,\"goal\":1.5}\n",
	       label, load_ms / read_ms, label, load_ms, read_ms);
	snprintf(name, sizeof(name), "prefill.%s.p128.tok_s", label);
	emit(label, name, 128 / (b->p128_ms / 1e3), "tok/s");
	snprintf(name, sizeof(name), "prefill.%s.p512.tok_s", label);
	emit(label, name, 512 / (b->p512_ms / 1e3), "tok/s");
	snprintf(name, sizeof(name), "ttft.%s.p128_ms", label);
	emit(label, name, b->p128_ms, "ms");
	emit_decode(label, b, threads, runs);
	snprintf(name, sizeof(name), "decode.%s.cpu_us_per_token", label);
	emit(label, name, b->decode_cpu_ms * 1e3 / N_DECODE, "us");
	snprintf(name, sizeof(name), "decode.%s.cpu_us_per_token_sampled", label);
	emit(label, name, b->sampled_cpu_ms * 1e3 / N_DECODE, "us");
	emit_roofline(label, info, b, bw_gbs);
	snprintf(name, sizeof(name), "rss.%s.peak_mib", label);
	emit(label, name, ru.ru_maxrss / 1024.0, "MiB");
	printf("{\"name\":\"runtime.rss.%s.vs_budget\",\"value\":%.3f,\"unit\":\"ratio\","
	       "\"model\":\"%s\",\"peak_rss_bytes\":%.0f,\"weight_bytes\":%llu,"
	       "\"kv_bytes\":%llu,\"budget_bytes\":%.0f,\"goal\":1}\n",
	       label, ru.ru_maxrss * 1024.0 / budget, label, ru.ru_maxrss * 1024.0,
	       (unsigned long long)info->weight_bytes, (unsigned long long)b->kv_bytes, budget);
}

int bench_model(int argc, char **argv)
{
	const char *path = argv[0], *label = argv[1], *ids_out = NULL;
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct model_best best = { 1e30, 1e30, 1e30, 1e30, 1e30, 0, 0, 0 };
	struct anpurt_engine *engine;
	struct anpurt_model *model;
	int32_t prompt[MAX_PROMPT];
	double bw_gbs = 0, read_ms = 0, t0;
	int runs = 2, rc = 1, decode_only = 0, long_n = 0, batch_n = 0, responsive = 0, probe = 0;

	ep.threads = 2;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			ep.threads = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bw") && i + 1 < argc)
			bw_gbs = atof(argv[++i]);
		else if (!strcmp(argv[i], "--bw-probe"))
			probe = 1;
		else if (!strcmp(argv[i], "--ids-out") && i + 1 < argc)
			ids_out = argv[++i];
		else if (!strcmp(argv[i], "--device") && i + 1 < argc)
			ep.device = argv[++i];
		else if (!strcmp(argv[i], "--decode-only"))
			decode_only = 1;
		else if (!strcmp(argv[i], "--long") && i + 1 < argc) {
			long_n = atoi(argv[++i]);
			if (long_n < 256)
				runs = 0;	/* the usage line below */
		} else if (!strcmp(argv[i], "--responsive")) {
			responsive = 1;
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			batch_n = atoi(argv[++i]);
			if (batch_n < 2 || batch_n > ANPURT_BATCH_MAX)
				runs = 0;
		} else {
			runs = 0;
		}
	}
	if (runs < 1 || ep.threads < 1) {
		fprintf(stderr, "anpu-bench-runtime: model FILE LABEL [--runs N>=1] [--threads T>=1] [--bw GBS]"
			" [--bw-probe]"
			" [--ids-out FILE] [--device DEV] [--decode-only] [--long N>=256]"
			" [--batch 2..32] [--responsive]\n");
		return 2;
	}
	ep.n_sessions = batch_n > 2 ? (unsigned int)batch_n : responsive || batch_n || long_n ? 2 : 1;
	ep.n_ctx = long_n ? (uint32_t)long_n + 64 : responsive ? BENCH_RESPONSIVE_CTX : N_CTX;
	if (!decode_only) {
		read_ms = page_cache_read_ms(path);
		if (read_ms <= 0)
			return 1;
	}
	t0 = now_ms();
	if (anpurt_model_open(path, NULL, &model))
		return bench_fail(path);
	if (anpurt_engine_load(model, &ep, &engine)) {
		anpurt_model_free(model);
		return bench_fail("engine load");
	}
	t0 = now_ms() - t0;
	if (bench_prompt_ids(model, prompt, MAX_PROMPT))
		goto out;
	if (ids_out && write_ids(ids_out, prompt, MAX_PROMPT))
		goto out;
	if (warm_up(engine, prompt, &best.kv_bytes))
		goto out;
	for (int r = 0; r < runs; r++)
		if (round_once(engine, anpurt_model_info(model)->n_vocab, prompt, &best, decode_only,
			       probe))
			goto out;
	if (decode_only) {
		emit_decode(label, &best, ep.threads, runs);
		emit_roofline(label, anpurt_model_info(model), &best, bw_gbs);
	} else {
		emit_figures(label, anpurt_model_info(model), &best, t0, read_ms, bw_gbs,
			     ep.threads, runs);
	}
	if (long_n && !decode_only &&
	    long_context(engine, model, label, (uint32_t)long_n, bw_gbs, probe))
		goto out;
	if (batch_n && !decode_only && batch_figures(engine, label, prompt, batch_n, runs))
		goto out;
	if (responsive && !decode_only && bench_responsive_sessions(engine, model, label))
		goto out;
	rc = 0;
out:
	anpurt_engine_free(engine);
	anpurt_model_free(model);
	return rc;
}
