import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions } from "../pipeline.js";
import { runClusterStage } from "../../lib/dedup/index.js";
import { clusteringFromOptions, clusteringOption, intersectOption, workDirOption } from "../options/dedup.js";

export default defineCommand({
  name: "dedup-clusters",
  usage: "dedup-clusters --work-dir DIR [--clustering union|bucket [--intersect DIR,...]] [--no-sidecar]",
  details: "Memory grows with the documents that appear in a pair (about 40 bytes each), not with the corpus. " +
    "Writes clusters/clusters.jsonl (every cluster, its survivor and removed members) unless --no-sidecar, and per " +
    "input the survivor and LSH band of every removed row (clusters/*.prov, read by dedup-filter --keep-removed).",
  options: {
    ...workDirOption, ...clusteringOption, ...intersectOption, force: pipelineOptions.force,
    "no-sidecar": { type: "boolean", description: "Do not write clusters/clusters.jsonl." },
  },
  async run({ opts, ctx }) {
    if (!opts["work-dir"]) throw new UsageError("--work-dir is required");
    let clustering;
    try {
      clustering = clusteringFromOptions(opts);
      if (opts.intersect && clustering !== "bucket") throw new RangeError("--intersect needs --clustering bucket");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const intersect = String(opts.intersect ?? "").split(",").filter(Boolean);
    const r = await runClusterStage({ clustering, intersect,
      workDir: String(opts["work-dir"]), force: Boolean(opts.force), log: ctx.log, sidecar: !opts["no-sidecar"],
    });
    const c = r.stats.counters;
    ctx.log.info(`dedup-clusters: ${r.done.length ? "computed" : "already done"}; ${c.clusters ?? 0} clusters, ` +
      `${c.clustered_docs ?? 0} clustered documents, ${c.duplicates ?? 0} to remove`);
  },
});
