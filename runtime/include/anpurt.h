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

/* ======================================================================= */
/* Text: chat templates                                                    */
/* ======================================================================= */

#ifdef __cplusplus
}
#endif

#endif /* ANPURT_H */
