# libaccel: the userspace driver library (libaccel/), its conformance tests
# (tests/accel/), the example program (examples/) and benchmark (bench/bench_accel.c).
ACCEL_VM_KERNEL := $(lastword $(sort $(wildcard /boot/vmlinuz-6.12*)))
LIBACCEL_SRC := $(wildcard libaccel/src/*.c libaccel/src/inproc/*.c libaccel/src/kernel/*.c)
LIBACCEL_OBJ := $(LIBACCEL_SRC:%.c=$(OBJ)/%.o)
LIBACCEL     := $(BUILD)/lib/libaccel.a
# the kernel backend uses libdrm (its drm.h also serves uapi/drm/anpu_accel.h)
LIBDRM_CFLAGS := $(shell pkg-config --cflags libdrm 2>/dev/null || echo -I/usr/include/libdrm)
LIBDRM_LIBS   := $(shell pkg-config --libs libdrm 2>/dev/null || echo -ldrm)
$(OBJ)/libaccel/src/kernel/%.o $(PIC_OBJ)/libaccel/src/kernel/%.o: CPPFLAGS += $(LIBDRM_CFLAGS)
# a program using libaccel links these (the in-process NPU is libanpusim)
LIBACCEL_LIBS := $(LIBACCEL) $(LIBSIM) $(LIBDRM_LIBS) -lm
$(call static_lib,$(LIBACCEL),$(LIBACCEL_OBJ))

# libaccel.so: libaccel and the model in one shared library exporting only ACCEL_API
# (libaccel.so.MAJOR.MINOR.PATCH, soname libaccel.so.MAJOR: the shared_lib macro)
LIBACCEL_SO := $(BUILD)/lib/libaccel.so
$(call shared_lib,$(LIBACCEL_SO),$(LIBACCEL_OBJ) $(SIM_OBJ),$(LIBDRM_LIBS) -lm)

# ---- conformance tests: tests/accel/test_accel_*.c, each a cmocka suite ----
ACCEL_TEST_COMMON := $(OBJ)/tests/accel/accel_test_util.o
ACCEL_TEST_SRC := $(wildcard tests/accel/test_accel_*.c)
ACCEL_TEST_BIN := $(ACCEL_TEST_SRC:tests/accel/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/test_accel_%: $(OBJ)/tests/accel/test_accel_%.o $(ACCEL_TEST_COMMON) \
		$(OBJ)/tests/ref/ref_quant.o $(OBJ)/tests/ref/ref_ops.o $(LIBACCEL) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LIBDRM_LIBS) -lm

all: $(ACCEL_TEST_BIN)
UNIT_TESTS += $(ACCEL_TEST_BIN)

# ---- example program, run by make check as a suite ----
ACCEL_EXAMPLE := $(BUILD)/bin/accel-example

$(call program,$(ACCEL_EXAMPLE),$(OBJ)/examples/accel_example.o $(LIBACCEL) $(LIBSIM),$(LIBDRM_LIBS) -lm)

.PHONY: accel-example accel-exports bench-accel
accel-example: $(ACCEL_EXAMPLE)
	@if out=$$(ANPU_DEVICE=$${ANPU_DEVICE:-} $(ACCEL_EXAMPLE) 2>&1); then \
	  printf '%s\n' "$$out" | sed 's/^/# /'; echo "ok - accel-example"; \
	else printf '%s\n' "$$out" | sed 's/^/# /'; echo "not ok - accel-example"; fi; echo 1..1

CHECK_SUITES += accel-example
ASAN_SUITES  += accel-example

# libaccel.so exports exactly the functions accel.h declares, each marked ACCEL_API
accel-exports: $(LIBACCEL_SO).$(ANPU_VERSION)
	@tests/lib/exports.sh $< libaccel/include/accel.h accel_ ACCEL_API

CHECK_SUITES += accel-exports

# ---- benchmark: build/bin/anpu-bench-accel -> build/bench/accel.jsonl ----
BENCH_ACCEL_BIN := $(BUILD)/bin/anpu-bench-accel

$(call program,$(BENCH_ACCEL_BIN),$(OBJ)/bench/bench_accel.o $(LIBACCEL) $(LIBSIM),$(LIBDRM_LIBS) -lm)

$(OBJ)/bench/bench_accel.o: CPPFLAGS += $(LIBDRM_CFLAGS)

# the in-process part on the host, the kernel part in the VM: one accel.jsonl
BENCH_PARTS += bench-accel
bench-accel: $(BENCH_ACCEL_BIN) $(if $(and $(KDIR),$(ACCEL_VM_KERNEL)),$(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod)
	scripts/bench-record.sh $(BENCH_DIR) accel tests/accel/vm/bench.sh $(BUILD)

# ---- the conformance suite and the example in the VM, against the kernel backend ----
# One guest boot (anpu-vp run) runs tests/accel/vm/guest.sh; skips itself
# without Debian's 6.12 kernel image or headers. SKIP_VM=1 leaves it out.
.PHONY: check-accel-vm
ifneq ($(and $(KDIR),$(ACCEL_VM_KERNEL)),)
check-accel-vm: $(ACCEL_TEST_BIN) $(ACCEL_EXAMPLE) $(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod
	@tests/accel/vm/run.sh $(BUILD)
ACCEL_VM_CHECK_DEPS := $(ACCEL_TEST_BIN) $(ACCEL_EXAMPLE) $(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod
else
check-accel-vm:
	@echo "1..0 # SKIP check-accel-vm: no Debian 6.12 kernel image or headers (make deps)"
ACCEL_VM_CHECK_DEPS :=
endif

ifneq ($(SKIP_VM),1)
CHECK_DEPS   += $(ACCEL_VM_CHECK_DEPS)
CHECK_SUITES += check-accel-vm
CHECK_TIMEOUT_check-accel-vm := 900
endif
