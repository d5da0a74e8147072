import { defineCommand, UsageError, type CliContext, type ValuesOf, type globalOptions } from "../command.js";
import { pipelineOptions, runPipelineCommand } from "../pipeline.js";
import { DEFAULT_REFINE_LIMITS, refineStage } from "../../lib/llm/refine-stage.js";
import { clientFromOptions, llmOptions } from "../options/llm.js";
import { loadPrompt, type DocumentFence } from "../../lib/llm/prompts.js";

const options = {
  ...pipelineOptions,
  ...llmOptions({ maxTokens: 8192, temperature: 0 }),
  "max-input-chars": { type: "integer", default: DEFAULT_REFINE_LIMITS.maxInputChars,
    description: "Documents longer than this are removed without a request (0: no limit)." },
  "min-ratio": { type: "number", default: DEFAULT_REFINE_LIMITS.minRatio, description: "Smallest answer/input length ratio kept." },
  "max-ratio": { type: "number", default: DEFAULT_REFINE_LIMITS.maxRatio, description: "Largest answer/input length ratio kept." },
  "keep-original": { type: "string", placeholder: "COLUMN", description: "Keep the original text in this column." },
} as const;

/** The refinement stage these flags ask for (checked). */
function refineFor(opts: ValuesOf<typeof options & typeof globalOptions>, ctx: CliContext) {
  const minRatio = opts["min-ratio"];
  const maxRatio = opts["max-ratio"];
  if (!(minRatio >= 0 && maxRatio > minRatio)) throw new UsageError("need 0 <= --min-ratio < --max-ratio");
  if (opts["max-input-chars"] < 0) throw new UsageError("--max-input-chars must be >= 0 (0: no limit)");
  const client = clientFromOptions(opts);
  const stage = refineStage({
    client,
    prompt: loadPrompt(opts.prompt ?? "promax-refine"),
    fence: opts.fence,
    maxInputChars: opts["max-input-chars"],
    minRatio, maxRatio,
    originalColumn: opts["keep-original"],
    journalDir: opts["journal-dir"],
  });
  ctx.log.info(`refine: ${client.endpointUrl}, model ${client.model}, ${client.maxInFlight} requests in flight`);
  return stage;
}

export default defineCommand({
  name: "refine",
  usage: "refine --input GLOB --output DIR --model NAME [--base-url URL] [options]",
  details: [
    "Each document goes into the Pro-Max refinement prompt (OctoThinker App. Fig. 16) and the answer replaces text.",
    "Removed (counted, not sent): empty input, input over --max-input-chars. Failed, each counted by reason like an",
    "unparseable annotation (a file with no usable answer fails whole, see --max-failed-share): empty answer, answer",
    "cut off (finish_reason=length), answer/input length ratio outside [--min-ratio, --max-ratio]. A lead-in line such as",
    "'Here is the refined text:' is stripped. Answers are journaled for request-level resume.",
  ].join("\n"),
  options,
  // A per-document command: a recipe runs it fused with the steps around it (refine → tokenize).
  stages: async ({ opts, ctx }) => [refineFor(opts, ctx)],
  async run({ opts, ctx }) {
    const stage = refineFor(opts, ctx);
    return (await runPipelineCommand(opts, ctx, [stage], { name: "refine" })).code;
  },
});
