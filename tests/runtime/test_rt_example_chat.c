/* SPDX-License-Identifier: MIT */
/*
 * examples/chat.c (build/bin/anpurt-chat) on a tiny random qwen2 model with a
 * ChatML template: two turns from standard input stream an answer each, with
 * the per-turn stats line, and the program exits 0 at end of input.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib_model_file.h"

static void test_two_turns(void **state)
{
	struct gb_model_spec spec = gb_model_spec_tiny("qwen2");
	char self[PATH_MAX], cmd[PATH_MAX + 256], out[16384];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct model_file f;
	const char *p;
	size_t len = 0, got;
	FILE *pipe;
	int status, turns = 0;

	(void)state;
	assert_true(n > 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';	/* BUILD/tests -> BUILD/bin/anpurt-chat */
	spec.chat_template = "{{ '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are"
			     " a helpful assistant.<|im_end|>\\n' }}";
	model_file_make(&f, &spec, 3);
	snprintf(cmd, sizeof(cmd), "printf 'hello\\nand again\\n' | %s/../bin/anpurt-chat %s 6 2>&1",
		 self, f.path);
	pipe = popen(cmd, "r");
	assert_non_null(pipe);
	while (len + 1 < sizeof(out) && (got = fread(out + len, 1, sizeof(out) - 1 - len, pipe)) > 0)
		len += got;
	out[len] = '\0';
	status = pclose(pipe);
	model_file_remove(&f);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("anpurt-chat failed: %s", out);
	for (p = out; (p = strstr(p, " tok/s, stop: ")); p++)
		turns++;
	assert_int_equal(turns, 2);
	assert_memory_equal(out, "> ", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_turns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
