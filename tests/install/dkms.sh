#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make check-dkms: anpu.ko as DKMS builds it. `dkms add` + `dkms build` of the DKMS
# source tree (make dkms-source) for Debian's 6.12 kernel in a private dkms tree and
# source tree under BUILD_DIR (--dkmstree/--sourcetree; the signing key too: nothing
# system-wide is touched), `dkms install` into a private --installtree (as root; no
# depmod), modinfo of the module it built (license, description,
# version = VERSION, author, PCI alias, vermagic), then one guest boot (anpu-vp) that
# loads that very module and checks it with the udev rule and an unprivileged user
# (tests/install/dkms-guest.sh). Prints TAP. SKIP_VM=1 leaves the guest out.
#
#   tests/install/dkms.sh BUILD_DIR DKMS_SOURCE_TREE KERNEL_VERSION
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/tap.sh"
build=$1 src=$2 kver=$3
version=$(cat "$here/../../VERSION")

command -v dkms >/dev/null || { tap_skip_all "check-dkms: no dkms command (make deps installs dkms)"; exit 0; }
[[ -n $kver && -d /lib/modules/$kver/build ]] ||
	{ tap_skip_all "check-dkms: no Debian 6.12 kernel headers (make deps)"; exit 0; }

scratch=$(mktemp -d "$(readlink -f "$build")/dkms-check.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src" "$scratch/tree"
cp -R "$src" "$scratch/src/anpu-$version"
# dkms signs the module; its key would go to /var/lib/dkms: keep it in the scratch folder
export mok_signing_key=$scratch/mok.key mok_certificate=$scratch/mok.pub
dkms=(dkms --dkmstree "$scratch/tree" --sourcetree "$scratch/src")

run() { # NAME COMMAND...
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then tap_ok "$name"; return 0; fi
	printf '%s\n' "$out" | tail -n 30 | tap_comment
	tap_not_ok "$name"
	return 1
}
finish() { tap_plan; exit "$(tap_status)"; }

run "dkms add anpu/$version (private tree)" "${dkms[@]}" add -m anpu -v "$version" || finish
start=$(date +%s)
if ! run "dkms build anpu/$version -k $kver" "${dkms[@]}" build -m anpu -v "$version" -k "$kver"; then
	log=$scratch/tree/anpu/$version/build/make.log
	[[ -f $log ]] && tail -n 30 "$log" | tap_comment
	finish
fi
echo "dkms build took $(( $(date +%s) - start )) s" | tap_comment
ko=$(ls "$scratch/tree/anpu/$version/$kver"/*/module/anpu.ko* 2>/dev/null | head -n 1)
[[ -n $ko ]] || { tap_not_ok "dkms kept the built module"; finish; }
tap_ok "dkms kept the built module ($(basename "$ko"))"

# dkms install (root only) into a private install tree, no depmod: the copy the VM loads
if [[ $(id -u) -eq 0 ]]; then
	inst=$scratch/install
	mkdir -p "$inst/$kver"
	if run "dkms install anpu/$version (private install tree)" "${dkms[@]}" --installtree "$inst" \
		install -m anpu -v "$version" -k "$kver" --no-depmod; then
		installed=$(ls "$inst/$kver"/updates/dkms/anpu.ko* 2>/dev/null | head -n 1)
		if [[ -n $installed ]] && cmp -s "$installed" "$ko"; then
			tap_ok "installed as ${installed#"$inst/"}"
			ko=$installed
		else
			tap_not_ok "dkms install put the module in $inst/$kver/updates/dkms"
		fi
	fi
else
	tap_skip "dkms install anpu/$version (private install tree)" "dkms install needs root"
fi

field() { modinfo -F "$1" "$ko" 2>/dev/null | head -n 1; }
want() { # FIELD PATTERN
	local v
	v=$(field "$1")
	# shellcheck disable=SC2053 # PATTERN is a glob
	if [[ -n $v && $v == $2 ]]; then tap_ok "modinfo $1: $v"; else tap_not_ok "modinfo $1: '$v' (want $2)"; fi
}
want license GPL
want description '*ANPU*'
want version "$version"
want author '?*'
want alias 'pci:v00001AF4d00001110*'
want vermagic "$kver *"

if [[ ${SKIP_VM:-0} == 1 ]]; then
	tap_skip "the VM loads the DKMS-built module" "SKIP_VM=1"
	finish
fi
if ! ls /boot/vmlinuz-"$kver" >/dev/null 2>&1; then
	tap_skip "the VM loads the DKMS-built module" "no /boot/vmlinuz-$kver (make deps)"
	finish
fi
start=$(date +%s)
out=$("$build/bin/anpu-vp" run --kmod "$ko" --timeout 600 -- \
	bash tests/install/dkms-guest.sh "$build" "$version" 2>&1)
rc=$?
tap_merge guest <<<"$out"
if [[ $rc -eq 0 ]]; then tap_ok "guest run clean ($(( $(date +%s) - start )) s)"; else
	tap_not_ok "guest run (anpu-vp status $rc)"
fi
finish
