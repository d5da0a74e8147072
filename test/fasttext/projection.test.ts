// The projected prediction path (classifiers/fasttext/projection.ts; the score stage's default): input rows
// pre-projected onto the output layer. Not bit-identical by design, so these tests pin what it promises instead:
// every probability within 1e-5 of the exact float32 path for softmax and hierarchical softmax, the same top label
// wherever the exact margin is wider than that, the projection really used (some probability differs in its last
// bits), shared with instances made from the handle, documents of more than PROJECTED_MAX_IDS ids summed exactly,
// and refused where it would not pay (lid.176.ftz: 176 labels at dim 16) or not hold (one-vs-all's sigmoid table).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FastTextModel } from "../../classifiers/fasttext/model.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { buildProjection, projectedDots, PROJECTED_MAX_IDS } from "../../classifiers/fasttext/projection.js";
import { IntBuffer } from "../../classifiers/fasttext/int-buffer.js";
import { defaultLidModelPath } from "../../lib/classify/langid.js";
import { tmpDir } from "../helpers.js";
import { labelledDocs, writeSplit, type LabelledDoc } from "./corpus.js";

const dir = tmpDir("ft-projection-");
let split: { train: string; test: string; testDocs: LabelledDoc[] };
let lines: string[];

before(() => {
  // Cut to 600 characters and every 3rd document (math and web alternate in the list): the point is the arithmetic, not the model's quality.
  split = writeSplit(dir, labelledDocs().filter((_, i) => i % 3 === 0).map((d) => ({ ...d, text: d.text.slice(0, 600).trim() })));
  lines = split.testDocs.map((d) => d.text).slice(0, 300);
});

/** The model and a second instance of it (own handle object, same weights) that scores through the projection. */
async function exactAndProjected(loss: "softmax" | "hs", dim: number): Promise<[FastTextModel, FastTextModel]> {
  const m = await trainSupervised(split.train, { dim, bucket: 20000, wordNgrams: 2, minCount: 1, epoch: 2, lr: 0.5, loss, thread: 1, seed: 1 });
  const p = FastTextModel.fromShared({ ...m.shareable() });
  assert.equal(p.projected, false);
  assert.equal(p.useProjection(), true);
  assert.equal(p.projected, true);
  assert.equal(m.projected, false, "the exact model is left as it was");
  return [m, p];
}

/** Some probability must change in its last bits: the projection is used. */
function assertClose(m: FastTextModel, p: FastTextModel): void {
  let maxDiff = 0, differ = 0;
  for (const line of lines) {
    const e = m.predict(line, -1), q = p.predict(line, -1);
    assert.equal(q.length, e.length);
    const byLabel = new Map(q.map((x) => [x.label, x.prob]));
    for (const x of e) {
      const d = Math.abs(byLabel.get(x.label)! - x.prob);
      maxDiff = Math.max(maxDiff, d);
      if (d > 0) differ++;
      assert.equal(p.labelProbability(line, x.label), byLabel.get(x.label));
    }
    if (e.length > 1 && e[0]!.prob - e[1]!.prob > 1e-5) assert.equal(q[0]!.label, e[0]!.label);
    const top = p.predict(line, 1);
    assert.equal(top[0]!.label, q[0]!.label);
  }
  assert.ok(maxDiff < 1e-5, `max |diff| ${maxDiff}`);
  assert.ok(differ > 0, "no probability differs at all: the projection was not used");
}

test("softmax: probabilities within 1e-5 of the exact path, same decisions", async () => {
  const [m, p] = await exactAndProjected("softmax", 32);
  assertClose(m, p);
  // Instances made from the handle after useProjection share the table (as the score stage's workers do).
  const w = FastTextModel.fromShared(p.shareable());
  assert.equal(w.projected, true);
  for (const line of lines.slice(0, 20)) assert.deepEqual(w.predict(line, -1), p.predict(line, -1));
});

test("hierarchical softmax: the tree walk reads the projected dots", async () => {
  const [m, p] = await exactAndProjected("hs", 16);
  assertClose(m, p);
});

test("one-vs-all is refused: its 512-entry sigmoid table is a step function of the dot", async () => {
  const m = await trainSupervised(split.train, { dim: 16, bucket: 20000, wordNgrams: 2, minCount: 1, epoch: 2, lr: 0.5, loss: "ova", thread: 1, seed: 1 });
  assert.equal(m.useProjection(), false);
  assert.equal(m.projected, false);
});

test("a document of more than PROJECTED_MAX_IDS ids is summed exactly: fastText's bits", async () => {
  const [m, p] = await exactAndProjected("softmax", 32);
  // Lines of the test documents repeated until the text has just over PROJECTED_MAX_IDS ids, and one just under.
  const ids = (text: string) => {
    const b = new TextEncoder().encode(text), w = new IntBuffer();
    m.dictionary.getLine(b, 0, b.length, true, w, null);
    return w.length;
  };
  let long = "";
  for (let i = 0; ids(long) <= PROJECTED_MAX_IDS; i++) long += lines[i % lines.length] + " ";
  let short = long;
  while (ids(short) > PROJECTED_MAX_IDS) short = short.slice(0, short.lastIndexOf(" ", short.length - 2));
  assert.ok(ids(short) > PROJECTED_MAX_IDS - 100, `short: ${ids(short)} ids`);
  for (const label of m.labels) assert.equal(p.labelProbability(long, label), m.labelProbability(long, label), label);
  assert.deepEqual(p.predict(long, -1), m.predict(long, -1));
  // Just under the limit the projection is used (the last bits differ for some label).
  assert.ok(m.labels.some((l) => p.labelProbability(short, l) !== m.labelProbability(short, l)), "projection not used below the limit");
});

test("the table holds output row . input row, also for a dimension that is not a multiple of 4", () => {
  const dim = 18, rows = 5;
  const input = { kind: "dense" as const, rows, cols: dim, data: Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i) / 7) };
  const output = { kind: "dense" as const, rows: 2, cols: dim, data: Float32Array.from({ length: 2 * dim }, (_, i) => Math.cos(i * 3)) };
  const P = buildProjection(input, output);
  for (let i = 0; i < rows; i++) {
    for (let r = 0; r < 2; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += input.data[i * dim + j]! * output.data[r * dim + j]!;
      assert.ok(Math.abs(P[i * 2 + r]! - s) < 1e-6 * Math.max(1, Math.abs(s)), `P[${i}][${r}]`);
    }
  }
  const dots = new Float32Array(2);
  projectedDots(P, 2, Int32Array.from([0, 3, 3]), 3, dots);
  assert.equal(dots[0], Math.fround((P[0]! + P[6]! + P[6]!) / 3));
  assert.equal(dots[1], Math.fround((P[1]! + P[7]! + P[7]!) / 3));
});

test("refused where it would not pay: lid.176.ftz (176 labels, dim 16) keeps the exact path", async () => {
  const lid = await FastTextModel.load(defaultLidModelPath());
  const before = lid.predict("this is an english sentence about numbers", 3);
  assert.equal(lid.useProjection(), false);
  assert.equal(lid.projected, false);
  assert.deepEqual(lid.predict("this is an english sentence about numbers", 3), before);
});
