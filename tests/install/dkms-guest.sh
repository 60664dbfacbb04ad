#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# In the guest of check-dkms (tests/install/dkms.sh), with the DKMS-built anpu.ko loaded:
# its version, the udev rule (packaging/70-anpu.rules, applied by `udevadm test` from
# a private /run/udev/rules.d) giving /dev/accel/accel0 group render mode 0660, and
# what that means: a user in group render runs the example on the kernel driver, one
# outside it is refused. Prints TAP.   tests/install/dkms-guest.sh BUILD_DIR VERSION
set -u
. tests/lib/tap.sh
build=$1 version=$2
node=/dev/accel/accel0

v=$(cat /sys/module/anpu/version 2>&1)
if [[ $v == "$version" ]]; then tap_ok "loaded anpu.ko is version $v"
else tap_not_ok "loaded anpu.ko is version '$v' (want $version)"; fi
drv=$(readlink "/sys/class/accel/accel0/device/driver" 2>&1)
if [[ $drv == */anpu ]]; then tap_ok "$node is the anpu driver's"
else tap_not_ok "$node is the anpu driver's ($drv)"; fi

# the host's root is read-only here: the rule goes into a fresh /run
mount -t tmpfs tmpfs /run && mkdir -p /run/udev/rules.d && cp packaging/70-anpu.rules /run/udev/rules.d/
out=$(udevadm test --action=add /sys/class/accel/accel0 2>&1)
perm=$(stat -c '%G %a' "$node" 2>&1)
if [[ $perm == "render 660" ]] && grep -q '70-anpu.rules:.* GROUP ' <<<"$out"; then
	tap_ok "udev rule: $node group render, mode 0660"
else
	grep -E 'anpu|rules|accel0' <<<"$out" | tail -n 20 | tap_comment
	tap_not_ok "udev rule: $node group render, mode 0660 (is: $perm)"
fi

example() { # setpriv options...: run the example as nobody on the kernel driver
	setpriv --reuid=nobody --regid=nogroup "$@" --inh-caps=-all \
		env ANPU_DEVICE=$node "$build/bin/accel-example" 2>&1
}
if out=$(example --groups=render); then tap_ok "a user in group render runs accel-example on $node"
else
	printf '%s\n' "$out" | tap_comment
	tap_not_ok "a user in group render runs accel-example on $node"
fi
if out=$(example --clear-groups); then
	tap_not_ok "a user outside group render is refused (it ran)"
elif grep -qi 'permission denied' <<<"$out"; then
	tap_ok "a user outside group render is refused: $(grep -i -m1 'permission denied' <<<"$out")"
else
	printf '%s\n' "$out" | tap_comment
	tap_not_ok "a user outside group render is refused with 'Permission denied'"
fi
tap_plan
exit "$(tap_status)"
