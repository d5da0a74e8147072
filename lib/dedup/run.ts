// Glue for the commands: the reader stage 1 shares with stage 4, and stages 1-3 in a row for `megamath dedup`.
import { join } from "node:path";
import { readDocuments, type ReadOptions } from "../io/index.js";
import type { Logger } from "../runtime/log.js";
import type { OnError } from "../runtime/stage.js";
import type { StageStatsJSON } from "../runtime/stats.js";
import type { DedupParams } from "./params.js";
import { type ReadFile, runSignatureStage } from "./signatures.js";
import { runBucketStage } from "./buckets.js";
import { runClusterStage } from "./clusters.js";

/** The document reader of stage 1. Stage 4 runs under the pipeline runner, which reads with the same
 * readDocuments and the same options, so both number the rows of a file identically (and, given `inputs` as the
 * runner does, give documents without an id the same FILE/ROW id: stage 1 records ids for dup_of_id). */
export function documentReader(read: ReadOptions, onError: OnError): ReadFile {
  return (file, stats) => readDocuments(file, { ...read, onError, stats });
}

export interface DedupStagesOptions {
  /** Expanded, sorted input files. */
  inputs: string[];
  workDir: string;
  params: DedupParams;
  read: ReadOptions;
  onError: OnError;
  force?: boolean;
  log?: Logger;
  maxDocsPerPart?: number;
  sidecar?: boolean;
  clustering?: "union" | "bucket";
  /** Hash families (multi-seed LSH); > 1 needs clustering "bucket". */
  seeds?: number;
  /** A reference index folder (against.ts): remove the inputs' duplicates of it too. */
  against?: string;
  /** Stage 3 (bucket mode): bytes of buckets held in memory before they are spilled (clusters.ts). */
  clusterMemoryBytes?: number;
  /** Stage 1's worker threads (0: the main thread). */
  workers?: number;
}

/** Work folder of extra seed i (1..T-1) of a `megamath dedup --seeds T` run. */
export const seedWorkDir = (workDir: string, i: number) => join(workDir, "seeds", String(i));

export interface DedupStagesResult {
  stages: StageStatsJSON[];
}

/** Stages 1-3 locally, each skipping the pieces an earlier (possibly killed) run completed. */
export async function runDedupStages(o: DedupStagesOptions): Promise<DedupStagesResult> {
  const s1 = await runSignatureStage({
    inputs: o.inputs, workDir: o.workDir, params: o.params, read: documentReader({ ...o.read, inputs: o.inputs }, o.onError), force: o.force,
    log: o.log, onError: o.onError, maxDocsPerPart: o.maxDocsPerPart, against: o.against, workers: o.workers,
  });
  if (o.against && (o.seeds ?? 1) > 1) throw new Error("dedup against an index takes one seed");
  const s2 = await runBucketStage({ workDir: o.workDir, force: o.force, log: o.log });
  const intersect: string[] = [];
  for (let i = 1; i < (o.seeds ?? 1); i++) {
    const w = seedWorkDir(o.workDir, i);
    const params = { ...o.params, seed: (o.params.seed + i) >>> 0 };
    await runSignatureStage({
      inputs: o.inputs, workDir: w, params, read: documentReader({ ...o.read, inputs: o.inputs }, o.onError), force: o.force, log: o.log,
      onError: o.onError, maxDocsPerPart: o.maxDocsPerPart, workers: o.workers,
    });
    await runBucketStage({ workDir: w, force: o.force, log: o.log });
    intersect.push(w);
  }
  const s3 = await runClusterStage({
    workDir: o.workDir, force: o.force, log: o.log, sidecar: o.sidecar, clustering: o.clustering, intersect,
    memoryBytes: o.clusterMemoryBytes,
  });
  return { stages: [s1.stats.toJSON(), s2.stats.toJSON(), s3.stats.toJSON()] };
}
