// Two processes on one output folder (issue 12 item 8): the second is refused with "DIR is in use by pid N" while
// the first runs; once the first is killed its lock is stale and a new run takes over and finishes the work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostname } from "node:os";
import { runPipeline } from "../../lib/runtime/runner.js";
import { lockFolder, lockPath } from "../../lib/runtime/lock.js";
import { writeDocuments } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { hashStage, minLengthStage } from "./stages.js";
import { sharedJsonl, tmpDir, repoRoot } from "../helpers.js";

async function inputs(dir: string): Promise<string[]> {
  const texts = (sharedJsonl("web-nonmath", "c4_demo.jsonl.gz") as { text: string }[]).map((r) => r.text);
  const files: string[] = [];
  for (let s = 0; s < 2; s++) {
    const part = texts.slice(s * 150, s * 150 + 150).concat(texts.slice(0, 150));
    await writeDocuments(join(dir, `in-${s}`), [makeBatch({ id: part.map((_, i) => `d${s}-${i}`), text: part })], { format: "parquet" });
    files.push(join(dir, `in-${s}.parquet`));
  }
  return files;
}

test("repro: a second process on the same output folder is refused while the first runs; a dead holder's lock is taken over", async () => {
  const dir = tmpDir("megamath-safety-lock-");
  const files = await inputs(dir);
  const out = join(dir, "out");
  const stopped = join(dir, "stopped");
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/runtime/run-child.ts"), out, "1", stopped, ...files], { cwd: repoRoot, stdio: "ignore" });
  const exited = new Promise((r) => child.on("exit", r));
  let running = true;
  void exited.then(() => (running = false));
  try {
    while (running && !existsSync(stopped)) await new Promise((r) => setTimeout(r, 20));
    assert.ok(existsSync(stopped), "the child exited before its stop point");
    const run = () => runPipeline({ inputs: files, outDir: out, stages: [hashStage(1), minLengthStage(200)], read: { batchSize: 50 }, write: { format: "parquet", rowGroupSize: 100 } });
    await assert.rejects(run(), (e: Error) => e.message.startsWith(`${out} is in use by pid ${child.pid} `));
    // Another shard of the same run has its own lock.
    const other = await lockFolder(out, { index: 1, count: 2 });
    await other.release();
    child.kill("SIGKILL");
    await exited;
    const r = await run();
    assert.equal(r.filesDone + r.filesSkipped, 2);
    assert.ok(!existsSync(lockPath(out, { index: 0, count: 1 })), "released at the end");
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith(".tmp-")), []);
  } finally {
    if (running) child.kill("SIGKILL");
  }
});

test("a lock from another host is never taken over; a half-written lock is respected for a grace period", async () => {
  const out = tmpDir("megamath-safety-lock-");
  const p = lockPath(out, { index: 0, count: 1 });
  writeFileSync(p, JSON.stringify({ pid: 1, host: `not-${hostname()}`, started: "2026-01-01T00:00:00Z" }));
  await assert.rejects(lockFolder(out, { index: 0, count: 1 }), /is in use by pid 1 on host not-/);
  writeFileSync(p, "");
  await assert.rejects(lockFolder(out, { index: 0, count: 1 }), /is in use by another process \(starting\)/);
  // A pid that is surely not running on this host: the lock is stale.
  writeFileSync(p, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started: "2026-01-01T00:00:00Z" }));
  const l = await lockFolder(out, { index: 0, count: 1 });
  await l.release();
  assert.ok(!existsSync(p));
});
