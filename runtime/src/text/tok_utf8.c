/* SPDX-License-Identifier: MIT */
#include "tok_utf8.h"

int tok_utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t b = s[0], lo = 0x80, hi = 0xbf;
	uint32_t c;
	int need;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		c = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;	/* no overlongs */
		else if (b == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		c = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f;	/* <= U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 1; i <= need; i++) {
		if ((size_t)i >= len)
			return 0;
		if (s[i] < lo || s[i] > hi)
			return -i;
		c = c << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return need + 1;
}

size_t tok_utf8_valid_prefix(const uint8_t *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		int n;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = tok_utf8_next(s + i, len - i, &cp);
		if (n <= 0)
			break;
		i += (size_t)n;
	}
	return i;
}

/* The bytes GPT-2 kept as themselves: printable ASCII and Latin-1 except the soft hyphen. */
static int byte_is_printable(unsigned b)
{
	return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
}

/* The others (0x00-0x20, 0x7f-0xa0, 0xad: 68 bytes) map in order to U+0100... */
uint32_t tok_byte_to_cp(uint8_t b)
{
	if (byte_is_printable(b))
		return b;
	if (b <= 0x20)
		return 0x100 + b;
	if (b <= 0xa0)
		return 0x100 + 33 + (b - 0x7f);
	return 0x100 + 67;	/* 0xad */
}

int tok_cp_to_byte(uint32_t cp)
{
	if (cp < 0x100)
		return byte_is_printable(cp) ? (int)cp : -1;
	if (cp < 0x100 + 33)
		return (int)(cp - 0x100);
	if (cp < 0x100 + 67)
		return (int)(cp - 0x100 - 33 + 0x7f);
	if (cp == 0x100 + 67)
		return 0xad;
	return -1;
}

size_t tok_bytes_to_text(const uint8_t *s, size_t len, char *out)
{
	char *p = out;

	for (size_t i = 0; i < len; i++) {
		uint32_t cp = tok_byte_to_cp(s[i]);	/* < U+0200: one or two bytes */

		if (cp < 0x80) {
			*p++ = (char)cp;
		} else {
			*p++ = (char)(0xc0 | cp >> 6);
			*p++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	return (size_t)(p - out);
}
