import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { htmlToText } from "../../lib/extract/html-text.js";
import { parseHtml, type El } from "../../lib/extract/dom.js";
import { mathmlToLatex, stripStyleWrapper } from "../../lib/extract/mathml.js";
import { sharedData } from "../helpers.js";

const html = (...p: string[]) => gunzipSync(readFileSync(sharedData("html", ...p))).toString("utf8");

test("Wikipedia MathML: every <math> becomes its TeX annotation, without the {\\displaystyle} wrapper", () => {
  const src = html("math", "wikipedia_t-SNE.html.gz");
  const r = htmlToText(src);
  assert.equal(r.math.mathml, 34);
  assert.match(r.text, /\$p_\{ij\}\$/);
  assert.ok(!r.text.includes("\\displaystyle"));
  assert.ok(!/Jump to navigation/.test(r.text), "skip links are boilerplate");
  const h = htmlToText(html("readability-test-pages", "wikipedia-3", "source.html.gz"));
  assert.equal(h.math.mathml, 66);
  assert.equal(h.title, "Hermitian matrix - Wikipedia");
});

test("MathML without annotation: our conversion matches alttext on the MathJax 3 page's structures", () => {
  const r = htmlToText(html("readability-test-pages", "mathjax", "source.html.gz"));
  assert.equal(r.math.mathjax3, 13);
  assert.match(r.text, /\$\$x=\\frac\{-b\\pm\\sqrt\{b\^2-4ac\}\}\{2a\}/);
});

test("KaTeX, MathJax 2 scripts, MathJax 3 data, TeX image alts, inline delimiters kept", () => {
  const page = `<p>KaTeX <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>x</mi></mrow>
    <annotation encoding="application/x-tex">x^2+1</annotation></semantics></math></span><span class="katex-html" aria-hidden="true">x2+1</span></span> done.</p>
    <p>MJ2 <span class="MathJax_Preview">a+b</span><span class="MathJax">rendered</span><script type="math/tex">a+b</script>
    and <script type="math/tex; mode=display">\\int_0^1 f</script></p>
    <p>Inline \\(e^{i\\pi}\\) and $y=mx$ and \\[z\\] stay.</p>
    <p><img class="mwe-math-fallback-image-inline" alt="{\\displaystyle \\alpha }" src="x.svg"> and <img alt="a photo" src="p.jpg">
    and <img class="latex" src="https://s0.wp.com/latex.php?latex=q" alt="\\frac{1}{q}"></p>
    <p>E = mc<sup>2</sup>, H<sub>2</sub>O<sup class="reference">[1]</sup></p>`;
  const r = htmlToText(page);
  assert.match(r.text, /KaTeX \$x\^2\+1\$ done\./);
  assert.ok(!r.text.includes("rendered") && !r.text.includes("x2+1"), r.text);
  assert.match(r.text, /MJ2 \$a\+b\$ and\n\$\$\\int_0\^1 f\$\$/);
  assert.match(r.text, /Inline \\\(e\^\{i\\pi\}\\\) and \$y=mx\$ and \\\[z\\\] stay\./);
  assert.match(r.text, /\$\\alpha\$ and and \$\\frac\{1\}\{q\}\$/);
  assert.match(r.text, /E = mc\^\{2\}, H_\{2\}O$/m);
  assert.deepEqual(r.math, { katex: 1, mathjax2: 2, img: 2 });
});

test("tables become Markdown, code blocks keep their whitespace, boilerplate goes", () => {
  const r = htmlToText(`<html><body><nav><ul><li><a href=/>Home</a></li><li><a href=/b>Blog</a></li></ul></nav>
    <div class="sidebar">Popular posts</div><article><h2>Results</h2>
    <table><tr><th>n</th><th>n<sup>2</sup></th></tr><tr><td>3</td><td>9</td></tr></table>
    <pre><code>for i in range(3):
    print(i)</code></pre><p>Last paragraph.</p></article><footer>© 2024</footer></body></html>`);
  assert.equal(r.text, "## Results\n\n| n | n^{2} |\n| --- | --- |\n| 3 | 9 |\n\nfor i in range(3):\n    print(i)\n\nLast paragraph.");
  // Sections keep their order (the header row came after the body rows before).
  const t = htmlToText("<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>");
  assert.equal(t.text, "| a | b |\n| --- | --- |\n| 1 | 2 |");
});

test("hostile input: 100k nesting levels, malformed MathML, a time bound, a huge page", () => {
  const deep = "<div>".repeat(100_000) + "deep text" + "</div>".repeat(100_000);
  const t0 = performance.now();
  const d = htmlToText(deep);
  assert.equal(d.text, "deep text");
  assert.equal(d.truncated, "depth"); // htmlparser2 alone spends ~10 s on this page (its open-element stack)
  assert.ok(performance.now() - t0 < 8000);
  const deepMath = "<math>" + "<mrow>".repeat(50_000) + "<mi>x</mi>" + "</mrow>".repeat(50_000) + "</math><p>after</p>";
  assert.match(htmlToText(deepMath).text, /after/);
  const bad = htmlToText("<p>a <math><mfrac><mi>a</mi></math> b <math><msup></msup></math> <math><mroot></math> c</p>");
  assert.match(bad.text, /^a \$\\frac\{a\}\{\}\$ b/);
  const big = "<p>" + "word ".repeat(200_000) + "</p>".repeat(1) + "<p>x</p>".repeat(300_000);
  const t = htmlToText(big, { maxMs: 5 });
  assert.equal(t.truncated, "time");
  assert.ok(t.text.startsWith("word word"));
  const n = htmlToText("<p>x</p>".repeat(10_000), { maxNodes: 100 });
  assert.equal(n.truncated, "nodes");
});

test("mathmlToLatex: common elements; stripStyleWrapper only strips a whole balanced wrapper", () => {
  const conv = (m: string) => mathmlToLatex(parseHtml(m).root.children[0] as El);
  assert.equal(conv("<math><msubsup><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></msubsup><msup><mi>x</mi><mn>2</mn></msup></math>"), "\\sum_{i=1}^nx^2");
  assert.equal(conv("<math><mfrac><mi>α</mi><msqrt><mn>2</mn></msqrt></mfrac><mo>≤</mo><mi>sin</mi><mi>θ</mi></math>"), "\\frac{\\alpha}{\\sqrt{2}}\\leq\\sin\\theta");
  assert.equal(conv("<math><mover><mi>v</mi><mo>→</mo></mover><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>0</mn></mtd></mtr></mtable></math>"), "\\vec{v}\\begin{matrix}1 & 0\\end{matrix}");
  // MathJax 3's and KaTeX's ways of writing \left…\right, \dfrac and \overline (bench/extract.ts, mathjax-full rows).
  assert.equal(conv(`<math><msup><mrow data-mjx-texclass="INNER"><mo data-mjx-texclass="OPEN">(</mo><mfrac><mn>1</mn><mn>2</mn></mfrac><mo data-mjx-texclass="CLOSE">)</mo></mrow><mn>2</mn></msup><mo stretchy="false">(</mo><mi>x</mi><mo stretchy="false">)</mo></math>`), "\\left(\\frac{1}{2}\\right)^2(x)");
  assert.equal(conv(`<math><mrow><mo fence="true">[</mo><mi>a</mi><mo fence="true">)</mo></mrow><msup><mn>17</mn><mn>5</mn></msup></math>`), "\\left[a\\right)17^5");
  assert.equal(conv(`<math><mstyle displaystyle="true" scriptlevel="0"><mfrac><mi>a</mi><mi>b</mi></mfrac></mstyle><mover><mrow><mi>A</mi><mi>C</mi></mrow><mo accent="true">―</mo></mover></math>`), "\\dfrac{a}{b}\\overline{AC}");
  assert.equal(stripStyleWrapper("{\\displaystyle x+1}"), "x+1");
  assert.equal(stripStyleWrapper("{\\displaystyle a}+{b}"), "{\\displaystyle a}+{b}");
});

test("Readability pages: main text kept, no crash on any of the 130 pages", async () => {
  const { readdirSync, existsSync } = await import("node:fs");
  const dir = sharedData("html", "readability-test-pages");
  let n = 0;
  for (const name of readdirSync(dir)) {
    const f = `${dir}/${name}/source.html.gz`;
    if (!existsSync(f)) continue;
    const r = htmlToText(gunzipSync(readFileSync(f)).toString("utf8"));
    assert.equal(r.truncated, undefined, name);
    n++;
  }
  assert.ok(n >= 120);
});

test("a page that marks its article is read from there; a teaser-sized article falls back to the whole page", () => {
  const body = "<p>" + "Main article sentence with content. ".repeat(20) + "</p>";
  const r = htmlToText(`<html><head><title>T</title></head><body><div><p>Outside teaser list</p></div><article>${body}</article><div><p>You may also like this other story</p></div></body></html>`);
  assert.ok(r.text.startsWith("Main article sentence"));
  assert.ok(!r.text.includes("You may also like") && !r.text.includes("Outside teaser"));
  assert.equal(r.title, "T");
  const short = htmlToText(`<body><p>Intro paragraph outside.</p><article><p>Short.</p></article><p>Closing paragraph.</p></body>`);
  assert.equal(short.text, "Intro paragraph outside.\n\nShort.\n\nClosing paragraph.");
  const two = htmlToText(`<body><article><p>One.</p></article><article><p>Two.</p></article></body>`);
  assert.equal(two.text, "One.\n\nTwo.");
});

test("KaTeX HTML without MathML: fractions, roots, scripts above and below, boxes, overlines, symbols read back", async () => {
  const katex = (await import("katex")).default;
  const got = (tex: string) => /F: \$([\s\S]*?)\$ end/.exec(htmlToText(`<p>F: ${katex.renderToString(tex, { output: "html" })} end</p>`).text)?.[1];
  assert.equal(got("x=\\frac{3}{2}"), "x=\\frac{3}{2}");
  assert.equal(got("\\sqrt{64+36}=\\boxed{10}"), "\\sqrt{64+36}=\\boxed{10}");
  assert.equal(got("x_i^2 + y_{n-1} - 1 \\le \\overline{AC}"), "x_i^2+y_{n-1}-1\\leq\\overline{AC}");
});

