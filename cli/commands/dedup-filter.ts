import { join } from "node:path";
import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions, requireInputOutput, runPipelineCommand } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { dedupFilterStage, checkFilterReady } from "../../lib/dedup/index.js";
import { workDirOption, clusterColumnOption, provenanceOptions, compressionLevelOption, compressionLevelFrom } from "../options/dedup.js";

export default defineCommand({
  name: "dedup-filter",
  usage: "dedup-filter -i GLOB -o DIR --work-dir DIR [--shard i/N] [--cluster-column dup_cluster]",
  details: "Must read exactly the inputs (and --text-key/--id-key/--on-error) stage 1 read. Removed documents are " +
    "counted with reason \"duplicate\". With --format jsonl.gz, --workers N compresses the output in N threads " +
    "(0: on the main thread); the bytes are the same for any N.",
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
    await checkFilterReady(filterOpts);
    const { code } = await runPipelineCommand(opts, ctx, [dedupFilterStage(filterOpts)], { name: "dedup-filter", compressionLevel });
    return code;
  },
});
