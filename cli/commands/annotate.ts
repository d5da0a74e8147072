import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions, runPipelineCommand } from "../pipeline.js";
import { annotateStage, DEFAULT_ANNOTATE_MAX_CHARS } from "../../lib/llm/annotate-stage.js";
import { clientFromOptions, llmOptions } from "../options/llm.js";
import { loadPrompt, type DocumentFence } from "../../lib/llm/prompts.js";

export default defineCommand({
  name: "annotate",
  usage: "annotate --input GLOB --output DIR --model NAME [--base-url URL] [options]",
  details: [
    "Each document, cut to --max-chars at a word boundary, is put into the FineMath 5-point prompt (OctoThinker",
    "App. Fig. 15) and the answer's last 'Final score: N' (N in 0..5) becomes finemath_score. Answers without a",
    "readable score are counted as failed and kept raw in OUTPUT/failures/annotate/. Every answer is journaled, so",
    "a killed run started again re-sends only unanswered requests and writes the same output.",
  ].join("\n"),
  options: {
    ...pipelineOptions,
    ...llmOptions({ maxTokens: 512, temperature: 0 }),
    "max-chars": { type: "integer", default: DEFAULT_ANNOTATE_MAX_CHARS,
      description: "Document budget in characters; longer documents are cut at a word boundary (0: no limit)." },
    "score-column": { type: "string", default: "finemath_score", description: "Output column of the score." },
    "raw-column": { type: "string", description: "Also output the model's full answer in this column." },
  },
  async run({ opts, ctx }) {
    if (opts["max-chars"] < 0) throw new UsageError("--max-chars must be >= 0");
    const client = clientFromOptions(opts);
    const stage = annotateStage({
      client,
      prompt: loadPrompt(opts.prompt ?? "finemath"),
      maxChars: opts["max-chars"],
      fence: opts.fence,
      scoreColumn: opts["score-column"],
      rawColumn: opts["raw-column"],
      journalDir: opts["journal-dir"],
    });
    ctx.log.info(`annotate: ${client.endpointUrl}, model ${client.model}, ${client.maxInFlight} requests in flight`);
    return (await runPipelineCommand(opts, ctx, [stage], { name: "annotate" })).code;
  },
});
