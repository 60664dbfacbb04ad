// SPDX-License-Identifier: MIT
/*
 * The in-process NPU's usage figures for monitors (anpu-top): while the
 * NPU exists, the completion thread rewrites
 *
 *   $XDG_RUNTIME_DIR/anpu/<pid>.stats
 *
 * at most every INPROC_STATS_PERIOD_MS, and only when a job has ended since
 * the last write (a temporary file renamed over it: readers see a whole
 * file). The last NPU of the process going away removes it. No
 * XDG_RUNTIME_DIR, or ANPU_STATS_FILE=0: no file. The format is that of a
 * DRM fdinfo file (docs/libaccel.md, "Usage statistics file"), so a monitor
 * reads both with one parser:
 *
 *   drm-driver:            anpu-sim
 *   drm-pdev:              sim
 *   drm-client-id:         <pid>
 *   drm-engine-npu:        <ns> ns        device time of the ended jobs
 *   drm-total-memory:      <bytes>        device memory allocated
 *   anpu-jobs-submitted:   <n>
 *   anpu-jobs-completed:   <n>            ended, with or without error
 *   anpu-jobs-failed:      <n>
 *   anpu-engine-npu-q<i>:  <ns> ns        the same per hardware queue
 *   anpu-updated-ns:       <CLOCK_MONOTONIC of the write>
 */
#include "inproc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPROC_STATS_PERIOD_MS	100

void inproc_stats_file_init(struct inproc_hw *hw)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	const char *off = getenv("ANPU_STATS_FILE");
	char sub[PATH_MAX];

	hw->stats_path[0] = '\0';
	if (!dir || dir[0] != '/' || (off && !strcmp(off, "0")))
		return;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/anpu", dir) >= sizeof(sub))
		return;
	/* private to the user, like the runtime directory itself */
	if (mkdir(sub, 0700) && errno != EEXIST)
		return;
	if ((size_t)snprintf(hw->stats_path, sizeof(hw->stats_path), "%s/%d.stats", sub,
			     (int)getpid()) >= sizeof(hw->stats_path))
		hw->stats_path[0] = '\0';
}

static void write_stats(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX + 8];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/* a monitor is best effort: a short write leaves the old file in place */
	if (write(fd, text, len) == (ssize_t)len && !close(fd)) {
		if (rename(tmp, path))
			unlink(tmp);
		return;
	}
	close(fd);
	unlink(tmp);
}

void inproc_stats_file_update(struct inproc_hw *hw, int64_t now_ns)
{
	struct accel_device_stats st;
	uint64_t busy[ANPU_HW_NUM_QUEUES], total = 0;
	char text[1024];
	size_t len;

	if (!hw->stats_path[0] || hw->stats.jobs_completed == hw->stats_written_jobs ||
	    now_ns - hw->stats_written_ns < INPROC_STATS_PERIOD_MS * 1000000ll)
		return;
	st = hw->stats;
	memcpy(busy, hw->busy_ns, sizeof(busy));
	hw->stats_written_jobs = st.jobs_completed;
	hw->stats_written_ns = now_ns;
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		total += busy[q];
	len = (size_t)snprintf(text, sizeof(text),
			       "drm-driver:\tanpu-sim\ndrm-pdev:\tsim\ndrm-client-id:\t%d\n"
			       "drm-engine-npu:\t%llu ns\ndrm-total-memory:\t%llu\n"
			       "anpu-jobs-submitted:\t%llu\nanpu-jobs-completed:\t%llu\n"
			       "anpu-jobs-failed:\t%llu\n",
			       (int)getpid(), (unsigned long long)total,
			       (unsigned long long)atomic_load_explicit(&hw->mem_used,
									memory_order_relaxed),
			       (unsigned long long)st.jobs_submitted,
			       (unsigned long long)st.jobs_completed,
			       (unsigned long long)st.jobs_failed);
	for (unsigned int q = 0; q < ANPU_HW_NUM_QUEUES; q++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"anpu-engine-npu-q%u:\t%llu ns\n", q,
					(unsigned long long)busy[q]);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "anpu-updated-ns:\t%lld\n",
				(long long)now_ns);
	/* the file is written without the lock: submitters do not wait for it */
	pthread_mutex_unlock(&hw->lock);
	write_stats(hw->stats_path, text, len);
	pthread_mutex_lock(&hw->lock);
}

void inproc_stats_file_fini(struct inproc_hw *hw)
{
	if (hw->stats_path[0])
		unlink(hw->stats_path);
}
