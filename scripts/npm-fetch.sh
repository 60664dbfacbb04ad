#!/usr/bin/env bash
# scripts/npm-fetch.sh — fetch pinned npm packages into the ignored cache.
#
#   scripts/npm-fetch.sh NAME@VERSION
#       one package's tarball (`npm pack`), checked against its sha512 in
#       scripts/npm-pins.txt, unpacked once; prints the package folder
#       (.cache/npm/pkg/NAME@VERSION/package).
#   scripts/npm-fetch.sh --env ENV NAME@VERSION...
#       an npm project .cache/npm/env/ENV with exactly these versions installed
#       (`npm install --ignore-scripts --save-exact`; npm checks every tarball's
#       integrity); prints the folder holding node_modules/.
#
# Exit status: 0 ok; 3 the registry could not be reached or npm is missing (callers
# turn this into a skip with the printed reason); 1 any other failure (a checksum
# mismatch is one). Cache root: $ANPU_CACHE, default .cache/ of the repository.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${ANPU_CACHE:-$top/.cache}/npm
pins=$top/scripts/npm-pins.txt

die() { echo "npm-fetch: $*" >&2; exit 1; }
unreachable() { echo "npm-fetch: $*" >&2; exit 3; }

command -v npm >/dev/null 2>&1 || unreachable "npm not installed (make deps installs it)"

# npm's own retries take minutes when the registry is unreachable: keep them short.
npm_quiet=(--no-audit --no-fund --loglevel=error --fetch-retries=1 --fetch-timeout=30000)

fetch_one() {
	local spec=$1 want dir tmp tgz got
	want=$(awk -v s="$spec" '$1 == s { print $2 }' "$pins")
	[ -n "$want" ] || die "$spec is not pinned in scripts/npm-pins.txt"
	dir=$cache/pkg/$spec
	if [ -f "$dir/.verified" ]; then echo "$dir/package"; return 0; fi
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	(cd "$tmp" && npm pack "${npm_quiet[@]}" "$spec" >/dev/null 2>"$tmp/err") ||
		unreachable "npm pack $spec failed: $(tail -n 1 "$tmp/err")"
	tgz=$(ls "$tmp"/*.tgz)
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
	[ "$got" = "$want" ] || die "$spec: checksum mismatch (got $got, pinned $want)"
	rm -rf "$dir" && mkdir -p "$dir"
	tar -C "$dir" -xzf "$tgz"
	touch "$dir/.verified"
	echo "$dir/package"
}

fetch_env() {
	local env=$1; shift
	local dir=$cache/env/$env stamp
	stamp=$(printf '%s\n' "$@" | sort | sha256sum | cut -c1-16)
	if [ -f "$dir/.installed-$stamp" ]; then echo "$dir"; return 0; fi
	rm -rf "$dir" && mkdir -p "$dir"
	echo '{"name":"anpu-'"$env"'","private":true}' >"$dir/package.json"
	(cd "$dir" && npm install "${npm_quiet[@]}" --ignore-scripts --save-exact "$@" \
		>/dev/null 2>"$dir/npm-err.log") ||
		unreachable "npm install $* failed: $(tail -n 1 "$dir/npm-err.log")"
	touch "$dir/.installed-$stamp"
	echo "$dir"
}

mkdir -p "$cache"
case "${1:-}" in
--env) [ $# -ge 3 ] || die "usage: npm-fetch.sh --env ENV NAME@VERSION..."; shift; fetch_env "$@" ;;
""|-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
*) [ $# -eq 1 ] || die "usage: npm-fetch.sh NAME@VERSION"; fetch_one "$1" ;;
esac
