/* SPDX-License-Identifier: MIT */
/* Chat templates: one renderer per template kind (chat_template_render.c). */
#ifndef CHAT_TEMPLATE_H
#define CHAT_TEMPLATE_H

#include "anpurt.h"
#include "common/rt_buf.h"

/* What a renderer gets: messages checked (roles known), the date resolved. */
struct chat_input {
	const struct anpurt_chat_message *msgs;
	size_t n;
	int add_generation_prompt;
	int enable_thinking;
	const char *date;
};

/*
 * What the renderers write into: they get &text, and message content goes
 * through chat_put_content(), which finds @segs from it (container_of), so
 * the renderers stay plain text writers.
 */
struct chat_out {
	struct rt_buf text;
	struct rt_buf segs;	/* struct anpurt_chat_segment[], content byte ranges */
};

/* Append @n bytes of message content to @text (the text member of a struct chat_out). */
void chat_put_content(struct rt_buf *text, const char *p, size_t n);

void chat_render_qwen25(struct rt_buf *out, const struct chat_input *in);
void chat_render_qwen3(struct rt_buf *out, const struct chat_input *in);
void chat_render_deepseek_r1(struct rt_buf *out, const struct chat_input *in);
void chat_render_deepseek_r1_distill(struct rt_buf *out, const struct chat_input *in);
void chat_render_deepseek_r1_v2(struct rt_buf *out, const struct chat_input *in);
void chat_render_llama3(struct rt_buf *out, const struct chat_input *in);
void chat_render_llama31(struct rt_buf *out, const struct chat_input *in);

#endif
