# The runtime through anpu.ko on the virtual platform (docs/virtual-platform.md, "The
# runtime in the VM"):
#   make check-rt-vm   a `make check` suite (and make check-debug's): anpu-run on
#                      anpu-mkmodel's tiny models of each architecture in two weight
#                      types, greedy with --logits, in ONE guest boot through
#                      /dev/accel/accel0, against the same runs on the in-process NPU:
#                      the same token ids and logits bytes; session files across the
#                      two; the "does not fit" errors (tests/runtime/vm/run.sh)
# anpu-vp's BAR2 comes from `anpu-run -m MODEL --mem-needed` and `--dev-mem-for`.
RT_VM_KERNEL := $(lastword $(sort $(wildcard /boot/vmlinuz-6.12*)))
RT_VM_DEPS   := $(BUILD)/bin/anpu-run $(BUILD)/bin/anpu-mkmodel $(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod

.PHONY: check-rt-vm
ifneq ($(and $(KDIR),$(RT_VM_KERNEL)),)
check-rt-vm: $(RT_VM_DEPS)
	@tests/runtime/vm/run.sh $(BUILD)
RT_VM_CHECK_DEPS := $(RT_VM_DEPS)
else
check-rt-vm:
	@echo "1..0 # SKIP check-rt-vm: no Debian 6.12 kernel image or headers (make deps)"
RT_VM_CHECK_DEPS :=
endif

ifneq ($(SKIP_VM),1)
CHECK_DEPS   += $(RT_VM_CHECK_DEPS)
CHECK_SUITES += check-rt-vm
CHECK_TIMEOUT_check-rt-vm := 1200
endif
CHECK_DEBUG_SUITES += check-rt-vm
