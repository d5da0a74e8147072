// Fingerprints and the task loop on real documents: identity flows from a model through two chained steps, a
// replaced input redoes its output, a loop removes only its own temp names, and a step that empties its input (or
// keeps less than its bound) stops with the figures unless allowed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, readdirSync, utimesSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { runPipeline, mergeFolderStats } from "../../lib/runtime/runner.js";
import { writeDocuments } from "../../lib/io/index.js";
import { makeBatch, getTexts, withColumn } from "../../lib/arrow/batch.js";
import type { Stage } from "../../lib/runtime/stage.js";
import { fingerprintFile, contentFingerprint } from "../../lib/runtime/fingerprint.js";
import { ownsTempName, readFolderMarkers } from "../../lib/runtime/task-loop.js";
import { ExpectationError } from "../../lib/runtime/expect.js";
import { minLengthStage } from "./stages.js";
import { sharedJsonl, tmpDir } from "../helpers.js";

/** Two Parquet files of real C4 documents (100 each); `offset` picks other documents for "other content". */
async function inputs(dir: string, offset = 0): Promise<string[]> {
  const texts = sharedJsonl("web-nonmath", "c4_demo.jsonl.gz").map((r) => String(r.text));
  const files: string[] = [];
  for (let s = 0; s < 2; s++) {
    const part = texts.slice(offset + s * 100, offset + s * 100 + 100);
    await writeDocuments(join(dir, `in-${s}`), [makeBatch({ id: part.map((_, i) => `d${s}-${i}`), text: part })], { format: "parquet" });
    files.push(join(dir, `in-${s}.parquet`));
  }
  return files;
}

/** A "model" stage: adds a column holding the content of a model file it reads (so its output depends on it). */
function modelStage(model: string): Stage {
  return {
    name: "model",
    reads: () => [model],
    async *run(input) {
      const v = readFileSync(model, "utf8");
      for await (const b of input) yield withColumn(b, "model", getTexts(b).map(() => v));
    },
  };
}

test("fingerprint: a replaced file changes its content fingerprint; a megamath output takes its marker's", async () => {
  const dir = tmpDir();
  const [a] = await inputs(dir);
  const before = await contentFingerprint(a);
  const other = tmpDir();
  const [b] = await inputs(other, 200);
  copyFileSync(b, a);
  assert.notEqual(await contentFingerprint(a), before);
  // Same bytes, other modification time: counted as changed too (redo, never stale).
  const t = new Date(Date.now() - 60_000);
  const fp = await contentFingerprint(a);
  utimesSync(a, t, t);
  assert.notEqual(await contentFingerprint(a), fp);

  const out = join(dir, "out");
  await runPipeline({ inputs: [a], outDir: out, stages: [minLengthStage(10)] });
  const produced = join(out, "in-0.parquet");
  const [m] = await readFolderMarkers(out);
  const viaMarker = await fingerprintFile(produced);
  // Rewriting the output with the same bytes keeps nothing but the marker's word: the stamp differs, so the reader
  // stops trusting the marker and falls back to the content fingerprint.
  writeFileSync(produced, readFileSync(produced));
  utimesSync(produced, t, t);
  assert.notEqual(await fingerprintFile(produced), viaMarker);
  assert.match(m.fingerprint, /^[0-9a-f]{32}$/);
});

test("task loop: a new model redoes step 1 and, through its markers, step 2; an unchanged rerun skips both", async () => {
  const dir = tmpDir();
  const ins = await inputs(dir);
  const model = join(dir, "model.txt");
  writeFileSync(model, "v1");
  const s1 = join(dir, "s1");
  const s2 = join(dir, "s2");
  const run1 = () => runPipeline({ name: "one", inputs: ins, outDir: s1, stages: [modelStage(model)] });
  const run2 = () => runPipeline({ name: "two", inputs: [join(s1, "*.parquet")], outDir: s2, stages: [minLengthStage(50)] });
  assert.equal((await run1()).filesDone, 2);
  assert.equal((await run2()).filesDone, 2);
  assert.equal((await run1()).filesSkipped, 2);
  assert.equal((await run2()).filesSkipped, 2);
  writeFileSync(model, "v2");
  assert.equal((await run1()).filesDone, 2);
  const second = await run2();
  assert.equal(second.filesDone, 2, "step 2 must follow step 1's new fingerprint");
  const s2Markers = await readFolderMarkers(s2);
  assert.equal(s2Markers.length, 2);
  assert.ok(s2Markers.every((m) => m.step === "two" && m.stamps.length === m.outputs.length));
});

test("task loop: an input replaced by other content under the same name redoes its output only", async () => {
  const dir = tmpDir();
  const ins = await inputs(dir);
  const out = join(dir, "out");
  const run = () => runPipeline({ name: "filter", inputs: ins, outDir: out, stages: [minLengthStage(50)] });
  await run();
  const [b] = await inputs(tmpDir(), 200);
  copyFileSync(b, ins[0]);
  const r = await run();
  assert.equal(r.filesDone, 1);
  assert.equal(r.filesSkipped, 1);
});

test("task loop: a run removes its own temp names from a killed run and nobody else's", async () => {
  const dir = tmpDir();
  const ins = await inputs(dir);
  const out = join(dir, "out");
  await runPipeline({ inputs: ins, outDir: out, stages: [minLengthStage(50)], force: true });
  const mine = [".tmp-in-0.parquet.123.abcd1234", ".tmp-in-0-00001.parquet.77.00ff00ff"];
  const others = [".tmp-in-0_.parquet.123.abcd1234", ".tmp-in-0.v2.parquet.5.12345678", ".tmp-in-00.parquet.1.aaaaaaaa"];
  for (const n of [...mine, ...others]) writeFileSync(join(out, n), "x".repeat(1000));
  assert.ok(mine.every((n) => ownsTempName(n, "in-0", [".parquet"])));
  assert.ok(!others.some((n) => ownsTempName(n, "in-0", [".parquet"])));
  await runPipeline({ inputs: ins, outDir: out, stages: [minLengthStage(50)], force: true });
  const left = readdirSync(out).filter((n) => n.startsWith(".tmp-")).sort();
  assert.deepEqual(left, [...others].sort());
});

test("no silent success: emptying non-empty input, or keeping under the bound, stops with the figures unless allowed", async () => {
  const dir = tmpDir();
  const ins = await inputs(dir);
  const all = () => minLengthStage(1_000_000);
  await assert.rejects(runPipeline({ name: "filter", inputs: ins, outDir: join(dir, "a"), stages: [all()] }),
    (e: Error) => e instanceof ExpectationError && /step "filter" turned 200 input documents into an empty output/.test(e.message));
  const ok = await runPipeline({ name: "filter", inputs: ins, outDir: join(dir, "b"), stages: [all()], expect: { allowEmpty: true } });
  assert.equal(ok.stats.stages.at(-1)!.docsOut, 0);
  const some = await runPipeline({ name: "filter", inputs: ins, outDir: join(dir, "c"), stages: [minLengthStage(2000)], expect: { allowEmpty: true } });
  const kept = some.stats.stages.at(-1)!.docsOut;
  assert.ok(kept > 0 && kept < 150, String(kept));
  await assert.rejects(runPipeline({ name: "filter", inputs: ins, outDir: join(dir, "c"), stages: [minLengthStage(2000)], expect: { minKeptShare: 0.9 } }),
    new RegExp(`step "filter" kept ${kept} of 200 documents \\([\\d.]+%\\), fewer than the 90.0% it expects`));
  await runPipeline({ name: "filter", inputs: ins, outDir: join(dir, "c"), stages: [minLengthStage(2000)], expect: { minKeptShare: kept / 200 } });
  // The stopped run still left its markers and stats: `megamath stats` can show where it stood.
  assert.equal((await mergeFolderStats(join(dir, "a"))).markers, 2);
});
