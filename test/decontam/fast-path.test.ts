// The scan path (TokenizedText.loadUtf8 / loadFast, Matcher.matchUtf8) must give exactly the tokens and hashes of
// the reference path (load: fold the whole text, then tokenize), because the index was built with the reference.
// Checked on every text of ../shared/data, on Unicode cases chosen to break a piecewise fold, on seeded random
// strings over a hostile alphabet, and on malformed UTF-8; plus the Unicode property the piecewise fold relies on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { vectorFromArray, Dictionary, Utf8, LargeUtf8, Int32, RecordBatch, Schema, Field, Struct, makeData } from "apache-arrow";
import { sharedData } from "../helpers.js";
import { readJsonl } from "../../lib/decontam/benchmarks.js";
import { TokenizedText } from "../../lib/decontam/hash.js";
import { foldKeeps, isConjoiningJamo } from "../../lib/decontam/normalize.js";
import { loadIndexSet } from "../../lib/decontam/index-set.js";
import { Matcher } from "../../lib/decontam/matcher.js";
import { forEachUtf8Row } from "../../lib/decontam/utf8-rows.js";
import { makeBatch, getTexts } from "../../lib/arrow/batch.js";
import { benchmarks, cleanDocs, plant, reformat, rng } from "./corpus.js";

const ref = new TokenizedText();
const scan = new TokenizedText();
const utf8 = new TextEncoder();

/** "" when the scan tokenization of `text` (as a string and as UTF-8 bytes) equals the reference, else what differs. */
function differs(text: string, bytes: Uint8Array = utf8.encode(text), from = 0, to = bytes.length): string {
  ref.load(text);
  for (const [how, t] of [["loadFast", () => scan.loadFast(text)], ["loadUtf8", () => scan.loadUtf8(bytes, from, to)]] as const) {
    t();
    if (scan.count !== ref.count) return `${how}: ${scan.count} tokens, reference ${ref.count}`;
    for (let i = 0; i < ref.count; i++) {
      if (scan.hashA[i] !== ref.hashA[i] || scan.hashB[i] !== ref.hashB[i]) return `${how}: token ${i} ("${ref.token(i)}") differs`;
    }
  }
  return "";
}

function allStrings(v: unknown, out: string[]): void {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) for (const x of v) allStrings(x, out);
  else if (v && typeof v === "object") for (const x of Object.values(v)) allStrings(x, out);
}

function gzJsonlFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? gzJsonlFiles(p) : n.endsWith(".jsonl.gz") ? [p] : [];
  });
}

test("scan tokenization equals the reference on every string of every JSONL file in ../shared/data", () => {
  const files = gzJsonlFiles(sharedData());
  assert.ok(files.length >= 25, `found only ${files.length} files`);
  let n = 0;
  let nonAscii = 0;
  for (const f of files) {
    const strings: string[] = [];
    for (const r of readJsonl(f)) allStrings(r, strings);
    for (const s of strings) {
      n++;
      if (/[^\x00-\x7f]/.test(s)) nonAscii++;
      const d = differs(s);
      assert.equal(d, "", `${f}: ${d}: ${JSON.stringify(s.slice(0, 200))}`);
    }
  }
  assert.ok(n > 100_000 && nonAscii > 3000, `${n} strings, ${nonAscii} with non-ASCII`);
});

const CASES = [
  // Final sigma: lowercasing Σ depends on the letters around it, across case-ignorable characters.
  "ΟΔΟΣ ΟΔΟΣ. ΑΣ'Α ΑΣ’Α xΣ Σx ΣΑΣ x.Σ.x", "word ΑΣ", "ΑΣ word",
  // Composition with the character before: combining marks after ASCII, <≠> overlays, Indic vowel signs, Hangul jamo.
  "cafe\u0301 naı\u0308ve a\u030a", "x <\u0338 y =\u0338 z >\u0338 w", "\u0b47\u0b3e \u0b47 \u0b3e",
  "\u1100\u1161\u11a8 \uac00\u11a8 \uac00 \u11a8 \u1100 \u1161", "ᄀ가각 ᅡᆨ",
  // Compatibility forms that NFKC rewrites, including into ASCII whitespace and backslashes.
  "ﬁnd ﬂow x² H₂O ２３ ＡＢＣ ＼ｆｒａｃ{1}{2} ＼ｌｅｆｔ( a\u00a0b c\u2003d e\u2028f …", "½ ⅓ ① ㎏ ℃ Ⅻ ﬀ",
  // Case mappings that change length or need the whole string.
  "İstanbul ǅemal ß ẞ ﬃ ŉ ΐ", "ΌΣΟΣ ὈΔΥΣΣΕΎΣ",
  // LaTeX commands in upper case on the ASCII path, next to non-ASCII, aliases and dropped ones.
  "\\Left( \\DFRAC{1}{2} \\LE 3 \\Right) \\dfrac{α}{β} \\left(α\\right) \\Quad x", "α\\le β", "\\ α", "é\\frac",
  // Astral characters, emoji, lone surrogates, BOM and other invisible characters.
  "𝑥𝑦𝑧 = 𝟏𝟐 😀 a😀b \ud835 x \udc00 y \ud800\ud800", "\ufeffstart mid\ufeffdle end\ufeff", "a\u200bb c\u00adD",
  // Pieces of non-ASCII close together (merged into one fold), at the very start and end, and no whitespace at all.
  "é".repeat(3) + " a".repeat(40) + " é", "é" + "x".repeat(500) + "é" + "y".repeat(500) + "ü", "αβγ", "x’y’z",
  "Janet’s ducks lay 16 eggs… She “sells” the rest—$2 each—for ½ price ✓", "",
];

test("Unicode cases that would break a piecewise fold give the reference tokens", () => {
  for (const s of CASES) assert.equal(differs(s), "", JSON.stringify(s));
});

test("seeded random strings over a hostile alphabet give the reference tokens", () => {
  const alphabet = [..."aZ9 \t\n.,'’\\{}$<=>", "Σ", "σ", "é", "e\u0301", "\u0301", "\u0338", "ﬁ", "²", "\u00a0", "\u3000",
    "İ", "ß", "\u1100", "\u1161", "\u11a8", "가", "\u0b47", "\u0b3e", "𝑥", "😀", "\ud800", "\udc00", "\ufeff", "＼", "ｆｒａｃ",
    "left", "LE", "dfrac", "Ω", "ω", "ǅ", "数", "\u200d", ":"];
  const r = rng(5150);
  for (let k = 0; k < 20000; k++) {
    let s = "";
    const len = 1 + Math.floor(r() * 40);
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(r() * alphabet.length)];
    assert.equal(differs(s), "", JSON.stringify(s));
  }
});

test("malformed UTF-8 tokenizes like its decoded text (U+FFFD separates), at any offset in a shared buffer", () => {
  const pieces = [[0x61, 0x62], [0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80],
    [0x20], [0xc3, 0xa9], [0x5c, 0x6c, 0x65], [0x0a], [0xf0, 0x9d, 0x91, 0xa5], [0x80], [0x41], [0x6c, 0x65, 0x66, 0x74]];
  const r = rng(77);
  const decoder = new TextDecoder();
  for (let k = 0; k < 3000; k++) {
    const bytes: number[] = [0x5c]; // a backslash before the document must not make its first word a LaTeX command
    const len = Math.floor(r() * 12);
    for (let j = 0; j < len; j++) bytes.push(...pieces[Math.floor(r() * pieces.length)]);
    bytes.push(0x5c);
    const buf = Uint8Array.from(bytes);
    const doc = buf.subarray(1, buf.length - 1);
    assert.equal(differs(decoder.decode(doc), buf, 1, buf.length - 1), "", `bytes ${Array.from(doc, (b) => b.toString(16)).join(" ")}`);
  }
});

test("foldKeeps: every character it passes is kept by NFKC and lowercasing, and no character that composes with the one before passes", () => {
  // The piecewise fold reads characters that pass as they are. That is only right if none of them is changed by
  // the fold, and none composes with what precedes it: the second character of any canonical decomposition.
  const second = new Set<number>();
  let passed = 0;
  for (let c = 0x80; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      assert.equal(foldKeeps(c), false);
      continue;
    }
    const ch = String.fromCharCode(c);
    // By code point: a few compatibility ideographs decompose to astral ones (which the fast path never passes).
    const d = [...ch.normalize("NFD")].map((x) => x.codePointAt(0)!);
    for (let j = 1; j < d.length; j++) if (d[j] < 0x10000) second.add(d[j]);
    if (foldKeeps(c)) {
      passed++;
      assert.equal(ch.normalize("NFKC"), ch, `U+${c.toString(16)}`);
      assert.equal(ch.toLowerCase(), ch, `U+${c.toString(16)}`);
    }
  }
  for (const c of second) {
    assert.equal(foldKeeps(c), false, `U+${c.toString(16)} composes with the character before it but passes`);
    assert.ok(/\p{M}/u.test(String.fromCharCode(c)) || isConjoiningJamo(c), `U+${c.toString(16)}`);
  }
  assert.ok(passed > 20000, `only ${passed} BMP characters pass`);
  for (const c of [0x2019, 0x201c, 0x2014, 0xe9, 0x3b1, 0x6570]) assert.ok(foldKeeps(c), `U+${c.toString(16)} should pass`);
  for (const c of [0xa0, 0x2026, 0xfb01, 0xb2, 0x3a3, 0xc9, 0x130, 0x301, 0x1161, 0xff3c]) assert.ok(!foldKeeps(c), `U+${c.toString(16)}`);
});

test("matchUtf8 on a packed buffer reports exactly what match reports on the strings", () => {
  const matcher = new Matcher(loadIndexSet().indexes);
  const r = rng(404);
  const clean = cleanDocs().slice(0, 300);
  const items = benchmarks().flatMap((b) => b.items.slice(0, 5));
  const docs = clean.map((d, i) => (i % 3 === 0 ? plant(d.text, reformat(items[i % items.length].texts[0], r), r) : d.text));
  const parts = docs.map((d) => utf8.encode(d));
  const packed = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  const offsets = [0];
  for (const p of parts) {
    packed.set(p, offsets[offsets.length - 1]);
    offsets.push(offsets[offsets.length - 1] + p.length);
  }
  let hits = 0;
  for (let i = 0; i < docs.length; i++) {
    const a = matcher.match(docs[i], { maxMatches: 5 });
    const b = matcher.matchUtf8(packed, offsets[i], offsets[i + 1], { maxMatches: 5 });
    assert.deepEqual(b, a, `doc ${i}`);
    if (a.length) hits++;
  }
  assert.ok(hits >= 100, `${hits} documents with hits`);
});

test("forEachUtf8Row: Utf8, LargeUtf8, dictionary and sliced columns give each row's bytes; nulls are empty", () => {
  const texts = ["Alpha é", null, "", "γάμμα ✓", "last"];
  const collect = (batch: RecordBatch, name = "text"): (string | null)[] => {
    const out: string[] = [];
    forEachUtf8Row(batch, name, (b, from, to, row) => {
      assert.equal(row, out.length);
      out.push(new TextDecoder().decode(b.subarray(from, to)));
    });
    return out;
  };
  const expect = texts.map((t) => t ?? "");
  const plain = makeBatch({ text: texts });
  assert.deepEqual(collect(plain), expect);
  assert.deepEqual(collect(plain.slice(1, 4)), expect.slice(1, 4));
  for (const type of [new LargeUtf8(), new Dictionary(new Utf8(), new Int32())]) {
    const v = vectorFromArray(texts, type);
    const schema = new Schema([new Field("text", v.type, true)]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: v.length, nullCount: 0, children: [v.data[0]] }));
    assert.deepEqual(collect(batch), expect, String(type));
    assert.deepEqual(getTexts(batch), expect, String(type));
  }
  assert.throws(() => collect(plain, "missing"), /missing column "missing"/);
  assert.throws(() => collect(makeBatch({ text: Float64Array.of(1) })), /expected a string/);
});
