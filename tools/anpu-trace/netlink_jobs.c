// SPDX-License-Identifier: MIT
/*
 * The netlink job-event source of anpu-trace record (trace_sources.h).
 * The kernel family "anpu" is built on another branch (nl-kernel): this is
 * the place its libnl-genl-3 client goes (nl_socket_alloc, genl_connect,
 * genl_ctrl_resolve_grp, nl_socket_add_membership, a thread that receives
 * events until collect and turns each into a struct tr_job for
 * tr_merge_kernel_job()). Until then it reports that there is none.
 */
#include "trace_sources.h"

#include <errno.h>

int netlink_jobs_start(struct netlink_session **out, const char **why)
{
	*out = NULL;
	*why = "the kernel's netlink job events are not available in this build";
	return -EOPNOTSUPP;
}

int netlink_jobs_collect(struct netlink_session *s, struct tr_trace *t)
{
	(void)s;
	(void)t;
	return 0;
}
