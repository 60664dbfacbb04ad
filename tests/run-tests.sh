#!/usr/bin/env bash
# tests/run-tests.sh — the ANPU test runner (used by `make check`, `make asan`,
# `make valgrind`).
#
#   tests/run-tests.sh BUILD_DIR [SUITE...]
#
# Runs every BUILD_DIR/tests/test_* binary (each a cmocka suite), then every extra SUITE
# given as an argument, one at a time, each under a timeout. A SUITE argument is
#
#   NAME[:TIMEOUT]=COMMAND     e.g.  'fuzz-smoke:900=make -s fuzz-smoke'
#
# (COMMAND runs with `bash -c` from the repository root, stdin from /dev/null.)
# Each suite's output goes to LOG_DIR/<NAME>.log; one line per suite is printed, plus
# the failure lines of failing suites. The last line printed is the sum over all suites,
# alone on its line:
#
#   N passed, N failed, N skipped
#
# and the exit status is nonzero if anything failed.
#
# A suite's counts come from the first of these found in its output:
#   1. a plain line "N passed, N failed, N skipped" (the last one; authoritative, so a
#      suite that runs others and adds them up itself is counted once);
#   2. kselftest totals "# Totals: pass:N fail:N xfail:N xpass:N skip:N error:N" (summed;
#      xfail/xpass count as passed, error as failed);
#   3. cmocka's summaries "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)..." /
#      "[  SKIPPED ] N test(s)..." (summed over groups; a failed group setup/teardown or
#      a group that started and never finished counts 1 failed);
#   4. TAP lines "ok ..." / "not ok ..." ("# SKIP" = skipped);
#   5. libFuzzer: each "Done N runs in S second(s)" (a fuzzing run) and each
#      "Executed FILE in N ms" (a replayed input) is 1 passed; a crash exits nonzero.
# A suite that exits nonzero without a counted failure (crash, sanitizer report, valgrind
# error, ...) gets 1 failed; one that times out gets 1 failed; one that prints nothing
# recognisable, or runs no test at all, counts as 1 failed. A suite that exits with status
# 77 and no summary is skipped as a whole (reason: its last output line).
#
# Environment:
#   SUITE_TIMEOUT   default timeout per suite, seconds (600)
#   LOG_DIR         where logs go (BUILD_DIR/test-logs)
#   TEST_WRAPPER    command prefix for the unit-test binaries (e.g. valgrind ...)
#   TEST_MODE       name of this run (plain, asan, valgrind): a unit-test source with a
#                   line containing "anpu-test: <TEST_MODE>-skip: <reason>" is skipped
#                   as a whole in that mode (e.g. "anpu-test: valgrind-skip: too slow")
#   TEST_BINS       the unit-test binaries to run (default: BUILD_DIR/tests/test_*)
#   TEST_FILTER     extended regex: only unit suites whose name matches run
#   NO_UNIT=1       run only the SUITE arguments
#   RUN_LABEL       prefix printed before suite names (e.g. "asan/")
set -uo pipefail

usage() { sed -n '2,45p' "$0" | sed 's/^# \{0,1\}//'; }

if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
	usage
	[ $# -lt 1 ] && exit 2 || exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2

build=$1
shift
timeout_default=${SUITE_TIMEOUT:-600}
log_dir=${LOG_DIR:-$build/test-logs}
wrapper=${TEST_WRAPPER:-}
mode=${TEST_MODE:-plain}
filter=${TEST_FILTER:-}
label=${RUN_LABEL:-}
mkdir -p "$log_dir" || exit 2

tot_p=0 tot_f=0 tot_s=0 nsuites=0
failed_suites=()

now() { date +%s.%N; }

# parse LOG RC -> "passed failed skipped format"
parse() {
	awk -v rc="$2" '
	function num(s) { gsub(/[^0-9]/, "", s); return s + 0 }
	/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
		plain = 1; split($0, a, /[ ,]+/); pp = a[1]; pf = a[3]; ps = a[5]
	}
	/^# Totals: pass:[0-9]+ fail:[0-9]+/ {
		ks = 1
		for (i = 3; i <= NF; i++) {
			split($i, kv, ":")
			if (kv[1] == "pass" || kv[1] == "xfail" || kv[1] == "xpass") kp += kv[2]
			else if (kv[1] == "fail" || kv[1] == "error") kf += kv[2]
			else if (kv[1] == "skip") kk += kv[2]
		}
	}
	/^\[==========\] Running [0-9]+ test\(s\)\./ { cm = 1; running++; ingrp = 1; gp = gf = gs = 0 }
	/^\[==========\] [0-9]+ test\(s\) run\./     { cm = 1; done++; ingrp = 0 }
	ingrp && /^\[       OK \] /                  { gp++ }
	ingrp && /^\[  FAILED  \] / && !/test\(s\)/   { gf++ }
	ingrp && /^\[  SKIPPED \] / && !/test\(s\)/   { gs++ }
	/^\[  PASSED  \] [0-9]+ test\(s\)\./         { cm = 1; cp += num($4) }
	/^\[  FAILED  \] [0-9]+ test\(s\)/           { cm = 1; cf += num($4) }
	/^\[  SKIPPED \] [0-9]+ test\(s\)/           { cm = 1; cs += num($4) }
	/^\[  FAILED  \] GROUP (SETUP|TEARDOWN)/     { cm = 1; cf++ }
	/^Done [0-9]+ runs in [0-9]+ second/          { lf = 1; lp++ }   # libFuzzer run
	/^Executed .* in [0-9]+ ms$/                  { lf = 1; lp++ }   # libFuzzer replay
	/^ok [0-9]/      { tap = 1; if ($0 ~ /# [Ss][Kk][Ii][Pp]/) ts++; else tp++ }
	/^not ok [0-9]/  { tap = 1; if ($0 ~ /# [Ss][Kk][Ii][Pp]/) ts++; else if ($0 ~ /# TODO/) tp++; else tf++ }
	END {
		if (plain)    { print pp, pf, ps, "plain"; exit }
		if (ks)       { print kp + 0, kf + 0, kk + 0, "kselftest"; exit }
		if (cm)       { # a group that never finished (crash, sanitizer abort): count its
		                # tests so far, plus 1 failed for the group
		                if (ingrp) { cp += gp; cf += gf; cs += gs }
		                if (running > done) cf += running - done
		                print cp + 0, cf + 0, cs + 0, "cmocka"; exit }
		if (tap)      { print tp + 0, tf + 0, ts + 0, "tap"; exit }
		if (lf)       { print lp + 0, 0, 0, "libfuzzer"; exit }
		print 0, 0, 0, "none"
	}' "$1"
}

# lines worth showing for a failing suite
failure_lines() {
	local hits
	hits=$(grep -E -a \
		-e '^\[ +(ERROR|FAILED|LINE) +\] ' \
		-e '^not ok ' -e '^# FAIL' -e 'Test failed with exception' \
		-e 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)' \
		-e 'runtime error:' -e 'SUMMARY: ' -e '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|[0-9,]+ bytes in)' \
		-e '^==[0-9]+== ERROR SUMMARY: [1-9]' \
		-e '^==[0-9]+==.*(deadly signal|crash|leak)' -e 'panic|BUG:|Oops|WARNING: CPU' \
		-e '^(FAIL|CRASH|TIMEOUT)[ :]' -e '^     \| ' -e '^failing suites: ' \
		"$1" | grep -v -E '^\[  FAILED  \] [0-9]+ test\(s\)' | awk '!seen[$0]++' | head -n 40)
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits"
	else
		tail -n 15 "$1"
	fi
}

# cmocka/TAP skip reasons: "name: reason"
skip_lines() {
	awk '
	/^\[  SKIPPED \] / && $0 !~ /test\(s\)/ {
		name = $0; sub(/^\[  SKIPPED \] /, "", name)
		if (prev ~ /^\[  SKIPPED \]/) { prev = $0; next }     # cmocka summary list
		reason = (prev ~ /^\[ RUN +\]/) ? "(no reason given)" : prev
		print name ": " reason
	}
	/^(not )?ok [0-9].*# [Ss][Kk][Ii][Pp]/ { print $0 }
	/^ +skip: /      { sub(/^ +skip: /, ""); print }       # from a nested runner
	/^SKIP /         { print }
	{ prev = $0 }' "$1" | head -n 20
}

run_suite() { # NAME TIMEOUT COMMAND...
	local name=$1 t=$2
	shift 2
	local log="$log_dir/${name//\//_}.log"
	local t0 t1 rc secs p f s how note="" status
	t0=$(now)
	# (subshell: keeps bash's "Segmentation fault" job message out of the output)
	(timeout -k 15 "$t" "$@" </dev/null >"$log" 2>&1) 2>/dev/null
	rc=$?
	t1=$(now)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	# a suite run through make that exits 77 makes make exit 2: look through it
	if [ "$rc" -eq 2 ] && tail -n 1 "$log" | grep -q -E '^g?make(\[[0-9]+\])?: \*\*\* .*Error 77$'; then
		rc=77
	fi
	read -r p f s how < <(parse "$log" "$rc")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		f=$((f + 1)); note="timed out after ${t}s"
	elif [ "$rc" -eq 77 ] && [ "$how" = none ]; then
		s=1; note="skipped: $(grep -v -E '^[[:space:]]*$|^g?make(\[[0-9]+\])?: ' "$log" | tail -n 1)"
	elif [ "$how" = none ]; then
		f=$((f + 1)); note="no recognisable test summary (exit status $rc)"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		if [ "$rc" -gt 128 ]; then note="killed by signal $((rc - 128))"
		else note="exit status $rc"; fi
	elif [ $((p + f + s)) -eq 0 ]; then
		f=1; note="no test ran"
	elif [ "$rc" -ne 0 ]; then
		if [ "$rc" -gt 128 ]; then note="killed by signal $((rc - 128))"
		else note="exit status $rc"; fi
	fi
	if [ "$f" -gt 0 ]; then status=FAIL
	elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then status=SKIP
	else status=PASS; fi
	printf '%-4s %-28s %4d passed, %d failed, %d skipped  %6ss%s\n' \
		"$status" "$label$name" "$p" "$f" "$s" "$secs" "${note:+  ($note)}"
	if [ "$f" -gt 0 ]; then
		failure_lines "$log" | sed 's/^/     | /'
		echo "     | log: $log"
		failed_suites+=("$label$name")
	elif [ "$s" -gt 0 ] && [ -z "$note" ]; then
		skip_lines "$log" | sed 's/^/     skip: /'
	fi
	tot_p=$((tot_p + p)) tot_f=$((tot_f + f)) tot_s=$((tot_s + s))
	nsuites=$((nsuites + 1))
}

skip_suite() { # NAME REASON
	printf '%-4s %-28s %4d passed, %d failed, %d skipped  %6ss  (skipped: %s)\n' \
		SKIP "$label$1" 0 0 1 0.0 "$2"
	tot_s=$((tot_s + 1)) nsuites=$((nsuites + 1))
}

# ---- unit suites: BUILD/tests/test_* ----
if [ "${NO_UNIT:-0}" != 1 ]; then
	if [ -n "${TEST_BINS+set}" ]; then bins=(${TEST_BINS}); else bins=("$build"/tests/test_*); fi
	for bin in "${bins[@]}"; do
		name=$(basename "$bin")
		if [ -n "$filter" ] && ! [[ $name =~ $filter ]]; then continue; fi
		if [ -n "${TEST_BINS+set}" ] && ! [ -x "$bin" ]; then
			run_suite "$name" 5 bash -c "echo 'run-tests.sh: $bin: not built'; exit 1"
			continue
		fi
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		src=tests/unit/$name.c
		if [ -f "$src" ]; then
			reason=$(grep -m1 -o "anpu-test: $mode-skip:.*" "$src" | sed "s/^anpu-test: $mode-skip: *//; s/ *\*\/.*//")
			if [ -n "$reason" ]; then skip_suite "$name" "$reason"; continue; fi
		fi
		# shellcheck disable=SC2086
		run_suite "$name" "$timeout_default" $wrapper "$bin"
	done
fi

# ---- extra suites: NAME[:TIMEOUT]=COMMAND ----
for spec in "$@"; do
	if ! [[ $spec =~ ^([A-Za-z0-9_./-]+)(:([0-9]+))?=(.+)$ ]]; then
		echo "run-tests.sh: bad suite '$spec' (want NAME[:TIMEOUT]=COMMAND)" >&2
		run_suite "bad-suite-spec" 1 false
		continue
	fi
	# (this run's settings must not leak into a suite that runs a runner itself)
	run_suite "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]:-$timeout_default}" \
		env -u TEST_WRAPPER -u TEST_MODE -u NO_UNIT -u LOG_DIR -u RUN_LABEL -u TEST_BINS \
		bash -c "${BASH_REMATCH[4]}"
done

if [ "$nsuites" -eq 0 ]; then
	echo "run-tests.sh: no test suite found in $build/tests (did the build run?)" >&2
	tot_f=$((tot_f + 1))
fi
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failing suites: ${failed_suites[*]}  (logs in $log_dir/)"
fi
{
	echo "$tot_p passed, $tot_f failed, $tot_s skipped"
} | tee "$log_dir/summary.txt"
[ "$tot_f" -eq 0 ]
