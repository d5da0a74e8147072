// The normalization rules of lib/decontam/normalize.ts, one by one, and the two MegaMath bugs it must not have.
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeTokens, TokenizedText, forEachNgram } from "../../lib/decontam/hash.js";
import { NORMALIZATION_ID } from "../../lib/decontam/normalize.js";

const tok = (s: string) => normalizeTokens(s).join(" ");

test("case, whitespace and punctuation do not matter; tokens are letter runs and digit runs", () => {
  assert.equal(tok("Janet’s  ducks\tlay 16 eggs\nper day."), "janet s ducks lay 16 eggs per day");
  assert.equal(tok("JANET'S DUCKS LAY 16 EGGS PER DAY"), "janet s ducks lay 16 eggs per day");
  assert.equal(tok("x2+y_3=17b"), "x 2 y 3 17 b");
});

test("LaTeX spacing, delimiters, layout commands and synonyms do not matter", () => {
  const forms = [
    "$\\frac{1}{2}\\left(x+y\\right) \\le 3$",
    "\\( \\dfrac {1} {2} (x + y) \\leq 3 \\)",
    "$$\\tfrac{1}{2}\\,\\Big( x\\;+\\;y \\Big)~\\le~3$$",
    "$\\displaystyle \\frac{1}{2}\\bigl(x+y\\bigr)\\quad\\leq 3$",
  ];
  for (const f of forms) assert.equal(tok(f), "frac 1 2 x y leq 3", f);
  assert.equal(tok("$5 \\text{ cm}$ and $5\\mathrm{~cm}$"), "5 cm and 5 cm");
});

test("NFKC folds compatibility forms: superscripts, full-width digits, ligatures", () => {
  assert.equal(tok("x² + ２３ ﬁnd"), "x 2 23 find");
  assert.equal(tok("x^2 + 23 find"), "x 2 23 find");
});

test("numbers stay distinct (no digits→0): two different numeric rows never share a 13-gram", () => {
  assert.equal(tok("3.14 1,000 007"), "3 14 1 000 007");
  const hashes = (s: string) => {
    const out: string[] = [];
    forEachNgram(new TokenizedText().load(s), 13, (h, l) => void out.push(`${h}:${l}`));
    return out;
  };
  const a = hashes(Array.from({ length: 13 }, (_, i) => String(i + 1)).join(" "));
  const b = hashes(Array.from({ length: 13 }, (_, i) => String(i + 2)).join(" "));
  assert.equal(a.length, 1);
  assert.notEqual(a[0], b[0]);
});

test("no token is empty, so no n-gram normalizes to empty; symbol-only text has no tokens at all", () => {
  for (const s of ["$$ {} \\, ~ - + = ( ) [ ] !!! ", "— … ·", ""]) assert.deepEqual(normalizeTokens(s), [], s);
  const t = new TokenizedText().load("a -- b ,, c ;; " + "word ".repeat(20));
  for (let i = 0; i < t.count; i++) assert.ok(t.end[i] > t.start[i]);
});

test("the normalization is a pure function: same text, same tokens, regardless of what was processed before", () => {
  const t = new TokenizedText();
  const first = t.load("Compute $\\frac{9}{s} + t = 4$ in hours.").tokenText(0, t.count);
  t.load("ＦＵＬＬ width ﬁ \\dfrac{1}{2} x² " + "é".repeat(50));
  assert.equal(t.load("Compute $\\frac{9}{s} + t = 4$ in hours.").tokenText(0, t.count), first);
  assert.equal(NORMALIZATION_ID, "mm-decont-norm-v1");
});

test("non-Latin scripts and astral characters tokenize without errors", () => {
  assert.deepEqual(normalizeTokens("Ελληνικά 数学 𝑥 = 5 😀"), ["ελληνικά", "数学", "x", "5"]);
});
