// The figures of a finished stage 3 that a report shows (one small read of clusters/done.json): which clustering
// ran, documents in and retained, largest cluster, the cluster-size histogram, and (bucket mode) the upper bound
// on what any bucket-feasible selection keeps and the greedy's share of it.
import { join } from "node:path";
import { type WorkManifest, readJson, paths } from "./workdir.js";
import { mergeRunStats, type RunStatsJSON, type StageStatsJSON } from "../runtime/stats.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { ClustersDone } from "./clusters.js";

export interface DedupSummary {
  clustering: "union" | "bucket";
  docs: number | null;
  retained: number | null;
  removed: number;
  clusters: number;
  largestCluster: number | null;
  clusterSizes: Record<string, number> | null;
  upperBound: number | null;
  greedyBoundRatio: number | null;
}

/** Summary of `workDir`'s stage 3, or null when it has not run. */
export async function readDedupSummary(workDir: string): Promise<DedupSummary | null> {
  const d = await readJson<ClustersDone>(paths.clustersDone(workDir));
  if (!d) return null;
  return {
    clustering: d.clustering ?? "union", docs: d.docs ?? null, retained: d.retained ?? null, removed: d.duplicates,
    clusters: d.clusters, largestCluster: d.largestCluster ?? null, clusterSizes: d.clusterSizes ?? null,
    upperBound: d.upperBound ?? null, greedyBoundRatio: d.greedyBoundRatio ?? null,
  };
}

/** Overlap of a corpus with the reference index it was deduplicated against (`--against`): documents and words
 * (whitespace-separated) of the corpus that duplicate a reference document, and how many reference documents
 * they duplicate. From stage 3's figures and stage 4's counters (all shards' stats merged). */
export interface OverlapReport {
  index: string;
  reference: { docs: number; matched: number };
  corpus: { docs: number; words: number };
  shared: { docs: number; words: number; docShare: number; wordShare: number };
  /** Removed as duplicates within the corpus itself (not of the reference). */
  duplicatesWithin: number;
}

export async function overlapReport(workDir: string, stage4: StageStatsJSON): Promise<OverlapReport | null> {
  const d = await readJson<ClustersDone>(paths.clustersDone(workDir));
  const m = await readJson<WorkManifest>(paths.manifest(workDir));
  if (!d?.reference || !m?.against) return null;
  const docs = stage4.docsIn, words = stage4.counters.words ?? 0;
  const sharedDocs = stage4.removed.duplicate_of_reference ?? 0;
  const sharedWords = stage4.counters.words_duplicate_of_reference ?? 0;
  return {
    index: d.reference.index,
    reference: { docs: m.against.docs, matched: d.reference.matched },
    corpus: { docs, words },
    shared: { docs: sharedDocs, words: sharedWords, docShare: docs ? sharedDocs / docs : 0, wordShare: words ? sharedWords / words : 0 },
    duplicatesWithin: stage4.removed.duplicate ?? 0,
  };
}

/** Write OUT/overlap.json from stage 4's stats over every input (one run's, or every shard's markers merged: the
 * same figures, so the same bytes). Null (nothing written) when the work folder was not deduplicated against an
 * index or no stage-4 stats are given. */
export async function writeOverlapReport(workDir: string, outDir: string, stage4: RunStatsJSON[]): Promise<OverlapReport | null> {
  const dedup = mergeRunStats(stage4).stages.find((s) => s.name === "dedup");
  const overlap = dedup ? await overlapReport(workDir, dedup) : null;
  if (overlap) await writeFileAtomic(join(outDir, "overlap.json"), JSON.stringify(overlap, null, 1) + "\n");
  return overlap;
}
