/* SPDX-License-Identifier: MIT */
/* anpu-run: the ANPU runtime from the command line (docs/runtime.md). */
#include <stdlib.h>

#include "anpu_run.h"

int main(int argc, char **argv)
{
	struct run_opts o;
	int ret = run_parse_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	/* already traced (ANPU_TRACE set by anpu-trace): run as usual */
	if (o.trace && !getenv("ANPU_TRACE"))
		return run_traced(argc, argv, o.trace);
	switch (o.action) {
	case ACTION_INFO:
		return run_info(&o, stdout);
	case ACTION_TOKENIZE:
		return run_tokenize(&o, stdout);
	case ACTION_MEM_NEEDED:
		return run_mem_needed(&o, stdout);
	case ACTION_GENERATE:
		return run_generate(&o);
	case ACTION_NONE:
		break;
	}
	return 2;
}
