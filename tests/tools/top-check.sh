#!/bin/sh
# SPDX-License-Identifier: MIT
# anpu-top sees a process that keeps DEVICE busy: runs anpu-npu-busy on DEVICE
# and, while it runs, `anpu-top -J -n 1`; the report must list that pid on
# that device with non-zero busy time and busy %. Prints TAP lines (no plan).
# On the host (DEVICE=sim) the figures come from the in-process stats file
# under $XDG_RUNTIME_DIR; in the VM (DEVICE=/dev/accel/accel0) from fdinfo,
# and the netlink device totals must show the device busy too.
#   top-check.sh BUILD_DIR DEVICE
B=$1
DEV=$2
out=$(mktemp)
"$B"/tests/anpu-npu-busy "$DEV" 6 >"$out" 2>&1 &
pid=$!
i=0
while ! grep -q running "$out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
report=$("$B"/bin/anpu-top -J -n 1 -d 1 2>&1)
rc=$?
wait $pid
busy_rc=$?
sed 's/^/#   /' "$out"
rm -f "$out"
echo "#   anpu-top: $report"
[ $busy_rc -eq 0 ] && echo "ok - anpu-npu-busy ran jobs on $DEV" ||
	echo "not ok - anpu-npu-busy on $DEV (status $busy_rc)"
want_dev=$(basename "$DEV")
if [ $rc -eq 0 ] && printf '%s' "$report" | python3 -c '
import json, sys
r = json.load(sys.stdin)
pid, dev, kernel = int(sys.argv[1]), sys.argv[2], sys.argv[2] != "sim"
mine = [p for p in r["processes"] if p["pid"] == pid and p["device"] == dev]
assert len(mine) == 1, mine
assert mine[0]["busy_ns"] > 0 and mine[0]["busy_pct"] > 0, mine
assert mine[0]["jobs_submitted"] > 0 and mine[0]["mem_bytes"] > 0, mine
if kernel:
    d = [x for x in r["devices"] if x["name"] == dev]
    assert len(d) == 1 and d[0]["busy_pct"] > 0 and d[0]["jobs_completed"] > 0, d
' "$pid" "$want_dev"; then
	echo "ok - anpu-top -J shows pid $pid busy on $want_dev"
else
	echo "not ok - anpu-top -J shows pid $pid busy on $want_dev (status $rc)"
fi
