/* SPDX-License-Identifier: MIT */
/*
 * A weight cache file's layout (weights_cache.c writes and opens them,
 * weights_cache_sweep.c removes the ones no load can use any more).
 *
 * ANPUW_HEADER_BYTES of header, then the bytes [data_start, data_end) of the
 * model file with each Q5_0 tensor's rows as Q5_0L. The header starts with
 * struct anpuw_header, which a load compares whole with the one it expects;
 * at ANPUW_PATH_OFFSET follows the model's path when the file was written
 * (NUL-terminated; empty if unknown), which no load compares: only the sweep
 * reads it, to tell whether that model is still there as it was.
 *
 * Files are named "<16 hex digits>.anpuw" (a hash of the expected header);
 * a file being written may be linked for a moment as
 * "<name>.<pid>.<fd>.tmp" or "<name>.<pid>.XXXXXX" (mkostemp) by process pid.
 */
#ifndef RT_WEIGHTS_CACHE_FORMAT_H
#define RT_WEIGHTS_CACHE_FORMAT_H

#include <stdint.h>

/* the magic's first 6 bytes mark every version; the 7th is the version */
#define ANPUW_MAGIC_FAMILY	"ANPUWC"
#define ANPUW_MAGIC		"ANPUWC2"
/* the data starts page aligned (it is mapped), for pages up to 64 KiB */
#define ANPUW_HEADER_BYTES	65536u
#define ANPUW_PATH_OFFSET	1024u
#define ANPUW_PATH_MAX		4096u	/* with its NUL; PATH_MAX on Linux */
#define ANPUW_SUFFIX		".anpuw"
#define ANPUW_NAME_HEX		16u	/* hex digits before the suffix */

struct anpuw_header {
	char magic[8];
	uint32_t layout;	/* ANPUW_LAYOUT: which conversions the data has */
	uint32_t header_bytes;
	uint64_t src_dev, src_ino, src_size, src_mtime_ns, src_ctime_ns;
	uint64_t data_start, data_end;
	uint64_t tensors_hash;
};

#define ANPUW_LAYOUT		1u	/* Q5_0 -> Q5_0L */

_Static_assert(sizeof(struct anpuw_header) <= ANPUW_PATH_OFFSET, "header overlaps the path");
_Static_assert(ANPUW_PATH_OFFSET + ANPUW_PATH_MAX <= ANPUW_HEADER_BYTES, "path past the header");

/*
 * Remove the cache files in @dir that no load can use any more, but @keep
 * (a file name in @dir, or NULL): files of an older format, and files whose
 * recorded model is gone or no longer the file the header describes; also
 * temporary files left by processes that no longer run. Only regular files
 * the caller owns, named as cache files, with a magic of the family, are
 * touched; a file whose model path is unknown or cannot be checked (other
 * than: it does not exist) stays. Best effort: errors are ignored.
 */
void weights_cache_sweep(const char *dir, const char *keep);

#endif
