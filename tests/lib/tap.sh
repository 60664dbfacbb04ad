# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# tests/lib/tap.sh — TAP output for test scripts (bash). Source it, report each
# check, end with tap_plan; the exit status is tap_status's:
#
#   . tests/lib/tap.sh
#   tap_ok "the daemon starts"            ok - the daemon starts
#   tap_not_ok "vendor is 0x1af4 (got x)" not ok - ...
#   tap_skip "PM" "no runtime PM"         ok - PM # SKIP no runtime PM
#   tap_merge <file                       another program's TAP (cmocka, kselftest...)
#                                         into this stream (tests/lib/tap-merge.awk)
#   tap_plan; exit "$(tap_status)"        1..N; 0 unless something failed
#   tap_skip_all "no 6.12 kernel"         1..0 # SKIP no 6.12 kernel (the whole script)
# Other output is fine as "# " comments (tap_comment prefixes every line of stdin).
TAP_COUNT=0
TAP_FAILED=0
TAP_AWK=${TAP_AWK:-$(dirname "${BASH_SOURCE[0]}")/tap-merge.awk}

tap_ok() { TAP_COUNT=$((TAP_COUNT + 1)); echo "ok - $*"; }
tap_not_ok() { TAP_COUNT=$((TAP_COUNT + 1)) TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok - $*"; }
tap_skip() { local name=$1; shift; TAP_COUNT=$((TAP_COUNT + 1)); echo "ok - $name # SKIP $*"; }
tap_comment() { sed 's/^/# /'; }

tap_merge() { # [PREFIX] <TAP
	local out
	out=$(awk -v plan=0 -v prefix="${1:-}" -f "$TAP_AWK")
	[[ -z $out ]] || printf '%s\n' "$out"
	TAP_COUNT=$((TAP_COUNT + $(grep -cE '^(not )?ok ' <<<"$out")))
	TAP_FAILED=$((TAP_FAILED + $(grep -E '^not ok ' <<<"$out" | grep -cvE '#[[:space:]]*TODO')))
}

tap_plan() { echo "1..$TAP_COUNT"; }
tap_skip_all() { echo "1..0 # SKIP $*"; }
tap_status() { [[ $TAP_FAILED -eq 0 ]] && echo 0 || echo 1; }
