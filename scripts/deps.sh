#!/usr/bin/env bash
# scripts/deps.sh — install the Debian packages the ANPU stack needs (`make deps`).
#
#   scripts/deps.sh            install what is missing (apt-get update only then) and say
#                              what it installed, or "nothing to install"
#   scripts/deps.sh --check    install nothing: exit 1 listing the missing packages
#   scripts/deps.sh --list     print the package list
#
# The list lives in scripts/packages.txt (one place; append there). Idempotent; works
# with no tty/stdin (CI). Needs root, or sudo, to install.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list_file=${ANPU_PACKAGES:-$here/packages.txt}

packages() {
	sed -e 's/#.*//' "$list_file" | tr -s ' \t' '\n\n' | sed '/^$/d' | awk '!seen[$0]++'
}

missing() {
	local p st
	for p in $(packages); do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || echo "$p"
	done
}

mode=${1:-install}
case "$mode" in
--list) packages; exit 0 ;;
--check|install) ;;
-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
*) echo "deps.sh: unknown option '$mode' (try --help)" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found: this project builds on Debian bookworm" >&2
	exit 1
fi

miss=$(missing | tr '\n' ' ' | sed 's/ $//')
# node and npm (the pinned npm references: scripts/npm-fetch.sh) may come from another
# packaging of Node.js that bundles npm; Debian's packages only when the command is missing.
command -v npm >/dev/null 2>&1 || miss="${miss:+$miss }nodejs npm"
if [ -z "$miss" ]; then
	[ "$mode" = --check ] || echo "deps.sh: nothing to install ($(packages | wc -l) packages present)"
	exit 0
fi

if [ "$mode" = --check ]; then
	echo "Missing Debian packages: $miss" >&2
	echo "Install them with:  make deps   (or: sudo apt-get install $miss)" >&2
	exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo -n)
	else
		echo "deps.sh: need root (or sudo) to install: $miss" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing: $miss"
apt_q=(-q -y -o Dpkg::Use-Pty=0 -o APT::Color=0 -o DPkg::Lock::Timeout=600)
# shellcheck disable=SC2086
"${sudo[@]}" apt-get "${apt_q[@]}" update >/dev/null
# shellcheck disable=SC2086
"${sudo[@]}" apt-get "${apt_q[@]}" install --no-install-recommends $miss \
	</dev/null | grep -E '^(Setting up|E:|W:)' || true

left=$(missing | tr '\n' ' ' | sed 's/ $//')
if [ -n "$left" ]; then
	echo "deps.sh: still missing after apt-get install: $left" >&2
	exit 1
fi
echo "deps.sh: installed: $miss"
