#!/bin/bash
# SPDX-License-Identifier: MIT
# VM tests of the virtual platform (make check-vm): boots the guest a few
# times with anpu-vp. Prints TAP.
#   tests/vm/run.sh [BUILD_DIR]
set -u
BUILD=$(readlink -f "${1:-build}")
VP=$BUILD/bin/anpu-vp
SIM=$BUILD/bin/anpu-sim
TIMEOUT=${ANPU_VM_TIMEOUT:-240}
. tests/lib/tap.sh
SIM_PID=
mkdir -p "$BUILD/vp"
TMP=$(mktemp -d "$BUILD/vp/vmtest.XXXXXX")

cleanup() {
	[[ -z $SIM_PID ]] || kill "$SIM_PID" 2>/dev/null
	[[ -z $SIM_PID ]] || wait "$SIM_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { tap_ok "$1"; }
ko() { tap_not_ok "$1"; }

# the module anpu-vp loads (ANPU_KO: the one `make` built for this kernel)
for f in "$VP" "$SIM" "${ANPU_KO:-$BUILD/kmod/anpu.ko}"; do
	[[ -e $f ]] || { tap_not_ok "tests/vm: $f exists (make vm kmod)"; tap_plan; exit 1; }
done

# the ioctl smoke test runs in the guest from the host's build directory
mkdir -p "$BUILD/tests"
gcc -O1 -Wall -I uapi -I /usr/include/libdrm -o "$BUILD/tests/anpu-smoke" tests/vm/anpu-smoke.c ||
	echo "# tests/vm: anpu-smoke not built"

# 1. the driver tests, in one guest with a foreign ivshmem device too
echo "# == guest: driver tests"
out=$(ANPU_SMOKE=$BUILD/tests/anpu-smoke "$VP" run --foreign --timeout "$TIMEOUT" -- tests/vm/guest-driver.sh 2>&1)
rc=$?
tap_merge <<<"$out"
if [[ $rc -eq 0 ]]; then ok "guest kernel log clean (driver tests)"; else ko "guest run (status $rc)"; fi

# 2. the goal check: the command's output is what it printed; anpu-vp's own
# notices go to stderr (e.g. a boot it took again after the stock kernel's
# int3 Oops at start-up under TCG, which it announces and retries) and are
# shown, not compared
echo "# == goal: anpu-vp run -- cat /sys/class/accel/accel0/device/vendor"
out=$("$VP" run --timeout "$TIMEOUT" -- cat /sys/class/accel/accel0/device/vendor 2>"$TMP/err")
rc=$?
echo "#   $out"
tap_comment <"$TMP/err"
if [[ $rc -eq 0 && $out == 0x1af4 ]]; then ok "accel0 vendor is 0x1af4"; else ko "accel0 vendor ($rc: $out)"; fi

# 2b. the command's arguments reach the guest verbatim: a newline (bash's %q
# writes $'...', which only bash reads), a quote, a dollar sign
echo "# == anpu-vp passes arguments verbatim"
out=$("$VP" run --no-device --kmod none --timeout "$TIMEOUT" -- printf '%s|' $'a\nb' "it's" '$HOME' \
	2>"$TMP/err")
rc=$?
tap_comment <"$TMP/err"
if [[ $rc -eq 0 && $out == $'a\nb|it\'s|$HOME|' ]]; then ok "arguments with a newline, a quote and a \$ arrive verbatim"
else ko "arguments (status $rc)"; printf '%s\n' "$out" | tail -n 5 | tap_comment; fi

# 3. anpu-vp's kernel-log check: a warning in the guest log fails the run, with
# status 1 (the command's own is 0) however long the report: 1500 of them are
# more than the excerpt shows and than a pipe holds (its writer gets SIGPIPE)
echo "# == anpu-vp fails a run whose kernel log shows a warning"
out=$("$VP" run --no-device --kmod none --timeout "$TIMEOUT" -- sh -c \
	'i=0; while [ $i -lt 1500 ]; do echo "WARNING: CPU: 0 PID: 1 at anpu-vp-selftest $i: a line long enough to fill a pipe" > /dev/kmsg; i=$((i + 1)); done' 2>&1)
rc=$?
if [[ $rc -eq 1 && $out == *"anpu-vp-selftest"* ]]; then ok "a WARNING in the guest log fails the run (status 1)"
else ko "log check (status $rc)"; printf '%s\n' "$out" | tail -n 5 | tap_comment; fi

# 3b. a guest whose kernel dies before its init runs (here: no init to run) is
# booted again, ANPU_VP_BOOT_TRIES times, then the run fails with status 125
echo "# == anpu-vp boots again when the kernel dies in its own start-up"
out=$(ANPU_VP_BOOT_TRIES=2 ANPU_VP_APPEND=rdinit=/no-such-init \
	"$VP" run --no-device --kmod none --timeout "$TIMEOUT" -- true 2>&1)
rc=$?
boots=$(grep -c "died in the kernel's own start-up, before its init ran" <<<"$out")
if [[ $rc -eq 125 && $boots -eq 2 && $out == *"Kernel panic"* && $out == *"giving up"* ]]; then
	ok "a kernel that dies before init: booted twice (ANPU_VP_BOOT_TRIES=2), its panic shown, status 125"
else ko "death before init (status $rc, $boots boots)"; printf '%s\n' "$out" | tail -n 5 | tap_comment; fi

# 4. the daemon survives garbage in BAR2 and a guest killed mid-job; the next boot works
echo "# == anpu-sim robustness (one daemon, three guests)"
SOCK=$TMP/anpu-sim.sock
"$SIM" --socket "$SOCK" -v >"$TMP/anpu-sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do [[ -S $SOCK ]] && break; sleep 0.05; done
alive() { kill -0 "$SIM_PID" 2>/dev/null; }

out=$("$VP" run --sim-socket "$SOCK" --timeout "$TIMEOUT" -- python3 tests/vm/guest-garbage.py 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 3 | tap_comment
if [[ $rc -eq 0 ]] && alive; then ok "anpu-sim survives random register values and doorbells"
else ko "garbage guest (status $rc, daemon $(alive && echo alive || echo dead))"; fi

# killed mid-job: anpu-vp (and with it QEMU) is killed once the guest loops jobs
# (not after a fixed time: a loaded host boots slowly)
"$VP" run --sim-socket "$SOCK" --timeout "$TIMEOUT" -- sh -c \
	'd=$(ls -d /sys/kernel/debug/accel/*/ | head -n 1); echo looping; while :; do echo 1 > $d/selftest_nop || exit 1; done' \
	>"$TMP/killed.log" 2>&1 &
vp_pid=$!
for _ in $(seq $((TIMEOUT * ${ANPU_VP_TIMEOUT_SCALE:-1} * 2))); do
	grep -q '^looping' "$TMP/killed.log" && break
	kill -0 "$vp_pid" 2>/dev/null || break
	sleep 0.5
done
sleep 3
kill -TERM "$vp_pid" 2>/dev/null
wait "$vp_pid"
rc=$?
if [[ $rc -eq 143 ]] && grep -q '^looping' "$TMP/killed.log" && alive; then
	ok "anpu-sim survives a guest killed mid-job"
else ko "killed guest (status $rc, daemon $(alive && echo alive || echo dead))"; tail -n 20 "$TMP/killed.log" | tap_comment; fi

out=$("$VP" run --sim-socket "$SOCK" --timeout "$TIMEOUT" -- sh -c \
	'd=$(ls -d /sys/kernel/debug/accel/*/ | head -n 1); echo 1 > $d/selftest_nop && echo 1 > $d/selftest_fault && echo selftests ok' 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 3 | tap_comment
if [[ $rc -eq 0 && $out == *"selftests ok"* ]]; then ok "the next boot works (self-tests pass)"
else ko "next boot (status $rc)"; fi

kill -TERM "$SIM_PID"
wait "$SIM_PID"
rc=$?
SIM_PID=
if [[ $rc -eq 0 && ! -e $SOCK ]]; then ok "anpu-sim exits cleanly on SIGTERM and removes its socket"
else ko "anpu-sim shutdown (status $rc)"; tail -n 20 "$TMP/anpu-sim.log" | tap_comment; fi

# 5. the ioctl fuzzer, a short run on 2 vCPUs (make check-vm-fuzz runs it alone,
#    longer: FUZZ_VM_SECONDS; the seed it prints replays it with ANPU_FUZZ_SEED)
echo "# guest: ioctl fuzzer (${ANPU_VM_FUZZ_SECONDS:-60} s, 2 vCPUs, 2 processes x 2 threads)"
out=$(tests/vm/guest-suite.sh "$BUILD" $((${ANPU_VM_FUZZ_SECONDS:-60} + TIMEOUT)) --smp 2 -- \
	tests/vm/fuzz.sh "${ANPU_VM_FUZZ_SECONDS:-60}" 2>&1)
printf '%s\n' "$out" | grep -v -E '^(PASS|FAIL|SKIP):' | tap_comment
n=0
while IFS= read -r line; do
	n=$((n + 1))
	case $line in
	PASS:*) ok "ioctl fuzzer: ${line#PASS: }" ;;
	FAIL:*) ko "ioctl fuzzer: ${line#FAIL: }" ;;
	SKIP:*) tap_skip "ioctl fuzzer" "${line#SKIP: }" ;;
	esac
done < <(grep -E '^(PASS|FAIL|SKIP):' <<<"$out")
[[ $n -gt 0 ]] || ko "ioctl fuzzer: no results"

tap_plan
exit "$(tap_status)"
