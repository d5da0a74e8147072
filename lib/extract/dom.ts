// A lean HTML tree from htmlparser2's tokenizer callbacks: elements and text only (comments, doctypes and CDATA
// are dropped), no sibling links, no positions. Building domhandler's full tree took ~55% of the extract time on
// real Common Crawl pages (bench/extract.ts: 440 vs 850 pages per CPU-s for the parse alone); the walk in
// html-text.ts needs nothing more than this. The tree is the one domhandler builds, less the dropped node kinds:
// same elements, and one text node per run of text (a comment or CDATA section between two runs splits them, as
// in domhandler). The build is bounded: it stops at a deadline (checked between 128 KiB chunks) and a node count,
// and says which bound cut it.
import { Parser } from "htmlparser2";

export interface El {
  type: "tag" | "script" | "style";
  name: string;
  attribs: Record<string, string>;
  children: Node[];
  parent: El | null;
}
export interface TextNode {
  type: "text";
  data: string;
}
export type Node = El | TextNode;

export interface ParseBounds {
  /** performance.now() after which no more input is parsed. */
  deadline: number;
  /** Stop creating nodes past this many. */
  maxNodes: number;
}

export interface ParsedHtml {
  root: El;
  truncated?: "time" | "nodes";
}

const CHUNK = 128 * 1024;

export function parseHtml(html: string, b: ParseBounds = { deadline: Infinity, maxNodes: Infinity }): ParsedHtml {
  const root: El = { type: "tag", name: "#root", attribs: {}, children: [], parent: null };
  let cur = root;
  let last: TextNode | null = null;
  let inCdata = false;
  let nodes = 0;
  let truncated: ParsedHtml["truncated"];
  const parser = new Parser({
    onopentag(name, attribs) {
      if (++nodes > b.maxNodes) return stop("nodes");
      const e: El = { type: name === "script" ? "script" : name === "style" ? "style" : "tag", name, attribs, children: [], parent: cur };
      cur.children.push(e);
      cur = e;
      last = null;
    },
    onclosetag() {
      if (truncated) return;
      if (cur.parent) cur = cur.parent;
      last = null;
    },
    ontext(data) {
      if (inCdata || truncated) return;
      if (last) last.data += data;
      else {
        if (++nodes > b.maxNodes) return stop("nodes");
        last = { type: "text", data };
        cur.children.push(last);
      }
    },
    oncomment() {
      last = null;
    },
    oncdatastart() {
      inCdata = true;
    },
    oncdataend() {
      inCdata = false;
      last = null;
    },
    onprocessinginstruction() {
      last = null;
    },
  }, { decodeEntities: true });
  function stop(why: "time" | "nodes"): void {
    if (!truncated) parser.pause();
    truncated = why;
  }
  if (html.length <= CHUNK) parser.end(html);
  else {
    for (let i = 0; i < html.length && !truncated; i += CHUNK) {
      if (i > 0 && performance.now() > b.deadline) stop("time");
      else parser.write(html.slice(i, i + CHUNK));
    }
    if (!truncated) parser.end();
  }
  return { root, truncated };
}

// ---- bounded traversal ----------------------------------------------------------------------------------------

/** Elements whose content is never page text (also skipped by flatText). */
export const SKIP = new Set(["script", "style", "noscript", "template", "head", "iframe", "object", "embed", "canvas", "svg",
  "select", "button", "input", "textarea", "option", "form", "map", "audio", "video", "source", "track", "link", "meta"]);

/** What a walk may still spend; `truncated` says which bound it hit. */
export interface Budget {
  deadline: number;
  nodesLeft: number;
  truncated?: "time" | "nodes";
}

/** Spend one node; false (and `truncated` set) once the node or time budget is gone. */
export function count(w: Budget): boolean {
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

/** Up to `limit` elements under `e` matching `pred`, not looking inside a match. Spends the walk's node budget. */
export function findAll(e: El, pred: (x: El) => boolean, w: Budget, limit = 64): El[] {
  const found: El[] = [];
  const stack: Node[] = [...e.children];
  while (stack.length && found.length < limit) {
    const n = stack.pop()!;
    if (--w.nodesLeft < 0) break;
    if (n.type !== "tag" && n.type !== "script") continue;
    if (pred(n)) found.push(n);
    else for (const c of n.children) stack.push(c); // (no spread: a body of 300k children overflows the arguments)
  }
  return found;
}

/** Depth-first text of a subtree without recursion (used past the walk's depth bound, for titles, code, TeX). */
export function flatText(e: El, w: Budget): string {
  const stack: Node[] = [...e.children].reverse();
  let s = "";
  while (stack.length) {
    const n = stack.pop()!;
    if (!count(w)) break;
    if (n.type === "text") s += n.data;
    else if (n.type === "tag" && !SKIP.has(n.name)) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return s;
}
