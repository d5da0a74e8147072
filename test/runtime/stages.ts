// Small real stages for runner tests: a worker-threaded hash column and a length filter.
import type { Stage } from "../../lib/runtime/stage.js";
import { TaskPool, orderedMap, packTexts, packedTransfer, workerFile } from "../../lib/runtime/pool.js";
import { withColumn, filterRows, getTexts } from "../../lib/arrow/batch.js";

/** `beforeYield(file, n)` runs before the stage hands on its n-th batch (0-based) of `file`; the kill test uses it
 * to stop at a known point. */
export function hashStage(workers: number, delayMs = 0, beforeYield?: (file: string, n: number) => Promise<void>): Stage {
  let pool: TaskPool | undefined;
  return {
    name: "hash",
    requires: ["text"],
    async *run(input, ctx) {
      pool ??= new TaskPool({ filename: workerFile(import.meta.url, "./hash-worker.js"), workers });
      const p = pool;
      let n = 0;
      for await (const out of orderedMap(input, async (b) => {
        const packed = packTexts(b);
        const h = await p.run<unknown, Float64Array>(packed, packedTransfer(packed));
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        return withColumn(b, "hash", h);
      }, workers * 2)) {
        await beforeYield?.(ctx.file, n++);
        yield out;
      }
    },
    async close() {
      await pool?.destroy();
      pool = undefined;
    },
  };
}

export function minLengthStage(min: number): Stage {
  return {
    name: "min-length",
    async *run(input, ctx) {
      for await (const b of input) {
        const mask = getTexts(b).map((t) => t.length >= min);
        ctx.stats.remove(`length<${min}`, mask.filter((k) => !k).length);
        yield filterRows(b, mask);
      }
    },
  };
}
