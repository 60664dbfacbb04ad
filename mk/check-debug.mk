# The debug kernel and `make check-debug` (not part of `make check`: CI cannot build a
# kernel in its time). docs/virtual-platform.md, "A debug kernel and make check-debug".
#   make debug-kernel   scripts/debug-kernel.sh: Debian's linux-source-6.12 with KASAN,
#                       lockdep, kmemleak, UBSAN, debug objects and fault injection, in
#                       $(DEBUG_KERNEL_DIR) (ANPU_CACHE/debug-kernel). ~20 min on 2 idle
#                       cores, once: afterwards only when scripts/debug-kernel.sh or a
#                       fix in scripts/debug-kernel-patches/ changed (incremental)
#   make check-debug    every suite of CHECK_DEBUG_SUITES as `$(MAKE) DEBUG=1 <suite>`: the
#                       VM suites boot that kernel (2 vCPUs) with build/kmod-debug/anpu.ko,
#                       timeouts x ANPU_VP_TIMEOUT_SCALE (4). Each guest ends with forced
#                       kmemleak scans; any KASAN/UBSAN/lockdep/ODEBUG/hung-task/kmemleak
#                       report, BUG: or WARNING: fails its suite. Ends with
#                       "N passed, N failed, N skipped"; logs in $(BUILD)/test-logs/debug/
#   make <suite> DEBUG=1  one suite on the debug kernel (e.g. check-selftests DEBUG=1)
# Registration from mk/*.mk (read when check-debug runs, so any file may add):
#   CHECK_DEBUG_SUITES += <target>      a target printing "N passed, N failed, N skipped"
#   CHECK_DEBUG_ARGS_<target> := V=x    make variables for that run (e.g. a longer fuzz)
#   CHECK_DEBUG_TIMEOUT_<target> := s   its timeout (default: 4 x its make-check timeout)
DEBUG_KERNEL_STAMP   := $(DEBUG_KDIR)/.anpu-config-$(shell sha256sum scripts/debug-kernel.sh | cut -c1-16)
DEBUG_KERNEL_MODULES := $(DEBUG_KERNEL_DIR)/modules
CHECK_DEBUG_SCALE    := $(or $(ANPU_VP_TIMEOUT_SCALE),4)
.PHONY: debug-kernel check-debug

debug-kernel:
	@if [ -f $(DEBUG_KERNEL_STAMP) ] && [ -f $(DEBUG_KERNEL_IMAGE) ] && \
	    [ -n "$$(ls $(DEBUG_KERNEL_MODULES)/lib/modules 2>/dev/null)" ] && \
	    diff -rq scripts/debug-kernel-patches $(DEBUG_KERNEL_DIR)/src/linux-source-6.12/.anpu-patches \
	      >/dev/null 2>&1; then \
	  echo "debug-kernel: $(DEBUG_KERNEL_IMAGE) is up to date (rm $(DEBUG_KERNEL_STAMP) to rebuild)"; \
	else scripts/debug-kernel.sh $(DEBUG_KERNEL_DIR); fi

# The driver tests, every kselftest program, libaccel's conformance suite on the kernel
# backend; the ioctl fuzzer's long run and the fail-nth sweep (mk/vm.mk's check-vm-fuzz
# and check-vm-failnth, when present: CHECK_DEBUG_FUZZ_SECONDS of fuzzing, 1800).
CHECK_DEBUG_SUITES += check-vm check-selftests check-accel-vm
# The race test's threads_submit_on_one_fd lists 1024 BOs per job by default (a long
# unlock after the push, to widen the window of the use-after-free it guards against):
# 1200 such submits outlast its 300 s under KASAN and lockdep on TCG, and the BOs still
# draining when it is killed show up in the next test's object counters. 128 BOs keep
# the race (four threads, unlock after push) and finish in a few minutes.
CHECK_DEBUG_ARGS_check-selftests := ANPU_RACE_BOS=128
CHECK_DEBUG_FUZZ_SECONDS ?= 1800
ifneq ($(wildcard tests/vm/fuzz.sh),)
CHECK_DEBUG_SUITES += check-vm-fuzz
CHECK_DEBUG_ARGS_check-vm-fuzz    := FUZZ_VM_SECONDS=$(CHECK_DEBUG_FUZZ_SECONDS)
CHECK_DEBUG_TIMEOUT_check-vm-fuzz := $(shell expr $(CHECK_DEBUG_FUZZ_SECONDS) + 300 \* $(CHECK_DEBUG_SCALE) + 300)
endif
ifneq ($(wildcard tests/vm/failnth.sh),)
CHECK_DEBUG_SUITES += check-vm-failnth
CHECK_DEBUG_TIMEOUT_check-vm-failnth := $(shell expr 3600 \* $(CHECK_DEBUG_SCALE) + 300)
endif

debug_timeout = $(or $(CHECK_DEBUG_TIMEOUT_$(1)),$(shell expr \
	$(or $(CHECK_TIMEOUT_$(1)),$(SUITE_TIMEOUT)) \* $(CHECK_DEBUG_SCALE)))

check-debug: $(ANPU_VP)
	@test -f $(DEBUG_KERNEL_IMAGE) || { echo "check-debug: no debug kernel in $(DEBUG_KERNEL_DIR):" \
	  "run make debug-kernel first (~20 min), or point ANPU_CACHE at a checkout's .cache that has one"; exit 1; }
	+@$(MAKE) --no-print-directory DEBUG=1 kmod
	+@NO_UNIT=1 LOG_DIR=$(BUILD)/test-logs/debug RUN_LABEL=debug/ tests/run-tests.sh $(BUILD) \
	  $(foreach s,$(CHECK_DEBUG_SUITES),'$(s):$(call debug_timeout,$(s))=$(MAKE) -s --no-print-directory \
	  BUILD=$(BUILD) DEBUG=1 ANPU_CACHE=$(ANPU_CACHE) $(CHECK_DEBUG_ARGS_$(s)) $(s)')
