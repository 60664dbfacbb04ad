// SPDX-License-Identifier: MIT
/*
 * anpu-ioctl-fuzz: the mapping and file operations (see ioctl-fuzz.h): BO
 * mmaps at random offsets with partial munmaps, the page-offset check,
 * PRIME export/import and dma-buf mmap, files closed under other threads.
 */
#include "tests/vm/ioctl-fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi/drm/anpu_accel.h"

/* mmap @len bytes of BO @handle's at @delta bytes into it; NULL on failure. */
static uint8_t *bo_map(struct fz_thread *t, int fd, uint32_t handle, uint64_t len,
		       uint64_t delta, int prot, bool private)
{
	struct drm_anpu_bo_info info = { .handle = handle };
	void *map;

	if (fz_ioctl(t, FZ_BO_INFO, fd, DRM_IOCTL_ANPU_BO_INFO, &info))
		return NULL;
	map = mmap(NULL, len ? len : info.size, prot, private ? MAP_PRIVATE : MAP_SHARED, fd,
		   (off_t)(info.mmap_offset + delta));
	fz_count(t, FZ_MMAP, map == MAP_FAILED ? -1 : 0);
	return map == MAP_FAILED ? NULL : map;
}

/* mmap a shared BO at a random offset and length, read it, unmap a page in
 * the middle, then the rest. */
void fz_op_mmap(struct fz_thread *t)
{
	uint64_t len = 4096ull * (1 + fz_below(&t->rng, 16)), delta = 0, hole = 0, hole_len = 0;
	bool private = !(t->p->avoid & FZ_AVOID_PRIVATE_MMAP) && fz_chance(&t->rng, 5);
	int prot = PROT_READ | PROT_WRITE;
	struct fz_file f;
	uint8_t *map;

	if (fz_snap(t, &f) < 0)
		return;
	if (fz_chance(&t->rng, 30))
		delta = fz_chance(&t->rng, 70) ? 4096ull * fz_below(&t->rng, 16)
					       : fz_edge64(&t->rng) & ~4095ull;
	if (fz_chance(&t->rng, 10))
		prot = fz_chance(&t->rng, 50) ? PROT_READ : PROT_WRITE;
	map = bo_map(t, f.fd, fz_pick(t, f.bo, FZ_BOS, 90), len, delta, prot, private);
	if (!map)
		return;
	if (prot != PROT_WRITE)
		fz_count_touch(t, FZ_TOUCH, fz_touch(map, len, false));
	if (fz_chance(&t->rng, 50)) {
		hole = 4096ull * fz_below(&t->rng, (uint32_t)(len / 4096));
		hole_len = 4096;
		fz_count(t, FZ_MUNMAP, munmap(map + hole, hole_len));
	}
	/* only what is still ours: another thread may have mapped the hole */
	if (hole)
		fz_count(t, FZ_MUNMAP, munmap(map, hole));
	if (hole + hole_len < len)
		fz_count(t, FZ_MUNMAP, munmap(map + hole + hole_len, len - hole - hole_len));
}

/*
 * A new BO whose pages carry their index (written through one mapping);
 * a second mapping loses its head or tail to munmap before its first
 * access, then each remaining page must show its own index (a fault
 * handler that ignores the mapping's page offset shows page 0's). In a file
 * of its own that nothing else knows or submits on: in a shared one another
 * thread could close the (guessable) handle and a BO_CREATE reuse it between
 * the two BO_INFO lookups, or a job with a stale NPU address write the BO,
 * and the check failed without a driver bug. A mismatch here is a mapping
 * bug or a job of another file writing memory it no longer owns (bug 2).
 */
void fz_op_mmap_pages(struct fz_thread *t)
{
	unsigned int pages = 2 + fz_below(&t->rng, 7), cut = 1 + fz_below(&t->rng, pages - 1);
	bool head = fz_chance(&t->rng, 70);
	unsigned int first = head ? cut : 0, last = head ? pages : cut;
	struct drm_gem_close c = { 0 };
	uint8_t *tags, *map;
	uint64_t addr, size;
	int sig = 0, fd;

	fd = open(t->p->node, O_RDWR | O_CLOEXEC);
	fz_count(t, FZ_OPEN, fd);
	if (fd < 0)
		return;
	c.handle = fz_bo_create(t, fd, 4096ull * pages, 0, &addr, &size);
	if (!c.handle) {
		fz_count(t, FZ_CLOSE, close(fd));
		return;
	}
	tags = bo_map(t, fd, c.handle, 4096ull * pages, 0, PROT_READ | PROT_WRITE, false);
	map = tags ? bo_map(t, fd, c.handle, 4096ull * pages, 0, PROT_READ, false) : NULL;
	for (unsigned int p = 0; map && p < pages && !sig; p++) {
		sig = fz_touch(tags + p * 4096ull, 1, true);
		if (!sig)
			*(volatile uint32_t *)(tags + p * 4096ull) = 0xa0000000u | p;
	}
	if (map && !sig) {
		uint8_t *gone = head ? map : map + cut * 4096ull;
		size_t gone_len = (head ? cut : pages - cut) * 4096ull;

		fz_count(t, FZ_MUNMAP, munmap(gone, gone_len));
		for (unsigned int p = first; p < last && !sig; p++) {
			sig = fz_touch(map + p * 4096ull, 1, false);
			if (!sig && *(volatile uint32_t *)(map + p * 4096ull) != (0xa0000000u | p))
				atomic_fetch_add_explicit(&t->p->sh->map_mismatch, 1,
							  memory_order_relaxed);
		}
		fz_count(t, FZ_MUNMAP, munmap(map + first * 4096ull, (last - first) * 4096ull));
	} else if (map) {
		fz_count(t, FZ_MUNMAP, munmap(map, 4096ull * pages));
	}
	fz_count_touch(t, FZ_TOUCH, sig);
	if (tags)
		fz_count(t, FZ_MUNMAP, munmap(tags, 4096ull * pages));
	fz_ioctl(t, FZ_GEM_CLOSE, fd, DRM_IOCTL_GEM_CLOSE, &c);
	fz_count(t, FZ_CLOSE, close(fd));
}

/* Export a BO as a dma-buf, mmap it, import it into another file (or import
 * something that is not an ANPU dma-buf). */
void fz_op_prime(struct fz_thread *t)
{
	struct drm_prime_handle ex = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_prime_handle im = { 0 };
	struct fz_file f, g;
	int j, i = fz_snap(t, &f);

	if (i < 0)
		return;
	ex.handle = fz_pick(t, f.bo, FZ_BOS, 90);
	if (fz_chance(&t->rng, 5))
		ex.flags = fz_edge32(&t->rng);
	if (fz_ioctl(t, FZ_PRIME_EXPORT, f.fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ex))
		return;
	if (!(t->p->avoid & FZ_AVOID_DMABUF_MMAP) && fz_chance(&t->rng, 50)) {
		struct drm_anpu_bo_info info = { .handle = ex.handle };
		size_t len = 4096;
		void *map;

		if (!ioctl(f.fd, DRM_IOCTL_ANPU_BO_INFO, &info))
			len = info.size;
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ex.fd,
			   fz_chance(&t->rng, 80) ? 0 : 4096 * fz_below(&t->rng, 4));
		fz_count(t, FZ_DMABUF_MMAP, map == MAP_FAILED ? -1 : 0);
		if (map != MAP_FAILED) {
			fz_count_touch(t, FZ_TOUCH, fz_touch(map, len, true));
			fz_count(t, FZ_MUNMAP, munmap(map, len));
		}
	}
	j = fz_snap(t, &g);
	if (j >= 0) {
		im.fd = ex.fd;
		if (fz_chance(&t->rng, 8))
			im.fd = fz_chance(&t->rng, 50) ? g.fd : (int)fz_edge32(&t->rng);
		if (fz_chance(&t->rng, 4))
			im.flags = fz_edge32(&t->rng);
		if (!fz_ioctl(t, FZ_PRIME_IMPORT, g.fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &im)) {
			struct drm_anpu_bo_info info = { .handle = im.handle };

			if (!fz_ioctl(t, FZ_BO_INFO, g.fd, DRM_IOCTL_ANPU_BO_INFO, &info))
				fz_pool_add_bo(t, j, g.fd, im.handle, info.npu_addr, info.size);
		}
	}
	fz_count(t, FZ_CLOSE, close(ex.fd));
}

/* Close a file while other threads may be using it, and open a new one. */
void fz_op_reopen(struct fz_thread *t)
{
	int i = (int)fz_below(&t->rng, FZ_FILES), old, fd;

	pthread_mutex_lock(&t->p->lock);
	old = t->p->file[i].fd;
	memset(&t->p->file[i], 0, sizeof(t->p->file[i]));
	t->p->file[i].fd = -1;
	pthread_mutex_unlock(&t->p->lock);
	if (old >= 0)
		fz_count(t, FZ_CLOSE, close(old));
	fd = open(t->p->node, O_RDWR | O_CLOEXEC);
	fz_count(t, FZ_OPEN, fd);
	pthread_mutex_lock(&t->p->lock);
	t->p->file[i].fd = fd;
	pthread_mutex_unlock(&t->p->lock);
}
