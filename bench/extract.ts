// bench/extract.ts — the extract stage measured three ways:
//  1. math fidelity: real LaTeX formulas (MATH benchmark solutions, ../shared/data/decontamination/math.jsonl.gz)
//     rendered as the web renders them (KaTeX with and without MathML, MathML with/without the TeX annotation,
//     MathJax 2 scripts, MathJax 3 containers with assistive MathML — synthetic, and rendered by mathjax-full as
//     CHTML and SVG —, Wikipedia's image fallback), embedded in a
//     real page (Wikipedia "Hermitian matrix" from the Readability test pages), extracted, compared with the source
//     (exact after whitespace normalisation, and token-level F1);
//  2. main-text quality on trafilatura's benchmark pages (gold "with"/"without" snippets, scored as trafilatura's
//     evaluation does: a "with" snippet found is a true positive, a "without" snippet found a false positive);
//  3. speed: pages/s and HTML MB/s per CPU-second, WARC decoding included, on the real Common Crawl excerpt
//     repeated; our WARC parser against the `warcio` npm package; @mozilla/readability on jsdom as the peer when
//     installed.
// Run: node --import tsx bench/extract.ts [--formulas 300] [--repeat 50] [--only fidelity|quality|speed] [--no-peer]
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { parseDocument } from "htmlparser2";
import { parseHtml } from "../lib/extract/dom.js";
import { htmlToText } from "../lib/extract/html-text.js";
import { readWarc, isProblem } from "../lib/extract/warc.js";
import { parseHttpResponse } from "../lib/extract/http.js";
import { extractPage } from "../lib/extract/page.js";

const shared = join(import.meta.dirname, "..", "..", "shared", "data");
const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const gz = (p: string) => gunzipSync(readFileSync(join(shared, p))).toString("utf8");
const norm = (s: string) => s.replace(/\s+/g, "").trim();
// Equivalent TeX: what MathML cannot tell apart (\le and \leq are both ≤; x^{2} and x^2, \frac12 and \frac{1}{2},
// \left( and ( render alike) is normalised on both sides. Reported next to the exact figure, never instead of it.
const texNorm = (s: string) => {
  let t = norm(s).replace(/\\(le|ge|ne)(?![A-Za-z])/g, "\\$1q").replace(/\\not=/g, "\\neq").replace(/\\[dt]frac/g, "\\frac")
    .replace(/\\(left|right)(?![A-Za-z])/g, "").replace(/\\frac(\d)(\d)/g, "\\frac{$1}{$2}").replace(/\\frac(\d)\{/g, "\\frac{$1}{");
  for (let i = 0; i < 3; i++) t = t.replace(/([\^_])\{([^{}\\]|\\[A-Za-z]+(\{[^{}]*\})?)\}/g, "$1$2");
  while (/^\{[\s\S]*\}$/.test(t) && balancedInner(t.slice(1, -1))) t = t.slice(1, -1);
  return t;
};
function balancedInner(s: string): boolean {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "{") d++;
    else if (s[i] === "}" && --d < 0) return false;
  }
  return d === 0;
}
const tokens = (s: string) => s.match(/\\[A-Za-z]+|[A-Za-z]|\d|[^\sA-Za-z\d]/g) ?? [];

function tokenF1(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  if (!ta.length && !tb.length) return 1;
  const m = new Map<string, number>();
  for (const t of ta) m.set(t, (m.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of tb) {
    const c = m.get(t) ?? 0;
    if (c > 0) {
      common++;
      m.set(t, c - 1);
    }
  }
  if (!common) return 0;
  const p = common / tb.length;
  const r = common / ta.length;
  return (2 * p * r) / (p + r);
}

async function fidelity(n: number) {
  const katex = (await import("katex")).default;
  const formulas: string[] = [];
  const seen = new Set<string>();
  for (const line of gz("decontamination/math.jsonl.gz").split("\n")) {
    if (!line) continue;
    const { solution } = JSON.parse(line) as { solution: string };
    for (const m of solution.matchAll(/\$([^$]{3,120})\$/g)) {
      const f = m[1].trim();
      if (seen.has(f)) continue;
      try {
        katex.renderToString(f, { throwOnError: true });
      } catch {
        continue;
      }
      seen.add(f);
      formulas.push(f);
    }
    if (formulas.length >= n) break;
  }
  const template = gz("html/readability-test-pages/wikipedia-3/source.html.gz");
  const anchor = template.indexOf("<p>", template.indexOf("mw-parser-output"));
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const kinds: Record<string, (f: string) => string> = {
    "katex (html+mathml)": (f) => katex.renderToString(f),
    "katex html only": (f) => katex.renderToString(f, { output: "html" }),
    "mathml + annotation": (f) => katex.renderToString(f, { output: "mathml" }).replace(/^<span class="katex">|<\/span>$/g, ""),
    "mathml + alttext": (f) => katex.renderToString(f, { output: "mathml" }).replace(/^<span class="katex">|<\/span>$/g, "")
      .replace(/<annotation[^>]*>[\s\S]*?<\/annotation>/, "").replace("<math", `<math alttext="${esc(f)}"`),
    "mathml, no annotation": (f) => katex.renderToString(f, { output: "mathml" }).replace(/^<span class="katex">|<\/span>$/g, "")
      .replace(/<annotation[^>]*>[\s\S]*?<\/annotation>/, ""),
    "mathjax2 script": (f) => `<span class="MathJax_Preview">${esc(f)}</span><span class="MathJax" id="MathJax-Element-1-Frame">x</span><script type="math/tex">${f}</script>`,
    "mathjax3 assistive mml (no tex)": (f) => `<mjx-container class="MathJax CtxtMenu_Attached_0" jax="CHTML"><mjx-math class="MJX-TEX" aria-hidden="true"><mjx-mi class="mjx-i"><mjx-c class="mjx-c1D465 TEX-I"></mjx-c></mjx-mi></mjx-math><mjx-assistive-mml unselectable="on" display="inline">${
      katex.renderToString(f, { output: "mathml" }).replace(/^<span class="katex">|<\/span>$/g, "").replace(/<annotation[^>]*>[\s\S]*?<\/annotation>/, "")}</mjx-assistive-mml></mjx-container>`,
    "wikipedia image fallback": (f) => `<span class="mwe-math-element"><img src="https://wikimedia.org/api/rest_v1/media/math/render/svg/x" class="mwe-math-fallback-image-inline" aria-hidden="true" alt="{\\displaystyle ${esc(f)}}"></span>`,
  };
  const mj = await mathJax3();
  if (mj) {
    kinds["mathjax3 CHTML (mathjax-full, assistive MathML)"] = (f) => mj.chtml(f);
    kinds["mathjax3 SVG (mathjax-full, assistive MathML)"] = (f) => mj.svg(f);
  }
  const rows: Record<string, { exact: number; equiv: number; f1: number; n: number }> = {};
  for (const [kind, render] of Object.entries(kinds)) {
    const r = { exact: 0, equiv: 0, f1: 0, n: 0 };
    for (const f of formulas) {
      const page = template.slice(0, anchor) + `<p>Formula: ${render(f)} end.</p>` + template.slice(anchor);
      const text = htmlToText(page).text;
      const m = /Formula: \$+([\s\S]*?)\$+ end\./.exec(text);
      const got = m ? m[1] : "";
      r.n++;
      if (norm(got) === norm(f)) r.exact++;
      if (texNorm(got) === texNorm(f)) r.equiv++;
      r.f1 += tokenF1(f, got);
    }
    rows[kind] = r;
  }
  console.log(`\n## Math fidelity: ${formulas.length} MATH-benchmark formulas, embedded in Wikipedia "Hermitian matrix"`);
  console.log("| markup | exact (whitespace-normalised) | equivalent (TeX synonyms normalised) | token F1 |\n|---|---|---|---|");
  for (const [k, r] of Object.entries(rows)) console.log(`| ${k} | ${((100 * r.exact) / r.n).toFixed(1)}% | ${((100 * r.equiv) / r.n).toFixed(1)}% | ${(r.f1 / r.n).toFixed(3)} |`);
}

/** MathJax 3 as pages ship it (mathjax-full in Node: CHTML or SVG output with the assistive MathML that
 * screen readers get, which carries no TeX); null when mathjax-full is not installed. */
async function mathJax3(): Promise<{ chtml: (tex: string) => string; svg: (tex: string) => string } | null> {
  try {
    const m = (p: string) => import(`mathjax-full/js/${p}.js`);
    const [{ mathjax }, { TeX }, { CHTML }, { SVG }, { liteAdaptor }, { RegisterHTMLHandler }, { AssistiveMmlHandler }, { AllPackages }] =
      await Promise.all(["mathjax", "input/tex", "output/chtml", "output/svg", "adaptors/liteAdaptor", "handlers/html", "a11y/assistive-mml", "input/tex/AllPackages"].map(m));
    const adaptor = liteAdaptor();
    AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
    const doc = (out: unknown) => mathjax.document("", { InputJax: new TeX({ packages: AllPackages }), OutputJax: out });
    const chtml = doc(new CHTML({ fontURL: "https://cdn.jsdelivr.net/npm/mathjax@3/es5/output/chtml/fonts/woff-v2" }));
    const svg = doc(new SVG({ fontCache: "none" }));
    return {
      chtml: (tex) => adaptor.outerHTML(chtml.convert(tex, { display: false })),
      svg: (tex) => adaptor.outerHTML(svg.convert(tex, { display: false })),
    };
  } catch (e) {
    console.log(`(mathjax-full not installed, MathJax 3 rows left out: npm install --no-save mathjax-full; ${(e as Error).message.slice(0, 80)})`);
    return null;
  }
}

type Peer = (html: string, url: string) => string;

async function readabilityPeer(): Promise<Peer | null> {
  try {
    const { JSDOM } = await import("jsdom" as string);
    const { Readability } = await import("@mozilla/readability" as string);
    return (html, url) => {
      const dom = new JSDOM(html, { url });
      return new Readability(dom.window.document).parse()?.textContent ?? "";
    };
  } catch {
    console.log("(peer @mozilla/readability + jsdom not installed: npm install --no-save @mozilla/readability jsdom)");
    return null;
  }
}

function quality(peer: Peer | null) {
  const gold = JSON.parse(gz("html/trafilatura-eval/evaldata_subset.json.gz")) as Record<string, { file: string; with: string[]; without: string[] }>;
  const score = (extract: (html: string, url: string) => string) => {
    let tp = 0, fn = 0, fp = 0, tn = 0;
    for (const [url, g] of Object.entries(gold)) {
      const html = gz(`html/trafilatura-eval/${g.file}.gz`);
      const text = extract(html, url).replace(/\s+/g, " ");
      for (const s of g.with ?? []) text.includes(s.replace(/\s+/g, " ").trim()) ? tp++ : fn++;
      for (const s of g.without ?? []) text.includes(s.replace(/\s+/g, " ").trim()) ? fp++ : tn++;
    }
    const p = tp / (tp + fp), r = tp / (tp + fn);
    return { p, r, f1: (2 * p * r) / (p + r), acc: (tp + tn) / (tp + tn + fp + fn) };
  };
  console.log(`\n## Main text: trafilatura benchmark, ${Object.keys(gold).length} pages (gold snippets)`);
  console.log("| extractor | precision | recall | F1 | accuracy |\n|---|---|---|---|---|");
  const line = (n: string, s: ReturnType<typeof score>) => console.log(`| ${n} | ${s.p.toFixed(3)} | ${s.r.toFixed(3)} | ${s.f1.toFixed(3)} | ${s.acc.toFixed(3)} |`);
  line("megamath extract", score((h) => htmlToText(h).text));
  line("megamath extract --keep-boilerplate", score((h) => htmlToText(h, { removeBoilerplate: false }).text));
  if (peer) line("@mozilla/readability (jsdom)", score(peer));
}

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function speed(repeat: number, peer: Peer | null) {
  const one = readFileSync(join(shared, "warc", "commoncrawl_CC-MAIN-2020-34_excerpt.warc.gz"));
  const dir = mkdtempSync(join(tmpdir(), "extract-bench-"));
  const big = join(dir, "CC-MAIN-2020-34-big.warc.gz");
  writeFileSync(big, Buffer.concat(Array.from({ length: repeat }, () => one)));
  const plainBytes = gunzipSync(readFileSync(big)).length;
  console.log(`\n## Speed: the Common Crawl excerpt repeated ${repeat}x (${(readFileSync(big).length / 1e6).toFixed(1)} MB gzip, ${(plainBytes / 1e6).toFixed(1)} MB WARC), one thread`);
  // WARC decoding alone: ours vs warcio.
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const runs = (f: () => Promise<number>) => async () => {
    const t: number[] = [];
    let n = 0;
    for (let i = 0; i < 3; i++) {
      const c0 = cpu();
      n = await f();
      t.push(cpu() - c0);
    }
    return { cpu: med(t), n };
  };
  const ours = await runs(async () => {
    let n = 0;
    for await (const r of readWarc(big)) if (!isProblem(r) && r.type === "response") n++;
    return n;
  })();
  let warcio: { cpu: number; n: number } | null = null;
  try {
    const { WARCParser } = await import("warcio");
    const { createReadStream } = await import("node:fs");
    warcio = await runs(async () => {
      let n = 0;
      const parser = new WARCParser(createReadStream(big) as never);
      for await (const rec of parser) {
        if (rec.warcType === "response") {
          await rec.readFully(false);
          n++;
        }
      }
      return n;
    })();
  } catch (e) {
    console.log(`(warcio failed: ${(e as Error).message})`);
  }
  console.log("| WARC reader | response records | CPU s | records/CPU-s | WARC MB/CPU-s |\n|---|---|---|---|---|");
  for (const [k, v] of [["megamath (lib/extract/warc.ts)", ours], ["warcio 2.4", warcio]] as const) {
    if (v) console.log(`| ${k} | ${v.n} | ${v.cpu.toFixed(2)} | ${Math.round(v.n / v.cpu)} | ${(plainBytes / 1e6 / v.cpu).toFixed(0)} |`);
  }
  // End to end in one thread: WARC → HTTP → charset → HTML → text. One pass to warm the JIT (a real run reads
  // millions of pages), then the median of three.
  const pages: Uint8Array[] = [];
  let n = 0, htmlBytes = 0;
  let collect = true;
  const endToEnd = async () => {
    n = 0;
    htmlBytes = 0;
    for await (const r of readWarc(big)) {
      if (isProblem(r) || r.type !== "response") continue;
      const h = parseHttpResponse(r.block)!;
      const res = extractPage({ status: h.status, contentType: h.contentType, charsetHttp: h.charset, problem: h.problem ?? "", payload: h.payload });
      n++;
      htmlBytes += h.payload.length;
      if (collect && res.text !== null && pages.length < 2000) pages.push(h.payload);
    }
    collect = false;
    return n;
  };
  const first0 = cpu();
  await endToEnd();
  const first = cpu() - first0;
  const c = (await runs(endToEnd)()).cpu;
  console.log(`\n| extractor (WARC decoding included for megamath) | pages | CPU s | pages/CPU-s | HTML MB/CPU-s |\n|---|---|---|---|---|`);
  console.log(`| megamath extract (median of 3 after a warm-up pass) | ${n} | ${c.toFixed(2)} | ${Math.round(n / c)} | ${(htmlBytes / 1e6 / c).toFixed(1)} |`);
  console.log(`| megamath extract (first pass, cold JIT) | ${n} | ${first.toFixed(2)} | ${Math.round(n / first)} | ${(htmlBytes / 1e6 / first).toFixed(1)} |`);
  // HTML parsers alone on the same pages (decoded once), and our whole HTML → text for comparison.
  const dec0 = new TextDecoder();
  const texts = pages.map((p) => dec0.decode(p));
  const tb = texts.reduce((a, t) => a + t.length, 0);
  const parsers: [string, (h: string) => unknown][] = [["megamath parseHtml (lib/extract/dom.ts, on htmlparser2's tokenizer)", (h) => parseHtml(h)],
    ["htmlparser2 parseDocument (domhandler tree)", (h) => parseDocument(h)], ["megamath htmlToText (parse + walk)", (h) => htmlToText(h)]];
  try {
    const parse5 = await import("parse5" as string);
    parsers.push(["parse5 parse (jsdom's parser)", (h) => parse5.parse(h)]);
  } catch {
    console.log("(parse5 not installed)");
  }
  console.log(`\n| HTML parser, ${texts.length} pages | pages/CPU-s | MB/CPU-s |\n|---|---|---|`);
  for (const [name, parse] of parsers) {
    const t0 = cpu();
    for (let k = 0; k < 3; k++) for (const t of texts) parse(t);
    const c = cpu() - t0;
    console.log(`| ${name} | ${Math.round((3 * texts.length) / c)} | ${((3 * tb) / 1e6 / c).toFixed(1)} |`);
  }
  if (peer) {
    const sample = pages.slice(0, Math.min(pages.length, 16 * 10));
    const dec = new TextDecoder();
    const p0 = cpu();
    let pb = 0;
    for (const p of sample) {
      peer(dec.decode(p), "http://example.com/");
      pb += p.length;
    }
    const pc = cpu() - p0;
    console.log(`\n| peer | pages | CPU s | pages/CPU-s | HTML MB/CPU-s |\n|---|---|---|---|---|`);
    console.log(`| @mozilla/readability on jsdom (HTML only, ${sample.length} pages) | ${sample.length} | ${pc.toFixed(2)} | ${Math.round(sample.length / pc)} | ${(pb / 1e6 / pc).toFixed(1)} |`);
  }
  rmSync(dir, { recursive: true, force: true });
}

const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : "";
const peer = process.argv.includes("--no-peer") ? null : await readabilityPeer();
if (!only || only === "fidelity") await fidelity(arg("formulas", 300));
if (!only || only === "quality") quality(peer);
if (!only || only === "speed") await speed(arg("repeat", 50), peer);

