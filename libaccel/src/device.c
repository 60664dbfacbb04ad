// SPDX-License-Identifier: MIT
/*
 * Devices: enumeration of kernel devices, opening (default, "sim", paths,
 * $ANPU_DEVICE), device info, the observer, object bookkeeping.
 *
 * Global state (with trace mode's in trace.c, the only mutable globals of the
 * library): the list of open devices and a bounded list of closed device
 * structs, both under open_devices_lock, so that closing a device twice is an
 * error and not a use after free.
 */
#include "accel_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uapi/drm/anpu_isa.h"

#define CLOSED_DEVICES_KEPT	64
#define OPEN_DEVICES_MAX	256	/* devices open at once in a process */
#define ACCEL_MINORS		256	/* DRM accel minors: /dev/accel/accel0 .. accel255 */
#define DEVICE_PATH_LEN		64	/* accel_device_enumerate()'s paths[][64] */
#define NSEC_PER_SEC		1000000000
#define FAULT_MODE_MASK		0xfu	/* accel_device_inject_fault(): the mode below STICKY */

static pthread_mutex_t open_devices_lock = PTHREAD_MUTEX_INITIALIZER;
static struct accel_device *open_devices[OPEN_DEVICES_MAX];
static struct accel_device *closed_devices[CLOSED_DEVICES_KEPT];
static unsigned int closed_next;

int64_t accel_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* ---- objects ---- */

static void list_del(struct accel_obj *o)
{
	o->prev->next = o->next;
	o->next->prev = o->prev;
	o->prev = o->next = o;
}

static void list_add_tail(struct accel_obj *head, struct accel_obj *o)
{
	o->prev = head->prev;
	o->next = head;
	head->prev->next = o;
	head->prev = o;
}

void accel_obj_init(struct accel_device *dev, struct accel_obj *obj, uint32_t kind)
{
	obj->kind = kind;
	obj->dev = dev;
	atomic_store(&obj->magic, kind);
	pthread_mutex_lock(&dev->lock);
	list_add_tail(&dev->live, obj);
	pthread_mutex_unlock(&dev->lock);
}

static void obj_free_memory(struct accel_obj *o)
{
	if (o->kind == ACCEL_MAGIC_CMDBUF) {
		struct accel_cmdbuf *cb = (struct accel_cmdbuf *)o;

		free(cb->stream);
		free(cb->ops);
		free(cb->label_arena);
		free(cb->bos);
		free(cb->bo_written);
		free(cb->priv);	/* at device close: its BOs are on the device's list */
	} else if (o->kind == ACCEL_MAGIC_PROFILE) {
		pthread_mutex_destroy(&((struct accel_profile *)o)->lock);
	}
	free(o);
}

void accel_obj_bury(struct accel_obj *obj)
{
	struct accel_device *dev = obj->dev;
	struct accel_obj *oldest = NULL;

	atomic_store(&obj->magic, ACCEL_MAGIC_DEAD);
	pthread_mutex_lock(&dev->lock);
	list_del(obj);
	list_add_tail(&dev->quarantine, obj);
	if (++dev->n_quarantine > ACCEL_QUARANTINE) {
		oldest = dev->quarantine.next;
		list_del(oldest);
		dev->n_quarantine--;
	}
	pthread_mutex_unlock(&dev->lock);
	if (oldest)
		obj_free_memory(oldest);
}

int accel_obj_check(const void *p, uint32_t kind)
{
	const struct accel_obj *o = p;

	if (!o || atomic_load_explicit(&o->magic, memory_order_acquire) != kind)
		return -EBADF;
	return 0;
}

/* ---- names ---- */

const char *accel_dtype_name(uint32_t dtype)
{
	switch (dtype) {
	case ACCEL_F32: return "F32";
	case ACCEL_F16: return "F16";
	case ACCEL_Q4_0: return "Q4_0";
	case ACCEL_Q4_1: return "Q4_1";
	case ACCEL_Q5_0: return "Q5_0";
	case ACCEL_Q5_1: return "Q5_1";
	case ACCEL_Q8_0: return "Q8_0";
	case ACCEL_Q4_K: return "Q4_K";
	case ACCEL_Q5_K: return "Q5_K";
	case ACCEL_Q6_K: return "Q6_K";
	case ACCEL_I32: return "I32";
	case ACCEL_BF16: return "BF16";
	case ACCEL_Q5_0L: return "Q5_0L";
	case ACCEL_Q4_KL: return "Q4_KL";
	case ACCEL_Q6_KL: return "Q6_KL";
	case ACCEL_Q4_0L: return "Q4_0L";
	default: return "?";
	}
}

const char *accel_op_name(uint32_t opcode)
{
	static const char *const names[] = {
		"NOP", "TIMESTAMP", "EMBED", "MATMUL", "RMSNORM", "ROPE", "KV_STORE",
		"ATTENTION", "SWIGLU", "ADD", "MUL", "SCALE", "SOFTMAX", "ARGMAX", "COPY",
	};

	return opcode < sizeof(names) / sizeof(names[0]) ? names[opcode] : "?";
}

const char *accel_cause_name(uint32_t cause)
{
	static const char *const names[] = {
		"NONE", "DESCRIPTOR", "ADDRESS_SPACE", "STREAM_MAGIC", "STREAM_VERSION",
		"STREAM_SIZE", "STREAM_TRUNCATED", "RESERVED_NONZERO", "OPCODE",
		"TENSOR_COUNT", "OP_FLAGS", "PARAM", "DTYPE", "SHAPE", "STRIDE",
		"SIZE_OVERFLOW", "STEP_PARAM", "UNMAPPED", "PERMISSION", "STRADDLE",
		"PAGE_TABLE", "ALIGNMENT", "INDEX", "PROFILE_BUFFER", "INJECTED",
		"QUEUE_RESET", "DEVICE_RESET",
	};

	return cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "?";
}

/* UNMAPPED, PERMISSION, STRADDLE, PAGE_TABLE: the address translation refused an access. */
static bool cause_is_translation(uint32_t cause)
{
	return cause >= ANPU_CAUSE_UNMAPPED && cause <= ANPU_CAUSE_PAGE_TABLE;
}

int accel_status_errno(uint32_t result, uint32_t cause)
{
	switch (result) {
	case ACCEL_RESULT_OK:
		return 0;
	case ACCEL_RESULT_INVALID:
		return cause_is_translation(cause) ? -EFAULT : -EINVAL;
	case ACCEL_RESULT_FAULT:
		return cause_is_translation(cause) ? -EFAULT : -EIO;
	case ACCEL_RESULT_ABORTED:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

/* ---- enumeration ---- */

static int accel_minor(const char *name)
{
	char *end;
	long n;

	static const char prefix[] = "accel";
	const size_t len = sizeof(prefix) - 1;

	if (strncmp(name, prefix, len) || !isdigit((unsigned char)name[len]))
		return -1;
	n = strtol(name + len, &end, 10);
	return (*end || n < 0 || n >= ACCEL_MINORS) ? -1 : (int)n;
}

static int driver_is_anpu(int minor)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/class/accel/accel%d/device/driver", minor);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	return strcmp(base, "anpu") == 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int accel_device_enumerate(char paths[][DEVICE_PATH_LEN], int max)
{
	int minors[ACCEL_MINORS], n = 0, found = 0;
	struct dirent *de;
	DIR *dir;

	if (max < 0 || (max > 0 && !paths))
		return -EINVAL;
	dir = opendir("/dev/accel");
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < ACCEL_MINORS) {
		int m = accel_minor(de->d_name);

		if (m >= 0 && driver_is_anpu(m))
			minors[n++] = m;
	}
	closedir(dir);
	qsort(minors, (size_t)n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++, found++)
		if (i < max)
			snprintf(paths[i], DEVICE_PATH_LEN, "/dev/accel/accel%d", minors[i]);
	return found;
}

/* ---- open / close ---- */

struct accel_device_params accel_device_default_params(void)
{
	struct accel_device_params p = { 0 };

	return p;
}

static void registry_add(struct accel_device *dev)
{
	pthread_mutex_lock(&open_devices_lock);
	for (unsigned int i = 0; i < OPEN_DEVICES_MAX; i++) {
		if (!open_devices[i]) {
			open_devices[i] = dev;
			break;
		}
	}
	pthread_mutex_unlock(&open_devices_lock);
}

/* Remove @dev from the open list; false if it was not open. */
static bool registry_remove(struct accel_device *dev)
{
	bool found = false;

	pthread_mutex_lock(&open_devices_lock);
	for (unsigned int i = 0; i < OPEN_DEVICES_MAX && !found; i++) {
		if (dev && open_devices[i] == dev) {
			open_devices[i] = NULL;
			found = true;
		}
	}
	pthread_mutex_unlock(&open_devices_lock);
	return found;
}

static void registry_keep_closed(struct accel_device *dev)
{
	struct accel_device *old;

	pthread_mutex_lock(&open_devices_lock);
	old = closed_devices[closed_next];
	closed_devices[closed_next] = dev;
	closed_next = (closed_next + 1) % CLOSED_DEVICES_KEPT;
	pthread_mutex_unlock(&open_devices_lock);
	free(old);
}

static unsigned int open_count(void)
{
	unsigned int n = 0;

	pthread_mutex_lock(&open_devices_lock);
	for (unsigned int i = 0; i < OPEN_DEVICES_MAX; i++)
		n += open_devices[i] != NULL;
	pthread_mutex_unlock(&open_devices_lock);
	return n;
}

static int open_with(const struct accel_backend_ops *ops, const char *path,
		     const struct accel_device_params *params, struct accel_device **out)
{
	struct accel_device *dev;
	int ret;

	if (open_count() >= OPEN_DEVICES_MAX)
		return -EMFILE;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	pthread_mutex_init(&dev->lock, NULL);
	dev->live.prev = dev->live.next = &dev->live;
	dev->quarantine.prev = dev->quarantine.next = &dev->quarantine;
	dev->obj.kind = ACCEL_MAGIC_DEVICE;
	dev->obj.dev = dev;
	dev->ops = ops;
	ret = ops->open(dev, path, params);
	if (ret) {
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return ret;
	}
	dev->mem_limit = params->mem_limit && params->mem_limit < dev->info.mem_total ?
			 params->mem_limit : dev->info.mem_total;
	dev->info.mem_limit = dev->mem_limit;
	accel_trace_device_open(dev);
	atomic_store(&dev->obj.magic, ACCEL_MAGIC_DEVICE);
	registry_add(dev);
	*out = dev;
	return 0;
}

static int open_kernel_path(const char *path, const struct accel_device_params *params,
			    struct accel_device **out)
{
	static const char dev_prefix[] = "/dev/";
	char full[DEVICE_PATH_LEN];

	if (strncmp(path, dev_prefix, sizeof(dev_prefix) - 1)) {
		if (accel_minor(path) < 0)
			return -ENODEV;
		snprintf(full, sizeof(full), "/dev/accel/%s", path);
		path = full;
	}
	if (strlen(path) >= DEVICE_PATH_LEN)
		return -ENAMETOOLONG;
	return open_with(&accel_kernel_backend, path, params, out);
}

int accel_device_open(const char *name, const struct accel_device_params *params,
		      struct accel_device **out)
{
	struct accel_device_params defaults = accel_device_default_params();
	char paths[1][DEVICE_PATH_LEN];

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!params)
		params = &defaults;
	if (!name || !*name) {
		const char *env = getenv("ANPU_DEVICE");

		if (env && *env)
			name = env;
	}
	if (name && *name) {
		if (!strcmp(name, "sim"))
			return open_with(&accel_inproc_backend, "sim", params, out);
		return open_kernel_path(name, params, out);
	}
	/* the default: first kernel device, else the in-process NPU */
	if (accel_device_enumerate(paths, 1) > 0)
		return open_with(&accel_kernel_backend, paths[0], params, out);
	return open_with(&accel_inproc_backend, "sim", params, out);
}

int accel_device_open_index(int index, const struct accel_device_params *params,
			    struct accel_device **out)
{
	char paths[ACCEL_MAX_DEVICES][DEVICE_PATH_LEN];
	int n = accel_device_enumerate(paths, ACCEL_MAX_DEVICES);

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (n < 0)
		return n;
	if (index < 0 || index >= n || index >= ACCEL_MAX_DEVICES)
		return -ENODEV;
	return accel_device_open(paths[index], params, out);
}

int accel_device_close(struct accel_device *dev)
{
	struct accel_obj *o;

	if (!registry_remove(dev))
		return -EBADF;
	atomic_store(&dev->obj.magic, ACCEL_MAGIC_DEAD);
	/* contexts first (they wait for their jobs), then everything else */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)	/* jobs delivered: the trace writes what it holds of them */
			accel_trace_device_close(dev);
		o = dev->live.next;
		while (o != &dev->live) {
			struct accel_obj *next = o->next;

			if (pass == 0 && o->kind == ACCEL_MAGIC_CONTEXT) {
				struct accel_context *ctx = (struct accel_context *)o;

				dev->ops->context_destroy(dev, ctx);
				list_del(o);
				free(o);
			} else if (pass == 1) {
				/* (a profile's or a stream's BO is on the list too) */
				if (o->kind == ACCEL_MAGIC_BO)
					dev->ops->bo_release(dev, (struct accel_bo *)o);
				list_del(o);
				obj_free_memory(o);
			}
			o = next;
		}
	}
	while (dev->quarantine.next != &dev->quarantine) {
		o = dev->quarantine.next;
		list_del(o);
		obj_free_memory(o);
	}
	dev->ops->close(dev);
	free(atomic_load(&dev->observer));
	for (unsigned int i = 0; i < dev->n_old_observers; i++)
		free(dev->old_observers[i]);
	pthread_mutex_destroy(&dev->lock);
	registry_keep_closed(dev);
	return 0;
}

int accel_device_info(const struct accel_device *dev, struct accel_device_info *info)
{
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!info)
		return -EINVAL;
	*info = dev->info;
	return 0;
}

int accel_device_mem_used(struct accel_device *dev, uint64_t *bytes)
{
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!bytes)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	*bytes = dev->mem_used;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int accel_device_set_observer(struct accel_device *dev, const struct accel_observer *obs)
{
	struct accel_observer *copy = NULL, *old;
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (obs) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		*copy = *obs;
	}
	pthread_mutex_lock(&dev->lock);
	if (dev->n_old_observers == sizeof(dev->old_observers) / sizeof(dev->old_observers[0])) {
		pthread_mutex_unlock(&dev->lock);
		free(copy);
		return -ENOSPC;
	}
	old = atomic_exchange(&dev->observer, copy);
	/* a completion may still be reading the old copy: keep it until close */
	if (old)
		dev->old_observers[dev->n_old_observers++] = old;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int accel_device_inject_fault(struct accel_device *dev, enum accel_priority priority,
			      uint32_t fault)
{
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if ((unsigned int)priority >= ACCEL_NUM_PRIORITIES ||
	    (fault & ~(FAULT_MODE_MASK | ACCEL_FAULT_STICKY)) ||
	    (fault & FAULT_MODE_MASK) > ACCEL_FAULT_FAIL_RESET)
		return -EINVAL;
	if (!(dev->info.caps & ACCEL_CAP_FAULT_INJECTION) || !dev->ops->inject_fault)
		return -EOPNOTSUPP;
	return dev->ops->inject_fault(dev, (unsigned int)priority, fault);
}

int accel_device_stats(struct accel_device *dev, struct accel_device_stats *stats)
{
	int ret = accel_obj_check(dev, ACCEL_MAGIC_DEVICE);

	if (ret)
		return ret;
	if (!stats)
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	return dev->ops->stats ? dev->ops->stats(dev, stats) : -EOPNOTSUPP;
}
