// SPDX-License-Identifier: MIT
/*
 * Seeds for fuzz_session_file: valid session files of fuzz_session.h's model
 * (checksums right, so the fuzzer starts past them): an empty session, F16
 * rows with the last logits, F32 rows without.
 *   gen_session_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpurt.h"
#include "common/rt_hash.h"
#include "fuzz_session.h"

static int seed(const char *dir, const char *name, uint32_t kv_type, uint32_t n_tokens,
		uint32_t flags)
{
	struct session_file_header h = { .model = fuzz_session_model, .kv_type = kv_type,
					 .n_ctx = 32, .n_tokens = n_tokens, .flags = flags };
	uint8_t head[SESSION_FILE_HEADER], *payload;
	char path[512];
	uint64_t i;
	FILE *f;
	int ok;

	h.payload_bytes = session_file_payload_size(&h);
	payload = calloc(1, h.payload_bytes + 1);
	if (!payload)
		return -1;
	for (i = 0; i < n_tokens; i++)
		payload[4 * i] = (uint8_t)(i * 5 % fuzz_session_model.n_vocab);
	for (i = 4ull * n_tokens; i < h.payload_bytes; i++)
		payload[i] = (uint8_t)(i * 37 + 11);
	if (flags & SESSION_FILE_LOGITS)	/* the greedy token: a valid id */
		memset(payload + 4ull * n_tokens + 2 * n_tokens * session_file_row_bytes(&h) *
		       fuzz_session_model.n_layer, 0, 4);
	h.payload_sum = rt_hash(RT_HASH_INIT, payload, h.payload_bytes);
	session_file_encode(&h, head);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ok = f && fwrite(head, 1, sizeof(head), f) == sizeof(head) &&
	     fwrite(payload, 1, h.payload_bytes, f) == h.payload_bytes;
	if (f && fclose(f))
		ok = 0;
	free(payload);
	if (!ok)
		fprintf(stderr, "gen_session_seeds: cannot write %s\n", path);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_session_seeds DIR\n");
		return 2;
	}
	if (seed(argv[1], "empty", ANPURT_KV_F16, 0, 0) ||
	    seed(argv[1], "f16_logits", ANPURT_KV_F16, 3, SESSION_FILE_LOGITS) ||
	    seed(argv[1], "f32_rows", ANPURT_KV_F32, 2, 0))
		return 1;
	return 0;
}
