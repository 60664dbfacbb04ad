/* SPDX-License-Identifier: MIT */
/*
 * Chat templates: names, detection from the Jinja text, rendering entry point.
 * Detection looks for each template's distinctive markers (not whole-text
 * equality), so that the same template with other whitespace, tool sections or
 * comments is still recognised; templates that render our conversations
 * differently (vision, always-on generation prompts) are not matched.
 */
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "common/rt_error.h"
#include "text/chat_template.h"

typedef void (*chat_render_fn)(struct rt_buf *out, const struct chat_input *in);

static const struct chat_kind {
	const char *name;
	chat_render_fn render;
} kinds[] = {
	{ "qwen2.5", chat_render_qwen25 },
	{ "qwen3", chat_render_qwen3 },
	{ "deepseek-r1", chat_render_deepseek_r1 },
	{ "deepseek-r1-distill", chat_render_deepseek_r1_distill },
	{ "deepseek-r1-v2", chat_render_deepseek_r1_v2 },
	{ "llama3", chat_render_llama3 },
	{ "llama3.1", chat_render_llama31 },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static const char *const names[N_KINDS + 1] = {
	"qwen2.5", "qwen3", "deepseek-r1", "deepseek-r1-distill", "deepseek-r1-v2", "llama3",
	"llama3.1", NULL,
};

#define CHOICES "qwen2.5, qwen3, deepseek-r1, deepseek-r1-distill, deepseek-r1-v2, llama3, llama3.1"

const char *const *anpurt_chat_template_names(void)
{
	return names;
}

struct anpurt_chat_params anpurt_chat_default_params(void)
{
	struct anpurt_chat_params p = {
		.add_generation_prompt = 1,
		.enable_thinking = 1,
		.date = NULL,
	};
	return p;
}

static int has(const char *text, size_t len, const char *marker)
{
	size_t n = strlen(marker), i;

	for (i = 0; i + n <= len; i++)
		if (text[i] == marker[0] && !memcmp(text + i, marker, n))
			return 1;
	return 0;
}

static const char *detect(const char *t, size_t len)
{
	if (has(t, len, "<|im_start|>")) {
		if (has(t, len, "image") || has(t, len, "vision"))
			return NULL;
		if (has(t, len, "enable_thinking") && has(t, len, "</think>"))
			return "qwen3";
		if (has(t, len, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."))
			return "qwen2.5";
		return NULL;
	}
	/* DeepSeek-R1: drops earlier think blocks; revisions differ in system prompts */
	if (has(t, len, "<｜User｜>") && has(t, len, "<｜Assistant｜>") &&
	    has(t, len, "split('</think>')")) {
		int joins_systems = has(t, len, "is_first_sp"), last_user = has(t, len, "is_last_user");

		if (joins_systems && last_user)
			return "deepseek-r1-v2";
		if (joins_systems || last_user)
			return NULL;
		return has(t, len, "<｜Assistant｜><think>") ? "deepseek-r1-distill" : "deepseek-r1";
	}
	if (!has(t, len, "<|start_header_id|>") || !has(t, len, "<|eot_id|>") ||
	    !has(t, len, "add_generation_prompt") || has(t, len, "image"))
		return NULL;
	/* Llama 3.1/3.2: the system header with both dates, nothing added to it */
	if (has(t, len, "Cutting Knowledge Date: December 2023") && has(t, len, "Today Date: ") &&
	    has(t, len, "date_string") && !has(t, len, "Enable deep thinking"))
		return "llama3.1";
	/* Llama 3.0: every message in its header, BOS before the first, no system header */
	if (has(t, len, "bos_token + content") && has(t, len, "| trim + '<|eot_id|>'") &&
	    !has(t, len, "<|start_header_id|>system"))
		return "llama3";
	return NULL;
}

int anpurt_chat_template_detect(const char *text, size_t len, const char **name)
{
	const char *kind = text ? detect(text, len) : NULL;

	if (!kind)
		return rt_error(-ENOENT, "%s: not a template the runtime knows (it renders "
				CHOICES "; choose one by name)",
				text && len ? "the chat template" : "no chat template in the file");
	*name = kind;
	rt_error_clear();
	return 0;
}

static const struct chat_kind *find(const char *name)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

int anpurt_chat_template_lookup(const char *name, const char **canonical)
{
	const struct chat_kind *k = find(name);

	if (!k)
		return rt_error(-EINVAL, "unknown chat template '%s' (the choices: " CHOICES ")",
				name);
	*canonical = k->name;
	return 0;
}

/* "%d %b %Y" in English whatever the locale: the template's strftime_now format. */
static void today(char *buf, size_t n)
{
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(buf, n, "%02d %s %04d", tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900);
}

void chat_put_content(struct rt_buf *text, const char *p, size_t n)
{
	struct chat_out *out = (struct chat_out *)((char *)text - offsetof(struct chat_out, text));
	struct anpurt_chat_segment seg = { text->len, n }, *last;
	size_t n_segs = out->segs.len / sizeof(seg);

	if (!n)
		return;
	last = n_segs ? (struct anpurt_chat_segment *)out->segs.p + n_segs - 1 : NULL;
	if (last && last->offset + last->len == seg.offset)
		last->len += n;		/* adjacent content is one range */
	else
		rt_buf_put(&out->segs, (const char *)&seg, sizeof(seg));
	rt_buf_put(text, p, n);
}

int anpurt_chat_render_segments(const char *name, const struct anpurt_chat_message *msgs,
				size_t n, const struct anpurt_chat_params *params, char **text,
				size_t *len, struct anpurt_chat_segment **segs, size_t *n_segs)
{
	struct anpurt_chat_params defaults = anpurt_chat_default_params();
	const struct chat_kind *k = find(name ? name : "");
	struct chat_out out = { 0 };
	struct chat_input in;
	char date[32];
	size_t i;
	int ret;

	*text = NULL;
	if (segs)
		*segs = NULL;
	if (!params)
		params = &defaults;
	if (!k)
		return rt_error(-EINVAL, "unknown chat template '%s' (the choices: " CHOICES ")",
				name ? name : "(null)");
	for (i = 0; i < n; i++) {
		if (!msgs[i].role || !msgs[i].content)
			return rt_error(-EINVAL, "message %zu has no %s", i,
					msgs[i].role ? "content" : "role");
		if (strcmp(msgs[i].role, "system") && strcmp(msgs[i].role, "user") &&
		    strcmp(msgs[i].role, "assistant"))
			return rt_error(-EINVAL, "message %zu: role '%s' is not supported (system,"
					" user and assistant are)", i, msgs[i].role);
	}
	if (!params->date)
		today(date, sizeof(date));
	in.msgs = msgs;
	in.n = n;
	in.add_generation_prompt = params->add_generation_prompt;
	in.enable_thinking = params->enable_thinking;
	in.date = params->date ? params->date : date;
	k->render(&out.text, &in);
	if (out.segs.failed) {
		rt_buf_release(&out.segs);
		rt_buf_release(&out.text);
		return rt_error(-ENOMEM, "chat template: out of memory");
	}
	ret = rt_buf_finish(&out.text, text, len);
	if (ret || !segs) {
		rt_buf_release(&out.segs);
		return ret;
	}
	*n_segs = out.segs.len / sizeof(**segs);
	*segs = (struct anpurt_chat_segment *)out.segs.p;	/* malloc'd by rt_buf */
	return 0;
}

int anpurt_chat_render(const char *name, const struct anpurt_chat_message *msgs, size_t n,
		       const struct anpurt_chat_params *params, char **text, size_t *len)
{
	return anpurt_chat_render_segments(name, msgs, n, params, text, len, NULL, NULL);
}
