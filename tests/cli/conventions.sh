#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make check-cli: every program in BUILD_DIR/bin follows the command-line conventions
# (tools/common/anpu_cli.h): -h and --help print a "Usage: NAME" line on stdout and exit
# 0; --version prints "NAME VERSION" (the examples, which see only the public headers:
# "NAME (... API N)"); an unknown option, and each "--option VALUE" of the help given
# without its value, is one line on stderr naming the option, nothing on stdout, exit 2.
# Prints TAP.   tests/cli/conventions.sh BUILD_DIR
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/tap.sh"
bin=$(cd "$1/bin" && pwd) || exit 1
version=$(cat "$here/../../VERSION")
examples=" accel-example anpurt-chat "
scratch=$(mktemp -d) || exit 1
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1

# run PROG ARGS...: sets rc, out (stdout), err (stderr); bounded, no stdin, the in-process NPU
run() {
	ANPU_DEVICE=sim timeout 30 "$@" >"$scratch/out" 2>"$scratch/err" </dev/null
	rc=$?
	out=$(cat "$scratch/out") err=$(cat "$scratch/err")
}
show() { { echo "exit $rc"; printf 'stdout: %s\n' "$out" | head -n 5; printf 'stderr: %s\n' "$err" | head -n 5; } | tap_comment; }
# usage_error NAME WHAT PROG ARGS...: exit 2, nothing on stdout, one stderr line naming WHAT
usage_error() {
	local name=$1 what=$2
	shift 2
	run "$@"
	if [[ $rc -eq 2 && -z $out && $(wc -l <<<"$err") -eq 1 && $err == *"$what"* ]]; then
		tap_ok "$name: $err"
	else
		show
		tap_not_ok "$name: exit 2 and one stderr line naming '$what'"
	fi
}

for p in "$bin"/*; do
	[[ -f $p && -x $p ]] || continue
	name=$(basename "$p")
	for h in -h --help; do
		run "$p" "$h"
		if [[ $rc -eq 0 ]] && grep -qE "^Usage: $name( |$)" <<<"$out"; then
			tap_ok "$name $h: Usage: line, exit 0"
		else
			show
			tap_not_ok "$name $h: a 'Usage: $name' line on stdout, exit 0"
		fi
	done
	help=$out
	run "$p" --version
	want="$name $version"
	[[ $examples == *" $name "* ]] && want="$name "
	if [[ $rc -eq 0 && $(head -n 1 <<<"$out") == "$want"* ]]; then tap_ok "$name --version: $out"
	else
		show
		tap_not_ok "$name --version: '$want...', exit 0"
	fi
	mode=()
	[[ $name == anpu-vp ]] && mode=(run)	# its options follow the mode
	usage_error "$name --no-such-option" --no-such-option "$p" "${mode[@]}" --no-such-option
	# every "--option VALUE" the help shows, without its value
	for opt in $(grep -oE -- '--[a-z][a-z0-9-]* [A-Z][A-Z0-9_]*\b' <<<"$help" | cut -d' ' -f1 | sort -u); do
		usage_error "$name $opt (no value)" "$opt" "$p" "${mode[@]}" "$opt"
	done
done
tap_plan
exit "$(tap_status)"
