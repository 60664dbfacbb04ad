/* SPDX-License-Identifier: MIT */
/* UTF-8 decoding for the tokenizer (strict: no surrogates, no overlongs, <= U+10FFFF). */
#ifndef TOK_UTF8_H
#define TOK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the sequence at @s (@len > 0 bytes available). Returns its length
 * (1..4) and sets *@cp; 0 if the bytes are a valid but incomplete start of a
 * sequence (more bytes could complete it); or minus the length of the
 * maximal ill-formed subpart (the bytes one U+FFFD replaces, Unicode 3.9).
 */
int tok_utf8_next(const uint8_t *s, size_t len, uint32_t *cp);

/* Bytes from the start of @s that form complete valid UTF-8. */
size_t tok_utf8_valid_prefix(const uint8_t *s, size_t len);

/* GPT-2's byte-level alphabet: every byte as a printable code point, and back (-1: none). */
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t cp);

/* @s's bytes in that alphabet, as UTF-8 into @out (room for 2 * @len); its length. */
size_t tok_bytes_to_text(const uint8_t *s, size_t len, char *out);

#endif
