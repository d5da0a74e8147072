// The score stage against the real components: a fastText model trained (by our engine, one thread, fixed seed) on
// real labelled documents, the real lid.176.ftz, real worker threads. Scores must equal the native tool's
// `fasttext predict-prob` on the MegaMath preprocessing of each document (those tests need the fastText CLI; the
// others run anywhere). score-golden.test.ts scores a model trained by the native tool.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBatch, batchRows, getNumbers, getStrings, type Batch } from "../../lib/arrow/batch.js";
import { scoreStage } from "../../lib/classify/score-stage.js";
import { preprocessForFastText } from "../../lib/classify/preprocess.js";
import { writeTrainingData } from "../../lib/classify/training-data.js";
import { FastTextModel } from "../../classifiers/fasttext/model.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { labelledDocs } from "./labelled-data.js";
import { runStage } from "./stage-harness.js";
import { tmpDir } from "../helpers.js";
import { needs } from "../oracles.js";

const dir = tmpDir();
const modelPath = join(dir, "math.bin");
const docs = labelledDocs(60);
// Interleave math and web so every batch has both; several batches so worker results must be put back in order.
const mixed = docs.map((d, i) => docs[(i * 7) % docs.length]);
const batches: Batch[] = [];
for (let i = 0; i < mixed.length; i += 50) {
  const part = mixed.slice(i, i + 50);
  batches.push(makeBatch({ id: part.map((d) => d.id), text: part.map((d) => d.text), label: part.map((d) => d.label) }));
}

async function* gen<T>(xs: T[]) { yield* xs; }

before(async () => {
  const train = labelledDocs(120).map((d) => makeBatch({ id: [d.id], text: [d.text], finemath_score: [d.score] }));
  await writeTrainingData(gen(train), join(dir, "train.txt"), join(dir, "valid.txt"),
    { rule: { kind: "score", column: "finemath_score", threshold: 3 }, validFraction: 0.01 });
  const model = await trainSupervised(join(dir, "train.txt"),
    { dim: 16, bucket: 50000, wordNgrams: 2, minCount: 2, epoch: 10, lr: 0.5, thread: 1, seed: 3 });
  await model.save(modelPath);
});

/** What the native tool says P(__label__MATH) is, for each text (MegaMath-preprocessed here). */
function nativeScores(texts: string[]): number[] {
  const f = join(dir, `native-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(f, texts.map((t) => preprocessForFastText(t)).join("\n") + "\n");
  const out = execFileSync("fasttext", ["predict-prob", modelPath, f, "-1"]).toString().trimEnd().split("\n");
  return out.map((line) => {
    const parts = line.split(" ");
    const k = parts.indexOf("__label__MATH");
    return k < 0 ? 0 : Number(parts[k + 1]);
  });
}

test("score: math_score equals the native tool, order kept across 2 worker threads and batches", { skip: needs("fasttext") }, async () => {
  const stage = scoreStage({ modelPath, workers: 2 });
  const { out, stats } = await runStage(stage, batches);
  await stage.close!();
  const rows = out.flatMap(batchRows);
  assert.deepEqual(rows.map((r) => r.id), mixed.map((d) => d.id));
  assert.deepEqual(rows.map((r) => r.label), mixed.map((d) => d.label)); // other columns pass through
  const native = nativeScores(mixed.map((d) => d.text));
  rows.forEach((r, i) => assert.ok(Math.abs((r.math_score as number) - native[i]) < 2e-5, `row ${i}: ${r.math_score} vs ${native[i]}`));
  assert.equal(stats.check(), null);
  // the classifier separates the classes on these documents
  const mean = (l: string) => { const s = rows.filter((r) => r.label === l).map((r) => r.math_score as number); return s.reduce((a, b) => a + b, 0) / s.length; };
  assert.ok(mean("math") > 0.7 && mean("web") < 0.3, `math ${mean("math")} web ${mean("web")}`);
});

test("score: in-thread (workers 0) and 1 worker give identical columns", async () => {
  const results: Float64Array[] = [];
  for (const workers of [0, 1]) {
    const stage = scoreStage({ modelPath, workers });
    const { out } = await runStage(stage, batches.slice(0, 2));
    await stage.close!();
    results.push(Float64Array.from(out.flatMap((b) => Array.from(getNumbers(b, "math_score")))));
  }
  assert.deepEqual(results[0], results[1]);
});

test("score --langid: lang and lang_score from lid.176.ftz; --english-only drops by MegaMath's rule", async () => {
  const texts = [
    "The derivative of a polynomial is computed term by term, and the result is again a polynomial.",
    "La dérivée d'un polynôme se calcule terme à terme, et le résultat est encore un polynôme.",
    "多项式的导数可以逐项计算，结果仍然是一个多项式。",
    "Die Ableitung eines Polynoms wird\ngliedweise berechnet.",
    "",
  ];
  const batch = makeBatch({ id: texts.map((_, i) => `t${i}`), text: texts });
  const stage = scoreStage({ langid: true, workers: 0 });
  const { out } = await runStage(stage, [batch]);
  await stage.close!();
  const langs = getStrings(out[0], "lang");
  assert.deepEqual(langs.slice(0, 4), ["en", "fr", "zh", "de"]);
  const ls = getNumbers(out[0], "lang_score");
  assert.ok(ls[0] > 0.65 && ls.every((x) => x >= 0 && x <= 1 + 1e-4));
  assert.equal(out[0].getChild("math_score"), null); // no math model, no math column

  const en = scoreStage({ englishOnly: true, workers: 0 });
  const r = await runStage(en, [batch]);
  await en.close!();
  assert.deepEqual(r.out.flatMap(batchRows).map((x) => x.id), ["t0"]);
  assert.equal((r.stats.removed["lang!=en"] ?? 0) + (r.stats.removed["lang_score<0.65"] ?? 0), 4);
  assert.equal(r.stats.check(), null);
});

test("score: empty documents get the empty-line score; long documents are cut to maxChars", async () => {
  const model = await FastTextModel.load(modelPath);
  const long = "Let x be a real number and consider the integral of x squared. ".repeat(800_000); // ~50 MB
  const batch = makeBatch({ id: ["empty", "long", "short"], text: ["", long, "The cat sat."] });
  const stage = scoreStage({ modelPath, workers: 0, maxChars: 100_000 });
  const { out, stats } = await runStage(stage, [batch]);
  await stage.close!();
  const s = getNumbers(out[0], "math_score");
  assert.equal(s[0], model.labelProbability("", "__label__MATH"));
  assert.ok(Number.isFinite(s[0]));
  assert.equal(s[1], model.labelProbability(preprocessForFastText(long.slice(0, 100_000)), "__label__MATH"));
  assert.equal(stats.counters.truncated, 1);
});

test("score: missing model, corrupt model and absent label fail clearly", async () => {
  const bad = join(dir, "corrupt.bin");
  writeFileSync(bad, Buffer.from("this is not a fastText model at all, just some bytes"));
  for (const [path, re] of [[join(dir, "nope.bin"), /nope\.bin/], [bad, /corrupt\.bin/]] as const) {
    const stage = scoreStage({ modelPath: path, workers: 0 });
    await assert.rejects(runStage(stage, batches.slice(0, 1)), re);
    await stage.close!();
  }
  const stage = scoreStage({ modelPath, label: "__label__POSITIVE", workers: 0 });
  await assert.rejects(runStage(stage, batches.slice(0, 1)), /no label "__label__POSITIVE" \(its labels: __label__(MATH|NON_MATH), __label__(MATH|NON_MATH)\)/);
  await stage.close!();
  assert.throws(() => scoreStage({}), /--model.*--langid/);
});

test("score --langid: lang/lang_score equal the native tool on lid.176.ftz", { skip: needs("fasttext") }, async () => {
  const { defaultLidModelPath, langidText } = await import("../../lib/classify/langid.js");
  const texts = mixed.slice(0, 120).map((d) => d.text);
  const f = join(dir, "lid-input.txt");
  writeFileSync(f, texts.map(langidText).join("\n") + "\n");
  const native = execFileSync("fasttext", ["predict-prob", defaultLidModelPath(), f, "1"]).toString().trimEnd().split("\n")
    .map((l) => { const [label, p] = l.split(" "); return { lang: label.replace("__label__", ""), p: Number(p) }; });
  const stage = scoreStage({ langid: true, workers: 2 });
  const { out } = await runStage(stage, [makeBatch({ id: texts.map((_, i) => String(i)), text: texts })]);
  await stage.close!();
  const rows = out.flatMap(batchRows);
  rows.forEach((r, i) => {
    assert.equal(r.lang, native[i].lang, `row ${i}`);
    assert.ok(Math.abs((r.lang_score as number) - native[i].p) < 2e-5, `row ${i}: ${r.lang_score} vs ${native[i].p}`);
  });
});
