/* SPDX-License-Identifier: MIT */
/*
 * NFC through utf8proc, only where it can change something. Most text (ASCII,
 * CJK ideographs, kana, Hangul syllables, emoji) consists of "stable" code
 * points: starters (combining class 0) without any decomposition that never
 * compose with a preceding character. NFC never acts across such a code
 * point, so the text is cut at them and only the stretches around the others
 * (from the stable character before, which they may compose with, to the next
 * stable one) go through utf8proc_map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok_nfc.h"
#include "tok_utf8.h"

static int is_stable(uint32_t cp)
{
	const utf8proc_property_t *p;

	if (cp < 0x300)		/* Latin-1 and Latin Extended-A/B: starters, NFC as they are */
		return 1;
	if (cp >= 0x1100 && cp <= 0x11ff)	/* conjoining jamo compose algorithmically */
		return 0;
	p = utf8proc_get_property((utf8proc_int32_t)cp);
	/* comb_index: UINT16_MAX = never composes; bit 15 set = composes as the second */
	return p->combining_class == 0 && p->decomp_seqindex == UINT16_MAX &&
	       (p->comb_index == UINT16_MAX || !(p->comb_index & 0x8000));
}

struct growbuf {
	uint8_t *p;
	size_t n, cap;
};

static int append(struct growbuf *b, const uint8_t *s, size_t n)
{
	if (!n)
		return 0;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap < b->n + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

int tok_nfc(const uint8_t *s, size_t len, const uint8_t **out, size_t *out_len, uint8_t **owned)
{
	struct growbuf b = { 0 };
	size_t i = 0, copied = 0, last_stable = 0;
	int err = 0;

	*out = s;
	*out_len = len;
	*owned = NULL;
	while (i < len && !err) {
		uint32_t cp;
		int n;
		size_t start, end;
		utf8proc_uint8_t *nfc = NULL;
		utf8proc_ssize_t m;

		if (s[i] < 0x80) {
			last_stable = i++;
			continue;
		}
		n = tok_utf8_next(s + i, len - i, &cp);
		if (n <= 0)
			return -EINVAL;	/* callers pass valid UTF-8 */
		if (is_stable(cp)) {
			last_stable = i;
			i += (size_t)n;
			continue;
		}
		/* from the stable character before to the next stable one */
		start = last_stable >= copied && last_stable < i ? last_stable : copied;
		end = i + (size_t)n;
		while (end < len) {
			n = tok_utf8_next(s + end, len - end, &cp);
			if (n <= 0)
				return -EINVAL;
			if (is_stable(cp))
				break;
			end += (size_t)n;
		}
		m = utf8proc_map(s + start, (utf8proc_ssize_t)(end - start), &nfc,
				 UTF8PROC_STABLE | UTF8PROC_COMPOSE);
		if (m < 0) {
			err = m == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EINVAL;
			break;
		}
		err = append(&b, s + copied, start - copied);
		if (!err)
			err = append(&b, nfc, (size_t)m);
		free(nfc);
		copied = i = end;
	}
	if (!err && copied)
		err = append(&b, s + copied, len - copied);
	if (err) {
		free(b.p);
		return err;
	}
	if (copied) {
		*out = b.p;
		*out_len = b.n;
		*owned = b.p;
	}
	return 0;
}
