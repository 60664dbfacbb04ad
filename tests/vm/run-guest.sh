#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs one guest script in one anpu-vp boot (make vm-guest-NAME: the hook through
# which `make check-debug` runs the fuzzer's long run and the fail-nth sweep) and
# prints "N passed, N failed, N skipped".
#   tests/vm/run-guest.sh BUILD_DIR TIMEOUT CMD ARGS...
# CMD runs in the guest from the repository root with anpu.ko loaded (anpu-vp's
# defaults: ANPU_KO, ANPU_VP_KERNEL, ... as `make` set them). Its results are
# counted from, in this order: its own last "N passed, N failed, N skipped" line;
# PASS:/FAIL:/SKIP: lines; TAP "ok"/"not ok" lines ("# SKIP" = skipped); else one
# test, passed when CMD exits 0. A nonzero exit with no failure counted adds one
# failure. One more test: the guest kernel log is clean (anpu-vp's check: KASAN,
# lockdep, kmemleak after the forced scan, ...).
set -u
BUILD=$1 TIMEOUT=$2
shift 2
VP=$BUILD/bin/anpu-vp
for f in "$VP" "$BUILD/bin/anpu-sim" "${ANPU_KO:-$BUILD/kmod/anpu.ko}"; do
	[[ -e $f ]] || { echo "run-guest: $f missing"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The command's status is reported on its own line: anpu-vp's status also
# carries the log check, which is counted separately.
"$VP" run --timeout "$TIMEOUT" -- sh -c '"$@"; echo "RUN-GUEST-STATUS $?"' sh "$@" 2>&1 | tee "$log"
vprc=${PIPESTATUS[0]}
st=$(sed -n 's/^RUN-GUEST-STATUS \([0-9]*\)$/\1/p' "$log" | tail -n 1)
p=0 f=0 s=0
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
if [[ -n $summary ]]; then
	read -r p _ f _ s _ <<<"${summary//,/}"
elif grep -qE '^(PASS|FAIL|SKIP):' "$log"; then
	p=$(grep -cE '^PASS:' "$log") f=$(grep -cE '^FAIL:' "$log") s=$(grep -cE '^SKIP:' "$log")
elif grep -qE '^(not )?ok ' "$log"; then
	s=$(grep -cE '^ok .*# ?SKIP' "$log")
	p=$(($(grep -cE '^ok ' "$log") - s)) f=$(grep -cE '^not ok ' "$log")
elif [[ ${st:-1} -eq 0 ]]; then
	p=1
fi
if [[ ${st:-1} -ne 0 && $f -eq 0 ]]; then
	echo "not ok: $* exited with status ${st:-unknown (the guest did not finish)}"
	f=$((f + 1))
fi
# (the wrapper exits 0, so anpu-vp's status is its own: 0 = clean log)
if [[ $vprc -eq 0 ]]; then
	echo "ok: guest kernel log clean"
	p=$((p + 1))
else
	echo "not ok: guest run (anpu-vp status $vprc: 1 = problems in the kernel log, 124 = timeout, 125 = guest died)"
	f=$((f + 1))
fi
echo "$p passed, $f failed, $s skipped"
[[ $f -eq 0 ]]
