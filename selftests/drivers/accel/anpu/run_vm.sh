#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-selftests: runs every ANPU selftest program in one anpu-vp boot.
# Prints TAP: the tests of all programs (their kselftest TAP merged into one
# stream by tests/lib/tap.sh), plus one test for a clean guest kernel log, which
# anpu-vp checks.
#   run_vm.sh BUILD_DIR PROG...
# ANPU_SELFTEST_TIMEOUT bounds the guest run (default 1100 s); ANPU_SELFTEST_KMOD
# names another anpu.ko to load (default: anpu-vp's, $ANPU_KO or $BUILD/kmod/anpu.ko).
#
# anpu_job_test compares the kernel's results with the reference model's bit for
# bit. The model's SIMD path (portable, AVX2, AVX-512: chosen by cpuid or
# ANPU_SIM_SIMD) changes the last bits of quantized matmuls, and anpu-sim runs on
# this host, not in the TCG guest. So the expected outputs are recorded here first
# (anpu_job_test --record DIR, in this environment, which anpu-vp's anpu-sim
# inherits: same cpuid, same ANPU_SIM_SIMD, same path) into a directory under
# BUILD_DIR that the guest reads over 9p (ANPU_SELFTEST_EXPECTED).
set -u
. tests/lib/tap.sh
BUILD=$1
shift
VP=$BUILD/bin/anpu-vp
TIMEOUT=${ANPU_SELFTEST_TIMEOUT:-1100}
for f in "$VP" "$BUILD/bin/anpu-sim" "${ANPU_SELFTEST_KMOD:-${ANPU_KO:-$BUILD/kmod/anpu.ko}}"; do
	[[ -e $f ]] || { tap_not_ok "check-selftests: $f exists"; tap_plan; exit 1; }
done
dir=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
exp=
trap 'rm -f "$log"; [[ -z $exp ]] || rm -rf "$exp"' EXIT
if [[ " $* " == *" anpu_job_test "* ]]; then
	exp=$(mktemp -d "$(cd "$BUILD" && pwd)/selftests/expected.XXXXXX")
	if ! "$BUILD/selftests/anpu_job_test" --record "$exp" >"$log" 2>&1; then
		tap_comment <"$log"
		tap_not_ok "check-selftests: recording the model's results on the host"
		tap_plan
		exit 1
	fi
	echo "# anpu_job_test: expected outputs recorded on the host ($(cat "$exp/simd") path${ANPU_SIM_SIMD:+, ANPU_SIM_SIMD=$ANPU_SIM_SIMD}) in $exp"
	export ANPU_SELFTEST_EXPECTED=$exp
fi
"$VP" run --timeout "$TIMEOUT" ${ANPU_SELFTEST_KMOD:+--kmod "$ANPU_SELFTEST_KMOD"} -- "$dir/run_guest.sh" "$BUILD/selftests" "$@" >"$log" 2>&1
rc=$?
tap_merge <"$log"
if [[ $rc -eq 0 ]]; then
	tap_ok "guest run finished with a clean kernel log"
else
	tap_not_ok "guest run failed (anpu-vp status $rc: 1 = dirty kernel log, 124 = timeout)"
fi
tap_plan
exit "$(tap_status)"
