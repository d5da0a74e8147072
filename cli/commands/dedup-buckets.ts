import { defineCommand, parseShard, UsageError } from "../command.js";
import { pipelineOptions } from "../pipeline.js";
import { runBucketStage } from "../../lib/dedup/index.js";
import { workDirOption } from "../options/dedup.js";

export default defineCommand({
  name: "dedup-buckets",
  usage: "dedup-buckets --work-dir DIR [--shard i/N]",
  details: "Shards split the bands (band b goes to shard b % N), so up to --bands machines can work at once. " +
    "Needs stage 1 finished for every input file.",
  options: { ...workDirOption, shard: { ...pipelineOptions.shard, description: "Process bands i, i+N, ... (i/N)." }, force: pipelineOptions.force },
  async run({ opts, ctx }) {
    if (!opts["work-dir"]) throw new UsageError("--work-dir is required");
    const r = await runBucketStage({
      workDir: String(opts["work-dir"]), shard: parseShard(opts.shard), force: Boolean(opts.force), log: ctx.log,
    });
    const c = r.stats.counters;
    ctx.log.info(`dedup-buckets: ${r.done.length} band(s) done, ${r.skipped.length} already done; ` +
      `${c.pairs ?? 0} pairs from ${c.records ?? 0} signatures`);
  },
});
