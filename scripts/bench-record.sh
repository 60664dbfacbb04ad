#!/usr/bin/env bash
# scripts/bench-record.sh — run one benchmark part and record its JSON lines.
#
#   scripts/bench-record.sh BENCH_DIR PART COMMAND [ARGS...]
#
# Runs COMMAND; everything it prints is passed through. Every stdout line that is a
# JSON object (starts with '{' and ends with '}') is a result and is written to
# BENCH_DIR/PART.jsonl, which is rewritten on each run (written to a temporary file and
# renamed only when COMMAND succeeds). The project-wide convention for a result line:
#
#   {"name":"sim.bw.read_gbs","value":21.4,"unit":"GB/s", ...any other fields...}
#
# name (dotted, starting with the part), value (a JSON number) and unit are required;
# a line missing one of them makes this script fail. Use from an mk/*.mk rule, e.g.
#
#   BENCH_PARTS += bench-sim
#   bench-sim: $(BUILD)/bin/anpu-bench-sim
#   	scripts/bench-record.sh $(BENCH_DIR) sim $(BUILD)/bin/anpu-bench-sim
set -euo pipefail

if [ $# -lt 3 ]; then
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
dir=$1 part=$2
shift 2
mkdir -p "$dir"
out="$dir/$part.jsonl"
tmp=$(mktemp "$dir/.$part.jsonl.XXXXXX")
trap 'rm -f "$tmp" "$tmp.out"' EXIT

rc=0
"$@" | tee "$tmp.out" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "bench-record: $part: '$*' failed (status $rc); $out left unchanged" >&2
	exit "$rc"
fi
grep -E '^[[:space:]]*\{.*\}[[:space:]]*$' "$tmp.out" >"$tmp" || true

bad=$(grep -v -E '"name"[[:space:]]*:[[:space:]]*"[^"]+"' "$tmp" || true)
bad+=$(grep -v -E '"value"[[:space:]]*:[[:space:]]*-?[0-9]' "$tmp" || true)
bad+=$(grep -v -E '"unit"[[:space:]]*:[[:space:]]*"' "$tmp" || true)
if [ -n "$bad" ]; then
	echo "bench-record: $part: result lines need \"name\", numeric \"value\" and \"unit\":" >&2
	printf '%s\n' "$bad" | sort -u | head -n 10 >&2
	exit 1
fi
if [ ! -s "$tmp" ]; then
	echo "bench-record: $part: no result line (JSON object) printed" >&2
	exit 1
fi
mv -f "$tmp" "$out"
echo "bench-record: $(wc -l <"$out") results -> $out" >&2
