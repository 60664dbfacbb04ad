# libFuzzer targets (clang, ASan + UBSan) in $(BUILD)/fuzz/.
#   make fuzz-smoke   regressions + >= 30 s of fuzz_cp from the committed corpus
#   make fuzz         FUZZ_SECONDS (600) of fuzz_cp
#   make fuzz-seeds   regenerate tests/fuzz/corpus/cp/ (committed)
#   make fuzz-smoke-gguf   >= 20 s of fuzz_gguf (GGUF reader + model description)
#   make fuzz-gguf         FUZZ_SECONDS of fuzz_gguf
#   make fuzz-seeds-gguf   regenerate tests/fuzz/corpus/gguf/ (committed)
#   make fuzz-smoke-session   >= 10 s of fuzz_session_file (the session file's checks)
#   make fuzz-session         FUZZ_SECONDS of fuzz_session_file
#   make fuzz-seeds-session   regenerate tests/fuzz/corpus/session/ (committed)
ifneq ($(HAVE_CLANG),)
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_SECONDS  ?= 600
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS   := $(CSTD) -O1 -g $(WARN) -fno-strict-aliasing -pthread -I. -Isim/include $(FUZZ_SAN)
FUZZ_SIM_OBJ  := $(SIM_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_CP       := $(FUZZ_DIR)/fuzz_cp
FUZZ_GEN      := $(FUZZ_DIR)/gen_seeds
FUZZ_CORPUS   := tests/fuzz/corpus/cp
FUZZ_REGRESS  := tests/fuzz/regressions/cp
FUZZ_ARGS     := -max_len=65552 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP $(simd_flags) -c -o $@ $<

$(FUZZ_CP): tests/fuzz/fuzz_cp.c tests/fuzz/fuzz_layout.h $(FUZZ_SIM_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ tests/fuzz/fuzz_cp.c $(FUZZ_SIM_OBJ) -lm

$(FUZZ_GEN): tests/fuzz/gen_seeds.c tests/fuzz/fuzz_layout.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

.PHONY: fuzz-build fuzz-seeds fuzz-smoke fuzz-regressions
fuzz-build: $(FUZZ_CP)

fuzz-seeds: $(FUZZ_GEN)
	@mkdir -p $(FUZZ_CORPUS)
	$(FUZZ_GEN) $(FUZZ_CORPUS)

# Every committed crash input must now pass.
fuzz-regressions: $(FUZZ_CP)
	@set -e; for f in $(wildcard $(FUZZ_REGRESS)/*); do $(FUZZ_CP) $$f; done

# New inputs go to a scratch corpus under build/, never into the committed one.
# TAP (a `make check` suite): one test per regression input, one for the fuzzing run.
fuzz-smoke: $(FUZZ_CP)
	@mkdir -p $(FUZZ_DIR)/corpus-cp $(FUZZ_DIR)/artifacts/
	@tests/fuzz/smoke.sh $(FUZZ_CP) "$(FUZZ_REGRESS)" $(FUZZ_SMOKE_SECONDS) \
		$(FUZZ_ARGS) -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-cp $(FUZZ_CORPUS)

fuzz: $(FUZZ_CP) fuzz-regressions
	@mkdir -p $(FUZZ_DIR)/corpus-cp $(FUZZ_DIR)/artifacts/
	$(FUZZ_CP) $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-cp $(FUZZ_CORPUS)

# ---- fuzz_gguf: the runtime's GGUF reader and model description ----
FUZZ_GGUF        := $(FUZZ_DIR)/fuzz_gguf
FUZZ_GGUF_GEN    := $(FUZZ_DIR)/gen_gguf_seeds
FUZZ_GGUF_CORPUS := tests/fuzz/corpus/gguf
FUZZ_GGUF_SMOKE_SECONDS ?= 20
# the model code builds the tokenizer at open: the text layer comes along
FUZZ_GGUF_SRC    := $(sort $(wildcard runtime/src/common/*.c runtime/src/model/*.c \
		      runtime/src/text/*.c))
FUZZ_GGUF_OBJ    := $(FUZZ_GGUF_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
$(FUZZ_GGUF_OBJ): FUZZ_CFLAGS += -Iruntime/include -Iruntime/src

# The text layer marks its CPU spans (tokenize) through libaccel's trace hooks, which do
# nothing unless ANPU_TRACE is set: the fuzzers link libaccel's archive (not instrumented;
# the prerequisite is in mk/tokenizer.mk, read after mk/libaccel.mk defines it).
FUZZ_RT_LIBS = $(LIBACCEL_LIBS) -pthread

$(FUZZ_GGUF): tests/fuzz/fuzz_gguf.c $(FUZZ_GGUF_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Iruntime/include -Iruntime/src -fsanitize=fuzzer -o $@ \
		tests/fuzz/fuzz_gguf.c $(FUZZ_GGUF_OBJ) -lpcre2-8 -lutf8proc $(FUZZ_RT_LIBS)

$(FUZZ_GGUF_GEN): tests/fuzz/gen_gguf_seeds.c tests/runtime/lib_gguf_build.c tests/runtime/lib_gguf_build.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/fuzz/gen_gguf_seeds.c tests/runtime/lib_gguf_build.c

.PHONY: fuzz-seeds-gguf fuzz-smoke-gguf fuzz-gguf
fuzz-build: $(FUZZ_GGUF)

fuzz-seeds-gguf: $(FUZZ_GGUF_GEN)
	@mkdir -p $(FUZZ_GGUF_CORPUS)
	$(FUZZ_GGUF_GEN) $(FUZZ_GGUF_CORPUS)

fuzz-smoke-gguf: $(FUZZ_GGUF)
	@mkdir -p $(FUZZ_DIR)/corpus-gguf $(FUZZ_DIR)/artifacts/
	@tests/fuzz/smoke.sh $(FUZZ_GGUF) tests/fuzz/regressions/gguf $(FUZZ_GGUF_SMOKE_SECONDS) \
		$(FUZZ_ARGS) -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-gguf $(FUZZ_GGUF_CORPUS)

fuzz-gguf: $(FUZZ_GGUF)
	@mkdir -p $(FUZZ_DIR)/corpus-gguf $(FUZZ_DIR)/artifacts/
	$(FUZZ_GGUF) $(FUZZ_ARGS) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-gguf $(FUZZ_GGUF_CORPUS)

CHECK_SUITES += fuzz-smoke-gguf
CHECK_DEPS   += $(FUZZ_GGUF)
CHECK_TIMEOUT_fuzz-smoke-gguf := 300

# ---- fuzz_session_file: the session file's header and payload checks (no device) ----
FUZZ_SESS        := $(FUZZ_DIR)/fuzz_session_file
FUZZ_SESS_GEN    := $(FUZZ_DIR)/gen_session_seeds
FUZZ_SESS_CORPUS := tests/fuzz/corpus/session
FUZZ_SESS_SMOKE_SECONDS ?= 10
FUZZ_SESS_SRC    := runtime/src/common/rt_error.c runtime/src/common/rt_hash.c \
		    runtime/src/session/session_file.c
FUZZ_SESS_OBJ    := $(FUZZ_SESS_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
$(FUZZ_SESS_OBJ): FUZZ_CFLAGS += -Iruntime/include -Iruntime/src

$(FUZZ_SESS): tests/fuzz/fuzz_session_file.c tests/fuzz/fuzz_session.h $(FUZZ_SESS_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -Iruntime/include -Iruntime/src -fsanitize=fuzzer -o $@ \
		tests/fuzz/fuzz_session_file.c $(FUZZ_SESS_OBJ)

$(FUZZ_SESS_GEN): tests/fuzz/gen_session_seeds.c tests/fuzz/fuzz_session.h $(FUZZ_SESS_SRC)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Iruntime/include -Iruntime/src -o $@ \
		tests/fuzz/gen_session_seeds.c $(FUZZ_SESS_SRC)

.PHONY: fuzz-seeds-session fuzz-smoke-session fuzz-session
fuzz-build: $(FUZZ_SESS)

fuzz-seeds-session: $(FUZZ_SESS_GEN)
	@mkdir -p $(FUZZ_SESS_CORPUS)
	$(FUZZ_SESS_GEN) $(FUZZ_SESS_CORPUS)

fuzz-smoke-session fuzz-session: $(FUZZ_SESS)
	@mkdir -p $(FUZZ_DIR)/corpus-session $(FUZZ_DIR)/artifacts/
	@tests/fuzz/smoke.sh $(FUZZ_SESS) tests/fuzz/regressions/session \
		$(if $(filter fuzz-session,$@),$(FUZZ_SECONDS),$(FUZZ_SESS_SMOKE_SECONDS)) \
		$(FUZZ_ARGS) -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-session \
		$(FUZZ_SESS_CORPUS)

CHECK_SUITES += fuzz-smoke-session
CHECK_DEPS   += $(FUZZ_SESS)
CHECK_TIMEOUT_fuzz-smoke-session := 300

# `make check` runs the smoke run as one suite.
CHECK_SUITES += fuzz-smoke
CHECK_DEPS   += $(FUZZ_CP)
CHECK_TIMEOUT_fuzz-smoke := 300

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
else
.PHONY: fuzz fuzz-smoke fuzz-gguf fuzz-smoke-gguf fuzz-session fuzz-smoke-session
fuzz fuzz-gguf fuzz-session:
	@echo "clang is not installed (make deps installs it): cannot build the libFuzzer targets"; exit 77
fuzz-smoke fuzz-smoke-gguf fuzz-smoke-session:
	@echo "1..0 # SKIP clang is not installed (make deps installs it): no libFuzzer targets"
endif
