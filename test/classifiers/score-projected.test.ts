// The score stage's default path: the math model scores through its input rows projected onto the output layer,
// in the worker threads too (the table travels in the shared model handle). Scores stay within 1e-5 of
// `--exact-rows` (ScoreStageOptions.exactRows, fastText's float32 row sums) and differ from them in the last bits
// (proof the default path is the projected one); a model where it would not pay (many labels for its dimension)
// or not hold (one-vs-all's sigmoid table) is scored exactly. score-golden.test.ts pins --exact-rows to the bits
// recorded before the projection existed.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { makeBatch, getNumbers } from "../../lib/arrow/batch.js";
import { scoreStage } from "../../lib/classify/score-stage.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { writeTrainingData } from "../../lib/classify/training-data.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import type { StageContext } from "../../lib/runtime/stage.js";
import { labelledDocs } from "./labelled-data.js";
import { runStage } from "./stage-harness.js";
import { tmpDir } from "../helpers.js";

const dir = tmpDir();
let modelPath = "";
const docs = labelledDocs(30);
const batch = makeBatch({ id: docs.map((d) => d.id), text: docs.map((d) => d.text) });

before(async () => {
  async function* gen() {
    for (const d of docs) yield makeBatch({ id: [d.id], text: [d.text], finemath_score: [d.score] });
  }
  await writeTrainingData(gen(), join(dir, "train.txt"), join(dir, "valid.txt"),
    { rule: { kind: "score", column: "finemath_score", threshold: 3 }, validFraction: 0.01 });
  const model = await trainSupervised(join(dir, "train.txt"), { dim: 32, bucket: 20000, wordNgrams: 2, minCount: 1, epoch: 5, lr: 0.5, thread: 1, seed: 1 });
  modelPath = join(dir, "math.bin");
  await model.save(modelPath);
});

async function scores(exactRows: boolean | undefined, workers: number, path = modelPath): Promise<Float64Array> {
  const stage = scoreStage({ modelPath: path, label: "__label__MATH", exactRows, workers });
  try {
    const { out } = await runStage(stage, [batch], { workers });
    return Float64Array.from(getNumbers(out[0]!, "math_score"));
  } finally {
    await stage.close!();
  }
}

test("the default path is projected, in a worker thread too: within 1e-5 of --exact-rows, not bit-identical", async () => {
  const exact = await scores(true, 0);
  const projected = await scores(undefined, 1);
  assert.equal(projected.length, exact.length);
  let maxDiff = 0, differ = 0;
  for (let i = 0; i < exact.length; i++) {
    const d = Math.abs(projected[i]! - exact[i]!);
    maxDiff = Math.max(maxDiff, d);
    if (d > 0) differ++;
    assert.equal(projected[i]! >= 0.4, exact[i]! >= 0.4, `decision at 0.4 of doc ${i}`);
  }
  assert.ok(maxDiff < 1e-5, `max |diff| ${maxDiff}`);
  assert.ok(differ > 0, "every score is bit-identical to --exact-rows: the default path is not the projected one");
  // In the calling thread the same table gives the same numbers as in the worker; exactRows: false is the default.
  assert.deepEqual(await scores(false, 0), projected);
  // --exact-rows in a worker thread: the same bits as in the calling thread.
  assert.deepEqual(await scores(true, 1), exact);
});

test("a model with many labels for its dimension is scored exactly", async () => {
  // 12 labels at dim 32: the table would be 12 floats per row against 32, so it is refused (projectionWorthIt).
  const lines = docs.map((d, i) => `__label__L${i % 12} ${d.text.replace(/\s+/g, " ")}`);
  writeFileSync(join(dir, "many.txt"), lines.join("\n") + "\n");
  const many = await trainSupervised(join(dir, "many.txt"), { dim: 32, bucket: 5000, wordNgrams: 1, minCount: 1, epoch: 1, thread: 1, seed: 1 });
  const path = join(dir, "many.bin");
  await many.save(path);
  const log = memoryLogger();
  const ctx: StageContext = { stats: new StageStats("score"), file: "t", shard: { index: 0, count: 1 }, seed: 0, onError: "fail",
    workers: 0, log, outDir: dir };
  const stage = scoreStage({ modelPath: path, label: "__label__L0", workers: 0 });
  const out: number[] = [];
  for await (const b of stage.run((async function* () { yield batch; })(), ctx)) out.push(...getNumbers(b, "math_score"));
  await stage.close!();
  assert.ok(log.lines.some((l) => /do not pay or hold/.test(l.msg)), JSON.stringify(log.lines));
  const exact = scoreStage({ modelPath: path, label: "__label__L0", exactRows: true, workers: 0 });
  const { out: ex } = await runStage(exact, [batch], { workers: 0 });
  assert.deepEqual(out, [...getNumbers(ex[0]!, "math_score")]);
});
