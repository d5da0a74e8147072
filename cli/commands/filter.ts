import { defineCommand, UsageError, type OptionSpecs, type ValuesOf, type globalOptions } from "../command.js";
import type { Stage } from "../../lib/runtime/stage.js";
import { pipelineOptions, runPipelineCommand } from "../pipeline.js";
import { filterStage, parseConditions } from "../../lib/stages/filter.js";

const options = {
  ...pipelineOptions,
  min: { type: "list", placeholder: "COL=V", description: "Keep rows with COL >= V (repeatable)." },
  max: { type: "list", placeholder: "COL=V", description: "Keep rows with COL <= V (repeatable)." },
  equals: { type: "list", placeholder: "COL=V", description: "Keep rows with COL equal to the string V (repeatable)." },
} as const satisfies OptionSpecs;

export default defineCommand({
  name: "filter",
  usage: "filter --input GLOB --output DIR --min COLUMN=VALUE [--max COLUMN=VALUE] [--equals COLUMN=VALUE]",
  details: [
    "A row is kept when it passes every condition: --min keeps column >= value, --max keeps column <= value",
    "(numeric columns), --equals keeps column == value (string columns). Missing values (null, NaN) never pass.",
    "Each dropped row is counted once, under the first condition it fails (order: min, max, equals), with a",
    "reason such as 'math_score<0.4', 'lang!=en' or 'math_score:missing'.",
  ].join("\n"),
  options,
  stages: async ({ opts }) => stagesFor(opts),
  async run({ opts, ctx }) {
    const stages = await stagesFor(opts);
    return (await runPipelineCommand(opts, ctx, stages, { name: "filter" })).code;
  },
});

async function stagesFor(opts: ValuesOf<typeof options & typeof globalOptions>): Promise<Stage[]> {
  let conditions;
  try {
    conditions = parseConditions({ min: opts.min, max: opts.max, equals: opts.equals });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!conditions.length) throw new UsageError("give at least one of --min, --max, --equals (e.g. --min math_score=0.4)");
  return [filterStage({ conditions })];
}
