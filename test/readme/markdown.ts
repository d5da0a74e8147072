// Finding the commands in README.md: fenced code blocks, the shell commands in a bash block (quotes, comments,
// `&&`, line continuations), and inline `megamath ...` code spans in the prose.

export interface Block {
  lang: string;
  body: string;
  /** 1-based line of the block's first body line */
  line: number;
}

export interface Command {
  /** the command as written, whitespace collapsed */
  text: string;
  /** its words after shell quoting */
  words: string[];
  line: number;
  /** from a fenced block (run as shown) or an inline code span in the prose (may just name a command) */
  inline: boolean;
}

export function fencedBlocks(md: string): Block[] {
  const blocks: Block[] = [];
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    blocks.push({ lang: open[1], body: lines.slice(start, j).join("\n"), line: start + 1 });
    i = j;
  }
  return blocks;
}

/** Shell words of one command line: '…' and "…" quoting, backslash escapes, a `#` comment at a word start. */
export function shellWords(s: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unclosed ${c} in: ${s}`);
      cur = (cur ?? "") + s.slice(i + 1, end);
      i = end;
    } else if (c === "\\" && i + 1 < s.length) {
      cur = (cur ?? "") + s[++i];
    } else if (/\s/.test(c)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else if (c === "#" && cur === null) {
      break;
    } else {
      cur = (cur ?? "") + c;
    }
  }
  if (cur !== null) words.push(cur);
  return words;
}

/** The commands of a bash block: continuation lines joined, comments dropped, `a && b` split into two. */
export function commandsOf(body: string): Command[] {
  const out: Command[] = [];
  const lines = body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = i;
    let text = lines[i];
    while (text.endsWith("\\") && i + 1 < lines.length) text = text.slice(0, -1) + " " + lines[++i];
    const words = shellWords(text);
    let part: string[] = [];
    for (const w of [...words, "&&"]) {
      if (w !== "&&") {
        part.push(w);
        continue;
      }
      if (part.length) out.push({ text: part.map(quoteIfNeeded).join(" "), words: part, line, inline: false });
      part = [];
    }
  }
  return out;
}

function quoteIfNeeded(w: string): string {
  return /^[\w@%+=:,./*{}-]+$/.test(w) ? w : `'${w}'`;
}

/** Inline code spans in the prose (outside fenced blocks) that are megamath commands: `megamath …`, `npx megamath …`. */
export function inlineCommands(md: string): Command[] {
  const lines = md.split("\n");
  let inFence = false;
  const prose = lines.map((l) => {
    if (/^```/.test(l)) {
      inFence = !inFence;
      return "";
    }
    return inFence ? "" : l;
  }).join("\n");
  const out: Command[] = [];
  for (const m of prose.matchAll(/`([^`]+)`/g)) {
    const text = m[1].replace(/\s+/g, " ").trim();
    if (!/^(npx )?megamath /.test(text)) continue;
    const line = prose.slice(0, m.index).split("\n").length;
    out.push({ text, words: shellWords(text), line, inline: true });
  }
  return out;
}
