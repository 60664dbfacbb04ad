# Monitoring tools (one program per folder, sources in tools/<name>/):
#   anpu-info   the ANPU devices, kernel and in-process (--json)
#   anpu-top    live per-process NPU use (fdinfo, netlink, the in-process stats files)
# They link libaccel (both backends), the netlink client (mk/nlclient.mk) and the
# JSON helper of tools/common.
MON_TOOLS := $(foreach d,anpu-info anpu-top,$(if $(wildcard tools/$(d)/*.c),$(BUILD)/bin/$(d)))
MON_COMMON_OBJ := $(ANPU_NL_OBJ) $(OBJ)/tools/common/tool_json.o

define mon_tool_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/$(1)/*.c)) $(MON_COMMON_OBJ) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBNL_LIBS) $$(LIBDRM_LIBS) -lm
endef
$(foreach t,$(MON_TOOLS),$(eval $(call mon_tool_rule,$(notdir $(t)))))

all: $(MON_TOOLS)

# ---- tests: usage and JSON of both tools, anpu-top seeing an in-process NPU busy ----
# (the kernel path runs in the VM: tests/accel/vm/guest.sh calls top-check.sh)
NPU_BUSY := $(BUILD)/tests/anpu-npu-busy
$(call program,$(NPU_BUSY),$(OBJ)/tests/tools/npu_busy.o $(LIBACCEL) $(LIBSIM),$(LIBDRM_LIBS) -lm)

.PHONY: check-tools
check-tools: $(MON_TOOLS) $(NPU_BUSY)
	@tests/tools/run.sh $(BUILD)

CHECK_DEPS   += $(MON_TOOLS) $(NPU_BUSY)
CHECK_SUITES += check-tools
# the VM suite of libaccel runs top-check.sh on the kernel device too
check-accel-vm: $(MON_TOOLS) $(NPU_BUSY)
# anpu-run writes its JSON strings with the same helper
$(BUILD)/bin/anpu-run: $(OBJ)/tools/common/tool_json.o
