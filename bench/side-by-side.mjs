#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * bench/side-by-side.mjs LABEL OURS-FILE... -- LLAMA-FILE...
 *
 * One model's figures from interleaved rounds (bench/runtime.sh): OURS-FILEs hold the
 * JSON lines of `anpu-bench-runtime model ... --runs 1`, one file per round; LLAMA-FILEs
 * the JSON of `llamacpp.mjs bench-gen ... --runs 1`, one per round (none: llama.cpp was
 * skipped). Prints, as JSON lines: our figures, best of the rounds (tok/s, fractions:
 * highest; ms, us, MiB and the ratios to a budget, *.vs_read and *.vs_budget:
 * lowest), runtime.load.<LABEL>.first_ms (the first round's load: the one that writes
 * the runtime's weight cache file where the model has Q5_0 tensors, bench/runtime.sh
 * empties the cache first); llama.cpp's as llamacpp.<figure>.<LABEL>.*; and
 * runtime.<figure>.<LABEL>.vs_llamacpp = ours / theirs for prefill p128 and p512 and
 * decode, theirs / ours for time to first token (higher is better everywhere).
 */
import { readFileSync } from "node:fs";

const [label, ...rest] = process.argv.slice(2);
const sep = rest.indexOf("--");
if (!label || sep < 0 || sep === 0) {
	process.stderr.write("Usage: side-by-side.mjs LABEL OURS-FILE... -- LLAMA-FILE...\n");
	process.exit(2);
}
const oursFiles = rest.slice(0, sep), llamaFiles = rest.slice(sep + 1);
const higherIsBetter = (rec) => !["ms", "us", "MiB"].includes(rec.unit) &&
	!/\.vs_(read|budget)$/.test(rec.name);

const best = new Map();
// timed runs behind each figure: the rounds that printed it, times the runs each
// round's record says it took (figures only the first round takes, e.g. decode at
// position 4000, count their own)
const timed = new Map();
let firstLoad = null;
for (const file of oursFiles) {
	for (const line of readFileSync(file, "utf8").split("\n")) {
		if (!line.trim()) continue;
		const rec = JSON.parse(line);
		const old = best.get(rec.name);
		const better = !old || (higherIsBetter(rec) ? rec.value > old.value : rec.value < old.value);
		if (better) best.set(rec.name, rec);
		timed.set(rec.name, (timed.get(rec.name) ?? 0) + (rec.runs ?? 1));
		if (file === oursFiles[0] && rec.name === `runtime.load.${label}.ms`)
			firstLoad = rec;
	}
}
for (const rec of best.values()) console.log(JSON.stringify({ ...rec, runs: timed.get(rec.name) }));
if (firstLoad)
	console.log(JSON.stringify({ ...firstLoad, name: `runtime.load.${label}.first_ms`, runs: 1 }));

if (llamaFiles.length === 0) process.exit(0);
const runs = llamaFiles.map((f) => JSON.parse(readFileSync(f, "utf8")));
const min = (key) => Math.min(...runs.map((r) => r[key]));
const decodeRun = runs.reduce((a, b) => (b.decode_ms / b.decode_tokens < a.decode_ms / a.decode_tokens ? b : a));
const theirs = {
	[`load.${label}.ms`]: { value: min("load_ms"), unit: "ms" },
	[`prefill.${label}.p128.tok_s`]: { value: 128 / (min("p128_ms") / 1e3), unit: "tok/s" },
	[`prefill.${label}.p512.tok_s`]: { value: 512 / (min("p512_ms") / 1e3), unit: "tok/s" },
	[`ttft.${label}.p128_ms`]: { value: min("p128_ms"), unit: "ms" },
	[`decode.${label}.tok_s`]: { value: decodeRun.decode_tokens / (decodeRun.decode_ms / 1e3), unit: "tok/s",
		tokens: decodeRun.decode_tokens, read_gbs: decodeRun.read_gbs },
};
const round3 = (v) => Math.round(v * 1000) / 1000;
for (const [name, f] of Object.entries(theirs))
	console.log(JSON.stringify({ name: `llamacpp.${name}`, value: round3(f.value), unit: f.unit, model: label,
		threads: runs[0].threads, runs: runs.length, ...(f.tokens ? { tokens: f.tokens, prompt: 128 } : {}),
		...(f.read_gbs ? { read_gbs: f.read_gbs, read: "probed around its best round" } : {}) }));
for (const name of [`prefill.${label}.p128.tok_s`, `prefill.${label}.p512.tok_s`, `decode.${label}.tok_s`,
	`ttft.${label}.p128_ms`]) {
	const ours = best.get(`runtime.${name}`);
	if (!ours) continue;
	const ratio = name.startsWith("ttft.") ? theirs[name].value / ours.value : ours.value / theirs[name].value;
	const figure = name.replace(/\.(tok_s|p128_ms)$/, (m) => (m === ".p128_ms" ? ".p128" : ""));
	console.log(JSON.stringify({ name: `runtime.${figure}.vs_llamacpp`, value: Math.round(ratio * 1e4) / 1e4,
		unit: "ratio", model: label, ours: ours.value, llamacpp: round3(theirs[name].value) }));
}
