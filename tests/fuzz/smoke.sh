#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make fuzz-smoke: every committed crash input replayed (one test each), then
# SECONDS of fuzzing from the committed corpus (one test). Prints TAP.
#   tests/fuzz/smoke.sh FUZZER REGRESSION_DIR SECONDS [LIBFUZZER_ARGS...]
set -u
. "$(dirname "$0")/../lib/tap.sh"
fuzzer=$1 regress=$2 seconds=$3
name=$(basename "$fuzzer")
shift 3
for f in "$regress"/*; do
	[[ -f $f ]] || continue
	if out=$("$fuzzer" "$f" 2>&1); then
		tap_ok "regression input $(basename "$f") passes"
	else
		printf '%s\n' "$out" | tail -n 40 | tap_comment
		tap_not_ok "regression input $(basename "$f") passes"
	fi
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$fuzzer" "$@" -max_total_time="$seconds" >"$log" 2>&1
rc=$?
tap_comment <"$log"
runs=$(sed -n -E 's/^Done ([0-9]+) runs in .*/\1/p' "$log" | tail -n 1)
if [[ $rc -eq 0 && -n $runs ]]; then
	tap_ok "$name: $runs runs in ${seconds} s, no crash"
else
	tap_not_ok "$name: ${seconds} s of fuzzing (exit status $rc; artifacts: see the log)"
fi
tap_plan
exit "$(tap_status)"
