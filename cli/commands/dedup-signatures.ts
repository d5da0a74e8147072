import { defineCommand, parseShard, UsageError } from "../command.js";
import { pipelineOptions, workersFrom } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { runSignatureStage, documentReader } from "../../lib/dedup/index.js";
import { minhashOptions, workDirOption, paramsFromOptions, againstOption } from "../options/dedup.js";
import { formatStats } from "../pipeline.js";

const { input, shard, force, seed, workers, "on-error": onError, "text-key": textKey, "id-key": idKey } = pipelineOptions;

export default defineCommand({
  name: "dedup-signatures",
  usage: "dedup-signatures -i GLOB --work-dir DIR [--shard i/N] [--bands 11 --rows 10 --ngram 5 | --exact]",
  details: "Shards split the sorted input files (file i goes to shard i % N). Every shard and stage 4 must be given " +
    "the same inputs. A rerun skips files whose signatures are complete and intact, and redoes the others.",
  options: { input, ...workDirOption, shard, force, seed, workers, "on-error": onError, "text-key": textKey, "id-key": idKey, ...minhashOptions, ...againstOption },
  async run({ opts, ctx }) {
    const patterns = opts.input ?? [];
    if (!patterns.length) throw new UsageError("--input is required (files or globs)");
    if (!opts["work-dir"]) throw new UsageError("--work-dir is required");
    const params = paramsFromOptions(opts);
    const inputs = await expandInputs(patterns);
    const onErr = opts["on-error"];
    const r = await runSignatureStage({
      inputs, workDir: String(opts["work-dir"]), params, shard: parseShard(opts.shard), force: Boolean(opts.force),
      read: documentReader({ textKey: opts["text-key"], idKey: opts["id-key"], inputs }, onErr),
      onError: onErr, log: ctx.log, maxDocsPerPart: opts["max-docs-per-part"], against: opts.against, workers: workersFrom(opts),
    });
    ctx.log.info([`dedup-signatures: ${r.done.length} file(s) done, ${r.skipped.length} already done`,
      ...formatStats({ files: r.done.length + r.skipped.length, stages: [r.stats.toJSON()] })].join("\n"));
  },
});
