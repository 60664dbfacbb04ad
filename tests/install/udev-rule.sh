#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The udev rule (packaging/70-anpu.rules, or its installed copy) on the host: checked by
# `udevadm verify` where systemd has it (253 and later), else by its syntax (every rule
# a list of KEY op "value" pairs, match keys with ==/!=, assignments with =/+=/:=); and
# it matches our driver (DRIVERS=="<ANPU_DRIVER_NAME of kmod/anpu_drv.h>") and accel
# nodes only. check-dkms applies it in the guest (tests/install/dkms-guest.sh).
# Prints TAP (no plan: the caller merges it).   tests/install/udev-rule.sh RULES_FILE
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/tap.sh"
rules=$1
driver=$(sed -n 's/^#define ANPU_DRIVER_NAME[[:space:]]*"\(.*\)"/\1/p' "$here/../../kmod/anpu_drv.h")

if udevadm verify --help >/dev/null 2>&1; then
	if out=$(udevadm verify --resolve-names=never "$rules" 2>&1); then tap_ok "udevadm verify $(basename "$rules")"
	else printf '%s\n' "$out" | tap_comment; tap_not_ok "udevadm verify $(basename "$rules")"; fi
fi

match_keys='ACTION|DEVPATH|KERNEL|NAME|SYMLINK|SUBSYSTEM|DRIVER|ATTR|SYSCTL|KERNELS|SUBSYSTEMS|DRIVERS|ATTRS|TAGS|TAG|ENV|CONST|TEST|PROGRAM|RESULT'
assign_keys='NAME|SYMLINK|OWNER|GROUP|MODE|SECLABEL|ATTR|SYSCTL|ENV|TAG|RUN|LABEL|GOTO|IMPORT|OPTIONS'
bad=() n=0
# one rule per line after joining "\"-continued lines; comments and blank lines skipped
while IFS= read -r rule; do
	n=$((n + 1))
	rest=$rule
	while [[ -n $rest ]]; do
		if [[ $rest =~ ^([A-Z]+)(\{[^}]+\})?(==|!=|\+=|-=|:=|=)\"([^\"]*)\"(,[[:space:]]*|[[:space:]]*$)(.*) ]]; then
			key=${BASH_REMATCH[1]} op=${BASH_REMATCH[3]} rest=${BASH_REMATCH[6]}
			case $op in
			==|!=) [[ $key =~ ^($match_keys)$ ]] || bad+=("$key$op: not a match key") ;;
			*) [[ $key =~ ^($assign_keys)$ ]] || bad+=("$key$op: not an assignment key") ;;
			esac
		else
			bad+=("cannot parse: $rest")
			break
		fi
	done
done < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$rules" | grep -vE '^[[:space:]]*(#|$)')
if [[ $n -gt 0 && ${#bad[@]} -eq 0 ]]; then tap_ok "$(basename "$rules"): $n rule(s), syntax good"
else
	printf '%s\n' "${bad[@]}" | tap_comment
	tap_not_ok "$(basename "$rules"): syntax ($n rules)"
fi

if grep -vE '^[[:space:]]*#' "$rules" | grep -q "DRIVERS==\"$driver\"" &&
   grep -vE '^[[:space:]]*#' "$rules" | grep -q 'SUBSYSTEM=="accel"' &&
   grep -vE '^[[:space:]]*#' "$rules" | grep -q 'GROUP="render", MODE="0660"'; then
	tap_ok "it gives accel nodes of driver '$driver' (only) group render, mode 0660"
else
	tap_not_ok "it gives accel nodes of driver '$driver' (only) group render, mode 0660"
fi
