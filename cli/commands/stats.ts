import { defineCommand, UsageError } from "../command.js";
import { mergeFolderStats } from "../../lib/runtime/runner.js";
import { formatStats } from "../pipeline.js";

export default defineCommand({
  name: "stats",
  usage: "stats DIR [--json]",
  positionals: 1,
  options: { json: { type: "boolean", description: "Print the merged stats as JSON." } },
  async run({ positionals, opts, ctx }) {
    if (positionals.length !== 1) throw new UsageError("usage: megamath stats DIR");
    const merged = await mergeFolderStats(positionals[0]);
    if (opts.json) ctx.stdout.write(JSON.stringify(merged, null, 1) + "\n");
    else ctx.stdout.write([`${positionals[0]}: ${merged.markers} file(s), command(s): ${merged.commands.join(", ")}`, ...formatStats(merged)].join("\n") + "\n");
    return 0;
  },
});
