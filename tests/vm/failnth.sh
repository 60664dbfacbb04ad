#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs inside the anpu-vp guest (cwd = repository root, anpu.ko loaded), on a
# kernel with fault injection (the debug kernel): the allocation-failure sweep
# (fail-nth and fail_function over every ioctl, module load and probe).
# Prints PASS:/FAIL:/SKIP: lines and "N passed, N failed, N skipped"; on a
# kernel without fault injection it skips (exit status 4).
#   tests/vm/failnth.sh [anpu-failnth options...]
# Environment: ANPU_FAILNTH_BIN (default build/tests/anpu-failnth), ANPU_KO
# (the module to reload, default build/kmod/anpu.ko: the one anpu-vp loaded).
set -u
BIN=${ANPU_FAILNTH_BIN:-$PWD/build/tests/anpu-failnth}
KO=${ANPU_KO:-$PWD/build/kmod/anpu.ko}
if [[ ! -x $BIN ]]; then
	echo "FAIL: failnth: $BIN missing (make vm-tests)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "# guest: $(nproc) CPUs, $(uname -r)"
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
"$BIN" --ko "$KO" "$@"
rc=$?
[[ $rc -eq 0 || $rc -eq 1 || $rc -eq 4 ]] || { echo "FAIL: failnth: anpu-failnth exit status $rc"; exit 1; }
exit "$rc"
