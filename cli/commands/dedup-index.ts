import { defineCommand, parseShard, UsageError } from "../command.js";
import { pipelineOptions, workersFrom } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { buildIndex, documentReader, runSignatureStage } from "../../lib/dedup/index.js";
import { minhashOptions, paramsFromOptions } from "../options/dedup.js";

const { input, shard, force, seed, workers, "on-error": onError, "text-key": textKey, "id-key": idKey } = pipelineOptions;

export default defineCommand({
  name: "dedup-index",
  usage: "dedup-index --index DIR [-i GLOB] [--shard i/N] [--bands 11 --rows 10 --ngram 5 | --exact]",
  details: "Builds a reusable index of a reference corpus for `megamath dedup --against DIR` (or dedup-signatures " +
    "--against DIR): with -i, stage 1 (signatures) of the reference into DIR, then per band its distinct keys. " +
    "On a cluster: dedup-signatures -i REF --work-dir DIR --shard i/N, then dedup-index --index DIR --shard i/N " +
    "(bands b % N == i); the last shard to finish writes DIR/index/index.json.",
  options: {
    index: { type: "string", placeholder: "DIR", description: "Index folder (a stage-1 work folder of the reference corpus)." },
    input: { ...input, description: "Reference corpus files or globs: run stage 1 into --index first (unsharded)." },
    shard: { ...shard, description: "Build bands i, i+N, ... (i/N); with -i, only 0/1." }, force, seed, workers,
    "on-error": onError, "text-key": textKey, "id-key": idKey, ...minhashOptions,
  },
  async run({ opts, ctx }) {
    if (!opts.index) throw new UsageError("--index is required");
    const s = parseShard(opts.shard);
    const patterns = opts.input ?? [];
    if (patterns.length) {
      if (s.count !== 1) throw new UsageError("-i runs stage 1 unsharded; for shards run dedup-signatures first, then dedup-index without -i");
      const params = paramsFromOptions(opts);
      const inputs = await expandInputs(patterns);
      await runSignatureStage({
        inputs, workDir: opts.index, params, force: Boolean(opts.force), log: ctx.log,
        read: documentReader({ textKey: opts["text-key"], idKey: opts["id-key"], inputs }, opts["on-error"]),
        onError: opts["on-error"], maxDocsPerPart: opts["max-docs-per-part"], workers: workersFrom(opts),
      });
    }
    const r = await buildIndex({ indexDir: opts.index, shard: s, force: Boolean(opts.force), log: ctx.log });
    ctx.log.info(`dedup-index: ${r.done.length} band(s) built, ${r.skipped.length} already built; ` +
      (r.manifest ? `index complete: ${r.manifest.docs} documents, ${r.manifest.keys.reduce((a, b) => a + b, 0)} keys`
        : "other bands still missing (other shards)"));
  },
});
