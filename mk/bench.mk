# Simulator benchmark: build/bin/anpu-bench-sim; `make bench-sim` runs it and
# writes build/bench/sim.jsonl (rewritten every run).
BENCH_SIM_SRC := bench/bench_sim.c bench/bench_sim_attention.c bench/bw_read_avx2.c bench/bw_read_avx512.c \
	bench/peak_avx2.c bench/peak_avxvnni.c bench/peak_avx512.c
BENCH_SIM_OBJ := $(BENCH_SIM_SRC:%.c=$(OBJ)/%.o)
BENCH_SIM_BIN := $(BUILD)/bin/anpu-bench-sim

$(call program,$(BENCH_SIM_BIN),$(BENCH_SIM_OBJ) $(LIBSIM),-lm)

# On an AVX-512 host the AVX2 path's prefill figures too (issue 13: every SIMD path), as
# sim.avx2.*; on a host with AVX-VNNI and another path in use, the AVX-VNNI path's as
# sim.avxvnni.*
bench-sim: $(BENCH_SIM_BIN)
	@mkdir -p $(BUILD)/bench
	$(BENCH_SIM_BIN) --out $(BUILD)/bench/sim.jsonl
	@if grep -qw avx512f /proc/cpuinfo; then \
	  echo "ANPU_SIM_SIMD=avx2 $(BENCH_SIM_BIN) --prefill-only --prefix sim.avx2"; \
	  ANPU_SIM_SIMD=avx2 $(BENCH_SIM_BIN) --prefill-only --prefix sim.avx2 >>$(BUILD)/bench/sim.jsonl; fi
	@if grep -qw avx512f /proc/cpuinfo && grep -qw avx_vnni /proc/cpuinfo; then \
	  echo "ANPU_SIM_SIMD=avxvnni $(BENCH_SIM_BIN) --prefill-only --prefix sim.avxvnni"; \
	  ANPU_SIM_SIMD=avxvnni $(BENCH_SIM_BIN) --prefill-only --prefix sim.avxvnni \
	    >>$(BUILD)/bench/sim.jsonl; fi

bench: bench-sim

# Single-thread kernel micro-benchmark (build/bin/anpu-bench-kernels).
BENCH_KERN_BIN := $(BUILD)/bin/anpu-bench-kernels

$(call program,$(BENCH_KERN_BIN),$(OBJ)/bench/bench_kernels.o $(LIBSIM),-lm)
