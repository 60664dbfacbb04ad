# The transformer runtime: libanpurt (runtime/), its tests (tests/runtime/) and its
# tools (tools/anpu-run/, tools/anpu-mkmodel/: one program per folder of C files).
RT_SRC   := $(shell find runtime/src -name '*.c' 2>/dev/null | sort)
RT_OBJ   := $(RT_SRC:%.c=$(OBJ)/%.o)
LIBRT    := $(BUILD)/lib/libanpurt.a
RT_INC   := -Iruntime/include -Iruntime/src -Iruntime/src/common -Ilibaccel/include
# what a program using the runtime links (the runtime stands on libaccel, PCRE2, utf8proc)
RT_LIBS   = $(LIBRT) $(LIBACCEL_LIBS) -lpcre2-8 -lutf8proc -lm

$(OBJ)/runtime/%.o $(OBJ)/tests/runtime/%.o $(OBJ)/tools/anpu-run/%.o \
	$(OBJ)/tools/anpu-mkmodel/%.o: CPPFLAGS += $(RT_INC)

$(LIBRT): $(RT_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

all: $(LIBRT)

# ---- unit tests: tests/runtime/test_*.c, each a cmocka suite; helpers tests/runtime/lib_*.c ----
RT_TEST_SRC  := $(wildcard tests/runtime/test_*.c)
RT_TEST_BIN  := $(RT_TEST_SRC:tests/runtime/%.c=$(BUILD)/tests/%)
RT_TEST_LIB  := $(patsubst %.c,$(OBJ)/%.o,$(wildcard tests/runtime/lib_*.c tests/runtime/ref_*.c))

$(BUILD)/tests/test_rt_%: $(OBJ)/tests/runtime/test_rt_%.o $(RT_TEST_LIB) $(LIBRT) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(RT_LIBS) -lcmocka -ljson-c

all: $(RT_TEST_BIN)
UNIT_TESTS += $(RT_TEST_BIN)

# ---- tools: every folder tools/anpu-run, tools/anpu-mkmodel with C files is one program ----
RT_TOOLS := $(foreach d,anpu-run anpu-mkmodel,$(if $(wildcard tools/$(d)/*.c),$(BUILD)/bin/$(d)))

define rt_tool_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/$(1)/*.c)) $(LIBRT) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(RT_LIBS)
endef
$(foreach t,$(RT_TOOLS),$(eval $(call rt_tool_rule,$(notdir $(t)))))

all: $(RT_TOOLS)

# ---- benchmark program: build/bin/anpu-bench-runtime (subcommands, JSON lines) ----
# `anpu-bench-runtime gguf-open FILE` gives runtime.gguf.open_ms; the bench part that
# makes FILE with anpu-mkmodel and records it is wired in by the benchmark rules.
BENCH_RT_BIN := $(BUILD)/bin/anpu-bench-runtime
$(OBJ)/bench/bench_runtime.o: CPPFLAGS += $(RT_INC)
$(BENCH_RT_BIN): $(OBJ)/bench/bench_runtime.o $(LIBRT) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(RT_LIBS)

all: $(BENCH_RT_BIN)
