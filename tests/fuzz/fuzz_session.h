/* SPDX-License-Identifier: MIT */
/*
 * The model fuzz_session_file checks session files against, shared with
 * gen_session_seeds.c so the seeds are files of that model.
 */
#ifndef FUZZ_SESSION_H
#define FUZZ_SESSION_H

#include "session/session_file.h"

static const struct session_file_model fuzz_session_model = {
	.fingerprint = 0x0123456789abcdefull, .arch = "qwen2",
	.n_layer = 2, .kv_dim = 8, .n_vocab = 16,
};

#endif
