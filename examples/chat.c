/* SPDX-License-Identifier: MIT */
/*
 * A complete streaming chat on the ANPU using only anpurt.h:
 *   anpurt-chat MODEL.gguf [MAX_TOKENS]     then type lines; Ctrl-D ends.
 * Each turn re-renders the whole conversation with the model's chat template;
 * the session prefills only what its KV cache does not hold yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpurt.h"

struct answer {
	char *text;
	size_t len;
};

/* Streaming callback: print each piece as it comes and keep it for the next turn. */
static int on_token(void *user, int32_t id, const char *text, size_t len)
{
	struct answer *a = user;
	char *grown = realloc(a->text, a->len + len + 1);

	(void)id;
	if (!grown)
		return 1;
	a->text = grown;
	memcpy(a->text + a->len, text, len);
	a->text[a->len += len] = '\0';
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	return 0;
}

static int fail(const char *what)
{
	fprintf(stderr, "anpurt-chat: %s: %s\n", what, anpurt_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	struct anpurt_chat_message msgs[64];
	struct anpurt_model *model;
	struct anpurt_engine *engine;
	struct anpurt_session *session;
	struct anpurt_generate_params gp = anpurt_generate_default_params();
	struct anpurt_generate_stats st;
	char line[4096];
	size_t n_msgs = 0, i;
	int ret = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return puts("Usage: anpurt-chat MODEL.gguf [MAX_TOKENS] | -h | --help | --version") == EOF;
	if (argc == 2 && !strcmp(argv[1], "--version"))
		return printf("anpurt-chat (anpurt API %d)\n", ANPURT_API_VERSION) < 0;
	if (argc < 2 || argc > 3 || argv[1][0] == '-') {
		fprintf(stderr, "anpurt-chat: %s%s (try anpurt-chat --help)\n", argc < 2 ? "no MODEL.gguf" :
			"unexpected argument ", argc < 2 ? "" : argv[argc > 3 ? 3 : 1]);
		return 2;
	}
	if (anpurt_model_open(argv[1], NULL, &model))
		return fail(argv[1]);
	if (anpurt_engine_load(model, NULL, &engine))
		return fail("load");
	if (anpurt_session_create(engine, NULL, &session))
		return fail("session");
	gp.max_tokens = argc > 2 ? strtoul(argv[2], NULL, 10) : 256;
	gp.on_token = on_token;
	while (!ret && n_msgs + 2 <= 64 && (fputs("> ", stdout), fflush(stdout),
					     fgets(line, sizeof(line), stdin))) {
		struct answer a = { NULL, 0 };
		int32_t *ids;
		size_t n_ids;

		line[strcspn(line, "\n")] = '\0';
		msgs[n_msgs++] = (struct anpurt_chat_message){ "user", strdup(line) };
		if (anpurt_chat_tokenize(anpurt_model_tokenizer(model),
					 anpurt_model_info(model)->chat_template, msgs, n_msgs, NULL,
					 &ids, &n_ids))
			return fail("template");
		gp.user = &a;
		ret = anpurt_generate(session, ids, n_ids, &gp, &st);
		free(ids);
		if (ret)
			return fail("generate");
		msgs[n_msgs++] = (struct anpurt_chat_message){ "assistant", a.text ? a.text : strdup("") };
		fprintf(stderr, "\n[%llu tokens, %.1f tok/s, stop: %s]\n",
			(unsigned long long)st.generated_tokens, st.decode_tok_s,
			anpurt_stop_reason_name(st.stop));
	}
	for (i = 0; i < n_msgs; i++)
		free((char *)msgs[i].content);
	anpurt_session_free(session);
	anpurt_engine_free(engine);
	anpurt_model_free(model);
	return ret;
}
