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
#include <unistd.h>

#include "anpu_run.h"
#include "anpu_version.h"

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
	OPT_N_PREDICT = 'n',
	OPT_CHAT = 0x300,
	OPT_SYSTEM,
	OPT_TEMP,
	OPT_TOP_K,
	OPT_TOP_P,
	OPT_MIN_P,
	OPT_REPEAT_PENALTY,
	OPT_SEED,
	OPT_CTX,
	OPT_PRIORITY,
	OPT_DEVICE,
	OPT_THREADS,
	OPT_LOGITS,
	OPT_SESSION_LOAD,
	OPT_SESSION_SAVE,
	OPT_TRACE,
	OPT_MEM_NEEDED,
	OPT_SESSIONS,
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
	{ "mem-needed", OPT_MEM_NEEDED, NULL, "print the device memory (bytes) the model needs with --sessions of --ctx tokens" },
	{ "sessions", OPT_SESSIONS, "N", "with --mem-needed: sessions to size for (default 1, as a run uses)" },
	{ "tokenize", OPT_TOKENIZE, NULL, "print the prompt's token ids as a JSON array" },
	{ "prompt", OPT_PROMPT, "TEXT", "the prompt, as template text (added tokens such as <|im_start|> match)" },
	{ "file", OPT_PROMPT_FILE, "FILE", "read the prompt from FILE (- for standard input)" },
	{ "no-special", OPT_NO_SPECIAL, NULL, "the prompt is user content: no added token is ever matched" },
	{ "n-predict", OPT_N_PREDICT, "N", "generate at most N tokens (default 256)" },
	{ "chat", OPT_CHAT, NULL, "the prompt is a user turn, rendered with the chat template" },
	{ "system", OPT_SYSTEM, "TEXT", "with --chat or interactive: a system message" },
	{ "temp", OPT_TEMP, "T", "sampling temperature (default 0: greedy on the NPU)" },
	{ "top-k", OPT_TOP_K, "K", "sample from the K most likely tokens (default 40; 0: off)" },
	{ "top-p", OPT_TOP_P, "P", "nucleus sampling mass (default 0.95; 1: off)" },
	{ "min-p", OPT_MIN_P, "P", "drop tokens below P times the top probability (default 0.05)" },
	{ "repeat-penalty", OPT_REPEAT_PENALTY, "R", "repetition penalty over the last 64 tokens (default 1: off)" },
	{ "seed", OPT_SEED, "S", "sampling seed (same seed, same input: same output)" },
	{ "ctx", OPT_CTX, "N", "context length of the session (default 4096, capped by the model's)" },
	{ "priority", OPT_PRIORITY, "P", "low, normal, high or realtime (libaccel's queues)" },
	{ "device", OPT_DEVICE, "DEV", "sim (in-process NPU) or /dev/accel/accelN" },
	{ "threads", OPT_THREADS, "N", "model worker threads of the in-process NPU (0: online cores)" },
	{ "logits", OPT_LOGITS, "FILE", "write float32 logits of the last prompt position and each step" },
	{ "session-load", OPT_SESSION_LOAD, "FILE", "start from a saved session: its tokens shared with the prompt are not run again" },
	{ "session-save", OPT_SESSION_SAVE, "FILE", "save the session (KV cache, tokens) to FILE after each turn" },
	{ "trace", OPT_TRACE, "FILE", "record a Chrome trace of the run to FILE (runs under anpu-trace record)" },
	{ "json", OPT_JSON, NULL, "print as JSON" },
	{ "chat-template", OPT_CHAT_TEMPLATE, "NAME", "chat template by name instead of the detected one" },
	{ "version", OPT_VERSION, NULL, "print the version and exit" },
	{ "help", OPT_HELP, NULL, "print this help and exit" },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const char *opt_name(int id)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opts[i].id == id)
			return opts[i].name;
	return "?";
}

static void usage_line(FILE *f)
{
	fprintf(f, "Usage: " PROG " -m FILE [-p TEXT | -f FILE] [-n N] [--chat] [--system S]"
		" [--temp T --top-k K --top-p P --min-p M --repeat-penalty R --seed S] [--ctx N]"
		" [--priority P] [--device DEV] [--threads N] [--json] [--logits FILE]"
		" [--session-load FILE] [--session-save FILE] [--trace FILE]"
		" | -m FILE --info [--json] | -m FILE --mem-needed [--ctx N] [--sessions N] [--json]"
		" | -m FILE --tokenize [--no-special] (-p TEXT | -f FILE)"
		" [-h|--help] [--version]\n");
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

/* A number option's value: the whole argument must parse, within [lo, hi]. */
static int number(const char *arg, double lo, double hi, double *v)
{
	char *end;

	*v = strtod(arg, &end);
	return end != arg && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

static int priority(const char *arg, enum anpurt_priority *p)
{
	static const char *const names[] = { "low", "normal", "high", "realtime" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (!strcmp(arg, names[i])) {
			*p = (enum anpurt_priority)i;
			return 0;
		}
	return -1;
}

static int apply_generate(int id, const char *arg, struct run_opts *o)
{
	double v = 0;
	int bad = 0;

	switch (id) {
	case OPT_N_PREDICT:
		bad = number(arg, 1, 1e9, &v);
		o->n_predict = (long)v;
		break;
	case OPT_TEMP:
		bad = number(arg, 0, 100, &v);
		o->sampling.temperature = (float)v;
		o->sampled = 1;
		break;
	case OPT_TOP_K:
		bad = number(arg, 0, 1e9, &v);
		o->sampling.top_k = (uint32_t)v;
		break;
	case OPT_TOP_P:
		bad = number(arg, 0, 1, &v);
		o->sampling.top_p = (float)v;
		break;
	case OPT_MIN_P:
		bad = number(arg, 0, 1, &v);
		o->sampling.min_p = (float)v;
		break;
	case OPT_REPEAT_PENALTY:
		bad = number(arg, 1e-3, 100, &v);
		o->sampling.repeat_penalty = (float)v;
		break;
	case OPT_SEED:
		bad = number(arg, 0, 1.8e19, &v);
		o->sampling.seed = strtoull(arg, NULL, 0);
		break;
	case OPT_CTX:
		bad = number(arg, 1, 1 << 24, &v);
		o->n_ctx = (uint32_t)v;
		break;
	case OPT_SESSIONS:
		bad = number(arg, 1, 4096, &v);
		o->n_sessions = (unsigned int)v;
		break;
	case OPT_THREADS:
		bad = number(arg, 0, 1024, &v);
		o->threads = (unsigned int)v;
		break;
	case OPT_PRIORITY:
		bad = priority(arg, &o->priority);
		break;
	case OPT_CHAT:
		o->chat = 1;
		break;
	case OPT_SYSTEM:
		o->system = arg;
		break;
	case OPT_DEVICE:
		o->device = arg;
		break;
	case OPT_LOGITS:
		o->logits_path = arg;
		break;
	case OPT_SESSION_LOAD:
		o->session_load = arg;
		break;
	case OPT_SESSION_SAVE:
		o->session_save = arg;
		break;
	case OPT_TRACE:
		o->trace = arg;
		break;
	default:
		return 2;
	}
	if (bad) {
		char what[160];

		snprintf(what, sizeof(what), "%s for --%s", arg, opt_name(id));
		return usage_error("bad value %s", what);
	}
	return -1;
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
	case OPT_MEM_NEEDED:
		o->action = ACTION_MEM_NEEDED;
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
		printf(PROG " " ANPU_VERSION " (ANPU runtime, anpurt API %d)\n", ANPURT_API_VERSION);
		return 0;
	}
	return apply_generate(id, arg, o);
}

int run_parse_args(int argc, char **argv, struct run_opts *o)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS * 2 + 2] = ":";
	size_t i, s = 1;
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->n_predict = 256;
	o->n_sessions = 1;
	o->priority = ANPURT_PRIORITY_NORMAL;
	o->sampling = anpurt_sampler_default_params();
	o->sampling.temperature = 0.0f;
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
			/* a long option's optopt is its id, not a character: name it as given */
			const char *name = optopt && strncmp(argv[optind - 1], "--", 2) ?
					   shortname : argv[optind - 1];

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
		o->action = ACTION_GENERATE;
	if (o->prompt && o->prompt_file)
		return usage_error("%s", "give -p TEXT or -f FILE, not both");
	if (o->action == ACTION_TOKENIZE && !o->prompt && !o->prompt_file)
		return usage_error("%s", "--tokenize needs a prompt: -p TEXT or -f FILE");
	if (o->action == ACTION_GENERATE && !o->prompt && !o->prompt_file && !isatty(STDIN_FILENO))
		return usage_error("%s", "no prompt: give -p TEXT or -f FILE (or run on a terminal to chat)");
	if (!o->model_path)
		return usage_error("%s", "no model: give -m FILE");
	return -1;
}
