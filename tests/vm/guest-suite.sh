#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs one guest-side suite (a script printing PASS:/FAIL:/SKIP: lines) in one
# anpu-vp boot and ends with "N passed, N failed, N skipped": the suite's
# lines plus one for anpu-vp's verdict (clean guest kernel log, no timeout).
#   tests/vm/guest-suite.sh BUILD_DIR TIMEOUT [anpu-vp options...] -- GUEST_CMD...
# (make check-vm-fuzz / check-vm-failnth; tests/vm/run.sh for make check-vm)
set -u
BUILD=$(readlink -f "$1")
TIMEOUT=$2
shift 2
export ANPU_FUZZ_BIN=$BUILD/tests/anpu-ioctl-fuzz ANPU_FAILNTH_BIN=$BUILD/tests/anpu-failnth
# the module failnth.sh reloads: the one anpu-vp loads (set it with --kmod FILE)
export ANPU_KO=${ANPU_KO:-$BUILD/kmod/anpu.ko}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$BUILD/bin/anpu-vp" run --timeout "$TIMEOUT" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS:' "$log") fail=$(grep -c '^FAIL:' "$log") skip=$(grep -c '^SKIP:' "$log")
case $rc in
0 | 1 | 4)
	if grep -q 'the guest kernel log shows problems' "$log"; then
		echo "FAIL: guest kernel log (anpu-vp found problems, above)"
		fail=$((fail + 1))
	else
		echo "PASS: guest kernel log clean"
		pass=$((pass + 1))
	fi ;;
124) echo "FAIL: guest run timed out (${TIMEOUT}s)"; fail=$((fail + 1)) ;;
*) echo "FAIL: guest run (anpu-vp status $rc: 125 = the guest died, e.g. a kernel panic)"
   fail=$((fail + 1)) ;;
esac
echo "$pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 ]]
