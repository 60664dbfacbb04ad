/* SPDX-License-Identifier: MIT */
/*
 * The in-process weight cache (runtime/src/graph/weights_cache.c): a model
 * with Q5_0 tensors loads through a cache file with them as Q5_0L (Q4_K,
 * Q6_K, Q4_0 matrices as Q4_KL, Q6_KL, Q4_0L), written by the first load and mapped by the next
 * ones, and its logits are the model file's bit for bit; a cache file that does not match (damaged, or
 * the model changed, even rewritten in place with its modification time put
 * back) is written again, and writing one removes the files of models since
 * changed or removed, of an older format and temporary files of dead
 * writers, nothing else; a session saved through the cache restores without
 * it; no usable cache directory, a file size limit the
 * file would pass, or ANPU_WEIGHT_CACHE=0 load the model file as it is and
 * leave no file behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "anpurt.h"
#include "lib_gguf_build.h"
#include "lib_model_file.h"

#define N_TOKENS	6
#define N_VOCAB		48

struct wc {
	struct model_file f;
	char dir[64];
};

static int setup(void **state)
{
	struct wc *w = calloc(1, sizeof(*w));
	struct gb_model_spec spec = gb_model_spec_tiny("qwen2");

	assert_non_null(w);
	spec.weight_type = 6;	/* Q5_0 */
	spec.n_vocab = N_VOCAB;
	model_file_make(&w->f, &spec, 0x5eed0042u);
	strcpy(w->dir, "/tmp/test_rt_weight_cache.XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	setenv("ANPU_WEIGHT_CACHE_DIR", w->dir, 1);
	unsetenv("ANPU_WEIGHT_CACHE");
	*state = w;
	return 0;
}

/*
 * The tests that expect a cache file: the runtime does not write one on the
 * portable kernels (valgrind's runs force them: ANPU_SIM_SIMD=portable).
 */
static void skip_without_cache(void)
{
	const char *simd = getenv("ANPU_SIM_SIMD");

	if (simd && !strcmp(simd, "portable"))
		skip();
#if defined(__x86_64__)
	if (!__builtin_cpu_supports("avx2"))
		skip();
#endif
}

/* The cache files in @dir (their count), the first one's path in @path. */
static int cache_files(const char *dir, char *path, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 6, ".anpuw"))
			continue;
		if (!n++ && path)
			snprintf(path, len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

static int teardown(void **state)
{
	struct wc *w = *state;
	DIR *d = opendir(w->dir);
	struct dirent *e;
	char path[512];

	/* everything a test left, whatever it is (a failed test leaves more) */
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", w->dir, e->d_name);
		if (unlink(path))
			rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(w->dir);
	model_file_remove(&w->f);
	unsetenv("ANPU_WEIGHT_CACHE_DIR");
	unsetenv("ANPU_WEIGHT_CACHE");
	free(w);
	return 0;
}

/* Load the model @path and decode N_TOKENS tokens: every step's logits into @logits. */
static void run_path(const char *path, float (*logits)[N_VOCAB])
{
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct anpurt_session_params sp = anpurt_session_default_params();
	struct anpurt_model *model;
	struct anpurt_engine *engine;
	struct anpurt_session *s;

	if (anpurt_model_open(path, NULL, &model))
		fail_msg("%s", anpurt_last_error());
	ep.device = "sim";
	ep.n_ctx = 32;
	if (anpurt_engine_load(model, &ep, &engine))
		fail_msg("%s", anpurt_last_error());
	sp.n_ctx = 32;
	if (anpurt_session_create(engine, &sp, &s))
		fail_msg("%s", anpurt_last_error());
	for (int i = 0; i < N_TOKENS; i++) {
		int32_t next;

		if (anpurt_session_decode(s, (int32_t)((i * 7 + 3) % N_VOCAB), &next))
			fail_msg("%s", anpurt_last_error());
		assert_int_equal(anpurt_session_logits(s, logits[i], N_VOCAB), 0);
	}
	anpurt_session_free(s);
	anpurt_engine_free(engine);
	anpurt_model_free(model);
}

static void run(const struct wc *w, float (*logits)[N_VOCAB])
{
	run_path(w->f.path, logits);
}

static void cache_gives_the_model_files_logits(void **state)
{
	struct wc *w = *state;
	float plain[N_TOKENS][N_VOCAB], first[N_TOKENS][N_VOCAB], again[N_TOKENS][N_VOCAB];
	char path[256];
	struct stat st0, st1;
	skip_without_cache();

	setenv("ANPU_WEIGHT_CACHE", "0", 1);
	run(w, plain);
	assert_int_equal(cache_files(w->dir, NULL, 0), 0);
	unsetenv("ANPU_WEIGHT_CACHE");

	run(w, first);	/* writes the cache file */
	assert_int_equal(cache_files(w->dir, path, sizeof(path)), 1);
	assert_int_equal(stat(path, &st0), 0);
	assert_memory_equal(plain, first, sizeof(plain));

	run(w, again);	/* maps it: not written again */
	assert_int_equal(cache_files(w->dir, NULL, 0), 1);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino);
	assert_memory_equal(plain, again, sizeof(plain));
}

/*
 * A Q4_K (Q6_K, Q4_0) model's matrices, the tied embedding table among them,
 * come from the cache as Q4_KL (Q6_KL, Q4_0L): the same logits
 */
static void row_group_models_through_the_cache_give_the_model_files_logits(void **state)
{
	static const uint32_t types[] = { 12, 14, 2 };	/* Q4_K, Q6_K, Q4_0 */
	struct wc *w = *state;
	float plain[N_TOKENS][N_VOCAB], cached[N_TOKENS][N_VOCAB];
	skip_without_cache();

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct gb_model_spec spec = gb_model_spec_tiny("qwen3");
		struct model_file mf;
		char path[256];

		while (cache_files(w->dir, path, sizeof(path)) > 0)	/* the file below is this model's */
			assert_int_equal(unlink(path), 0);
		spec.weight_type = types[i];
		spec.n_embd = 256;
		spec.n_ff = 512;
		spec.n_head = 8;
		spec.n_head_kv = 4;
		spec.n_vocab = N_VOCAB;
		model_file_make(&mf, &spec, 0x5eed0045u + (uint32_t)i);
		setenv("ANPU_WEIGHT_CACHE", "0", 1);
		run_path(mf.path, plain);
		unsetenv("ANPU_WEIGHT_CACHE");
		run_path(mf.path, cached);	/* writes the cache file */
		assert_int_equal(cache_files(w->dir, NULL, 0), 1);
		assert_memory_equal(plain, cached, sizeof(plain));
		run_path(mf.path, cached);	/* maps it */
		assert_memory_equal(plain, cached, sizeof(plain));
		model_file_remove(&mf);
	}
}

static void damaged_cache_file_is_written_again(void **state)
{
	struct wc *w = *state;
	float plain[N_TOKENS][N_VOCAB], got[N_TOKENS][N_VOCAB];
	char path[256];
	struct stat st0, st1;
	int fd;
	skip_without_cache();

	setenv("ANPU_WEIGHT_CACHE", "0", 1);
	run(w, plain);
	unsetenv("ANPU_WEIGHT_CACHE");
	run(w, got);
	assert_int_equal(cache_files(w->dir, path, sizeof(path)), 1);
	assert_int_equal(stat(path, &st0), 0);

	/* a header that names another file, then a file cut short */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 0), 1);
	close(fd);
	run(w, got);
	assert_memory_equal(plain, got, sizeof(plain));
	assert_int_equal(stat(path, &st1), 0);
	assert_int_not_equal(st0.st_ino, st1.st_ino);	/* a new file under the name */
	assert_int_equal(truncate(path, st1.st_size - 4096), 0);
	run(w, got);
	assert_memory_equal(plain, got, sizeof(plain));
	assert_int_equal(stat(path, &st0), 0);
	assert_int_equal(st0.st_size, st1.st_size);
	assert_int_equal(cache_files(w->dir, NULL, 0), 1);
}

/* All files in @dir (cache files and anything else, such as temporary ones). */
static int all_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void changed_model_gets_a_new_cache_file_and_the_old_one_goes(void **state)
{
	struct wc *w = *state;
	float a[N_TOKENS][N_VOCAB], b[N_TOKENS][N_VOCAB];
	struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = 1234567890 } };
	char first[256], second[256];
	skip_without_cache();

	run(w, a);
	assert_int_equal(cache_files(w->dir, first, sizeof(first)), 1);
	assert_int_equal(utimensat(AT_FDCWD, w->f.path, times, 0), 0);
	run(w, b);	/* a new file for the changed model; the old one swept */
	assert_int_equal(cache_files(w->dir, second, sizeof(second)), 1);
	assert_string_not_equal(first, second);
	assert_memory_equal(a, b, sizeof(a));
}

/* A file @name in @dir with @len bytes of @head then zeros to 64 KiB (if @pad), mode 0600. */
static void plant(const char *dir, const char *name, const void *head, size_t len, bool pad)
{
	static const char zero[65536];
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, head, len), (ssize_t)len);
	if (pad)
		assert_int_equal(write(fd, zero, sizeof(zero) - len), (ssize_t)(sizeof(zero) - len));
	close(fd);
}

static bool exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, F_OK);
}

/* @name in @dir: last modified @age seconds ago */
static void age(const char *dir, const char *name, long age)
{
	struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = time(NULL) - age } };
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), 0);
}

/* A pid no process can have: past the kernel's pid_max. */
static long no_such_pid(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	long max = 4194304;

	if (f) {
		assert_int_equal(fscanf(f, "%ld", &max), 1);
		fclose(f);
	}
	return max + 1;
}

static void removed_models_and_old_files_are_swept(void **state)
{
	struct wc *w = *state;
	float a[N_TOKENS][N_VOCAB], got[N_TOKENS][N_VOCAB];
	struct gb_model_spec spec = gb_model_spec_tiny("qwen2");
	struct model_file other;
	/* what must stay: other names, a newer format, a stranger's magic, live or recent temps */
	static const char *const kept[] = {
		"notes.txt", "00000000000000bb.anpuw", "00000000000000ee.anpuw",
		"00000000000000ff.anpuw", "0000000000000011.anpuw", "0000000000000022.anpuw",
	};
	char copy[128], name[256], dead[128], recent[128], live[128], odd[128], bak[128];
	char outside[160];
	char buf[4096];
	ssize_t n;
	int in, out;
	skip_without_cache();

	run(w, a);	/* A: stays, its model stays */
	/* a copy of A elsewhere, cached, then removed */
	snprintf(copy, sizeof(copy), "%s.copy", w->f.path);
	in = open(w->f.path, O_RDONLY);
	out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	run_path(copy, got);
	assert_memory_equal(a, got, sizeof(a));
	assert_int_equal(cache_files(w->dir, NULL, 0), 2);
	assert_int_equal(unlink(copy), 0);

	/* removed: an older format's file, a dead writer's old temporary files */
	plant(w->dir, "00000000000000aa.anpuw", "ANPUWC2", 8, true);
	snprintf(dead, sizeof(dead), "00000000000000cc.anpuw.%ld.5.tmp", no_such_pid());
	plant(w->dir, dead, "", 0, false);
	age(w->dir, dead, 3600);
	snprintf(odd, sizeof(odd), "00000000000000cd.anpuw.%ld.Ab12Cd", no_such_pid());
	plant(w->dir, odd, "", 0, false);
	age(w->dir, odd, 3600);
	/* kept */
	plant(w->dir, kept[0], "keep", 4, false);
	plant(w->dir, kept[1], "not a cache file", 16, true);
	plant(w->dir, kept[2], "ANPUWC4", 8, true);	/* a newer runtime's */
	snprintf(outside, sizeof(outside), "%s.old-cache", w->f.path);
	plant("/", outside + 1, "ANPUWC1", 8, true);
	snprintf(name, sizeof(name), "%s/%s", w->dir, kept[3]);	/* a link to it */
	assert_int_equal(symlink(outside, name), 0);
	snprintf(name, sizeof(name), "%s/%s", w->dir, kept[4]);
	assert_int_equal(mkfifo(name, 0600), 0);	/* must not block the sweep */
	snprintf(name, sizeof(name), "%s/%s", w->dir, kept[5]);
	assert_int_equal(mkdir(name, 0700), 0);
	snprintf(recent, sizeof(recent), "00000000000000dd.anpuw.%ld.7.tmp", no_such_pid());
	plant(w->dir, recent, "", 0, false);	/* maybe a writer in another pid namespace */
	snprintf(live, sizeof(live), "00000000000000de.anpuw.%ld.AbCdEf", (long)getpid());
	plant(w->dir, live, "", 0, false);
	age(w->dir, live, 3600);
	snprintf(bak, sizeof(bak), "00000000000000df.anpuw.%ld.bak", no_such_pid());
	plant(w->dir, bak, "mine", 4, false);	/* not a name the writer makes */
	age(w->dir, bak, 3600);
	assert_int_equal(all_files(w->dir), 14);

	/* B's first load writes its file and sweeps */
	spec.weight_type = 6;
	spec.n_vocab = N_VOCAB;
	model_file_make(&other, &spec, 0x5eed0044u);
	run_path(other.path, got);
	assert_false(exists(w->dir, "00000000000000aa.anpuw"));
	assert_false(exists(w->dir, dead));
	assert_false(exists(w->dir, odd));
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_true(exists(w->dir, kept[i]));
	assert_true(exists(w->dir, recent));
	assert_true(exists(w->dir, live));
	assert_true(exists(w->dir, bak));
	assert_int_equal(access(outside, F_OK), 0);
	/* and A's file and B's; the copy's is gone */
	assert_int_equal(all_files(w->dir), 11);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(name, sizeof(name), "%s/%s", w->dir, kept[i]);
		assert_int_equal(i == 5 ? rmdir(name) : unlink(name), 0);
	}
	for (const char *const *k = (const char *const[]){ recent, live, bak, NULL }; *k; k++) {
		snprintf(name, sizeof(name), "%s/%s", w->dir, *k);
		assert_int_equal(unlink(name), 0);
	}
	assert_int_equal(unlink(outside), 0);
	model_file_remove(&other);

	run(w, got);	/* A's file was kept: mapped, nothing written */
	assert_memory_equal(a, got, sizeof(a));
	assert_int_equal(all_files(w->dir), 2);
}

/*
 * A session saved on an engine that loaded from the cache restores on one
 * that loaded the model file (the fingerprint is the model file's either
 * way) and continues with the same logits.
 */
static void session_saved_through_the_cache_restores_without_it(void **state)
{
	struct wc *w = *state;
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct anpurt_session_params sp = anpurt_session_default_params();
	float a[N_VOCAB], b[N_VOCAB];
	struct anpurt_model *model;
	struct anpurt_engine *engine;
	struct anpurt_session *s;
	char path[128];
	int32_t next;
	skip_without_cache();

	snprintf(path, sizeof(path), "%s/session.bin", w->dir);
	assert_int_equal(anpurt_model_open(w->f.path, NULL, &model), 0);
	ep.device = "sim";
	ep.n_ctx = 32;
	sp.n_ctx = 32;
	for (int pass = 0; pass < 2; pass++) {	/* 0: through the cache, saves; 1: without, restores */
		if (pass)
			setenv("ANPU_WEIGHT_CACHE", "0", 1);
		if (anpurt_engine_load(model, &ep, &engine) || anpurt_session_create(engine, &sp, &s))
			fail_msg("%s", anpurt_last_error());
		if (!pass) {
			for (int i = 0; i < 3; i++)
				assert_int_equal(anpurt_session_decode(s, 5 + i, &next), 0);
			assert_int_equal(cache_files(w->dir, NULL, 0), 1);
			assert_int_equal(anpurt_session_save(s, path), 0);
		} else if (anpurt_session_restore(s, path)) {
			fail_msg("%s", anpurt_last_error());
		}
		assert_int_equal(anpurt_session_decode(s, 11, &next), 0);
		assert_int_equal(anpurt_session_logits(s, pass ? b : a, N_VOCAB), 0);
		anpurt_session_free(s);
		anpurt_engine_free(engine);
	}
	unsetenv("ANPU_WEIGHT_CACHE");
	assert_memory_equal(a, b, sizeof(a));
	unlink(path);
	anpurt_model_free(model);
}

static void no_cache_directory_loads_the_model_file(void **state)
{
	struct wc *w = *state;
	float plain[N_TOKENS][N_VOCAB], got[N_TOKENS][N_VOCAB];

	setenv("ANPU_WEIGHT_CACHE", "0", 1);
	run(w, plain);
	unsetenv("ANPU_WEIGHT_CACHE");
	setenv("ANPU_WEIGHT_CACHE_DIR", "/proc/self/no-such-dir", 1);
	run(w, got);
	assert_memory_equal(plain, got, sizeof(plain));
	setenv("ANPU_WEIGHT_CACHE_DIR", w->dir, 1);
	assert_int_equal(cache_files(w->dir, NULL, 0), 0);
}

static void model_rewritten_in_place_is_not_taken_from_the_cache(void **state)
{
	struct wc *w = *state;
	float a[N_TOKENS][N_VOCAB], b[N_TOKENS][N_VOCAB], got[N_TOKENS][N_VOCAB];
	struct gb_model_spec spec = gb_model_spec_tiny("qwen2");
	struct model_file other;
	struct timespec times[2];
	struct stat st;
	char buf[4096];
	ssize_t n;
	int in, out;
	skip_without_cache();

	run(w, a);	/* model A, cached */
	assert_int_equal(cache_files(w->dir, NULL, 0), 1);
	spec.weight_type = 6;
	spec.n_vocab = N_VOCAB;
	model_file_make(&other, &spec, 0x5eed0043u);	/* B: the same shape, other weights */
	assert_int_equal(stat(w->f.path, &st), 0);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	/* B's bytes over A's, same inode and size, A's modification time put back */
	in = open(other.path, O_RDONLY);
	out = open(w->f.path, O_WRONLY);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	assert_int_equal(utimensat(AT_FDCWD, w->f.path, times, 0), 0);
	setenv("ANPU_WEIGHT_CACHE", "0", 1);
	run(w, b);
	unsetenv("ANPU_WEIGHT_CACHE");
	assert_memory_not_equal(a, b, sizeof(a));
	run(w, got);
	assert_memory_equal(b, got, sizeof(b));
	model_file_remove(&other);
}

static void file_size_limit_loads_the_model_file(void **state)
{
	struct wc *w = *state;
	float plain[N_TOKENS][N_VOCAB];
	pid_t pid;
	int status;

	setenv("ANPU_WEIGHT_CACHE", "0", 1);
	run(w, plain);
	unsetenv("ANPU_WEIGHT_CACHE");
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {	/* a cache file past the limit would raise SIGXFSZ */
		struct rlimit rl = { .rlim_cur = 8192, .rlim_max = 8192 };
		float got[N_TOKENS][N_VOCAB];

		/*
		 * bounded: a child of a process whose earlier failed test left
		 * the NPU's threads behind would wait for them forever
		 */
		alarm(120);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(2);
		run(w, got);
		_exit(memcmp(plain, got, sizeof(got)) ? 3 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(all_files(w->dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cache_gives_the_model_files_logits, setup, teardown),
		cmocka_unit_test_setup_teardown(row_group_models_through_the_cache_give_the_model_files_logits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_cache_file_is_written_again, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_model_gets_a_new_cache_file_and_the_old_one_goes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(removed_models_and_old_files_are_swept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(session_saved_through_the_cache_restores_without_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(no_cache_directory_loads_the_model_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(model_rewritten_in_place_is_not_taken_from_the_cache,
						setup, teardown),
		cmocka_unit_test_setup_teardown(file_size_limit_loads_the_model_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
