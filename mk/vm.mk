# Virtual platform: anpu-vp (QEMU + anpu-sim + anpu.ko), VM tests.
#   make vm          build/bin/anpu-vp (and anpu-sim, anpu.ko when buildable)
#   make check-vm    the VM tests (tests/vm/*.sh) in one guest boot each
ANPU_VP := $(BUILD)/bin/anpu-vp

$(ANPU_VP): tools/anpu-vp/anpu-vp
	@mkdir -p $(@D)
	install -m 0755 $< $@

all: $(ANPU_VP)

.PHONY: vm check-vm
vm: $(ANPU_VP)

# The VM tests need the daemon, the module, and Debian's 6.12 kernel and
# headers; `make check` runs them as the suite "check-vm" (about 75 s of TCG
# on two cores). Without the 6.12 kernel or headers the suite skips itself
# (make deps installs them); SKIP_VM=1 leaves it out.
VM_KERNEL := $(lastword $(sort $(wildcard /boot/vmlinuz-6.12*)))

ifneq ($(and $(KDIR),$(VM_KERNEL)),)
check-vm: $(ANPU_VP) $(ANPU_SIM) kmod
	@ANPU_KO=$(abspath $(KMOD_KO)) tests/vm/run.sh $(BUILD)
VM_CHECK_DEPS := $(ANPU_VP) $(ANPU_SIM) kmod
else
check-vm:
	@echo "check-vm: no Debian 6.12 kernel image or headers (make deps)"; exit 77
VM_CHECK_DEPS :=
endif

ifneq ($(SKIP_VM),1)
CHECK_DEPS   += $(VM_CHECK_DEPS)
CHECK_SUITES += check-vm
CHECK_TIMEOUT_check-vm := 900
endif

# ---- the debug kernel and `make check-debug` (not part of `make check`) ----
#   make debug-kernel   scripts/debug-kernel.sh: Debian's linux-source-6.12 with KASAN,
#                       lockdep, kmemleak, UBSAN, debug objects and fault injection, in
#                       $(DEBUG_KERNEL_DIR) (ANPU_CACHE/debug-kernel; ~20 min on 2 idle
#                       cores, once: rebuilt only when the script changes)
#   make check-debug    the VM suites of CHECK_DEBUG_SUITES on that kernel, 2 vCPUs,
#                       timeouts x ANPU_VP_TIMEOUT_SCALE (4); each guest forces kmemleak
#                       scans at its end and any KASAN/UBSAN/lockdep/hung-task/kmemleak
#                       report, BUG: or WARNING: fails the suite. Ends with
#                       "N passed, N failed, N skipped"; logs in $(BUILD)/test-logs/debug/.
#   make <suite> DEBUG=1  one suite on the debug kernel (e.g. check-selftests DEBUG=1)
# Registration (mk/*.mk):
#   CHECK_DEBUG_SUITES += <target>    a target printing "N passed, N failed, N skipped",
#                                     run as `$(MAKE) DEBUG=1 <target>` (anpu-vp then boots
#                                     the debug kernel with build/kmod-debug/anpu.ko)
#   CHECK_DEBUG_TIMEOUT_<target> := s its timeout (default: CHECK_TIMEOUT_<target> or
#                                     SUITE_TIMEOUT, times the scale)
#   A guest script needs no target of its own: VM_GUEST_CMD_<name> := script args
#   (VM_GUEST_DEPS_<name>: what it needs built; VM_GUEST_TIMEOUT_<name>: seconds of
#   guest run before scaling, default 600) makes `make vm-guest-<name>` run it in one
#   boot (tests/vm/run-guest.sh counts its results); add vm-guest-<name> to
#   CHECK_DEBUG_SUITES. The fuzzer's long run and the fail-nth sweep are registered
#   below as soon as their scripts exist.
DEBUG_KERNEL_STAMP := $(DEBUG_KDIR)/.anpu-config-$(shell sha256sum scripts/debug-kernel.sh | cut -c1-16)
DEBUG_KERNEL_MODULES := $(DEBUG_KERNEL_DIR)/modules
.PHONY: debug-kernel check-debug

debug-kernel:
	@if [ -f $(DEBUG_KERNEL_STAMP) ] && [ -f $(DEBUG_KERNEL_IMAGE) ] && \
	    [ -n "$$(ls $(DEBUG_KERNEL_MODULES)/lib/modules 2>/dev/null)" ]; then \
	  echo "debug-kernel: $(DEBUG_KERNEL_IMAGE) is up to date (rm $(DEBUG_KERNEL_STAMP) to rebuild)"; \
	else scripts/debug-kernel.sh $(DEBUG_KERNEL_DIR); fi

# the guest-script hook
vm-guest-%:
	+@$(MAKE) --no-print-directory -s $(VM_CHECK_DEPS) $(VM_GUEST_DEPS_$*)
	@test -n "$(VM_GUEST_CMD_$*)" || { echo "vm-guest-$*: VM_GUEST_CMD_$* is not set"; exit 2; }
	@ANPU_KO=$(abspath $(KMOD_KO)) tests/vm/run-guest.sh $(BUILD) \
	  $(or $(VM_GUEST_TIMEOUT_$*),600) $(VM_GUEST_CMD_$*)

CHECK_DEBUG_SCALE  := $(or $(ANPU_VP_TIMEOUT_SCALE),4)
CHECK_DEBUG_SUITES += check-vm check-selftests check-accel-vm
# The ioctl fuzzer's long run and the fail-nth sweep (their guest scripts come
# with the fuzzer; CHECK_DEBUG_FUZZ_SECONDS of fuzzing, 1800 by default).
CHECK_DEBUG_FUZZ_SECONDS ?= 1800
ifneq ($(wildcard tests/vm/fuzz.sh),)
VM_GUEST_CMD_fuzz     ?= tests/vm/fuzz.sh $(CHECK_DEBUG_FUZZ_SECONDS)
VM_GUEST_TIMEOUT_fuzz ?= $(shell expr $(CHECK_DEBUG_FUZZ_SECONDS) / $(CHECK_DEBUG_SCALE) + 600)
CHECK_DEBUG_SUITES    += vm-guest-fuzz
endif
ifneq ($(wildcard tests/vm/failnth.sh),)
VM_GUEST_CMD_failnth     ?= tests/vm/failnth.sh
VM_GUEST_TIMEOUT_failnth ?= 1200
CHECK_DEBUG_SUITES       += vm-guest-failnth
endif

debug_timeout = $(or $(CHECK_DEBUG_TIMEOUT_$(1)),$(if $(filter vm-guest-%,$(1)),$(shell expr \
	$(or $(VM_GUEST_TIMEOUT_$(1:vm-guest-%=%)),600) \* $(CHECK_DEBUG_SCALE) + 300),$(shell expr \
	$(or $(CHECK_TIMEOUT_$(1)),$(SUITE_TIMEOUT)) \* $(CHECK_DEBUG_SCALE))))

check-debug: $(ANPU_VP)
	@test -f $(DEBUG_KERNEL_IMAGE) || { echo "check-debug: no debug kernel in $(DEBUG_KERNEL_DIR): run make debug-kernel first (~20 min), or set ANPU_CACHE to a checkout's .cache that has one"; exit 1; }
	+@$(MAKE) --no-print-directory DEBUG=1 kmod
	+@NO_UNIT=1 LOG_DIR=$(BUILD)/test-logs/debug RUN_LABEL=debug/ tests/run-tests.sh $(BUILD) \
	  $(foreach s,$(CHECK_DEBUG_SUITES),'$(s):$(call debug_timeout,$(s))=$(MAKE) -s --no-print-directory BUILD=$(BUILD) DEBUG=1 ANPU_CACHE=$(ANPU_CACHE) $(s)')
