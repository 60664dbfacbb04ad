/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "tok_pre.h"

/*
 * The Split regexes of the real tokenizer.json files, rewritten for PCRE2 so
 * that they match what the Hugging Face reference (and llama.cpp) match:
 *  - `(?i:'s|'t|...)` folds ASCII case only (`'[sS]`...), as the reference's
 *    translation and llama.cpp's hand-written version do: PCRE2's caseless
 *    mode would also fold U+017F LATIN SMALL LETTER LONG S into `s`.
 *  - `\s` is the Unicode White_Space property spelt out (the reference uses
 *    \p{White_Space}); PCRE2's UCP `\s` has differed from it across versions.
 *  - `\p{L}`, `\p{N}` are the general categories, as in Oniguruma and JS.
 */
#define WS	"\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define AFTER_NUMBERS \
	"| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*|[" WS "]*[\\r\\n]+|[" WS "]+(?![^" WS "])|[" WS "]+"

/* Qwen2/2.5/3: one digit per pre-token */
#define QWEN2_REGEX CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" AFTER_NUMBERS
/* Llama 3: up to three digits per pre-token */
#define LLAMA3_REGEX CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" AFTER_NUMBERS

static const struct tok_pre_desc pres[] = {
	{ "qwen2", QWEN2_REGEX, 1, 0 },
	{ "deepseek-r1-qwen", QWEN2_REGEX, 1, 0 },
	{ "llama-bpe", LLAMA3_REGEX, 0, 1 },
};

const struct tok_pre_desc *tok_pre_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(pres) / sizeof(pres[0]); i++)
		if (strlen(pres[i].name) == len && !memcmp(pres[i].name, name, len))
			return &pres[i];
	return NULL;
}

const char *tok_pre_names(void)
{
	return "qwen2, deepseek-r1-qwen, llama-bpe";
}
