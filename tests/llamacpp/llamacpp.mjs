#!/usr/bin/env node
// SPDX-License-Identifier: MIT
/*
 * tests/llamacpp/llamacpp.mjs - llama.cpp (node-llama-cpp's prebuilt CPU library) as a
 * reference for agreement tests and side-by-side benchmarks. Every subcommand prints
 * one JSON document on stdout; errors go to stderr with exit status 1, bad usage 2.
 *
 * Setup (once; exit 3 from it = registry unreachable, skip):
 *   scripts/npm-fetch.sh --env llamacpp node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
 * The env folder is $ANPU_LLAMACPP_ENV, else <cache>/npm/env/llamacpp with <cache> =
 * $ANPU_CACHE or the repository's .cache. llama.cpp runs with getLlama({build: "never",
 * gpu: false}): never compiles, CPU only.
 *
 *   node tests/llamacpp/llamacpp.mjs gguf FILE
 *       the GGUF header as node-llama-cpp's own reader sees it (no model load):
 *       {"version", "arch", "n_tensors", "types": {"q4_K": 12, ...}, "metadata": {...}}
 *       (metadata: general.*, <arch>.*, tokenizer.ggml scalars; arrays by length)
 *   node tests/llamacpp/llamacpp.mjs info FILE
 *       loads the model: {"arch", "n_vocab", "description", "n_ctx_train", "n_embd",
 *       "bos", "eos", "eot", "add_bos", "size"} (n_vocab: the tokens array llama.cpp loaded)
 *   node tests/llamacpp/llamacpp.mjs tokenize FILE TEXT-FILE [--no-special]
 *       ids of the UTF-8 text in TEXT-FILE ("-" = stdin): [ids...]. Added/special tokens
 *       in the text are matched (template-text mode) unless --no-special. No BOS is added.
 *   node tests/llamacpp/llamacpp.mjs tokenize-batch FILE JSON-FILE [--no-special]
 *       JSON-FILE holds an array of strings: prints an array of id arrays (one model
 *       load for a whole corpus)
 *   node tests/llamacpp/llamacpp.mjs detokenize FILE --ids JSON
 *       {"text": ...} of the ids (special tokens rendered)
 *   node tests/llamacpp/llamacpp.mjs greedy FILE --ids JSON [--n N] [--threads T] [--ctx C]
 *       greedy continuation of the prompt ids: {"ids": [...], "margin": [...], "text": ...};
 *       margin[i] = (p1 - p2) / (p1 + p2) of step i's two best tokens (softmax at
 *       temperature 1), so a caller can
 *       tell a near tie (where two implementations may legitimately differ) from a clear pick.
 *       Stops after N tokens (default 16) or at an end-of-generation token.
 *   node tests/llamacpp/llamacpp.mjs greedy-batch FILE JSON-FILE [--n N] [--threads T] [--ctx C]
 *       JSON-FILE holds an array of prompts (id arrays): an array of greedy results as
 *       above, one model load and one fresh sequence per prompt
 *   node tests/llamacpp/llamacpp.mjs bench-gen FILE IDS-FILE [--runs R] [--threads T] [--decode N]
 *       the runtime benchmark's figures for llama.cpp (bench/runtime.sh): IDS-FILE holds
 *       the prompt ids (a JSON array, >= 512, from anpu-bench-runtime model --ids-out).
 *       After a warm-up (16 ids, 4 steps), best of R (default 1) rounds, each a fresh
 *       sequence of a 1024-token context (batch 512): p128_ms = the first 128 ids until
 *       the greedy token (time to first token), decode_ms = N (default 128) greedy steps
 *       after it, p512_ms = the first 512 ids until their greedy token:
 *       {"load_ms", "p128_ms", "p512_ms", "decode_ms", "decode_tokens", "threads", "runs"}
 *   node tests/llamacpp/llamacpp.mjs bench-tokenize FILE TEXT-FILE [--repeat R] [--special]
 *       {"bytes", "ms", "mb_per_s", "n_tokens"}: best of R (default 3) single-thread runs;
 *       user-content mode unless --special (template text: special tokens matched).
 *
 * Other parts reuse it as a subprocess: run it, parse stdout as JSON.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const cacheRoot = process.env.ANPU_CACHE || path.join(here, "..", "..", ".cache");
const envDir = process.env.ANPU_LLAMACPP_ENV || path.join(cacheRoot, "npm", "env", "llamacpp");
const usage = `Usage: llamacpp.mjs gguf|info FILE | tokenize FILE TEXT-FILE [--no-special] |
       tokenize-batch FILE JSON-FILE [--no-special] |
       detokenize FILE --ids JSON | greedy FILE --ids JSON [--n N] [--threads T] [--ctx C] |
       greedy-batch FILE JSON-FILE [--n N] [--threads T] [--ctx C] |
       bench-gen FILE IDS-FILE [--runs R] [--threads T] [--decode N] |
       bench-tokenize FILE TEXT-FILE [--repeat R] [--special]`;

function badUsage(msg) {
	process.stderr.write(`llamacpp.mjs: ${msg}\n${usage}\n`);
	process.exit(2);
}

function parseArgs(argv, known) {
	const pos = [], opt = {};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a.startsWith("--")) {
			const name = a.slice(2);
			if (!(name in known)) badUsage(`unknown option ${a}`);
			if (known[name] === "flag") opt[name] = true;
			else if (i + 1 < argv.length) opt[name] = argv[++i];
			else badUsage(`${a} needs a value`);
		} else pos.push(a);
	}
	return { pos, opt };
}

async function nlc() {
	const entry = path.join(envDir, "node_modules", "node-llama-cpp", "dist", "index.js");
	if (!existsSync(entry)) {
		process.stderr.write(`llamacpp.mjs: node-llama-cpp not installed in ${envDir} ` +
			"(scripts/npm-fetch.sh --env llamacpp node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1)\n");
		process.exit(3);
	}
	return import(pathToFileURL(entry).href);
}

async function loadModel(file, threads, vocabOnly = false) {
	const { getLlama, LlamaLogLevel } = await nlc();
	const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error,
		maxThreads: threads });
	const model = await llama.loadModel({ modelPath: file, gpuLayers: 0, vocabOnly });
	return { llama, model };
}

function readText(file) {
	return readFileSync(file === "-" ? 0 : file, "utf8");
}

function parseIds(s) {
	let ids;
	try {
		ids = JSON.parse(s);
	} catch (e) {
		badUsage(`--ids: ${e.message}`);
	}
	if (!Array.isArray(ids) || !ids.every(Number.isInteger)) badUsage("--ids wants a JSON array of integers");
	return ids;
}

function positiveInt(s, name) {
	const n = Number(s);
	if (!Number.isInteger(n) || n < 1) badUsage(`${name} wants a positive integer`);
	return n;
}

const GGML_TYPE_NAMES = { 0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0",
	10: "q2_K", 11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 30: "bf16" };

function flatMetadata(obj, prefix, out) {
	for (const [k, v] of Object.entries(obj)) {
		const key = prefix ? `${prefix}.${k}` : k;
		if (Array.isArray(v)) out[key] = { array_length: v.length };
		else if (v && typeof v === "object") flatMetadata(v, key, out);
		else out[key] = typeof v === "bigint" ? Number(v) : v;
	}
	return out;
}

/* greedy continuations of several prompts with one model load, one fresh sequence each */
async function greedyRuns(file, prompts, opt) {
	const n = opt.n ? positiveInt(opt.n, "--n") : 16;
	const threads = opt.threads ? positiveInt(opt.threads, "--threads") : 2;
	const longest = Math.max(...prompts.map((p) => p.length));
	const ctxSize = opt.ctx ? positiveInt(opt.ctx, "--ctx") : Math.max(256, longest + n + 8);
	if (prompts.some((p) => p.length === 0)) badUsage("a prompt must not be empty");
	const { model } = await loadModel(file, threads);
	const context = await model.createContext({ contextSize: ctxSize, threads, batchSize: 512 });
	const results = [];
	for (const prompt of prompts) {
		const seq = context.getSequence();
		const ids = [], margin = [];
		// Sampling at temperature 1 restricted to the top 2 gives the two candidates with
		// their renormalised probabilities; the argmax is fed back as the next token, so
		// the sequence is exactly greedy and each step's margin comes for free. topP 1:
		// node-llama-cpp's default 0.95 drops the second candidate whenever the first has
		// 95 % of the two, which reported a margin of 1 for logit gaps as small as 2.9.
		const it = seq.evaluateWithMetadata(prompt, { probabilities: true },
			{ temperature: 1, topK: 2, topP: 1, minP: 0, seed: 1, yieldEogToken: true });
		for (let r = await it.next(); !r.done;) {
			const top = [...r.value.probabilities.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
			const token = top[0][0];
			ids.push(token);
			margin.push(top[0][1] - (top[1]?.[1] ?? 0));
			if (ids.length >= n || model.isEogToken(token)) break;
			r = await it.next(token);
		}
		await it.return();
		seq.dispose();
		results.push({ ids, margin, text: model.detokenize(ids, true) });
	}
	await context.dispose();
	return results;
}

/* ms from evaluating @prompt in a fresh sequence to its greedy token, then of @steps more steps */
async function timedGeneration(context, prompt, steps) {
	const seq = context.getSequence();
	try {
		const it = seq.evaluate(prompt, { temperature: 0, yieldEogToken: true });
		const t0 = performance.now();
		let r = await it.next();
		const first = performance.now() - t0;
		let done = 0;
		const t1 = performance.now();
		while (done < steps && !r.done) {
			r = await it.next();
			if (!r.done) done++;
		}
		const rest = performance.now() - t1;
		await it.return();
		return { first, rest, done };
	} finally {
		seq.dispose();
	}
}

const commands = {
	async gguf(argv) {
		const { pos } = parseArgs(argv, {});
		if (pos.length !== 1) badUsage("gguf wants FILE");
		const { readGgufFileInfo } = await nlc();
		const info = await readGgufFileInfo(pos[0], { readTensorInfo: true, logWarnings: false });
		const types = {};
		for (const t of info.fullTensorInfo ?? info.tensorInfo ?? []) {
			const n = GGML_TYPE_NAMES[t.ggmlType] ?? `type${t.ggmlType}`;
			types[n] = (types[n] ?? 0) + 1;
		}
		return {
			version: info.version,
			arch: info.metadata?.general?.architecture,
			n_tensors: Number(info.totalTensorCount ?? (info.tensorInfo ?? []).length),
			types,
			metadata: flatMetadata(info.metadata ?? {}, "", {}),
		};
	},

	async info(argv) {
		const { pos } = parseArgs(argv, {});
		if (pos.length !== 1) badUsage("info wants FILE");
		const { model } = await loadModel(pos[0], 1);
		const t = model.tokens;
		return {
			arch: model.fileInfo.metadata.general.architecture,
			n_vocab: model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? null,
			description: model.typeDescription,
			n_ctx_train: model.trainContextSize,
			n_embd: model.embeddingVectorSize,
			bos: t.bos ?? null, eos: t.eos ?? null, eot: t.eot ?? null,
			add_bos: t.shouldPrependBosToken,
			size: model.size,
		};
	},

	async tokenize(argv) {
		const { pos, opt } = parseArgs(argv, { "no-special": "flag" });
		if (pos.length !== 2) badUsage("tokenize wants FILE TEXT-FILE");
		const { model } = await loadModel(pos[0], 1, true);
		return Array.from(model.tokenize(readText(pos[1]), !opt["no-special"]));
	},

	async "tokenize-batch"(argv) {
		const { pos, opt } = parseArgs(argv, { "no-special": "flag" });
		if (pos.length !== 2) badUsage("tokenize-batch wants FILE JSON-FILE");
		const texts = JSON.parse(readText(pos[1]));
		if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string"))
			badUsage("tokenize-batch: JSON-FILE must hold an array of strings");
		const { model } = await loadModel(pos[0], 1, true);
		return texts.map((t) => Array.from(model.tokenize(t, !opt["no-special"])));
	},

	async detokenize(argv) {
		const { pos, opt } = parseArgs(argv, { ids: "value" });
		if (pos.length !== 1 || !opt.ids) badUsage("detokenize wants FILE --ids JSON");
		const { model } = await loadModel(pos[0], 1, true);
		return { text: model.detokenize(parseIds(opt.ids), true) };
	},

	async greedy(argv) {
		const { pos, opt } = parseArgs(argv, { ids: "value", n: "value", threads: "value", ctx: "value" });
		if (pos.length !== 1 || !opt.ids) badUsage("greedy wants FILE --ids JSON");
		return (await greedyRuns(pos[0], [parseIds(opt.ids)], opt))[0];
	},

	async "greedy-batch"(argv) {
		const { pos, opt } = parseArgs(argv, { n: "value", threads: "value", ctx: "value" });
		if (pos.length !== 2) badUsage("greedy-batch wants FILE JSON-FILE");
		const prompts = JSON.parse(readText(pos[1]));
		if (!Array.isArray(prompts) || !prompts.every((p) => Array.isArray(p) && p.every(Number.isInteger)))
			badUsage("greedy-batch: JSON-FILE must hold an array of id arrays");
		return greedyRuns(pos[0], prompts, opt);
	},

	async "bench-gen"(argv) {
		const { pos, opt } = parseArgs(argv, { runs: "value", threads: "value", decode: "value" });
		if (pos.length !== 2) badUsage("bench-gen wants FILE IDS-FILE");
		const runs = opt.runs ? positiveInt(opt.runs, "--runs") : 1;
		const threads = opt.threads ? positiveInt(opt.threads, "--threads") : 2;
		const decode = opt.decode ? positiveInt(opt.decode, "--decode") : 128;
		const ids = parseIds(readText(pos[1]));
		if (ids.length < 512) badUsage("bench-gen: IDS-FILE must hold at least 512 ids");
		const t0 = performance.now();
		const { model } = await loadModel(pos[0], threads);
		const context = await model.createContext({ contextSize: 1024, batchSize: 512, threads });
		const load = performance.now() - t0;
		await timedGeneration(context, ids.slice(0, 16), 4);
		const best = { p128: Infinity, p512: Infinity, decode: Infinity, tokens: 0 };
		for (let i = 0; i < runs; i++) {
			const a = await timedGeneration(context, ids.slice(0, 128), decode);
			best.p128 = Math.min(best.p128, a.first);
			if (a.rest < best.decode) [best.decode, best.tokens] = [a.rest, a.done];
			best.p512 = Math.min(best.p512, (await timedGeneration(context, ids.slice(0, 512), 0)).first);
		}
		await context.dispose();
		return { load_ms: load, p128_ms: best.p128, p512_ms: best.p512, decode_ms: best.decode,
			decode_tokens: best.tokens, threads, runs };
	},

	async "bench-tokenize"(argv) {
		const { pos, opt } = parseArgs(argv, { repeat: "value", special: "flag" });
		if (pos.length !== 2) badUsage("bench-tokenize wants FILE TEXT-FILE");
		const repeat = opt.repeat ? positiveInt(opt.repeat, "--repeat") : 3;
		const { model } = await loadModel(pos[0], 1, true);
		const text = readText(pos[1]);
		const bytes = Buffer.byteLength(text, "utf8");
		let best = Infinity, nTokens = 0;
		for (let i = 0; i < repeat; i++) {
			const t0 = process.hrtime.bigint();
			nTokens = model.tokenize(text, !!opt.special).length;
			const ms = Number(process.hrtime.bigint() - t0) / 1e6;
			best = Math.min(best, ms);
		}
		return { bytes, ms: best, mb_per_s: bytes / 1e6 / (best / 1e3), n_tokens: nTokens,
			special: !!opt.special };
	},
};

const [cmd, ...rest] = process.argv.slice(2);
if (!cmd || cmd === "-h" || cmd === "--help") {
	process.stdout.write(usage + "\n");
	process.exit(cmd ? 0 : 2);
}
if (!(cmd in commands)) badUsage(`unknown subcommand ${cmd}`);
try {
	const out = await commands[cmd](rest);
	process.stdout.write(JSON.stringify(out) + "\n");
	process.exit(0);
} catch (e) {
	process.stderr.write(`llamacpp.mjs ${cmd}: ${e?.message ?? e}\n`);
	process.exit(1);
}
