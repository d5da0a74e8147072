// Runner error paths: what stops a run even under --on-error skip, and what a dry run leaves behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPipeline, FatalError, outputNames } from "../../lib/runtime/runner.js";
import { writeDocuments, readDocuments } from "../../lib/io/index.js";
import { makeBatch, getTexts } from "../../lib/arrow/batch.js";
import { tmpDir, mountTinyTmpfs } from "../helpers.js";
import type { Stage } from "../../lib/runtime/stage.js";

/** `files` JSONL inputs of `docs` documents of 10,000 pseudo-random letters each (barely compressible). */
async function randomInputs(dir: string, files: number, docs: number): Promise<string[]> {
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % 26;
  const out: string[] = [];
  for (let f = 0; f < files; f++) {
    const texts = Array.from({ length: docs }, () => Array.from({ length: 10_000 }, () => String.fromCharCode(97 + rnd())).join(""));
    await writeDocuments(join(dir, `in-${f}`), [makeBatch({ text: texts, id: texts.map((_, i) => `${f}-${i}`) })], { format: "jsonl" });
    out.push(join(dir, `in-${f}.jsonl`));
  }
  return out;
}

test("runner: a full output disk stops the run even under --on-error skip", async (t) => {
  const fs = mountTinyTmpfs("256k");
  if ("skip" in fs) return t.skip(fs.skip);
  const mnt = fs.path;
  const inputs = await randomInputs(tmpDir(), 3, 100);
  try {
    for (const format of ["parquet", "jsonl"] as const) {
      const out = join(mnt, format);
      await assert.rejects(
        runPipeline({ inputs, outDir: out, stages: [], onError: "skip", write: { format, rowGroupSize: 20 } }),
        (e: unknown) => e instanceof FatalError && /disk full \(ENOSPC\)/.test((e as Error).message) && (e as Error).message.includes("in-0.jsonl"),
        format,
      );
      // Nothing half-written is left under a final name.
      assert.deepEqual(readdirSync(out).filter((n) => n !== ".done"), [], format);
    }
  } finally {
    fs.unmount();
  }
});

test("runner: a run with writeOutput false counts but leaves no markers, so the real run still processes every file", async () => {
  const dir = tmpDir();
  const inputs = await randomInputs(dir, 2, 3);
  const out = join(dir, "out");
  const dry = await runPipeline({ inputs, outDir: out, stages: [], writeOutput: false });
  assert.equal(dry.filesDone, 2);
  assert.equal(dry.stats.stages[0].docsOut, 6);
  assert.deepEqual(readdirSync(join(out, ".done")), []);
  const real = await runPipeline({ inputs, outDir: out, stages: [] });
  assert.equal(real.filesDone, 2);
  assert.equal(real.filesSkipped, 0);
  assert.deepEqual(readdirSync(out).filter((n) => n.endsWith(".parquet")).sort(), ["in-0.parquet", "in-1.parquet"]);
});

test("runner: every stage is closed even when one close fails, and a run's own error is not masked by it", async () => {
  const dir = tmpDir();
  const inputs = await randomInputs(dir, 1, 2);
  let closedB = 0;
  const stageA: Stage = { name: "a", run: (input) => input, close: async () => { throw new Error("close of a failed"); } };
  const stageB = (fail: boolean): Stage => ({
    name: "b",
    async *run(input) {
      for await (const b of input) {
        if (fail) throw new Error("stage b broke");
        yield b;
      }
    },
    close: async () => void closedB++,
  });
  await assert.rejects(runPipeline({ inputs, outDir: join(dir, "o1"), stages: [stageA, stageB(false)] }), /close of a failed/);
  assert.equal(closedB, 1);
  await assert.rejects(runPipeline({ inputs, outDir: join(dir, "o2"), stages: [stageA, stageB(true)] }), /stage b broke/);
  assert.equal(closedB, 2);
});

test("runner: inputs named NAME and NAME-00001 keep separate outputs (no overwrite, no stale-part deletion)", async () => {
  const dir = tmpDir();
  const a = join(dir, "a.jsonl");
  const a1 = join(dir, "a-00001.jsonl");
  writeFileSync(a, ["x", "y"].map((t) => JSON.stringify({ text: t }) + "\n").join(""));
  writeFileSync(a1, ["p", "q", "r"].map((t) => JSON.stringify({ text: t }) + "\n").join(""));
  const names = outputNames([a1, a]);
  assert.equal(names.get(a1), "a-00001");
  assert.notEqual(names.get(a), "a");
  for (const maxFileBytes of [undefined, 1]) {
    const r = await runPipeline({ inputs: [a, a1], outDir: join(dir, `out-${maxFileBytes}`), stages: [], write: { maxFileBytes } });
    assert.equal(new Set(r.outputs).size, r.outputs.length);
    const texts: string[] = [];
    for (const f of r.outputs) for await (const b of readDocuments(f)) texts.push(...getTexts(b));
    assert.deepEqual(texts.sort(), ["p", "q", "r", "x", "y"], `maxFileBytes ${maxFileBytes}`);
  }
});

test("runner: a stage whose identity fails (dedup filter before its clusters exist) leaves no progress timer running", async () => {
  const dir = tmpDir();
  const inputs = await randomInputs(dir, 1, 2);
  const notReady: Stage = {
    name: "not-ready",
    identity: async () => { throw new Error("clusters not ready: run stage 3 first"); },
    run: (input) => input,
  };
  // Count the intervals started and not cleared while the run is in flight (the progress display's redraw timer).
  const live = new Set<unknown>();
  const { setInterval: realSet, clearInterval: realClear } = globalThis;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const t = realSet(...args);
    live.add(t);
    return t;
  }) as typeof setInterval;
  globalThis.clearInterval = ((t?: Parameters<typeof clearInterval>[0]) => {
    live.delete(t);
    realClear(t);
  }) as typeof clearInterval;
  try {
    await assert.rejects(runPipeline({ inputs, outDir: join(dir, "o"), stages: [notReady], progress: { tty: false } }),
      /clusters not ready/);
  } finally {
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
    for (const t of live) realClear(t as NodeJS.Timeout);
  }
  assert.equal(live.size, 0, "a progress timer outlived the failed run");
});
