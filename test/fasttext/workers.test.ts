// A model handle posted to worker threads: every thread predicts exactly as the main thread, on the very same
// weight memory (SharedArrayBuffer / shared WebAssembly.Memory), not a copy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FastTextModel } from "../../classifiers/fasttext/model.js";
import { trainSupervised } from "../../classifiers/fasttext/train.js";
import { workerBootstrap } from "../../classifiers/fasttext/worker-boot.js";
import { tmpDir } from "../helpers.js";
import { labelledDocs } from "./corpus.js";

async function inWorkers(model: FastTextModel, lines: string[], n: number): Promise<unknown[]> {
  const boot = workerBootstrap(new URL("./predict-worker.ts", import.meta.url));
  const workers = Array.from({ length: n }, () => new Worker(boot, { eval: true, workerData: model.shareable() }));
  try {
    return await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve, reject) => {
            w.once("message", resolve);
            w.once("error", reject);
            w.postMessage(lines);
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

test("dense model (SIMD kernel memory) and lid.176.ftz predict the same in 2 worker threads", async () => {
  const dir = tmpDir("ft-workers-");
  const docs = labelledDocs().slice(0, 400);
  const train = join(dir, "train.txt");
  writeFileSync(train, docs.map((d) => `${d.label} ${d.text.slice(0, 500)}`).join("\n") + "\n");
  const dense = await trainSupervised(train, { dim: 16, bucket: 5000, wordNgrams: 2, epoch: 2, thread: 1, seed: 9 });
  const lid = await FastTextModel.load(
    createRequire(import.meta.url).resolve("fasttext.wasm.js/dist/models/language-identification/assets/lid.176.ftz"),
  );
  const lines = docs.slice(0, 60).map((d) => d.text);
  for (const m of [dense, lid]) {
    const expected = lines.map((l) => m.predict(l, -1));
    for (const got of await inWorkers(m, lines, 2)) assert.deepEqual(got, expected);
  }
  const h = dense.shareable();
  assert.ok(h.input.kind === "dense" && h.input.data.buffer instanceof SharedArrayBuffer);
});
