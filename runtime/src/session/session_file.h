/* SPDX-License-Identifier: MIT */
/*
 * The session file: a saved KV cache, self-describing and checked field by
 * field before anything of it is used. Little-endian, version 1:
 *
 *   header, SESSION_FILE_HEADER bytes
 *     0  char[8] "ANPUSESS"          40 u32 n_layer       64 u32 flags (SESSION_FILE_LOGITS)
 *     8  u32 version (1)             44 u32 kv_dim        68 u32 reserved (0)
 *    12  u32 header bytes (96)       48 u32 n_vocab       72 u64 payload bytes
 *    16  u64 model fingerprint       52 u32 kv_type       80 u64 payload checksum
 *    24  char[16] architecture       56 u32 n_ctx         88 u64 header checksum (of 0..88)
 *                                    60 u32 n_tokens
 *   payload
 *     i32 tokens[n_tokens]
 *     per layer: K rows [n_tokens][kv_dim], then V rows (F16 or F32 as kv_type)
 *     with SESSION_FILE_LOGITS: i32 greedy next token, f32 logits[n_vocab]
 *
 * Checksums are FNV-1a 64 (rt_hash). The model is identified by its architecture, the
 * KV row shape, the vocabulary size and a fingerprint of its hyper-parameters,
 * tensor layout and the first bytes of every tensor (model_fingerprint()).
 * These functions only read and write bytes: no device, no file.
 */
#ifndef RT_SESSION_FILE_H
#define RT_SESSION_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_FILE_MAGIC	"ANPUSESS"
#define SESSION_FILE_VERSION	1
#define SESSION_FILE_HEADER	96
#define SESSION_FILE_ARCH	16	/* architecture name, NUL-padded */
#define SESSION_FILE_LOGITS	(1u << 0)	/* the last position's logits and greedy token follow */

/* Which model a file belongs to. */
struct session_file_model {
	uint64_t fingerprint;
	char arch[SESSION_FILE_ARCH];	/* NUL-terminated (at most 15 characters) */
	uint32_t n_layer, kv_dim, n_vocab;
};

struct session_file_header {
	struct session_file_model model;
	uint32_t kv_type;		/* enum anpurt_kv_type */
	uint32_t n_ctx;			/* the saved session's context (informative) */
	uint32_t n_tokens;
	uint32_t flags;
	uint64_t payload_bytes;
	uint64_t payload_sum;
};

/* Bytes of one K or V row of @h's cache type. */
uint64_t session_file_row_bytes(const struct session_file_header *h);
/* Payload bytes @h's fields call for (tokens, K/V rows, logits). */
uint64_t session_file_payload_size(const struct session_file_header *h);

/* The header's bytes (payload_bytes and payload_sum as given; the header checksum computed). */
void session_file_encode(const struct session_file_header *h, uint8_t out[SESSION_FILE_HEADER]);

/*
 * Check and decode the header at @buf (@len bytes available, the file's
 * first): magic, version, header checksum, every field known and in range,
 * the payload size the fields call for. Errors name @path and the field.
 */
int session_file_decode(const uint8_t *buf, size_t len, const char *path,
			struct session_file_header *h);

/* Is the file @h of the model @m? Errors name both (architecture, shape, fingerprint). */
int session_file_check_model(const struct session_file_header *h,
			     const struct session_file_model *m, const char *path);

/* Is @len (the bytes after the header) the payload's size? Errors say truncated or trailing. */
int session_file_check_size(const struct session_file_header *h, uint64_t len, const char *path);

/* Check the payload (@len bytes): its size, its checksum, every token inside the vocabulary. */
int session_file_check_payload(const struct session_file_header *h, const uint8_t *payload,
			       uint64_t len, const char *path);

#endif
