/* SPDX-License-Identifier: MIT */
/* anpurt_session_fork: a new session holding a prefix of another's, copied on the NPU. */
#include <errno.h>
#include <string.h>

#include "common/rt_error.h"
#include "session/session.h"

static const char *kv_name(enum anpurt_kv_type t)
{
	return t == ANPURT_KV_F32 ? "F32" : "F16";
}

static int check_fork(const struct anpurt_session *parent, uint32_t n,
		      const struct anpurt_session_params *p)
{
	if (n > parent->pos)
		return rt_error(-EINVAL, "fork of %u tokens: the parent holds %u", n, parent->pos);
	if (p->kv_type != parent->params.kv_type)
		return rt_error(-EINVAL, "fork: the parent's KV cache is %s, the child's would be "
				"%s (the device copy does not convert)", kv_name(parent->params.kv_type),
				kv_name(p->kv_type));
	if (n && parent->engine->info.isa_version < GRAPH_ISA_COPY)
		return rt_error(-EOPNOTSUPP, "fork: %s runs ISA %u.%u, the COPY op needs 1.1",
				parent->engine->info.path, parent->engine->info.isa_version >> 16,
				parent->engine->info.isa_version & 0xffff);
	return 0;
}

int anpurt_session_fork(struct anpurt_session *parent, uint32_t n_tokens,
			const struct anpurt_session_params *params, struct anpurt_session **child)
{
	const struct anpurt_session_params p = params ? *params : parent->params;
	uint32_t n = n_tokens == ANPURT_SESSION_ALL ? parent->pos : n_tokens;
	int last = n == parent->pos && parent->have_next;
	struct graph_cmd g = { 0 };
	struct anpurt_session *c;
	int ret;

	*child = NULL;
	if ((ret = check_fork(parent, n, &p)) ||
	    (ret = anpurt_session_create(parent->engine, &p, &c)))
		return ret;
	if (n > c->bufs.n_ctx)
		ret = rt_error(-ENOSPC, "fork of %u tokens into a context of %u", n, c->bufs.n_ctx);
	if (!ret && n)
		ret = graph_record_kv_copy(parent->engine, &parent->bufs, &c->bufs, n, last, &g);
	if (!ret && n)
		ret = session_run(c, &g, 0);	/* the parent's last job has finished: rows are final */
	graph_cmd_free(&g);
	if (ret) {
		anpurt_session_free(c);
		return ret;
	}
	memcpy(c->hist, parent->hist, (size_t)n * sizeof(*c->hist));
	c->pos = n;
	c->have_next = last;
	*child = c;
	rt_error_clear();
	return 0;
}
