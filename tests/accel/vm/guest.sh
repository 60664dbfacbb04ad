#!/bin/sh
# SPDX-License-Identifier: MIT
# In the guest (anpu-vp run): the libaccel conformance suite, the example
# program and the monitors (anpu-top, anpu-info) against the kernel backend. Prints TAP lines (the cmocka suites' own
# streams too) that the host side (tests/accel/vm/run.sh) merges into one
# stream, checking each suite's plan.   guest.sh BUILD_DIR
B=${1:-build}
DEV=/dev/accel/accel0
if [ ! -c "$DEV" ]; then
	echo "not ok - $DEV exists (anpu.ko bound the device)"
	exit 0
fi
for t in "$B"/tests/test_accel_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	echo "# $name (ANPU_DEVICE=$DEV)"
	out=$(ANPU_DEVICE=$DEV CMOCKA_MESSAGE_OUTPUT=TAP timeout $((400 * ${ANPU_VP_TIMEOUT_SCALE:-1})) "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	# a crash or timeout must not hide the tests that did not report (the host
	# checks the plan; a suite that died before printing one is reported here)
	if ! printf '%s\n' "$out" | grep -q '^1\.\.[0-9]'; then
		echo "not ok - $name: no test plan (status $rc)"
	elif [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok '; then
		echo "not ok - $name exited with status $rc"
	fi
done
# the example: the backend chosen explicitly, then by default (enumeration
# finds the ANPU among /dev/accel/accel*, so the default is the kernel device)
echo "# accel-example"
out=$(ANPU_DEVICE=$DEV timeout $((120 * ${ANPU_VP_TIMEOUT_SCALE:-1})) "$B"/bin/accel-example 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/#   /'
case "$rc:$out" in
0:*"(kernel backend)"*"matches the CPU reference"*) echo "ok - accel-example on $DEV" ;;
*) echo "not ok - accel-example on $DEV (status $rc)" ;;
esac
out=$(env -u ANPU_DEVICE timeout $((120 * ${ANPU_VP_TIMEOUT_SCALE:-1})) "$B"/bin/accel-example 2>&1)
rc=$?
case "$rc:$out" in
0:*"device: $DEV (kernel backend)"*"matches the CPU reference"*)
	echo "ok - accel-example default open enumerates $DEV" ;;
*) printf '%s\n' "$out" | sed 's/^/#   /'; echo "not ok - accel-example default open (status $rc)" ;;
esac
# trace mode on the kernel backend: anpu-trace record runs the example with ANPU_TRACE;
# as root (here) it also collects the driver's tracepoints from tracefs (trace_clock mono)
if [ -x "$B"/bin/anpu-trace ]; then
	echo "# trace mode (anpu-trace record)"
	rm -f /tmp/accel-trace.json /tmp/accel-trace.jsonl
	out=$(ANPU_DEVICE=$DEV timeout $((120 * ${ANPU_VP_TIMEOUT_SCALE:-1})) "$B"/bin/anpu-trace \
		record -o /tmp/accel-trace.json --raw /tmp/accel-trace.jsonl -- "$B"/bin/accel-example 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q '"backend":"kernel"' /tmp/accel-trace.jsonl &&
	   grep -q '"type":"job".*"ops":\[\[' /tmp/accel-trace.jsonl &&
	   grep -q '"cat":"op"' /tmp/accel-trace.json; then
		echo "ok - trace mode records jobs and op records on $DEV"
	else
		printf '%s\n' "$out" | sed 's/^/#   /'
		echo "not ok - trace mode on $DEV (status $rc)"
	fi
	# as root the netlink job events (group "jobs") join libaccel's jobs
	if grep -q '"kernel_end_ns":[1-9]' /tmp/accel-trace.json 2>/dev/null; then
		echo "ok - anpu-trace record merges the kernel's netlink job events"
	else
		echo "not ok - anpu-trace record merges the kernel's netlink job events"
	fi
	if grep -q '"anpu_done"' /tmp/accel-trace.json 2>/dev/null; then
		echo "ok - anpu-trace record collects the driver's tracepoints"
	else
		echo "ok - anpu-trace record collects the driver's tracepoints # SKIP no tracefs events/anpu in the guest"
	fi
fi
# the monitors on the kernel path: anpu-top sees a busy process (fdinfo) and
# the device busy (netlink); anpu-info lists the device from both sources
if [ -x "$B"/bin/anpu-top ] && [ -x "$B"/tests/anpu-npu-busy ]; then
	echo "# anpu-top and anpu-info on $DEV"
	sh tests/tools/top-check.sh "$B" "$DEV"
	if "$B"/bin/anpu-info --json | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["name"] == "accel0"]
assert len(d) == 1 and d[0]["backend"] == "kernel" and d[0]["bus_addr"] and "error" not in d[0], d'
	then echo "ok - anpu-info --json lists accel0 with its PCI address"
	else echo "not ok - anpu-info --json lists accel0 with its PCI address"
	fi
else
	echo "not ok - anpu-top and anpu-npu-busy built (make check-tools)"
fi
# nothing leaked in the driver once every program exited
c=$(cat /sys/kernel/debug/accel/*/counters 2>/dev/null)
if [ -z "$c" ]; then
	echo "ok - driver objects released # SKIP no debugfs counters"
elif printf '%s\n' "$c" | grep -Eq '^(bos|jobs|contexts) [1-9]'; then
	printf '%s\n' "$c" | sed 's/^/#   /'
	echo "not ok - driver objects released after the programs exited"
else
	echo "ok - driver objects released after the programs exited"
fi
