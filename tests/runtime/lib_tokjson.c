/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib_tokjson.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

char *tokjson_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			if (len)
				*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int tokjson_fetch(const char *spec, char *dir, size_t dirlen)
{
	char cmd[512];
	FILE *p;
	int status;
	size_t n;

	snprintf(cmd, sizeof(cmd), "scripts/npm-fetch.sh '%s' 2>&1", spec);
	p = popen(cmd, "r");
	if (!p) {
		snprintf(dir, dirlen, "cannot run scripts/npm-fetch.sh");
		return -1;
	}
	n = fread(dir, 1, dirlen - 1, p);
	dir[n] = '\0';
	while (n && (dir[n - 1] == '\n' || dir[n - 1] == '\r'))
		dir[--n] = '\0';
	status = pclose(p);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 3 : -1;
}

/* gguf-py's does_token_look_special: <|...|> (ASCII or fullwidth bars) and a few names. */
static int looks_special(const char *s)
{
	size_t n = strlen(s);
	static const char *const names[] = { "<pad>", "<mask>", "<2mass>", "[@BOS@]" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return 1;
	if (n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>"))
		return 1;
	/* <｜ ... ｜> (U+FF5C) as DeepSeek writes them */
	return n >= 8 && !strncmp(s, "<\xef\xbd\x9c", 4) && !strcmp(s + n - 4, "\xef\xbd\x9c>");
}

static const char *regex_of_split(json_object *pt)
{
	json_object *v, *list;

	if (!pt)
		return NULL;
	if (json_object_object_get_ex(pt, "pretokenizers", &list)) {
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *r = regex_of_split(json_object_array_get_idx(list, i));

			if (r)
				return r;
		}
		return NULL;
	}
	if (json_object_object_get_ex(pt, "type", &v) && !strcmp(json_object_get_string(v), "Split") &&
	    json_object_object_get_ex(pt, "pattern", &v) && json_object_object_get_ex(v, "Regex", &v))
		return json_object_get_string(v);
	return NULL;
}

/* convert_hf_to_gguf.py tells pre-tokenizers apart by hashing their output; the regex says the same here. */
static const char *pre_name(json_object *root)
{
	static const char qwen2[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
				    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
	static const char llama3[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
				     " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
	json_object *pt;
	const char *r;

	if (!json_object_object_get_ex(root, "pre_tokenizer", &pt))
		return NULL;
	r = regex_of_split(pt);
	if (!r)
		return NULL;
	if (!strcmp(r, qwen2))
		return "qwen2";
	if (!strcmp(r, llama3))
		return "llama-bpe";
	return NULL;
}

/* tokenizer_config.json's "bos_token": a string or {"content": ...} */
static const char *config_token(json_object *config, const char *key)
{
	json_object *v;

	if (!config || !json_object_object_get_ex(config, key, &v) || !v)
		return NULL;
	if (json_object_is_type(v, json_type_object) && !json_object_object_get_ex(v, "content", &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int32_t find_token(const struct tokjson *tj, const char *text)
{
	if (!text)
		return -1;
	for (size_t i = 0; i < tj->vocab.n_tokens; i++)
		if (tj->tokens[i].len == strlen(text) && !memcmp(tj->tokens[i].ptr, text, tj->tokens[i].len))
			return (int32_t)i;
	return -1;
}

/* gguf-py SpecialVocab: add_bos_token from the config, else from a TemplateProcessing post-processor */
static int add_bos(json_object *root, json_object *config)
{
	json_object *v, *pp, *single;

	if (config && json_object_object_get_ex(config, "add_bos_token", &v))
		return json_object_get_boolean(v);
	if (!json_object_object_get_ex(root, "post_processor", &pp) || !pp)
		return 0;
	if (json_object_object_get_ex(pp, "processors", &v)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *p = json_object_array_get_idx(v, i), *t;

			if (json_object_object_get_ex(p, "type", &t) &&
			    !strcmp(json_object_get_string(t), "TemplateProcessing"))
				pp = p;
		}
	}
	if (!json_object_object_get_ex(pp, "single", &single) || json_object_array_length(single) == 0)
		return 0;
	return json_object_object_get_ex(json_object_array_get_idx(single, 0), "SpecialToken", &v);
}

static int load(const char *dir, struct tokjson *tj, char *err, size_t errlen)
{
	char path[1024];
	json_object *root, *model, *vocab, *merges, *added;
	size_t n = 0, strings = 0;
	char *sp;

	snprintf(path, sizeof(path), "%s/tokenizer.json", dir);
	root = json_object_from_file(path);
	if (!root)
		return fail(err, errlen, "%s: %s", path, json_util_get_last_err());
	tj->json = root;
	snprintf(path, sizeof(path), "%s/tokenizer_config.json", dir);
	tj->config = json_object_from_file(path);	/* optional */
	if (!json_object_object_get_ex(root, "model", &model) ||
	    !json_object_object_get_ex(model, "vocab", &vocab) ||
	    !json_object_object_get_ex(model, "merges", &merges))
		return fail(err, errlen, "%s/tokenizer.json: no model.vocab/merges", dir);
	if (!json_object_object_get_ex(root, "added_tokens", &added))
		added = NULL;

	/* vocabulary size: the highest id + 1 (holes become [PADn]) */
	json_object_object_foreach(vocab, key, val) {
		(void)key;
		if ((size_t)json_object_get_int(val) + 1 > n)
			n = (size_t)json_object_get_int(val) + 1;
	}
	for (size_t i = 0; added && i < json_object_array_length(added); i++) {
		json_object *id;

		json_object_object_get_ex(json_object_array_get_idx(added, i), "id", &id);
		if ((size_t)json_object_get_int(id) + 1 > n)
			n = (size_t)json_object_get_int(id) + 1;
	}
	tj->tokens = calloc(n, sizeof(*tj->tokens));
	tj->types = calloc(n, sizeof(*tj->types));
	tj->merges = calloc(json_object_array_length(merges) + 1, sizeof(*tj->merges));
	/* [PADn] names and "left right" merges built from [left, right] pairs */
	for (size_t i = 0; i < json_object_array_length(merges); i++) {
		json_object *m = json_object_array_get_idx(merges, i);

		if (json_object_is_type(m, json_type_array))
			strings += (size_t)json_object_get_string_len(json_object_array_get_idx(m, 0)) +
				   (size_t)json_object_get_string_len(json_object_array_get_idx(m, 1)) + 2;
	}
	strings += n * 20;
	tj->strings = malloc(strings);
	if (!tj->tokens || !tj->types || !tj->merges || !tj->strings)
		return fail(err, errlen, "out of memory");
	sp = tj->strings;

	json_object_object_foreach(vocab, text, idv) {
		size_t id = (size_t)json_object_get_int(idv);

		tj->tokens[id] = (struct rt_str){ text, strlen(text) };
		tj->types[id] = TOK_TYPE_NORMAL;
	}
	for (size_t i = 0; added && i < json_object_array_length(added); i++) {
		json_object *a = json_object_array_get_idx(added, i), *id, *content, *special;
		const char *s;

		json_object_object_get_ex(a, "id", &id);
		json_object_object_get_ex(a, "content", &content);
		json_object_object_get_ex(a, "special", &special);
		s = json_object_get_string(content);
		tj->tokens[json_object_get_int(id)] = (struct rt_str){ s, strlen(s) };
		tj->types[json_object_get_int(id)] =
			json_object_get_boolean(special) || looks_special(s) ? TOK_TYPE_CONTROL
									      : TOK_TYPE_USER_DEFINED;
	}
	for (size_t i = 0; i < n; i++) {
		if (tj->tokens[i].ptr)
			continue;
		tj->tokens[i].ptr = sp;
		tj->tokens[i].len = (size_t)sprintf(sp, "[PAD%zu]", i);
		sp += tj->tokens[i].len + 1;
		tj->types[i] = TOK_TYPE_UNUSED;
	}
	for (size_t i = 0; i < json_object_array_length(merges); i++) {
		json_object *m = json_object_array_get_idx(merges, i);

		if (json_object_is_type(m, json_type_array)) {
			int len = sprintf(sp, "%s %s", json_object_get_string(json_object_array_get_idx(m, 0)),
					  json_object_get_string(json_object_array_get_idx(m, 1)));

			tj->merges[i] = (struct rt_str){ sp, (size_t)len };
			sp += len + 1;
		} else {
			const char *s = json_object_get_string(m);

			tj->merges[i] = (struct rt_str){ s, strlen(s) };
		}
	}

	tj->vocab.model = (struct rt_str){ "gpt2", 4 };
	{
		const char *pre = pre_name(root);

		if (!pre)
			return fail(err, errlen, "%s/tokenizer.json: pre-tokenizer not recognised", dir);
		tj->vocab.pre = (struct rt_str){ pre, strlen(pre) };
	}
	tj->vocab.n_tokens = n;
	tj->vocab.tokens = tj->tokens;
	tj->vocab.token_types = tj->types;
	tj->vocab.n_merges = json_object_array_length(merges);
	tj->vocab.merges = tj->merges;
	tj->vocab.bos_id = find_token(tj, config_token(tj->config, "bos_token"));
	tj->vocab.eos_id = find_token(tj, config_token(tj->config, "eos_token"));
	tj->vocab.eot_id = -1;
	tj->vocab.pad_id = find_token(tj, config_token(tj->config, "pad_token"));
	tj->vocab.add_bos = add_bos(root, tj->config) && tj->vocab.bos_id >= 0;
	return 0;
}

int tokjson_load(const char *dir, struct tokjson *tj, char *err, size_t errlen)
{
	memset(tj, 0, sizeof(*tj));
	if (load(dir, tj, err, errlen)) {
		tokjson_free(tj);
		return -1;
	}
	return 0;
}

void tokjson_free(struct tokjson *tj)
{
	json_object_put(tj->json);
	json_object_put(tj->config);
	free(tj->tokens);
	free(tj->types);
	free(tj->merges);
	free(tj->strings);
	memset(tj, 0, sizeof(*tj));
}
