#!/bin/bash
# SPDX-License-Identifier: MIT
# make check-selftests: runs every ANPU selftest program in one anpu-vp boot and
# ends with "N passed, N failed, N skipped" (the kselftest totals of all programs,
# plus one test for a clean guest kernel log, which anpu-vp checks).
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
BUILD=$1
shift
VP=$BUILD/bin/anpu-vp
TIMEOUT=${ANPU_SELFTEST_TIMEOUT:-1100}
for f in "$VP" "$BUILD/bin/anpu-sim" "${ANPU_SELFTEST_KMOD:-${ANPU_KO:-$BUILD/kmod/anpu.ko}}"; do
	[[ -e $f ]] || { echo "check-selftests: $f missing"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done
dir=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
exp=
trap 'rm -f "$log"; [[ -z $exp ]] || rm -rf "$exp"' EXIT
if [[ " $* " == *" anpu_job_test "* ]]; then
	exp=$(mktemp -d "$(cd "$BUILD" && pwd)/selftests/expected.XXXXXX")
	if ! "$BUILD/selftests/anpu_job_test" --record "$exp" >"$log" 2>&1; then
		cat "$log"
		echo "check-selftests: recording the model's results on the host failed"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	echo "# anpu_job_test: expected outputs recorded on the host ($(cat "$exp/simd") path${ANPU_SIM_SIMD:+, ANPU_SIM_SIMD=$ANPU_SIM_SIMD}) in $exp"
	export ANPU_SELFTEST_EXPECTED=$exp
fi
"$VP" run --timeout "$TIMEOUT" ${ANPU_SELFTEST_KMOD:+--kmod "$ANPU_SELFTEST_KMOD"} -- "$dir/run_guest.sh" "$BUILD/selftests" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
read -r _ p f s < <(grep -E '^GUEST-SUMMARY ' "$log" | tail -n 1)
p=${p:-0} f=${f:-0} s=${s:-0}
if [[ $rc -eq 0 ]]; then
	echo "ok: guest run finished with a clean kernel log"
	p=$((p + 1))
else
	echo "not ok: guest run failed (anpu-vp status $rc: 1 = dirty kernel log, 124 = timeout)"
	f=$((f + 1))
fi
echo "# Totals: pass:$p fail:$f xfail:0 xpass:0 skip:$s error:0"
echo "$p passed, $f failed, $s skipped"
[[ $f -eq 0 ]]
