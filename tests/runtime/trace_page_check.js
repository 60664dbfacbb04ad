// SPDX-License-Identifier: MIT
// Run the scripts of an anpu-trace HTML page against a minimal DOM (node, no
// browser): prints the page's title and its track names, one per line, and
// exits 1 on an exception or an error event. Used by test_rt_trace when
// Chromium is not installed (and as a first check when it is).
"use strict";
const fs = require("fs");
const vm = require("vm");

const html = fs.readFileSync(process.argv[2], "utf8");
if (/\b(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html) || /\bfetch\(|XMLHttpRequest/.test(html)) {
  console.log("the page loads something from the network");
  process.exit(1);
}
const elements = {};
function element(tag) {
  return {
    tag: tag, children: [], listeners: {}, className: "", textContent: "", title: "",
    width: 300, height: 150, clientWidth: 800,
    appendChild(c) { this.children.push(c); return c; },
    addEventListener(type, fn) { this.listeners[type] = fn; },
    getContext() {
      const noop = () => {};
      return { clearRect: noop, fillRect: noop, fillText: noop, save: noop, restore: noop,
               beginPath: noop, rect: noop, clip: noop };
    },
  };
}
const document = {
  title: "",
  createElement: element,
  getElementById(id) { return elements[id] || (elements[id] = element("div")); },
};
const window = {
  addEventListener(type, fn) { if (type === "error") window.onerr = fn; },
};
const context = vm.createContext({ document, window, console, Math, isFinite, Infinity });
const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
try {
  for (const s of scripts) vm.runInContext(s, context);
} catch (e) {
  console.log("exception: " + e.message);
  process.exit(1);
}
console.log(document.title);
for (const row of elements.timeline.children) console.log(row.children[0].textContent);
process.exit(0);
