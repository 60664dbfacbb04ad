#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-accel-vm: boots one guest (anpu-vp run) and runs the libaccel
# conformance suite and the example program there against the kernel backend
# (ANPU_DEVICE=/dev/accel/accel0, asserted by the tests), then prints
# "N passed, N failed, N skipped".
#   tests/accel/vm/run.sh [BUILD_DIR]
# ANPU_ACCEL_VM_KMOD=/abs/path/anpu.ko tests another module build.
set -u
BUILD=${1:-build}
VP=$BUILD/bin/anpu-vp
TIMEOUT=${ANPU_VM_TIMEOUT:-840}
for f in "$VP" "$BUILD/bin/anpu-sim" "${ANPU_ACCEL_VM_KMOD:-${ANPU_KO:-$BUILD/kmod/anpu.ko}}" "$BUILD/bin/accel-example"; do
	[[ -e $f ]] || { echo "check-accel-vm: $f missing"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done
kmod=()
[[ -n ${ANPU_ACCEL_VM_KMOD:-} ]] && kmod=(--kmod "$ANPU_ACCEL_VM_KMOD")
out=$("$VP" run "${kmod[@]}" --timeout "$TIMEOUT" -- sh tests/accel/vm/guest.sh "$BUILD" 2>&1)
rc=$?
printf '%s\n' "$out"
pass=$(grep -cE '^ok ' <<<"$out")
skip=$(grep -cE '^ok .*# ?SKIP' <<<"$out")
fail=$(grep -cE '^not ok ' <<<"$out")
pass=$((pass - skip))
if [[ $rc -eq 0 ]]; then
	pass=$((pass + 1)); echo "ok - guest run clean (anpu-vp: no kernel warning)"
else
	fail=$((fail + 1)); echo "not ok - guest run (anpu-vp status $rc)"
fi
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
