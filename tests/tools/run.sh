#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-tools: anpu-info and anpu-top on the host. Their options (help
# lists every one, --version, bad usage = one line and status 2), their JSON
# parses, and anpu-top sees a process keeping the in-process NPU busy
# (through its stats file under a private XDG_RUNTIME_DIR, removed when the
# process ends). The kernel path is checked in the VM (check-accel-vm).
#   tests/tools/run.sh BUILD_DIR
set -u
B=$1
. tests/lib/tap.sh
RT=$(mktemp -d)
trap 'rm -rf "$RT"' EXIT
export XDG_RUNTIME_DIR=$RT

check_help() { # TOOL OPTION...
	local tool=$1 out missing=
	shift
	out=$("$B/bin/$tool" --help)
	if [[ $? -ne 0 ]] || ! grep -q "^Usage: $tool" <<<"$out"; then
		tap_not_ok "$tool --help: status 0 and a 'Usage: $tool' line"
		return
	fi
	for o in "$@"; do grep -q -- "$o" <<<"$out" || missing+=" $o"; done
	if [[ -z $missing ]]; then tap_ok "$tool --help lists every option"
	else tap_not_ok "$tool --help does not list:$missing"; fi
	if "$B/bin/$tool" --version | grep -q "^$tool "; then tap_ok "$tool --version"
	else tap_not_ok "$tool --version"; fi
}

check_bad_usage() { # TOOL ARGS...
	local tool=$1 err rc
	shift
	err=$("$B/bin/$tool" "$@" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc -eq 2 && $(wc -l <<<"$err") -eq 1 && $err == "$tool: "* ]]; then
		tap_ok "$tool $*: one line, status 2"
	else
		tap_not_ok "$tool $*: status $rc, message '$err'"
	fi
}

check_help anpu-info --json --help --version
check_bad_usage anpu-info --bogus
check_bad_usage anpu-info extra
if "$B/bin/anpu-info" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["devices"]
sim = [x for x in d if x["backend"] == "sim"]
assert len(sim) == 1 and sim[0]["queues"] == 4 and sim[0]["mem_total"] > 0, d
assert all(x["hw_version"].count(".") == 1 for x in d), d'; then
	tap_ok "anpu-info --json parses and lists the in-process NPU"
else
	tap_not_ok "anpu-info --json parses and lists the in-process NPU"
fi

check_help anpu-top --delay --iterations --json --help --version
check_bad_usage anpu-top -d x
check_bad_usage anpu-top -n 0
check_bad_usage anpu-top -n
check_bad_usage anpu-top extra
if "$B/bin/anpu-top" -J -n 2 -d 0.05 | python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 2, lines
for l in lines:
    r = json.loads(l)
    assert r["interval_ms"] > 0 and isinstance(r["processes"], list), r'; then
	tap_ok "anpu-top -J -n 2 prints two JSON reports"
else
	tap_not_ok "anpu-top -J -n 2 prints two JSON reports"
fi

tap_merge < <(tests/tools/top-check.sh "$B" sim)
left=$(ls "$RT/anpu" 2>/dev/null)
if [[ -z $left ]]; then tap_ok "the stats file is removed when the process ends"
else tap_not_ok "stats files left behind: $left"; fi

tap_plan
exit "$(tap_status)"
