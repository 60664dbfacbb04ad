/* SPDX-License-Identifier: MIT */
/*
 * A weight cache file's layout (weights_cache.c writes and opens them,
 * weights_cache_sweep.c removes the ones no load can use any more).
 *
 * ANPUW_HEADER_BYTES of header, then the bytes [data_start, data_end) of the
 * model file with the tensors the header's layout names converted (Q5_0 rows
 * as Q5_0L, Q4_K/Q6_K/Q4_0 matrices as Q4_KL/Q6_KL/Q4_0L: weights_cache.h). The header starts with
 * struct anpuw_header, which a load compares whole with the one it expects;
 * at ANPUW_ORIGIN_OFFSET follows struct anpuw_origin: where the file was
 * written from (the writer's mount namespace and the model's path), which no
 * load compares: only the sweep reads it, to tell whether that model is still
 * there as it was.
 *
 * Files are named "<16 hex digits>.anpuw" (a hash of the expected header);
 * a file being written may be linked for a moment as
 * "<name>.<pid>.<fd>.tmp", or be "<name>.<pid>.XXXXXX" (mkostemp) while
 * process pid writes it.
 *
 * Any change of the layout or of what the header means bumps the magic's
 * version digit: the sweep removes files of lower versions and leaves higher
 * ones (a newer runtime sharing the directory) alone.
 */
#ifndef RT_WEIGHTS_CACHE_FORMAT_H
#define RT_WEIGHTS_CACHE_FORMAT_H

#include <stdint.h>

/* the magic's first 6 bytes mark every version; the 7th is the version digit */
#define ANPUW_MAGIC_FAMILY	"ANPUWC"
#define ANPUW_MAGIC		"ANPUWC3"
/* the data starts page aligned (it is mapped), for pages up to 64 KiB */
#define ANPUW_HEADER_BYTES	65536u
#define ANPUW_ORIGIN_OFFSET	1024u
#define ANPUW_PATH_MAX		4096u	/* with its NUL; PATH_MAX on Linux */
#define ANPUW_SUFFIX		".anpuw"
#define ANPUW_NAME_HEX		16u	/* hex digits before the suffix */

struct anpuw_header {
	char magic[8];
	uint32_t layout;	/* WEIGHTS_CACHE_*: which conversions the data has */
	uint32_t header_bytes;
	uint64_t src_dev, src_ino, src_size, src_mtime_ns, src_ctime_ns;
	uint64_t data_start, data_end;
	uint64_t tensors_hash;
};

/*
 * Where a file was written from. A path means that file only in the mount
 * namespace it was resolved in (a container sharing the directory sees other
 * paths): the sweep judges a path only in the same namespace.
 */
struct anpuw_origin {
	uint64_t mnt_ns;		/* inode of the writer's /proc/self/ns/mnt; 0: unknown */
	char path[ANPUW_PATH_MAX];	/* the model's absolute path, NUL-terminated; "": unknown */
};

_Static_assert(sizeof(struct anpuw_header) < ANPUW_ORIGIN_OFFSET, "header overlaps the origin");
_Static_assert(ANPUW_ORIGIN_OFFSET + sizeof(struct anpuw_origin) <= ANPUW_HEADER_BYTES,
	       "origin past the header");

/* The caller's mount namespace (the inode of /proc/self/ns/mnt), 0 if unknown. */
uint64_t weights_cache_mnt_ns(void);

/*
 * Remove the cache files in @dir that no load can use any more, but @keep
 * (a file name in @dir, or NULL): files of an older format, and files whose
 * model, as recorded from the caller's mount namespace, is gone or no longer
 * the file the header describes; also temporary files of processes that no
 * longer run, untouched for ANPUW_TEMP_AGE_S. Only the caller's own regular
 * files named as the writer names them, with a magic of the family (cache
 * files), are touched; a file whose origin is unknown or cannot be checked
 * (other than: the path does not exist) stays. Best effort: errors are
 * ignored.
 */
#define ANPUW_TEMP_AGE_S	600
void weights_cache_sweep(const char *dir, const char *keep);

#endif
