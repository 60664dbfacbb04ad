#!/usr/bin/env bash
# tests/run-tests.sh — the ANPU test runner (used by `make check`, `make asan`,
# `make tsan`, `make valgrind`).
#
#   tests/run-tests.sh BUILD_DIR [SUITE...]
#
# Runs every unit-test binary (cmocka suites, with CMOCKA_MESSAGE_OUTPUT=tap), then
# every extra SUITE given as an argument, one at a time, each under a timeout. A SUITE
# argument is
#
#   NAME[:TIMEOUT]=COMMAND     e.g.  'fuzz-smoke:900=make -s fuzz-smoke'
#
# (COMMAND runs with `bash -c` from the repository root, stdin from /dev/null.)
# Every suite speaks TAP. Its output goes through tests/lib/tap-merge.awk (one stream:
# the programs' plans checked, anything else made a comment) and is judged by `prove`
# (TAP::Harness): the log LOG_DIR/<NAME>.log is prove's verbose output. One line per
# suite is printed, plus the failing tests of failing suites and the reasons of
# skipped ones. The last line printed is the sum over all suites, alone on its line:
#
#   N passed, N failed, N skipped
#
# and the exit status is nonzero if anything failed. A suite's counts are its test
# lines: "ok" (passed; "not ok ... # TODO" too), "not ok" (failed), "# SKIP"
# (skipped; "1..0 # SKIP reason", a suite that skipped itself, is one). A suite that
# prove fails without a failed test line (exit status, crash, bad plan, sanitizer
# report) gets 1 failed; one that times out gets 1 failed; one that reports no test
# gets 1 failed. Older suite forms still count: a suite that exits with status 77 and
# reports nothing is skipped (reason: its last output line), and one that prints only
# a plain "N passed, N failed, N skipped" line is counted by it.
#
# Run by another runner (RUN_TESTS_NESTED=1, which this runner sets for its suites),
# the output is TAP as well: every test line of every suite, described as
# "<suite>: <test>", then the plan, then the summary line.
#
# Environment:
#   SUITE_TIMEOUT   default timeout per suite, seconds (600)
#   LOG_DIR         where logs go (BUILD_DIR/test-logs)
#   TEST_WRAPPER    command prefix for the unit-test binaries (e.g. valgrind ...)
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
if ! command -v prove >/dev/null; then
	echo "run-tests.sh: prove (TAP::Harness, Debian package perl) not found: make deps" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

build=$1
shift
timeout_default=${SUITE_TIMEOUT:-600}
log_dir=${LOG_DIR:-$build/test-logs}
run_dir=$log_dir/run
wrapper=${TEST_WRAPPER:-}
filter=${TEST_FILTER:-}
label=${RUN_LABEL:-}
nested=${RUN_TESTS_NESTED:-0}
mkdir -p "$log_dir" "$run_dir" || exit 2
# The in-process runtime's weight cache files (runtime/src/graph/weights_cache.c)
# of the tests' models: this run's own, not the user's cache (removed when the
# next run starts)
if [ "$nested" != 1 ] && [ -z "${ANPU_WEIGHT_CACHE_DIR:-}" ]; then
	export ANPU_WEIGHT_CACHE_DIR=$build/test-weight-cache
	rm -rf "$ANPU_WEIGHT_CACHE_DIR"
fi

tot_p=0 tot_f=0 tot_s=0 nsuites=0
failed_suites=()

now() { date +%s.%N; }

# Human-readable lines: plain on a terminal or in a log, comments in nested TAP.
say() { if [ "$nested" = 1 ]; then sed 's/^/# /'; else cat; fi; }

# count LOG -> "passed failed skipped": the test lines of prove's verbose output (the
# merged stream's, always "ok - ..." / "not ok - ...": prove's own verdict is a bare "ok")
count() {
	awk '
	/^ok - /     { if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) s++; else p++ }
	/^not ok - / { if ($0 ~ /#[ \t]*[Tt][Oo][Dd][Oo]/) p++; else f++ }
	END { print p + 0, f + 0, s + 0 }' "$1"
}

# a plain "N passed, N failed, N skipped" line of an older suite (commented by the merge)
plain_counts() {
	sed -n -E 's/^# ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/p' "$1" | tail -n 1
}

# lines worth showing for a failing suite: its failed tests, sanitizer/valgrind/kernel
# reports, prove's verdict
failure_lines() {
	local hits
	hits=$(grep -E -a \
		-e '^not ok' -e 'Test failed with exception' -e ': error: ' \
		-e 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer)' \
		-e 'WARNING: ThreadSanitizer' -e 'runtime error:' -e 'SUMMARY: ' \
		-e '==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|[0-9,]+ bytes in)' \
		-e '==[0-9]+== ERROR SUMMARY: [1-9]' -e '==[0-9]+==.*(deadly signal|crash|leak)' \
		-e 'panic|BUG:|Oops|WARNING: CPU' -e '^# (FAIL|CRASH|TIMEOUT)[ :]' \
		-e '^Dubious' -e '^  (Failed tests?|Parse errors|Non-zero exit status):' \
		"$1" | awk '!seen[$0]++' | head -n 40)
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits"
	else
		tail -n 15 "$1"
	fi
}

# skip reasons: the skipped test lines
skip_lines() {
	grep -E '^ok - .*#[ \t]*[Ss][Kk][Ii][Pp]' "$1" |
		sed -E 's/^ok - //; s/[ \t]*#[ \t]*[Ss][Kk][Ii][Pp][ \t]*/: /; s/^: //' | head -n 20
}

# In nested mode: this suite's test lines as "<suite>: <test>", then @extra (a line
# the runner adds: a timeout, a crash, a whole-suite skip).
nested_tap() { # LOG NAME [EXTRA]
	[ "$nested" = 1 ] || return 0
	sed -n -E "s/^(not ok|ok) - /\1 - $(printf '%s' "$2" | sed 's/[\/&]/\\&/g'): /p" "$1"
	[ -z "${3:-}" ] || printf '%s\n' "$3"
}

# In nested mode, an older suite's plain counts as test lines.
nested_plain() { # NAME P F S
	[ "$nested" = 1 ] || return 0
	local i
	for ((i = 0; i < $2; i++)); do echo "ok - $1"; done
	for ((i = 0; i < $3; i++)); do echo "not ok - $1"; done
	for ((i = 0; i < $4; i++)); do echo "ok - $1 # SKIP"; done
}

run_suite() { # NAME TIMEOUT COMMAND...
	local name=$1 t=$2
	shift 2
	local base=${name//\//_}
	local log="$log_dir/$base.log" out="$run_dir/$base.out" rcfile="$run_dir/$base.rc"
	local script="$run_dir/$base.sh"
	local t0 t1 rc prove_rc secs p f s note="" status extra="" plain
	# the suite as a TAP source for prove: run it, merge its output into one stream
	{
		echo "# $label$name (generated by tests/run-tests.sh)"
		printf 'cd %q || exit 2\n' "$root"
		printf '(timeout -k 15 %q' "$t"
		printf ' %q' "$@"
		printf ' </dev/null >%q 2>&1) 2>/dev/null\n' "$out"
		echo 'rc=$?'
		printf 'echo "$rc" >%q\n' "$rcfile"
		printf 'awk -f tests/lib/tap-merge.awk %q\n' "$out"
		echo 'exit "$rc"'
	} >"$script"
	rm -f "$rcfile"
	t0=$(now)
	prove -v --merge --norc --exec bash "$script" >"$log" 2>&1
	prove_rc=$?
	t1=$(now)
	rc=$(cat "$rcfile" 2>/dev/null || echo 125)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	# a suite run through make that exits 77 makes make exit 2: look through it
	if [ "$rc" -eq 2 ] && grep -v -E '^[[:space:]]*$' "$out" | tail -n 1 |
			grep -q -E '^g?make(\[[0-9]+\])?: \*\*\* .*Error 77$'; then
		rc=77
	fi
	read -r p f s < <(count "$log")
	plain=$(plain_counts "$log")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		f=$((f + 1)); note="timed out after ${t}s"
		extra="not ok - $label$name: timed out after ${t}s"
	elif [ "$rc" -eq 77 ] && [ $((p + f + s)) -eq 0 ]; then
		note="skipped: $(grep -v -E '^[[:space:]]*$|^g?make(\[[0-9]+\])?: ' "$out" | tail -n 1)"
		s=1; extra="ok - $label$name # SKIP ${note#skipped: }"
	elif [ $((p + f + s)) -eq 0 ] && [ -n "$plain" ]; then
		read -r p f s <<<"$plain"	# an older suite: a plain summary line, no TAP
		note="counted by its summary line, not TAP"
	elif [ "$prove_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then note="killed by signal $((rc - 128))"
		elif [ "$rc" -ne 0 ]; then note="exit status $rc"
		else note="prove: $(grep -m1 -E '^  Parse errors:' "$log" | sed 's/^  Parse errors: //')"; fi
		extra="not ok - $label$name: $note"
	elif [ $((p + f + s)) -eq 0 ]; then
		f=1; note="no test ran"; extra="not ok - $label$name: no test ran"
	elif [ "$rc" -ne 0 ]; then
		if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then note="killed by signal $((rc - 128))"
		else note="exit status $rc"; fi
	fi
	if [ "$f" -gt 0 ]; then status=FAIL
	elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then status=SKIP
	else status=PASS; fi
	{
		printf '%-4s %-28s %4d passed, %d failed, %d skipped  %6ss%s\n' \
			"$status" "$label$name" "$p" "$f" "$s" "$secs" "${note:+  ($note)}"
		if [ "$f" -gt 0 ]; then
			failure_lines "$log" | sed 's/^/     | /'
			echo "     | log: $log"
		elif [ "$s" -gt 0 ] && [ -z "$note" ]; then
			skip_lines "$log" | sed 's/^/     skip: /'
		fi
	} | say
	if [ "$note" = "counted by its summary line, not TAP" ]; then
		nested_plain "$label$name" "$p" "$f" "$s"
	else
		nested_tap "$log" "$label$name" "$extra"
	fi
	[ "$f" -eq 0 ] || failed_suites+=("$label$name")
	tot_p=$((tot_p + p)) tot_f=$((tot_f + f)) tot_s=$((tot_s + s))
	nsuites=$((nsuites + 1))
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
		# shellcheck disable=SC2086
		run_suite "$name" "$timeout_default" env CMOCKA_MESSAGE_OUTPUT=tap $wrapper "$bin"
	done
fi

# ---- extra suites: NAME[:TIMEOUT]=COMMAND ----
for spec in "$@"; do
	if ! [[ $spec =~ ^([A-Za-z0-9_./-]+)(:([0-9]+))?=(.+)$ ]]; then
		echo "run-tests.sh: bad suite '$spec' (want NAME[:TIMEOUT]=COMMAND)" >&2
		run_suite "bad-suite-spec" 1 false
		continue
	fi
	# (this run's settings must not leak into a suite that runs a runner itself, which
	# then prints its tests as TAP)
	run_suite "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]:-$timeout_default}" \
		env -u TEST_WRAPPER -u NO_UNIT -u LOG_DIR -u RUN_LABEL -u TEST_BINS \
		RUN_TESTS_NESTED=1 bash -c "${BASH_REMATCH[4]}"
done

if [ "$nsuites" -eq 0 ]; then
	echo "run-tests.sh: no test suite found in $build/tests (did the build run?)" >&2
	tot_f=$((tot_f + 1))
	[ "$nested" != 1 ] || echo "not ok - ${label}run-tests.sh: no test suite found in $build/tests"
fi
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failing suites: ${failed_suites[*]}  (logs in $log_dir/)" | say
fi
[ "$nested" != 1 ] || echo "1..$((tot_p + tot_f + tot_s))"
{
	echo "$tot_p passed, $tot_f failed, $tot_s skipped"
} | tee "$log_dir/summary.txt"
[ "$tot_f" -eq 0 ]
