#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/trace/accel-traced.sh BUILD - `make check-trace-accel`: libaccel's conformance
# suites (tests/accel/test_accel_{api,sched,labels}) run under `anpu-trace record`, so
# with trace mode on (every submit gets a profiling buffer of the trace's pool, every
# job is captured and written): they must pass unchanged, and the trace of each must
# hold its jobs (anpu-trace report --json) and nest (the report reads it back).
set -uo pipefail
build=${1:-build}
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
. tests/lib/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for suite in api sched labels; do
	t=$build/tests/test_accel_$suite
	if [ ! -x "$t" ]; then
		tap_not_ok "$t exists"
		continue
	fi
	CMOCKA_MESSAGE_OUTPUT=TAP "$build/bin/anpu-trace" record -o "$tmp/$suite.json" \
		--raw "$tmp/$suite.jsonl" -- "$t" >"$tmp/out" 2>&1
	rc=$?
	tap_merge "traced $suite" <"$tmp/out"
	[ $rc -eq 0 ] || tap_not_ok "traced test_accel_$suite exits 0 (status $rc)"
	jobs=$("$build/bin/anpu-trace" report --json "$tmp/$suite.json" 2>&1 |
	       sed -n 's/.*"jobs":\([0-9]*\).*/\1/p')
	if [ "${jobs:-0}" -gt 0 ] && grep -q '"type":"job"' "$tmp/$suite.jsonl"; then
		tap_ok "the trace of test_accel_$suite holds its $jobs jobs"
	else
		tap_not_ok "the trace of test_accel_$suite holds its jobs (report: ${jobs:-none})"
	fi
done
tap_plan
exit "$(tap_status)"
