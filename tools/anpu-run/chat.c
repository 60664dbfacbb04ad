/* SPDX-License-Identifier: MIT */
/*
 * Interactive chat on a terminal: each line is a user turn; the whole
 * conversation is re-rendered and only what follows the cached prefix is
 * prefilled. Ctrl-C stops the current answer (anpurt_session_cancel from the
 * signal handler: an atomic store); a second Ctrl-C, or one at the prompt,
 * exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* The signal handler's view of the session and whether an answer is running. */
static struct anpurt_session *volatile chat_session;
static volatile sig_atomic_t answering, interrupts;

static void on_sigint(int sig)
{
	(void)sig;
	if (answering && !interrupts++ && chat_session) {
		anpurt_session_cancel(chat_session);
		return;
	}
	_exit(130);
}

struct conversation {
	struct anpurt_chat_message *msgs;
	size_t n;
};

static int add(struct conversation *c, const char *role, const char *content)
{
	struct anpurt_chat_message *m = realloc(c->msgs, (c->n + 1) * sizeof(*m));
	char *copy = strdup(content);

	if (!m || !copy) {
		free(copy);
		if (m)
			c->msgs = m;
		return -1;
	}
	c->msgs = m;
	c->msgs[c->n++] = (struct anpurt_chat_message){ role, copy };
	return 0;
}

static int turn(struct gen *g, struct conversation *c)
{
	const struct anpurt_tokenizer *tok = anpurt_model_tokenizer(g->model);
	struct anpurt_generate_stats st;
	int32_t *ids;
	size_t n;
	int ret;

	if (anpurt_chat_tokenize(tok, anpurt_model_info(g->model)->chat_template, c->msgs, c->n,
				 NULL, &ids, &n)) {
		fprintf(stderr, PROG ": %s\n", anpurt_last_error());
		return 1;
	}
	interrupts = 0;
	answering = 1;
	ret = gen_turn(g, ids, n, &st);
	answering = 0;
	free(ids);
	if (!ret) {
		gen_report(&st);
		ret = add(c, "assistant", g->text ? g->text : "") ? 1 : 0;
	}
	return ret;
}

int run_chat(const struct run_opts *o)
{
	struct conversation c = { 0 };
	struct sigaction sa;
	char line[8192];
	struct gen g;
	size_t i;
	int ret = 0;

	if (gen_open(o, &g))
		return 1;
	chat_session = g.session;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	if (o->system && add(&c, "system", o->system))
		ret = 1;
	fprintf(stderr, "chat (%s); Ctrl-C stops an answer, Ctrl-D or a second Ctrl-C exits\n",
		anpurt_model_info(g.model)->chat_template);
	while (!ret) {
		fputs("> ", stdout);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			break;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		ret = add(&c, "user", line) || turn(&g, &c);
	}
	chat_session = NULL;
	for (i = 0; i < c.n; i++)
		free((char *)c.msgs[i].content);
	free(c.msgs);
	gen_close(&g);
	return ret;
}
