import { join } from "node:path";
import { defineCommand, parseShard, UsageError } from "../command.js";
import { formatStats, pipelineOptions, requireInputOutput, runPipelineCommand, workersFrom } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { dedupFilterStage, runDedupStages } from "../../lib/dedup/index.js";
import {
  minhashOptions, workDirOption, clusterColumnOption, paramsFromOptions, clusteringOption, clusteringFromOptions,
  provenanceOptions, seedsOption, againstOption, compressionLevelOption, compressionLevelFrom, clusterMemoryOption, clusterMemoryFrom, logOverlap,
} from "../options/dedup.js";
import { writeOverlapReport } from "../../lib/dedup/index.js";

/** What `dedup-filter` declares (cli/commands/dedup-filter.ts). */
const DEDUP_FILTER_OPTIONS = { ...pipelineOptions, ...workDirOption, ...clusterColumnOption, ...provenanceOptions, ...compressionLevelOption };

export default defineCommand({
  name: "dedup",
  usage: "dedup -i GLOB -o DIR [--work-dir DIR] [--bands 11 --rows 10 --ngram 5] [--keep-column math_score] [--clustering union|bucket] [--keep-removed] [--exact] [--against INDEX]",
  details: "Same results as running dedup-signatures, dedup-buckets, dedup-clusters and dedup-filter one after " +
    "the other. Each stage leaves completion markers: after a kill, rerunning the same command resumes and " +
    "gives identical output. Intermediate files go to --work-dir (default OUTPUT/dedup-work). With --against, OUTPUT/overlap.json " +
    "gives the documents and words the inputs share with the reference corpus. --workers N: stage 1 hashes and " +
    "stage 4 compresses .jsonl.gz output in N worker threads (0: the main thread); the outputs are the same for any N.",
  options: { ...pipelineOptions, ...workDirOption, ...minhashOptions, ...clusteringOption, ...clusterMemoryOption, ...seedsOption, ...clusterColumnOption, ...provenanceOptions, ...compressionLevelOption, ...againstOption },
  async run({ opts, ctx }) {
    const { inputs: patterns, output } = requireInputOutput(opts);
    if (parseShard(opts.shard).count !== 1) {
      throw new UsageError("megamath dedup runs all stages on one machine; for a cluster use the four stage commands");
    }
    let params, clustering, compressionLevel, clusterMemoryBytes;
    try {
      params = paramsFromOptions(opts);
      clusterMemoryBytes = clusterMemoryFrom(opts);
      compressionLevel = compressionLevelFrom(opts);
      clustering = clusteringFromOptions(opts);
      if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new RangeError("--seeds must be >= 1");
      if (opts.seeds > 1 && opts.against) throw new RangeError("--seeds > 1 cannot be combined with --against");
      if (opts.seeds > 1 && params.exact) throw new RangeError("--seeds needs MinHash (not --exact)");
      if (opts.seeds > 1 && clustering !== "bucket") throw new RangeError("--seeds > 1 needs --clustering bucket");
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const workDir = String(opts["work-dir"] ?? join(output, "dedup-work"));
    const inputs = await expandInputs(patterns);
    const onError = opts["on-error"];
    const r = await runDedupStages({
      inputs, workDir, params, onError, force: Boolean(opts.force), log: ctx.log, clustering, seeds: opts.seeds, clusterMemoryBytes,
      read: { textKey: opts["text-key"], idKey: opts["id-key"] },
      maxDocsPerPart: opts["max-docs-per-part"], against: opts.against, workers: workersFrom(opts),
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
    // Stage 4 is `dedup-filter` with the options that command takes: its outputs then carry the fingerprints the
    // emitted stage commands give them, so a build over a folder the cluster filled reuses them (and vice versa).
    const stage4Opts = { ...Object.fromEntries(Object.entries(opts).filter(([k]) => k in DEDUP_FILTER_OPTIONS)), "work-dir": workDir } as typeof opts;
    const { code, result } = await runPipelineCommand(stage4Opts, ctx, [filter], { name: "dedup-filter", compressionLevel });
    const overlap = opts.against ? await writeOverlapReport(workDir, output, [result.stats]) : null;
    if (overlap) logOverlap(ctx.log, overlap, join(output, "overlap.json"));
    return code;
  },
});
