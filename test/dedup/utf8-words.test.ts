// Stage 1 hashes words straight from UTF-8 bytes (lib/dedup/utf8-words.ts). It must give exactly the word hashes
// and signatures of the string path (lowerNfd -> normalizeInto -> split), for every BMP code point, around digit
// runs and decimal separators, with marks, final sigma, astral characters, byte-order marks and broken UTF-8, and
// on real documents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { hashWordsUtf8 } from "../../lib/dedup/utf8-words.js";
import { fmix32 } from "../../lib/dedup/fmix.js";
import { MinHasher, defaultDedupParams, normalizedWords, documentReader } from "../../lib/dedup/index.js";
import { expandInputs } from "../../lib/io/index.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { mulberry32 } from "../../lib/random.js";
import { repoRoot, sharedJsonl } from "../helpers.js";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8");

/** The word hashes of the string path, computed independently: normalized words, FNV-1a over UTF-16 units. */
function referenceWords(text: string): number[] {
  return normalizedWords(text).map((w) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
    return fmix32(h);
  });
}

/** hashWordsUtf8 of the UTF-8 bytes (null when it hands the document to the string path). */
function utf8Words(bytes: Uint8Array): number[] | null {
  const words = new Int32Array(bytes.length + 1);
  const n = hashWordsUtf8(bytes, 0, bytes.length, words);
  return n < 0 ? null : Array.from(words.subarray(0, n), (x) => x >>> 0);
}

const hasher = new MinHasher(defaultDedupParams);
const s1 = new Uint32Array(hasher.numHashes);
const s2 = new Uint32Array(hasher.numHashes);

/** signatureUtf8 on the bytes equals signature on the text TextDecoder makes of them. */
function sameSignature(bytes: Uint8Array, what: string): void {
  s1.fill(0);
  s2.fill(0);
  const a = hasher.signature(dec.decode(bytes), s1);
  const b = hasher.signatureUtf8(bytes, 0, bytes.length, s2);
  assert.equal(b, a, `${what}: signed?`);
  assert.deepEqual(s2, s1, `${what}: signature`);
}

/** Documents the fast path must hand over: final-sigma context, input marks, astral code points (also those a
 * few CJK compatibility ideographs decompose to). */
const ASTRAL_SIGMA_OR_MARK = /[\u03a3\p{M}\u{10000}-\u{10ffff}]/u;
const NEEDS_STRINGS = { test: (t: string) => ASTRAL_SIGMA_OR_MARK.test(t) || /[\u{10000}-\u{10ffff}]/u.test(t.normalize("NFD")) };

function check(text: string, what: string): void {
  const bytes = enc.encode(text);
  const got = utf8Words(bytes);
  if (got === null) {
    assert.ok(NEEDS_STRINGS.test(text), `${what}: fell back to strings without a reason: ${JSON.stringify(text)}`);
  } else {
    // Stage 1 has the bytes; the string path sees them through TextDecoder (which drops a leading BOM).
    assert.deepEqual(got, referenceWords(dec.decode(bytes)), `${what}: word hashes differ for ${JSON.stringify(text)}`);
  }
}

test("every BMP code point, alone and around digit runs and separators, hashes like the string path", () => {
  const contexts = [(c: string) => `x${c}y ${c}`, (c: string) => `1${c}2 3.${c}4 ${c}5,6`, (c: string) => `A${c}B 7${c}. ${c}٣`];
  let handled = 0;
  for (let block = 0; block < 0x10000; block += 64) {
    const cs: string[] = [];
    for (let c = block; c < block + 64; c++) if (c < 0xd800 || c > 0xdfff) cs.push(String.fromCharCode(c));
    for (const ctx of contexts) {
      // One code point per short text, so a fallback caused by one character does not hide the others.
      for (const c of cs) {
        const text = ctx(c);
        check(text, `U+${c.charCodeAt(0).toString(16)}`);
        if (!NEEDS_STRINGS.test(text)) handled++;
      }
    }
  }
  assert.ok(handled > 150_000, `only ${handled} texts took the byte path`);
});

test("random texts of tricky pieces: word hashes and signatures equal the string path", () => {
  const pieces = [
    "a", "Z", "word", "WORD", " ", "  ", "\t", "\n", "\u00a0", "\u3000", ".", ",", "!", "-", "'", "\u2014", "\u201c",
    "0", "1", "42", "3.14", "1,000", "٣", "٤", "٫", "٬", "３", "\uff11", "\u0966", "À", "É", "ß", "İ", "ı", "ΐ", "ǅ",
    "Σ", "σ", "ς", "\u0301", "\u0308", "e\u0301", "한국", "\u1100", "日本", "\ufeff", "😀", "𝟎", "\u{1d7d9}", "Ω", "K",
    "\u0000", "\u0085", "\u200b", "ﬁ", "Å", "½", "²", "x",
  ];
  const r = mulberry32(7);
  let fast = 0;
  for (let t = 0; t < 20_000; t++) {
    const n = 1 + Math.floor(r() * 24);
    let text = "";
    for (let i = 0; i < n; i++) text += pieces[Math.floor(r() * pieces.length)];
    check(text, `random text ${t}`);
    sameSignature(enc.encode(`${text} one two three four five ${text}`), `random text ${t}`);
    if (utf8Words(enc.encode(text)) !== null) fast++;
  }
  assert.ok(fast > 5_000, `only ${fast} random texts took the byte path`);
});

test("byte-order marks and malformed UTF-8 give what TextDecoder's text gives", () => {
  const words = enc.encode("one two three four five six");
  const cases: [string, number[]][] = [
    ["leading BOM", [0xef, 0xbb, 0xbf, ...words]],
    ["BOM in the middle", [...words.slice(0, 4), 0xef, 0xbb, 0xbf, ...words.slice(4)]],
    ["two BOMs", [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, ...words]],
    ["lone continuation byte", [...words.slice(0, 4), 0x80, ...words.slice(4)]],
    ["truncated 2-byte sequence at the end", [...words, 0xc3]],
    ["truncated 3-byte sequence", [...words.slice(0, 8), 0xe2, 0x82, ...words.slice(8)]],
    ["overlong encoding", [...words.slice(0, 4), 0xc0, 0xaf, ...words.slice(4)]],
    ["overlong 3-byte", [...words.slice(0, 4), 0xe0, 0x80, 0xaf, ...words.slice(4)]],
    ["encoded surrogate", [...words.slice(0, 4), 0xed, 0xa0, 0x80, ...words.slice(4)]],
    ["4-byte sequence", [...words.slice(0, 4), 0xf0, 0x9f, 0x98, 0x80, ...words.slice(4)]],
    ["invalid lead byte", [...words.slice(0, 4), 0xff, ...words.slice(4)]],
  ];
  for (const [what, bytes] of cases) sameSignature(Uint8Array.from(bytes), what);
  // Inside a larger buffer (an Arrow column): only [start, end) is read.
  const buf = Uint8Array.from([0x41, 0x31, ...enc.encode(" Alpha beta 2.5 gamma delta epsilon "), 0x2e, 0x39]);
  const h = new MinHasher(defaultDedupParams);
  const a = new Uint32Array(h.numHashes), b = new Uint32Array(h.numHashes);
  assert.equal(h.signatureUtf8(buf, 2, buf.length - 2, a), true);
  h.signature(dec.decode(buf.subarray(2, buf.length - 2)), b);
  assert.deepEqual(a, b);
});

test("real documents (demo corpus, Stack Exchange, C4, Wikipedia): same signatures from bytes as from strings", async () => {
  const texts: string[] = [];
  const files = await expandInputs([join(repoRoot, "fixtures", "demo", "megamath-web-*.parquet")]);
  const batches = [];
  for (const f of files) for await (const b of documentReader({}, "fail")(f, new StageStats("read"))) batches.push(b);
  let fast = 0, docs = 0;
  for (const b of batches) {
    const d = b.getChild("text")!.data[0];
    const offs = d.valueOffsets as Int32Array;
    const bytes = d.values as Uint8Array;
    for (let i = 0; i < d.length; i++, docs++) {
      sameSignature(bytes.subarray(offs[i], offs[i + 1]), `demo row ${i}`);
      if (utf8Words(bytes.subarray(offs[i], offs[i + 1])) !== null) fast++;
    }
  }
  for (const r of sharedJsonl("math-qa", "se_math_33votes.jsonl.gz").slice(0, 300)) texts.push(`${r.input}\n\n${r.output}`);
  for (const r of sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").slice(0, 300)) texts.push(String(r.text));
  for (const t of texts) sameSignature(enc.encode(t), t.slice(0, 40));
  assert.ok(docs > 3000);
  // The byte path is the point: nearly every real document must take it.
  assert.ok(fast / docs > 0.95, `only ${fast} of ${docs} demo documents took the byte path`);
});
