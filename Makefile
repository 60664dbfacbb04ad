# ANPU stack: top-level build.  (docs/building-and-testing.md explains all of this.)
#
#   make              build all userspace into build/ (programs in build/bin/); no network
#   make deps         install the Debian packages the project needs (scripts/packages.txt)
#   make check        build and run every test; the last line is "N passed, N failed, N skipped"
#   make check-unit   only the unit tests in build/ (quick; no sanitizer/valgrind/extra suites)
#   make asan         the userspace tests under ASan + UBSan (built in build-asan/)
#   make tsan         the unit tests under ThreadSanitizer (built in build-tsan/)
#   make valgrind     the in-process unit tests under valgrind (ANPU_SIM_SIMD=portable)
#   make bench        every benchmark part (JSON lines in build/bench/<part>.jsonl)
#   make debug-kernel the KASAN/lockdep/kmemleak kernel for the VM (once, into .cache/)
#   make check-debug  the VM suites on that kernel (not part of `make check`; mk/check-debug.mk)
#   make install      libraries, headers, pkg-config files, tools, man pages, udev rule (PREFIX,
#                     DESTDIR, LIBDIR...: mk/install.mk, docs/install.md); make uninstall;
#                     make install-dkms: anpu.ko's DKMS source tree (mk/dkms.mk)
#   make man          the man pages into build/man (part of `make`; mk/man.mk)
#   make clean
#   make help         this list and the test suites
# `make -j$(nproc)` builds on every core (make alone builds one file at a time).
# Variables: BUILD=dir (default build), CC, OPT, EXTRA_CFLAGS, EXTRA_LDFLAGS,
#   SUITE_TIMEOUT (seconds per test suite, default 600; VALGRIND_SUITE_TIMEOUT 1200),
#   TEST_FILTER (regex on unit suites),
#   CHECK_SANITIZERS (default "asan tsan valgrind": the extra passes `make check` runs).
# Never -march=native: SIMD paths are chosen by cpuid at run time.
#
# ---- Registration hooks for per-part rules in mk/*.mk (included below) ----
#   all: <files>                    add programs/libraries to the default build
#   CHECK_DEPS    += <targets>      built before `make check` runs any test
#   CHECK_SUITES  += <target>       `make check` runs `$(MAKE) -s <target>` as one test suite
#                                   (under a timeout, judged by prove, log in
#                                   build/test-logs/<target>.log). The target prints TAP:
#                                   "ok - <test>" / "not ok - <test>" / "ok - <test> # SKIP
#                                   <reason>" lines (tests/lib/tap.sh helps; several programs'
#                                   TAP, cmocka's or kselftest's, may follow each other:
#                                   tests/lib/tap-merge.awk makes one stream and checks
#                                   their plans), or "1..0 # SKIP <reason>" to skip itself
#                                   as a whole. A nonzero exit without a "not ok" line is
#                                   one failure.
#   CHECK_TIMEOUT_<target> := <s>   that suite's timeout (default $(SUITE_TIMEOUT))
#   ASAN_SUITES   += <target>       also run by `make asan` (with BUILD=build-asan)
#   UNIT_TESTS    += $(BUILD)/tests/test_x   a cmocka binary built by an mk rule (add it
#                                   to `all:` too); tests/unit/test_*.c are there already
#   BENCH_PARTS   += bench-<part>   `make bench` runs these one after another; each writes
#                                   $(BENCH_DIR)/<part>.jsonl (scripts/bench-record.sh helps)
#   CHECK_DEBUG_SUITES += <target>  `make check-debug` runs `$(MAKE) DEBUG=1 <target>` (the VM
#                                   suites on the debug kernel; see mk/check-debug.mk)
#   HAVE_CLANG                      non-empty when $(CLANG) exists: guard clang-only rules
#                                   with it, so that plain `make` works without clang.
#
# ---- Build macros: a library or a program is one line (each also adds it to `all:`) ----
#   $(call static_lib,LIB,OBJS)          LIB = $(BUILD)/lib/libX.a archived from OBJS (the
#                                        archive rule is written once, below)
#   $(call shared_lib,LIB,OBJS,LIBS)     LIB = $(BUILD)/lib/libX.so linked from OBJS compiled
#                                        again with -fPIC -fvisibility=hidden (under
#                                        $(BUILD)/pic/): only what the sources mark with
#                                        visibility("default") (libaccel: ACCEL_API,
#                                        libanpurt: ANPURT_API) is exported; LIBS = link
#                                        flags (-ldrm -lm ...); other prerequisites of
#                                        LIB.$(ANPU_VERSION) (a .so it stands on) are linked
#                                        too. The target is the file LIB.$(ANPU_VERSION)
#                                        (libX.so.MAJOR.MINOR.PATCH of VERSION), soname
#                                        libX.so.MAJOR; its recipe also writes the symlinks
#                                        libX.so.MAJOR and libX.so (so depend on the file,
#                                        not on a symlink; a changed VERSION relinks, so the
#                                        symlinks follow it). Left out of the sanitizer builds.
#   $(call program,BIN,INPUTS,LIBS)      BIN linked from INPUTS (objects and .a files, its
#                                        prerequisites) and LIBS (link flags)
# OBJS are $(OBJ)/<path>.o for <path>.c; every object is compiled by one rule, which adds
# the SIMD flags by file-name suffix (*_avx2.c, *_avx512.c). Example (runtime/):
#   RUNTIME_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard runtime/src/*.c))
#   $(call static_lib,$(BUILD)/lib/libanpurt.a,$(RUNTIME_OBJ))
#   $(call program,$(BIN)/anpu-run,$(OBJ)/tools/anpu-run/main.o $(BUILD)/lib/libanpurt.a $(LIBACCEL) $(LIBSIM),$(LIBDRM_LIBS) -lm)

# `make check` (and `make run`, mk/run.mk) set a fresh machine up themselves: missing
# Debian packages are installed (scripts/deps.sh, as `make deps`) before any rule runs,
# so that flags found with pkg-config and the checks below see them.
ifneq ($(filter check,$(MAKECMDGOALS)),)
ifneq ($(shell scripts/deps.sh --check >/dev/null 2>&1; echo $$?),0)
$(info make check: installing the missing Debian packages first (scripts/deps.sh))
DEPS_INSTALL_STATUS := $(shell scripts/deps.sh >&2; echo $$?)
ifneq ($(DEPS_INSTALL_STATUS),0)
$(error make check: installing the packages failed (see above); run `make deps` as root)
endif
endif
endif

BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
OPT       ?= -O2
SANITIZE  ?=
CSTD      := -std=c11 -D_GNU_SOURCE=
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS    := $(CSTD) $(OPT) -g $(WARN) -fno-strict-aliasing -pthread $(SANITIZE) $(EXTRA_CFLAGS)
CPPFLAGS  := -I. -Isim/include -I$(BUILD)/include -MMD -MP
LDFLAGS   := -pthread $(SANITIZE) $(EXTRA_LDFLAGS)

# Flags for the SIMD translation units (by file-name suffix).
AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVXVNNI_FLAGS := $(AVX2_FLAGS) -mavxvnni
AVX512_FLAGS := $(AVX2_FLAGS) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512vbmi -mavx512bitalg -mgfni

# ---- the project version: VERSION is the one place (docs/install.md). Sonames, the
# pkg-config files, anpu.ko's MODULE_VERSION (kmod/Kbuild reads the file), dkms.conf and
# every program's --version (the generated header below) take it from there.
ANPU_VERSION := $(shell cat VERSION 2>/dev/null)
ifeq ($(shell printf '%s' '$(ANPU_VERSION)' | grep -Ex '[0-9]+\.[0-9]+\.[0-9]+'),)
$(error VERSION must hold one MAJOR.MINOR.PATCH line, not '$(ANPU_VERSION)')
endif
ANPU_VERSION_WORDS := $(subst ., ,$(ANPU_VERSION))
ANPU_VERSION_MAJOR := $(word 1,$(ANPU_VERSION_WORDS))

OBJ        := $(BUILD)/obj
PIC_OBJ    := $(BUILD)/pic
PIC_FLAGS  := -fPIC -fvisibility=hidden
BIN        := $(BUILD)/bin
BENCH_DIR  := $(BUILD)/bench
HAVE_CLANG := $(shell command -v $(CLANG) 2>/dev/null)

SUITE_TIMEOUT    ?= 600
VALGRIND_SUITE_TIMEOUT ?= 1200
CHECK_SANITIZERS ?= asan tsan valgrind
CHECK_DEPS   :=
CHECK_SUITES :=
ASAN_SUITES  :=
BENCH_PARTS  :=

ASAN_BUILD   := build-asan
ASAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# gcc's -Wmaybe-uninitialized gives false positives under -fsanitize=address (the plain
# build keeps the warning); clang does not know the option.
ASAN_EXTRA   := $(if $(shell $(CC) --version 2>/dev/null | grep -i clang),,-Wno-maybe-uninitialized)
ASAN_ENV     := ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1} \
                UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
TSAN_BUILD   := build-tsan
TSAN_FLAGS   := -fsanitize=thread
# gcc warns (-Wtsan) that TSan does not model atomic_thread_fence: the model publishes
# registers with release stores, which it does see (sim/sim_regs.h).
TSAN_EXTRA   := $(if $(shell $(CC) --version 2>/dev/null | grep -i clang),,-Wno-tsan)
TSAN_ENV     := TSAN_OPTIONS=$${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
VALGRIND     := valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
                --errors-for-leak-kinds=definite --track-fds=no --fair-sched=yes

.DEFAULT_GOAL := all
.PHONY: all deps check-deps check check-unit asan asan-build asan-tests tsan tsan-build tsan-tests valgrind bench \
        bench-dir clean
.DELETE_ON_ERROR:

# ---- build macros (see the top) ----
define static_lib_rules
$(1): $(2)
all: $(1)
endef
static_lib = $(eval $(call static_lib_rules,$(1),$(2)))

define shared_lib_rules
$(1).$(ANPU_VERSION): $(patsubst $(OBJ)/%,$(PIC_OBJ)/%,$(2)) VERSION
	@mkdir -p $$(@D)
	$$(CC) -shared $$(LDFLAGS) -Wl,-soname,$(notdir $(1)).$(ANPU_VERSION_MAJOR) -Wl,--no-undefined \
	  -o $$@ $$(filter-out VERSION,$$^) $(3)
	ln -sfn $(notdir $(1)).$(ANPU_VERSION) $(1).$(ANPU_VERSION_MAJOR)
	ln -sfn $(notdir $(1)).$(ANPU_VERSION_MAJOR) $(1)
all: $(if $(SANITIZE),,$(1).$(ANPU_VERSION))
endef
shared_lib = $(eval $(call shared_lib_rules,$(1),$(2),$(3)))

define program_rules
$(1): $(2)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(3)
all: $(1)
endef
program = $(eval $(call program_rules,$(1),$(2),$(3)))

# The archive rule (static_lib gives each archive its objects).
$(BUILD)/lib/%.a:
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

# ---- libanpusim: the reference model ----
SIM_SRC := $(wildcard sim/*.c sim/ops/*.c sim/kernels/*.c)
SIM_OBJ := $(SIM_SRC:%.c=$(OBJ)/%.o)
LIBSIM  := $(BUILD)/lib/libanpusim.a
$(call static_lib,$(LIBSIM),$(SIM_OBJ))

# ---- unit tests: tests/unit/test_*.c, each a cmocka suite ----
TEST_LIB_SRC := $(wildcard tests/lib/*.c tests/ref/*.c)
TEST_LIB_OBJ := $(TEST_LIB_SRC:%.c=$(OBJ)/%.o)
TEST_SRC     := $(wildcard tests/unit/test_*.c)
TEST_BIN     := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_OBJ     := $(TEST_SRC:%.c=$(OBJ)/%.o)
TEST_LIBS    := -lcmocka -lm
.SECONDARY:

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(TEST_LIB_OBJ) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

all: $(TEST_BIN)

# The unit-test binaries the runner runs (mk files may append binaries built elsewhere
# under $(BUILD)/tests/; stale binaries of deleted sources are not run).
UNIT_TESTS := $(TEST_BIN)

# (not while `make deps`, `make run` or `make vp-run` is about to install it)
ifeq ($(wildcard /usr/include/cmocka.h)$(filter deps run vp-run,$(MAKECMDGOALS)),)
$(warning cmocka.h not found: the unit tests need libcmocka-dev (run `make deps`))
endif

# ---- the generated version header: $(BUILD)/include/anpu_version.h (ANPU_VERSION, a
# string, and its numbers). Every object waits for it (order-only); the dependency files
# then rebuild exactly the objects that include it when VERSION changes.
VERSION_H := $(BUILD)/include/anpu_version.h
$(VERSION_H): VERSION
	@mkdir -p $(@D)
	@printf '%s\n' '/* generated from VERSION by the Makefile: do not edit */' \
	  '#ifndef ANPU_VERSION_H' '#define ANPU_VERSION_H' \
	  '#define ANPU_VERSION "$(ANPU_VERSION)"' \
	  '#define ANPU_VERSION_MAJOR $(word 1,$(ANPU_VERSION_WORDS))' \
	  '#define ANPU_VERSION_MINOR $(word 2,$(ANPU_VERSION_WORDS))' \
	  '#define ANPU_VERSION_PATCH $(word 3,$(ANPU_VERSION_WORDS))' \
	  '#endif' > $@.tmp && mv $@.tmp $@

# ---- compile rules: SIMD flags by file-name suffix; $(PIC_OBJ) for shared libraries ----
simd_flags = $(if $(filter %_avx512.o,$@),$(AVX512_FLAGS),$(if $(filter %_avx2.o,$@),$(AVX2_FLAGS),$(if $(filter %_avxvnni.o,$@),$(AVXVNNI_FLAGS))))

$(OBJ)/%.o: %.c | $(VERSION_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(simd_flags) -c -o $@ $<

$(PIC_OBJ)/%.o: %.c | $(VERSION_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PIC_FLAGS) $(simd_flags) -c -o $@ $<

# ---- per-part rules (daemon, tools, kmod, vm, bench, fuzz) live in mk/*.mk ----
-include $(sort $(wildcard mk/*.mk))

# ---- help: the target list at the top of this file, then the registered suites ----
.PHONY: help
help:
	@awk 'NR > 2 && /^# Variables/ { exit } NR > 2 { sub(/^# ?/, ""); print }' Makefile
	@printf '\nTest suites (`make SUITE` runs one; `make check` runs them all):\n'
	@echo '$(sort $(CHECK_SUITES))' | fmt -w 88 | sed 's/^/  /'
	@printf 'On the debug kernel (`make check-debug`):\n'
	@echo '$(sort $(CHECK_DEBUG_SUITES))' | fmt -w 88 | sed 's/^/  /'
	@printf 'Benchmarks (`make bench` runs them all):\n'
	@echo '$(BENCH_PARTS)' | fmt -w 88 | sed 's/^/  /'

# ---- setup ----
deps:
	@scripts/deps.sh

check-deps:
	@scripts/deps.sh --check || { \
	  echo "make check: install the missing packages first (make deps)" >&2; exit 1; }

# ---- tests ----
# One runner argument per registered suite: NAME:TIMEOUT=COMMAND.
suite_args = $(foreach s,$(1),'$(s):$(or $(CHECK_TIMEOUT_$(s)),$(SUITE_TIMEOUT))=$(MAKE) -s --no-print-directory BUILD=$(2) $(s)')

check: check-deps all $(CHECK_DEPS) $(if $(filter asan,$(CHECK_SANITIZERS)),asan-build) \
       $(if $(filter tsan,$(CHECK_SANITIZERS)),tsan-build)
	+@SUITE_TIMEOUT=$(SUITE_TIMEOUT) TEST_BINS="$(UNIT_TESTS)" tests/run-tests.sh $(BUILD) \
	  $(call suite_args,$(CHECK_SUITES),$(BUILD)) \
	  $(if $(filter asan,$(CHECK_SANITIZERS)),'asan:$(or $(CHECK_TIMEOUT_asan),1800)=$(MAKE) -s --no-print-directory asan-tests') \
	  $(if $(filter tsan,$(CHECK_SANITIZERS)),'tsan:$(or $(CHECK_TIMEOUT_tsan),1800)=$(MAKE) -s --no-print-directory tsan-tests') \
	  $(if $(filter valgrind,$(CHECK_SANITIZERS)),'valgrind:$(or $(CHECK_TIMEOUT_valgrind),2400)=$(MAKE) -s --no-print-directory BUILD=$(BUILD) valgrind')

check-unit: $(UNIT_TESTS)
	@SUITE_TIMEOUT=$(SUITE_TIMEOUT) TEST_BINS="$(UNIT_TESTS)" tests/run-tests.sh $(BUILD)

asan-build:
	+@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) SANITIZE="$(ASAN_FLAGS)" \
	  EXTRA_CFLAGS="$(strip $(ASAN_EXTRA) $(EXTRA_CFLAGS))" all

ASAN_RUN = $(ASAN_ENV) RUN_LABEL=asan/ SUITE_TIMEOUT=$(SUITE_TIMEOUT) \
	  TEST_BINS="$(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_TESTS))" \
	  tests/run-tests.sh $(ASAN_BUILD) $(call suite_args,$(ASAN_SUITES),$(ASAN_BUILD))

asan-tests:
	+@$(ASAN_RUN)

asan: asan-build
	+@$(ASAN_RUN)

# The unit tests (model threads, worker pool, libaccel's completion thread) under TSan.
TSAN_TESTS = $(patsubst $(BUILD)/%,$(TSAN_BUILD)/%,$(UNIT_TESTS))

tsan-build:
	+@$(MAKE) --no-print-directory BUILD=$(TSAN_BUILD) SANITIZE="$(TSAN_FLAGS)" \
	  EXTRA_CFLAGS="$(strip $(TSAN_EXTRA) $(EXTRA_CFLAGS))" $(TSAN_TESTS)

TSAN_RUN = $(TSAN_ENV) RUN_LABEL=tsan/ SUITE_TIMEOUT=$(SUITE_TIMEOUT) \
	  TEST_BINS="$(TSAN_TESTS)" tests/run-tests.sh $(TSAN_BUILD)

tsan-tests:
	+@$(TSAN_RUN)

tsan: tsan-build
	+@$(TSAN_RUN)

# The in-process unit tests under valgrind, portable SIMD path (valgrind cannot decode
# AVX-512).
valgrind: $(UNIT_TESTS)
	@ANPU_SIM_SIMD=portable RUN_LABEL=valgrind/ TEST_BINS="$(UNIT_TESTS)" \
	  TEST_WRAPPER="$(VALGRIND)" SUITE_TIMEOUT=$(VALGRIND_SUITE_TIMEOUT) \
	  LOG_DIR=$(BUILD)/test-logs/valgrind tests/run-tests.sh $(BUILD)

# ---- benchmarks ----
bench-dir:
	@mkdir -p $(BENCH_DIR)

# Parts run one after another (they measure the machine), after the build.
bench: all bench-dir
	+@set -e; for p in $(BENCH_PARTS); do echo "== $$p"; \
	  $(MAKE) --no-print-directory BUILD=$(BUILD) $$p; done; \
	echo "benchmark results: $$(ls $(BENCH_DIR)/*.jsonl 2>/dev/null | tr '\n' ' ')"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

-include $(shell find $(OBJ) $(PIC_OBJ) -name '*.d' 2>/dev/null)
