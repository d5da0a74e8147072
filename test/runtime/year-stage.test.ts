import { test } from "node:test";
import assert from "node:assert/strict";
import { yearStage } from "../../lib/stages/year.js";
import { makeBatch, batchRows } from "../../lib/arrow/batch.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { memoryLogger } from "../../lib/runtime/log.js";

test("yearStage adds the dump year and keeps documents without one", async () => {
  const batch = makeBatch({
    id: ["a", "b", "c"], text: ["x", "y", "z"],
    "cc-path": ["crawl-data/CC-MAIN-2019-47/segments/1/warc/x.warc.gz", "", null],
  });
  const stats = new StageStats("year");
  const ctx = { stats, file: "f", shard: { index: 0, count: 1 }, seed: 0, onError: "fail" as const, workers: 1, log: memoryLogger(), outDir: "" };
  async function* one() { yield batch; }
  const out = [];
  for await (const b of yearStage().run(one(), ctx)) out.push(...batchRows(b));
  assert.deepEqual(out.map((r) => r.year), [2019, null, null]);
  assert.equal(stats.counters.no_year, 2);
});
