// Bad model files and bad training input fail with clear errors that name the file; training is reproducible
// with one thread and a seed.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FastTextModel } from "../../classifiers/fasttext/model.js";
import { FastTextModelError } from "../../classifiers/fasttext/errors.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { tmpDir } from "../helpers.js";
import { labelledDocs } from "./corpus.js";

const dir = tmpDir("ft-errors-");
let trainFile: string;
let good: Buffer;
let goodPath: string;

before(async () => {
  const docs = labelledDocs().slice(0, 600);
  trainFile = join(dir, "train.txt");
  writeFileSync(trainFile, docs.map((d) => `${d.label} ${d.text.slice(0, 600)}`).join("\n") + "\n");
  const m = await trainSupervised(trainFile, { dim: 8, bucket: 1000, wordNgrams: 2, epoch: 2, thread: 1, seed: 3 });
  goodPath = join(dir, "good.bin");
  await m.save(goodPath);
  good = readFileSync(goodPath);
});

async function loadError(bytes: Uint8Array, name: string): Promise<FastTextModelError> {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  const err = await FastTextModel.load(p).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof FastTextModelError, `expected FastTextModelError for ${name}, got ${String(err)}`);
  assert.ok(err.message.includes(p), `message names the file: ${err.message}`);
  return err;
}

test("missing file", async () => {
  await assert.rejects(FastTextModel.load(join(dir, "nope.bin")), (e: Error) => e instanceof FastTextModelError && /cannot open/.test(e.message));
});

test("not a fastText file (bad magic), empty file", async () => {
  assert.match((await loadError(Buffer.from("hello world, this is not a model at all"), "text.bin")).message, /magic/);
  assert.match((await loadError(new Uint8Array(0), "empty.bin")).message, /too short/);
});

test("unsupported version", async () => {
  const b = Buffer.from(good);
  b.writeInt32LE(99, 4);
  assert.match((await loadError(b, "v99.bin")).message, /version 99/);
});

test("truncated anywhere: header, dictionary, matrices", async () => {
  for (const cut of [10, 40, 70, 200, Math.floor(good.length / 2), good.length - 1]) {
    const e = await loadError(good.subarray(0, cut), `cut-${cut}.bin`);
    assert.match(e.message, /truncated|cannot fit|too short/, `cut at ${cut}: ${e.message}`);
  }
});

test("corrupt header fields and trailing garbage", async () => {
  const badLoss = Buffer.from(good);
  badLoss.writeInt32LE(42, 8 + 6 * 4); // args.loss
  assert.match((await loadError(badLoss, "loss.bin")).message, /unknown loss code 42/);
  const badDim = Buffer.from(good);
  badDim.writeInt32LE(9, 8); // args.dim no longer matches the matrices
  assert.match((await loadError(badDim, "dim.bin")).message, /columns|truncated|bytes/);
  const hugeDict = Buffer.from(good);
  hugeDict.writeInt32LE(2_000_000_000, 8 + 56); // dictionary size
  assert.match((await loadError(hugeDict, "dict.bin")).message, /inconsistent dictionary|cannot fit/);
  assert.match((await loadError(Buffer.concat([good, Buffer.from([1, 2, 3])]), "trailing.bin")).message, /3 unexpected bytes/);
});

test("predict argument errors and unknown labels", async () => {
  const m = await FastTextModel.load(goodPath);
  assert.throws(() => m.predict("x", 0), /k needs to be 1 or higher/);
  assert.throws(() => m.labelProbability("x", "__label__nope"), /no label "__label__nope"; its labels are/);
  // Empty text still predicts: the line's "</s>" token is in the vocabulary, as for an empty line in the CLI.
  const p = m.predict("", -1);
  assert.equal(p.length, 2);
  assert.ok(Math.abs(p[0]!.prob + p[1]!.prob - 1) < 1e-4);
});

test("training input errors", async () => {
  const empty = join(dir, "empty.txt");
  writeFileSync(empty, "");
  await assert.rejects(trainSupervised(empty, { thread: 1 }), /is empty/);
  const noLabels = join(dir, "nolabels.txt");
  writeFileSync(noLabels, "just some words\nand more words\n");
  await assert.rejects(trainSupervised(noLabels, { thread: 1 }), /no labels/);
  await assert.rejects(trainSupervised(join(dir, "missing.txt"), { thread: 1 }), /cannot be opened/);
  await assert.rejects(trainSupervised(trainFile, { dim: 0 }), /dim must be an integer/);
});

test("one thread + same seed => byte-identical model file", async () => {
  const m = await trainSupervised(trainFile, { dim: 8, bucket: 1000, wordNgrams: 2, epoch: 2, thread: 1, seed: 3 });
  const again = join(dir, "again.bin");
  await m.save(again);
  assert.ok(readFileSync(again).equals(good));
});

test("a shared handle rebuilds an identical model without copying weights", async () => {
  const m = await FastTextModel.load(goodPath);
  const h = m.shareable();
  assert.ok(h.input.kind === "dense" && h.input.data.buffer instanceof SharedArrayBuffer);
  const clone = FastTextModel.fromShared(structuredClone(h));
  const c = clone.shareable();
  assert.ok(c.output.kind === "dense" && h.output.kind === "dense");
  // Same memory, not a copy: a write through the clone is visible through the original.
  const before = h.output.data[0]!;
  c.output.data[0] = before + 1;
  assert.equal(h.output.data[0], Math.fround(before + 1));
  c.output.data[0] = before;
  for (const line of ["the derivative of x^2 is 2x", "buy cheap shoes online today", ""])
    assert.deepEqual(clone.predict(line, -1), m.predict(line, -1));
});
