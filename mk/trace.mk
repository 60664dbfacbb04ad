# anpu-trace (tools/anpu-trace/): libaccel's trace mode recorded as Chrome trace JSON,
# reports and an offline timeline page; its tests (tests/trace/) and the tracing
# overhead benchmark (bench-trace).
TRACE_TOOL := $(BUILD)/bin/anpu-trace
TRACE_TOOL_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/anpu-trace/*.c))

$(call program,$(TRACE_TOOL),$(TRACE_TOOL_OBJ),-ljson-c -lm)

# anpu-run --trace runs itself under anpu-trace (found next to it)
$(BUILD)/bin/anpu-run: | $(TRACE_TOOL)

# tests/runtime/test_rt_trace.c runs both tools from the outside
$(BUILD)/tests/test_rt_trace: | $(TRACE_TOOL) $(BUILD)/bin/anpu-run
