/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "ggml_types.h"

/*
 * Every id ggml has assigned (gaps are ids ggml retired), so that a file using a
 * type we do not read is refused by that type's name. Layouts only for the
 * eleven types the NPU reads (docs/hardware.md, section 12).
 */
static const struct ggml_type_info ggml_types[] = {
	[0]  = { "f32", 1, 4 },
	[1]  = { "f16", 1, 2 },
	[2]  = { "q4_0", 32, 18 },
	[3]  = { "q4_1", 32, 20 },
	[6]  = { "q5_0", 32, 22 },
	[7]  = { "q5_1", 32, 24 },
	[8]  = { "q8_0", 32, 34 },
	[9]  = { "q8_1", 0, 0 },
	[10] = { "q2_K", 0, 0 },
	[11] = { "q3_K", 0, 0 },
	[12] = { "q4_K", 256, 144 },
	[13] = { "q5_K", 256, 176 },
	[14] = { "q6_K", 256, 210 },
	[15] = { "q8_K", 0, 0 },
	[16] = { "iq2_xxs", 0, 0 },
	[17] = { "iq2_xs", 0, 0 },
	[18] = { "iq3_xxs", 0, 0 },
	[19] = { "iq1_s", 0, 0 },
	[20] = { "iq4_nl", 0, 0 },
	[21] = { "iq3_s", 0, 0 },
	[22] = { "iq2_s", 0, 0 },
	[23] = { "iq4_xs", 0, 0 },
	[24] = { "i8", 0, 0 },
	[25] = { "i16", 0, 0 },
	[26] = { "i32", 0, 0 },
	[27] = { "i64", 0, 0 },
	[28] = { "f64", 0, 0 },
	[29] = { "iq1_m", 0, 0 },
	[30] = { "bf16", 1, 2 },
	[34] = { "tq1_0", 0, 0 },
	[35] = { "tq2_0", 0, 0 },
	[39] = { "mxfp4", 0, 0 },
};

const struct ggml_type_info *ggml_type_get(uint32_t id)
{
	if (id >= sizeof(ggml_types) / sizeof(ggml_types[0]) || !ggml_types[id].name)
		return NULL;
	return &ggml_types[id];
}
