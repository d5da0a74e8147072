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
  /** "time"/"nodes": the parse stopped there; "depth": elements nested past MAX_PARSE_DEPTH were cut (the input
   * after the cut was parsed on, its nodes attached to the root). */
  truncated?: "time" | "nodes" | "depth";
}

const CHUNK = 128 * 1024;
// htmlparser2 keeps its open elements with unshift(), so each level costs the depth so far: 100k nested <div>s
// took 12 s. Past this depth the parser is dropped and the rest of the input parsed by a fresh one from the root.
export const MAX_PARSE_DEPTH = 1000;
// The attributes the walk and the MathML conversion read; the others (href, data-*, event handlers, …) are not
// stored, which saves a third of the tree's allocations on real pages.
const KEEP_ATTRS = new Set(["alt", "alttext", "class", "close", "display", "encoding", "hidden", "id", "itemprop",
  "linethickness", "mathvariant", "notation", "open", "role", "separators", "src", "style", "type", "aria-hidden",
  "data-latex", "data-tex", "displaystyle", "fence", "data-mjx-texclass"]);

export function parseHtml(html: string, b: ParseBounds = { deadline: Infinity, maxNodes: Infinity }): ParsedHtml {
  const root: El = { type: "tag", name: "#root", attribs: {}, children: [], parent: null };
  let cur = root;
  let depth = 0;
  let last: TextNode | null = null;
  let inCdata = false;
  let nodes = 0;
  let truncated: ParsedHtml["truncated"];
  let stopped = false; // time or nodes: nothing more is read
  let cut = -1; // where a parser dropped for depth stopped
  const parser = (): Parser => {
    const p: Parser = new Parser({
      // An element is made when its name is read; its attributes follow (onattribute), the first of a name wins.
      onopentagname(name) {
        if (stopped || cut >= 0) return;
        if (++nodes > b.maxNodes) return stop("nodes");
        if (depth >= MAX_PARSE_DEPTH) {
          cut = html.indexOf("<", from + p.startIndex);
          truncated = "depth";
          return p.pause();
        }
        const e: El = { type: name === "script" ? "script" : name === "style" ? "style" : "tag", name, attribs: {}, children: [], parent: cur };
        cur.children.push(e);
        cur = e;
        depth++;
        last = null;
      },
      onattribute(name, value) {
        if (cut < 0 && !stopped && KEEP_ATTRS.has(name) && !Object.hasOwn(cur.attribs, name)) cur.attribs[name] = value;
      },
      onclosetag() {
        if (stopped || cut >= 0) return;
        if (cur.parent) {
          cur = cur.parent;
          depth--;
        }
        last = null;
      },
      ontext(data) {
        if (inCdata || stopped || cut >= 0) return;
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
    const stop = (why: "time" | "nodes"): void => {
      if (!stopped) p.pause();
      stopped = true;
      truncated = why;
    };
    return p;
  };
  let from = 0;
  while (from < html.length && !stopped) {
    const p = parser();
    cut = -1;
    if (from === 0 && html.length <= CHUNK) p.end(html);
    else {
      for (let i = from; i < html.length && !stopped && cut < 0; i += CHUNK) {
        if (i > from && performance.now() > b.deadline) {
          stopped = true;
          truncated = "time";
        } else p.write(html.slice(i, i + CHUNK));
      }
      if (!stopped && cut < 0) p.end();
    }
    if (cut < 0) break;
    from = Math.max(cut, from + 1);
    cur = root;
    depth = 0;
    last = null;
    if (performance.now() > b.deadline) {
      stopped = true;
      truncated = "time";
    }
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
