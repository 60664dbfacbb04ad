# anpu.ko for Debian's 6.12 kernel, built out of tree in build/kmod/ (a tree
# of symlinks, so the sources stay clean).
#   make kmod                   finds /usr/src/linux-headers-6.12*-amd64 (or
#                               /lib/modules/6.12*/build); never `uname -r`
#   make kmod KDIR=/path        another kernel tree (e.g. a debug build)
#   make kmod-checkpatch        checkpatch.pl --strict on kmod/ (from linux-source)
KDIR ?= $(firstword $(shell ls -d /usr/src/linux-headers-6.12*-amd64 2>/dev/null | sort -V | tail -n 1) \
		    $(shell ls -d /lib/modules/6.12*/build 2>/dev/null | sort -V | tail -n 1))
KMOD_DIR := $(BUILD)/kmod
KMOD_KO  := $(KMOD_DIR)/anpu.ko
KMOD_SRC := $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild
KMOD_W   ?= 1

.PHONY: kmod kmod-clean kmod-checkpatch
kmod: $(KMOD_KO)

$(KMOD_KO): $(KMOD_SRC) Kbuild hw/anpu_hwif.h uapi/drm/anpu_isa.h uapi/drm/anpu_accel.h
	@test -n "$(KDIR)" -a -d "$(KDIR)" || \
		{ echo "kmod: no 6.12 kernel headers (make deps, or KDIR=...)"; exit 1; }
	@mkdir -p $(KMOD_DIR)/kmod
	@ln -sfn $(CURDIR)/Kbuild $(KMOD_DIR)/Kbuild
	@ln -sfn $(CURDIR)/hw $(KMOD_DIR)/hw
	@ln -sfn $(CURDIR)/uapi $(KMOD_DIR)/uapi
	@find $(KMOD_DIR)/kmod -maxdepth 1 -type l -delete
	@for f in $(KMOD_SRC); do ln -sfn $(CURDIR)/$$f $(KMOD_DIR)/$$f; done
	$(MAKE) -C $(KDIR) M=$(abspath $(KMOD_DIR)) W=$(KMOD_W) modules
	@cp $(KMOD_DIR)/kmod/anpu.ko $@

kmod-clean:
	rm -rf $(KMOD_DIR)

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
