// The score stage reads language ID and the math model's input straight from UTF-8 bytes (no decode/re-encode).
// These tests pin the cases where the bytes are NOT what the model must see: bytes that are not valid UTF-8 (the
// Parquet reader passes them through; a decoder replaces them), documents cut to maxChars, and preprocess "none".
// Each compares with the string path the stage used before, on the real lid.176.ftz and a real-data model.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeData, makeVector, Utf8 } from "apache-arrow";
import { makeBatch, getNumbers, getStrings, type Batch } from "../../lib/arrow/batch.js";
import { scoreStage } from "../../lib/classify/score-stage.js";
import { preprocessForFastText } from "../../lib/classify/preprocess.js";
import { defaultLidModelPath, identifyLanguage } from "../../lib/classify/langid.js";
import { FastTextModel } from "../../classifiers/fasttext/model.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { writeTrainingData } from "../../lib/classify/training-data.js";
import { labelledDocs } from "./labelled-data.js";
import { runStage } from "./stage-harness.js";
import { tmpDir } from "../helpers.js";

const dir = tmpDir();
let modelPath = "";
let math: FastTextModel;
let lid: FastTextModel;

before(async () => {
  async function* gen() {
    for (const d of labelledDocs(40)) yield makeBatch({ id: [d.id], text: [d.text], finemath_score: [d.score] });
  }
  await writeTrainingData(gen(), join(dir, "train.txt"), join(dir, "valid.txt"),
    { rule: { kind: "score", column: "finemath_score", threshold: 3 }, validFraction: 0.01 });
  const model = await trainSupervised(join(dir, "train.txt"), { dim: 16, bucket: 20000, wordNgrams: 2, minCount: 1, epoch: 5, lr: 0.5, thread: 1, seed: 1 });
  modelPath = join(dir, "math.bin");
  await model.save(modelPath);
  math = await FastTextModel.load(modelPath);
  // The stage scores through the projected rows by default (fasttext/projection.ts); the reference model does too, so
  // the byte path and the string path are compared bit for bit on the same arithmetic.
  assert.equal(math.useProjection(), true);
  lid = await FastTextModel.load(defaultLidModelPath());
});

/** A batch whose text column holds exactly these bytes per row (what the Parquet reader builds, unvalidated). */
function rawBatch(rows: Uint8Array[]): Batch {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + r.length));
  const data = new Uint8Array(offsets[rows.length]);
  rows.forEach((r, i) => data.set(r, offsets[i]));
  const text = makeVector(makeData({ type: new Utf8(), length: rows.length, nullCount: 0, valueOffsets: offsets, data }));
  return makeBatch({ id: rows.map((_, i) => `r${i}`), text });
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

test("bytes that are not valid UTF-8 are scored as the decoded text (U+FFFD), not as the raw bytes", async () => {
  const docs = labelledDocs(3).slice(0, 6).map((d) => Buffer.from(d.text));
  // Corrupt each document: a lone continuation byte, a truncated 3-byte sequence, an overlong encoding, 0xFF.
  const bad = [Buffer.from([0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xff])];
  const rows = docs.map((d, i) => {
    const cut = Math.floor(d.length / 2);
    return Buffer.concat([d.subarray(0, cut), bad[i % bad.length], Buffer.from(" Überschrift: Maß "), bad[(i + 1) % bad.length], d.subarray(cut)]);
  });
  rows.push(Buffer.from([0xff, 0xfe, 0x41, 0x42, 0x0a, 0xc3])); // almost nothing valid
  const stage = scoreStage({ modelPath, langid: true, workers: 0 });
  const { out } = await runStage(stage, [rawBatch(rows)]);
  await stage.close!();
  const langs = getStrings(out[0], "lang"), langScores = getNumbers(out[0], "lang_score"), scores = getNumbers(out[0], "math_score");
  let differs = 0;
  rows.forEach((r, i) => {
    const text = decode(r);
    const want = identifyLanguage(lid, text);
    assert.equal(langs[i], want.lang, `row ${i}`);
    assert.equal(langScores[i], want.score, `row ${i}`);
    assert.equal(scores[i], math.labelProbability(preprocessForFastText(text), "__label__MATH"), `row ${i}`);
    // The raw bytes would give another answer: the fallback is what keeps the scores unchanged.
    const raw = lid.predictBytes(r, 0, r.length, 1)[0];
    if (!raw || raw.prob !== want.score || raw.label !== `__label__${want.lang}`) differs++;
  });
  assert.ok(differs > 0, "no row where the raw invalid bytes predict differently; the test would not catch a missing fallback");
});

test("documents cut to maxChars: both models see the cut text, counted once, with or without the math model", async () => {
  const long = "Die Ableitung eines Polynoms wird gliedweise berechnet, Schritt für Schritt. ".repeat(200); // > 100 chars
  const texts = [long, "x".repeat(99), "ü".repeat(80), "short"]; // 160 bytes but 80 chars: not cut
  const maxChars = 100;
  for (const withMath of [false, true]) {
    const stage = scoreStage({ modelPath: withMath ? modelPath : undefined, langid: true, workers: 0, maxChars });
    const { out, stats } = await runStage(stage, [makeBatch({ id: texts.map((_, i) => `t${i}`), text: texts })]);
    await stage.close!();
    assert.equal(stats.counters.truncated, 1, `withMath ${withMath}`);
    const langScores = getNumbers(out[0], "lang_score");
    texts.forEach((t, i) => assert.equal(langScores[i], identifyLanguage(lid, t.slice(0, maxChars)).score, `row ${i}`));
    if (withMath) {
      const scores = getNumbers(out[0], "math_score");
      texts.forEach((t, i) => assert.equal(scores[i], math.labelProbability(preprocessForFastText(t.slice(0, maxChars)), "__label__MATH")));
    }
  }
});

test("preprocess none: the raw bytes score like the text with newlines as spaces", async () => {
  const texts = [...labelledDocs(2).map((d) => d.text), "a\r\nb\rc\nd", "\n\n", "", "tab\there\u000bvt"];
  const stage = scoreStage({ modelPath, preprocess: "none", workers: 0 });
  const { out } = await runStage(stage, [makeBatch({ id: texts.map((_, i) => `t${i}`), text: texts })]);
  await stage.close!();
  const scores = getNumbers(out[0], "math_score");
  texts.forEach((t, i) => assert.equal(scores[i], math.labelProbability(t.replace(/[\r\n]/g, " "), "__label__MATH"), `row ${i}`));
});

test("predictBytes / labelProbabilityBytes equal the string calls at any offset; a bad range is refused", () => {
  const texts = labelledDocs(2).map((d) => d.text).concat(["", "  ", "naïve café 数学 😀"]);
  const buf = Buffer.from("PREFIX" + texts.join("\u0000") + "SUFFIX");
  let at = Buffer.byteLength("PREFIX");
  const label = math.labelIndex("__label__MATH");
  for (const t of texts) {
    const end = at + Buffer.byteLength(t);
    assert.deepEqual(lid.predictBytes(buf, at, end, 3), lid.predict(t, 3));
    assert.equal(math.labelProbabilityBytes(buf, at, end, label), math.labelProbability(t, "__label__MATH"));
    at = end + 1;
  }
  assert.throws(() => lid.predictBytes(buf, 5, buf.length + 1), RangeError);
  assert.throws(() => lid.predictBytes(buf, 6, 5), RangeError);
  assert.throws(() => math.labelProbabilityBytes(buf, 0, 4, 7), RangeError);
  assert.throws(() => lid.predictBytes(buf, 0, 4, 0), RangeError);
});
