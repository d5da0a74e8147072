import { defineCommand, UsageError } from "../command.js";
import { writeReport } from "../../recipe/report/folder.js";
import { join } from "node:path";

export default defineCommand({
  name: "report",
  usage: "report DIR",
  positionals: 1,
  details: [
    "DIR is a build folder: `megamath build -o DIR` or `megamath build -o DIR --emit ...` wrote its plan.json. The",
    "report's figures come from what the steps left in their folders (completion markers of every shard, mixture.json,",
    "the tokenizer's manifest), so it is the same whether the steps ran in `megamath build` or as emitted tasks; the",
    "emitted pipelines end with this command.",
  ].join("\n"),
  options: {},
  async run({ positionals, ctx }) {
    if (positionals.length !== 1) throw new UsageError("usage: megamath report DIR");
    const dir = positionals[0];
    const report = await writeReport(dir);
    const lines = [`report of build "${report.recipe}":`];
    for (const s of report.steps) lines.push(`  ${s.step.padEnd(18)} ${s.status}${s.note ? ` — ${s.note}` : ""}`);
    if (report.finalCorpus) lines.push(`final corpus: ${report.finalCorpus.docs} documents in ${report.finalCorpus.folder}`);
    lines.push(`report: ${join(dir, "report.html")}`);
    ctx.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
});
