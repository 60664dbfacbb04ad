/* SPDX-License-Identifier: MIT */
/*
 * anpu-run from the outside: the command-line conventions (--help, --version,
 * usage errors exit 2 with one line, errors exit 1 with the library's message)
 * and --info / --info --json on a tiny model built by lib_gguf_build.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "anpurt.h"

#include "lib_gguf_build.h"
#include "lib_model_file.h"

static char tool[PATH_MAX + 32], model[64];
static struct model_file random_model;	/* random weights: for generation */

/* Run anpu-run @args (shell words); its stdout and stderr in @out, the exit status. */
static int run(const char *args, char *out, size_t n)
{
	char cmd[PATH_MAX + 512];
	size_t len = 0, got;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1 </dev/null", tool, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (len + 1 < n && (got = fread(out + len, 1, n - 1 - len, p)) > 0)
		len += got;
	out[len] = '\0';
	status = pclose(p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int setup(void **state)
{
	struct gb_model_spec s = gb_model_spec_tiny("qwen2");
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct gb *b = gb_new();
	int fd;

	(void)state;
	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';	/* BUILD/tests -> BUILD/bin/anpu-run */
	snprintf(tool, sizeof(tool), "%s/../bin/anpu-run", self);
	snprintf(model, sizeof(model), "/tmp/test_rt_anpu_run.XXXXXX");
	fd = mkstemp(model);
	if (fd < 0)
		return -1;
	close(fd);
	s.chat_template = "{{ '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a"
			  " helpful assistant.<|im_end|>\\n' }}";
	gb_model(b, &s);
	n = gb_write_file(b, model);
	model_file_make(&random_model, &s, 5);
	gb_free(b);
	return n ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(model);
	model_file_remove(&random_model);
	return 0;
}

static void test_help_lists_every_option(void **state)
{
	static const char *const opts[] = { "--model", "-m", "--info", "--json", "--chat-template",
					    "--version", "--help", "-p", "-f", "-n", "--chat", "--system",
					    "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
					    "--seed", "--ctx", "--priority", "--device", "--threads",
					    "--logits", "--tokenize", "--session-load", "--session-save",
					    "--trace", "--mem-needed", "--sessions" };
	char out[4096];
	size_t i;

	(void)state;
	assert_int_equal(run("--help", out, sizeof(out)), 0);
	assert_memory_equal(out, "Usage: anpu-run ", 16);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strstr(out, opts[i]))
			fail_msg("--help does not list %s", opts[i]);
	assert_int_equal(run("-h", out, sizeof(out)), 0);
	assert_int_equal(run("--version", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "anpu-run"));
}

static void expect_usage_error(const char *args, const char *want)
{
	char out[1024];

	assert_int_equal(run(args, out, sizeof(out)), 2);
	assert_string_equal(out, want);
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect_usage_error("--frobnicate", "anpu-run: unknown option '--frobnicate' (anpu-run --help lists the options)\n");
	expect_usage_error("-x", "anpu-run: unknown option '-x' (anpu-run --help lists the options)\n");
	expect_usage_error("-m", "anpu-run: option '-m' needs an argument (anpu-run --help lists the options)\n");
	expect_usage_error("-m f.gguf", "anpu-run: no prompt: give -p TEXT or -f FILE (or run on a terminal to chat) (anpu-run --help lists the options)\n");
	expect_usage_error("-m f.gguf -p x --priority urgent", "anpu-run: bad value urgent for --priority (anpu-run --help lists the options)\n");
	expect_usage_error("-m f.gguf -p x --temp -1", "anpu-run: bad value -1 for --temp (anpu-run --help lists the options)\n");
	expect_usage_error("-m f.gguf -p x -n 0", "anpu-run: bad value 0 for --n-predict (anpu-run --help lists the options)\n");
	expect_usage_error("--info", "anpu-run: no model: give -m FILE (anpu-run --help lists the options)\n");
	expect_usage_error("--info -m f.gguf extra", "anpu-run: unexpected argument 'extra' (anpu-run --help lists the options)\n");
}

static void test_info_text(void **state)
{
	char out[4096], args[256];

	(void)state;
	snprintf(args, sizeof(args), "-m %s --info", model);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "architecture:    qwen2\n"));
	assert_non_null(strstr(out, "layers:          2\n"));
	assert_non_null(strstr(out, "heads:           4 query, 2 key/value, head size 16 (value 16)\n"));
	assert_non_null(strstr(out, "vocabulary:      320\n"));
	assert_non_null(strstr(out, "context length:  256\n"));
	assert_non_null(strstr(out, "rope:            neox, base 1000000, scaling none\n"));
	assert_non_null(strstr(out, "output:          tied (token_embd.weight)\n"));
	assert_non_null(strstr(out, "tensors:         26: q8_0 15, f32 11\n"));
	assert_non_null(strstr(out, "chat template:   qwen2.5\n"));
	snprintf(args, sizeof(args), "-m %s --info --chat-template llama3", model);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "chat template:   llama3\n"));
}

/*
 * --tokenize prints the ids as a JSON array. In the test vocabulary byte b is
 * id b, and the Qwen pre-tokenizer splits letters from digits, so "t0t" is
 * three byte tokens; -f reads the same text from a file.
 */
static void test_tokenize(void **state)
{
	char out[4096], args[512], path[] = "/tmp/anpu-run-prompt-XXXXXX";
	int fd;

	(void)state;
	snprintf(args, sizeof(args), "-m %s --tokenize -p t0t", model);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_string_equal(out, "[116, 48, 116]\n");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "t0t", 3), 3);
	close(fd);
	snprintf(args, sizeof(args), "-m %s --tokenize --no-special -f %s", model, path);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_string_equal(out, "[116, 48, 116]\n");
	unlink(path);
	expect_usage_error("-m f.gguf --tokenize",
			   "anpu-run: --tokenize needs a prompt: -p TEXT or -f FILE (anpu-run --help lists the options)\n");
	expect_usage_error("-m f.gguf --tokenize -p a -f b",
			   "anpu-run: give -p TEXT or -f FILE, not both (anpu-run --help lists the options)\n");
}

static void test_info_json(void **state)
{
	char out[4096], args[256];
	struct json_object *j, *v, *types;

	(void)state;
	snprintf(args, sizeof(args), "--json -m %s --info", model);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	j = json_tokener_parse(out);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "architecture", &v));
	assert_string_equal(json_object_get_string(v), "qwen2");
	assert_true(json_object_object_get_ex(j, "n_embd", &v));
	assert_int_equal(json_object_get_int(v), 64);
	assert_true(json_object_object_get_ex(j, "tied_output", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(j, "tensor_types", &types));
	assert_true(json_object_object_get_ex(types, "q8_0", &v));
	assert_int_equal(json_object_get_int(v), 15);
	assert_true(json_object_object_get_ex(types, "f32", &v));
	assert_int_equal(json_object_get_int(v), 11);
	assert_true(json_object_object_get_ex(j, "chat_template", &v));
	assert_string_equal(json_object_get_string(v), "qwen2.5");
	json_object_put(j);
}

static void test_errors_are_the_library_message(void **state)
{
	char out[1024], args[256];

	(void)state;
	assert_int_equal(run("-m /nonexistent.gguf --info", out, sizeof(out)), 1);
	assert_string_equal(out, "anpu-run: /nonexistent.gguf: No such file or directory\n");
	snprintf(args, sizeof(args), "-m %s --info --chat-template x", model);
	assert_int_equal(run(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "unknown chat template 'x' (the choices: qwen2.5"));
	assert_int_equal(run("-m /etc/hostname --info", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "anpu-run: /etc/hostname: offset 0: not a GGUF file"));
}

/* --mem-needed: the library's anpurt_engine_mem_needed() for --sessions of --ctx tokens. */
static void test_mem_needed(void **state)
{
	struct anpurt_engine_params ep = anpurt_engine_default_params();
	struct json_object *j, *v;
	struct anpurt_model *m;
	char out[1024], args[512], want[64];

	(void)state;
	assert_int_equal(anpurt_model_open(random_model.path, NULL, &m), 0);
	ep.n_sessions = 1;
	ep.n_ctx = 0;
	snprintf(want, sizeof(want), "%llu\n", (unsigned long long)anpurt_engine_mem_needed(m, &ep));
	snprintf(args, sizeof(args), "-m %s --mem-needed", random_model.path);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	ep.n_sessions = 2;
	ep.n_ctx = 100;
	snprintf(args, sizeof(args), "-m %s --mem-needed --sessions 2 --ctx 100 --json", random_model.path);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	j = json_tokener_parse(out);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "mem_needed", &v));
	assert_true((uint64_t)json_object_get_int64(v) == anpurt_engine_mem_needed(m, &ep));
	assert_true(json_object_object_get_ex(j, "n_sessions", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(j, "n_ctx", &v));
	assert_int_equal(json_object_get_int(v), 100);
	assert_true(json_object_object_get_ex(j, "weight_bytes", &v));
	assert_true((uint64_t)json_object_get_int64(v) == anpurt_model_info(m)->weight_bytes);
	json_object_put(j);
	anpurt_model_free(m);
	snprintf(args, sizeof(args), "-m %s --mem-needed --sessions 0", random_model.path);
	expect_usage_error(args, "anpu-run: bad value 0 for --sessions (anpu-run --help lists the options)\n");
}

static struct json_object *generate_json(const char *extra, struct json_object **gen_ids)
{
	char out[65536], args[512];
	struct json_object *j, *v;

	snprintf(args, sizeof(args), "-m %s --ctx 128 --json %s", random_model.path, extra);
	if (run(args, out, sizeof(out)))
		fail_msg("anpu-run %s: %s", args, out);
	j = json_tokener_parse(out);
	if (!j)
		fail_msg("not JSON: %s", out);
	assert_true(json_object_object_get_ex(j, "generated_ids", gen_ids));
	assert_true(json_object_object_get_ex(j, "stop_reason", &v));
	assert_true(!strcmp(json_object_get_string(v), "max-tokens") ||
		    !strcmp(json_object_get_string(v), "eog"));
	assert_true(json_object_object_get_ex(j, "text", &v));
	assert_true(json_object_object_get_ex(j, "decode_tok_s", &v));
	assert_true(json_object_object_get_ex(j, "ttft_ms", &v));
	return j;
}

/* Generation: JSON, seeded sampling repeats, --logits rows, --chat, the stats on stderr. */
static void test_generate(void **state)
{
	struct json_object *a, *b, *ids, *ids2, *v;
	char out[65536], args[512], path[] = "/tmp/anpu-run-logits-XXXXXX";
	struct stat st;
	size_t n;
	int fd;

	(void)state;
	a = generate_json("-p t0t -n 8", &ids);
	assert_true(json_object_object_get_ex(a, "prompt_ids", &v));
	assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), "[116,48,116]");
	assert_true(json_object_array_length(ids) <= 8);
	json_object_put(a);

	a = generate_json("-p t0t -n 8 --temp 1.5 --top-k 0 --top-p 1 --min-p 0 --seed 7", &ids);
	b = generate_json("-p t0t -n 8 --temp 1.5 --top-k 0 --top-p 1 --min-p 0 --seed 7", &ids2);
	assert_string_equal(json_object_to_json_string(ids), json_object_to_json_string(ids2));
	json_object_put(a);
	json_object_put(b);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(args, sizeof(args), "-p t0t -n 4 --logits %s", path);
	a = generate_json(args, &ids);
	n = json_object_array_length(ids);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, n * 320 * sizeof(float));	/* a row per token */
	json_object_put(a);
	unlink(path);

	/* --chat: the template's markup around the user text */
	a = generate_json("--chat --system be-brief -p t0t -n 2", &ids);
	assert_true(json_object_object_get_ex(a, "prompt_ids", &v));
	assert_true(json_object_array_length(v) > 20);
	json_object_put(a);

	snprintf(args, sizeof(args), "-m %s --ctx 64 -p t0t -n 4 --priority high --device sim",
		 random_model.path);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "prompt tokens: 3 (0 cached)"));
	assert_non_null(strstr(out, "time to first token: "));
	assert_non_null(strstr(out, "decode: "));
}

/*
 * --session-save writes the session after the turn; --session-load starts from
 * it: the prompt's tokens in the file are not run again, and the greedy answer
 * is the same. A file that is not a session file is an error naming it.
 */
static void test_session_files(void **state)
{
	char out[65536], args[512], path[] = "/tmp/anpu-run-session-XXXXXX";
	struct json_object *a, *b, *ids, *ids2;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(args, sizeof(args), "-p t0t -n 6 --session-save %s", path);
	a = generate_json(args, &ids);
	snprintf(args, sizeof(args), "-p t0t -n 6 --session-load %s", path);
	b = generate_json(args, &ids2);
	assert_string_equal(json_object_to_json_string(ids2), json_object_to_json_string(ids));
	json_object_put(a);
	json_object_put(b);
	snprintf(args, sizeof(args), "-m %s --ctx 128 -p t0t -n 6 --session-load %s",
		 random_model.path, path);
	assert_int_equal(run(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "prompt tokens: 3 (2 cached)"));
	snprintf(args, sizeof(args), "-m %s -p t0t --session-load %s", random_model.path, model);
	assert_int_equal(run(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "not an anpurt session file"));
	assert_non_null(strstr(out, model));
	unlink(path);
}

/* No prompt on a terminal (a pty from script(1)): a chat that keeps the conversation. */
static void test_interactive_chat_reuses_the_cache(void **state)
{
	char cmd[PATH_MAX + 512], out[65536];
	const char *first, *second;
	unsigned long n1, n2, cached;
	size_t len = 0, got;
	FILE *p;

	(void)state;
	if (system("command -v script >/dev/null 2>&1")) {
		printf("script(1) not installed: no terminal to test on\n");
		skip();
	}
	snprintf(cmd, sizeof(cmd), "(printf 'hello\\n'; sleep 1; printf 'again\\n'; sleep 1) |"
		 " script -qec '%s -m %s --ctx 256 -n 4' /dev/null 2>&1", tool, random_model.path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (len + 1 < sizeof(out) && (got = fread(out + len, 1, sizeof(out) - 1 - len, p)) > 0)
		len += got;
	out[len] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "chat (qwen2.5)"));
	assert_non_null(strstr(out, "(0 cached), generated: 4"));
	/* the second turn re-renders the conversation and reuses at least the first prompt */
	first = strstr(out, "prompt tokens: ");
	assert_non_null(first);
	second = strstr(first + 1, "prompt tokens: ");
	assert_non_null(second);
	assert_int_equal(sscanf(first, "prompt tokens: %lu", &n1), 1);
	assert_int_equal(sscanf(second, "prompt tokens: %lu (%lu cached)", &n2, &cached), 2);
	assert_true(cached >= n1 && n2 > cached);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_lists_every_option),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_info_text),
		cmocka_unit_test(test_info_json),
		cmocka_unit_test(test_tokenize),
		cmocka_unit_test(test_errors_are_the_library_message),
		cmocka_unit_test(test_mem_needed),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_session_files),
		cmocka_unit_test(test_interactive_chat_reuses_the_cache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
