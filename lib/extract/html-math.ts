// Every way the web writes a formula, as LaTeX for the HTML walk (html-text.ts): MathML (TeX annotation, then
// alttext, then our MathML → LaTeX conversion), KaTeX (its MathML, else the rendered spans), MathJax 2 scripts,
// MathJax 3 containers (assistive MathML or a data attribute), Wikipedia's math elements and images whose alt
// holds TeX. Each handler gets the element the walk stopped at and writes $…$ (inline) or $$…$$ (display).
import { findAll, flatText, count, type Budget, type El } from "./dom.js";
import { mathmlToLatex, isTexEncoding, stripStyleWrapper, join, symbols, type MathBudget } from "./mathml.js";
import type { Out } from "./text-out.js";

export interface MathWalk extends Budget {
  /** Formulas emitted, by kind. */
  math: Record<string, number>;
  budget: MathBudget;
}

export function emitMath(out: Out, w: MathWalk, tex: string, display: boolean, kind: string): void {
  const t = stripStyleWrapper(tex).replace(/\s+/g, " ").trim();
  if (!t) return;
  w.math[kind] = (w.math[kind] ?? 0) + 1;
  if (display) {
    out.br(1);
    out.text(`$$${t}$$`, false);
    out.br(1);
  } else {
    out.text(`$${t}$`, false);
  }
}

/** The TeX of a <math> element: x-tex annotation, then alttext, then our MathML→LaTeX conversion. */
export function texOfMath(e: El, w: MathWalk): string {
  const ann = findAll(e, (x) => x.name === "annotation" && isTexEncoding(x.attribs.encoding), w, 1)[0];
  if (ann) return flatText(ann, w);
  if (e.attribs.alttext?.trim()) return e.attribs.alttext;
  w.budget.nodes = 20000;
  return mathmlToLatex(e, w.budget);
}

export function mathJax2(e: El, out: Out, w: MathWalk): void {
  const type = (e.attribs.type ?? "").toLowerCase();
  if (!type.startsWith("math/tex")) return;
  emitMath(out, w, flatText(e, w), /mode\s*=\s*display/.test(type), "mathjax2");
}

export function mathJax3(e: El, out: Out, w: MathWalk): void {
  const display = e.attribs.display === "true" || e.attribs.display === "block";
  const math = findAll(e, (x) => x.name === "math", w, 1)[0];
  if (math) return emitMath(out, w, texOfMath(math, w), display || math.attribs.display === "block", "mathjax3");
  // MathJax 3 SVG/CHTML without assistive MathML: a data attribute sometimes holds the TeX.
  const tex = e.attribs["data-tex"] ?? e.attribs["data-latex"];
  if (tex) emitMath(out, w, tex, display, "mathjax3");
}

export function katex(e: El, out: Out, w: MathWalk, display: boolean): void {
  const math = findAll(e, (x) => x.name === "math", w, 1)[0];
  if (math) return emitMath(out, w, texOfMath(math, w), display || math.attribs.display === "block", "katex");
  const rendered = findAll(e, (x) => /(^|\s)katex-html(\s|$)/.test(x.attribs.class ?? ""), w, 1)[0];
  if (rendered) emitMath(out, w, katexSpans(rendered, w), display, "katex-html");
}

/** KaTeX's HTML rendering only (no MathML): the visible characters as TeX symbols (− ⋅ ≤ → - \\cdot \\leq), and
 * the layouts KaTeX draws with stacked rows ("vlist") read back: fractions, square roots, super- and subscripts
 * (a row above the baseline is a superscript, below it a subscript). */
function katexSpans(e: El, w: MathWalk): string {
  let s = "";
  for (const k of e.children) {
    if (!count(w)) break;
    if (k.type === "text") s = join(s, symbols(k.data.replace(/\u200b/g, "")));
    else if (k.type === "tag") {
      const cls = k.attribs.class ?? "";
      if (/(^|\s)(strut|katex-strut|vlist-s|pstrut|frac-line|hide-tail|nulldelimiter)(\s|$)/.test(cls)) continue;
      if (/(^|\s)msupsub(\s|$)/.test(cls)) s += scripts(k, w);
      else if (/(^|\s)boxpad(\s|$)/.test(cls)) s = join(s, `\\boxed{${katexSpans(k, w).trim()}}`);
      else s = join(s, (/(^|\s)mfrac(\s|$)/.test(cls) && frac(k, w)) || (/(^|\s)sqrt(\s|$)/.test(cls) && sqrt(k, w)) ||
        (/(^|\s)(katex-)?(overline|underline)(\s|$)/.test(cls) && line(k, w, cls.includes("overline") ? "overline" : "underline")) || katexSpans(k, w));
    }
  }
  return s;
}

/** The rows of the first vlist under e, each with its shift from the baseline (negative: above). */
function vlistRows(e: El, w: MathWalk): { row: El; shift: number }[] {
  // The first in document order (findAll goes last child first, and KaTeX's second vlist holds only the depth).
  let list: El | undefined;
  const stack: El[] = [e];
  while (stack.length && !list) {
    const x = stack.pop()!;
    if (!count(w)) return [];
    if (x !== e && /(^|\s)vlist(\s|$)/.test(x.attribs.class ?? "")) list = x;
    else for (let i = x.children.length - 1; i >= 0; i--) {
      const c = x.children[i];
      if (c.type === "tag") stack.push(c);
    }
  }
  if (!list) return [];
  const rows: { row: El; shift: number }[] = [];
  for (const r of list.children) {
    if (r.type !== "tag" || !r.children.length) continue;
    const top = Number(/top:\s*(-?[\d.]+)em/.exec(r.attribs.style ?? "")?.[1] ?? NaN);
    const strut = r.children.find((c): c is El => c.type === "tag" && /(^|\s)pstrut(\s|$)/.test(c.attribs.class ?? ""));
    const height = Number(/height:\s*([\d.]+)em/.exec(strut?.attribs.style ?? "")?.[1] ?? NaN);
    rows.push({ row: r, shift: top + height });
  }
  return rows;
}

const hasClass = (e: El, c: RegExp) => e.children.some((k) => k.type === "tag" && c.test(k.attribs.class ?? ""));

function scripts(e: El, w: MathWalk): string {
  const rows = vlistRows(e, w).filter((r) => !Number.isNaN(r.shift));
  const sub = rows.filter((r) => r.shift > 0).map((r) => katexSpans(r.row, w)).join("").trim();
  const sup = rows.filter((r) => r.shift <= 0).map((r) => katexSpans(r.row, w)).join("").trim();
  const g = (t: string) => ([...t].length === 1 || /^\\[A-Za-z]+$/.test(t) ? t : `{${t}}`);
  return (sub ? `_${g(sub)}` : "") + (sup ? `^${g(sup)}` : "");
}

/** \overline / \underline: the row that is not the rule. */
function line(e: El, w: MathWalk, kind: string): string {
  const row = vlistRows(e, w).find((r) => !hasClass(r.row, new RegExp(`(^|\\s)${kind}-line(\\s|$)`)));
  return row ? `\\${kind}{${katexSpans(row.row, w).trim()}}` : "";
}

/** \frac: KaTeX stacks denominator, rule, numerator (bottom to top). "" when the layout is not that. */
function frac(e: El, w: MathWalk): string {
  const rows = vlistRows(e, w).filter((r) => !hasClass(r.row, /(^|\s)frac-line(\s|$)/));
  return rows.length === 2 ? `\\frac{${katexSpans(rows[1].row, w).trim()}}{${katexSpans(rows[0].row, w).trim()}}` : "";
}

/** \sqrt: the radicand's row (the other row draws the sign). */
function sqrt(e: El, w: MathWalk): string {
  const row = vlistRows(e, w).find((r) => !hasClass(r.row, /(^|\s)hide-tail(\s|$)/));
  return row ? `\\sqrt{${katexSpans(row.row, w).trim()}}` : "";
}

export function mediawikiMath(e: El, out: Out, w: MathWalk): void {
  const math = findAll(e, (x) => x.name === "math", w, 1)[0];
  const display = /mwe-math-mathml-display|mwe-math-fallback-image-display/.test(
    findAll(e, (x) => /mwe-math-(mathml|fallback-image)-/.test(x.attribs.class ?? ""), w, 1)[0]?.attribs.class ?? "");
  if (math) return emitMath(out, w, texOfMath(math, w), display, "mathml");
  const img = findAll(e, (x) => x.name === "img", w, 1)[0];
  if (img?.attribs.alt) emitMath(out, w, img.attribs.alt, display, "img");
}

const LATEX_ALT = /\\[A-Za-z]+|[\^_]\{|[\^_][A-Za-z0-9]|=/;

export function image(e: El, out: Out, w: MathWalk): void {
  const alt = e.attribs.alt?.trim();
  if (!alt) return;
  const cls = e.attribs.class ?? "";
  const src = e.attribs.src ?? "";
  // An image of a formula: a math/tex class, or a LaTeX-rendering service in its src, and an alt that reads as TeX.
  const mathy = /mwe-math-fallback|(^|[\s_-])(tex|latex|math|equation|wp-latex|ql-img-inline-formula)([\s_-]|$)/i.test(cls) ||
    /latex|mathtex|codecogs|\/math\/render|tex\?|chart\.googleapis\.com.*cht=tx/i.test(src);
  if (mathy && LATEX_ALT.test(alt)) {
    const t = alt.replace(/^\$+|\$+$/g, "");
    emitMath(out, w, t, /display/.test(cls), "img");
  }
}
