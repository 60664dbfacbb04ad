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
