import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, existsSync, writeFileSync, mkdirSync, statSync, copyFileSync } from "node:fs";
import { memoryLogger } from "../../lib/runtime/log.js";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { runPipeline, mergeFolderStats, outputNames } from "../../lib/runtime/runner.js";
import { writeDocuments, readDocuments } from "../../lib/io/index.js";
import { makeBatch, getStrings } from "../../lib/arrow/batch.js";
import { hashStage, minLengthStage } from "./stages.js";
import { sharedJsonl, tmpDir, repoRoot } from "../helpers.js";

/** Four Parquet shards of real documents (C4 + Stack Exchange math), 300 docs each. */
async function makeInputs(dir: string): Promise<string[]> {
  const lines = [...sharedJsonl("web-nonmath", "c4_demo.jsonl.gz"), ...sharedJsonl("math-qa", "se_math_33votes.jsonl.gz")] as
    { text?: string; input?: string; output?: string }[];
  const texts = lines.map((r) => r.text ?? `${r.input}\n\n${r.output}`);
  const files: string[] = [];
  for (let s = 0; s < 4; s++) {
    const part = texts.slice(s * 300, s * 300 + 300);
    const f = join(dir, `in-${s}.parquet`);
    const base = join(dir, `in-${s}`);
    await writeDocuments(base, [makeBatch({ id: part.map((_, i) => `d${s}-${i}`), text: part, shard: part.map(() => s) })], { format: "parquet" });
    files.push(f);
  }
  return files;
}

function digestFolder(dir: string): string {
  const h = createHash("sha256");
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".parquet")).sort()) {
    h.update(name);
    h.update(readFileSync(join(dir, name)));
  }
  return h.digest("hex");
}

test("runner: stats identity, pass-through columns, markers and merged stats", async () => {
  const dir = tmpDir();
  const inputs = await makeInputs(dir);
  const out = join(dir, "out");
  const r = await runPipeline({ inputs, outDir: out, stages: [hashStage(1), minLengthStage(200)] });
  assert.equal(r.filesDone, 4);
  const [read, hash, filt] = r.stats.stages;
  assert.equal(read.docsIn, 1200);
  assert.equal(hash.docsOut, 1200);
  assert.equal(filt.docsIn, filt.docsOut + filt.removed["length<200"]);
  assert.ok(filt.removed["length<200"] > 0);
  const merged = await mergeFolderStats(out);
  assert.deepEqual(merged.stages.map((s) => s.docsOut), r.stats.stages.map((s) => s.docsOut));
  // Metadata passes through and the new column is there.
  const rows = [];
  for await (const b of readDocuments(r.outputs[0])) rows.push(b);
  assert.ok(rows[0].getChild("shard") && rows[0].getChild("hash"));
  // A rerun skips every file.
  const again = await runPipeline({ inputs, outDir: out, stages: [hashStage(1), minLengthStage(200)] });
  assert.equal(again.filesSkipped, 4);
  assert.equal(again.filesDone, 0);
});

test("runner: shards partition the files and their stats merge exactly", async () => {
  const dir = tmpDir();
  const inputs = await makeInputs(dir);
  const single = join(dir, "single");
  const sharded = join(dir, "sharded");
  const one = await runPipeline({ inputs, outDir: single, stages: [minLengthStage(300)] });
  for (let i = 0; i < 3; i++) {
    const r = await runPipeline({ inputs, outDir: sharded, stages: [minLengthStage(300)], shard: { index: i, count: 3 } });
    assert.equal(r.filesDone, i === 0 ? 2 : 1);
  }
  assert.equal(digestFolder(single), digestFolder(sharded));
  const merged = await mergeFolderStats(sharded);
  assert.deepEqual(merged.stages.map(({ timeMs, ...s }) => s), one.stats.stages.map(({ timeMs, ...s }) => s));
});

test("runner: same output with 1 and 2 worker threads (byte-identical)", async () => {
  const dir = tmpDir();
  const inputs = await makeInputs(dir);
  await runPipeline({ inputs, outDir: join(dir, "w1"), stages: [hashStage(1)], read: { batchSize: 64 } });
  await runPipeline({ inputs, outDir: join(dir, "w2"), stages: [hashStage(2)], read: { batchSize: 64 } });
  assert.equal(digestFolder(join(dir, "w1")), digestFolder(join(dir, "w2")));
});

test("runner: a run killed with SIGKILL resumes to byte-identical output", async () => {
  const dir = tmpDir();
  const inputs = await makeInputs(dir);
  const ref = join(dir, "ref");
  await runPipeline({ inputs, outDir: ref, stages: [hashStage(2), minLengthStage(200)], read: { batchSize: 50 }, write: { format: "parquet", rowGroupSize: 100 } });
  const out = join(dir, "killed");
  // The child stops in the middle of the second file and says so with a flag file; kill it there. (Killing at a
  // time instead — 150 ms after the first marker — let a descheduled test process find the run finished.)
  const stopped = join(dir, "stopped");
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/runtime/run-child.ts"), out, "2", stopped, ...inputs], { cwd: repoRoot, stdio: "ignore" });
  const exited = new Promise((r) => child.on("exit", r));
  let running = true;
  void exited.then(() => (running = false));
  while (running && !existsSync(stopped)) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(stopped), "the child exited before reaching its stop point");
  child.kill("SIGKILL");
  await exited;
  const markers = join(out, ".done");
  const done = readdirSync(markers).filter((n) => n.endsWith(".json")).length;
  assert.equal(done, 1, `expected the first file done and the second in progress, found ${done} markers`);
  assert.equal(readdirSync(markers).filter((n) => n.endsWith(".claim")).length, 1, "the second file's claim on its output slot");
  assert.equal(readdirSync(out).filter((n) => n.startsWith(".tmp-")).length, 1, "the second file's partial output");
  const r = await runPipeline({ inputs, outDir: out, stages: [hashStage(2), minLengthStage(200)], read: { batchSize: 50 }, write: { format: "parquet", rowGroupSize: 100 } });
  assert.equal(r.filesSkipped, done);
  assert.equal(digestFolder(out), digestFolder(ref));
  assert.deepEqual(readdirSync(out).filter((n) => n.startsWith(".tmp-")), []);
});

test("runner: under --on-error skip a corrupt file is named, left without a marker, and processed once fixed", async () => {
  const dir = tmpDir();
  const inputs = await makeInputs(dir);
  const bad = join(dir, "in-9-corrupt.parquet");
  writeFileSync(bad, Buffer.concat([readFileSync(inputs[0]).subarray(0, 5000)]));
  const out = join(dir, "out");
  const log = memoryLogger();
  const r = await runPipeline({ inputs: [...inputs, bad], outDir: out, stages: [minLengthStage(10)], onError: "skip", log });
  // The reader counts the unreadable file as one failed item; all of its documents failed, so the file failed whole.
  assert.equal(r.filesDone, inputs.length);
  assert.deepEqual(r.filesFailed.map((f) => f.file), [bad]);
  assert.match(r.filesFailed[0].error, /all 1 document\(s\) failed \(read:corrupt_parquet=1\)/);
  assert.ok(log.lines.some((l) => l.level === "warn" && l.msg.includes(bad)), "the skipped file is named in a warning");
  const stats = JSON.parse(readFileSync(join(out, "stats.json"), "utf8"));
  assert.deepEqual(stats.filesFailed.map((f: { file: string }) => f.file), [bad], "and in stats.json");
  assert.equal(r.stats.stages[0].docsIn, 1200);
  assert.ok(!readdirSync(join(out, ".done")).some((n) => n.startsWith("in-9-corrupt")), "no completion marker");
  assert.ok(!readdirSync(out).some((n) => n.startsWith("in-9-corrupt")), "no output");
  // Re-downloaded: the next run processes it (and only it), and stats.json no longer lists it.
  copyFileSync(inputs[0], bad);
  const again = await runPipeline({ inputs: [...inputs, bad], outDir: out, stages: [minLengthStage(10)], onError: "skip" });
  assert.equal(again.filesDone, 1);
  assert.equal(again.filesSkipped, inputs.length);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "stats.json"), "utf8")).filesFailed, []);
  writeFileSync(bad, Buffer.concat([readFileSync(inputs[0]).subarray(0, 5000)]));
  await assert.rejects(runPipeline({ inputs: [bad], outDir: join(dir, "out2"), stages: [] }), /in-9-corrupt\.parquet/);
});

test("runner: empty glob and unwritable output folder give clear errors", async () => {
  const dir = tmpDir();
  await assert.rejects(runPipeline({ inputs: [join(dir, "nothing-*.parquet")], outDir: join(dir, "o"), stages: [] }), /nothing-\*\.parquet|no (input )?files?/i);
  const inputs = await makeInputs(dir);
  const ro = join(dir, "ro");
  mkdirSync(ro);
  writeFileSync(join(ro, "file"), "x");
  await assert.rejects(runPipeline({ inputs, outDir: join(ro, "file", "sub"), stages: [] }), /not writable|ENOTDIR|EEXIST/);
});

test("outputNames are unique and independent of sharding", () => {
  const m = outputNames(["/a/x/part-0.parquet", "/a/y/part-0.parquet", "/a/x/part-1.jsonl.gz"]);
  assert.deepEqual([...m.values()], ["x__part-0", "y__part-0", "x__part-1"]);
  assert.equal(statSync(repoRoot).isDirectory(), true);
  void getStrings;
});

test("runner: a completion marker made with other options or another stage identity is redone, not reused", async () => {
  const dir = tmpDir();
  const inputs = await makeInputs(dir);
  const out = join(dir, "out");
  const first = await runPipeline({ inputs, outDir: out, stages: [minLengthStage(200)], identity: "min=200" });
  assert.equal(first.filesDone, 4);
  const same = await runPipeline({ inputs, outDir: out, stages: [minLengthStage(200)], identity: "min=200" });
  assert.equal(same.filesSkipped, 4);
  const changed = await runPipeline({ inputs, outDir: out, stages: [minLengthStage(300)], identity: "min=300" });
  assert.equal(changed.filesDone, 4);
  assert.ok(changed.stats.stages[1].removed["length<300"] > 0);
  let clusters = "v1";
  const stage = { ...minLengthStage(300), identity: () => clusters };
  assert.equal((await runPipeline({ inputs, outDir: out, stages: [stage], identity: "min=300" })).filesDone, 4);
  assert.equal((await runPipeline({ inputs, outDir: out, stages: [stage], identity: "min=300" })).filesSkipped, 4);
  clusters = "v2";
  assert.equal((await runPipeline({ inputs, outDir: out, stages: [stage], identity: "min=300" })).filesDone, 4);
});
