// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the session file's checks (session_file.c) on arbitrary
 * bytes, as anpurt_session_restore() runs them: the header, the model (the
 * fixed one of fuzz_session.h, and the file's own so the payload checks are
 * reached), the size, then the payload with its checksum and token ids. A
 * file that passes must be exactly as big as its fields say. The input is
 * copied into a buffer of its size so that ASan sees any read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct session_file_header h;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (session_file_decode(copy, size, "fuzz", &h) == 0) {
		(void)session_file_check_model(&h, &fuzz_session_model, "fuzz");
		if (session_file_check_model(&h, &h.model, "fuzz"))
			abort();	/* a file is always of its own model */
		if (session_file_check_size(&h, size - SESSION_FILE_HEADER, "fuzz") == 0 &&
		    session_file_check_payload(&h, copy + SESSION_FILE_HEADER,
					       size - SESSION_FILE_HEADER, "fuzz") == 0 &&
		    SESSION_FILE_HEADER + session_file_payload_size(&h) != size)
			abort();
	}
	free(copy);
	return 0;
}
