#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs inside the anpu-vp guest (cwd = repository root, anpu.ko loaded): the
# ioctl fuzzer for SECONDS (default 60), then its end checks. Prints PASS:/
# FAIL:/SKIP: lines and "N passed, N failed, N skipped".
#   tests/vm/fuzz.sh [SECONDS] [anpu-ioctl-fuzz options...]
# Environment: ANPU_FUZZ_BIN (default build/tests/anpu-ioctl-fuzz),
# ANPU_FUZZ_PROCS (2), ANPU_FUZZ_THREADS (2), ANPU_FUZZ_SEED (random; printed),
# ANPU_FUZZ_AVOID (known-bug paths to leave out; default none).
set -u
BIN=${ANPU_FUZZ_BIN:-$PWD/build/tests/anpu-ioctl-fuzz}
secs=${1:-60}
shift $(($# > 0 ? 1 : 0))
if [[ ! -x $BIN ]]; then
	echo "FAIL: fuzz: $BIN missing (make vm-tests)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
args=(--duration "$secs" --procs "${ANPU_FUZZ_PROCS:-2}" --threads "${ANPU_FUZZ_THREADS:-2}")
[[ -z ${ANPU_FUZZ_SEED:-} ]] || args+=(--seed "$ANPU_FUZZ_SEED")
[[ -z ${ANPU_FUZZ_AVOID:-} ]] || args+=(--avoid "$ANPU_FUZZ_AVOID")
echo "# guest: $(nproc) CPUs, $(uname -r)"
"$BIN" "${args[@]}" "$@"
rc=$?
[[ $rc -eq 0 || $rc -eq 1 || $rc -eq 4 ]] || { echo "FAIL: fuzz: anpu-ioctl-fuzz exit status $rc"; exit 1; }
exit "$rc"
