#!/usr/bin/env bash
# tests/llamacpp/check-agree.sh BUILD - our greedy tokens against llama.cpp's on the same
# files and prompt ids (`make check-llamacpp-agree`, one suite of `make check`).
#
# For every architecture's tiny preset in several weight types, and the full-size
# Qwen2.5-0.5B Q4_K_M file, llama.cpp (node-llama-cpp, CPU) generates STEPS greedy tokens
# from fixed prompt ids; anpu-llamacpp-agree (tests/llamacpp/agree.c) runs the same ids
# through the runtime teacher-forced (llama.cpp's tokens fed back) and requires our pick
# to equal llama.cpp's at every step that is not a near tie (the limit is derived from
# the runtime's stated logit tolerance for the weight type: see agree.c). Each file must
# give several distinct tokens. So that the suite cannot pass by near ties alone, each
# architecture must have at least 16 clear steps over its files. The near-tie limit is
# generous (4 x the tolerance x the logits' RMS: two implementations, each within the
# tolerance on both logits), and random weights put the top logits close together, so
# most clear steps come from the F16 files (20-30 of 32 each); the quantized files have a
# few each (0-9 of 32 measured), the full-size Qwen2.5-0.5B file 3.
# Packages come from scripts/npm-fetch.sh (unreachable registry -> skipped with the reason).
set -uo pipefail

build=${1:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top" || exit 1
. tests/llamacpp/lib.sh
agree=$build/tests/anpu-llamacpp-agree
steps=${AGREE_STEPS:-32}

fetch_tokenizers
[ -z "$fetch_reason" ] || { skipped "every agreement check: $fetch_reason"; finish; }
fetch_llamacpp
[ -z "$llama_reason" ] || { skipped "every agreement check: $llama_reason"; finish; }

# max |logit error| / RMS the runtime states per weight type (tests/runtime/test_rt_forward.c)
tolerance() {
	case $1 in
	f32) echo 1e-4 ;;
	f16 | bf16) echo 1e-2 ;;
	q8_0 | q4_0 | q4_1 | q5_0 | q5_1) echo 0.10 ;;
	*) echo 0.15 ;;	# K-quant types and mixes
	esac
}

qwen_ids='[9707,1879,11,1207,525,498,3730,3351,30,358,1079,264,1273,1614,13]'
llama_ids='[128000,9906,1917,11,1268,527,499,3815,3432,30,358,1097,264,1296,1646,13]'
cases=()
for p in tiny-qwen2 tiny-qwen3 tiny-llama; do
	for t in f16 q8_0 q4_0 q5_1 q4_k_m; do cases+=("$p $t"); done
done
cases+=("qwen2.5-0.5b q4_k_m")

declare -A arch_clear
for c in "${cases[@]}"; do
	read -r p t <<<"$c"
	f=$(model "$p" "$t") || { bad "$p $t: anpu-mkmodel failed"; continue; }
	ids=$qwen_ids
	[ "$p" = tiny-llama ] && ids=$llama_ids
	if ! node "$harness" greedy "$f" --ids "$ids" --n "$steps" --threads 2 >"$tmp/g.json" 2>"$tmp/err"; then
		bad "$p $t: llama.cpp: $(tail -n 2 "$tmp/err")"
		continue
	fi
	# the steps file: prompt ids, then "id margin" per llama.cpp step
	node -e 'const [ids, file] = process.argv.slice(1);
		const g = JSON.parse(require("fs").readFileSync(file, "utf8"));
		console.log(JSON.parse(ids).join(" "));
		g.ids.forEach((id, i) => console.log(id, g.margin[i]));' "$ids" "$tmp/g.json" >"$tmp/steps"
	n=$(($(wc -l <"$tmp/steps") - 1))
	distinct=$(jq_ "$tmp/g.json" 'new Set(d.ids).size')
	"$agree" "$f" "$(tolerance "$t")" <"$tmp/steps" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	summary=$(tail -n 1 "$tmp/out")
	read -r _ _ _ clear _ _ _ _ _ _ <<<"$summary"
	if [ $rc -eq 0 ] && [ "$n" -ge 16 ] && [ "$distinct" -ge 4 ]; then
		ok "$p $t: $summary, $distinct distinct"
		arch_clear[$p]=$((${arch_clear[$p]:-0} + ${clear:-0}))
	else
		bad "$p $t (exit $rc, $n steps, $distinct distinct): $summary $(cat "$tmp/err")"
		grep -E "DISAGREE" "$tmp/out" | head -n 5 | sed 's/^/  /'
	fi
done
for p in tiny-qwen2 tiny-qwen3 tiny-llama; do
	[ "${arch_clear[$p]:-0}" -ge 16 ] && ok "$p: ${arch_clear[$p]} clear steps agree over its files" ||
		bad "$p: only ${arch_clear[$p]:-0} clear steps over its files (16 needed)"
done
finish
