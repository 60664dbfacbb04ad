# `make run`: the main job of the stack, from a fresh machine. Installs missing packages
# (scripts/deps.sh, as `make deps`), builds anpu-run and anpu-mkmodel, generates the demo
# model once (Qwen2.5-0.5B shapes, Q4_K_M mix, Qwen's real tokenizer and chat template from
# the npm cache; random weights) into .cache/models/, and runs one chat turn on the
# in-process NPU.
#   make run                                   the demo model, the default prompt
#   make run MODEL=qwen2.5-0.5b-instruct-q4_k_m.gguf PROMPT="Why is the sky blue?"
#   make run RUN_ARGS="-n 128 --temp 0.7"      more anpu-run options
#   make vp-run [MODEL=... PROMPT=...]         the same turn through anpu.ko in the
#                                              virtual platform (anpu-vp): BAR2 sized by
#                                              `anpu-run --mem-needed` (+ RUN_ARGS' --ctx)
#   make vp-run MODEL=.cache/models/demo-qwen2.5-1.5b-q4_k_m.gguf   any demo-PRESET-TYPE
#                                              file is generated once (anpu-mkmodel)
RUN_DEMO_MODEL := .cache/models/demo-qwen2.5-0.5b-q4_k_m.gguf
MODEL    ?= $(RUN_DEMO_MODEL)
PROMPT   ?= Write a haiku about a small chip that thinks.
RUN_ARGS ?= -n 48

# Demo models: .cache/models/demo-PRESET-TYPE.gguf of any anpu-mkmodel preset and type
# (e.g. demo-qwen2.5-1.5b-q4_k_m.gguf, ~1 GB, a few minutes), generated once when MODEL
# names one. Order-only on the tool: not again when the tool is rebuilt.
RUN_DEMO_DIR := .cache/models
run_demo_type = $(lastword $(subst -, ,$(1)))
$(RUN_DEMO_DIR)/demo-%.gguf: | $(BUILD)/bin/anpu-mkmodel
	@$(MAKE) -s --no-print-directory mkmodel-inputs
	@mkdir -p $(@D)
	@echo "run: generating the demo model ($(patsubst %-$(call run_demo_type,$*),%,$*) shapes, $(call run_demo_type,$*), random weights) once: $@"
	$(BUILD)/bin/anpu-mkmodel -q -p $(patsubst %-$(call run_demo_type,$*),%,$*) -t $(call run_demo_type,$*) -o $@.tmp
	@mv $@.tmp $@
RUN_DEMO_DEP := $(filter $(RUN_DEMO_DIR)/demo-%.gguf,$(MODEL))

# what run and vp-run say about the demo model ($(1): the target)
define run_demo_note
	@if [ -n "$(RUN_DEMO_DEP)" ]; then \
	  echo "$(1): the demo model has RANDOM weights: its answer is gibberish, but every token"; \
	  echo "     ran through the NPU. For a real answer, download a Qwen GGUF (e.g."; \
	  echo "     qwen2.5-0.5b-instruct-q4_k_m.gguf from Hugging Face Qwen/Qwen2.5-0.5B-Instruct-GGUF)"; \
	  echo "     and run: make $(1) MODEL=path/to/model.gguf PROMPT=\"...\""; \
	fi
endef

run:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh
	@$(MAKE) --no-print-directory run-chat

run-chat: $(BUILD)/bin/anpu-run $(RUN_DEMO_DEP)
	$(call run_demo_note,run)
	@echo "run: $(BUILD)/bin/anpu-run -m $(MODEL) --chat -p \"$(PROMPT)\" $(RUN_ARGS)"
	@$(BUILD)/bin/anpu-run -m "$(MODEL)" --chat -p "$(PROMPT)" $(RUN_ARGS)
	@echo

# The model must be readable by the guest (the host root over 9p, not /tmp); the guest
# finds the device as /dev/accel/accel0 (anpu-vp's only ANPU).
VP_RUN_TIMEOUT ?= 1800
VP_RUN_DEPS    := $(BUILD)/bin/anpu-run $(BUILD)/bin/anpu-vp $(ANPU_SIM) kmod

vp-run:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh
	@$(MAKE) --no-print-directory vp-run-chat

vp-run-chat: $(VP_RUN_DEPS) $(RUN_DEMO_DEP)
	$(call run_demo_note,vp-run)
	@need=$$($(BUILD)/bin/anpu-run -m "$(MODEL)" --mem-needed $(RUN_ARGS)) || exit 1; \
	echo "vp-run: $(MODEL) needs $$need bytes of device memory: anpu-vp --dev-mem-for $$need"; \
	echo "vp-run: in the guest: $(BUILD)/bin/anpu-run -m $(MODEL) --device /dev/accel/accel0 --chat -p \"$(PROMPT)\" $(RUN_ARGS)"; \
	$(BUILD)/bin/anpu-vp run --dev-mem-for $$need --timeout $(VP_RUN_TIMEOUT) -- \
	  $(BUILD)/bin/anpu-run -m "$(MODEL)" --device /dev/accel/accel0 --chat -p "$(PROMPT)" $(RUN_ARGS)
	@echo

.PHONY: run run-chat vp-run vp-run-chat
