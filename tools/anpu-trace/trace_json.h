/* SPDX-License-Identifier: MIT */
/* anpu-trace: writing JSON strings. */
#ifndef TRACE_JSON_H
#define TRACE_JSON_H

#include <stdio.h>

/* @s as a JSON string literal (quotes, backslashes and control bytes escaped). */
void json_str(FILE *f, const char *s);

#endif /* TRACE_JSON_H */
