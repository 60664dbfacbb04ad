# Kernel selftests of the ANPU accel ABI (selftests/drivers/accel/anpu/) and the
# kernel benchmark (bench/bench_kmod.c), both run in the virtual platform.
#   make selftests          build $(BUILD)/selftests/anpu_*_test against kselftest_harness.h
#                           and kselftest.h extracted from Debian's linux-source-6.12
#                           tarball into $(BUILD)/selftests/include (never committed)
#   make check-selftests    run them all in one anpu-vp boot (a `make check` suite, ~40 s
#                           on 2 cores); skips itself (TAP "1..0 # SKIP") without the 6.12 kernel, headers
#                           or source. run_vm.sh first records the model's expected job
#                           outputs on the host (anpu_job_test --record: anpu-sim's SIMD
#                           path, ANPU_SIM_SIMD honoured) for the guest's bit-for-bit check
#   make bench-kmod         $(BENCH_DIR)/kmod.jsonl: ioctl and submit round trips in the VM
# SELFTESTS=... (names without _test) picks programs; ANPU_SELFTEST_ARGS passes harness
# options (e.g. "-t test_name") to every program.
ST_DIR      := selftests/drivers/accel/anpu
ST_OUT      := $(BUILD)/selftests
ST_TARBALL  := $(firstword $(wildcard /usr/src/linux-source-6.12*.tar.xz))
ST_HARNESS  := $(ST_OUT)/include/kselftest_harness.h
ST_KERNEL   := $(lastword $(sort $(wildcard /boot/vmlinuz-6.12*)))
ST_PROGS    := anpu_ioctl_test anpu_submit_test anpu_job_test anpu_sync_test anpu_isolation_test \
               anpu_recovery_test anpu_stress_test anpu_pm_test anpu_race_test \
               anpu_memory_test anpu_netlink_test
ST_PROGS    := $(foreach p,$(ST_PROGS),$(if $(wildcard $(ST_DIR)/$(p).c),$(p)))
ST_BINS     := $(ST_PROGS:%=$(ST_OUT)/%)
ST_LIB_OBJ  := $(OBJ)/$(ST_DIR)/anpu_lib.o $(OBJ)/tests/lib/simdev.o $(OBJ)/tests/ref/ref_quant.o
ST_DRM_CFLAGS := $(shell pkg-config --cflags libdrm 2>/dev/null)
ST_DRM_LIBS   := $(or $(shell pkg-config --libs libdrm 2>/dev/null),-ldrm)
ST_CPPFLAGS := $(CPPFLAGS) -I$(ST_OUT)/include $(ST_DRM_CFLAGS)
# kselftest_harness.h is written for -Wall (as in the kernel's selftests): no
# -Wextra sign/unused-parameter warnings for code that expands its macros.
ST_CFLAGS   := -std=gnu11 $(OPT) -g -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter -Wno-clobbered -Wno-misleading-indentation \
               -Wshadow -Werror -fno-strict-aliasing -pthread $(SANITIZE) $(EXTRA_CFLAGS)
BENCH_KMOD_BIN := $(ST_OUT)/bench_kmod

.PHONY: selftests check-selftests bench-kmod

$(ST_HARNESS):
	@test -n "$(ST_TARBALL)" || { echo "selftests: no /usr/src/linux-source-6.12*.tar.xz (make deps)"; exit 1; }
	@mkdir -p $(ST_OUT)/include
	tar -xJf $(ST_TARBALL) -C $(ST_OUT)/include --strip-components=4 \
		--wildcards '*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	@touch $@

$(OBJ)/$(ST_DIR)/%.o: $(ST_DIR)/%.c $(ST_HARNESS)
	@mkdir -p $(@D)
	$(CC) $(ST_CPPFLAGS) $(ST_CFLAGS) -c -o $@ $<

$(OBJ)/bench/bench_kmod.o: bench/bench_kmod.c $(ST_HARNESS)
	@mkdir -p $(@D)
	$(CC) $(ST_CPPFLAGS) $(ST_CFLAGS) -c -o $@ $<

$(ST_OUT)/%: $(OBJ)/$(ST_DIR)/%.o $(ST_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(ST_DRM_LIBS) -lm

# the telemetry test speaks to the driver's netlink family through the tools' client
$(OBJ)/$(ST_DIR)/anpu_netlink_test.o: ST_CPPFLAGS += $(LIBNL_CFLAGS)
$(ST_OUT)/anpu_netlink_test: $(OBJ)/$(ST_DIR)/anpu_netlink_test.o $(ANPU_NL_OBJ) $(ST_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBNL_LIBS) $(ST_DRM_LIBS) -lm

$(BENCH_KMOD_BIN): $(OBJ)/bench/bench_kmod.o $(ST_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(ST_DRM_LIBS) -lm

selftests: $(ST_BINS) $(BENCH_KMOD_BIN)

ifneq ($(ST_TARBALL),)
all: selftests
endif

ifneq ($(and $(KDIR),$(ST_KERNEL),$(ST_TARBALL)),)
check-selftests: selftests $(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod
	@$(ST_DIR)/run_vm.sh $(BUILD) $(or $(SELFTESTS:%=%_test),$(ST_PROGS))

bench-kmod: $(BENCH_KMOD_BIN) $(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod
	@scripts/bench-record.sh $(BENCH_DIR) kmod $(BUILD)/bin/anpu-vp run --timeout 600 -- \
		$(BENCH_KMOD_BIN)
ST_CHECK_DEPS := selftests
else
check-selftests:
	@echo "1..0 # SKIP check-selftests: needs Debian's 6.12 kernel image, headers and linux-source-6.12 (make deps)"
bench-kmod:
	@echo "bench-kmod: needs Debian's 6.12 kernel image, headers and linux-source-6.12 (make deps); skipped"
ST_CHECK_DEPS :=
endif

ifneq ($(SKIP_VM),1)
CHECK_DEPS   += $(ST_CHECK_DEPS)
CHECK_SUITES += check-selftests
CHECK_TIMEOUT_check-selftests := 1200
BENCH_PARTS  += bench-kmod
endif
