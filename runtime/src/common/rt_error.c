/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "anpurt.h"
#include "rt_error.h"

/*
 * The one piece of state outside the handles (documented in anpurt.h): like
 * dlerror(), one message per thread, so concurrent callers never see each
 * other's messages and no call needs an extra out-parameter.
 */
static _Thread_local char last_error[512];

int rt_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

void rt_error_clear(void)
{
	last_error[0] = '\0';
}

const char *anpurt_last_error(void)
{
	return last_error;
}
