#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/mkman.awk on a --help in the layout of tools/common/anpu_cli.h: every part of
# the help lands where a man page has it (synopsis, options with their continuation
# lines, headings, subcommands, text after an option), and the page renders without a
# groff warning. Prints TAP (check-install merges it).
#   tests/install/mkman.sh
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/tap.sh"
root=$(cd "$here/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/anpu-mkman.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

cat > "$scratch/extra" <<'X'
[NAME]
demo \- a demonstration
[DESCRIPTION]
From the extra file.
[SEE ALSO]
.BR anpu\-run (1)
X
help='Usage: demo run [-o FILE] -- CMD
       demo -h|--help | --version
Do a demo thing.

run: run CMD under the demo.
  -o, --output FILE   where to write (default x.json)
  --raw FILE          also keep the raw file,
                      written as it comes
  After the options, a note.

Options:
  -v                  verbose
Environment (what it reads):
  DEMO_X: a variable
Exit status: 0 success, 2 bad usage.'
page=$(printf '%s\n' "$help" | awk -v name=demo -v section=1 -v version=9.9.9 \
	-v extra="$scratch/extra" -f "$root/scripts/mkman.awk")
printf '%s\n' "$page" > "$scratch/demo.1"

has() { # NAME TEXT...: ok when the page has each TEXT (a fixed string) in order
	local name=$1 rest=$page t
	shift
	for t in "$@"; do
		if [[ $rest != *"$t"* ]]; then
			printf 'missing: %s\n' "$t" | tap_comment
			tap_not_ok "$name"
			return
		fi
		rest=${rest#*"$t"}
	done
	tap_ok "$name"
}
nl=$'\n'
has "title with the version" '.TH DEMO 1 "" "ANPU 9.9.9"'
has "synopsis: both usage lines" ".SH SYNOPSIS$nl.nf${nl}demo run [\\-o FILE] \\-\\- CMD$nl.br${nl}demo \\-h|\\:\\-\\-help"
has "description: the help's summary, then the extra file's" \
	".SH DESCRIPTION${nl}Do a demo thing." "From the extra file."
has "subcommand with its options" ".SH COMMANDS$nl.SS run${nl}run CMD under the demo." \
	".TP$nl\\fB\\-o, \\-\\-output FILE\\fR${nl}where to write (default x.json)"
has "an option's continuation line joins its text" \
	"\\fB\\-\\-raw FILE\\fR${nl}also keep the raw file, written as it comes"
has "text after an option is its own paragraph" ".PP${nl}After the options, a note."
has "Options: heading" ".SH OPTIONS$nl.TP$nl\\fB\\-v\\fR${nl}verbose"
has "heading with a note" ".SH ENVIRONMENT${nl}what it reads:"
has "heading with text" ".SH EXIT STATUS${nl}0 success, 2 bad usage."
has "extra sections last" ".SH SEE ALSO$nl.BR anpu\\-run (1)"
warn=$(groff -ww -man -Tutf8 -z "$scratch/demo.1" 2>&1)
if [[ -z $warn ]]; then tap_ok "it renders without groff warnings"; else
	printf '%s\n' "$warn" | tap_comment
	tap_not_ok "it renders without groff warnings"
fi
if out=$(printf 'Usage: x\n' | awk -v name=x -v section=1 -v version=1 \
	-v extra=/dev/null -f "$root/scripts/mkman.awk" 2>&1); then
	tap_not_ok "an extra file without [NAME] is an error"
else tap_ok "an extra file without [NAME] is an error: $out"; fi
if out=$(printf 'no usage here\n' | awk -v name=x -v section=1 -v version=1 \
	-v extra="$scratch/extra" -f "$root/scripts/mkman.awk" 2>&1); then
	tap_not_ok "a help without a Usage: line is an error"
else tap_ok "a help without a Usage: line is an error: $out"; fi
tap_plan
exit "$(tap_status)"
