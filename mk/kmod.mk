# anpu.ko built out of tree against a kernel tree KDIR (a tree of symlinks, so
# the sources stay clean), one build directory per kernel:
#   make kmod                   Debian's 6.12: the newest /usr/src/linux-headers-6.12*-amd64
#                               (or /lib/modules/6.12*/build); never `uname -r`.
#                               Result: build/kmod/anpu.ko
#   make kmod-debug             the debug kernel of `make debug-kernel` (same as
#   make kmod DEBUG=1)          KDIR=$(DEBUG_KDIR)). Result: build/kmod-debug/anpu.ko
#   make kmod KDIR=/path        any other kernel tree (an O= build dir works).
#                               Result: build/kmod-<hash of the path>/anpu.ko
#   make kmod-checkpatch        checkpatch.pl --strict on kmod/ (from linux-source)
# Each build directory records its KDIR: a module is rebuilt when its kernel is
# (Module.symvers newer) or when the directory would be reused for another tree.
# KMOD_KO names the module of the current KDIR; it is exported to every recipe as
# ANPU_KO, which anpu-vp loads by default.
KMOD_STOCK_KDIR := $(firstword $(shell ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | sort -V | tail -n 1) \
		    $(shell ls -d /lib/modules/6.12*/build 2>/dev/null | sort -V | tail -n 1))
# The debug kernel (scripts/debug-kernel.sh): in the ignored cache of this checkout, or
# of another one (ANPU_CACHE=/path/to/checkout/.cache: one build for every worktree).
ANPU_CACHE      ?= $(CURDIR)/.cache
DEBUG_KERNEL_DIR := $(abspath $(ANPU_CACHE))/debug-kernel
DEBUG_KDIR      := $(DEBUG_KERNEL_DIR)/build
DEBUG_KERNEL_IMAGE := $(DEBUG_KDIR)/arch/x86/boot/bzImage
# DEBUG=1: the module for the debug kernel, and the VM suites boot that kernel
# (anpu-vp reads ANPU_VP_KERNEL; its timeouts scaled: KASAN under TCG is slow).
ifeq ($(DEBUG),1)
KDIR := $(DEBUG_KDIR)
export ANPU_VP_KERNEL := $(DEBUG_KERNEL_IMAGE)
export ANPU_VP_TIMEOUT_SCALE ?= 4
endif
KDIR ?= $(KMOD_STOCK_KDIR)
KMOD_DIR_OF = $(BUILD)/kmod$(if $(filter $(abspath $(KMOD_STOCK_KDIR)),$(abspath $(1))),,$(if \
	      $(filter $(DEBUG_KDIR),$(abspath $(1))),-debug,-$(shell printf '%s' '$(abspath $(1))' | sha256sum | cut -c1-12)))
KMOD_DIR := $(call KMOD_DIR_OF,$(KDIR))
KMOD_KO  := $(KMOD_DIR)/anpu.ko
# anpu-vp (and the guest scripts that reload the module) load the module of KDIR
export ANPU_KO := $(abspath $(KMOD_KO))
KMOD_DEBUG_KO := $(call KMOD_DIR_OF,$(DEBUG_KDIR))/anpu.ko
KMOD_SRC := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild
KMOD_W   ?= 1
# The tree the directory was last built against: a changed KDIR rebuilds.
KMOD_STAMP := $(KMOD_DIR)/.kdir
ifneq ($(KDIR),)
ifneq ($(shell cat $(KMOD_STAMP) 2>/dev/null),$(abspath $(KDIR)))
$(shell mkdir -p $(KMOD_DIR) && printf '%s\n' '$(abspath $(KDIR))' > $(KMOD_STAMP))
endif
endif

.PHONY: kmod kmod-debug kmod-clean kmod-checkpatch
kmod: $(KMOD_KO)

kmod-debug:
	+@$(MAKE) --no-print-directory KDIR=$(DEBUG_KDIR) kmod

$(KMOD_KO): $(KMOD_SRC) Kbuild VERSION hw/anpu_hwif.h uapi/drm/anpu_isa.h uapi/drm/anpu_accel.h $(KMOD_STAMP) \
	    $(wildcard $(KDIR)/Module.symvers)
	@test -n "$(KDIR)" -a -d "$(KDIR)" || \
		{ echo "kmod: no kernel tree at KDIR=$(KDIR) (make deps; make debug-kernel for the debug one)"; exit 1; }
	@mkdir -p $(KMOD_DIR)/kmod
	@ln -sfn $(CURDIR)/Kbuild $(KMOD_DIR)/Kbuild
	@ln -sfn $(CURDIR)/VERSION $(KMOD_DIR)/VERSION
	@ln -sfn $(CURDIR)/hw $(KMOD_DIR)/hw
	@ln -sfn $(CURDIR)/uapi $(KMOD_DIR)/uapi
	@find $(KMOD_DIR)/kmod -maxdepth 1 -type l -delete
	@for f in $(KMOD_SRC); do ln -sfn $(CURDIR)/$$f $(KMOD_DIR)/$$f; done
	$(MAKE) -C $(KDIR) M=$(abspath $(KMOD_DIR)) W=$(KMOD_W) modules
	@cp $(KMOD_DIR)/kmod/anpu.ko $@

kmod-clean:
	rm -rf $(BUILD)/kmod $(BUILD)/kmod-*

# checkpatch.pl and its data files come from Debian's linux-source tarball,
# extracted into build/ at use time (never committed).
CHECKPATCH_DIR := $(BUILD)/checkpatch
CHECKPATCH     := $(CHECKPATCH_DIR)/scripts/checkpatch.pl
$(CHECKPATCH):
	@mkdir -p $(CHECKPATCH_DIR)
	tar -xJf $(firstword $(wildcard /usr/src/linux-source-6.12*.tar.xz)) -C $(CHECKPATCH_DIR) \
		--strip-components=1 --wildcards '*/scripts/checkpatch.pl' \
		'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	@touch $@

# the tracepoint header is written in the TRACE_EVENT macro style (open-ended
# lines, macro-argument alignment), as in-tree trace headers are
KMOD_TRACE_H := kmod/anpu_trace.h
kmod-checkpatch: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --terse -f $(filter-out $(KMOD_TRACE_H),$(KMOD_SRC)) Kbuild
	$(CHECKPATCH) --strict --no-tree --terse --ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
		-f $(KMOD_TRACE_H)
