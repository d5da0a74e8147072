import { test } from "node:test";
import assert from "node:assert/strict";
import { TaskPool, orderedMap, packTexts, packedTransfer, workerFile, unpackText } from "../../lib/runtime/pool.js";
import { makeBatch } from "../../lib/arrow/batch.js";

test("packTexts round-trips strings, including empty, null and non-ASCII", () => {
  const texts = ["héllo", "", null, "∑ x² 数学 😀"];
  const p = packTexts(makeBatch({ text: texts }));
  assert.deepEqual([0, 1, 2, 3].map((i) => unpackText(p, i)), ["héllo", "", "", "∑ x² 数学 😀"]);
});

test("orderedMap keeps order and never exceeds maxInFlight", async () => {
  let inFlight = 0;
  let peak = 0;
  let pulled = 0;
  async function* source() {
    for (let i = 0; i < 50; i++) {
      pulled++;
      yield i;
    }
  }
  const out: number[] = [];
  for await (const r of orderedMap(source(), async (x) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((res) => setTimeout(res, (x * 7) % 5));
    inFlight--;
    return x * 2;
  }, 4)) {
    out.push(r);
    assert.ok(pulled - out.length <= 4, "source pulled ahead of the in-flight bound");
  }
  assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => i * 2));
  assert.ok(peak <= 4 && peak >= 2);
});

test("orderedMap propagates a failure", async () => {
  await assert.rejects(async () => {
    for await (const _ of orderedMap([1, 2, 3], async (x) => {
      if (x === 2) throw new Error("boom");
      return x;
    }, 2));
  }, /boom/);
});

test("TaskPool runs a .ts worker on 2 threads, results in input order", async () => {
  const pool = new TaskPool({ filename: workerFile(import.meta.url, "./pool-worker.js"), workers: 2 });
  try {
    const batches = Array.from({ length: 8 }, (_, b) => makeBatch({ text: Array.from({ length: 5 }, (_, i) => "x".repeat(b * 10 + i)) }));
    const threads = new Set<number>();
    const results: number[][] = [];
    // The first two tasks wait for each other, so they run at the same time on the two threads however long a
    // thread takes to start (with delays alone, one thread could finish every task before the other was up).
    const arrived = new Int32Array(new SharedArrayBuffer(4));
    for await (const r of orderedMap(batches, (batch, i) => {
      const packed = packTexts(batch);
      const barrier = i < 2 ? { arrived, parties: 2 } : undefined;
      return pool.run<unknown, { lengths: number[]; thread: number; barrierTimedOut?: boolean }>(
        { packed, delayMs: (8 - i) * 5, barrier }, packedTransfer(packed));
    }, 4)) {
      assert.ok(!r.barrierTimedOut, "the first two tasks never ran at the same time");
      threads.add(r.thread);
      results.push(r.lengths);
    }
    assert.deepEqual(results, batches.map((_, b) => [0, 1, 2, 3, 4].map((i) => b * 10 + i)));
    assert.equal(threads.size, 2);
  } finally {
    await pool.destroy();
  }
});

test("TaskPool starts no worker before its first task, and no more than the tasks that found every worker busy", async () => {
  const pool = new TaskPool({ filename: workerFile(import.meta.url, "./pool-worker.js"), workers: 4 });
  try {
    assert.equal(pool.started, 0, "a pool with no task yet started a worker");
    // One task at a time: the first starts one worker, which then takes every later task.
    for (let i = 0; i < 3; i++) {
      const packed = packTexts(makeBatch({ text: ["abc"] }));
      const r = await pool.run<unknown, { lengths: number[] }>({ packed }, packedTransfer(packed));
      assert.deepEqual(r.lengths, [3]);
    }
    assert.equal(pool.started, 1);
    // Two at once (held at a barrier, so neither can finish before the other arrives): a second worker, not four.
    const arrived = new Int32Array(new SharedArrayBuffer(4));
    await Promise.all([0, 1].map(() => {
      const packed = packTexts(makeBatch({ text: ["x"] }));
      return pool.run({ packed, barrier: { arrived, parties: 2 } }, packedTransfer(packed));
    }));
    assert.equal(pool.started, 2);
  } finally {
    await pool.destroy();
  }
  assert.equal(pool.started, 0);
  await assert.rejects(() => pool.run({}), /after destroy/);
});

test("TaskPool.destroy of a pool that never ran a task starts nothing and returns", async () => {
  const pool = new TaskPool({ filename: workerFile(import.meta.url, "./pool-worker.js"), workers: 2 });
  await pool.destroy();
  assert.equal(pool.started, 0);
});
