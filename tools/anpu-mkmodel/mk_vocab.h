/* SPDX-License-Identifier: MIT */
/*
 * mk_vocab.h - a Hugging Face tokenizer.json turned into the tokenizer.ggml.* arrays
 * exactly as llama.cpp's convert_hf_to_gguf.py does for byte-level BPE models.
 */
#ifndef MK_VOCAB_H
#define MK_VOCAB_H

#include <stddef.h>
#include <stdint.h>

/* llama.cpp's token types (gguf.TokenType) */
enum { MK_TOK_NORMAL = 1, MK_TOK_CONTROL = 3, MK_TOK_USER_DEFINED = 4, MK_TOK_UNUSED = 5 };

struct mk_vocab {
	int n_tokens;       /* = the embedding's row count */
	char **tokens;      /* n_tokens strings */
	int32_t *types;     /* n_tokens token types */
	int n_merges;
	char **merges;      /* "a b" */
	char *chat_template; /* tokenizer_config.json's chat_template, NULL if none */
};

/*
 * Reads DIR/tokenizer.json and DIR/tokenizer_config.json; pads to n_tokens with
 * "[PAD<id>]" UNUSED tokens. Returns 0 or a negative errno with a message in err.
 */
int mk_vocab_load(struct mk_vocab *v, const char *dir, int n_tokens, char *err, size_t errlen);
void mk_vocab_free(struct mk_vocab *v);
/* id of a token's text, -1 if absent */
int mk_vocab_find(const struct mk_vocab *v, const char *text);

/*
 * Reads the chat template stored for `model` (e.g. "library/qwen2.5:0.5b") in
 * @huggingface/ollama-utils' src/chat-template-automap.ts: the JavaScript string
 * literal after `model: "<model>",` and `gguf: `. *out is malloc'ed.
 */
int mk_template_from_automap(const char *ts_path, const char *model, char **out, char *err,
			     size_t errlen);

#endif
