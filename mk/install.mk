# make install / make uninstall (docs/install.md): the libraries (shared, with their
# soname symlinks, and static), the public headers, the pkg-config files, the tools,
# their man pages and the libraries' (mk/man.mk) and the udev rule. Everything goes under $(DESTDIR) plus one of the directories below;
# nothing else is written, except that an install to the live system (no DESTDIR) runs
# $(LDCONFIG) so that the new libaccel.so.MAJOR is found (LDCONFIG=true skips it).
#   make install PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu DESTDIR=/tmp/stage
# anpu-vp is not installed: it is the build tree's virtual platform (it keeps its
# guest images and the module it loads in build/).
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# udev reads /usr/local/lib/udev/rules.d and /usr/lib/udev/rules.d (and /etc/udev/rules.d)
UDEVDIR      ?= $(PREFIX)/lib/udev/rules.d
MANDIR       ?= $(PREFIX)/share/man
LDCONFIG     ?= ldconfig
INSTALL      ?= install

# (recursive: the libraries' mk files come later in the include order)
INSTALL_BINS     = $(addprefix $(BIN)/,anpu-run anpu-mkmodel anpu-trace anpu-info anpu-top anpu-sim)
INSTALL_SO       = $(LIBACCEL_SO) $(LIBRT_SO)
INSTALL_STATIC   = $(LIBACCEL) $(LIBSIM) $(LIBRT)
INSTALL_HEADERS := libaccel/include/accel.h runtime/include/anpurt.h
INSTALL_PC      := packaging/accel.pc.in packaging/anpurt.pc.in
UDEV_RULES      := packaging/70-anpu.rules
# the installed tools' pages (not anpu-vp's) and the libraries'
INSTALL_MAN1     = $(patsubst $(BIN)/%,$(BUILD)/man/man1/%.1,$(INSTALL_BINS))
INSTALL_MAN3     = $(MAN3)
INSTALL_DIRS    := $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(PKGCONFIGDIR) $(UDEVDIR) \
		   $(MANDIR)/man1 $(MANDIR)/man3

# a directory of a .pc file: relative to ${prefix} when under $(PREFIX)
pc_path = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PC_SED := -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_path,$(LIBDIR))|' \
	  -e 's|@INCLUDEDIR@|$(call pc_path,$(INCLUDEDIR))|' -e 's|@VERSION@|$(ANPU_VERSION)|g'

.PHONY: install uninstall
install: all
	$(INSTALL) -d $(addprefix $(DESTDIR),$(INSTALL_DIRS))
	$(INSTALL) -m 0755 $(INSTALL_BINS) $(DESTDIR)$(BINDIR)/
	@set -e; for so in $(notdir $(INSTALL_SO)); do \
	  echo "$(INSTALL) -m 0755 $(BUILD)/lib/$$so.$(ANPU_VERSION) $(DESTDIR)$(LIBDIR)/ (+ $$so.$(ANPU_VERSION_MAJOR), $$so)"; \
	  $(INSTALL) -m 0755 $(BUILD)/lib/$$so.$(ANPU_VERSION) $(DESTDIR)$(LIBDIR)/; \
	  ln -sfn $$so.$(ANPU_VERSION) $(DESTDIR)$(LIBDIR)/$$so.$(ANPU_VERSION_MAJOR); \
	  ln -sfn $$so.$(ANPU_VERSION_MAJOR) $(DESTDIR)$(LIBDIR)/$$so; done
	$(INSTALL) -m 0644 $(INSTALL_STATIC) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/
	@set -e; for pc in $(INSTALL_PC); do out=$(DESTDIR)$(PKGCONFIGDIR)/$$(basename $$pc .in); \
	  echo "sed $$pc > $$out"; sed $(PC_SED) $$pc > $$out; chmod 0644 $$out; done
	$(INSTALL) -m 0644 $(UDEV_RULES) $(DESTDIR)$(UDEVDIR)/
	$(INSTALL) -m 0644 $(INSTALL_MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(INSTALL_MAN3) $(DESTDIR)$(MANDIR)/man3/
	$(if $(DESTDIR),,-$(LDCONFIG))

# Removes what install wrote; with a DESTDIR also the directories it left empty (up to
# DESTDIR), never a system directory.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_BINS)))
	rm -f $(foreach so,$(notdir $(INSTALL_SO)),$(DESTDIR)$(LIBDIR)/$(so) \
	      $(DESTDIR)$(LIBDIR)/$(so).$(ANPU_VERSION_MAJOR) $(DESTDIR)$(LIBDIR)/$(so).$(ANPU_VERSION))
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,$(notdir $(INSTALL_STATIC)))
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(notdir $(INSTALL_HEADERS)))
	rm -f $(addprefix $(DESTDIR)$(PKGCONFIGDIR)/,$(notdir $(INSTALL_PC:.in=)))
	rm -f $(addprefix $(DESTDIR)$(UDEVDIR)/,$(notdir $(UDEV_RULES)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(INSTALL_MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(INSTALL_MAN3)))
ifneq ($(DESTDIR),)
	@for d in $(INSTALL_DIRS); do d=$(DESTDIR)$$d; \
	  while [ "$$d" != "$(patsubst %/,%,$(DESTDIR))" ] && rmdir "$$d" 2>/dev/null; do \
	    d=$$(dirname "$$d"); done; done
endif
	$(if $(DESTDIR),,-$(LDCONFIG))

# the install test (tests/install/install.sh): a temporary DESTDIR, examples built with
# pkg-config alone, exported symbols, versions, uninstall
.PHONY: check-install
check-install: all
	@MAKE="$(MAKE)" tests/install/install.sh $(BUILD)
CHECK_SUITES += check-install
