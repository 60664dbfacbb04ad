/* SPDX-License-Identifier: MIT */
/*
 * anpurt_session_save / anpurt_session_restore: a session's state to a file
 * and back (format: session_file.h). Save streams the rows from the KV
 * cache's mapping into a temporary file and renames it over the target;
 * restore reads and checks the whole file before it touches the session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rt_error.h"
#include "common/rt_hash.h"
#include "session/session.h"
#include "session/session_file.h"

/* The payload is the host's bytes as they are; the format is little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "session files are little-endian");

static void file_model(const struct anpurt_engine *e, struct session_file_model *m)
{
	const struct anpurt_model_info *in = &e->model->info;

	memset(m, 0, sizeof(*m));
	m->fingerprint = e->fingerprint;
	snprintf(m->arch, sizeof(m->arch), "%s", in->architecture);
	m->n_layer = in->n_layer;
	m->kv_dim = in->n_head_kv * in->head_dim_k;
	m->n_vocab = in->n_vocab;
}

static void session_header(const struct anpurt_session *s, struct session_file_header *h)
{
	memset(h, 0, sizeof(*h));
	file_model(s->engine, &h->model);
	h->kv_type = s->params.kv_type;
	h->n_ctx = s->bufs.n_ctx;
	h->n_tokens = s->pos;
	h->flags = s->have_next ? SESSION_FILE_LOGITS : 0;
	h->payload_bytes = session_file_payload_size(h);
}

/* ---- save ---- */

struct writer {
	FILE *f;
	uint64_t sum;
};

/* Write and checksum @n bytes; a failure shows in ferror() at the end. */
static void put(struct writer *w, const void *p, size_t n)
{
	w->sum = rt_hash(w->sum, p, n);
	fwrite(p, 1, n, w->f);
}

/* The payload: tokens, the K and V rows of each layer, the last logits. */
static void put_payload(const struct anpurt_session *s, const struct session_file_header *h,
			struct writer *w)
{
	const uint8_t *kv = accel_bo_map(s->bufs.kv), *scratch = accel_bo_map(s->bufs.scratch);
	size_t rows = (size_t)session_file_row_bytes(h) * s->pos;
	uint32_t l;

	put(w, s->hist, (size_t)s->pos * sizeof(*s->hist));
	for (l = 0; l < h->model.n_layer; l++) {
		put(w, kv + 2ull * l * s->bufs.kv_layer_bytes, rows);
		put(w, kv + (2ull * l + 1) * s->bufs.kv_layer_bytes, rows);
	}
	if (h->flags & SESSION_FILE_LOGITS) {
		int32_t next = session_next_token(s);

		put(w, &next, sizeof(next));
		put(w, scratch + s->bufs.lay.logits, 4ull * h->model.n_vocab);
	}
}

/* Header placeholder, payload, then the header with the payload's checksum; synced. */
static int write_file(const struct anpurt_session *s, FILE *f)
{
	struct writer w = { f, RT_HASH_INIT };
	uint8_t head[SESSION_FILE_HEADER] = { 0 };
	struct session_file_header h;

	session_header(s, &h);
	errno = 0;
	fwrite(head, 1, sizeof(head), f);
	put_payload(s, &h, &w);
	h.payload_sum = w.sum;
	session_file_encode(&h, head);
	if (ferror(f) || fseek(f, 0, SEEK_SET) || fwrite(head, 1, sizeof(head), f) != sizeof(head) ||
	    fflush(f) || fsync(fileno(f)))
		return errno ? -errno : -EIO;
	return 0;
}

/* Write the session file into the temporary file open as @fd, and close it. */
static int write_tmp(const struct anpurt_session *s, int fd)
{
	FILE *f = fdopen(fd, "wb");
	int ret;

	if (!f) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = write_file(s, f);
	errno = 0;
	if (fclose(f) && !ret)
		ret = errno ? -errno : -EIO;
	return ret;
}

int anpurt_session_save(struct anpurt_session *s, const char *path)
{
	size_t len = strlen(path) + sizeof(".tmp.XXXXXX");
	char *tmp = malloc(len);
	int fd, ret;

	if (!tmp)
		return rt_error(-ENOMEM, "out of memory");
	snprintf(tmp, len, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = rt_error(-errno, "%s: cannot create a temporary file next to it: %s", path,
			       strerror(errno));
		free(tmp);
		return ret;
	}
	ret = write_tmp(s, fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		ret = rt_error(ret, "%s: cannot save the session: %s", path, strerror(-ret));
	} else {
		rt_error_clear();
	}
	free(tmp);
	return ret;
}

/* ---- restore ---- */

/* Read @n bytes at @off; a short read is the file shrinking under us. */
static int read_at(int fd, void *buf, size_t n, uint64_t off, const char *path)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return rt_error(-errno, "%s: read: %s", path, strerror(errno));
		if (r == 0)
			return rt_error(-EINVAL, "%s: truncated while read", path);
		done += (size_t)r;
	}
	return 0;
}

/* Header and payload of the file behind @fd, every check passed; *@payload: free(). */
static int read_checked(const struct anpurt_session *s, int fd, const char *path,
			struct session_file_header *h, uint8_t **payload)
{
	uint8_t head[SESSION_FILE_HEADER];
	struct session_file_model m;
	struct stat st;
	size_t n;
	int ret;

	*payload = NULL;
	if (fstat(fd, &st))
		return rt_error(-errno, "%s: %s", path, strerror(errno));
	n = (uint64_t)st.st_size < sizeof(head) ? (size_t)st.st_size : sizeof(head);
	file_model(s->engine, &m);
	if ((ret = read_at(fd, head, n, 0, path)) || (ret = session_file_decode(head, n, path, h)) ||
	    (ret = session_file_check_model(h, &m, path)))
		return ret;
	if (h->kv_type != (uint32_t)s->params.kv_type)
		return rt_error(-EINVAL, "%s: saved with an %s KV cache, the session's is %s (create "
				"it with that kv_type)", path, h->kv_type ? "F32" : "F16",
				s->params.kv_type ? "F32" : "F16");
	if (h->n_tokens > s->bufs.n_ctx)
		return rt_error(-ENOSPC, "%s: %u tokens do not fit in the session's context of %u",
				path, h->n_tokens, s->bufs.n_ctx);
	if ((ret = session_file_check_size(h, (uint64_t)st.st_size - sizeof(head), path)))
		return ret;
	*payload = malloc(h->payload_bytes ? h->payload_bytes : 1);
	if (!*payload)
		return rt_error(-ENOMEM, "%s: out of memory for %llu bytes", path,
				(unsigned long long)h->payload_bytes);
	ret = read_at(fd, *payload, h->payload_bytes, sizeof(head), path);
	if (!ret)
		ret = session_file_check_payload(h, *payload, h->payload_bytes, path);
	return ret;
}

/* Put the checked payload into the session. */
static void apply(struct anpurt_session *s, const struct session_file_header *h,
		  const uint8_t *p)
{
	uint8_t *kv = accel_bo_map(s->bufs.kv), *scratch = accel_bo_map(s->bufs.scratch);
	size_t rows = (size_t)session_file_row_bytes(h) * h->n_tokens;
	uint32_t l;

	memcpy(s->hist, p, 4ull * h->n_tokens);
	p += 4ull * h->n_tokens;
	for (l = 0; l < h->model.n_layer; l++, p += 2 * rows) {
		memcpy(kv + 2ull * l * s->bufs.kv_layer_bytes, p, rows);
		memcpy(kv + (2ull * l + 1) * s->bufs.kv_layer_bytes, p + rows, rows);
	}
	if (h->flags & SESSION_FILE_LOGITS) {
		memcpy(scratch + s->bufs.lay.next, p, 4);
		memcpy(scratch + s->bufs.lay.logits, p + 4, 4ull * h->model.n_vocab);
	}
	s->pos = h->n_tokens;
	s->have_next = !!(h->flags & SESSION_FILE_LOGITS);
}

int anpurt_session_restore(struct anpurt_session *s, const char *path)
{
	struct session_file_header h;
	uint8_t *payload = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return rt_error(-errno, "%s: %s", path, strerror(errno));
	ret = read_checked(s, fd, path, &h, &payload);
	close(fd);
	if (!ret) {
		apply(s, &h, payload);	/* the session's last job has finished: its buffers are free */
		rt_error_clear();
	}
	free(payload);
	return ret;
}
