// SPDX-License-Identifier: GPL-2.0-only
/* anpu.ko tracepoints: the one place that instantiates them. */

#define CREATE_TRACE_POINTS
#include "anpu_trace.h"
