import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions } from "../pipeline.js";
import { runClusterStage } from "../../lib/dedup/index.js";
import { clusterMemoryFrom, clusterMemoryOption, clusteringFromOptions, clusteringOption, intersectOption, workDirOption } from "../options/dedup.js";

export default defineCommand({
  name: "dedup-clusters",
  usage: "dedup-clusters --work-dir DIR [--clustering union|bucket [--intersect DIR,...]] [--cluster-memory-mb 2048] [--no-sidecar]",
  details: "Memory grows with the documents that appear in a pair (about 40 bytes each), not with the corpus; bucket " +
    "mode's buckets beyond --cluster-memory-mb are spilled to disk. " +
    "Writes clusters/clusters.jsonl (every cluster, its survivor and removed members) unless --no-sidecar, and per " +
    "input the survivor and LSH band of every removed row (clusters/*.prov, read by dedup-filter --keep-removed).",
  options: {
    ...workDirOption, ...clusteringOption, ...intersectOption, ...clusterMemoryOption, force: pipelineOptions.force,
    "no-sidecar": { type: "boolean", description: "Do not write clusters/clusters.jsonl." },
  },
  async run({ opts, ctx }) {
    if (!opts["work-dir"]) throw new UsageError("--work-dir is required");
    let clustering, memoryBytes;
    try {
      clustering = clusteringFromOptions(opts);
      memoryBytes = clusterMemoryFrom(opts);
      if (opts.intersect && clustering !== "bucket") throw new RangeError("--intersect needs --clustering bucket");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const intersect = String(opts.intersect ?? "").split(",").filter(Boolean);
    const r = await runClusterStage({ clustering, intersect, memoryBytes,
      workDir: String(opts["work-dir"]), force: Boolean(opts.force), log: ctx.log, sidecar: !opts["no-sidecar"],
    });
    const c = r.stats.counters;
    ctx.log.info(`dedup-clusters: ${r.done.length ? "computed" : "already done"}; ${c.clusters ?? 0} clusters, ` +
      `${c.clustered_docs ?? 0} clustered documents, ${c.duplicates ?? 0} to remove`);
  },
});
