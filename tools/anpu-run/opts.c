/* SPDX-License-Identifier: MIT */
/*
 * anpu-run's options: one table gives getopt_long its options and --help its
 * lines, so a new option is one entry (part 2 adds prompts, sampling, context,
 * device...) plus its case in apply().
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anpu_run.h"

enum opt_id {
	OPT_MODEL = 'm',
	OPT_HELP = 'h',
	OPT_VERSION = 0x100,
	OPT_INFO,
	OPT_JSON,
	OPT_CHAT_TEMPLATE,
	OPT_PROMPT = 'p',
	OPT_PROMPT_FILE = 'f',
	OPT_TOKENIZE = 0x200,
	OPT_NO_SPECIAL,
};

struct opt {
	const char *name;	/* long name */
	int id;			/* enum opt_id (a letter when there is a short form) */
	const char *arg;	/* argument's name in --help, NULL: none */
	const char *help;
};

static const struct opt opts[] = {
	{ "model", OPT_MODEL, "FILE", "the model (GGUF: qwen2, qwen3 or llama)" },
	{ "info", OPT_INFO, NULL, "describe the model: architecture, shapes, sizes, tensor types" },
	{ "tokenize", OPT_TOKENIZE, NULL, "print the prompt's token ids as a JSON array" },
	{ "prompt", OPT_PROMPT, "TEXT", "the prompt, as template text (added tokens such as <|im_start|> match)" },
	{ "file", OPT_PROMPT_FILE, "FILE", "read the prompt from FILE (- for standard input)" },
	{ "no-special", OPT_NO_SPECIAL, NULL, "the prompt is user content: no added token is ever matched" },
	{ "json", OPT_JSON, NULL, "print as JSON" },
	{ "chat-template", OPT_CHAT_TEMPLATE, "NAME", "chat template by name instead of the detected one" },
	{ "version", OPT_VERSION, NULL, "print the version and exit" },
	{ "help", OPT_HELP, NULL, "print this help and exit" },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void usage_line(FILE *f)
{
	fprintf(f, "Usage: " PROG " -m FILE (--info [--json] [--chat-template NAME] |"
		" --tokenize [--no-special] (-p TEXT | -f FILE)) [-h|--help] [--version]\n");
}

static void help(void)
{
	const char *const *names = anpurt_chat_template_names();
	char left[40];
	size_t i;

	usage_line(stdout);
	printf("Run Qwen2/Qwen2.5/Qwen3 and Llama 3.x GGUF models on the ANPU.\n\nOptions:\n");
	for (i = 0; i < N_OPTS; i++) {
		int n = opts[i].id < 0x100 ? snprintf(left, sizeof(left), "-%c, ", opts[i].id) : 0;

		snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s", opts[i].name,
			 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		printf("  %-24s %s\n", left, opts[i].help);
	}
	printf("\nChat templates:");
	for (i = 0; names[i]; i++)
		printf(" %s", names[i]);
	printf("\nExit status: 0 success, 1 error (the message says which), 2 bad usage.\n");
}

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (" PROG " --help lists the options)\n");
	return 2;
}

static int apply(int id, const char *arg, struct run_opts *o)
{
	switch (id) {
	case OPT_MODEL:
		o->model_path = arg;
		return -1;
	case OPT_INFO:
		o->action = ACTION_INFO;
		return -1;
	case OPT_JSON:
		o->json = 1;
		return -1;
	case OPT_CHAT_TEMPLATE:
		o->chat_template = arg;
		return -1;
	case OPT_TOKENIZE:
		o->action = ACTION_TOKENIZE;
		return -1;
	case OPT_PROMPT:
		o->prompt = arg;
		return -1;
	case OPT_PROMPT_FILE:
		o->prompt_file = arg;
		return -1;
	case OPT_NO_SPECIAL:
		o->no_special = 1;
		return -1;
	case OPT_HELP:
		help();
		return 0;
	case OPT_VERSION:
		printf(PROG " (ANPU runtime, anpurt API %d)\n", ANPURT_API_VERSION);
		return 0;
	}
	return 2;
}

int run_parse_args(int argc, char **argv, struct run_opts *o)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS * 2 + 2] = ":";
	size_t i, s = 1;
	int c, ret;

	memset(o, 0, sizeof(*o));
	memset(longopts, 0, sizeof(longopts));
	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = opts[i].arg ? required_argument : no_argument;
		longopts[i].val = opts[i].id;
		if (opts[i].id < 0x100) {
			shortopts[s++] = (char)opts[i].id;
			if (opts[i].arg)
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = '\0';
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			char shortname[3] = { '-', (char)optopt, '\0' };
			const char *name = optopt ? shortname : argv[optind - 1];

			return usage_error(c == '?' ? "unknown option '%s'" :
					   "option '%s' needs an argument", name);
		}
		ret = apply(c, optarg, o);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->action == ACTION_NONE)
		return usage_error("%s", "nothing to do: give --info or --tokenize");
	if (o->prompt && o->prompt_file)
		return usage_error("%s", "give -p TEXT or -f FILE, not both");
	if (o->action == ACTION_TOKENIZE && !o->prompt && !o->prompt_file)
		return usage_error("%s", "--tokenize needs a prompt: -p TEXT or -f FILE");
	if (!o->model_path)
		return usage_error("%s", "no model: give -m FILE");
	return -1;
}
