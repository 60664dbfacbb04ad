/* SPDX-License-Identifier: MIT */
/* anpurt_last_error(): one message per thread, set by failing calls. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "anpurt.h"
#include "rt_error.h"

static void test_error_returns_code_and_keeps_message(void **state)
{
	(void)state;
	assert_int_equal(rt_error(-EINVAL, "tensor %s: bad shape", "blk.0.attn_q.weight"), -EINVAL);
	assert_string_equal(anpurt_last_error(), "tensor blk.0.attn_q.weight: bad shape");
	rt_error_clear();
	assert_string_equal(anpurt_last_error(), "");
}

static void *other_thread(void *arg)
{
	(void)arg;
	/* a fresh thread has no message of its own, whatever the first thread recorded */
	if (anpurt_last_error()[0] != '\0')
		return (void *)1;
	rt_error(-ENOMEM, "other thread");
	return NULL;
}

static void test_error_message_is_per_thread(void **state)
{
	pthread_t t;
	void *ret;

	(void)state;
	rt_error(-EIO, "main thread");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_string_equal(anpurt_last_error(), "main thread");
}

static void test_long_message_is_truncated_not_overflowed(void **state)
{
	char big[2048];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rt_error(-EINVAL, "%s", big);
	assert_true(strlen(anpurt_last_error()) < sizeof(big) - 1);
	assert_true(strlen(anpurt_last_error()) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_returns_code_and_keeps_message),
		cmocka_unit_test(test_error_message_is_per_thread),
		cmocka_unit_test(test_long_message_is_truncated_not_overflowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
