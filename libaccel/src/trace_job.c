// SPDX-License-Identifier: MIT
/*
 * Trace mode, per device: the pool of profiling buffers attached to submits
 * that have none, the capture of finished jobs (completion thread: one copy
 * of the status and the op records, nothing formatted) and their formatting
 * (writer thread) as "cmdbuf" and "job" lines (docs/libaccel.md, "Trace mode").
 */
#include "accel_internal.h"
#include "hw/anpu_hwif.h"
#include "uapi/drm/anpu_isa.h"

#include <stdlib.h>
#include <string.h>

#define POOL_MIN_OPS	256	/* smallest pool buffer: decode graphs of small models fit */

struct accel_trace_dev {
	/* lock protects free_list */
	pthread_mutex_t lock;
	struct accel_profile *free_list;	/* idle pool buffers (each holds its handle) */
	bool no_profiling;			/* the device cannot profile: jobs only */
};

void accel_trace_device_open(struct accel_device *dev)
{
	struct accel_trace_text line = { 0 };
	struct accel_trace_dev *td;

	if (!accel_trace_on())
		return;
	td = calloc(1, sizeof(*td));
	if (!td)
		return;	/* trace mode is best effort: this device goes untraced */
	pthread_mutex_init(&td->lock, NULL);
	td->no_profiling = !(dev->info.caps & ACCEL_CAP_PROFILING);
	dev->trace = td;
	accel_trace_printf(&line, "{\"type\":\"device\",\"device\":");
	accel_trace_json_str(&line, dev->info.name);
	accel_trace_printf(&line, ",\"backend\":\"%s\",\"queues\":%u,\"hw_version\":%u,"
			   "\"clock_offset_ns\":%lld,\"clock_uncertainty_ns\":%llu,\"profiling\":%d}",
			   dev->info.backend == ACCEL_BACKEND_SIM ? "sim" : "kernel",
			   dev->info.num_queues, dev->info.hw_version,
			   (long long)dev->info.clock_offset_ns,
			   (unsigned long long)dev->info.clock_uncertainty_ns, !td->no_profiling);
	accel_trace_emit_line(&line);
	free(line.p);
}

void accel_trace_device_close(struct accel_device *dev)
{
	struct accel_trace_dev *td = dev->trace;

	if (!td)
		return;
	/* the queued jobs hold command buffers of this device: write them now */
	accel_trace_drain();
	dev->trace = NULL;
	/* the pool's buffers are objects of the device: its close frees them */
	pthread_mutex_destroy(&td->lock);
	free(td);
}

struct accel_profile *accel_trace_take_profile(struct accel_device *dev,
					       const struct accel_cmdbuf *cb)
{
	struct accel_trace_dev *td = dev->trace;
	struct accel_profile **pp, *prof = NULL;
	unsigned int max_ops = POOL_MIN_OPS;

	if (td->no_profiling)
		return NULL;
	pthread_mutex_lock(&td->lock);
	for (pp = &td->free_list; *pp; pp = &(*pp)->trace_next) {
		if ((*pp)->max_ops >= cb->op_count) {
			prof = *pp;
			*pp = prof->trace_next;
			break;
		}
	}
	pthread_mutex_unlock(&td->lock);
	if (prof)
		return prof;
	while (max_ops < cb->op_count && max_ops < ANPU_STREAM_MAX_OPS)
		max_ops *= 2;
	if (accel_profile_create(dev, max_ops, &prof))
		return NULL;	/* no memory for it: the job is traced without op records */
	prof->trace_owned = true;
	return prof;
}

void accel_trace_give_profile(struct accel_device *dev, struct accel_profile *prof)
{
	struct accel_trace_dev *td = dev->trace;

	pthread_mutex_lock(&td->lock);
	prof->trace_next = td->free_list;
	td->free_list = prof;
	pthread_mutex_unlock(&td->lock);
}

void accel_trace_job_delivered(const struct accel_done *d)
{
	const struct anpu_hw_profile_header *h = NULL;
	struct accel_trace_job *job;
	uint32_t n = 0;

	if (d->prof && atomic_load(&d->prof->written)) {
		h = d->prof->bo->host;
		if (h->magic == ANPU_PROFILE_MAGIC && h->version == ANPU_PROFILE_VERSION)
			n = h->count < d->prof->max_ops ? h->count : d->prof->max_ops;
		else
			h = NULL;
	}
	job = malloc(sizeof(*job) + (size_t)n * sizeof(struct anpu_hw_profile_record));
	if (job) {
		*job = (struct accel_trace_job){
			.cb = d->cb, .fence = d->fence, .queue = d->status.queue,
			.ops_done = d->status.ops_done, .n_recs = n,
			.dropped = h ? h->dropped : 0, .error = d->status.error,
			.submit_ns = d->status.submit_ns, .start_ns = d->status.start_ns,
			.end_ns = d->status.end_ns,
			.clock_offset_ns = d->dev->info.clock_offset_ns,
			.recs = job + 1,
		};
		memcpy(job->device, d->dev->info.name, sizeof(job->device));
		if (n)
			memcpy(job->recs, h + 1, (size_t)n * sizeof(struct anpu_hw_profile_record));
		atomic_fetch_add(&d->cb->refs, 1);
		accel_trace_emit_job(job);
	}
	if (d->prof && d->prof->trace_owned)
		accel_trace_give_profile(d->dev, d->prof);
}

/* ---- formatting (writer thread) ---- */

static void format_shapes(struct accel_trace_text *out, const struct accel_op_desc *od)
{
	accel_trace_printf(out, "\"");
	for (uint32_t t = 0; t < od->n_tensors; t++) {
		const struct accel_op_tensor_desc *td = &od->tensors[t];
		int dims = 4;

		while (dims > 1 && td->ne[dims - 1] == 1)
			dims--;
		accel_trace_printf(out, "%s%s:%s[", t ? " " : "", td->role, accel_dtype_name(td->dtype));
		for (int i = 0; i < dims; i++)
			accel_trace_printf(out, "%s%u", i ? "," : "", td->ne[i]);
		accel_trace_printf(out, "]");
	}
	accel_trace_printf(out, "\"");
}

static void format_cmdbuf(struct accel_trace_text *out, struct accel_cmdbuf *cb, uint32_t id)
{
	accel_trace_printf(out, "{\"type\":\"cmdbuf\",\"id\":%u,\"label\":", id);
	accel_trace_json_str(out, cb->label);
	accel_trace_printf(out, ",\"ops\":[");
	for (uint32_t i = 0; i < cb->op_count; i++) {
		struct accel_op_desc od;

		if (accel_cmdbuf_describe_op(cb, i, &od))
			memset(&od, 0, sizeof(od));
		accel_trace_printf(out, "%s{\"op\":\"%s\",\"label\":", i ? "," : "",
				   accel_op_name(od.opcode));
		accel_trace_json_str(out, od.label ? od.label : "");
		accel_trace_printf(out, ",\"shapes\":");
		format_shapes(out, &od);
		accel_trace_printf(out, "}");
	}
	accel_trace_printf(out, "]}\n");
}

void accel_trace_format_job(struct accel_trace_text *out, struct accel_trace_job *job,
			    uint32_t *next_cb_id)
{
	const struct anpu_hw_profile_record *r = job->recs;

	if (!job->cb->trace_id) {
		job->cb->trace_id = (*next_cb_id)++;
		format_cmdbuf(out, job->cb, job->cb->trace_id);
	}
	accel_trace_printf(out, "{\"type\":\"job\",\"device\":");
	accel_trace_json_str(out, job->device);
	accel_trace_printf(out, ",\"device_id\":%u,\"ctx\":%u,\"seq\":%llu,"
			   "\"queue\":%u,\"cmdbuf\":%u,\"op_count\":%u,\"ops_done\":%u,\"error\":%d,"
			   "\"submit_ns\":%lld,\"start_ns\":%lld,\"end_ns\":%lld,\"dropped\":%u,"
			   "\"ops\":[",
			   job->fence.device_id, job->fence.context_id,
			   (unsigned long long)job->fence.seqno, job->queue, job->cb->trace_id,
			   job->cb->op_count, job->ops_done, job->error, (long long)job->submit_ns,
			   (long long)job->start_ns, (long long)job->end_ns, job->dropped);
	/* [op index, start ns, end ns, modeled cycles, modeled bytes, MACs] */
	for (uint32_t i = 0; i < job->n_recs; i++)
		accel_trace_printf(out, "%s[%u,%lld,%lld,%llu,%llu,%llu]", i ? "," : "",
				   r[i].op_index, (long long)r[i].start_ns + job->clock_offset_ns,
				   (long long)r[i].end_ns + job->clock_offset_ns,
				   (unsigned long long)r[i].cycles, (unsigned long long)r[i].bytes,
				   (unsigned long long)r[i].macs);
	accel_trace_printf(out, "]}\n");
}
