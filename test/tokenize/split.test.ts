// The hand-written Llama-3 pre-split must end every piece exactly where the compiled regex does (real documents and
// generated strings over the characters where the pattern's alternatives meet), and the piece cache must return
// what was stored through growth, multi-id entries and its bounded-size reset.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { sharedData } from "../helpers.js";
import { compileSplitPattern, LLAMA3_PATTERN } from "../../lib/tokenizer/pattern.js";
import { Llama3Splitter } from "../../lib/tokenizer/llama3-split.js";
import { PieceCache } from "../../lib/tokenizer/piece-cache.js";

function sameSplit(sp: Llama3Splitter, re: RegExp, s: string): string | null {
  re.lastIndex = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const e = sp.pieceEnd(s, pos, s.length);
    if (m.index !== pos || e !== pos + m[0].length) return `at ${pos}: regex ${JSON.stringify(m[0])}, scanner ${JSON.stringify(s.slice(pos, e))}`;
    pos = e;
  }
  return pos === s.length ? null : `scanner stopped at ${pos} of ${s.length}`;
}

test("the Llama-3 scanner splits real documents exactly like the regex", () => {
  const re = compileSplitPattern(LLAMA3_PATTERN);
  const sp = new Llama3Splitter();
  let docs = 0;
  for (const f of ["math-qa/se_math_33votes.jsonl.gz", "web-nonmath/dolma_cc_en_head-0091.jsonl.gz", "web-nonmath/c4_demo.jsonl.gz"]) {
    for (const line of gunzipSync(readFileSync(sharedData(f))).toString("utf8").split("\n")) {
      if (!line) continue;
      const why = sameSplit(sp, re, line); // the raw JSON line: escapes, quotes, CJK, math
      assert.equal(why, null, `${f}: ${why}`);
      docs++;
    }
  }
  assert.ok(docs > 1000);
});

test("the Llama-3 scanner splits generated strings exactly like the regex (contractions, White_Space, astral, lone surrogates)", () => {
  const re = compileSplitPattern(LLAMA3_PATTERN);
  const sp = new Llama3Splitter();
  const parts = ["a", "Z", "é", "ſ", "ş", "'", "s", "t", "re", "LL", "vE", "D", "m", " ", "  ", "\t", "\n", "\r", "\u000b", "\u0085",
    "\u00a0", "\u2028", "\u3000", "\u200a", "\ufeff", "1", "23", "٣", "½", "Ⅻ", "😀", "𝑥", "𝟙", "\ud800", "\udc00", ".", "-", "$", "中", "'S"];
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 48271) >>> 0) % 2147483647) / 2147483647;
  for (let i = 0; i < 60_000; i++) {
    let s = "";
    for (let k = 1 + Math.floor(rnd() * 10); k > 0; k--) s += parts[Math.floor(rnd() * parts.length)];
    const why = sameSplit(sp, re, s);
    assert.equal(why, null, `${JSON.stringify(s)}: ${why}`);
  }
});

test("the piece cache keeps single and multi-id pieces through growth and resets at its bound", () => {
  const c = new PieceCache(50_000);
  const text = Array.from({ length: 40_000 }, (_, i) => `w${i.toString(36)}`).join(" ");
  const spans: [number, number][] = [];
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf(" ", at);
    spans.push([at, end < 0 ? text.length : end]);
    at = end < 0 ? text.length : end + 1;
  }
  spans.forEach(([a, b], i) => {
    const ids = i % 3 === 0 ? Uint32Array.of(i, i + 1, i + 2) : Uint32Array.of(i);
    c.set(text, a, b, PieceCache.hash(text, a, b), ids);
  });
  spans.forEach(([a, b], i) => {
    const got = c.get(text, a, b, PieceCache.hash(text, a, b));
    if (i % 3 === 0) {
      assert.equal(got, -1);
      assert.deepEqual(Array.from(c.multi.subarray(c.multiAt, c.multiAt + c.multiLen)), [i, i + 1, i + 2]);
    } else assert.equal(got, i);
  });
  assert.equal(c.get("zzz", 0, 3, PieceCache.hash("zzz", 0, 3)), -2);
  // past the bound it starts over: old pieces are gone, new ones are found
  for (let i = 0; i < 10_001; i++) c.set(`x${i}`, 0, `x${i}`.length, PieceCache.hash(`x${i}`, 0, `x${i}`.length), Uint32Array.of(7));
  assert.ok(c.size <= 50_000);
  const [a, b] = spans[1]!;
  assert.equal(c.get(text, a, b, PieceCache.hash(text, a, b)), -2);
  assert.equal(c.get("x10000", 0, 6, PieceCache.hash("x10000", 0, 6)), 7);
});
