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

# The VM tests need the daemon and the module; make check runs them when
# check depends on check-vm (SKIP_VM=1 leaves them out).
check-vm: $(ANPU_VP) $(ANPU_SIM) kmod
	@tests/vm/run.sh $(BUILD)
