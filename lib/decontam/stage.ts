// The decontamination stage: drops every document that shares an n-gram (13 words after normalize.ts) with a
// benchmark item, counts it under `contaminated:<benchmark>` (the benchmark of its first match), and writes, per
// input file, a report sidecar of (doc id, benchmark, item id, matched n-gram) rows. Sidecars live in the output
// folder so a resumed or sharded run still has every file's rows; the command merges them into --report.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { type Batch, filterRows, getStrings } from "../arrow/batch.js";
import { writeFileAtomic } from "../io/atomic.js";
import { TaskPool, orderedMap, packTexts, packedTransfer, workerFile } from "../runtime/pool.js";
import type { Stage, StageContext } from "../runtime/stage.js";
import type { IndexSet } from "./index-set.js";
import { Matcher, type Match } from "./matcher.js";
import { forEachUtf8Row } from "./utf8-rows.js";
import type { DecontResult, DecontTask } from "./worker.js";

export const REPORT_DIR = "decont-report";

export interface DecontaminateOptions {
  indexSet: IndexSet;
  /** Matches listed per removed document in the report (distinct benchmark items). Default 5. */
  maxMatches?: number;
  /** Write per-file report sidecars under <outDir>/decont-report/. Default true. */
  report?: boolean;
}

/** One report row (JSONL). */
export interface ReportRow {
  doc_id: string;
  benchmark: string;
  item_id: string;
  ngram: string;
  /** Token position of the match in the normalized document. */
  position: number;
  file: string;
}

/** Sidecar name for an input file: its base name plus a hash of its full path (inputs may share base names). */
export function sidecarName(file: string): string {
  const h = createHash("sha1").update(resolve(file)).digest("hex").slice(0, 10);
  return `${basename(file)}.${h}.jsonl`;
}

export function decontaminateStage(opts: DecontaminateOptions): Stage {
  const maxMatches = opts.maxMatches ?? 5;
  const writeReport = opts.report ?? true;
  let matcher: Matcher | undefined;
  let pool: TaskPool | undefined;

  const matchOpts = { maxMatches };
  // One thread: documents are matched as UTF-8 where the batch holds them (no string per document).
  const matchInline = (batch: Batch): DecontResult => {
    const m = (matcher ??= new Matcher(opts.indexSet.indexes));
    const out: DecontResult = { rows: [], matches: [] };
    forEachUtf8Row(batch, "text", (bytes, from, to, row) => {
      const found = m.matchUtf8(bytes, from, to, matchOpts);
      if (found.length) {
        out.rows.push(row);
        out.matches.push(found);
      }
    });
    return out;
  };

  const matchInPool = (batch: Batch, workers: number): Promise<DecontResult> => {
    pool ??= new TaskPool({
      filename: workerFile(import.meta.url, "./worker.js"),
      workers,
      workerData: { indexes: opts.indexSet.shared },
    });
    const packed = packTexts(batch, "text");
    const task: DecontTask = { bytes: packed.bytes, offsets: packed.offsets, maxMatches };
    return pool.run<DecontTask, DecontResult>(task, packedTransfer(packed));
  };

  return {
    name: "decontaminate",
    requires: ["text", "id"],
    async *run(input: AsyncIterable<Batch>, ctx: StageContext) {
      const report: ReportRow[] = [];
      // N worker threads, as --workers means everywhere; 0 matches on this thread.
      const workers = Math.max(0, ctx.workers);
      const results: AsyncIterable<[Batch, DecontResult]> =
        workers > 0
          ? orderedMap(input, async (b) => [b, await matchInPool(b, workers)] as [Batch, DecontResult], workers * 2)
          : (async function* () {
              for await (const b of input) yield [b, matchInline(b)] as [Batch, DecontResult];
            })();
      for await (const [batch, res] of results) {
        if (!res.rows.length) {
          yield batch;
          continue;
        }
        const ids = getStrings(batch, "id");
        const keep = new Uint8Array(batch.numRows).fill(1);
        res.rows.forEach((row, k) => {
          keep[row] = 0;
          const matches: Match[] = res.matches[k];
          ctx.stats.remove(`contaminated:${matches[0].benchmark}`);
          for (const m of matches) {
            report.push({
              doc_id: ids[row] ?? `${ctx.file}/${row}`, benchmark: m.benchmark, item_id: m.itemId, ngram: m.ngram,
              position: m.position, file: ctx.file,
            });
          }
        });
        ctx.stats.count("contaminated_matches", res.matches.reduce((a, m) => a + m.length, 0));
        yield filterRows(batch, keep);
      }
      if (writeReport && ctx.outDir) {
        const body = report.map((r) => JSON.stringify(r)).join("\n");
        await writeFileAtomic(join(ctx.outDir, REPORT_DIR, sidecarName(ctx.file)), body ? body + "\n" : "");
      }
    },
    async close() {
      await pool?.destroy();
      pool = undefined;
    },
  };
}

/**
 * Concatenate the report sidecars of `files` (in the given order; files without a sidecar, e.g. not yet processed
 * by any shard, are listed in `missing`) into one JSONL report, written atomically.
 */
export async function writeReport(outDir: string, files: string[], reportPath: string): Promise<{ rows: number; missing: string[] }> {
  const dir = join(outDir, REPORT_DIR);
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  const parts: string[] = [];
  const missing: string[] = [];
  let rows = 0;
  for (const f of files) {
    const name = sidecarName(f);
    if (!present.has(name)) {
      missing.push(f);
      continue;
    }
    const text = await readFile(join(dir, name), "utf8");
    if (text) {
      parts.push(text);
      rows += text.split("\n").length - 1;
    }
  }
  await writeFileAtomic(reportPath, parts.join(""));
  return { rows, missing };
}
