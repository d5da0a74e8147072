import { join } from "node:path";
import { defineCommand, parseShard, UsageError } from "../command.js";
import { formatStats, pipelineOptions, requireInputOutput, runPipelineCommand } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { dedupFilterStage, runDedupStages } from "../../lib/dedup/index.js";
import {
  minhashOptions, workDirOption, clusterColumnOption, paramsFromOptions, clusteringOption, clusteringFromOptions,
  provenanceOptions, seedsOption,
} from "../options/dedup.js";

export default defineCommand({
  name: "dedup",
  usage: "dedup -i GLOB -o DIR [--work-dir DIR] [--bands 11 --rows 10 --ngram 5] [--keep-column math_score] [--clustering union|bucket] [--keep-removed] [--exact]",
  details: "Same results as running dedup-signatures, dedup-buckets, dedup-clusters and dedup-filter one after " +
    "the other. Each stage leaves completion markers: after a kill, rerunning the same command resumes and " +
    "gives identical output. Intermediate files go to --work-dir (default OUTPUT/dedup-work).",
  options: { ...pipelineOptions, ...workDirOption, ...minhashOptions, ...clusteringOption, ...seedsOption, ...clusterColumnOption, ...provenanceOptions },
  async run({ opts, ctx }) {
    const { inputs: patterns, output } = requireInputOutput(opts);
    if (parseShard(opts.shard).count !== 1) {
      throw new UsageError("megamath dedup runs all stages on one machine; for a cluster use the four stage commands");
    }
    let params, clustering;
    try {
      params = paramsFromOptions(opts);
      clustering = clusteringFromOptions(opts);
      if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new RangeError("--seeds must be >= 1");
      if (opts.seeds > 1 && params.exact) throw new RangeError("--seeds needs MinHash (not --exact)");
      if (opts.seeds > 1 && clustering !== "bucket") throw new RangeError("--seeds > 1 needs --clustering bucket");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const workDir = String(opts["work-dir"] ?? join(output, "dedup-work"));
    const inputs = await expandInputs(patterns);
    const onError = opts["on-error"];
    const r = await runDedupStages({
      inputs, workDir, params, onError, force: Boolean(opts.force), log: ctx.log, clustering, seeds: opts.seeds,
      read: { textKey: opts["text-key"], idKey: opts["id-key"] },
      maxDocsPerPart: opts["max-docs-per-part"],
    });
    const c = (i: number) => Object.entries(r.stages[i].counters).map(([k, v]) => `${k}=${v}`).join(" ");
    ctx.log.info(["dedup stages 1-3:", ...formatStats({ files: inputs.length, stages: [r.stages[0]] }),
      `  dedup-buckets    ${c(1)}`, `  dedup-clusters   ${c(2)}`].join("\n"));
    // Stage 4's completion markers record the clusters they applied (the stage's identity), so outputs made with
    // other clusters are recomputed and the rest resume.
    const filter = dedupFilterStage({
      workDir, inputs, clusterColumn: (opts["cluster-column"]) || null,
      clusterSizeColumn: (opts["cluster-size-column"]) || null, keepRemoved: Boolean(opts["keep-removed"]),
    });
    const { code } = await runPipelineCommand(opts, ctx, [filter], { name: "dedup" });
    return code;
  },
});
