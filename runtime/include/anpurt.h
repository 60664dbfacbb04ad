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

/*
 * Marks the functions libanpurt exports: the shared library is built with
 * -fvisibility=hidden, so nothing else (the GGUF reader, tokenizer, graph
 * builders) is visible to its users.
 */
#if defined(__GNUC__)
#define ANPURT_API	__attribute__((visibility("default")))
#else
#define ANPURT_API
#endif

/* ======================================================================= */
/* Errors                                                                  */
/* ======================================================================= */

/*
 * The message of the last failed anpurt_ call on this thread ("" if none has
 * failed). Valid until the next anpurt_ call on the thread.
 */
ANPURT_API const char *anpurt_last_error(void);

/* ======================================================================= */
/* Model files (GGUF) and model descriptions                               */
/* ======================================================================= */

/*
 * A model: a GGUF file mapped read-only, checked (every field of the file, then
 * every tensor's shape against the architecture's hyper-parameters) and
 * described. Architectures: qwen2 (Qwen2, Qwen2.5, DeepSeek-R1-Distill-Qwen),
 * qwen3 and llama (Llama 3.x). Mixture-of-experts, vision towers, other
 * architectures, weight types outside enum anpurt_type and RoPE scaling other
 * than none/llama3 are refused with a message saying which.
 */
struct anpurt_model;

/* Weight types the runtime reads (the NPU's formats). */
enum anpurt_type {
	ANPURT_TYPE_F32,
	ANPURT_TYPE_F16,
	ANPURT_TYPE_BF16,
	ANPURT_TYPE_Q8_0,
	ANPURT_TYPE_Q4_0,
	ANPURT_TYPE_Q4_1,
	ANPURT_TYPE_Q5_0,
	ANPURT_TYPE_Q5_1,
	ANPURT_TYPE_Q4_K,
	ANPURT_TYPE_Q5_K,
	ANPURT_TYPE_Q6_K,
	ANPURT_TYPE_COUNT
};

/* ggml's name of @type ("q4_K", "f32"); "?" outside the enum. */
ANPURT_API const char *anpurt_type_name(enum anpurt_type type);

/* How RoPE pairs dimensions: NORMAL rotates (2i, 2i+1) (llama), NEOX (i, i + d/2) (qwen). */
enum anpurt_rope_style {
	ANPURT_ROPE_NORMAL,
	ANPURT_ROPE_NEOX,
};

enum anpurt_rope_scaling {
	ANPURT_ROPE_SCALING_NONE,
	ANPURT_ROPE_SCALING_LLAMA3,	/* per-dimension factors in rope_freqs.weight */
};

struct anpurt_model_params {
	/*
	 * A chat template by name (see anpurt_chat_template_names()) instead of the
	 * one detected from the file's tokenizer.chat_template; NULL: detect.
	 */
	const char *chat_template;
	/* The device and the weights' upload are the engine's: anpurt_engine_params. */
};

ANPURT_API struct anpurt_model_params anpurt_model_default_params(void);

/*
 * Map, check and describe the GGUF file @path. @params may be NULL (defaults).
 * On failure *@model is NULL and anpurt_last_error() names the file and the
 * offset, key or tensor at fault.
 */
ANPURT_API int anpurt_model_open(const char *path, const struct anpurt_model_params *params,
				 struct anpurt_model **model);
ANPURT_API void anpurt_model_free(struct anpurt_model *model);

struct anpurt_model_info {
	const char *architecture;	/* "qwen2", "qwen3", "llama" */
	const char *name;		/* general.name ("" when absent) */
	uint32_t n_layer;		/* block_count */
	uint32_t n_embd;		/* embedding_length */
	uint32_t n_ff;			/* feed_forward_length */
	uint32_t n_head;		/* attention.head_count */
	uint32_t n_head_kv;		/* attention.head_count_kv (default n_head) */
	uint32_t head_dim_k;		/* attention.key_length (default n_embd / n_head) */
	uint32_t head_dim_v;		/* attention.value_length (default n_embd / n_head) */
	uint32_t n_vocab;		/* rows of token_embd.weight = tokenizer.ggml.tokens */
	uint32_t n_ctx_train;		/* context_length */
	float rope_freq_base;		/* rope.freq_base (default 10000) */
	float rms_norm_eps;		/* attention.layer_norm_rms_epsilon (default 1e-6) */
	enum anpurt_rope_style rope_style;
	enum anpurt_rope_scaling rope_scaling;
	int tied_output;		/* no output.weight: logits use token_embd.weight */
	int has_qkv_bias;		/* qwen2: attn_q/k/v.bias */
	int has_qk_norm;		/* qwen3: attn_q_norm/attn_k_norm */
	uint64_t n_params;		/* elements of all tensors */
	uint64_t file_bytes;
	uint64_t weight_bytes;		/* bytes of all tensors' data */
	uint32_t n_tensors;
	uint32_t tensor_count[ANPURT_TYPE_COUNT];	/* tensors per weight type */
	const char *chat_template;	/* template kind (a name), "unknown" if not detected */
};

/* The description of an open model (valid until anpurt_model_free()). */
ANPURT_API const struct anpurt_model_info *anpurt_model_info(const struct anpurt_model *model);

struct anpurt_tokenizer;
/*
 * The model's tokenizer (built from its tokenizer.ggml.* keys); owned by the
 * model. NULL for a file without a vocabulary (tokenizer.ggml.model "no_vocab",
 * as llama.cpp allows): such a model is fed token ids only.
 */
ANPURT_API const struct anpurt_tokenizer *anpurt_model_tokenizer(const struct anpurt_model *model);

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
ANPURT_API int anpurt_tokenize(const struct anpurt_tokenizer *tok, const char *text, size_t len,
			       unsigned int flags, int32_t *ids, size_t n_max);

/* Number of token ids (tokenizer.ggml.tokens), special tokens included. */
ANPURT_API size_t anpurt_vocab_size(const struct anpurt_tokenizer *tok);

/* Special token ids, or -1 when the vocabulary has none. */
ANPURT_API int32_t anpurt_token_bos(const struct anpurt_tokenizer *tok);
ANPURT_API int32_t anpurt_token_eos(const struct anpurt_tokenizer *tok);
/* End of turn (<|im_end|>, <|eot_id|>): tokenizer.ggml.eot_token_id or found by name. */
ANPURT_API int32_t anpurt_token_eot(const struct anpurt_tokenizer *tok);
/* Does generation stop at @id (EOS or EOT)? */
ANPURT_API int anpurt_token_is_eog(const struct anpurt_tokenizer *tok, int32_t id);
/* Is @id a control token (special added token: <|im_start|>, <|begin_of_text|>)? */
ANPURT_API int anpurt_token_is_control(const struct anpurt_tokenizer *tok, int32_t id);

/*
 * The vocabulary's string of @id (byte-level form for regular tokens, e.g.
 * "Ġthe"), NUL-terminated, its length in *@len (may be NULL); NULL if @id is
 * out of range. Valid as long as the tokenizer.
 */
ANPURT_API const char *anpurt_token_text(const struct anpurt_tokenizer *tok, int32_t id,
					 size_t *len);
/* The bytes @id stands for (" the"; may be part of a UTF-8 sequence); not NUL-terminated. */
ANPURT_API const char *anpurt_token_piece(const struct anpurt_tokenizer *tok, int32_t id,
					  size_t *len);
/* The id whose vocabulary string is exactly @text (@len bytes), or -1. */
ANPURT_API int32_t anpurt_token_find(const struct anpurt_tokenizer *tok, const char *text,
				     size_t len);

/* detokenizer flags */
#define ANPURT_DETOK_SPECIAL	(1u << 0)	/* render control tokens' text (default: skip) */

/*
 * Ids -> the bytes they stand for, concatenated (no UTF-8 repair: the exact
 * inverse of anpurt_tokenize on valid text). Writes at most @cap bytes and a
 * NUL if room is left; returns the bytes needed (snprintf style) or a
 * negative errno (an id out of range).
 */
ANPURT_API long anpurt_detokenize(const struct anpurt_tokenizer *tok, const int32_t *ids,
				  size_t n_ids, unsigned int flags, char *out, size_t cap);

/*
 * Streaming detokenizer for generated text: push ids one at a time, get the
 * text that is complete so far. Bytes of an unfinished UTF-8 sequence (a
 * character split over byte tokens) are held back until it completes; a
 * sequence that can no longer become valid is rendered as U+FFFD, and what is
 * still pending at anpurt_detok_flush() too. The text is always valid UTF-8.
 */
struct anpurt_detok;

ANPURT_API int anpurt_detok_create(const struct anpurt_tokenizer *tok, unsigned int flags,
				   struct anpurt_detok **out);
/*
 * Add @id; *@text and *@len receive the newly completed text (possibly empty),
 * valid until the next call on @dt. Returns 0 or a negative errno.
 */
ANPURT_API int anpurt_detok_push(struct anpurt_detok *dt, int32_t id, const char **text,
				 size_t *len);
/* End of stream: the held-back bytes, as U+FFFD; the detokenizer starts afresh. */
ANPURT_API int anpurt_detok_flush(struct anpurt_detok *dt, const char **text, size_t *len);
ANPURT_API void anpurt_detok_free(struct anpurt_detok *dt);

/* ======================================================================= */
/* Text: chat templates                                                    */
/* ======================================================================= */

/*
 * Conversations rendered as the model's own Jinja chat template renders them,
 * byte for byte, for the templates of the supported models. A template is
 * known by name:
 *   "qwen2.5"         ChatML; Qwen2.5's default system message when none is given
 *   "qwen3"           ChatML with thinking: earlier turns' <think> blocks dropped,
 *                     enable_thinking = 0 adds an empty <think></think> block
 *   "deepseek-r1"     DeepSeek-R1's first template: <｜User｜>/<｜Assistant｜>, the
 *                     last system message first, <think> blocks dropped
 *   "deepseek-r1-distill"  the same whose generation prompt opens <think>\n
 *                     (DeepSeek-R1-Distill-Qwen/Llama as published)
 *   "deepseek-r1-v2"  a later revision: all system messages joined, each user
 *                     turn ends with <｜Assistant｜>
 *   "llama3"          Llama 3.0 headers
 *   "llama3.1"        Llama 3.1/3.2: a system header with the cutting-knowledge
 *                     and today's date
 * Templates with the tool-call parts are rendered for system/user/assistant
 * turns (no tools).
 */
struct anpurt_chat_message {
	const char *role;	/* "system", "user" or "assistant" */
	const char *content;	/* UTF-8, NUL-terminated; user text is never markup */
};

struct anpurt_chat_params {
	int add_generation_prompt;	/* end with the assistant's header (default 1) */
	int enable_thinking;		/* qwen3: 0 = empty think block (default 1) */
	const char *date;		/* llama3.1 "Today Date", e.g. "26 Jul 2024";
					 * NULL: today (UTC) as "%d %b %Y" */
};

ANPURT_API struct anpurt_chat_params anpurt_chat_default_params(void);

/* The template names, NULL-terminated. */
ANPURT_API const char *const *anpurt_chat_template_names(void);

/*
 * The template whose Jinja text (tokenizer.chat_template, @len bytes) this is:
 * 0 and *@name, or -ENOENT (message naming the choices) when not recognised.
 */
ANPURT_API int anpurt_chat_template_detect(const char *text, size_t len, const char **name);

/* The template called @name: 0 and *@canonical, or -EINVAL naming the choices. */
ANPURT_API int anpurt_chat_template_lookup(const char *name, const char **canonical);

/*
 * Render @n messages with the template @name into *@text (NUL-terminated,
 * *@len bytes without the NUL; release with free()). @params may be NULL.
 */
ANPURT_API int anpurt_chat_render(const char *name, const struct anpurt_chat_message *msgs,
				  size_t n, const struct anpurt_chat_params *params, char **text,
				  size_t *len);

/* A byte range of rendered text that is message content, not template markup. */
struct anpurt_chat_segment {
	size_t offset, len;
};

/*
 * anpurt_chat_render() that also returns where the messages' content is:
 * *@segs (release with free(); NULL when there is none) holds *@n_segs
 * ranges in increasing order, adjacent content merged.
 */
ANPURT_API int anpurt_chat_render_segments(const char *name, const struct anpurt_chat_message *msgs,
					   size_t n, const struct anpurt_chat_params *params,
					   char **text, size_t *len,
					   struct anpurt_chat_segment **segs, size_t *n_segs);

/*
 * Render and tokenize a conversation: the template's markup as template text
 * (its added tokens match), the messages' content with
 * ANPURT_TOKENIZE_NO_SPECIAL (a user who types "<|im_start|>" gets text
 * tokens, never the control token). *@ids: release with free().
 */
ANPURT_API int anpurt_chat_tokenize(const struct anpurt_tokenizer *tok, const char *name,
				    const struct anpurt_chat_message *msgs, size_t n,
				    const struct anpurt_chat_params *params, int32_t **ids,
				    size_t *n_ids);

/* ======================================================================= */
/* Sessions and generation                                                 */
/* ======================================================================= */

/*
 * An engine: a model's weights uploaded to one NPU device (libaccel), shared
 * by every session created on it. The weights' bytes go to read-only device
 * memory exactly as they are in the file (through anpu.ko read with pread, in
 * large chunks, and dropped from the page cache behind the read; in-process
 * the file's pages are mapped). In-process, a model with Q5_0, Q4_K, Q6_K or
 * Q4_0 tensors loads from a weight cache file with them in the NPU's Q5_0L,
 * Q4_KL, Q6_KL and Q4_0L layouts (the same results, faster), written by the
 * model's first load:
 * $ANPU_WEIGHT_CACHE_DIR,
 * else $XDG_CACHE_HOME/anpu, else ~/.cache/anpu; ANPU_WEIGHT_CACHE=0 turns it
 * off. The model must outlive the engine, and the engine its sessions.
 */
struct anpurt_engine;
/*
 * A session: one conversation's KV cache and command buffers on the engine's
 * device. Threads: one session is used by one thread at a time; different
 * sessions of an engine may run on different threads at once (each has its
 * own libaccel context and buffers; the weights are only read).
 */
struct anpurt_session;

enum anpurt_kv_type {
	ANPURT_KV_F16,		/* default: half the memory, the NPU rounds to nearest even */
	ANPURT_KV_F32,
};

enum anpurt_priority {		/* libaccel's queues: a higher one is served first */
	ANPURT_PRIORITY_LOW,
	ANPURT_PRIORITY_NORMAL,
	ANPURT_PRIORITY_HIGH,
	ANPURT_PRIORITY_REALTIME,
};

/* Called after each chunk of the weights' upload; @done of @total bytes. */
typedef void (*anpurt_progress_fn)(void *user, uint64_t done, uint64_t total);

struct anpurt_engine_params {
	/* libaccel device name: NULL = $ANPU_DEVICE, else a kernel device, else "sim" */
	const char *device;
	/*
	 * In-process NPU ("sim") only, when this is the process's first open of
	 * it: its device memory is sized for the weights plus @n_sessions
	 * sessions of @n_ctx tokens with @kv_type caches (defaults 2, 4096
	 * capped by the model's context, F16), and it runs @threads model
	 * workers (0: online cores).
	 */
	unsigned int n_sessions;
	uint32_t n_ctx;
	enum anpurt_kv_type kv_type;
	unsigned int threads;
	/* bytes of device memory the engine and its sessions may use (0: the device's) */
	uint64_t mem_limit;
	anpurt_progress_fn progress;	/* NULL: none */
	void *progress_user;
};

ANPURT_API struct anpurt_engine_params anpurt_engine_default_params(void);

/*
 * Open the device and upload @model's weights. A model that does not fit is
 * -ENOMEM with a message naming the bytes needed and available. Llama 3.1+
 * files with rope_freqs.weight run it as ROPE's frequency factors (ISA 1.1).
 */
ANPURT_API int anpurt_engine_load(const struct anpurt_model *model,
				  const struct anpurt_engine_params *params,
				  struct anpurt_engine **engine);
/*
 * Device memory (bytes) that anpurt_engine_load() with @params sizes the
 * in-process NPU to: the weights plus n_sessions sessions of n_ctx tokens,
 * rounded as the device allocates. Also the figure to give a virtual
 * platform's device (anpu-vp --dev-mem). @params may be NULL.
 */
ANPURT_API uint64_t anpurt_engine_mem_needed(const struct anpurt_model *model,
					     const struct anpurt_engine_params *params);

/* Frees the weights and closes the device; every session must be freed first. */
ANPURT_API void anpurt_engine_free(struct anpurt_engine *engine);

struct anpurt_session_params {
	uint32_t n_ctx;			/* tokens the KV cache holds (0: 4096, capped by the model's) */
	enum anpurt_kv_type kv_type;	/* default F16 */
	enum anpurt_priority priority;	/* default NORMAL */
	/*
	 * Tokens per prefill command buffer (0: 128, or 16 at LOW priority: an
	 * NPU job runs to its end, so a higher-priority session's job waits for
	 * at most one chunk of a background prefill).
	 */
	uint32_t prefill_chunk;
};

ANPURT_API struct anpurt_session_params anpurt_session_default_params(void);

ANPURT_API int anpurt_session_create(struct anpurt_engine *engine,
				     const struct anpurt_session_params *params,
				     struct anpurt_session **session);
ANPURT_API void anpurt_session_free(struct anpurt_session *session);

/*
 * Run @n tokens (n >= 1) at the session's position, in chunks of
 * prefill_chunk tokens. *@next (may be NULL) gets the greedy next token (the
 * NPU's argmax of the last position's logits). -ENOSPC, with nothing run,
 * when the tokens do not fit in the context.
 */
ANPURT_API int anpurt_session_prefill(struct anpurt_session *session, const int32_t *tokens,
				      size_t n, int32_t *next);
/* Run one token @token at the session's position (teacher forcing); *@next as above. */
ANPURT_API int anpurt_session_decode(struct anpurt_session *session, int32_t token, int32_t *next);
/*
 * Greedy generation: @n steps, each feeding the previous greedy token (the
 * one the last prefill/decode/step produced, which stays on the device) and
 * writing the new one to @out[i]. Each step is one submission of the
 * session's decode command buffer and a 4-byte read-back. Returns the steps
 * run (< n only with an error, e.g. -ENOSPC at a full context after 0 steps).
 */
ANPURT_API int anpurt_session_generate_greedy(struct anpurt_session *session, size_t n,
					      int32_t *out);
/* Copy the last run position's logits (n_vocab F32) into @out (@n >= n_vocab). */
ANPURT_API int anpurt_session_logits(struct anpurt_session *session, float *out, size_t n);
/* Tokens in the KV cache (the position of the next token). */
ANPURT_API uint32_t anpurt_session_position(const struct anpurt_session *session);
/* The tokens in the KV cache (valid until the next call on the session); returns how many. */
ANPURT_API size_t anpurt_session_tokens(const struct anpurt_session *session,
					const int32_t **tokens);
/* Forget the cache from position @pos on (pos <= position). */
ANPURT_API int anpurt_session_truncate(struct anpurt_session *session, uint32_t pos);
/*
 * Make the cache hold exactly @tokens (n >= 1), e.g. a re-rendered
 * conversation: keep the longest common prefix with what it holds (at most
 * n - 1 tokens, so the last one is run for its logits), truncate there and
 * prefill the rest. *@next as for prefill; *@reused (may be NULL): the
 * tokens kept. -ENOSPC when they do not fit.
 */
ANPURT_API int anpurt_session_sync(struct anpurt_session *session, const int32_t *tokens, size_t n,
				   int32_t *next, size_t *reused);

/*
 * Saving, restoring and forking sessions. Threads: these calls use their
 * session like any other call (one thread at a time); fork and save also read
 * the parent / saved session, which no other thread may run meanwhile.
 *
 * anpurt_session_save() writes the session's state to @path: a versioned,
 * self-describing file (docs/runtime.md, "Session files") holding the model's
 * identity (architecture, KV row shape, vocabulary size and a fingerprint of
 * its hyper-parameters, tensor layout and the first bytes of every tensor),
 * the KV cache type, the context, the tokens, the K and V rows of every layer
 * for the filled positions only, and, when a position has run, its logits and
 * greedy token (so a restored session continues with
 * anpurt_session_generate_greedy as the original would). Header and data
 * carry checksums. It is written to a temporary file in @path's directory
 * (mode 0600: it holds a conversation), synced and renamed over @path: a
 * reader never sees half a file. An empty session saves too.
 *
 * The sampler is not part of a session and is not saved: its generator and
 * penalty history belong to the generation that uses it (to continue a
 * sampled conversation reproducibly, create the sampler with the seed again;
 * anpurt_generation_start() feeds it the prompt's last tokens).
 */
ANPURT_API int anpurt_session_save(struct anpurt_session *session, const char *path);
/*
 * Replace the session's state with the file's. Everything is checked before
 * anything changes: magic, version, header checksum, every field, the file's
 * size, the data checksum, every token id, the model (a file of another model
 * is refused naming both), the KV cache type (a file of another type is
 * refused: no conversion, which would not give the saved session's bits; create
 * the session with the file's kv_type) and the room (the tokens must fit in the
 * session's context, which may differ from the saved one's: -ENOSPC). On any
 * error the session is unchanged. -EINVAL for a file that is not a session
 * file, malformed, truncated, corrupt or of another model or KV type, with a
 * message naming the file and what is wrong; a negative errno of open/read.
 */
ANPURT_API int anpurt_session_restore(struct anpurt_session *session, const char *path);

/* anpurt_session_fork(): all of the parent's tokens */
#define ANPURT_SESSION_ALL	UINT32_MAX

/*
 * Create *@child on the parent's engine holding the parent's first @n_tokens
 * tokens (n_tokens <= the parent's position, or ANPURT_SESSION_ALL), e.g. a
 * system prompt prefilled once for many requests. The K and V rows are copied
 * on the NPU (one COPY per layer, ISA 1.1; -EOPNOTSUPP on an older device),
 * not through the CPU. @params: the child's (NULL: the parent's); its
 * kv_type must be the parent's (-EINVAL: COPY does not convert), its context
 * must hold the tokens (-ENOSPC). With all of the parent's tokens the child
 * also gets the last position's logits and greedy token, so both continue
 * alike; with a shorter prefix it needs a prefill (or anpurt_session_sync)
 * first, as after anpurt_session_truncate. Afterwards the two are
 * independent.
 */
ANPURT_API int anpurt_session_fork(struct anpurt_session *parent, uint32_t n_tokens,
				   const struct anpurt_session_params *params,
				   struct anpurt_session **child);

/*
 * Batched decoding: sessions of one engine and one priority that decode at the
 * same time run one greedy step together, one token each, in a single NPU job
 * whose weight ops process every session's row at once, so the weights are
 * read once per step for all of them (at most ANPURT_BATCH_MAX sessions). Each
 * session keeps its own position, KV cache, logits and greedy token, and its
 * tokens are exactly those it produces alone (a row's results never depend on
 * the other rows of an op: docs/hardware.md). The batch records its command
 * buffer once, for its sessions in their order; it is reused step after step
 * while the composition holds (make a new batch when it changes). A session in
 * a batch may still be used alone between steps (prefill, decode, logits,
 * truncate, ...); it must outlive the batch. Threads: one thread at a time per
 * batch and its sessions.
 */
#define ANPURT_BATCH_MAX	32

struct anpurt_batch;

/*
 * -EINVAL for no sessions or more than ANPURT_BATCH_MAX, one given twice,
 * sessions of different engines or priorities; -EOPNOTSUPP on a device
 * without the COPY op (ISA 1.1: each row's logits are copied to its session);
 * -ENOMEM when device memory for the step's activations is short.
 */
ANPURT_API int anpurt_batch_create(struct anpurt_session *const *sessions, size_t n,
				   struct anpurt_batch **batch);
ANPURT_API void anpurt_batch_free(struct anpurt_batch *batch);
/*
 * One greedy step of every session of the batch: each is fed the greedy token
 * its last run left (as anpurt_session_generate_greedy() does), and @next[i]
 * gets session i's new one. Every session must have run a position
 * (-ENODATA, naming it) and have room for one more token (-ENOSPC); nothing
 * runs otherwise. If the NPU job fails no session advances and each keeps its
 * greedy token (its logits are then those of the failed step's rows, or the
 * earlier ones).
 */
ANPURT_API int anpurt_batch_step(struct anpurt_batch *batch, int32_t *next);

struct anpurt_session_stats {
	uint64_t prefill_tokens, decode_tokens;
	uint64_t prefill_ns, decode_ns;		/* wall time of those calls */
	uint64_t submits;			/* command buffers submitted */
	uint64_t kv_bytes, scratch_bytes;	/* device memory of the session */
};

ANPURT_API int anpurt_session_stats(const struct anpurt_session *session,
				    struct anpurt_session_stats *stats);

/* ======================================================================= */
/* Sampling                                                                */
/* ======================================================================= */

/*
 * A sampler picks the next token from a row of logits. The steps, in order:
 * logit bias; repetition / presence / frequency penalties over the last
 * penalty_last_n accepted tokens (repetition: a positive logit is divided by
 * repeat_penalty, a negative one multiplied; frequency subtracts count *
 * frequency_penalty; presence subtracts presence_penalty once); then
 * temperature <= 0 takes the argmax (ties: the lowest id), otherwise logits /
 * temperature, softmax, top-k, top-p (the smallest prefix of the sorted
 * tokens whose mass reaches top_p), min-p (drop tokens below min_p times the
 * top probability), and a draw from the renormalised rest with the
 * sampler's own PCG32 generator seeded from @seed (no global state: the same
 * seed and the same logits give the same tokens). A sampler is used by one
 * thread at a time.
 */
struct anpurt_logit_bias {
	int32_t token;
	float bias;		/* added to the logit; -INFINITY bans the token */
};

struct anpurt_sampler_params {
	float temperature;	/* <= 0: greedy (default 0.8) */
	uint32_t top_k;		/* 0: off (default 40) */
	float top_p;		/* >= 1: off (default 0.95) */
	float min_p;		/* <= 0: off (default 0.05) */
	float repeat_penalty;	/* 1: off (default 1) */
	float presence_penalty;	/* 0: off */
	float frequency_penalty;	/* 0: off */
	uint32_t penalty_last_n;	/* tokens the penalties look back at (default 64) */
	uint64_t seed;		/* default 0x5eed */
	const struct anpurt_logit_bias *bias;	/* copied at create; may be NULL */
	size_t n_bias;
};

struct anpurt_sampler;

ANPURT_API struct anpurt_sampler_params anpurt_sampler_default_params(void);
/* Greedy parameters: temperature 0, no penalties, no bias. */
ANPURT_API struct anpurt_sampler_params anpurt_sampler_greedy_params(void);
ANPURT_API int anpurt_sampler_create(const struct anpurt_sampler_params *params, uint32_t n_vocab,
				     struct anpurt_sampler **sampler);
ANPURT_API void anpurt_sampler_free(struct anpurt_sampler *sampler);
/*
 * Nonzero when the sampler is plain greedy (temperature <= 0, no penalty, no
 * bias): its pick is the NPU's argmax, so no logits need reading back.
 */
ANPURT_API int anpurt_sampler_is_greedy(const struct anpurt_sampler *sampler);
/* Pick a token from @logits (n_vocab F32, not modified); does not accept it. */
ANPURT_API int32_t anpurt_sampler_sample(struct anpurt_sampler *sampler, const float *logits);
/* Record @token as generated (or prompt) text for the penalties. */
ANPURT_API void anpurt_sampler_accept(struct anpurt_sampler *sampler, int32_t token);
/* Forget the penalty history and restart the generator from the seed. */
ANPURT_API void anpurt_sampler_reset(struct anpurt_sampler *sampler);

/* ======================================================================= */
/* Generation                                                              */
/* ======================================================================= */

/*
 * Generation on a session: prefill a prompt, then pick a token (the NPU's
 * argmax when the sampler is NULL or plain greedy: a 4-byte read-back;
 * otherwise the logits are read and sampled), hand it out with its text from
 * the streaming detokenizer, run it, and so on until a stop:
 *  - ANPURT_STOP_EOG: an end-of-generation token of the model file
 *    (anpurt_token_is_eog); the token is not handed out;
 *  - ANPURT_STOP_STRING: a stop string appeared in the text, possibly across
 *    tokens; the text from the stop string on is never handed out (text that
 *    could still become a stop string is held back until it cannot);
 *  - ANPURT_STOP_MAX_TOKENS, ANPURT_STOP_CONTEXT_FULL (the KV cache is full:
 *    never a silent truncation), ANPURT_STOP_CANCELLED (anpurt_session_cancel),
 *    ANPURT_STOP_CALLBACK (the streaming callback returned nonzero).
 * Threads: a generation is used by the thread that started it, like its
 * session; anpurt_session_cancel() is the one call any thread may make at any
 * time: the running generation stops before its next token.
 */
enum anpurt_stop_reason {
	ANPURT_STOP_NONE,		/* still running */
	ANPURT_STOP_EOG,
	ANPURT_STOP_STRING,
	ANPURT_STOP_MAX_TOKENS,
	ANPURT_STOP_CONTEXT_FULL,
	ANPURT_STOP_CANCELLED,
	ANPURT_STOP_CALLBACK,
	ANPURT_STOP_ERROR,		/* a call failed (its error is the result) */
};

/* "eog", "stop-string", "max-tokens", "context-full", "cancelled", "callback", "error", "none" */
ANPURT_API const char *anpurt_stop_reason_name(enum anpurt_stop_reason reason);

/* Streaming callback: one token and the text it completes (may be empty); nonzero stops. */
typedef int (*anpurt_token_fn)(void *user, int32_t token, const char *text, size_t len);

struct anpurt_generate_params {
	size_t max_tokens;			/* 0: no limit but the context */
	const char *const *stop;		/* stop strings (copied at start); may be NULL */
	size_t n_stop;
	/*
	 * NULL: greedy on the NPU. Created for the model's n_vocab (else start is
	 * -EINVAL). The prompt's last penalty_last_n tokens and every picked token
	 * are accepted into it.
	 */
	struct anpurt_sampler *sampler;
	unsigned int detok_flags;		/* anpurt_detok_create flags */
	anpurt_token_fn on_token;		/* anpurt_generate only; may be NULL */
	void *user;
};

ANPURT_API struct anpurt_generate_params anpurt_generate_default_params(void);

struct anpurt_generate_stats {
	uint64_t prompt_tokens, generated_tokens;
	uint64_t cached_tokens;			/* of the prompt, already in the cache: not run */
	uint64_t prefill_ns, decode_ns;		/* prompt run; the steps after the first token */
	uint64_t ttft_ns;			/* start to the first token picked */
	double prefill_tok_s, decode_tok_s;
	enum anpurt_stop_reason stop;
};

struct anpurt_generation;

/*
 * Pull style: make the session hold @prompt (n >= 1) with anpurt_session_sync
 * (only what follows the longest common prefix with the cache is prefilled:
 * pass the whole conversation each turn; -ENOSPC if it does not fit) and
 * return a generation; the session and sampler must outlive it.
 */
ANPURT_API int anpurt_generation_start(struct anpurt_session *session, const int32_t *prompt,
				       size_t n, const struct anpurt_generate_params *params,
				       struct anpurt_generation **gen);
/*
 * The next token: 1 with *@token and its text (*@text, *@len: valid until the
 * next call; may be empty while held back); 0 at the end, with the last text
 * (the held-back text that is not a stop string, may be empty) in *@text and
 * the reason in the stats; < 0 on an error (which also ends it).
 */
ANPURT_API int anpurt_generation_next(struct anpurt_generation *gen, int32_t *token,
				      const char **text, size_t *len);
ANPURT_API void anpurt_generation_stats(const struct anpurt_generation *gen,
					struct anpurt_generate_stats *stats);
ANPURT_API void anpurt_generation_free(struct anpurt_generation *gen);

/*
 * Push style: the same loop, calling params->on_token for every token and
 * once more with token -1 for the final text if any. @stats may be NULL.
 */
ANPURT_API int anpurt_generate(struct anpurt_session *session, const int32_t *prompt, size_t n,
			       const struct anpurt_generate_params *params,
			       struct anpurt_generate_stats *stats);

/* Stop the session's running generation before its next token; any thread. */
ANPURT_API void anpurt_session_cancel(struct anpurt_session *session);

#ifdef __cplusplus
}
#endif

#endif /* ANPURT_H */
