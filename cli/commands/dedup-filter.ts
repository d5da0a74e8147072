import { join } from "node:path";
import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions, pipelineRun, requireInputOutput, runPipelineCommand } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { dedupFilterStage, checkFilterReady, writeOverlapReport } from "../../lib/dedup/index.js";
import { currentMarkers } from "../../lib/runtime/runner.js";
import { workDirOption, clusterColumnOption, provenanceOptions, compressionLevelOption, compressionLevelFrom, logOverlap } from "../options/dedup.js";

export default defineCommand({
  name: "dedup-filter",
  usage: "dedup-filter -i GLOB -o DIR --work-dir DIR [--shard i/N] [--cluster-column dup_cluster]",
  details: "Must read exactly the inputs (and --text-key/--id-key/--on-error) stage 1 read. Removed documents are " +
    "counted with reason \"duplicate\". With a work folder made --against an index, the shard that finds every " +
    "input filtered writes OUTPUT/overlap.json, as megamath dedup does. With --format jsonl.gz, --workers N " +
    "compresses the output in N threads (0: on the main thread); the bytes are the same for any N.",
  options: { ...pipelineOptions, ...workDirOption, ...clusterColumnOption, ...provenanceOptions, ...compressionLevelOption },
  async run({ opts, ctx }) {
    const { inputs: patterns, output } = requireInputOutput(opts);
    const workDir = String(opts["work-dir"] ?? join(output, "dedup-work"));
    if (!opts["work-dir"] && !patterns.length) throw new UsageError("--work-dir is required");
    let compressionLevel;
    try {
      compressionLevel = compressionLevelFrom(opts);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const inputs = await expandInputs(patterns);
    const filterOpts = {
      workDir, inputs, clusterColumn: opts["cluster-column"] || null,
      clusterSizeColumn: opts["cluster-size-column"] || null, keepRemoved: Boolean(opts["keep-removed"]),
    };
    const { manifest } = await checkFilterReady(filterOpts);
    const meta = { name: "dedup-filter", compressionLevel };
    const { code } = await runPipelineCommand(opts, ctx, [dedupFilterStage(filterOpts)], meta);
    if (manifest.against) {
      // OUTPUT/overlap.json needs every input's figures: the shard that finds every shard's markers current writes
      // it (the same bytes `megamath dedup` writes); the others say what is still missing.
      const { run, step } = pipelineRun(opts, ctx, [dedupFilterStage(filterOpts)], meta);
      const { markers, missing } = await currentMarkers({ ...run, ...step });
      const overlap = missing ? null : await writeOverlapReport(workDir, output, markers.map((m) => m.stats));
      if (overlap) logOverlap(ctx.log, overlap, join(output, "overlap.json"));
      else ctx.log.info(`overlap.json: ${missing} input(s) not filtered yet (other shards); the shard that finishes last writes it`);
    }
    return code;
  },
});
