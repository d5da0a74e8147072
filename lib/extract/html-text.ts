// HTML → plain text that keeps the mathematics (recipe §1.3, and past it): every way the web writes a formula
// becomes LaTeX between $…$ (inline) or $$…$$ (display); tables become Markdown; code blocks keep their
// whitespace; navigation, footers, menus, sidebars and scripts are dropped; paragraphs stay paragraphs.
// Parsed with htmlparser2 (fastest of those measured, bench/extract.ts). The walk is bounded in depth (deeper
// content is read as flat text), in nodes and in time, so no page can stall a worker.
import { parseHtml, findAll, flatText, count, SKIP, type El, type Node } from "./dom.js";
import { emitMath, texOfMath, mathJax2, mathJax3, katex, mediawikiMath, image, type MathWalk } from "./html-math.js";
import { Out, emitText } from "./text-out.js";

export interface HtmlTextOptions {
  /** Stop parsing, and then walking, after this many milliseconds each (the text so far is kept; `truncated` says
   * why). Default 2000. */
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
  /** Why the parse or the walk stopped early ("time", "nodes"), or "depth" when elements nested past
   * MAX_PARSE_DEPTH were cut (dom.ts); undefined when neither happened. */
  truncated?: "time" | "nodes" | "depth";
}

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

interface Walk extends MathWalk {
  boiler: boolean;
  title: string;
}

const MAX_DEPTH = 400;

export function htmlToText(html: string, o: HtmlTextOptions = {}): HtmlTextResult {
  const maxMs = o.maxMs ?? 2000;
  const maxNodes = o.maxNodes ?? 2_000_000;
  // The parse and the walk each get maxMs; a parse cut short leaves a partial tree that the walk still reads.
  const doc = parseHtml(html, { deadline: performance.now() + maxMs, maxNodes });
  const w: Walk = {
    deadline: performance.now() + maxMs, nodesLeft: maxNodes, math: {},
    boiler: o.removeBoilerplate ?? true, budget: { nodes: 0 }, title: "",
  };
  let out = new Out();
  // A page that marks its article (one <article>, itemprop=articleBody, one <main>) is read from there: related
  // links, comments and author boxes after it are the commonest boilerplate the word lists below miss. When that
  // container holds little text (a teaser), the whole page is read instead.
  const main = w.boiler ? mainContainer(doc.root, w) : null;
  if (main) w.title = titleOf(doc.root.children, w);
  w.nodesLeft = maxNodes; // the search above is not part of the walk's budget
  if (main) {
    walkChildren(main.children, out, w, 1, false, false);
    if (out.s.length < 500 && !w.truncated) {
      out = new Out();
      w.nodesLeft = maxNodes;
      w.math = {};
      walkChildren(doc.root.children, out, w, 0, false, false);
    }
  } else walkChildren(doc.root.children, out, w, 0, false, false);
  const text = out.s.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
  return { text, title: w.title, math: w.math, truncated: w.truncated ?? doc.truncated };
}

/** The <title> in the document's head (html > head > title), without walking the body. */
function titleOf(kids: Node[], w: Walk): string {
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

/** The one element marked itemprop=articleBody, else the one <article>, else the one <main> (role=main), counting
 * only the outermost of each kind; null when none is unique. One pass over the tree for the three kinds. */
function mainContainer(root: El, w: Walk): El | null {
  const first: (El | null)[] = [null, null, null];
  const seen = [0, 0, 0];
  const stack: Node[] = [...root.children];
  const inside: number[] = stack.map(() => 0); // kinds (bits) already matched by an ancestor
  while (stack.length) {
    const n = stack.pop()!;
    let bits = inside.pop()!;
    if (--w.nodesLeft < 0) break;
    if (n.type !== "tag" && n.type !== "script") continue;
    const a = n.attribs;
    const kinds = (a.itemprop !== undefined && /(^|\s)articleBody(\s|$)/.test(a.itemprop) ? 1 : 0) |
      (n.name === "article" ? 2 : 0) | (n.name === "main" || a.role === "main" ? 4 : 0);
    for (let k = 0; k < 3; k++) {
      if (!(kinds & (1 << k)) || bits & (1 << k)) continue;
      if (seen[k]++ === 0) first[k] = n;
    }
    bits |= kinds;
    if (bits === 7) continue;
    for (const c of n.children) {
      stack.push(c);
      inside.push(bits);
    }
  }
  for (let k = 0; k < 3; k++) if (seen[k] === 1) return first[k];
  return null;
}

function walkChildren(kids: Node[], out: Out, w: Walk, depth: number, pre: boolean, inLink: boolean): void {
  for (const k of kids) {
    if (w.truncated) return;
    walk(k, out, w, depth, pre, inLink);
  }
}

function walk(n: Node, out: Out, w: Walk, depth: number, pre: boolean, inLink: boolean): void {
  if (!count(w)) return;
  if (n.type === "text") return emitText(n.data, out, pre, inLink);
  if (n.type !== "tag" && n.type !== "script" && n.type !== "style") return;
  const e = n as El;
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
  // (The substring test skips the four patterns for the many classes that cannot match any of them.)
  if (cls && (cls.includes("katex") || cls.includes("math") || cls.includes("MathJax") || cls.includes("ref"))) {
    if (/(^|\s)katex(\s|$)/.test(cls)) return katex(e, out, w, /katex-display/.test((e.parent as El | null)?.attribs?.class ?? ""));
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

function isBoilerplate(e: El, name: string, cls: string | undefined): boolean {
  if (BOILER.has(name)) return true;
  const role = e.attribs.role;
  if (role && BOILER_ROLE.test(role)) return true;
  if (e.attribs.hidden !== undefined || e.attribs["aria-hidden"] === "true") return true;
  const style = e.attribs.style;
  if (style && /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style)) return true;
  const id = e.attribs.id;
  if (!cls && !id) return false;
  const words = `${cls ?? ""} ${id ?? ""}`;
  let v = wordVerdicts.get(words);
  if (v === undefined) {
    v = !KEEP_WORD.test(words) && words.toLowerCase().split(/[\s_-]+/).some((word) => BOILER_WORD.has(word));
    if (wordVerdicts.size >= 4096) wordVerdicts.clear();
    wordVerdicts.set(words, v);
  }
  return v;
}

// class+id strings repeat on a page and across a site's pages: their verdicts are kept (a pure function, bounded).
const wordVerdicts = new Map<string, boolean>();

function flat(e: El, out: Out, w: Walk, inLink: boolean): void {
  emitText(flatText(e, w), out, false, inLink);
}

function preBlock(e: El, out: Out, w: Walk): void {
  const t = flatText(e, w).replace(/^\n+|\s+$/g, "");
  if (!t) return;
  out.br(2);
  out.text(t, false);
  out.br(2);
}

// ---- tables ----------------------------------------------------------------------------------------------------

/** A data table as Markdown. Layout tables (nested tables, a single column, cells holding blocks) return false
 * and are walked as ordinary containers. */
function table(e: El, out: Out, w: Walk, depth: number): boolean {
  // Rows in document order: the table's own <tr>s and those of its thead/tbody/tfoot sections.
  const rows: El[] = [];
  for (const k of e.children) {
    if (k.type !== "tag") continue;
    if (k.name === "tr") rows.push(k);
    else if (k.name === "thead" || k.name === "tbody" || k.name === "tfoot") {
      for (const r of k.children) if (r.type === "tag" && r.name === "tr") rows.push(r);
    }
  }
  if (!rows.length) return false;
  const cells = rows.map((r) => r.children.filter((c): c is El => c.type === "tag" && (c.name === "td" || c.name === "th")));
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
