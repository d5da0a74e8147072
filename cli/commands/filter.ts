import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions, runPipelineCommand } from "../pipeline.js";
import { filterStage, parseConditions } from "../../lib/stages/filter.js";

export default defineCommand({
  name: "filter",
  usage: "filter --input GLOB --output DIR --min COLUMN=VALUE [--max COLUMN=VALUE] [--equals COLUMN=VALUE]",
  details: [
    "A row is kept when it passes every condition: --min keeps column >= value, --max keeps column <= value",
    "(numeric columns), --equals keeps column == value (string columns). Missing values (null, NaN) never pass.",
    "Each dropped row is counted once, under the first condition it fails (order: min, max, equals), with a",
    "reason such as 'math_score<0.4', 'lang!=en' or 'math_score:missing'.",
  ].join("\n"),
  options: {
    ...pipelineOptions,
    min: { type: "list", placeholder: "COL=V", description: "Keep rows with COL >= V (repeatable)." },
    max: { type: "list", placeholder: "COL=V", description: "Keep rows with COL <= V (repeatable)." },
    equals: { type: "list", placeholder: "COL=V", description: "Keep rows with COL equal to the string V (repeatable)." },
  },
  async run({ opts, ctx }) {
    let conditions;
    try {
      conditions = parseConditions({ min: opts.min, max: opts.max, equals: opts.equals });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (!conditions.length) throw new UsageError("give at least one of --min, --max, --equals (e.g. --min math_score=0.4)");
    return (await runPipelineCommand(opts, ctx, [filterStage({ conditions })], { name: "filter" })).code;
  },
});
