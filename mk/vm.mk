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
	@tests/vm/run.sh $(BUILD)
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
