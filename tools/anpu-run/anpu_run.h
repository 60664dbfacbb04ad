/* SPDX-License-Identifier: MIT */
/* anpu-run: what the option parser hands to the commands. */
#ifndef ANPU_RUN_H
#define ANPU_RUN_H

#include <stdio.h>

#include "anpurt.h"
#include "tools/common/tool_json.h"

#define PROG "anpu-run"

enum run_action {
	ACTION_NONE,
	ACTION_INFO,		/* --info */
	ACTION_TOKENIZE,	/* --tokenize */
	ACTION_MEM_NEEDED,	/* --mem-needed */
	ACTION_GENERATE,	/* the default: generate from -p/-f, or chat on a terminal */
};

struct run_opts {
	const char *model_path;		/* -m */
	enum run_action action;
	int json;			/* --json */
	const char *chat_template;	/* --chat-template */
	const char *prompt;		/* -p TEXT */
	const char *prompt_file;	/* -f FILE */
	int no_special;			/* --no-special: the text is user content */
	long n_predict;			/* -n: tokens to generate (default 256) */
	int chat;			/* --chat: the prompt is a user turn */
	const char *system;		/* --system */
	struct anpurt_sampler_params sampling;	/* --temp --top-k --top-p --min-p --repeat-penalty --seed */
	int sampled;			/* a sampling option was given: not plain greedy */
	uint32_t n_ctx;			/* --ctx (0: the runtime's default) */
	unsigned int n_sessions;	/* --sessions: sessions --mem-needed sizes for (default 1) */
	enum anpurt_priority priority;	/* --priority */
	const char *device;		/* --device */
	unsigned int threads;		/* --threads */
	const char *logits_path;	/* --logits FILE */
	const char *session_load;	/* --session-load FILE: restore before the first turn */
	const char *session_save;	/* --session-save FILE: save after every turn */
	const char *trace;		/* --trace FILE: run again under anpu-trace record */
};

/*
 * Parse argv into @o. Returns -1 to go on, or the exit status to leave with
 * (0 after --help/--version, 2 after a usage error, printed as one line).
 */
int run_parse_args(int argc, char **argv, struct run_opts *o);

/*
 * --trace FILE: run this command line, without --trace, under
 * `anpu-trace record -o FILE` (the anpu-trace next to this program); returns
 * the exit status only if that cannot be started.
 */
int run_traced(int argc, char **argv, const char *trace_path);

/* --info: print the model's description (text or JSON) to @out; exit status. */
int run_info(const struct run_opts *o, FILE *out);

/*
 * --mem-needed: the device memory (bytes) the model with --sessions sessions
 * of --ctx tokens needs, on one line of @out (JSON with --json); exit status.
 */
int run_mem_needed(const struct run_opts *o, FILE *out);

/* The prompt of -p or -f into a malloc'ed buffer (not NUL-terminated); 0 or -errno. */
int run_read_prompt(const struct run_opts *o, char **text, size_t *len);

/* --tokenize: print the prompt's token ids as a JSON array to @out; exit status. */
int run_tokenize(const struct run_opts *o, FILE *out);

/* Interactive chat on a terminal (no prompt given); exit status. */
int run_chat(const struct run_opts *o);

/* Generation (-p/-f) or, with no prompt on a terminal, interactive chat; exit status. */
int run_generate(const struct run_opts *o);

#endif
