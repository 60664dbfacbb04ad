#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs inside the anpu-vp guest (cwd = repository root, anpu.ko loaded): every
# selftest program in turn, its TAP output passed through (run_vm.sh merges the
# programs' streams into one), then one combined "# Totals:" comment.
#   run_guest.sh BIN_DIR PROG...
# A program that dies without printing its totals adds one failed test.
# ANPU_SELFTEST_ARGS is passed to every program (harness options).
set -u
dir=$1
shift
pass=0 fail=0 xfail=0 xpass=0 skip=0 error=0
echo 1 >/proc/sys/kernel/printk_ratelimit 2>/dev/null
for prog in "$@"; do
	echo "# ==== $prog"
	out=$(mktemp)
	# shellcheck disable=SC2086
	"$dir/$prog" ${ANPU_SELFTEST_ARGS:-} 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^# Totals: pass:[0-9]+' "$out" | tail -n 1)
	if [[ -z $line ]]; then
		echo "not ok - $prog: no totals (exit status $rc)"
		fail=$((fail + 1))
	else
		# (no process substitution: the guest has no /dev/fd)
		read -r p f xf xp s e <<<"$(sed -E 's/.*pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+).*/\1 \2 \3 \4 \5 \6/' <<<"$line")"
		pass=$((pass + p)) fail=$((fail + f)) xfail=$((xfail + xf))
		xpass=$((xpass + xp)) skip=$((skip + s)) error=$((error + e))
	fi
	rm -f "$out"
done
echo "# all programs: Totals: pass:$pass fail:$fail xfail:$xfail xpass:$xpass skip:$skip error:$error"
