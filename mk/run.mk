# `make run`: the main job of the stack, from a fresh machine. Installs missing packages
# (scripts/deps.sh, as `make deps`), builds anpu-run and anpu-mkmodel, generates the demo
# model once (Qwen2.5-0.5B shapes, Q4_K_M mix, Qwen's real tokenizer and chat template from
# the npm cache; random weights) into .cache/models/, and runs one chat turn on the
# in-process NPU.
#   make run                                   the demo model, the default prompt
#   make run MODEL=qwen2.5-0.5b-instruct-q4_k_m.gguf PROMPT="Why is the sky blue?"
#   make run RUN_ARGS="-n 128 --temp 0.7"      more anpu-run options
RUN_DEMO_MODEL := .cache/models/demo-qwen2.5-0.5b-q4_k_m.gguf
MODEL    ?= $(RUN_DEMO_MODEL)
PROMPT   ?= Write a haiku about a small chip that thinks.
RUN_ARGS ?= -n 48

# order-only on the tool: generated once, not again when the tool is rebuilt
$(RUN_DEMO_MODEL): | $(BUILD)/bin/anpu-mkmodel
	@$(MAKE) -s --no-print-directory mkmodel-inputs
	@mkdir -p $(@D)
	@echo "run: generating the demo model (Qwen2.5-0.5B shapes, Q4_K_M, random weights) once: $@"
	$(BUILD)/bin/anpu-mkmodel -q -p qwen2.5-0.5b -t q4_k_m -o $@.tmp
	@mv $@.tmp $@

run:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh
	@$(MAKE) --no-print-directory run-chat

run-chat: $(BUILD)/bin/anpu-run $(if $(filter $(RUN_DEMO_MODEL),$(MODEL)),$(RUN_DEMO_MODEL))
	@if [ "$(MODEL)" = "$(RUN_DEMO_MODEL)" ]; then \
	  echo "run: the demo model has RANDOM weights: its answer is gibberish, but every token"; \
	  echo "     ran through the NPU. For a real answer, download a Qwen GGUF (e.g."; \
	  echo "     qwen2.5-0.5b-instruct-q4_k_m.gguf from Hugging Face Qwen/Qwen2.5-0.5B-Instruct-GGUF)"; \
	  echo "     and run: make run MODEL=path/to/model.gguf PROMPT=\"...\""; \
	fi
	@echo "run: $(BUILD)/bin/anpu-run -m $(MODEL) --chat -p \"$(PROMPT)\" $(RUN_ARGS)"
	@$(BUILD)/bin/anpu-run -m "$(MODEL)" --chat -p "$(PROMPT)" $(RUN_ARGS)
	@echo

.PHONY: run run-chat
