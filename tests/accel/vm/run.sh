#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-accel-vm: boots one guest (anpu-vp run) and runs the libaccel
# conformance suite and the example program there against the kernel backend
# (ANPU_DEVICE=/dev/accel/accel0, asserted by the tests). Prints TAP (the
# guest's streams merged by tests/lib/tap.sh).
#   tests/accel/vm/run.sh [BUILD_DIR]
# ANPU_ACCEL_VM_KMOD=/abs/path/anpu.ko tests another module build.
set -u
. tests/lib/tap.sh
BUILD=${1:-build}
VP=$BUILD/bin/anpu-vp
TIMEOUT=${ANPU_VM_TIMEOUT:-840}
for f in "$VP" "$BUILD/bin/anpu-sim" "${ANPU_ACCEL_VM_KMOD:-${ANPU_KO:-$BUILD/kmod/anpu.ko}}" "$BUILD/bin/accel-example"; do
	[[ -e $f ]] || { tap_not_ok "check-accel-vm: $f exists"; tap_plan; exit 1; }
done
kmod=()
[[ -n ${ANPU_ACCEL_VM_KMOD:-} ]] && kmod=(--kmod "$ANPU_ACCEL_VM_KMOD")
out=$("$VP" run "${kmod[@]}" --timeout "$TIMEOUT" -- sh tests/accel/vm/guest.sh "$BUILD" 2>&1)
rc=$?
tap_merge <<<"$out"
if [[ $rc -eq 0 ]]; then
	tap_ok "guest run clean (anpu-vp: no kernel warning)"
else
	tap_not_ok "guest run (anpu-vp status $rc)"
fi
tap_plan
exit "$(tap_status)"
