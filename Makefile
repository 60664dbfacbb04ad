# ANPU stack: top-level build.
#   make            build all userspace into build/ (programs in build/bin/)
#   make check      build and run every test; ends with "N passed, N failed, N skipped"
#   make asan       the userspace tests under ASan + UBSan (build-asan/)
#   make bench      benchmarks (JSON lines in build/bench/)
#   make deps       install the Debian packages the project needs
# Never -march=native: SIMD paths are chosen by cpuid at run time.

BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
OPT       ?= -O2
SANITIZE  ?=
CSTD      := -std=c11 -D_GNU_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS    := $(CSTD) $(OPT) -g $(WARN) -fno-strict-aliasing -pthread $(SANITIZE) $(EXTRA_CFLAGS)
CPPFLAGS  := -I. -Isim/include -MMD -MP
LDFLAGS   := -pthread $(SANITIZE) $(EXTRA_LDFLAGS)

# Flags for the SIMD translation units (by file-name suffix).
AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := $(AVX2_FLAGS) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni

OBJ := $(BUILD)/obj

.PHONY: all check asan bench bench-sim fuzz deps clean
all:

# ---- libanpusim: the reference model ----
SIM_SRC := $(wildcard sim/*.c sim/ops/*.c sim/kernels/*.c)
SIM_OBJ := $(SIM_SRC:%.c=$(OBJ)/%.o)
LIBSIM  := $(BUILD)/lib/libanpusim.a

$(LIBSIM): $(SIM_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

all: $(LIBSIM)

# ---- tests ----
TEST_LIB_SRC := $(wildcard tests/lib/*.c tests/ref/*.c)
TEST_LIB_OBJ := $(TEST_LIB_SRC:%.c=$(OBJ)/%.o)
TEST_SRC     := $(wildcard tests/unit/test_*.c)
TEST_BIN     := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_LIBS    := -lcmocka -lm

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(TEST_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

all: $(TEST_BIN)

check: all
	@tests/run-tests.sh $(BUILD)

# ---- compile rules ----
$(OBJ)/%_avx2.o: %_avx2.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(AVX2_FLAGS) -c -o $@ $<

$(OBJ)/%_avx512.o: %_avx512.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(AVX512_FLAGS) -c -o $@ $<

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

clean:
	rm -rf $(BUILD) build-asan

# Per-part rules (daemon, tools, kmod, bench, fuzz) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
