/* SPDX-License-Identifier: MIT */
/*
 * anpurt: the ANPU transformer runtime. Runs Qwen2/Qwen2.5/Qwen3 and Llama 3.x
 * models from GGUF files on the NPU through libaccel.
 *
 * Conventions (the same as libaccel's accel.h)
 *  - Every symbol starts with anpurt_ / ANPURT_. Handles are opaque pointers;
 *    every create, open or load function has a matching free.
 *  - Functions return 0 (or a count) on success and a negative errno on failure.
 *    The library never prints. The failing call also leaves a message saying
 *    what was wrong (for a model file: the offset or tensor and the problem),
 *    read with anpurt_last_error() on the same thread.
 *  - Structs whose options will grow are returned by *_default_params() and then
 *    changed field by field, so new fields never break callers.
 *  - The only state outside the handles is the per-thread last-error message.
 *
 * Layout of the library (runtime/src/): model/ (GGUF reader, architecture
 * descriptions) -> text/ (tokenizer, chat templates) and graph/ (per-architecture
 * builders -> libaccel command buffers) -> session/ (KV cache, sampler,
 * generation) -> this API. Arrows point one way.
 */
#ifndef ANPURT_H
#define ANPURT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANPURT_API_VERSION	1

/* ======================================================================= */
/* Errors                                                                  */
/* ======================================================================= */

/*
 * The message of the last failed anpurt_ call on this thread ("" if none has
 * failed). Valid until the next anpurt_ call on the thread.
 */
const char *anpurt_last_error(void);

/* ======================================================================= */
/* Model files (GGUF) and model descriptions                               */
/* ======================================================================= */

/* ======================================================================= */
/* Text: tokenizer                                                         */
/* ======================================================================= */

/*
 * Byte-level BPE tokenizer of a model's vocabulary (tokenizer.ggml.*), exact
 * against the Hugging Face tokenizer for Qwen2/2.5/3 (pre "qwen2",
 * "deepseek-r1-qwen") and Llama 3.x ("llama-bpe"). The model owns it; it is
 * read-only after creation, so any number of threads may use one at a time.
 */
struct anpurt_tokenizer;

/* anpurt_tokenize() flags */
#define ANPURT_TOKENIZE_ADD_BOS		(1u << 0)	/* BOS first if the vocabulary's
							 * add_bos_token says so (Llama 3: yes,
							 * Qwen: no) and the text does not
							 * already start with it */
#define ANPURT_TOKENIZE_NO_SPECIAL	(1u << 1)	/* user content: no added token
							 * (<|im_start|>, <think>, ...) is
							 * matched, all text is plain text */

/*
 * Tokenize @len bytes of @text. Without ANPURT_TOKENIZE_NO_SPECIAL the text is
 * template text (what a chat template renders): the added tokens (special
 * ones and non-special ones such as Qwen3's <think>) are matched whole first,
 * leftmost and longest. Invalid UTF-8 is kept: each invalid byte becomes its
 * byte token. Writes at most @n_max ids and returns how many the text needs
 * (snprintf style: call again with a bigger array when the result > @n_max),
 * or a negative errno.
 */
int anpurt_tokenize(const struct anpurt_tokenizer *tok, const char *text, size_t len,
		    unsigned int flags, int32_t *ids, size_t n_max);

/* Number of token ids (tokenizer.ggml.tokens), special tokens included. */
size_t anpurt_vocab_size(const struct anpurt_tokenizer *tok);

/* Special token ids, or -1 when the vocabulary has none. */
int32_t anpurt_token_bos(const struct anpurt_tokenizer *tok);
int32_t anpurt_token_eos(const struct anpurt_tokenizer *tok);
/* End of turn (<|im_end|>, <|eot_id|>): tokenizer.ggml.eot_token_id or found by name. */
int32_t anpurt_token_eot(const struct anpurt_tokenizer *tok);
/* Does generation stop at @id (EOS or EOT)? */
int anpurt_token_is_eog(const struct anpurt_tokenizer *tok, int32_t id);
/* Is @id a control token (special added token: <|im_start|>, <|begin_of_text|>)? */
int anpurt_token_is_control(const struct anpurt_tokenizer *tok, int32_t id);

/*
 * The vocabulary's string of @id (byte-level form for regular tokens, e.g.
 * "Ġthe"), NUL-terminated, its length in *@len (may be NULL); NULL if @id is
 * out of range. Valid as long as the tokenizer.
 */
const char *anpurt_token_text(const struct anpurt_tokenizer *tok, int32_t id, size_t *len);
/* The bytes @id stands for (" the"; may be part of a UTF-8 sequence); not NUL-terminated. */
const char *anpurt_token_piece(const struct anpurt_tokenizer *tok, int32_t id, size_t *len);
/* The id whose vocabulary string is exactly @text (@len bytes), or -1. */
int32_t anpurt_token_find(const struct anpurt_tokenizer *tok, const char *text, size_t len);

/* detokenizer flags */
#define ANPURT_DETOK_SPECIAL	(1u << 0)	/* render control tokens' text (default: skip) */

/*
 * Ids -> the bytes they stand for, concatenated (no UTF-8 repair: the exact
 * inverse of anpurt_tokenize on valid text). Writes at most @cap bytes and a
 * NUL if room is left; returns the bytes needed (snprintf style) or a
 * negative errno (an id out of range).
 */
long anpurt_detokenize(const struct anpurt_tokenizer *tok, const int32_t *ids, size_t n_ids,
		       unsigned int flags, char *out, size_t cap);

/*
 * Streaming detokenizer for generated text: push ids one at a time, get the
 * text that is complete so far. Bytes of an unfinished UTF-8 sequence (a
 * character split over byte tokens) are held back until it completes; a
 * sequence that can no longer become valid is rendered as U+FFFD, and what is
 * still pending at anpurt_detok_flush() too. The text is always valid UTF-8.
 */
struct anpurt_detok;

int anpurt_detok_create(const struct anpurt_tokenizer *tok, unsigned int flags,
			struct anpurt_detok **out);
/*
 * Add @id; *@text and *@len receive the newly completed text (possibly empty),
 * valid until the next call on @dt. Returns 0 or a negative errno.
 */
int anpurt_detok_push(struct anpurt_detok *dt, int32_t id, const char **text, size_t *len);
/* End of stream: the held-back bytes, as U+FFFD; the detokenizer starts afresh. */
int anpurt_detok_flush(struct anpurt_detok *dt, const char **text, size_t *len);
void anpurt_detok_free(struct anpurt_detok *dt);

/* ======================================================================= */
/* Text: chat templates                                                    */
/* ======================================================================= */

#ifdef __cplusplus
}
#endif

#endif /* ANPURT_H */
