# make check-cli: every program in build/bin/ follows the command-line conventions of
# tools/common/anpu_cli.h (-h/--help, --version, one-line usage errors with exit 2);
# tests/cli/conventions.sh walks them all.
.PHONY: check-cli
check-cli: all
	@tests/cli/conventions.sh $(BUILD)
CHECK_SUITES += check-cli
