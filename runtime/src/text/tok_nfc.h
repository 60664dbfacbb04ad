/* SPDX-License-Identifier: MIT */
/* NFC normalisation that leaves text already in NFC alone (no copy). */
#ifndef TOK_NFC_H
#define TOK_NFC_H

#include <stddef.h>
#include <stdint.h>

/*
 * NFC of the valid UTF-8 @s (@len bytes). *@out is @s itself when nothing
 * changes, else a malloc'ed buffer (*@owned set: the caller frees it).
 * Returns 0 or a negative errno.
 */
int tok_nfc(const uint8_t *s, size_t len, const uint8_t **out, size_t *out_len, uint8_t **owned);

#endif
