#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-accel: every accel.* result in one run, for build/bench/accel.jsonl
# (scripts/bench-record.sh keeps the JSON lines): the in-process part on the
# host, then the kernel part in one anpu-vp guest (libaccel's kernel backend
# against raw ioctls, measured in the same run). Without Debian's 6.12 kernel
# the kernel part is left out (said on stderr).
#   tests/accel/vm/bench.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
BIN=$BUILD/bin/anpu-bench-accel
"$BIN"
if ! ls /boot/vmlinuz-6.12* >/dev/null 2>&1 || [[ ! -e ${ANPU_KO:-$BUILD/kmod/anpu.ko} ]]; then
	echo "bench-accel: no 6.12 kernel or anpu.ko: kernel part (accel.kernel.*) skipped" >&2
	exit 0
fi
kmod=()
[[ -n ${ANPU_ACCEL_VM_KMOD:-} ]] && kmod=(--kmod "$ANPU_ACCEL_VM_KMOD")
"$BUILD/bin/anpu-vp" run "${kmod[@]}" --timeout 600 -- "$BIN" --kernel /dev/accel/accel0
