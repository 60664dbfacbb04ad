#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A shared library exports exactly the functions its public header declares, each
# marked with the header's visibility macro (the library is built with
# -fvisibility=hidden). Prints TAP. Used by make accel-exports / anpurt-exports and
# the install test (on the installed copies).
#
#   tests/lib/exports.sh LIB.so HEADER PREFIX MACRO
#   e.g. tests/lib/exports.sh build/lib/libaccel.so libaccel/include/accel.h accel_ ACCEL_API
set -u
. "$(dirname "$0")/tap.sh"
[[ $# -eq 4 ]] || { echo "usage: exports.sh LIB.so HEADER PREFIX MACRO" >&2; exit 2; }
so=$1 header=$2 prefix=$3 macro=$4
lib=$(basename "$so") hdr=$(basename "$header")
decl_re="^[A-Za-z].*\\b${prefix}[a-z0-9_]+\\("
# function declarations of the header (not the static inline helpers)
declared=$(grep -E "$decl_re" "$header" | grep -vE '^(static|typedef|#)' |
	   sed -E "s/.*\\b(${prefix}[a-z0-9_]+)\\(.*/\\1/" | sort -u)
unmarked=$(grep -E "$decl_re" "$header" | grep -vE "^(static|typedef|#|$macro )")
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TWDBRV]$/ { print $3 }' | sort -u)

if [[ -z $unmarked ]]; then
	tap_ok "every function $hdr declares is marked $macro"
else
	printf '%s\n' "$unmarked" | tap_comment
	tap_not_ok "every function $hdr declares is marked $macro"
fi
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
if [[ -n $declared && -z $missing ]]; then
	tap_ok "$lib exports all $(wc -l <<<"$declared") functions of $hdr"
else
	printf 'not exported: %s\n' $missing | tap_comment
	tap_not_ok "$lib exports every function of $hdr"
fi
extra=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
if [[ -z $extra ]]; then
	tap_ok "$lib exports nothing else (internals hidden)"
else
	printf 'exported but not in %s: %s\n' "$hdr" $extra | tap_comment
	tap_not_ok "$lib exports nothing else"
fi
tap_plan
exit "$(tap_status)"
