import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeBatch } from "../../lib/arrow/batch.js";
import { writeTrainingData, readLabelledLines, truncateText, splitKey } from "../../lib/classify/training-data.js";
import { preprocessForFastText } from "../../lib/classify/preprocess.js";
import { tmpDir } from "../helpers.js";

function batches(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `doc-${i}`);
  const texts = ids.map((id, i) => (i % 2 ? `Prove that ${i}^2 >= 0 for $x_{${i}}$ real.` : `Recipe ${i}: mix the FLOUR and-bake`));
  const score = ids.map((_, i) => (i === 7 ? null : i % 2 ? 4 : 1));
  texts[9] = "∑∑∑ ∫∫"; // nothing survives preprocessing
  return [makeBatch({ id: ids.slice(0, n / 2), text: texts.slice(0, n / 2), finemath_score: score.slice(0, n / 2) }),
    makeBatch({ id: ids.slice(n / 2), text: texts.slice(n / 2), finemath_score: score.slice(n / 2) })];
}
async function* gen<T>(xs: T[]) { yield* xs; }

test("training data: labels by score threshold, deterministic split and shuffle, counts add up", async () => {
  const dir = tmpDir();
  const run = async (seed: number, tag: string) => {
    const r = await writeTrainingData(gen(batches(400)), join(dir, `${tag}.train.txt`), join(dir, `${tag}.valid.txt`), {
      rule: { kind: "score", column: "finemath_score", threshold: 3 }, seed, validFraction: 0.2, buckets: 8,
    });
    return { r, train: readFileSync(join(dir, `${tag}.train.txt`), "utf8"), valid: readFileSync(join(dir, `${tag}.valid.txt`), "utf8") };
  };
  const a = await run(1, "a"), b = await run(1, "b"), c = await run(2, "c");
  assert.equal(a.train, b.train);
  assert.equal(a.valid, b.valid);
  assert.notEqual(a.train, c.train);
  assert.deepEqual(a.r.skipped, { "finemath_score:missing": 1, empty_after_preprocessing: 1 });
  assert.equal(a.r.train.docs + a.r.valid.docs + 2, 400);
  assert.ok(a.r.valid.docs > 40 && a.r.valid.docs < 120, `valid ${a.r.valid.docs}`);
  const lines = a.train.trim().split("\n");
  assert.equal(lines.length, a.r.train.docs);
  assert.equal(lines.filter((l) => l.startsWith("__label__MATH ")).length, a.r.train.positives);
  // shuffled: not all positives first, not input order
  const firstLabels = lines.slice(0, 20).map((l) => l.split(" ")[0]);
  assert.ok(new Set(firstLabels).size === 2);
  // every line is label + the exact MegaMath preprocessing of its document
  assert.ok(lines.includes(`__label__MATH ${preprocessForFastText("Prove that 1^2 >= 0 for $x_{1}$ real.")}`) ||
    a.valid.includes(`__label__MATH ${preprocessForFastText("Prove that 1^2 >= 0 for $x_{1}$ real.")}`));
  const back = [];
  for await (const x of readLabelledLines(join(dir, "a.valid.txt"))) back.push(x);
  assert.equal(back.length, a.r.valid.docs);
  assert.ok(back.every((x) => x.label === "__label__MATH" || x.label === "__label__NON_MATH"));
  // the split depends on id and seed only
  assert.deepEqual(splitKey(1, "doc-3"), splitKey(1, "doc-3"));
});

test("training data: label column with listed positive values", async () => {
  const dir = tmpDir();
  const batch = makeBatch({ id: ["a", "b", "c"], text: ["one two", "three four", "five"], label: ["math", "web", null] });
  const r = await writeTrainingData(gen([batch]), join(dir, "t.txt"), join(dir, "v.txt"), {
    rule: { kind: "label", column: "label", positive: ["math"] }, validFraction: 0, positiveLabel: "__label__pos", negativeLabel: "__label__neg",
  });
  assert.deepEqual(r.train, { docs: 2, positives: 1, negatives: 1 });
  assert.deepEqual(readFileSync(join(dir, "t.txt"), "utf8").split("\n").sort(), ["", "__label__neg three four", "__label__pos one two"]);
  assert.equal(readFileSync(join(dir, "v.txt"), "utf8"), "");
});

test("truncateText never splits a surrogate pair", () => {
  assert.equal(truncateText("ab😀cd", 3), "ab");
  assert.equal(truncateText("ab😀cd", 4), "ab😀");
  assert.equal(truncateText("abc", 10), "abc");
});

test("training data: numeric label column without a list is positive when > 0; string column needs a list", async () => {
  const dir = tmpDir();
  const batch = makeBatch({ id: ["a", "b", "c"], text: ["one two", "three four", "five"], is_math: [1, 0, NaN] });
  const r = await writeTrainingData(gen([batch]), join(dir, "t.txt"), join(dir, "v.txt"), {
    rule: { kind: "label", column: "is_math" }, validFraction: 0,
  });
  assert.deepEqual(r.train, { docs: 2, positives: 1, negatives: 1 });
  assert.deepEqual(r.skipped, { "is_math:missing": 1 });
  const strings = makeBatch({ id: ["a"], text: ["x"], label: ["math"] });
  await assert.rejects(writeTrainingData(gen([strings]), join(dir, "t2.txt"), join(dir, "v2.txt"), {
    rule: { kind: "label", column: "label" },
  }), /holds strings.*--positive/);
});

test("training data: the shuffle is one global order whatever the bucket count (1 bucket included)", async () => {
  const dir = tmpDir();
  const files = [];
  for (const buckets of [1, 2, 8]) {
    await writeTrainingData(gen(batches(200)), join(dir, `${buckets}.train.txt`), join(dir, `${buckets}.valid.txt`), {
      rule: { kind: "score", column: "finemath_score", threshold: 3 }, seed: 3, validFraction: 0.1, buckets,
    });
    files.push(readFileSync(join(dir, `${buckets}.train.txt`), "utf8"));
  }
  assert.ok(files[0].split("\n").length > 150);
  assert.equal(files[0], files[1]);
  assert.equal(files[0], files[2]);
  await assert.rejects(writeTrainingData(gen(batches(20)), join(dir, "0.train.txt"), join(dir, "0.valid.txt"), {
    rule: { kind: "score", column: "finemath_score", threshold: 3 }, buckets: 0,
  }), /buckets must be an integer >= 1/);
});
