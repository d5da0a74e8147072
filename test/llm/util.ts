// Running one stage over in-memory batches with a real StageContext, the way the runner does, for the LLM tests.
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import type { Batch } from "../../lib/arrow/batch.js";
import { batchRows } from "../../lib/arrow/batch.js";
import type { Stage, StageContext, OnError } from "../../lib/runtime/stage.js";
import { StageStats } from "../../lib/runtime/stats.js";
import { memoryLogger } from "../../lib/runtime/log.js";
import { sharedData } from "../helpers.js";

export async function runStage(stage: Stage, batches: Batch[], o: { outDir: string; onError?: OnError; file?: string }) {
  const stats = new StageStats(stage.name);
  const ctx: StageContext = {
    stats, file: o.file ?? "input.parquet", shard: { index: 0, count: 1 }, seed: 0, onError: o.onError ?? "skip",
    workers: 1, log: memoryLogger(), outDir: o.outDir,
  };
  async function* source() {
    for (const b of batches) {
      stats.docsIn += b.numRows;
      yield b;
    }
  }
  const rows: Record<string, unknown>[] = [];
  for await (const b of stage.run(source(), ctx)) {
    stats.docsOut += b.numRows;
    rows.push(...batchRows(b));
  }
  return { rows, stats };
}

/** Real documents: Math Stack Exchange questions (CC BY-SA, see ../shared/data/math-qa/PROVENANCE.md). */
export function realMathTexts(n: number): string[] {
  const lines = gunzipSync(readFileSync(sharedData("math-qa", "se_math_33votes.jsonl.gz"))).toString("utf8").split("\n");
  const out: string[] = [];
  for (const l of lines) {
    if (!l) continue;
    const j = JSON.parse(l) as { input?: string };
    if (j.input && j.input.length > 200 && j.input.length < 3000) out.push(j.input);
    if (out.length === n) break;
  }
  return out;
}
