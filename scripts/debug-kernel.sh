#!/usr/bin/env bash
# scripts/debug-kernel.sh — build Debian's linux-source-6.12 as a debug kernel for the
# virtual platform (`make debug-kernel`): KASAN (generic, inline), lockdep
# (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak, UBSAN, DEBUG_OBJECTS and fault
# injection (failslab, fail_page_alloc, fail_function, fail-nth, debugfs), on top of
# x86_64 `defconfig` plus what the VM and anpu.ko need. Everything the guest needs is
# built in, so the module tree holds only what `make modules` produced.
#
#   scripts/debug-kernel.sh [CACHE_DIR]    default: .cache/debug-kernel in the repository
#
# Results (reused when present; the build is incremental):
#   CACHE_DIR/build/arch/x86/boot/bzImage   the kernel (`anpu-vp --kernel`)
#   CACHE_DIR/build                         KDIR for out-of-tree modules (`make kmod KDIR=`)
#   CACHE_DIR/modules/lib/modules/<ver>     the module tree (`anpu-vp --modules`)
# About 20 minutes on two idle cores; the source is extracted once from
# /usr/src/linux-source-6.12.tar.xz (package linux-source-6.12, `make deps`).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${1:-${ANPU_CACHE:-$top/.cache}/debug-kernel}
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || { echo "debug-kernel: /usr/src/linux-source-6.12.tar.* not found (make deps)" >&2; exit 1; }

src=$cache/src/linux-source-6.12
obj=$cache/build
mkdir -p "$cache/src" "$obj"
if [ ! -f "$src/.extracted" ]; then
	echo "debug-kernel: extracting $tarball"
	rm -rf "$src"
	tar -C "$cache/src" -xf "$tarball"
	touch "$src/.extracted"
fi

# Fixes of kernel bugs that anpu.ko's tests ran into (scripts/debug-kernel-patches/,
# each says what it fixes). A copy of each applied patch stays in the source tree, so a
# changed or removed patch is reversed first; the build after it is incremental.
applied=$src/.anpu-patches
mkdir -p "$applied"
for old in "$applied"/*.patch; do
	[ -e "$old" ] || continue
	cmp -s "$old" "$top/scripts/debug-kernel-patches/${old##*/}" && continue
	echo "debug-kernel: reversing ${old##*/}"
	patch -d "$src" -p1 -R -s < "$old" && rm "$old" ||
		{ echo "debug-kernel: cannot reverse ${old##*/}" >&2; exit 1; }
done
for p in "$top"/scripts/debug-kernel-patches/*.patch; do
	[ -e "$p" ] || continue
	cmp -s "$p" "$applied/${p##*/}" && continue
	echo "debug-kernel: applying ${p##*/}"
	patch -d "$src" -p1 -s --forward < "$p" && cp "$p" "$applied/" ||
		{ echo "debug-kernel: ${p##*/} does not apply" >&2; exit 1; }
done

# The configuration is a function of this script: rebuild it when the script changes.
# Trimmed: what a TCG guest booting an initramfs with the host root over 9p never uses.
# Every object less is minutes less on two cores under KASAN.
trim="SOUND USB_SUPPORT HID INPUT_MOUSE INPUT_JOYSTICK INPUT_TABLET INPUT_TOUCHSCREEN
	INPUT_MISC WLAN WIRELESS CFG80211 MAC80211 RFKILL BT ETHERNET NET_VENDOR_INTEL
	NETFILTER IPV6 NET_SCHED IP_ADVANCED_ROUTER IP_MULTICAST IP_PNP XFRM_USER
	ATA SCSI BLK_DEV_SD BLK_DEV_SR EXT4_FS ISO9660_FS MSDOS_FS VFAT_FS NFS_FS AUTOFS_FS
	AGP FB DRM_FBDEV_EMULATION I2C HWMON THERMAL WATCHDOG CPU_FREQ HIBERNATION SUSPEND
	SECURITY SECURITY_SELINUX AUDIT PROFILING KVM XEN HYPERVISOR_GUEST EFI MICROCODE
	X86_MCE PERF_EVENTS_AMD_UNCORE MACINTOSH_DRIVERS NETWORK_FILESYSTEMS_EXTRA
	EXT2_FS QUOTA NET_9P_FD MD BLK_DEV_DM SERIAL_8250_EXTENDED CRYPTO_USER
	YENTA PCCARD HOTPLUG_PCI PCIEAER EEEPC_LAPTOP X86_PLATFORM_DEVICES"

stamp=$obj/.anpu-config-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
if [ ! -f "$stamp" ]; then
	make -C "$src" O="$obj" -s defconfig
	"$src/scripts/config" --file "$obj/.config" \
		-e LOCALVERSION_AUTO --set-str LOCALVERSION "-anpu-debug" \
		-d MODULE_SIG -d MODULE_SIG_ALL --set-str SYSTEM_TRUSTED_KEYS '' \
		--set-str SYSTEM_REVOCATION_KEYS '' \
		-e MODULES -e MODULE_UNLOAD -e DEBUG_INFO_NONE -d DEBUG_INFO_BTF \
		-e PCI -e PCI_MSI -e PM -e DEVTMPFS -e DEVTMPFS_MOUNT -e TMPFS -e BLK_DEV_INITRD \
		-e VIRTIO -e VIRTIO_PCI -e VIRTIO_MENU \
		-e NET -e NETWORK_FILESYSTEMS -e NETFS_SUPPORT -e NET_9P -e NET_9P_VIRTIO -e 9P_FS \
		-e DRM -e DRM_ACCEL -e DRM_KMS_HELPER -e DRM_ETNAVIV -e SYNC_FILE -e DMA_SHARED_BUFFER \
		-e DEBUG_FS -e DEBUG_KERNEL -e KALLSYMS -e KALLSYMS_ALL \
		-e KASAN -e KASAN_GENERIC -e KASAN_INLINE -d KASAN_OUTLINE \
		-e PROVE_LOCKING -e DEBUG_ATOMIC_SLEEP -e DEBUG_LIST \
		-e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF -d DEBUG_KMEMLEAK_AUTO_SCAN \
		--set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 65536 \
		-e UBSAN -e UBSAN_BOUNDS -e UBSAN_SHIFT -d UBSAN_ALIGNMENT \
		-e DEBUG_OBJECTS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_TIMERS -e DEBUG_OBJECTS_WORK \
		-e DEBUG_OBJECTS_RCU_HEAD \
		-e FAULT_INJECTION -e FAILSLAB -e FAIL_PAGE_ALLOC -e FAULT_INJECTION_DEBUG_FS \
		-e KPROBES -e FUNCTION_ERROR_INJECTION -e FAIL_FUNCTION \
		-e DETECT_HUNG_TASK --set-val DEFAULT_HUNG_TASK_TIMEOUT 60 -e SOFTLOCKUP_DETECTOR \
		-d DRM_I915 -d DRM_XE -d DRM_AMDGPU -d DRM_NOUVEAU \
		$(printf -- '-d %s ' $trim)
	make -C "$src" O="$obj" -s olddefconfig
	# Fail loudly if a dependency dropped one of the options the checks rely on.
	for opt in DRM_ACCEL DRM_SCHED KASAN KASAN_INLINE PROVE_LOCKING DEBUG_KMEMLEAK UBSAN \
		DEBUG_OBJECTS FAILSLAB FAIL_PAGE_ALLOC FAIL_FUNCTION FAULT_INJECTION_DEBUG_FS \
		9P_FS NET_9P_VIRTIO VIRTIO_PCI; do
		grep -Eq "^CONFIG_$opt=(y|m)$" "$obj/.config" ||
			{ echo "debug-kernel: CONFIG_$opt did not stick in $obj/.config" >&2; exit 1; }
	done
	rm -f "$obj"/.anpu-config-*
	touch "$stamp"
fi

jobs=${DEBUG_KERNEL_JOBS:-$(nproc)}
echo "debug-kernel: building in $obj (-j$jobs)"
make -C "$src" O="$obj" -s -j"$jobs" bzImage modules
rm -rf "$cache/modules"
make -C "$src" O="$obj" -s INSTALL_MOD_PATH="$cache/modules" modules_install
echo "debug-kernel: $obj/arch/x86/boot/bzImage, modules in $(ls -d "$cache"/modules/lib/modules/*)"
