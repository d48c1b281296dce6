// Render TeX to SVG with MathJax, for the website build (book/site/mathsvg.py).
//
// Reads one JSON request per line on stdin, {"tex": "...", "display": true},
// and writes one JSON reply per line on stdout: {"html": "<mjx-container ...>"}
// or {"error": "..."} when the TeX does not parse.  Each SVG carries its own
// glyph paths (fontCache "local") and, for screen readers, the formula as
// MathML (MathJax's assistive-MathML handler).  Called with --css it prints
// the stylesheet those containers need and exits.
"use strict";
const readline = require("readline");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AssistiveMmlHandler } = require("mathjax-full/js/a11y/assistive-mml.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
const tex = new TeX({
  packages: AllPackages.filter((p) => p !== "bussproofs"),
  formatError: (jax, err) => { throw err; },
});
const svg = new SVG({ fontCache: "local" });
const doc = mathjax.document("", { InputJax: tex, OutputJax: svg });

if (process.argv.includes("--css")) {
  process.stdout.write(adaptor.textContent(svg.styleSheet(doc)) + "\n");
  process.exit(0);
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let reply;
  try {
    const request = JSON.parse(line);
    const node = doc.convert(request.tex, { display: Boolean(request.display), em: 16, ex: 8 });
    reply = { html: adaptor.outerHTML(node) };
  } catch (err) {
    reply = { error: String((err && err.message) || err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
