#!/bin/sh
# scripts/mkman.sh PROGRAM EXTRA > PAGE: the man page of PROGRAM (section 1) from its
# --help and --version output and the extra sections in EXTRA (scripts/mkman.awk says
# how). Fails when the program's --help or --version fails, so a page never goes stale
# silently.
set -eu
prog=$1 extra=$2
name=$(basename "$prog")
help=$("$prog" --help) || { echo "mkman: $prog --help failed" >&2; exit 1; }
version=$("$prog" --version) || { echo "mkman: $prog --version failed" >&2; exit 1; }
# "NAME VERSION [more]" (tools/common/anpu_cli.h)
version=$(printf '%s\n' "$version" | awk 'NR == 1 { print $2 }')
printf '%s\n' "$help" | awk -v name="$name" -v section=1 -v version="$version" \
	-v extra="$extra" -f "$(dirname "$0")/mkman.awk"
