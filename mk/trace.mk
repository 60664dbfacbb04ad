# anpu-trace (tools/anpu-trace/): libaccel's trace mode recorded as Chrome trace JSON,
# reports and an offline timeline page; its tests (tests/trace/) and the tracing
# overhead benchmark (bench-trace).
TRACE_TOOL := $(BUILD)/bin/anpu-trace
TRACE_TOOL_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/anpu-trace/*.c))

# netlink_jobs.c: the kernel's job events through the tools' netlink client (mk/nlclient.mk);
# JSON strings through the tools' escaper (tools/common/tool_json.c)
$(call program,$(TRACE_TOOL),$(TRACE_TOOL_OBJ) $(ANPU_NL_OBJ) $(OBJ)/tools/common/tool_json.o,\
	-ljson-c -lm $(LIBNL_LIBS) -pthread)

# anpu-run --trace runs itself under anpu-trace (found next to it)
$(BUILD)/bin/anpu-run: | $(TRACE_TOOL)

# tests/runtime/test_rt_trace.c runs both tools from the outside
$(BUILD)/tests/test_rt_trace: | $(TRACE_TOOL) $(BUILD)/bin/anpu-run

# `make bench-trace`: $(BENCH_DIR)/trace.jsonl (trace.decode.overhead_ratio, bench/trace.sh)
.PHONY: bench-trace
BENCH_PARTS += bench-trace
bench-trace: $(BUILD)/bin/anpu-run $(BUILD)/bin/anpu-mkmodel
	scripts/bench-record.sh $(BENCH_DIR) trace bench/trace.sh $(BUILD)

# the libaccel VM suite records a trace on the kernel backend (tests/accel/vm/guest.sh)
ifneq ($(ACCEL_VM_CHECK_DEPS),)
check-accel-vm: $(TRACE_TOOL)
CHECK_DEPS += $(TRACE_TOOL)
endif

# libaccel's conformance suites with trace mode on (tests/trace/accel-traced.sh)
.PHONY: check-trace-accel
check-trace-accel: $(TRACE_TOOL) $(ACCEL_TEST_BIN)
	@tests/trace/accel-traced.sh $(BUILD)
CHECK_SUITES += check-trace-accel
ASAN_SUITES  += check-trace-accel
