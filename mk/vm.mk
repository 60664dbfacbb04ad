# Virtual platform: anpu-vp (QEMU + anpu-sim + anpu.ko), VM tests.
#   make vm          build/bin/anpu-vp (and anpu-sim, anpu.ko when buildable)
#   make check-vm    the VM tests (tests/vm/*.sh) in one guest boot each
ANPU_VP := $(BUILD)/bin/anpu-vp

# the script with the project's VERSION written in (its --version)
$(ANPU_VP): tools/anpu-vp/anpu-vp VERSION
	@mkdir -p $(@D)
	sed 's/@ANPU_VERSION@/$(ANPU_VERSION)/' $< > $@.tmp && chmod 0755 $@.tmp && mv $@.tmp $@

all: $(ANPU_VP)

.PHONY: vm check-vm
vm: $(ANPU_VP)

# Guest-side robustness programs (tests/vm/, run in the VM by fuzz.sh and
# failnth.sh): the ioctl fuzzer and the allocation-failure sweep. They link
# the selftests' helpers (anpu_lib.c) and libdrm.
VMT_DRM_CFLAGS := $(shell pkg-config --cflags libdrm 2>/dev/null)
VMT_DRM_LIBS   := $(or $(shell pkg-config --libs libdrm 2>/dev/null),-ldrm)
VMT_FUZZ       := $(BUILD)/tests/anpu-ioctl-fuzz
VMT_FAILNTH    := $(BUILD)/tests/anpu-failnth
VMT_BINS       := $(VMT_FUZZ) $(VMT_FAILNTH)
VMT_LIB_OBJ    := $(OBJ)/tests/vm/anpu_lib.o $(OBJ)/tests/vm/vmcheck.o \
                  $(OBJ)/tests/lib/simdev.o $(OBJ)/tests/ref/ref_quant.o
VMT_FUZZ_OBJ   := $(addprefix $(OBJ)/tests/vm/,ioctl-fuzz.o ioctl-fuzz-pool.o ioctl-fuzz-ops.o \
                  ioctl-fuzz-map.o ioctl-fuzz-args.o)
VMT_OBJ        := $(VMT_LIB_OBJ) $(VMT_FUZZ_OBJ) $(OBJ)/tests/vm/failnth.o

$(VMT_OBJ): CPPFLAGS += $(VMT_DRM_CFLAGS)

$(OBJ)/tests/vm/anpu_lib.o: selftests/drivers/accel/anpu/anpu_lib.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(VMT_FUZZ): $(VMT_FUZZ_OBJ) $(VMT_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(VMT_DRM_LIBS) -lm

$(VMT_FAILNTH): $(OBJ)/tests/vm/failnth.o $(VMT_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(VMT_DRM_LIBS) -lm

.PHONY: vm-tests check-vm-fuzz check-vm-failnth
vm-tests: $(VMT_BINS)
ifneq ($(VMT_DRM_CFLAGS),)
all: $(VMT_BINS)
endif

# The VM tests need the daemon, the module, and Debian's 6.12 kernel and
# headers; `make check` runs them as the suite "check-vm" (about 75 s of TCG
# on two cores). Without the 6.12 kernel or headers the suite skips itself
# (make deps installs them); SKIP_VM=1 leaves it out.
VM_KERNEL := $(lastword $(sort $(wildcard /boot/vmlinuz-6.12*)))

ifneq ($(and $(KDIR),$(VM_KERNEL)),)
check-vm: $(ANPU_VP) $(ANPU_SIM) kmod $(VMT_BINS)
	@tests/vm/run.sh $(BUILD)
VM_CHECK_DEPS := $(ANPU_VP) $(ANPU_SIM) kmod $(VMT_BINS)

# The fuzzer and the fail-nth sweep alone, in one guest each; for the debug
# kernel (make check-debug) with e.g. ANPU_VP_ARGS="--kernel IMG --modules DIR".
#   FUZZ_VM_SECONDS (60), FUZZ_VM_PROCS (2), FUZZ_VM_THREADS (2), FUZZ_VM_SEED,
#   FUZZ_VM_AVOID (none), VM_SMP (2) guest CPUs; FAILNTH_ARGS (anpu-failnth options)
FUZZ_VM_SECONDS ?= 60
FUZZ_VM_PROCS   ?= 2
FUZZ_VM_THREADS ?= 2
VM_SMP          ?= 2
check-vm-fuzz: $(ANPU_VP) $(ANPU_SIM) kmod $(VMT_FUZZ)
	@ANPU_FUZZ_PROCS=$(FUZZ_VM_PROCS) ANPU_FUZZ_THREADS=$(FUZZ_VM_THREADS) \
	  ANPU_FUZZ_SEED=$(FUZZ_VM_SEED) ANPU_FUZZ_AVOID=$(FUZZ_VM_AVOID) \
	  tests/vm/guest-suite.sh $(BUILD) $$(( $(FUZZ_VM_SECONDS) + 300 )) --smp $(VM_SMP) $(ANPU_VP_ARGS) \
	  -- tests/vm/fuzz.sh $(FUZZ_VM_SECONDS)

# Injected allocation failures are expected to make the kernel report them
# (warn_alloc: "vmalloc error:" / "page allocation failure:" with a stack dump;
# kmemleak's own scan-area allocation): those reports and their dumps are not
# failures of the sweep. FAILNTH_ARGS: anpu-failnth options (e.g. --only probe).
FAILNTH_VP_ALLOW := --allow-after 'vmalloc error:|page allocation failure:' \
	--allow 'kmemleak: Cannot allocate a scan area'
check-vm-failnth: $(ANPU_VP) $(ANPU_SIM) kmod $(VMT_FAILNTH)
	@tests/vm/guest-suite.sh $(BUILD) $(or $(FAILNTH_VM_TIMEOUT),3600) --smp $(VM_SMP) $(ANPU_VP_ARGS) \
	  $(FAILNTH_VP_ALLOW) -- tests/vm/failnth.sh $(FAILNTH_ARGS)
else
check-vm check-vm-fuzz check-vm-failnth:
	@echo "1..0 # SKIP $@: no Debian 6.12 kernel image or headers (make deps)"
VM_CHECK_DEPS :=
endif

ifneq ($(SKIP_VM),1)
CHECK_DEPS   += $(VM_CHECK_DEPS)
CHECK_SUITES += check-vm
CHECK_TIMEOUT_check-vm := 900
endif
