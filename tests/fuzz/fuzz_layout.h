/* SPDX-License-Identifier: MIT */
/*
 * The address space fuzz_cp runs streams in, shared with gen_seeds.c so seeds
 * name buffers that exist. All 4 KiB mappings live in the first 2 MiB of NPU
 * address space (one level-2 table); a 2 MiB RW large page follows.
 *
 * Input format: struct fuzz_cp_ctl, then the command stream (placed in the
 * read-only stream mapping; cmd_size = its length).
 */
#ifndef FUZZ_LAYOUT_H
#define FUZZ_LAYOUT_H

#include <stdint.h>

#define FUZZ_BAR_SIZE		(8ull << 20)
#define FUZZ_VA_STREAM		0x100000ull	/* RO, FUZZ_STREAM_MAX */
#define FUZZ_STREAM_MAX		0x10000u
#define FUZZ_VA_RW1		0x120000ull	/* RW 64 KiB */
#define FUZZ_RW1_SIZE		0x10000u
#define FUZZ_VA_RW2		0x140000ull	/* RW 16 KiB */
#define FUZZ_RW2_SIZE		0x4000u
#define FUZZ_VA_RO		0x160000ull	/* RO 64 KiB: F32 data, then small I32 ids */
#define FUZZ_RO_SIZE		0x10000u
#define FUZZ_VA_RO_IDS		(FUZZ_VA_RO + FUZZ_RO_SIZE / 2)
#define FUZZ_VA_STEP		0x180000ull	/* RO 4 KiB step parameters */
#define FUZZ_VA_LARGE		0x200000ull	/* RW 2 MiB large page */

/* ctl.flags */
#define FUZZ_CTL_PROFILE	(1u << 0)	/* ANPU_DESC_F_PROFILE */
#define FUZZ_CTL_PROFILE_LARGE	(1u << 1)	/* profile into the large page, else RW2 */

struct fuzz_cp_ctl {
	uint8_t flags;
	uint8_t profile_kib;	/* profile buffer size in KiB (0: 1 record's worth) */
	uint16_t cmd_size_slack; /* bytes added to cmd_size beyond the input */
	uint32_t step[3];	/* step slots 0..2; slot i >= 3 holds i */
};

#endif /* FUZZ_LAYOUT_H */
