/* SPDX-License-Identifier: MIT */
/* JSON output of the tools (anpu-info, anpu-top, anpu-run, anpu-trace): a string with escapes. */
#ifndef ANPU_TOOLS_JSON_H
#define ANPU_TOOLS_JSON_H

#include <stdio.h>

/* Write @s as a JSON string literal (quotes included) to @f. */
void tool_json_string(FILE *f, const char *s);

#endif /* ANPU_TOOLS_JSON_H */
