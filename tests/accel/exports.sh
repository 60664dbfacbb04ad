#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make accel-exports: libaccel.so exports exactly the functions accel.h declares
# (the shared library is built with -fvisibility=hidden; ACCEL_API marks the API).
# Prints TAP.   tests/accel/exports.sh LIBACCEL_SO ACCEL_H
set -u
. "$(dirname "$0")/../lib/tap.sh"
so=$1 header=$2
# function declarations of the header (not the static inline helpers)
declared=$(grep -E '^[A-Za-z].*\baccel_[a-z0-9_]+\(' "$header" | grep -vE '^(static|typedef|#)' |
	   sed -E 's/.*\b(accel_[a-z0-9_]+)\(.*/\1/' | sort -u)
unmarked=$(grep -E '^[A-Za-z].*\baccel_[a-z0-9_]+\(' "$header" | grep -vE '^(static|typedef|#|ACCEL_API )')
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TWDBRV]$/ { print $3 }' | sort -u)

if [[ -z $unmarked ]]; then
	tap_ok "every function accel.h declares is marked ACCEL_API"
else
	printf '%s\n' "$unmarked" | tap_comment
	tap_not_ok "every function accel.h declares is marked ACCEL_API"
fi
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
if [[ -n $declared && -z $missing ]]; then
	tap_ok "libaccel.so exports all $(wc -l <<<"$declared") functions of accel.h"
else
	printf 'not exported: %s\n' $missing | tap_comment
	tap_not_ok "libaccel.so exports every function of accel.h"
fi
extra=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
if [[ -z $extra ]]; then
	tap_ok "libaccel.so exports nothing else (backends and model hidden)"
else
	printf 'exported but not in accel.h: %s\n' $extra | tap_comment
	tap_not_ok "libaccel.so exports nothing else"
fi
tap_plan
exit "$(tap_status)"
