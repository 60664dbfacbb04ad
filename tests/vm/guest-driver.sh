#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs inside the guest (anpu-vp run, cwd = repository root, anpu.ko loaded):
# self-tests through debugfs, unbind/rebind and rmmod/insmod cycles with the
# object counters back at zero, a foreign ivshmem device refused.
# Prints TAP test lines (no plan: tests/vm/run.sh merges them into its stream).
KO=${ANPU_KO:-$PWD/build/kmod/anpu.ko}
CYCLES=${ANPU_VM_CYCLES:-3}
DRV=/sys/bus/pci/drivers/anpu

result() { # NAME STATUS [SKIP_REASON]
	local name=$1 rc=$2
	case $rc in
	0) echo "ok - $name" ;;
	4) echo "ok - $name # SKIP ${3:-}" ;;
	*) echo "not ok - $name" ;;
	esac
}

run() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[[ $rc -eq 0 || $rc -eq 4 ]] || printf '%s\n' "$out" | sed 's/^/    /'
	result "$name" "$rc" "$(printf '%s\n' "$out" | tail -n 1)"
}

debugfs_dir() {
	local d
	for d in /sys/kernel/debug/accel/*/; do
		[[ -e $d/selftest_nop ]] && { echo "${d%/}"; return 0; }
	done
	echo "no anpu debugfs directory" >&2
	return 1
}

anpu_bdf() {
	local l
	for l in "$DRV"/0000:*; do
		[[ -e $l ]] && { basename "$l"; return 0; }
	done
	return 1
}

test_accel_node() {
	[[ -c /dev/accel/accel0 ]] || { echo "no /dev/accel/accel0"; return 1; }
	[[ $(cat /sys/class/accel/accel0/device/vendor) == 0x1af4 ]]
}

test_selftest_nop() {
	local d
	d=$(debugfs_dir) || return 1
	echo 1 >"$d/selftest_nop"
}

test_selftest_fault() {
	local d before after
	d=$(debugfs_dir) || return 1
	before=$(awk '$1 == "irq_error" { print $2 }' "$d/counters")
	echo 1 >"$d/selftest_fault" || return 1
	after=$(awk '$1 == "irq_error" { print $2 }' "$d/counters")
	[[ $after -gt $before ]] || { echo "error interrupts $before -> $after"; return 1; }
	# the queue works again after the fault
	echo 1 >"$d/selftest_nop"
}

test_counters_zero() {
	local d n
	d=$(debugfs_dir) || return 1
	for n in bos jobs contexts address_spaces; do
		grep -qx "$n 0" "$d/counters" || { cat "$d/counters"; return 1; }
	done
}

test_unbind_rebind() {
	local bdf i
	bdf=$(anpu_bdf) || { echo "anpu is bound to no device"; return 1; }
	for ((i = 0; i < CYCLES; i++)); do
		test_counters_zero || return 1
		echo "$bdf" >"$DRV/unbind" || return 1
		[[ ! -e /sys/class/accel/accel0 ]] || { echo "accel0 still there after unbind"; return 1; }
		echo "$bdf" >"$DRV/bind" || return 1
		test_accel_node || return 1
		test_selftest_nop || return 1
	done
	test_counters_zero
}

test_reload() {
	local i
	[[ -r $KO ]] || { echo "no $KO"; return 4; }
	for ((i = 0; i < CYCLES; i++)); do
		rmmod anpu || return 1
		[[ ! -e /sys/class/accel/accel0 ]] || { echo "accel0 still there after rmmod"; return 1; }
		insmod "$KO" || return 1
		test_accel_node || return 1
		test_selftest_nop || return 1
		test_selftest_fault || return 1
	done
	test_counters_zero
}

test_smoke() {
	local smoke=${ANPU_SMOKE:-}
	[[ -x $smoke ]] || { echo "no anpu-smoke"; return 4; }
	local f
	"$smoke" "$(debugfs_dir)" || return 1
	# the hangs left devcoredumps (each holds the module): read, then dismiss them
	for f in /sys/class/devcoredump/devcd*/data; do
		[[ -e $f ]] || continue
		grep -q '^ANPU hang' "$f" || { echo "coredump without the ANPU header"; return 1; }
		echo 1 >"$f"
	done
	test_counters_zero
}

test_runtime_pm() {
	local bdf st
	bdf=$(anpu_bdf) || return 1
	sleep 0.5
	st=$(cat /sys/bus/pci/devices/$bdf/power/runtime_status)
	[[ $st == suspended ]] || { echo "idle device is $st"; return 1; }
	test_selftest_nop
}

test_unbind_open_fd() {
	local bdf rc=0
	bdf=$(anpu_bdf) || return 1
	exec 3<>/dev/accel/accel0 || return 1
	echo "$bdf" >"$DRV/unbind" || rc=1
	exec 3>&-
	echo "$bdf" >"$DRV/bind" || return 1
	test_accel_node && test_selftest_nop && test_counters_zero && return $rc
	return 1
}

test_foreign_refused() {
	local dev found=0
	for dev in /sys/bus/pci/devices/*; do
		[[ $(cat "$dev/vendor") == 0x1af4 && $(cat "$dev/device") == 0x1110 ]] || continue
		[[ -e $dev/driver ]] && continue
		found=1
	done
	[[ $found -eq 1 ]] || { echo "no foreign ivshmem device (anpu-vp --foreign)"; return 4; }
	dmesg | grep -q 'anpu .*not an ANPU' || { echo "no 'not an ANPU' in dmesg"; return 1; }
	[[ $(ls /sys/class/accel | wc -l) -eq 1 ]]
}

run "accel node and PCI vendor" test_accel_node
run "debugfs self-test: NOP job, completion interrupt" test_selftest_nop
run "debugfs self-test: injected fault, error interrupt and status" test_selftest_fault
run "object counters at zero" test_counters_zero
run "ioctls: BOs, SCALE job, fault, hang, failing reset, PRIME, fdinfo" test_smoke
run "runtime PM: suspended when idle, resumes for a job" test_runtime_pm
run "unbind with an open file" test_unbind_open_fd
run "unbind/rebind x$CYCLES" test_unbind_rebind
run "rmmod/insmod x$CYCLES" test_reload
run "foreign ivshmem device refused" test_foreign_refused
exit 0
