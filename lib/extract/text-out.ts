// The text being written by the HTML walk: paragraph and line breaks owed until text follows (so empty elements
// leave no blank lines), one space between inline runs, list bullets and heading marks written only before text,
// and the share of characters inside links (link farms are dropped by that share).
export class Out {
  s = "";
  /** The last character of s, kept apart: endsWith() on a string built by += flattens it, which made long pages
   * quadratic (2 s for Wikipedia's list of countries). */
  last = "";
  pending = 0; // newlines owed before the next text: 1 (line) or 2 (paragraph)
  space = false;
  linkChars = 0;
  chars = 0;
  /** A list bullet or heading mark, written only if text follows (empty list items leave nothing). */
  marker = "";
  text(t: string, inLink: boolean): void {
    if (!t) return;
    if (this.pending && this.s) {
      this.s += this.pending >= 2 ? "\n\n" : "\n";
      this.last = "\n";
    }
    if (this.marker) {
      if (this.pending || !this.s || this.last === "\n") this.s += this.marker;
      this.marker = "";
    }
    else if (this.space && this.s && this.last !== " " && this.last !== "\n") this.s += " ";
    this.pending = 0;
    this.space = false;
    this.s += t;
    this.last = t[t.length - 1];
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

/** Text of a text node, whitespace collapsed (verbatim inside <pre>); edge whitespace becomes an owed space. */
export function emitText(data: string, out: Out, pre: boolean, inLink: boolean): void {
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
