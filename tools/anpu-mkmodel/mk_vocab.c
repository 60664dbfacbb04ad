// SPDX-License-Identifier: MIT
/* tokenizer.json -> tokenizer.ggml.* arrays, as convert_hf_to_gguf.py writes them. */
#include "mk_vocab.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

void mk_vocab_free(struct mk_vocab *v)
{
	for (int i = 0; v->tokens && i < v->n_tokens; i++)
		free(v->tokens[i]);
	for (int i = 0; v->merges && i < v->n_merges; i++)
		free(v->merges[i]);
	free(v->tokens);
	free(v->types);
	free(v->merges);
	free(v->chat_template);
	memset(v, 0, sizeof(*v));
}

int mk_vocab_find(const struct mk_vocab *v, const char *text)
{
	for (int i = 0; i < v->n_tokens; i++)
		if (v->tokens[i] && !strcmp(v->tokens[i], text))
			return i;
	return -1;
}

/* convert_hf_to_gguf.py does_token_look_special() */
static bool looks_special(const char *t)
{
	size_t n = strlen(t);

	if (!strcmp(t, "<pad>") || !strcmp(t, "<mask>") || !strcmp(t, "<2mass>") || !strcmp(t, "[@BOS@]"))
		return true;
	if (n >= 4 && !strncmp(t, "<|", 2) && !strcmp(t + n - 2, "|>"))
		return true;
	/* "<｜" ... "｜>" (fullwidth vertical bar U+FF5C, deepseek-coder) */
	if (n >= 8 && !strncmp(t, "<\xef\xbd\x9c", 4) && !strcmp(t + n - 4, "\xef\xbd\x9c>"))
		return true;
	return n >= 8 && !strncmp(t, "<unused", 7) && t[n - 1] == '>';
}

/* user-defined tokens: "▁" (U+2581) pre-normalised to " ", as convert does */
static char *user_defined_text(const char *t)
{
	char *out = malloc(strlen(t) + 1), *o = out;

	if (!out)
		return NULL;
	while (*t) {
		if (!strncmp(t, "\xe2\x96\x81", 3)) {
			*o++ = ' ';
			t += 3;
		} else {
			*o++ = *t++;
		}
	}
	*o = 0;
	return out;
}

/* a merge in the ["a", "b"] form of newer tokenizer.json files, joined as "a b" */
static char *merge_from_pair(struct json_object *pair)
{
	const char *a, *b;
	size_t cap;
	char *out, *o;

	if (json_object_array_length(pair) != 2)
		return NULL;
	a = json_object_get_string(json_object_array_get_idx(pair, 0));
	b = json_object_get_string(json_object_array_get_idx(pair, 1));
	if (!a || !b)
		return NULL;
	cap = 3 * (strlen(a) + strlen(b)) + 2;
	out = o = malloc(cap);
	if (!out)
		return NULL;
	/* gguf-py SpecialVocab: a space inside a part is written as chr(ord(" ") + 256) = U+0120 */
	for (int k = 0; k < 2; k++) {
		for (const char *s = k ? b : a; *s; s++) {
			if (*s == ' ') {
				*o++ = (char)0xc4;
				*o++ = (char)0xa0;
			} else {
				*o++ = *s;
			}
		}
		if (!k)
			*o++ = ' ';
	}
	*o = 0;
	return out;
}

static int load_merges(struct mk_vocab *v, struct json_object *merges, char *err, size_t errlen)
{
	size_t n = json_object_array_length(merges);

	v->merges = calloc(n ? n : 1, sizeof(char *));
	if (!v->merges)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(merges, i);

		if (json_object_is_type(m, json_type_string))
			v->merges[i] = strdup(json_object_get_string(m));
		else if (json_object_is_type(m, json_type_array))
			v->merges[i] = merge_from_pair(m);
		if (!v->merges[i])
			return fail(err, errlen, -EINVAL, "tokenizer.json: merge %zu is malformed", i);
		v->n_merges = (int)i + 1;
	}
	return 0;
}

static int set_token(struct mk_vocab *v, int64_t id, const char *text, int32_t type, char *err,
		     size_t errlen)
{
	char *s;

	if (id < 0 || id >= v->n_tokens)
		return fail(err, errlen, -ERANGE,
			    "tokenizer.json: token id %lld of \"%s\" is outside the vocabulary of %d",
			    (long long)id, text, v->n_tokens);
	s = type == MK_TOK_USER_DEFINED ? user_defined_text(text) : strdup(text);
	if (!s)
		return -ENOMEM;
	free(v->tokens[id]);
	v->tokens[id] = s;
	v->types[id] = type;
	return 0;
}

static int load_tokens(struct mk_vocab *v, struct json_object *root, char *err, size_t errlen)
{
	struct json_object *model, *vocab, *merges, *added;
	int rc;

	if (!json_object_object_get_ex(root, "model", &model) ||
	    !json_object_object_get_ex(model, "vocab", &vocab) ||
	    !json_object_is_type(vocab, json_type_object) ||
	    !json_object_object_get_ex(model, "merges", &merges) ||
	    !json_object_is_type(merges, json_type_array))
		return fail(err, errlen, -EINVAL, "tokenizer.json: no BPE model.vocab / model.merges");
	json_object_object_foreach(vocab, key, val) {
		rc = set_token(v, json_object_get_int64(val), key, MK_TOK_NORMAL, err, errlen);
		if (rc)
			return rc;
	}
	if (json_object_object_get_ex(root, "added_tokens", &added)) {
		for (size_t i = 0; i < json_object_array_length(added); i++) {
			struct json_object *a = json_object_array_get_idx(added, i), *id, *content, *special;
			const char *text;

			if (!json_object_object_get_ex(a, "id", &id) ||
			    !json_object_object_get_ex(a, "content", &content))
				return fail(err, errlen, -EINVAL, "tokenizer.json: added token %zu malformed", i);
			text = json_object_get_string(content);
			json_object_object_get_ex(a, "special", &special);
			rc = set_token(v, json_object_get_int64(id), text,
				       json_object_get_boolean(special) || looks_special(text) ?
					       MK_TOK_CONTROL : MK_TOK_USER_DEFINED, err, errlen);
			if (rc)
				return rc;
		}
	}
	/* ids the tokenizer does not use: "[PAD<id>]", UNUSED (convert's padding) */
	for (int i = 0; i < v->n_tokens; i++) {
		char pad[32];

		if (v->tokens[i])
			continue;
		snprintf(pad, sizeof(pad), "[PAD%d]", i);
		v->tokens[i] = strdup(pad);
		v->types[i] = MK_TOK_UNUSED;
		if (!v->tokens[i])
			return -ENOMEM;
	}
	return load_merges(v, merges, err, errlen);
}

static struct json_object *read_json(const char *dir, const char *file, char *err, size_t errlen,
				     int *rc)
{
	char path[4096];
	struct json_object *o;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r"); /* for errno: json-c's own message does not carry it */
	if (!f) {
		*rc = -errno;
		fail(err, errlen, 0, "%s: %s", path, strerror(errno));
		return NULL;
	}
	fclose(f);
	o = json_object_from_file(path);
	if (!o) {
		*rc = -EINVAL;
		fail(err, errlen, 0, "%s: %s", path, json_util_get_last_err());
	}
	return o;
}

int mk_vocab_load(struct mk_vocab *v, const char *dir, int n_tokens, char *err, size_t errlen)
{
	struct json_object *tok, *cfg, *tmpl;
	int rc = 0;

	memset(v, 0, sizeof(*v));
	v->n_tokens = n_tokens;
	v->tokens = calloc((size_t)n_tokens, sizeof(char *));
	v->types = calloc((size_t)n_tokens, sizeof(int32_t));
	if (!v->tokens || !v->types) {
		mk_vocab_free(v);
		return fail(err, errlen, -ENOMEM, "%s", strerror(ENOMEM));
	}
	tok = read_json(dir, "tokenizer.json", err, errlen, &rc);
	if (tok) {
		rc = load_tokens(v, tok, err, errlen);
		json_object_put(tok);
	}
	cfg = rc ? NULL : read_json(dir, "tokenizer_config.json", err, errlen, &rc);
	if (cfg) {
		if (json_object_object_get_ex(cfg, "chat_template", &tmpl) &&
		    json_object_is_type(tmpl, json_type_string)) {
			v->chat_template = strdup(json_object_get_string(tmpl));
			rc = v->chat_template ? 0 : -ENOMEM;
		}
		json_object_put(cfg);
	}
	if (rc == -ENOMEM)
		fail(err, errlen, 0, "%s", strerror(ENOMEM));
	if (rc)
		mk_vocab_free(v);
	return rc;
}

/* ---- the ollama-utils automap: one JavaScript string literal ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 63));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 63));
		o[2] = (char)(0x80 | (cp & 63));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 63));
	o[2] = (char)(0x80 | ((cp >> 6) & 63));
	o[3] = (char)(0x80 | (cp & 63));
	return 4;
}

/* \uXXXX at s (after the backslash-u); -1 if malformed */
static long hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* the literal starting at the quote *s; returns the decoded text or NULL */
static char *js_string(const char *s)
{
	char q = *s++, *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s && *s != q; s++) {
		long cp, lo;

		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'v': *o++ = '\v'; break;
		case '0': *o++ = '\0'; break;
		case '\n': break; /* line continuation */
		case 'x':
			if (hexval(s[1]) < 0 || hexval(s[2]) < 0)
				goto bad;
			o += put_utf8(o, (uint32_t)(hexval(s[1]) * 16 + hexval(s[2])));
			s += 2;
			break;
		case 'u':
			cp = hex4(s + 1);
			if (cp < 0)
				goto bad;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && s[1] == '\\' && s[2] == 'u' &&
			    (lo = hex4(s + 3)) >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			o += put_utf8(o, (uint32_t)cp);
			break;
		case 0:
			goto bad;
		default: *o++ = *s; break;
		}
	}
	if (*s != q)
		goto bad;
	*o = 0;
	return out;
bad:
	free(out);
	return NULL;
}

int mk_template_from_automap(const char *ts_path, const char *model, char **out, char *err,
			     size_t errlen)
{
	char key[256], *text = NULL, *at, *g;
	long size;
	FILE *f = fopen(ts_path, "rb");
	int rc = 0;

	*out = NULL;
	if (!f)
		return fail(err, errlen, -errno, "%s: %s", ts_path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(text = malloc((size_t)size + 1)) || fread(text, 1, (size_t)size, f) != (size_t)size) {
		rc = fail(err, errlen, text ? -EIO : -ENOMEM, "%s: cannot read", ts_path);
		goto out;
	}
	text[size] = 0;
	snprintf(key, sizeof(key), "model: \"%s\",", model);
	at = strstr(text, key);
	g = at ? strstr(at, "gguf: ") : NULL;
	if (!g) {
		rc = fail(err, errlen, -ENOENT, "%s: no template for %s", ts_path, model);
		goto out;
	}
	g += 6;
	*out = *g == '"' || *g == '\'' ? js_string(g) : NULL;
	if (!*out)
		rc = fail(err, errlen, -EINVAL, "%s: the template of %s is not a string literal",
			  ts_path, model);
out:
	free(text);
	fclose(f);
	return rc;
}
