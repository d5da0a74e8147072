// Run one stage over in-memory batches with a real StageStats, for tests of this area.
import type { Batch } from "../../lib/arrow/batch.js";
import type { Stage, StageContext, OnError } from "../../lib/runtime/stage.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { memoryLogger } from "../../lib/runtime/log.js";

export async function runStage(stage: Stage, batches: Batch[], opts: { onError?: OnError; workers?: number } = {}):
  Promise<{ out: Batch[]; stats: StageStats }> {
  const stats = new StageStats(stage.name);
  const ctx: StageContext = {
    stats, file: "test-input.parquet", shard: { index: 0, count: 1 }, seed: 0, onError: opts.onError ?? "fail",
    workers: opts.workers ?? 1, log: memoryLogger(), outDir: "/nonexistent",
  };
  async function* source() {
    for (const b of batches) {
      stats.docsIn += b.numRows;
      yield b;
    }
  }
  const out: Batch[] = [];
  for await (const b of stage.run(source(), ctx)) {
    stats.docsOut += b.numRows;
    out.push(b);
  }
  return { out, stats };
}
