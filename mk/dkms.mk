# DKMS (docs/install.md): anpu.ko rebuilt by dkms for every installed 6.12 kernel.
#   make dkms-source     the DKMS source tree $(DKMS_TREE_SRC): dkms.conf (from
#                        packaging/dkms.conf.in), VERSION, the Kbuild files, kmod/, and
#                        the headers it includes from hw/ and uapi/
#   make install-dkms    copies it to $(DESTDIR)$(DKMS_SRCDIR) (/usr/src/anpu-VERSION);
#                        then `dkms install anpu/VERSION` builds and installs the module
#   make uninstall-dkms  removes that copy (after `dkms remove anpu/VERSION --all`)
#   make check-dkms      dkms add + build against Debian's 6.12 headers in a private tree,
#                        modinfo of the result, and the VM loads it (tests/install/dkms.sh)
DKMS_TREE_SRC := $(BUILD)/dkms/anpu-$(ANPU_VERSION)
DKMS_SRCDIR   ?= /usr/src/anpu-$(ANPU_VERSION)
DKMS_FILES    := VERSION Kbuild $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild hw/anpu_hwif.h \
		 $(wildcard uapi/drm/anpu_*.h)

.PHONY: dkms-source install-dkms uninstall-dkms check-dkms FORCE
FORCE:
dkms-source: $(DKMS_TREE_SRC)/dkms.conf

# written afresh every time (a copy; so a file added to kmod/ is never missed)
$(DKMS_TREE_SRC)/dkms.conf: packaging/dkms.conf.in $(DKMS_FILES) FORCE
	@rm -rf $(DKMS_TREE_SRC) && mkdir -p $(DKMS_TREE_SRC)
	cp --parents $(DKMS_FILES) $(DKMS_TREE_SRC)/
	sed 's|@VERSION@|$(ANPU_VERSION)|' $< > $@.tmp && mv $@.tmp $@

install-dkms: $(DKMS_TREE_SRC)/dkms.conf
	install -d $(DESTDIR)$(DKMS_SRCDIR)
	cp -R $(DKMS_TREE_SRC)/. $(DESTDIR)$(DKMS_SRCDIR)/
	@echo "install-dkms: now run: dkms install anpu/$(ANPU_VERSION)"

uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMS_SRCDIR)

# the kernel: the one the stock headers are for (KMOD_STOCK_KDIR: mk/kmod.mk, included
# later, hence `=`); the VM part needs anpu-vp and anpu-sim
DKMS_KVER = $(patsubst linux-headers-%,%,$(notdir $(KMOD_STOCK_KDIR)))
check-dkms: $(DKMS_TREE_SRC)/dkms.conf $(BUILD)/bin/anpu-vp $(BUILD)/bin/anpu-sim
	@SKIP_VM=$(SKIP_VM) tests/install/dkms.sh $(BUILD) $(DKMS_TREE_SRC) '$(DKMS_KVER)'
CHECK_SUITES += check-dkms
CHECK_TIMEOUT_check-dkms := 900
