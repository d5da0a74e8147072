// datatrove's simplify_text semantics, signature basics, and the record file format's damage detection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync, readFileSync } from "node:fs";
import { tmpDir } from "../helpers.js";
import { normalizeForDedup, normalizedWords, MinHasher, defaultDedupParams, lshProbability, lshThreshold,
  readRecordFile, CorruptFileError } from "../../lib/dedup/index.js";
import { writeRecordFile } from "../../lib/dedup/recordfile.js";
import { prenormalize, prenormalizeReference } from "../../lib/dedup/normalize.js";
import { sortByKey64 } from "../../lib/dedup/radix.js";

test("normalization: lowercase, digit runs to 0, punctuation to space, whitespace collapse, no diacritics", () => {
  assert.equal(normalizeForDedup("Hello, World!"), "hello world");
  assert.equal(normalizeForDedup("Pay $1,234.50 on 2024-05-06"), "pay 0 0 on 0 0 0"); // one separator per run
  assert.equal(normalizeForDedup("Crème   brûlée\tnaïve\n\nCAFÉ"), "creme brulee naive cafe");
  assert.equal(normalizeForDedup("x^2 + y_1 = «z»…"), "x 0 y 0 z");
  assert.equal(normalizeForDedup("it's a “quote” — 「ok」"), "it s a quote ok");
  assert.equal(normalizeForDedup("٣٤ and ３４"), "0 and 0"); // Unicode digits (Nd) too
  assert.equal(normalizeForDedup("\u0000\u0007ctrl\u009fchars"), "ctrl chars");
  assert.deepEqual(normalizedWords("  "), []);
});

test("signatures: < ngram words => none; identical normalized text => identical signature", () => {
  const h = new MinHasher(defaultDedupParams);
  const sig = new Uint32Array(h.numHashes);
  assert.equal(h.signature("only four words here", sig), false);
  assert.equal(h.signature("now there are five words", sig), true);
  const a = new Uint32Array(h.numHashes);
  const b = new Uint32Array(h.numHashes);
  h.signature("The Cat sat on the mat, and then it slept.", a);
  h.signature("the cat   sat on the mat and then it SLEPT", b);
  assert.deepEqual(a, b);
  h.signature("the cat sat on a mat and then it slept", b);
  assert.notDeepEqual(a, b);
  // Word order matters: a shingle is an ordered n-gram.
  assert.deepEqual(new Set(h.shingleHashes("a b c d e")).size, 1);
  assert.notEqual(h.shingleHashes("a b c d e")[0], h.shingleHashes("e d c b a")[0]);
});

test("LSH curve helpers match MegaMath's 11 x 10 numbers", () => {
  assert.ok(Math.abs(lshThreshold(11, 10) - 0.787) < 0.001);
  assert.ok(Math.abs(lshProbability(0.8, 14, 8) - 0.924) < 0.001); // datatrove's own comment
});

test("radix sort is a stable sort by 64-bit key", () => {
  const n = 5000;
  const hi = new Uint32Array(n), lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) { hi[i] = (i * 2654435761) % 7; lo[i] = (i * 40503) % 13; }
  const order = sortByKey64(hi, lo, n);
  for (let k = 1; k < n; k++) {
    const a = order[k - 1], b = order[k];
    const cmp = hi[a] - hi[b] || lo[a] - lo[b] || a - b;
    assert.ok(cmp < 0, `order broken at ${k}`);
  }
});

test("record files: round trip; a flipped byte, a truncation or a wrong kind is a CorruptFileError naming the file", async () => {
  const dir = tmpDir("dedup-rec-");
  const p = join(dir, "x.bin");
  const data = Uint32Array.from({ length: 4000 }, (_, i) => i * 7);
  await writeRecordFile(p, { kind: "pairs", width: 4 }, data);
  assert.deepEqual((await readRecordFile(p, "pairs")).data, data);
  await assert.rejects(readRecordFile(p, "dups"), (e: Error) => e instanceof CorruptFileError && /x\.bin: holds "pairs"/.test(e.message));
  const bytes = readFileSync(p);
  bytes[200] ^= 4;
  writeFileSync(p, bytes);
  await assert.rejects(readRecordFile(p), /x\.bin: checksum mismatch/);
  writeFileSync(p, bytes.subarray(0, bytes.length - 16));
  await assert.rejects(readRecordFile(p), /x\.bin: truncated/);
});

test("one-pass prenormalize equals the two-regex reference (digits, marks, sigma, astral, lone surrogates)", () => {
  const pool = [..."aAzZ09 .,;-_!?'\t\n\u00a0\u3000ÀÉçñßẞİıΣσςΑά\u0301\u0308\u0345\u0334\u093f\u0903٠١٩\u066b\u066c०१０１\uff11\uff0e한가\u037e\u212b" +
    "𝟎𝟗𝟘𝑥𝐀😀𐐀\u{1D165}\u{1D15E}\u{1109A}\u{11127}“”—…「」。，", "\ud800", "\udc00"];
  let seed = 1;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  for (let t = 0; t < 20000; t++) {
    let s = "";
    for (let i = rnd(20); i > 0; i--) s += pool[rnd(pool.length)];
    assert.equal(prenormalize(s), prenormalizeReference(s), JSON.stringify(s));
  }
});

test("WebAssembly SIMD and JS min-reductions give identical signatures (any permutation count)", () => {
  const words = "the of cat mat ab é 𝟏 x0 sat proof lemma".split(" ");
  let seed = 3;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  for (const [bands, rows, ngram] of [[11, 10, 5], [3, 7, 1], [1, 1, 2], [5, 4, 3]]) {
    const p = { ...defaultDedupParams, bands, rows, ngram };
    const simd = new MinHasher(p), js = new MinHasher(p, false);
    for (let t = 0; t < 200; t++) {
      // One text of 100k words makes the WebAssembly memory grow (its views are replaced).
      const text = Array.from({ length: t === 7 ? 100_000 : rnd(3000) }, () => words[rnd(words.length)]).join(" ");
      const a = new Uint32Array(simd.numHashes), b = new Uint32Array(js.numHashes);
      assert.equal(simd.signature(text, a), js.signature(text, b));
      assert.deepEqual(a, b);
    }
  }
});
