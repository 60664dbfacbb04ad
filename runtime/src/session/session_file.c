/* SPDX-License-Identifier: MIT */
/* The session file's header and payload checks (format: session_file.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "anpurt.h"
#include "common/rt_error.h"
#include "common/rt_hash.h"
#include "session/session_file.h"

#define OFF_VERSION	8
#define OFF_HSIZE	12
#define OFF_FPRINT	16
#define OFF_ARCH	24
#define OFF_N_LAYER	40
#define OFF_KV_DIM	44
#define OFF_N_VOCAB	48
#define OFF_KV_TYPE	52
#define OFF_N_CTX	56
#define OFF_N_TOKENS	60
#define OFF_FLAGS	64
#define OFF_RESERVED	68
#define OFF_PBYTES	72
#define OFF_PSUM	80
#define OFF_HSUM	88

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

uint64_t session_file_row_bytes(const struct session_file_header *h)
{
	return (uint64_t)h->model.kv_dim * (h->kv_type == ANPURT_KV_F32 ? 4 : 2);
}

/* 0 and *@size, or -EOVERFLOW for fields whose payload does not fit in 64 bits. */
static int payload_size(const struct session_file_header *h, uint64_t *size)
{
	uint64_t kv, s = 4ull * h->n_tokens;

	if (__builtin_mul_overflow(session_file_row_bytes(h), h->n_tokens, &kv) ||
	    __builtin_mul_overflow(kv, 2ull * h->model.n_layer, &kv) ||
	    __builtin_add_overflow(s, kv, &s))
		return -EOVERFLOW;
	if (h->flags & SESSION_FILE_LOGITS)
		s += 4 + 4ull * h->model.n_vocab;	/* cannot overflow: s < 2^64 - 2^35 here */
	*size = s;
	return 0;
}

uint64_t session_file_payload_size(const struct session_file_header *h)
{
	uint64_t s = 0;

	return payload_size(h, &s) ? UINT64_MAX : s;
}

void session_file_encode(const struct session_file_header *h, uint8_t out[SESSION_FILE_HEADER])
{
	memset(out, 0, SESSION_FILE_HEADER);
	memcpy(out, SESSION_FILE_MAGIC, 8);
	put32(out + OFF_VERSION, SESSION_FILE_VERSION);
	put32(out + OFF_HSIZE, SESSION_FILE_HEADER);
	put64(out + OFF_FPRINT, h->model.fingerprint);
	memcpy(out + OFF_ARCH, h->model.arch, strnlen(h->model.arch, SESSION_FILE_ARCH - 1));
	put32(out + OFF_N_LAYER, h->model.n_layer);
	put32(out + OFF_KV_DIM, h->model.kv_dim);
	put32(out + OFF_N_VOCAB, h->model.n_vocab);
	put32(out + OFF_KV_TYPE, h->kv_type);
	put32(out + OFF_N_CTX, h->n_ctx);
	put32(out + OFF_N_TOKENS, h->n_tokens);
	put32(out + OFF_FLAGS, h->flags);
	put64(out + OFF_PBYTES, h->payload_bytes);
	put64(out + OFF_PSUM, h->payload_sum);
	put64(out + OFF_HSUM, rt_hash(RT_HASH_INIT, out, OFF_HSUM));
}

/* The architecture field: a name of printable characters, NUL-padded. */
static int decode_arch(const uint8_t *p, char out[SESSION_FILE_ARCH])
{
	size_t n = strnlen((const char *)p, SESSION_FILE_ARCH), i;

	if (n == 0 || n == SESSION_FILE_ARCH)
		return -1;
	for (i = 0; i < SESSION_FILE_ARCH; i++)
		if (i < n ? p[i] < 0x21 || p[i] > 0x7e : p[i] != 0)
			return -1;
	memcpy(out, p, SESSION_FILE_ARCH);
	return 0;
}

static int check_fields(const struct session_file_header *h, const uint8_t *buf, const char *path)
{
	uint64_t need;

	if (get32(buf + OFF_RESERVED))
		return rt_error(-EINVAL, "%s: reserved header field is %u, not 0", path,
				get32(buf + OFF_RESERVED));
	if (h->flags & ~SESSION_FILE_LOGITS)
		return rt_error(-EINVAL, "%s: unknown flags 0x%x", path, h->flags);
	if (h->kv_type != ANPURT_KV_F16 && h->kv_type != ANPURT_KV_F32)
		return rt_error(-EINVAL, "%s: unknown KV cache type %u", path, h->kv_type);
	if (!h->model.n_layer || !h->model.kv_dim || !h->model.n_vocab)
		return rt_error(-EINVAL, "%s: n_layer %u, kv_dim %u, n_vocab %u: none may be 0",
				path, h->model.n_layer, h->model.kv_dim, h->model.n_vocab);
	if (h->n_ctx == 0 || h->n_tokens > h->n_ctx)
		return rt_error(-EINVAL, "%s: %u tokens in a context of %u", path, h->n_tokens,
				h->n_ctx);
	if ((h->flags & SESSION_FILE_LOGITS) && !h->n_tokens)
		return rt_error(-EINVAL, "%s: logits of an empty session", path);
	if (payload_size(h, &need))
		return rt_error(-EINVAL, "%s: %u tokens of %u layers x %u values overflow a file",
				path, h->n_tokens, h->model.n_layer, h->model.kv_dim);
	if (h->payload_bytes != need)
		return rt_error(-EINVAL, "%s: header says %" PRIu64 " payload bytes, its fields "
				"call for %" PRIu64, path, h->payload_bytes, need);
	return 0;
}

int session_file_decode(const uint8_t *buf, size_t len, const char *path,
			struct session_file_header *h)
{
	uint64_t sum;

	memset(h, 0, sizeof(*h));
	if (len < 8 || memcmp(buf, SESSION_FILE_MAGIC, 8))
		return rt_error(-EINVAL, "%s: not an anpurt session file (no \"%s\" magic)", path,
				SESSION_FILE_MAGIC);
	if (len < SESSION_FILE_HEADER)
		return rt_error(-EINVAL, "%s: truncated: %zu bytes, the header alone is %d", path,
				len, SESSION_FILE_HEADER);
	if (get32(buf + OFF_VERSION) != SESSION_FILE_VERSION)
		return rt_error(-EINVAL, "%s: session file version %u, this runtime reads %d", path,
				get32(buf + OFF_VERSION), SESSION_FILE_VERSION);
	if (get32(buf + OFF_HSIZE) != SESSION_FILE_HEADER)
		return rt_error(-EINVAL, "%s: header size %u, version %d's is %d", path,
				get32(buf + OFF_HSIZE), SESSION_FILE_VERSION, SESSION_FILE_HEADER);
	sum = rt_hash(RT_HASH_INIT, buf, OFF_HSUM);
	if (sum != get64(buf + OFF_HSUM))
		return rt_error(-EINVAL, "%s: corrupt header (checksum %016" PRIx64 ", stored %016"
				PRIx64 ")", path, sum, get64(buf + OFF_HSUM));
	if (decode_arch(buf + OFF_ARCH, h->model.arch))
		return rt_error(-EINVAL, "%s: architecture field is not a NUL-padded name", path);
	h->model.fingerprint = get64(buf + OFF_FPRINT);
	h->model.n_layer = get32(buf + OFF_N_LAYER);
	h->model.kv_dim = get32(buf + OFF_KV_DIM);
	h->model.n_vocab = get32(buf + OFF_N_VOCAB);
	h->kv_type = get32(buf + OFF_KV_TYPE);
	h->n_ctx = get32(buf + OFF_N_CTX);
	h->n_tokens = get32(buf + OFF_N_TOKENS);
	h->flags = get32(buf + OFF_FLAGS);
	h->payload_bytes = get64(buf + OFF_PBYTES);
	h->payload_sum = get64(buf + OFF_PSUM);
	return check_fields(h, buf, path);
}

int session_file_check_model(const struct session_file_header *h,
			     const struct session_file_model *m, const char *path)
{
	const struct session_file_model *f = &h->model;

	if (strcmp(f->arch, m->arch) || f->n_layer != m->n_layer || f->kv_dim != m->kv_dim ||
	    f->n_vocab != m->n_vocab || f->fingerprint != m->fingerprint)
		return rt_error(-EINVAL, "%s: saved from another model (%s, %u layers, KV rows "
				"of %u, %u tokens vocabulary, fingerprint %016" PRIx64 "); this "
				"one is %s, %u layers, KV rows of %u, %u tokens vocabulary, "
				"fingerprint %016" PRIx64, path, f->arch, f->n_layer, f->kv_dim,
				f->n_vocab, f->fingerprint, m->arch, m->n_layer, m->kv_dim,
				m->n_vocab, m->fingerprint);
	return 0;
}

int session_file_check_size(const struct session_file_header *h, uint64_t len, const char *path)
{
	if (len != h->payload_bytes)
		return rt_error(-EINVAL, "%s: %s: %" PRIu64 " bytes after the header, its fields "
				"call for %" PRIu64, path, len < h->payload_bytes ? "truncated" :
				"trailing bytes", len, h->payload_bytes);
	return 0;
}

int session_file_check_payload(const struct session_file_header *h, const uint8_t *payload,
			       uint64_t len, const char *path)
{
	uint64_t sum;
	uint32_t i;
	int ret;

	if ((ret = session_file_check_size(h, len, path)))
		return ret;
	sum = rt_hash(RT_HASH_INIT, payload, (size_t)len);
	if (sum != h->payload_sum)
		return rt_error(-EINVAL, "%s: corrupt tokens or KV data (checksum %016" PRIx64
				", stored %016" PRIx64 ")", path, sum, h->payload_sum);
	for (i = 0; i < h->n_tokens; i++) {
		int32_t t = (int32_t)get32(payload + 4ull * i);

		if (t < 0 || (uint32_t)t >= h->model.n_vocab)
			return rt_error(-EINVAL, "%s: token %u is %d, outside the vocabulary of %u",
					path, i, t, h->model.n_vocab);
	}
	if (h->flags & SESSION_FILE_LOGITS) {
		int32_t t = (int32_t)get32(payload + len - 4 - 4ull * h->model.n_vocab);

		if (t < 0 || (uint32_t)t >= h->model.n_vocab)
			return rt_error(-EINVAL, "%s: greedy next token %d outside the vocabulary "
					"of %u", path, t, h->model.n_vocab);
	}
	return 0;
}
