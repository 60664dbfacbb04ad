/* SPDX-License-Identifier: MIT */
/*
 * Saving, restoring and forking sessions on a tiny random qwen2 model (48
 * tokens, no vocabulary): a restored session continues bit for bit as the
 * saved one (F16 and F32 caches, another context length); a fork of all of
 * the parent's tokens continues as the parent and as a session that prefilled
 * them itself; a fork of a shorter prefix, then prefilled, gives what a fresh
 * session gives; parent and child continue independently; truncated,
 * corrupt, other-model, other-type and too-long files are refused naming the
 * problem with the session unchanged; an empty session saves and restores.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "anpurt.h"
#include "lib_model_file.h"

#define N_VOCAB		48
#define N_CTX		64
#define N_PROMPT	20
#define N_GEN		16

struct fixture {
	struct model_file f;
	struct anpurt_model *model;
	struct anpurt_engine *engine;
	char dir[64];
	char other_model[128];	/* a session file of the same shape with other weights */
	char other_arch[128];	/* ... of a qwen3 model */
	int32_t prompt[N_PROMPT];
};

static struct anpurt_session *session(struct fixture *fx, enum anpurt_kv_type kv, uint32_t n_ctx)
{
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_session *s;

	sp.kv_type = kv;
	sp.n_ctx = n_ctx;
	sp.prefill_chunk = 7;
	if (anpurt_session_create(fx->engine, &sp, &s))
		fail_msg("%s", anpurt_last_error());
	return s;
}

static void prefill(struct anpurt_session *s, const int32_t *ids, size_t n)
{
	if (anpurt_session_prefill(s, ids, n, NULL))
		fail_msg("prefill: %s", anpurt_last_error());
}

static void greedy(struct anpurt_session *s, int32_t *out, size_t n)
{
	if (anpurt_session_generate_greedy(s, n, out) != (int)n)
		fail_msg("greedy: %s", anpurt_last_error());
}

static void save(struct anpurt_session *s, const char *path)
{
	if (anpurt_session_save(s, path))
		fail_msg("save %s: %s", path, anpurt_last_error());
}

/* A session file of a model of @arch made with weights of @seed, saved to @path. */
static void foreign_file(const char *arch, uint64_t seed, const int32_t *prompt, const char *path)
{
	struct gb_model_spec spec = gb_model_spec_tiny(arch);
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct anpurt_session *s;
	struct anpurt_engine *e;
	struct anpurt_model *m;
	struct model_file f;

	spec.n_vocab = N_VOCAB;
	model_file_make(&f, &spec, seed);
	ep.device = "sim";
	ep.n_sessions = 8;
	ep.n_ctx = N_CTX;
	if (anpurt_model_open(f.path, NULL, &m) || anpurt_engine_load(m, &ep, &e) ||
	    anpurt_session_create(e, NULL, &s))
		fail_msg("%s model: %s", arch, anpurt_last_error());
	prefill(s, prompt, 5);
	save(s, path);
	anpurt_session_free(s);
	anpurt_engine_free(e);
	anpurt_model_free(m);
	model_file_remove(&f);
}

static int setup(void **state)
{
	static struct fixture fx;
	struct gb_model_spec spec = gb_model_spec_tiny("qwen2");
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	uint32_t i;

	for (i = 0; i < N_PROMPT; i++)
		fx.prompt[i] = (int32_t)((i * 11u + 5u) % N_VOCAB);
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_rt_session_store.XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	snprintf(fx.other_model, sizeof(fx.other_model), "%s/other-model.session", fx.dir);
	snprintf(fx.other_arch, sizeof(fx.other_arch), "%s/other-arch.session", fx.dir);
	foreign_file("qwen2", 12, fx.prompt, fx.other_model);
	foreign_file("qwen3", 11, fx.prompt, fx.other_arch);
	spec.n_vocab = N_VOCAB;
	model_file_make(&fx.f, &spec, 11);
	if (anpurt_model_open(fx.f.path, NULL, &fx.model))
		return -1;
	ep.device = "sim";
	ep.n_sessions = 8;
	ep.n_ctx = N_CTX;
	if (anpurt_engine_load(fx.model, &ep, &fx.engine))
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct dirent *de;
	char path[512];
	DIR *d;

	anpurt_engine_free(fx->engine);
	anpurt_model_free(fx->model);
	model_file_remove(&fx->f);
	d = opendir(fx->dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fx->dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(fx->dir);
	return 0;
}

static void path_in(const struct fixture *fx, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", fx->dir, name);
}

/* Save after a prompt, continue; a session restored from the file continues alike. */
static void save_restore_kv(struct fixture *fx, enum anpurt_kv_type kv)
{
	int32_t want[N_GEN], got[N_GEN], again[N_GEN];
	float lw[N_VOCAB], lg[N_VOCAB];
	struct anpurt_session *a = session(fx, kv, N_CTX), *b = session(fx, kv, 40);
	const int32_t *ta, *tb;
	char path[256];
	int distinct = 0, i;

	path_in(fx, kv == ANPURT_KV_F32 ? "f32.session" : "f16.session", path, sizeof(path));
	prefill(a, fx->prompt, N_PROMPT);
	save(a, path);
	greedy(a, want, N_GEN);
	assert_int_equal(anpurt_session_logits(a, lw, N_VOCAB), 0);

	/* another session, with another context length and chunk size */
	if (anpurt_session_restore(b, path))
		fail_msg("restore: %s", anpurt_last_error());
	assert_int_equal(anpurt_session_position(b), N_PROMPT);
	assert_int_equal(anpurt_session_tokens(b, &tb), N_PROMPT);
	assert_int_equal(anpurt_session_tokens(a, &ta), N_PROMPT + N_GEN);
	assert_memory_equal(ta, tb, N_PROMPT * sizeof(*ta));
	greedy(b, got, N_GEN);
	assert_int_equal(anpurt_session_logits(b, lg, N_VOCAB), 0);
	assert_memory_equal(got, want, sizeof(want));
	assert_memory_equal(lg, lw, sizeof(lw));

	/* the original session, restored, goes back to the saved point */
	if (anpurt_session_restore(a, path))
		fail_msg("restore: %s", anpurt_last_error());
	assert_int_equal(anpurt_session_position(a), N_PROMPT);
	greedy(a, again, N_GEN);
	assert_memory_equal(again, want, sizeof(want));
	for (i = 1; i < N_GEN; i++)
		distinct += want[i] != want[0];
	assert_true(distinct >= 1);	/* the continuation is not one repeated token */
	anpurt_session_free(a);
	anpurt_session_free(b);
}

static void test_save_restore_f16(void **state)
{
	save_restore_kv(*state, ANPURT_KV_F16);
}

static void test_save_restore_f32(void **state)
{
	save_restore_kv(*state, ANPURT_KV_F32);
}

/* The file is renamed into place: no temporary file stays, an old file is replaced. */
static void test_save_is_atomic(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *s = session(fx, ANPURT_KV_F16, N_CTX);
	struct dirent *de;
	char path[256];
	int n = 0;
	DIR *d;

	path_in(fx, "atomic.session", path, sizeof(path));
	prefill(s, fx->prompt, 3);
	save(s, path);
	prefill(s, fx->prompt + 3, 4);
	save(s, path);
	assert_int_equal(anpurt_session_restore(s, path), 0);
	assert_int_equal(anpurt_session_position(s), 7);
	d = opendir(fx->dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	assert_int_equal(n, 0);
	assert_int_equal(access(path, R_OK), 0);
	/* a directory that does not exist: an error naming the file */
	assert_int_equal(anpurt_session_save(s, "/nonexistent-dir/x.session"), -ENOENT);
	assert_non_null(strstr(anpurt_last_error(), "/nonexistent-dir/x.session"));
	anpurt_session_free(s);
}

static void test_empty_session(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *a = session(fx, ANPURT_KV_F16, N_CTX);
	struct anpurt_session *b = session(fx, ANPURT_KV_F16, N_CTX);
	int32_t want[N_GEN], got[N_GEN], out;
	char path[256];

	path_in(fx, "empty.session", path, sizeof(path));
	save(a, path);
	prefill(b, fx->prompt, 9);
	assert_int_equal(anpurt_session_restore(b, path), 0);
	assert_int_equal(anpurt_session_position(b), 0);
	/* nothing has run: no greedy token to continue from */
	assert_int_equal(anpurt_session_generate_greedy(b, 1, &out), -ENODATA);
	prefill(a, fx->prompt, N_PROMPT);
	greedy(a, want, N_GEN);
	prefill(b, fx->prompt, N_PROMPT);
	greedy(b, got, N_GEN);
	assert_memory_equal(got, want, sizeof(want));
	anpurt_session_free(a);
	anpurt_session_free(b);
}

/* A fork of everything continues as the parent and as a session that prefilled the prompt. */
static void test_fork_all(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *parent = session(fx, ANPURT_KV_F16, N_CTX), *child;
	struct anpurt_session *alone = session(fx, ANPURT_KV_F16, N_CTX);
	int32_t want[N_GEN], from_child[N_GEN], from_parent[N_GEN];
	float lw[N_VOCAB], lc[N_VOCAB];
	const int32_t *tc;

	prefill(alone, fx->prompt, N_PROMPT);
	greedy(alone, want, N_GEN);
	assert_int_equal(anpurt_session_logits(alone, lw, N_VOCAB), 0);

	prefill(parent, fx->prompt, N_PROMPT);
	if (anpurt_session_fork(parent, ANPURT_SESSION_ALL, NULL, &child))
		fail_msg("fork: %s", anpurt_last_error());
	assert_int_equal(anpurt_session_position(child), N_PROMPT);
	assert_int_equal(anpurt_session_tokens(child, &tc), N_PROMPT);
	assert_memory_equal(tc, fx->prompt, sizeof(fx->prompt));
	greedy(child, from_child, N_GEN);
	assert_int_equal(anpurt_session_logits(child, lc, N_VOCAB), 0);
	assert_memory_equal(from_child, want, sizeof(want));
	assert_memory_equal(lc, lw, sizeof(lw));
	/* the parent is untouched by the child's steps */
	greedy(parent, from_parent, N_GEN);
	assert_memory_equal(from_parent, want, sizeof(want));
	anpurt_session_free(child);
	anpurt_session_free(parent);
	anpurt_session_free(alone);
}

/*
 * A fork of the first 12 tokens of a parent that went on further, then given
 * another ending, continues as a fresh session given the same tokens; the
 * parent, run after the child, still continues as it would have alone.
 */
static void test_fork_prefix_independent(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *parent = session(fx, ANPURT_KV_F32, N_CTX), *child;
	struct anpurt_session *alone = session(fx, ANPURT_KV_F32, N_CTX);
	struct anpurt_session_params cp = anpurt_session_default_params();
	int32_t ending[5] = { 40, 2, 17, 33, 8 }, seq[17];
	int32_t want_child[N_GEN], want_parent[N_GEN], got[N_GEN], from_child[N_GEN], out;

	memcpy(seq, fx->prompt, 12 * sizeof(*seq));
	memcpy(seq + 12, ending, sizeof(ending));
	prefill(alone, seq, 17);
	greedy(alone, want_child, N_GEN);
	assert_int_equal(anpurt_session_truncate(alone, 0), 0);
	prefill(alone, fx->prompt, N_PROMPT);
	greedy(alone, want_parent, 4);
	greedy(alone, want_parent + 4, N_GEN - 4);

	prefill(parent, fx->prompt, N_PROMPT);
	greedy(parent, got, 4);
	cp.kv_type = ANPURT_KV_F32;
	cp.n_ctx = 40;
	cp.priority = ANPURT_PRIORITY_HIGH;
	if (anpurt_session_fork(parent, 12, &cp, &child))
		fail_msg("fork: %s", anpurt_last_error());
	assert_int_equal(anpurt_session_position(child), 12);
	/* a prefix's next token is not on the device: the child needs a prefill first */
	assert_int_equal(anpurt_session_generate_greedy(child, 1, &out), -ENODATA);
	prefill(child, ending, 5);
	greedy(child, from_child, N_GEN);
	assert_memory_equal(from_child, want_child, sizeof(want_child));
	greedy(parent, got, N_GEN - 4);
	assert_memory_equal(got, want_parent + 4, (N_GEN - 4) * sizeof(*got));
	anpurt_session_free(child);
	anpurt_session_free(parent);
	anpurt_session_free(alone);
}

static void test_fork_refused(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *parent = session(fx, ANPURT_KV_F16, N_CTX), *child = NULL;
	struct anpurt_session_params cp = anpurt_session_default_params();

	prefill(parent, fx->prompt, N_PROMPT);
	assert_int_equal(anpurt_session_fork(parent, N_PROMPT + 1, NULL, &child), -EINVAL);
	assert_null(child);
	assert_non_null(strstr(anpurt_last_error(), "holds 20"));
	cp.kv_type = ANPURT_KV_F32;
	assert_int_equal(anpurt_session_fork(parent, 4, &cp, &child), -EINVAL);
	assert_non_null(strstr(anpurt_last_error(), "does not convert"));
	cp.kv_type = ANPURT_KV_F16;
	cp.n_ctx = 16;
	assert_int_equal(anpurt_session_fork(parent, ANPURT_SESSION_ALL, &cp, &child), -ENOSPC);
	assert_null(child);
	/* an empty fork is a fresh session */
	assert_int_equal(anpurt_session_fork(parent, 0, &cp, &child), 0);
	assert_int_equal(anpurt_session_position(child), 0);
	anpurt_session_free(child);
	anpurt_session_free(parent);
}

/* ---- refused files ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* What a session holds: its tokens and last logits. */
struct snapshot {
	uint32_t pos;
	int32_t tokens[N_CTX];
	float logits[N_VOCAB];
};

static void snap(struct anpurt_session *s, struct snapshot *out)
{
	const int32_t *t;

	memset(out, 0, sizeof(*out));
	out->pos = (uint32_t)anpurt_session_tokens(s, &t);
	memcpy(out->tokens, t, out->pos * sizeof(*t));
	assert_int_equal(anpurt_session_logits(s, out->logits, N_VOCAB), 0);
}

/* Restoring @path into @s fails with @err and a message containing @what; @s is unchanged. */
static void refused(struct anpurt_session *s, const char *path, int err, const char *what)
{
	struct snapshot before, after;

	snap(s, &before);
	assert_int_equal(anpurt_session_restore(s, path), err);
	if (!strstr(anpurt_last_error(), what) || !strstr(anpurt_last_error(), path))
		fail_msg("error \"%s\" does not name %s and \"%s\"", anpurt_last_error(), path, what);
	snap(s, &after);
	assert_memory_equal(&after, &before, sizeof(before));
}

static void test_bad_files_refused(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *s = session(fx, ANPURT_KV_F16, N_CTX);
	struct anpurt_session *alone = session(fx, ANPURT_KV_F16, N_CTX);
	int32_t other[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, want[N_GEN], got[N_GEN];
	char good[256], bad[256];
	size_t len;
	uint8_t *img;

	path_in(fx, "good.session", good, sizeof(good));
	path_in(fx, "bad.session", bad, sizeof(bad));
	prefill(s, fx->prompt, N_PROMPT);
	save(s, good);
	img = slurp(good, &len);
	/* the session under test holds something else, which must survive */
	assert_int_equal(anpurt_session_truncate(s, 0), 0);
	prefill(s, other, 8);

	spill(bad, img, 0);
	refused(s, bad, -EINVAL, "not an anpurt session file");
	spill(bad, img, 50);
	refused(s, bad, -EINVAL, "truncated");
	spill(bad, img, 96);
	refused(s, bad, -EINVAL, "truncated");
	spill(bad, img, len - 1);
	refused(s, bad, -EINVAL, "truncated");
	img[len] = 0;
	spill(bad, img, len + 1);
	refused(s, bad, -EINVAL, "trailing bytes");
	img[8] ^= 2;			/* version */
	spill(bad, img, len);
	refused(s, bad, -EINVAL, "version 3");
	img[8] ^= 2;
	img[60] ^= 1;			/* n_tokens */
	spill(bad, img, len);
	refused(s, bad, -EINVAL, "corrupt header");
	img[60] ^= 1;
	img[len - 100] ^= 0x40;		/* a logit */
	spill(bad, img, len);
	refused(s, bad, -EINVAL, "corrupt tokens or KV data");
	img[len - 100] ^= 0x40;
	img[96 + 4 * N_PROMPT + 10] ^= 0x01;	/* a K value of layer 0 */
	spill(bad, img, len);
	refused(s, bad, -EINVAL, "corrupt tokens or KV data");
	img[96 + 4 * N_PROMPT + 10] ^= 0x01;
	spill(bad, img, len);
	refused(s, fx->other_model, -EINVAL, "another model");
	refused(s, fx->other_arch, -EINVAL, "saved from another model (qwen3");
	refused(s, "/nonexistent-dir/x.session", -ENOENT, "No such file");
	free(img);

	/* after all that, the session continues as one that prefilled the same tokens */
	greedy(s, got, N_GEN);
	prefill(alone, other, 8);
	greedy(alone, want, N_GEN);
	assert_memory_equal(got, want, sizeof(want));
	anpurt_session_free(s);
	anpurt_session_free(alone);
}

/* A file of another KV type, or too long for the context, is refused: no conversion. */
static void test_other_type_or_context_refused(void **state)
{
	struct fixture *fx = *state;
	struct anpurt_session *a = session(fx, ANPURT_KV_F16, N_CTX);
	struct anpurt_session *f32 = session(fx, ANPURT_KV_F32, N_CTX);
	struct anpurt_session *small = session(fx, ANPURT_KV_F16, 16);
	int32_t other[3] = { 9, 8, 7 };
	char path[256];

	path_in(fx, "type.session", path, sizeof(path));
	prefill(a, fx->prompt, N_PROMPT);
	save(a, path);
	prefill(f32, other, 3);
	refused(f32, path, -EINVAL, "saved with an F16 KV cache, the session's is F32");
	prefill(small, other, 3);
	refused(small, path, -ENOSPC, "20 tokens do not fit in the session's context of 16");
	anpurt_session_free(a);
	anpurt_session_free(f32);
	anpurt_session_free(small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_restore_f16),
		cmocka_unit_test(test_save_restore_f32),
		cmocka_unit_test(test_save_is_atomic),
		cmocka_unit_test(test_empty_session),
		cmocka_unit_test(test_fork_all),
		cmocka_unit_test(test_fork_prefix_independent),
		cmocka_unit_test(test_fork_refused),
		cmocka_unit_test(test_bad_files_refused),
		cmocka_unit_test(test_other_type_or_context_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
