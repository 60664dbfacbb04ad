// SPDX-License-Identifier: MIT
/*
 * anpu-failnth: allocation-failure injection sweep of anpu.ko, run in the
 * guest on a kernel with fault injection (tests/vm/failnth.sh; the debug
 * kernel of make check-debug).
 *
 *   anpu-failnth [--ko PATH] [--first-nth N] [--max-nth N] [--only NAME,...]
 *                [--skip NAME,...] [--no-module] [--dry-run] [--verbose]
 *
 * 1. fail-nth: every call below is made with /proc/thread-self/fail-nth set
 *    to N = 1, 2, ... (the Nth fallible point in the call fails: slab and
 *    page allocations, user copies) until the call runs without reaching
 *    the Nth point.
 * 2. fail_function: every function anpu.ko marks with ALLOW_ERROR_INJECTION
 *    (/sys/kernel/debug/error_injection/list, module [anpu]) fails once per
 *    call: its 1st, 2nd, ... invocation (fail_function's "space") until the
 *    call no longer reaches it. Armed device-wide until the call's job ends,
 *    so points on the scheduler's thread (ring slots) are reached too.
 * Each failing call must return a clean errno (ENOMEM, EFAULT, ENOSPC,
 * EAGAIN, EINTR) or succeed, leak nothing (the debugfs object counters go
 * back to idle once its files are closed; kmemleak is the debug kernel run's
 * own check), and leave the device usable: a known job runs after each.
 * The calls: open, every ioctl of uapi/drm/anpu_accel.h, GEM_CLOSE, PRIME
 * export/import, mmap of a BO and of its dma-buf, probe (a write to the
 * driver's bind file) and module load (finit_module of --ko, with the
 * device held back from the driver so that only the module's init runs).
 *
 * --only NAME,... sweeps only the calls whose name contains one of the
 * NAMEs; --skip NAME,... all but those (e.g. --skip dma-buf
 * while that mmap crashes the kernel).
 * --verbose has the kernel log a stack trace with every injected failure.
 * --first-nth N starts each fail-nth sweep at point N (resuming a long sweep
 * on the debug kernel, or re-checking one point); every 100 points a "#"
 * line says where a sweep is.
 * --dry-run makes each call once with nothing injected (a check of the
 * set-ups, tear-downs and after-checks themselves, on any kernel).
 * Prints PASS:/FAIL:/SKIP: lines, the counts (calls x fault points,
 * injected failures) and "N passed, N failed, N skipped". Exits 0, 1 on a
 * failure, 4 when the kernel has no fault injection (kselftest skip).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "selftests/drivers/accel/anpu/anpu_lib.h"
#include "tests/vm/vmcheck.h"

#define DBG		"/sys/kernel/debug"
#define FAIL_FN		DBG "/fail_function"
#define PCI_DRV		"/sys/bus/pci/drivers/anpu"
#define PCI_DEVS	"/sys/bus/pci/devices"
/*
 * The module-load sweep holds the device back from the driver (its
 * driver_override names no driver) so that finit_module's fault points are
 * the module's init alone: probe has a sweep of its own (bind), and a probe
 * failing inside module load would hide which of the two failed.
 */
#define NO_DRIVER	"anpu-failnth-none"

/* What a call needs set up before it (and torn down after). */
enum {
	NEED_FILE = 1 << 0,	/* an open file */
	NEED_CTX = 1 << 1,	/* a context */
	NEED_JOB = 1 << 2,	/* BOs and a command stream (SCALE x -> y) */
	NEED_DONE = 1 << 3,	/* a job that ran (JOB_INFO) */
	NEED_EXPORT = 1 << 4,	/* a dma-buf of a BO */
	NEED_FILE2 = 1 << 5,	/* a second file (PRIME import) */
	NEED_UNBOUND = 1 << 6,	/* the device unbound from the driver */
	NEED_UNLOADED = 1 << 7,	/* the module unloaded */
};

/* The state one call runs on. */
struct fixture {
	const char *node, *bdf;
	int fd, fd2, dmabuf, new_fd, bind_fd, ko_fd;
	uint32_t ctx, out_sync, tl_sync, in_sync, handle;
	struct anpu_bo cmd, x, y;
	uint64_t seqno;
	void *map;
	size_t map_len;
	bool submitted;
};

struct call {
	const char *name;
	unsigned int needs;
	int (*run)(struct fixture *f);
	int also_clean[3];	/* more errnos an injected failure may give (0: none) */
};

struct sweep {
	const char *ko;
	const char *skip_call;		/* --skip: a comma list of name parts */
	char node[64], bdf[64];
	unsigned int first_nth, max_nth;
	struct vmcheck_counters idle;
	unsigned int pass, fail, skip;
	unsigned long points, injected;	/* over both injectors */
	unsigned long errnos[134];
	bool broken;			/* the device failed a check: stop */
};

static int ret_of(long r)
{
	return r < 0 ? -errno : 0;
}

/* ---- the calls ---- */

static int c_open(struct fixture *f)
{
	f->new_fd = open(f->node, O_RDWR | O_CLOEXEC);
	return f->new_fd < 0 ? -errno : 0;
}

static int c_get_param(struct fixture *f)
{
	struct drm_anpu_get_param a = { .param = DRM_ANPU_PARAM_DEVMEM_FREE };

	return ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_GET_PARAM, &a));
}

static int bo_create(struct fixture *f, uint64_t size)
{
	struct drm_anpu_bo_create a = { .size = size };
	int r = ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_BO_CREATE, &a));

	if (!r)
		f->handle = a.handle;
	return r;
}

static int c_bo_create(struct fixture *f)
{
	return bo_create(f, 8192);
}

static int c_bo_create_large(struct fixture *f)
{
	return bo_create(f, 4u << 20);
}

static int c_bo_info(struct fixture *f)
{
	struct drm_anpu_bo_info a = { .handle = f->x.handle };

	return ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_BO_INFO, &a));
}

static int c_bo_mmap(struct fixture *f)
{
	struct drm_anpu_bo_info a = { .handle = f->x.handle };
	void *p;

	if (ioctl(f->fd, DRM_IOCTL_ANPU_BO_INFO, &a))
		return -errno;
	p = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, (off_t)a.mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	f->map = p;
	f->map_len = a.size;
	return 0;
}

static int c_gem_close(struct fixture *f)
{
	struct drm_gem_close a = { .handle = f->x.handle };
	int r = ret_of(ioctl(f->fd, DRM_IOCTL_GEM_CLOSE, &a));

	if (!r) {
		munmap(f->x.map, f->x.size);
		memset(&f->x, 0, sizeof(f->x));
	}
	return r;
}

static int c_ctx_create(struct fixture *f)
{
	struct drm_anpu_ctx_create a = { .priority = DRM_ANPU_PRIORITY_NORMAL };

	return ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_CTX_CREATE, &a));
}

static int c_ctx_destroy(struct fixture *f)
{
	struct drm_anpu_ctx_destroy a = { .ctx_id = f->ctx };

	return ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_CTX_DESTROY, &a));
}

static int submit(struct fixture *f, bool profile)
{
	struct drm_anpu_bo_ref refs[] = {
		{ .handle = f->x.handle },
		{ .handle = f->y.handle, .flags = DRM_ANPU_BO_REF_WRITE },
	};
	struct drm_anpu_sync in[] = { { .handle = f->in_sync } };
	struct drm_anpu_sync out[] = {
		{ .handle = f->out_sync },
		{ .handle = f->tl_sync, .flags = DRM_ANPU_SYNC_TIMELINE, .point = 1 },
	};
	struct drm_anpu_submit a = {
		.ctx_id = f->ctx,
		.cmd_handle = f->cmd.handle,
		.cmd_size = ((struct anpu_stream_header *)f->cmd.map)->size,
		.bos = DRM_ANPU_OBJ_ARRAY(2, refs),
		.in_syncs = DRM_ANPU_OBJ_ARRAY(1, in),
		.out_syncs = DRM_ANPU_OBJ_ARRAY(2, out),
	};
	int r;

	if (profile) {
		/* the profile goes to the second half of y (the job writes the first) */
		a.flags = DRM_ANPU_SUBMIT_PROFILE;
		a.profile_handle = f->y.handle;
		a.profile_offset = f->y.size / 2;
		a.profile_size = (uint32_t)(f->y.size / 2);
		a.bos.count = 1;
	}
	r = ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_SUBMIT, &a));
	f->submitted = !r;
	f->seqno = a.seqno;
	return r;
}

static int c_submit(struct fixture *f)
{
	return submit(f, false);
}

static int c_submit_profile(struct fixture *f)
{
	return submit(f, true);
}

static int c_job_info(struct fixture *f)
{
	struct drm_anpu_job_info a = { .ctx_id = f->ctx, .seqno = f->seqno };

	return ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_JOB_INFO, &a));
}

static int c_clock_sample(struct fixture *f)
{
	struct drm_anpu_clock_sample a = { 0 };

	return ret_of(ioctl(f->fd, DRM_IOCTL_ANPU_CLOCK_SAMPLE, &a));
}

static int c_prime_export(struct fixture *f)
{
	struct drm_prime_handle a = { .handle = f->x.handle, .flags = DRM_CLOEXEC | DRM_RDWR };
	int r = ret_of(ioctl(f->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &a));

	if (!r)
		f->new_fd = a.fd;
	return r;
}

static int c_prime_import(struct fixture *f)
{
	struct drm_prime_handle a = { .fd = f->dmabuf };

	return ret_of(ioctl(f->fd2, DRM_IOCTL_PRIME_FD_TO_HANDLE, &a));
}

static int c_dmabuf_mmap(struct fixture *f)
{
	void *p = mmap(NULL, f->x.size, PROT_READ | PROT_WRITE, MAP_SHARED, f->dmabuf, 0);

	if (p == MAP_FAILED)
		return -errno;
	f->map = p;
	f->map_len = f->x.size;
	return 0;
}

static int c_bind(struct fixture *f)
{
	ssize_t n = write(f->bind_fd, f->bdf, strlen(f->bdf));

	return n < 0 ? -errno : 0;
}

static int c_module_load(struct fixture *f)
{
	return ret_of(syscall(SYS_finit_module, f->ko_fd, "", 0));
}

static const struct call calls[] = {
	{ "open", 0, c_open, { 0 } },
	{ "GET_PARAM", NEED_FILE, c_get_param, { 0 } },
	{ "BO_CREATE 8 KiB", NEED_FILE, c_bo_create, { 0 } },
	{ "BO_CREATE 4 MiB", NEED_FILE, c_bo_create_large, { 0 } },
	{ "BO_INFO", NEED_FILE | NEED_JOB, c_bo_info, { 0 } },
	{ "mmap BO", NEED_FILE | NEED_JOB, c_bo_mmap, { 0 } },
	{ "GEM_CLOSE", NEED_FILE | NEED_JOB, c_gem_close, { 0 } },
	{ "CTX_CREATE", NEED_FILE, c_ctx_create, { 0 } },
	{ "CTX_DESTROY", NEED_FILE | NEED_CTX, c_ctx_destroy, { 0 } },
	{ "SUBMIT", NEED_FILE | NEED_CTX | NEED_JOB, c_submit, { 0 } },
	{ "SUBMIT profiled", NEED_FILE | NEED_CTX | NEED_JOB, c_submit_profile, { 0 } },
	{ "JOB_INFO", NEED_FILE | NEED_CTX | NEED_JOB | NEED_DONE, c_job_info, { 0 } },
	{ "CLOCK_SAMPLE", NEED_FILE, c_clock_sample, { 0 } },
	{ "PRIME_HANDLE_TO_FD", NEED_FILE | NEED_JOB, c_prime_export, { 0 } },
	{ "PRIME_FD_TO_HANDLE", NEED_FILE | NEED_JOB | NEED_EXPORT | NEED_FILE2, c_prime_import, { 0 } },
	{ "mmap dma-buf", NEED_FILE | NEED_JOB | NEED_EXPORT, c_dmabuf_mmap, { 0 } },
	/*
	 * The PCI core reports a failed allocation inside a region request
	 * (__request_region()'s alloc_resource()) as EBUSY, a failed mapping
	 * of a BAR (ioremap's memtype_reserve() allocation) as EINVAL
	 * (drivers/pci/devres.c, pcim_iomap_region()), and one while it makes
	 * the device's MSI-X interrupt domain as ENODEV
	 * (drivers/pci/msi/msi.c, pci_setup_msix_device_domain()). Probe
	 * passes the errno on; its log line names the step.
	 */
	{ "probe (bind)", NEED_UNBOUND, c_bind, { EBUSY, EINVAL, ENODEV } },
	/*
	 * The driver core reports a failed allocation of the module's
	 * /sys/module/<name>/drivers directory as EINVAL (module_add_driver(),
	 * drivers/base/module.c: module_create_drivers_dir() leaves no
	 * directory); pci_register_driver() passes it on.
	 */
	{ "module load (finit_module)", NEED_UNLOADED, c_module_load, { EINVAL } },
};

/* ---- set-up and tear-down (no injection armed) ---- */

static bool device_bound(const struct sweep *s)
{
	char p[128];

	snprintf(p, sizeof(p), PCI_DRV "/%s", s->bdf);
	return !access(p, F_OK);
}

static int write_str(const char *path, const char *v)
{
	return anpu_write_file(path, v);
}

/* Set (@drv) or clear (NULL) the device's driver_override. */
static int driver_override(struct sweep *s, const char *drv)
{
	char p[128];

	snprintf(p, sizeof(p), PCI_DEVS "/%s/driver_override", s->bdf);
	/* a lone newline clears it (drivers/base/driver.c, driver_set_override) */
	return write_str(p, drv ? drv : "\n");
}

/* The module loaded and bound to the device again (after the module or bind calls). */
static int restore_driver(struct sweep *s)
{
	int r = 0;

	if (access("/sys/module/anpu", F_OK)) {
		int fd = open(s->ko, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		r = ret_of(syscall(SYS_finit_module, fd, "", 0));
		close(fd);
		if (r)
			return r;
	}
	r = driver_override(s, NULL);
	if (r)
		return r;
	if (!device_bound(s)) {
		/* a module whose probe failed: load it again */
		if (syscall(SYS_delete_module, "anpu", O_NONBLOCK) == 0)
			return restore_driver(s);
		r = write_str(PCI_DRV "/bind", s->bdf);
	}
	if (!r && anpu_debugfs_counter("bos") == -ENOENT) {
		/*
		 * A probe (or load) whose debugfs directory could not be made
		 * still succeeds: the kernel ignores debugfs failures by design
		 * (Documentation/filesystems/debugfs.rst). The after-checks
		 * read its counters: bind once more, with nothing injected.
		 */
		r = write_str(PCI_DRV "/unbind", s->bdf);
		if (!r)
			r = write_str(PCI_DRV "/bind", s->bdf);
	}
	return r;
}

static int job_setup(struct fixture *f)
{
	struct simdev_stream st;
	int r;

	r = anpu_bo_new(f->fd, 16384, 0, &f->x);
	if (!r)
		r = anpu_bo_new(f->fd, 16384, 0, &f->y);
	if (r)
		return r;
	for (int i = 0; i < 4096; i++)
		((float *)f->x.map)[i] = (float)i;
	simdev_stream_init(&st);
	anpu_stream_copy(&st, f->x.addr, f->y.addr, 2048);
	r = simdev_stream_finish(&st, 0, 0) ? anpu_stream_bo(f->fd, &st, &f->cmd) : -ENOMEM;
	simdev_stream_free(&st);
	if (r)
		return r;
	if (drmSyncobjCreate(f->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &f->in_sync) ||
	    drmSyncobjCreate(f->fd, 0, &f->out_sync) || drmSyncobjCreate(f->fd, 0, &f->tl_sync))
		return -errno;
	return 0;
}

static int setup(struct sweep *s, const struct call *c, struct fixture *f)
{
	int r = 0;

	memset(f, 0, sizeof(*f));
	f->fd = f->fd2 = f->dmabuf = f->new_fd = f->bind_fd = f->ko_fd = -1;
	f->node = s->node;
	f->bdf = s->bdf;
	if (c->needs & NEED_FILE) {
		f->fd = open(s->node, O_RDWR | O_CLOEXEC);
		if (f->fd < 0)
			return -errno;
	}
	if (c->needs & NEED_FILE2) {
		f->fd2 = open(s->node, O_RDWR | O_CLOEXEC);
		if (f->fd2 < 0)
			return -errno;
	}
	if (c->needs & NEED_CTX)
		r = anpu_ctx_create(f->fd, DRM_ANPU_PRIORITY_NORMAL, &f->ctx);
	if (!r && (c->needs & NEED_JOB))
		r = job_setup(f);
	if (!r && (c->needs & NEED_DONE)) {
		r = submit(f, false);
		if (!r)
			r = anpu_syncobj_wait(f->fd, f->out_sync, 0, 20000);
		f->submitted = false;
	}
	if (!r && (c->needs & NEED_EXPORT))
		r = drmPrimeHandleToFD(f->fd, f->x.handle, DRM_CLOEXEC | DRM_RDWR, &f->dmabuf) ?
			-errno : 0;
	if (!r && (c->needs & NEED_UNBOUND)) {
		r = write_str(PCI_DRV "/unbind", s->bdf);
		f->bind_fd = open(PCI_DRV "/bind", O_WRONLY | O_CLOEXEC);
		if (!r && f->bind_fd < 0)
			r = -errno;
	}
	if (!r && (c->needs & NEED_UNLOADED)) {
		f->ko_fd = open(s->ko, O_RDONLY | O_CLOEXEC);
		if (f->ko_fd < 0)
			return -errno;
		r = driver_override(s, NO_DRIVER);
		if (!r)
			r = ret_of(syscall(SYS_delete_module, "anpu", O_NONBLOCK));
	}
	return r;
}

/* Let a submitted job end (its fence signals, with or without an error). */
static void finish(struct fixture *f)
{
	if (f->submitted)
		anpu_syncobj_wait(f->fd, f->out_sync, 0, 20000);
	f->submitted = false;
}

static int teardown(struct sweep *s, struct fixture *f)
{
	finish(f);
	if (f->map)
		munmap(f->map, f->map_len);
	if (f->x.map)
		munmap(f->x.map, f->x.size);
	if (f->y.map)
		munmap(f->y.map, f->y.size);
	if (f->cmd.map)
		munmap(f->cmd.map, f->cmd.size);
	for (int *fd = &f->fd; fd <= &f->ko_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	return restore_driver(s);
}

/* ---- the injectors ---- */

struct injector {
	const char *name;
	const char *fn;			/* fail_function: the function */
	const char *retval;		/* ... the value it returns */
	int nth_fd;			/* fail-nth: /proc/thread-self/fail-nth */
	/* arm to fail the @n-th (1-based) point; 0 or -errno (NULL: inject nothing) */
	int (*arm)(const struct injector *in, unsigned int n);
	/* disarm; whether a failure was injected */
	bool (*disarm)(const struct injector *in);
};

static int nth_arm(const struct injector *in, unsigned int n)
{
	char v[16];
	int len = snprintf(v, sizeof(v), "%u", n);

	/* the last syscall before the call: the count starts after it */
	return pwrite(in->nth_fd, v, (size_t)len, 0) == len ? 0 : -errno;
}

static bool nth_disarm(const struct injector *in)
{
	char v[16] = "";
	/* "0" once the failure was injected; the count left otherwise (a
	 * failing read was itself the Nth point: then the call was not) */
	ssize_t n = pread(in->nth_fd, v, sizeof(v) - 1, 0);

	if (pwrite(in->nth_fd, "0", 1, 0) != 1)
		perror("fail-nth");
	return n > 0 && atoi(v) == 0;
}

static int fn_arm(const struct injector *in, unsigned int n)
{
	char path[256], v[32];
	int r = write_str(FAIL_FN "/inject", "\n");

	/* space k > 0 lets k - 1 calls pass and fails the k-th */
	snprintf(v, sizeof(v), "%u", n);
	if (!r)
		r = write_str(FAIL_FN "/space", v);
	if (!r)
		r = write_str(FAIL_FN "/times", "1");
	if (!r)
		r = write_str(FAIL_FN "/probability", "100");
	if (!r)
		r = write_str(FAIL_FN "/interval", "1");
	if (!r)
		r = write_str(FAIL_FN "/inject", in->fn);
	snprintf(path, sizeof(path), FAIL_FN "/%s/retval", in->fn);
	if (!r && in->retval)
		r = write_str(path, in->retval);
	return r;
}

static bool fn_disarm(const struct injector *in)
{
	char v[32] = "", rm[160];

	anpu_read_file(FAIL_FN "/times", v, sizeof(v));
	snprintf(rm, sizeof(rm), "!%s", in->fn);
	write_str(FAIL_FN "/inject", rm);
	return atoi(v) == 0;
}

/* ---- the sweep ---- */

static bool clean_errno(const struct call *c, int e)
{
	if (e == ENOMEM || e == EFAULT || e == ENOSPC || e == EAGAIN || e == EINTR)
		return true;
	for (size_t k = 0; k < sizeof(c->also_clean) / sizeof(c->also_clean[0]); k++)
		if (c->also_clean[k] && e == c->also_clean[k])
			return true;
	return false;
}

/* ", EBUSY, EINVAL": the call's own clean errnos, for a message */
static const char *also_clean_names(const struct call *c)
{
	static char buf[96];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(c->also_clean) / sizeof(c->also_clean[0]); k++)
		if (c->also_clean[k] && len < sizeof(buf))
			len += snprintf(buf + len, sizeof(buf) - len, ", %s",
					strerrorname_np(c->also_clean[k]));
	return buf;
}

/* After each call: nothing leaked, the device runs a known job. */
static int after_check(struct sweep *s, char *why, size_t len)
{
	int r = vmcheck_idle(&s->idle, 10000, why, len);

	if (!r)
		r = vmcheck_known_job(why, len);
	return r;
}

/* Sweep call @c with injector @in; PASS or FAIL line. */
static void sweep_call(struct sweep *s, const struct call *c, const struct injector *in)
{
	unsigned long injected = 0, absorbed = 0;
	char why[512] = "", err[64] = "";
	struct fixture f;
	unsigned int n;
	bool done = false;
	int r;

	for (n = in->arm == nth_arm ? s->first_nth : 1; n <= s->max_nth && !done && !why[0]; n++) {
		bool hit;

		if (n % 100 == 0)
			printf("# failnth: %s, %s: point %u\n", c->name, in->name, n);
		r = setup(s, c, &f);
		if (r) {
			snprintf(why, sizeof(why), "set-up failed: %s", strerror(-r));
			teardown(s, &f);
			break;
		}
		r = in->arm ? in->arm(in, n) : 0;
		if (r) {
			snprintf(why, sizeof(why), "arming %s: %s", in->name, strerror(-r));
			teardown(s, &f);
			break;
		}
		r = c->run(&f);
		if (in->fn)
			finish(&f);	/* fail_function stays armed until the job ends */
		hit = in->disarm && in->disarm(in);
		if (!hit && r)
			snprintf(why, sizeof(why), "fails (%s) with no injected failure at point %u",
				 strerrorname_np(-r), n);
		else if (hit && r && !clean_errno(c, -r))
			snprintf(why, sizeof(why), "point %u failed: the call returned %s "
				 "(expected ENOMEM, EFAULT, ENOSPC, EAGAIN, EINTR%s)", n,
				 strerrorname_np(-r), also_clean_names(c));
		if (hit) {
			injected++;
			if (-r > 0 && -r < 134)
				s->errnos[-r]++;
			if (!r)
				absorbed++;	/* a fallback path: the call still succeeded */
			if (r && !strstr(err, strerrorname_np(-r)) && strlen(err) < 40)
				snprintf(err + strlen(err), sizeof(err) - strlen(err), "%s%s",
					 err[0] ? "," : "", strerrorname_np(-r));
		}
		done = !hit;
		r = teardown(s, &f);
		if (r && !why[0])
			snprintf(why, sizeof(why), "after point %u the driver cannot be loaded or "
				 "bound again: %s", n, strerror(-r));
		if (!why[0] && after_check(s, why + 32, sizeof(why) - 32)) {
			memcpy(why, "after an injected failure:      ", 32);
			s->broken = true;
		}
	}
	s->points += n - (in->arm == nth_arm ? s->first_nth : 1);
	s->injected += injected;
	if (!why[0] && !done)
		snprintf(why, sizeof(why), "still failing at point %u (--max-nth)", s->max_nth);
	if (why[0]) {
		printf("FAIL: failnth: %s, %s%s%s: %s\n", c->name, in->name, in->fn ? " " : "",
		       in->fn ? in->fn : "", why);
		s->fail++;
	} else {
		if (absorbed)
			snprintf(err + strlen(err), sizeof(err) - strlen(err), "%s%lu absorbed",
				 err[0] ? ", " : "", absorbed);
		printf("PASS: failnth: %s, %s%s%s: %lu injected failures (%s)\n", c->name, in->name,
		       in->fn ? " " : "", in->fn ? in->fn : "", injected, injected ? err : "none");
		s->pass++;
	}
}

/* Whether @name contains one of the comma-separated words of @list. */
static bool skipped(const char *list, const char *name)
{
	char buf[256], *w, *save;

	if (!list)
		return false;
	snprintf(buf, sizeof(buf), "%s", list);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (strstr(name, w))
			return true;
	return false;
}

static void sweep_all(struct sweep *s, const struct injector *in, const char *only, bool module)
{
	for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]) && !s->broken; k++) {
		if (only && !skipped(only, calls[k].name))
			continue;
		if (skipped(s->skip_call, calls[k].name)) {
			printf("SKIP: failnth: %s, %s: --skip\n", calls[k].name, in->name);
			s->skip++;
			continue;
		}
		if (!module && (calls[k].needs & (NEED_UNBOUND | NEED_UNLOADED)))
			continue;
		/* a function of an unloaded module cannot be armed: probe's
		 * fault points are reached through bind */
		if (in->fn && (calls[k].needs & NEED_UNLOADED))
			continue;
		sweep_call(s, &calls[k], in);
	}
}

/* fail-nth reaches slab and page allocations only with these set (their
 * defaults spare sleeping allocations); stack dumps in the kernel log only
 * with --verbose (to find where an unexpected errno came from). */
static int configure_fault_attrs(bool verbose)
{
	static const char *const set[][2] = {
		{ DBG "/failslab/ignore-gfp-wait", "N" },
		{ DBG "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DBG "/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ DBG "/fail_page_alloc/min-order", "0" },
		{ DBG "/failslab/verbose", NULL },
		{ DBG "/fail_page_alloc/verbose", NULL },
		{ DBG "/fail_usercopy/verbose", NULL },
		{ DBG "/fail_function/verbose", NULL },
		{ DBG "/fail_function/task-filter", "N" },
	};
	int r = 0;

	for (size_t k = 0; k < sizeof(set) / sizeof(set[0]); k++) {
		const char *v = set[k][1] ? set[k][1] : verbose ? "2" : "0";

		if (!access(set[k][0], F_OK) && write_str(set[k][0], v))
			r = -EIO;
	}
	return r;
}

/* The fail_function sweep: every [anpu] function of the error-injection list. */
static void sweep_functions(struct sweep *s, const char *only, bool module)
{
	static char list[65536];
	char *line, *save;
	unsigned int nfn = 0;

	if (access(FAIL_FN "/inject", F_OK)) {
		printf("SKIP: failnth: fail_function: the kernel has no CONFIG_FAIL_FUNCTION\n");
		s->skip++;
		return;
	}
	if (anpu_read_file(DBG "/error_injection/list", list, sizeof(list)) < 0)
		list[0] = 0;
	for (line = strtok_r(list, "\n", &save); line && !s->broken;
	     line = strtok_r(NULL, "\n", &save)) {
		char fn[128], type[32] = "", retval[32];
		struct injector in = { .name = "fail_function", .arm = fn_arm,
				       .disarm = fn_disarm, .fn = fn };

		if (!strstr(line, "[anpu]") || sscanf(line, "%127s", fn) != 1)
			continue;
		sscanf(strrchr(line, '\t') ? strrchr(line, '\t') + 1 : "", "%31s", type);
		if (!strcmp(type, "ERRNO") || !strcmp(type, "ERRNO_NULL"))
			snprintf(retval, sizeof(retval), "%#lx", (unsigned long)-ENOMEM);
		else
			snprintf(retval, sizeof(retval), "%s", strcmp(type, "TRUE") ? "0" : "1");
		in.retval = retval;
		nfn++;
		sweep_all(s, &in, only, module);
	}
	printf("# fail_function: %u functions of anpu.ko with ALLOW_ERROR_INJECTION\n", nfn);
	if (!nfn) {
		printf("SKIP: failnth: fail_function: anpu.ko marks no function with "
		       "ALLOW_ERROR_INJECTION\n");
		s->skip++;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ko", required_argument, NULL, 'k' },
		{ "max-nth", required_argument, NULL, 'n' },
		{ "first-nth", required_argument, NULL, 'f' },
		{ "only", required_argument, NULL, 'o' },
		{ "no-module", no_argument, NULL, 'M' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "skip", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct sweep s = { .ko = "build/kmod/anpu.ko", .first_nth = 1, .max_nth = 3000 };
	struct injector nth = { .name = "fail-nth", .arm = nth_arm, .disarm = nth_disarm };
	struct injector none = { .name = "no injection" };
	const char *only = NULL;
	bool module = true, dry = false, verbose = false;
	char why[512];
	int c, fd, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "k:n:f:o:MDs:v", lo, NULL)) != -1) {
		switch (c) {
		case 'k': s.ko = optarg; break;
		case 'n': s.max_nth = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'f': s.first_nth = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'o': only = optarg; break;
		case 'M': module = false; break;
		case 'D': dry = true; break;
		case 's': s.skip_call = optarg; break;
		case 'v': verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [--ko PATH] [--first-nth N] [--max-nth N] [--only NAME] "
				"[--no-module] [--dry-run] [--skip NAME] [--verbose]\n", argv[0]);
			return 2;
		}
	}
	if (s.first_nth < 1 || s.first_nth > s.max_nth) {
		fprintf(stderr, "%s: --first-nth takes 1..max-nth (%u)\n", argv[0], s.max_nth);
		return 2;
	}
	fd = anpu_open();
	if (fd < 0) {
		printf("SKIP: failnth: no ANPU accel device\n0 passed, 0 failed, 1 skipped\n");
		return 4;
	}
	snprintf(s.node, sizeof(s.node), "%s", anpu_node_path());
	r = anpu_bdf(fd, s.bdf, sizeof(s.bdf));
	close(fd);
	nth.nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (dry) {
		/* each call once, nothing injected: the harness's own check */
		if (!module || access(s.ko, R_OK))
			module = false;
		if (r || vmcheck_counters_read(&s.idle))
			return 1;
		sweep_all(&s, &none, only, module);
		printf("%u passed, %u failed, %u skipped\n", s.pass, s.fail, s.skip);
		return s.fail ? 1 : 0;
	}
	if (r || nth.nth_fd < 0 || access(DBG "/failslab", F_OK)) {
		printf("SKIP: failnth: the kernel has no fault injection (CONFIG_FAULT_INJECTION, "
		       "CONFIG_FAILSLAB: no /proc/thread-self/fail-nth or %s/failslab)\n"
		       "0 passed, 0 failed, 1 skipped\n", DBG);
		return 4;
	}
	if (module && access(s.ko, R_OK)) {
		printf("SKIP: failnth: module load and probe: no %s (--ko)\n", s.ko);
		s.skip++;
		module = false;
	}
	if (configure_fault_attrs(verbose) || vmcheck_counters_read(&s.idle)) {
		printf("FAIL: failnth: cannot configure fault injection or read the counters\n");
		return 1;
	}
	sweep_all(&s, &nth, only, module);
	sweep_functions(&s, only, module);
	if (s.broken)
		printf("# the device failed a check: the sweep stopped there\n");
	printf("# %lu calls x fault points swept, %lu failures injected; errnos:", s.points,
	       s.injected);
	for (int e = 0; e < 134; e++)
		if (s.errnos[e])
			printf(" %s %lu", strerrorname_np(e), s.errnos[e]);
	printf("\n");
	r = vmcheck_idle(&s.idle, 10000, why, sizeof(why));
	if (r)
		printf("FAIL: failnth: at the end: %s\n", why);
	s.fail += !!r;
	printf("%u passed, %u failed, %u skipped\n", s.pass, s.fail, s.skip);
	return s.fail ? 1 : (s.pass ? 0 : 4);
}
