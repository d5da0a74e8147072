// The WASM SIMD training kernels change speed only: a model trained with them is byte-identical to one trained with
// the JS loops (1 thread is deterministic), for every loss, and each kernel equals its JS loop on its own —
// including an id repeated in one line (updated twice, in order) and lines longer than the kernel's id buffer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { allocDense } from "../../classifiers/fasttext/matrix.js";
import { TrainKernel } from "../../classifiers/fasttext/simd-train.js";
import { Rng } from "../../classifiers/fasttext/sgd.js";
import { tmpDir } from "../helpers.js";
import { labelledDocs } from "./corpus.js";

test("training with the SIMD kernels writes the same .bin bytes as the JS loops (softmax, ns, hs, ova)", async () => {
  const dir = tmpDir("ft-simd-");
  const train = join(dir, "train.txt");
  writeFileSync(train, labelledDocs().slice(0, 300).map((d) => `${d.label} ${d.text.slice(0, 800)}`).join("\n") + "\n");
  for (const loss of ["softmax", "ns", "hs", "ova"] as const) {
    const bins: Buffer[] = [];
    for (const simd of [true, false]) {
      const m = await trainSupervised(train, { dim: 20, bucket: 3000, wordNgrams: 2, epoch: 2, lr: 0.5, loss, thread: 1, seed: 3, simd });
      const out = join(dir, `${loss}-${simd}.bin`);
      await m.save(out);
      bins.push(readFileSync(out));
    }
    assert.ok(bins[0]!.equals(bins[1]!), `${loss}: the SIMD-trained model differs from the JS-trained one`);
  }
});

test("each kernel equals its JS loop bit for bit: row sum, gradient update with a repeated id, uniform init", () => {
  const dim = 12, rows = 50;
  const m = allocDense(rows, dim);
  const k = TrainKernel.create(m.wasm!, dim);
  assert.ok(k, "WASM SIMD is available on every supported Node");
  // init: the same mulberry32 stream and rounding as train-worker's JS loop
  const a = 1 / dim;
  k.initUniform(0, rows * dim, new Rng(77).state, a);
  const rng = new Rng(77);
  const js = new Float32Array(rows * dim);
  for (let i = 0; i < js.length; i++) js[i] = (rng.next() * 2 - 1) * a;
  assert.deepEqual(m.data, js);
  // a line longer than the id buffer, with repeats (including back to back, inside one group of rows)
  const ids = Int32Array.from({ length: 40_000 }, (_, i) => (i < 8 ? 5 : (i * 7919) % rows));
  k.hidden.fill(0);
  k.sumRows(ids, 0, ids.length);
  const h = new Float64Array(dim);
  for (const id of ids) for (let j = 0; j < dim; j++) h[j] += js[id * dim + j]!;
  assert.deepEqual(k.hidden, h);
  for (let j = 0; j < dim; j++) k.grad[j] = (j - 5.5) * 1e-3;
  k.addGrad(ids, 3, 1000);
  for (let i = 3; i < 1003; i++) for (let j = 0; j < dim; j++) js[ids[i]! * dim + j] += k.grad[j]!;
  assert.deepEqual(m.data, js);
});
