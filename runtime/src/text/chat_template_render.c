/* SPDX-License-Identifier: MIT */
/*
 * The renderers, one per template kind, each a transcription of what its Jinja
 * template does for system/user/assistant turns (the Jinja texts are in the
 * pinned npm packages; tests/runtime/ref/gen_templates.mjs renders them with
 * @huggingface/jinja and the C test compares). String operations follow that
 * Jinja implementation: `trim` is JavaScript's String.prototype.trim, split /
 * strip / lstrip / rstrip with an argument are Python's.
 */
#include <string.h>

#include "text/chat_template.h"

struct span {
	const char *p;
	size_t len;
};

static struct span span_of(const char *s)
{
	struct span sp = { s, strlen(s) };

	return sp;
}

/* Every put() is message content (markup goes through rt_buf_puts). */
static void put(struct rt_buf *b, struct span s)
{
	chat_put_content(b, s.p, s.len);
}

/* Index of the first (last) occurrence of @needle in @s, or -1. */
static long find_first(struct span s, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= s.len; i++)
		if (!memcmp(s.p + i, needle, n))
			return (long)i;
	return -1;
}

static long find_last(struct span s, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n > s.len)
		return -1;
	for (i = s.len - n + 1; i-- > 0;)
		if (!memcmp(s.p + i, needle, n))
			return (long)i;
	return -1;
}

/* Python's s.split(sep)[-1] and s.split(sep)[0]. */
static struct span after_last(struct span s, const char *sep)
{
	long at = find_last(s, sep);

	if (at >= 0) {
		s.p += (size_t)at + strlen(sep);
		s.len -= (size_t)at + strlen(sep);
	}
	return s;
}

static struct span before_first(struct span s, const char *sep)
{
	long at = find_first(s, sep);

	if (at >= 0)
		s.len = (size_t)at;
	return s;
}

static struct span lstrip_nl(struct span s)
{
	while (s.len && s.p[0] == '\n') {
		s.p++;
		s.len--;
	}
	return s;
}

static struct span rstrip_nl(struct span s)
{
	while (s.len && s.p[s.len - 1] == '\n')
		s.len--;
	return s;
}

/* JavaScript's whitespace (String.prototype.trim): WhiteSpace and LineTerminator. */
static int js_space(unsigned int cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

/* The code point of the valid UTF-8 sequence of @n bytes at @p, or ~0u. */
static unsigned int utf8_at(const unsigned char *p, size_t n)
{
	if (n == 1 && p[0] < 0x80)
		return p[0];
	if (n == 2 && (p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80)
		return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	if (n == 3 && (p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80)
		return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
	return ~0u;
}

/* Length of a whitespace character starting (or, @backwards, ending) at the edge, else 0. */
static size_t space_len(struct span s, int backwards)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t n;

	for (n = 1; n <= 3 && n <= s.len; n++) {
		const unsigned char *at = backwards ? p + s.len - n : p;

		if (js_space(utf8_at(at, n)))
			return n;
	}
	return 0;
}

static struct span js_trim(struct span s)
{
	size_t n;

	while ((n = space_len(s, 0))) {
		s.p += n;
		s.len -= n;
	}
	while ((n = space_len(s, 1)))
		s.len -= n;
	return s;
}

static int is_role(const struct anpurt_chat_message *m, const char *role)
{
	return !strcmp(m->role, role);
}

/* ---- ChatML: Qwen2.5 ---- */

static void chatml_turn(struct rt_buf *b, const char *role, struct span content)
{
	rt_buf_puts(b, "<|im_start|>");
	rt_buf_puts(b, role);
	rt_buf_puts(b, "\n");
	put(b, content);
	rt_buf_puts(b, "<|im_end|>\n");
}

void chat_render_qwen25(struct rt_buf *b, const struct chat_input *in)
{
	size_t i;

	if (in->n && is_role(&in->msgs[0], "system"))
		chatml_turn(b, "system", span_of(in->msgs[0].content));
	else
		rt_buf_puts(b, "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are"
			    " a helpful assistant.<|im_end|>\n");
	for (i = 0; i < in->n; i++)
		if (!(i == 0 && is_role(&in->msgs[0], "system")))
			chatml_turn(b, in->msgs[i].role, span_of(in->msgs[i].content));
	if (in->add_generation_prompt)
		rt_buf_puts(b, "<|im_start|>assistant\n");
}

/* ---- Qwen3 ---- */

static int is_tool_response(struct span s)
{
	static const char open[] = "<tool_response>", close[] = "</tool_response>";

	return s.len >= sizeof(open) - 1 && !memcmp(s.p, open, sizeof(open) - 1) &&
	       s.len >= sizeof(close) - 1 &&
	       !memcmp(s.p + s.len - (sizeof(close) - 1), close, sizeof(close) - 1);
}

/* The index of the last user turn that is not a tool response (n - 1 when none). */
static size_t qwen3_last_query(const struct chat_input *in)
{
	size_t i;

	for (i = in->n; i-- > 0;)
		if (is_role(&in->msgs[i], "user") && !is_tool_response(span_of(in->msgs[i].content)))
			return i;
	return in->n ? in->n - 1 : 0;
}

static void qwen3_assistant(struct rt_buf *b, const struct chat_input *in, size_t i,
			    size_t last_query)
{
	struct span whole = span_of(in->msgs[i].content), content = whole;
	struct span reasoning = { "", 0 };

	if (find_first(whole, "</think>") >= 0) {
		content = lstrip_nl(after_last(whole, "</think>"));
		reasoning = lstrip_nl(after_last(rstrip_nl(before_first(whole, "</think>")),
						 "<think>"));
	}
	rt_buf_puts(b, "<|im_start|>assistant\n");
	if (in->n && i > last_query && (i == in->n - 1 || reasoning.len)) {
		rt_buf_puts(b, "<think>\n");
		put(b, rstrip_nl(lstrip_nl(reasoning)));
		rt_buf_puts(b, "\n</think>\n\n");
		put(b, lstrip_nl(content));
	} else {
		put(b, content);
	}
	rt_buf_puts(b, "<|im_end|>\n");
}

void chat_render_qwen3(struct rt_buf *b, const struct chat_input *in)
{
	size_t last_query = qwen3_last_query(in), i;

	if (in->n && is_role(&in->msgs[0], "system"))
		chatml_turn(b, "system", span_of(in->msgs[0].content));
	for (i = 0; i < in->n; i++) {
		const struct anpurt_chat_message *m = &in->msgs[i];

		if (is_role(m, "user") || (is_role(m, "system") && i > 0))
			chatml_turn(b, m->role, span_of(m->content));
		else if (is_role(m, "assistant"))
			qwen3_assistant(b, in, i, last_query);
	}
	if (in->add_generation_prompt) {
		rt_buf_puts(b, "<|im_start|>assistant\n");
		if (!in->enable_thinking)
			rt_buf_puts(b, "<think>\n\n</think>\n\n");
	}
}

/* ---- DeepSeek-R1 ---- */

#define DS_BOS		"<｜begin▁of▁sentence｜>"
#define DS_USER		"<｜User｜>"
#define DS_ASSISTANT	"<｜Assistant｜>"
#define DS_EOS		"<｜end▁of▁sentence｜>"

static void deepseek_r1(struct rt_buf *b, const struct chat_input *in, const char *prompt)
{
	const char *system = "";
	size_t i;

	for (i = 0; i < in->n; i++)	/* the last system message wins */
		if (is_role(&in->msgs[i], "system"))
			system = in->msgs[i].content;
	rt_buf_puts(b, DS_BOS);
	put(b, span_of(system));
	for (i = 0; i < in->n; i++) {
		const struct anpurt_chat_message *m = &in->msgs[i];

		if (is_role(m, "user")) {
			rt_buf_puts(b, DS_USER);
			put(b, span_of(m->content));
		} else if (is_role(m, "assistant")) {
			rt_buf_puts(b, DS_ASSISTANT);
			put(b, after_last(span_of(m->content), "</think>"));
			rt_buf_puts(b, DS_EOS);
		}
	}
	if (in->add_generation_prompt)
		rt_buf_puts(b, prompt);
}

void chat_render_deepseek_r1(struct rt_buf *b, const struct chat_input *in)
{
	deepseek_r1(b, in, DS_ASSISTANT);
}

/* The distilled models' template: the generation prompt opens the think block. */
void chat_render_deepseek_r1_distill(struct rt_buf *b, const struct chat_input *in)
{
	deepseek_r1(b, in, DS_ASSISTANT "<think>\n");
}

void chat_render_deepseek_r1_v2(struct rt_buf *b, const struct chat_input *in)
{
	int first_system = 1, last_user = 0;
	size_t i;

	rt_buf_puts(b, DS_BOS);
	for (i = 0; i < in->n; i++) {	/* every system message, joined */
		if (!is_role(&in->msgs[i], "system"))
			continue;
		if (!first_system)
			rt_buf_puts(b, "\n\n");
		put(b, span_of(in->msgs[i].content));
		first_system = 0;
	}
	for (i = 0; i < in->n; i++) {
		const struct anpurt_chat_message *m = &in->msgs[i];

		if (is_role(m, "user")) {
			rt_buf_puts(b, DS_USER);
			put(b, span_of(m->content));
			rt_buf_puts(b, DS_ASSISTANT);
			last_user = 1;
		} else if (is_role(m, "assistant")) {
			put(b, after_last(span_of(m->content), "</think>"));
			rt_buf_puts(b, DS_EOS);
			last_user = 0;
		}
	}
	if (in->add_generation_prompt && !last_user)
		rt_buf_puts(b, DS_ASSISTANT);
}

/* ---- Llama 3.x ---- */

#define LLAMA_BOS	"<|begin_of_text|>"

static void llama_turn(struct rt_buf *b, const char *role, const char *content)
{
	rt_buf_puts(b, "<|start_header_id|>");
	rt_buf_puts(b, role);
	rt_buf_puts(b, "<|end_header_id|>\n\n");
	put(b, js_trim(span_of(content)));
	rt_buf_puts(b, "<|eot_id|>");
}

static void llama_generation_prompt(struct rt_buf *b, const struct chat_input *in)
{
	if (in->add_generation_prompt)
		rt_buf_puts(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

void chat_render_llama3(struct rt_buf *b, const struct chat_input *in)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		if (i == 0)
			rt_buf_puts(b, LLAMA_BOS);
		llama_turn(b, in->msgs[i].role, in->msgs[i].content);
	}
	llama_generation_prompt(b, in);
}

void chat_render_llama31(struct rt_buf *b, const struct chat_input *in)
{
	size_t i = 0;

	rt_buf_puts(b, LLAMA_BOS "<|start_header_id|>system<|end_header_id|>\n\n"
		    "Cutting Knowledge Date: December 2023\nToday Date: ");
	rt_buf_puts(b, in->date);
	rt_buf_puts(b, "\n\n");
	if (in->n && is_role(&in->msgs[0], "system"))
		put(b, js_trim(span_of(in->msgs[i++].content)));
	rt_buf_puts(b, "<|eot_id|>");
	for (; i < in->n; i++)
		llama_turn(b, in->msgs[i].role, in->msgs[i].content);
	llama_generation_prompt(b, in);
}
