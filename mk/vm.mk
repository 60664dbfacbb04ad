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

# The VM tests need the daemon and the module; `make check` runs them as the
# suite "check-vm" (SKIP_VM=1 leaves them out, e.g. on a machine without the
# 6.12 kernel). About 75 s of TCG on two cores.
check-vm: $(ANPU_VP) $(ANPU_SIM) kmod
	@tests/vm/run.sh $(BUILD)

ifneq ($(SKIP_VM),1)
CHECK_DEPS   += $(ANPU_VP) $(ANPU_SIM) kmod
CHECK_SUITES += check-vm
CHECK_TIMEOUT_check-vm := 900
endif
