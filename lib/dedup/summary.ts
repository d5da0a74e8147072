// The figures of a finished stage 3 that a report shows (one small read of clusters/done.json): which clustering
// ran, documents in and retained, largest cluster, the cluster-size histogram, and (bucket mode) the upper bound
// on what any bucket-feasible selection keeps and the greedy's share of it.
import { readJson, paths } from "./workdir.js";
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
