/* SPDX-License-Identifier: MIT */
/* Internal error reporting: every failing path records its message here. */
#ifndef RT_ERROR_H
#define RT_ERROR_H

/*
 * Record @fmt as this thread's last error and return @err (a negative errno),
 * so that a failing path reads `return rt_error(-EINVAL, "...", ...);`.
 */
int rt_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Forget the last error (called by API entry points that succeed). */
void rt_error_clear(void);

#endif
