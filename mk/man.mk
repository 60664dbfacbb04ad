# Man pages, built into $(BUILD)/man/man1 and man3 (installed by mk/install.mk; read one
# in the tree with `man -l build/man/man1/anpu-run.1`):
#  - each tool's page from its own --help and --version (scripts/mkman.sh: the help is
#    the one source of the synopsis and options) and man/<tool>.1.extra (NAME,
#    DESCRIPTION, EXAMPLES, SEE ALSO: what a --help leaves out);
#  - libaccel(3) and anpurt(3) from man/<lib>.3.in, whose @EXAMPLE@ line becomes the
#    example program (examples/hello.c, the program docs/libaccel.md starts with;
#    examples/chat.c) as literal text.
MAN_TOOLS := anpu-run anpu-mkmodel anpu-trace anpu-info anpu-top anpu-sim anpu-vp
MAN1      := $(patsubst %,$(BUILD)/man/man1/%.1,$(MAN_TOOLS))
MAN3      := $(BUILD)/man/man3/libaccel.3 $(BUILD)/man/man3/anpurt.3
MAN_GEN   := scripts/mkman.sh scripts/mkman.awk

$(BUILD)/man/man1/%.1: $(BIN)/% man/%.1.extra $(MAN_GEN)
	@mkdir -p $(@D)
	scripts/mkman.sh $< man/$*.1.extra > $@.tmp && mv $@.tmp $@

# a C file as roff literal text: backslashes escaped, no line read as a request
$(BUILD)/man/man3/libaccel.3: EXAMPLE_SRC := examples/hello.c
$(BUILD)/man/man3/anpurt.3: EXAMPLE_SRC := examples/chat.c
$(BUILD)/man/man3/%.3: man/%.3.in VERSION examples/hello.c examples/chat.c
	@mkdir -p $(@D)
	sed -e 's/\\/\\e/g' -e 's/^[.'"'"']/\\\&&/' $(EXAMPLE_SRC) > $@.example
	sed -e 's/@VERSION@/$(ANPU_VERSION)/' -e '/^@EXAMPLE@$$/{r $@.example' -e 'd;}' $< > $@.tmp
	rm -f $@.example && mv $@.tmp $@

all: $(MAN1) $(MAN3)

.PHONY: man
man: $(MAN1) $(MAN3)
