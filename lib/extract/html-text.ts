// HTML → plain text that keeps the mathematics (recipe §1.3, and past it): every way the web writes a formula
// becomes LaTeX between $…$ (inline) or $$…$$ (display); tables become Markdown; code blocks keep their
// whitespace; navigation, footers, menus, sidebars and scripts are dropped; paragraphs stay paragraphs.
// Parsed with htmlparser2 (fastest of those measured, bench/extract.ts). The walk is bounded in depth (deeper
// content is read as flat text), in nodes and in time, so no page can stall a worker.
import { parseDocument } from "htmlparser2";
import type { ChildNode, Element } from "domhandler";
import { mathmlToLatex, isTexEncoding, stripStyleWrapper, type MathBudget } from "./mathml.js";

export interface HtmlTextOptions {
  /** Stop walking after this many milliseconds (the text so far is kept; `truncated` says why). Default 2000. */
  maxMs?: number;
  /** Stop after visiting this many nodes. Default 2,000,000. */
  maxNodes?: number;
  /** Drop navigation, footers, menus and link lists. Default true. */
  removeBoilerplate?: boolean;
}

export interface HtmlTextResult {
  text: string;
  title: string;
  /** Formulas emitted, by kind (mathml, katex, mathjax2, mathjax3, img, …). */
  math: Record<string, number>;
  /** Why the walk stopped early ("time", "nodes"), or undefined. */
  truncated?: "time" | "nodes";
}

const SKIP = new Set(["script", "style", "noscript", "template", "head", "iframe", "object", "embed", "canvas", "svg",
  "select", "button", "input", "textarea", "option", "form", "map", "audio", "video", "source", "track", "link", "meta"]);
const BOILER = new Set(["nav", "footer", "aside", "header", "menu", "dialog"]);
const BLOCK = new Set(["p", "div", "section", "article", "main", "blockquote", "figure", "figcaption", "h1", "h2", "h3",
  "h4", "h5", "h6", "ul", "ol", "dl", "dt", "dd", "address", "center", "details", "summary", "hr", "fieldset", "body",
  "html", "caption", "li", "tr", "table", "tbody", "thead", "tfoot", "legend"]);
const BOILER_ROLE = /^(navigation|banner|contentinfo|complementary|menu|menubar|search|dialog|alert)$/;
// Class/id words that mark boilerplate on real sites. Matched as whole words (split on -_ and spaces).
const BOILER_WORD = new Set(["nav", "navbar", "navigation", "menu", "footer", "sidebar", "breadcrumb", "breadcrumbs",
  "cookie", "cookies", "banner", "share", "sharing", "social", "advert", "advertisement", "ads", "ad", "sponsor",
  "related", "widget", "popup", "modal", "newsletter", "subscribe", "signup", "masthead", "toolbar", "pagination",
  "comments", "comment", "skip", "promo", "disqus", "byline", "tags", "noprint", "navbox", "catlinks", "mw-jump-link",
  "printfooter", "sitenotice", "toc", "editsection", "jump", "sharedaddy", "sociallinks", "recommended", "trending",
  "popular", "rating", "ratings", "login", "tagcloud", "subscription", "outbrain", "taboola", "relatedposts", "yarpp"]);
// Container words that protect an element from the boilerplate words above ("content-sidebar-wrap" holds content).
const KEEP_WORD = /(^|[\s_-])(content|article|main|post|entry|body|story|text|mw-body|mw-parser-output)([\s_-]|$)/i;

class Out {
  s = "";
  pending = 0; // newlines owed before the next text: 1 (line) or 2 (paragraph)
  space = false;
  linkChars = 0;
  chars = 0;
  /** A list bullet or heading mark, written only if text follows (empty list items leave nothing). */
  marker = "";
  text(t: string, inLink: boolean): void {
    if (!t) return;
    if (this.pending && this.s) this.s += this.pending >= 2 ? "\n\n" : "\n";
    if (this.marker) {
      if (this.pending || !this.s || this.s.endsWith("\n")) this.s += this.marker;
      this.marker = "";
      this.pending = 0;
      this.space = false;
    }
    else if (this.space && this.s && !this.s.endsWith(" ") && !this.s.endsWith("\n")) this.s += " ";
    if (this.pending) this.space = false;
    this.pending = 0;
    this.space = false;
    this.s += t;
    this.chars += t.length;
    if (inLink) this.linkChars += t.length;
  }
  br(n: 1 | 2): void {
    if (this.pending < n) this.pending = n;
  }
  append(o: Out): void {
    if (!o.s) return;
    this.text(o.s, false);
    this.linkChars += o.linkChars;
    this.chars += o.chars - o.s.length;
    this.pending = Math.max(this.pending, o.pending);
    this.space ||= o.space;
  }
}

interface Walk {
  deadline: number;
  nodesLeft: number;
  truncated?: "time" | "nodes";
  math: Record<string, number>;
  boiler: boolean;
  budget: MathBudget;
  title: string;
}

const MAX_DEPTH = 400;

export function htmlToText(html: string, o: HtmlTextOptions = {}): HtmlTextResult {
  const doc = parseDocument(html, { decodeEntities: true });
  const w: Walk = {
    deadline: performance.now() + (o.maxMs ?? 2000), nodesLeft: o.maxNodes ?? 2_000_000, math: {},
    boiler: o.removeBoilerplate ?? true, budget: { nodes: 0 }, title: "",
  };
  let out = new Out();
  // A page that marks its article (one <article>, itemprop=articleBody, one <main>) is read from there: related
  // links, comments and author boxes after it are the commonest boilerplate the word lists below miss. When that
  // container holds little text (a teaser), the whole page is read instead.
  const main = w.boiler ? mainContainer(doc.children, w) : null;
  if (main) w.title = titleOf(doc.children, w);
  w.nodesLeft = o.maxNodes ?? 2_000_000; // the search above is not part of the walk's budget
  if (main) {
    walkChildren(main.children, out, w, 1, false, false);
    if (out.s.length < 500 && !w.truncated) {
      out = new Out();
      w.nodesLeft = o.maxNodes ?? 2_000_000;
      w.math = {};
      walkChildren(doc.children, out, w, 0, false, false);
    }
  } else walkChildren(doc.children, out, w, 0, false, false);
  const text = out.s.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
  return { text, title: w.title, math: w.math, truncated: w.truncated };
}

/** The <title> in the document's head (html > head > title), without walking the body. */
function titleOf(kids: ChildNode[], w: Walk): string {
  for (const k of kids) {
    if (k.type !== "tag") continue;
    if (k.name === "title") return flatText(k, w).replace(/\s+/g, " ").trim();
    if (k.name === "html" || k.name === "head") {
      const t = titleOf(k.children, w);
      if (t) return t;
    }
  }
  return "";
}

function mainContainer(kids: ChildNode[], w: Walk): Element | null {
  const body = findAll({ children: kids } as Element, (x) => /(^|\s)articleBody(\s|$)/.test(x.attribs.itemprop ?? ""), w, 2);
  if (body.length === 1) return body[0];
  const articles = findAll({ children: kids } as Element, (x) => x.name === "article", w, 2);
  if (articles.length === 1) return articles[0];
  const mains = findAll({ children: kids } as Element, (x) => x.name === "main" || x.attribs.role === "main", w, 2);
  return mains.length === 1 ? mains[0] : null;
}

function walkChildren(kids: ChildNode[], out: Out, w: Walk, depth: number, pre: boolean, inLink: boolean): void {
  for (const k of kids) {
    if (w.truncated) return;
    walk(k, out, w, depth, pre, inLink);
  }
}

function count(w: Walk): boolean {
  if (--w.nodesLeft < 0) {
    w.truncated = "nodes";
    return false;
  }
  if ((w.nodesLeft & 1023) === 0 && performance.now() > w.deadline) {
    w.truncated = "time";
    return false;
  }
  return true;
}

function emitText(data: string, out: Out, pre: boolean, inLink: boolean): void {
  if (pre) {
    out.text(data, inLink);
    return;
  }
  const lead = /^\s/.test(data);
  const t = data.replace(/\s+/g, " ").trim();
  if (!t) {
    if (data.length) out.space = true;
    return;
  }
  if (lead) out.space = true;
  out.text(t, inLink);
  if (/\s$/.test(data)) out.space = true;
}

function walk(n: ChildNode, out: Out, w: Walk, depth: number, pre: boolean, inLink: boolean): void {
  if (!count(w)) return;
  if (n.type === "text") return emitText(n.data, out, pre, inLink);
  if (n.type !== "tag" && n.type !== "script" && n.type !== "style") return;
  const e = n as Element;
  const name = e.name;
  if (depth > MAX_DEPTH) return flat(e, out, w, inLink); // 100k nested divs: read as flat text, no recursion
  if (name === "head" || name === "title") {
    const t = name === "title" ? e : findAll(e, (x) => x.name === "title", w, 1)[0];
    if (t && !w.title) w.title = flatText(t, w).replace(/\s+/g, " ").trim();
    return;
  }
  if (name === "script") return mathJax2(e, out, w);
  if (SKIP.has(name)) return;
  if (name === "math") return emitMath(out, w, texOfMath(e, w), e.attribs.display === "block", "mathml");
  if (name === "mjx-container") return mathJax3(e, out, w);
  const cls = e.attribs.class;
  if (cls) {
    if (/(^|\s)katex(\s|$)/.test(cls)) return katex(e, out, w, /katex-display/.test((e.parent as Element | null)?.attribs?.class ?? ""));
    if (/(^|\s)mwe-math-element(\s|$)/.test(cls)) return mediawikiMath(e, out, w);
    if (/(^|\s)MathJax(_Preview|_Display|_SVG|_CHTML|_SVG_Display)?(\s|$)/.test(cls)) return; // MathJax 2 rendering; the script follows
    if (/(^|\s)(reference|mw-ref)(\s|$)/.test(cls) && name === "sup") return; // [1] citation marks
  }
  if (w.boiler && isBoilerplate(e, name, cls)) return;
  if (name === "img") return image(e, out, w);
  if (name === "br") return out.br(1);
  if (name === "pre") return preBlock(e, out, w);
  if (name === "table" && table(e, out, w, depth)) return;
  if (name === "sup" || name === "sub") {
    const inner = new Out();
    walkChildren(e.children, inner, w, depth + 1, pre, inLink);
    const t = inner.s.trim();
    if (t) out.text(`${name === "sup" ? "^" : "_"}{${t}}`, inLink);
    return;
  }
  const block = BLOCK.has(name);
  const heading = /^h[1-6]$/.test(name);
  const link = inLink || name === "a";
  if (block) out.br(name === "li" || name === "tr" || name === "dt" || name === "dd" ? 1 : 2);
  // Lists and generic containers are rendered apart so a link farm (a menu not marked as one) can be dropped.
  const judge = w.boiler && (name === "ul" || name === "ol" || name === "dl" || name === "div" || name === "section" || name === "td");
  const target = judge ? new Out() : out;
  if (name === "li") target.marker = "- ";
  if (heading) target.marker = "#".repeat(Number(name[1])) + " ";
  walkChildren(e.children, target, w, depth + 1, pre, link);
  target.marker = "";
  if (judge && target !== out) {
    if (!isLinkFarm(target, name)) out.append(target);
  }
  if (block) out.br(name === "li" || name === "tr" || name === "dt" || name === "dd" ? 1 : 2);
}

function isLinkFarm(o: Out, name: string): boolean {
  if (o.chars === 0) return false;
  const density = o.linkChars / o.chars;
  if (name === "ul" || name === "ol" || name === "dl") return density > 0.7;
  return density > 0.8 && o.chars < 2000;
}

function isBoilerplate(e: Element, name: string, cls: string | undefined): boolean {
  if (BOILER.has(name)) return true;
  const role = e.attribs.role;
  if (role && BOILER_ROLE.test(role)) return true;
  if (e.attribs.hidden !== undefined || e.attribs["aria-hidden"] === "true") return true;
  const style = e.attribs.style;
  if (style && /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style)) return true;
  const id = e.attribs.id;
  if (!cls && !id) return false;
  const words = `${cls ?? ""} ${id ?? ""}`;
  if (KEEP_WORD.test(words)) return false;
  for (const word of words.toLowerCase().split(/[\s_-]+/)) if (BOILER_WORD.has(word)) return true;
  return false;
}

/** Depth-first text of a subtree without recursion (used past MAX_DEPTH and for titles). */
function flatText(e: Element, w: Walk): string {
  const stack: ChildNode[] = [...e.children].reverse();
  let s = "";
  while (stack.length) {
    const n = stack.pop()!;
    if (!count(w)) break;
    if (n.type === "text") s += n.data;
    else if (n.type === "tag" && !SKIP.has(n.name)) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return s;
}

function flat(e: Element, out: Out, w: Walk, inLink: boolean): void {
  emitText(flatText(e, w), out, false, inLink);
}

function preBlock(e: Element, out: Out, w: Walk): void {
  const t = flatText(e, w).replace(/^\n+|\s+$/g, "");
  if (!t) return;
  out.br(2);
  out.text(t, false);
  out.br(2);
}

// ---- mathematics -----------------------------------------------------------------------------------------------

function emitMath(out: Out, w: Walk, tex: string, display: boolean, kind: string): void {
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

function findAll(e: Element, pred: (x: Element) => boolean, w: Walk, limit = 64): Element[] {
  const found: Element[] = [];
  const stack: ChildNode[] = [...e.children];
  while (stack.length && found.length < limit) {
    const n = stack.pop()!;
    if (--w.nodesLeft < 0) break;
    if (n.type !== "tag" && n.type !== "script") continue;
    const x = n as Element;
    if (pred(x)) found.push(x);
    else stack.push(...x.children);
  }
  return found;
}

/** The TeX of a <math> element: x-tex annotation, then alttext, then our MathML→LaTeX conversion. */
function texOfMath(e: Element, w: Walk): string {
  const ann = findAll(e, (x) => x.name === "annotation" && isTexEncoding(x.attribs.encoding), w, 1)[0];
  if (ann) return flatText(ann, w);
  if (e.attribs.alttext?.trim()) return e.attribs.alttext;
  w.budget.nodes = 20000;
  return mathmlToLatex(e, w.budget);
}

function mathJax2(e: Element, out: Out, w: Walk): void {
  const type = (e.attribs.type ?? "").toLowerCase();
  if (!type.startsWith("math/tex")) return;
  emitMath(out, w, flatText(e, w), /mode\s*=\s*display/.test(type), "mathjax2");
}

function mathJax3(e: Element, out: Out, w: Walk): void {
  const display = e.attribs.display === "true" || e.attribs.display === "block";
  const math = findAll(e, (x) => x.name === "math", w, 1)[0];
  if (math) return emitMath(out, w, texOfMath(math, w), display || math.attribs.display === "block", "mathjax3");
  // MathJax 3 SVG/CHTML without assistive MathML: a data attribute sometimes holds the TeX.
  const tex = e.attribs["data-tex"] ?? e.attribs["data-latex"];
  if (tex) emitMath(out, w, tex, display, "mathjax3");
}

function katex(e: Element, out: Out, w: Walk, display: boolean): void {
  const math = findAll(e, (x) => x.name === "math", w, 1)[0];
  if (math) return emitMath(out, w, texOfMath(math, w), display || math.attribs.display === "block", "katex");
  const rendered = findAll(e, (x) => /(^|\s)katex-html(\s|$)/.test(x.attribs.class ?? ""), w, 1)[0];
  if (rendered) emitMath(out, w, katexSpans(rendered, w), display, "katex-html");
}

/** KaTeX's HTML rendering only: the visible characters, with the superscript/subscript stacks as ^{…}/_{…}. */
function katexSpans(e: Element, w: Walk): string {
  let s = "";
  for (const k of e.children) {
    if (!count(w)) break;
    if (k.type === "text") s += k.data;
    else if (k.type === "tag") {
      const cls = k.attribs.class ?? "";
      if (/(^|\s)(strut|vlist-s|pstrut)(\s|$)/.test(cls)) continue;
      if (/(^|\s)msupsub(\s|$)/.test(cls)) {
        const parts = findAll(k, (x) => /(^|\s)sizing|mtight(\s|$)/.test(x.attribs.class ?? "") && x.name === "span", w, 4);
        const t = parts.map((p) => katexSpans(p, w)).join("");
        s += `^{${t.trim()}}`;
      } else s += katexSpans(k, w);
    }
  }
  return s.replace(/\u200b/g, "");
}

function mediawikiMath(e: Element, out: Out, w: Walk): void {
  const math = findAll(e, (x) => x.name === "math", w, 1)[0];
  const display = /mwe-math-mathml-display|mwe-math-fallback-image-display/.test(
    findAll(e, (x) => /mwe-math-(mathml|fallback-image)-/.test(x.attribs.class ?? ""), w, 1)[0]?.attribs.class ?? "");
  if (math) return emitMath(out, w, texOfMath(math, w), display, "mathml");
  const img = findAll(e, (x) => x.name === "img", w, 1)[0];
  if (img?.attribs.alt) emitMath(out, w, img.attribs.alt, display, "img");
}

const LATEX_ALT = /\\[A-Za-z]+|[\^_]\{|[\^_][A-Za-z0-9]|=/;

function image(e: Element, out: Out, w: Walk): void {
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

// ---- tables ----------------------------------------------------------------------------------------------------

/** A data table as Markdown. Layout tables (nested tables, a single column, cells holding blocks) return false
 * and are walked as ordinary containers. */
function table(e: Element, out: Out, w: Walk, depth: number): boolean {
  const rows: Element[] = [];
  const stack: Element[] = [e];
  while (stack.length) {
    const t = stack.pop()!;
    for (const k of t.children) {
      if (k.type !== "tag") continue;
      if (k.name === "tr") rows.push(k);
      else if (k.name === "thead" || k.name === "tbody" || k.name === "tfoot") stack.push(k);
    }
  }
  rows.sort((a, b) => (a.startIndex ?? 0) - (b.startIndex ?? 0));
  if (!rows.length) return false;
  const cells = rows.map((r) => r.children.filter((c): c is Element => c.type === "tag" && (c.name === "td" || c.name === "th")));
  const cols = Math.max(...cells.map((c) => c.length));
  if (cols < 2) return false;
  for (const row of cells) for (const c of row) {
    if (findAll(c, (x) => x.name === "table" || x.name === "p" || x.name === "ul" || x.name === "div", w, 1).length) return false;
  }
  const text = cells.map((row) => {
    const vals = row.map((c) => {
      const o = new Out();
      walkChildren(c.children, o, w, depth + 2, false, false);
      return o.s.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();
    });
    while (vals.length < cols) vals.push("");
    return `| ${vals.join(" | ")} |`;
  });
  if (text.every((t) => /^\|[\s|]*\|$/.test(t))) return true;
  text.splice(1, 0, `|${" --- |".repeat(cols)}`);
  out.br(2);
  out.text(text.join("\n"), false);
  out.br(2);
  return true;
}
