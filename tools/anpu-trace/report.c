// SPDX-License-Identifier: MIT
/* anpu-trace report (placeholder until the report lands). */
#include "anpu_trace.h"

#include <errno.h>

int trace_report(const struct report_opts *o)
{
	(void)o;
	return trace_fail("report", -ENOSYS);
}
