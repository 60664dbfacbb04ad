#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/llamacpp/hf-tokenize.mjs - the Hugging Face reference tokenizer
 * (@huggingface/tokenizers@0.2.0, installed with
 * `scripts/npm-fetch.sh --env hftok @huggingface/tokenizers@0.2.0`) on one text:
 *
 *   node tests/llamacpp/hf-tokenize.mjs TOKENIZER-DIR TEXT-FILE
 *       prints the ids as a JSON array (added tokens in the text matched, no BOS/EOS
 *       added), the reference llama.cpp's tokenizer is compared with;
 *   node tests/llamacpp/hf-tokenize.mjs TOKENIZER-DIR --batch JSON-FILE
 *       JSON-FILE holds an array of strings: prints an array of id arrays.
 * The env folder is $ANPU_HFTOK_ENV, else <cache>/npm/env/hftok (<cache> = $ANPU_CACHE
 * or the repository's .cache); exit 3 when it is not installed.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const cacheRoot = process.env.ANPU_CACHE || path.join(here, "..", "..", ".cache");
const envDir = process.env.ANPU_HFTOK_ENV || path.join(cacheRoot, "npm", "env", "hftok");
const entry = path.join(envDir, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs");

const batch = process.argv[3] === "--batch";
if (process.argv.length !== (batch ? 5 : 4)) {
	process.stderr.write("Usage: hf-tokenize.mjs TOKENIZER-DIR TEXT-FILE | TOKENIZER-DIR --batch JSON-FILE\n");
	process.exit(2);
}
if (!existsSync(entry)) {
	process.stderr.write(`hf-tokenize.mjs: @huggingface/tokenizers not installed in ${envDir}\n`);
	process.exit(3);
}
const { Tokenizer } = await import(pathToFileURL(entry).href);
const dir = process.argv[2], textFile = process.argv[batch ? 4 : 3];
const json = (f) => JSON.parse(readFileSync(path.join(dir, f), "utf8"));
const tok = new Tokenizer(json("tokenizer.json"), json("tokenizer_config.json"));
const text = readFileSync(textFile === "-" ? 0 : textFile, "utf8");
const ids = (t) => tok.encode(t, { add_special_tokens: false }).ids;
process.stdout.write(JSON.stringify(batch ? JSON.parse(text).map(ids) : ids(text)) + "\n");
