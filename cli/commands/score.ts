import { defineCommand, UsageError, type OptionSpecs, type ValuesOf, type globalOptions } from "../command.js";
import type { Stage } from "../../lib/runtime/stage.js";
import { pipelineOptions, runPipelineCommand, workersFrom } from "../pipeline.js";
import { scoreStage } from "../../lib/classify/score-stage.js";
import { DEFAULT_MAX_CHARS, DEFAULT_POSITIVE_LABEL } from "../../lib/classify/training-data.js";
import { ENGLISH_MIN_SCORE } from "../../lib/classify/langid.js";
import { yearStage } from "../../lib/stages/year.js";
import { scoreFiguresStage } from "../../lib/stages/score-figures.js";

const options = {
  ...pipelineOptions,
  model: { type: "string", short: "m", placeholder: "FILE", description: "fastText supervised model (.bin or .ftz)." },
  label: { type: "string", default: DEFAULT_POSITIVE_LABEL, description: "Label whose probability is the score." },
  column: { type: "string", default: "math_score", description: "Output column of the score." },
  langid: { type: "boolean", description: "Also add lang and lang_score (lid.176.ftz)." },
  "lid-model": { type: "string", placeholder: "FILE", description: "Language-ID model (default: lid.176.ftz from the fasttext.wasm.js package)." },
  "english-only": { type: "boolean", description: "Drop rows that are not English by MegaMath's rule (implies --langid)." },
  "english-min-score": { type: "number", default: ENGLISH_MIN_SCORE, description: "lang_score needed with --english-only." },
  "max-chars": { type: "integer", default: DEFAULT_MAX_CHARS, description: "Score at most this many leading UTF-16 units of a document." },
  preprocess: { type: "string", choices: ["megamath", "none"], default: "megamath", description: "Text normalisation before the math model." },
  "exact-rows": { type: "boolean", default: false, description: "Score the math model with fastText's own float32 row sums: bit-identical to 'fasttext predict-prob', about twice the CPU for the MegaMath model. By default a model with few labels for its dimension scores through its input rows pre-projected onto the output layer (for the MegaMath model a 16 MB table read instead of the 2 GB matrix, built in ~1.5 CPU-s at start): probabilities within fastText's own float32 rounding (4.4e-6 at most on the bench documents), documents of more than 16,384 ids summed exactly." },
  "year-column": { type: "string", placeholder: "COLUMN", description: "Also add the Common Crawl year (from dump/cc-path/url/timestamp columns) in this column; null when none is found." },
} as const satisfies OptionSpecs;

export default defineCommand({
  name: "score",
  usage: "score --model M.bin --input GLOB --output DIR [--langid] [--label __label__MATH] [--workers N]",
  details: [
    "Each document is normalised exactly like MegaMath's preprocess_for_fasttext (NFKC, nltk wordpunct tokens,",
    "lowercase, digits to <NUM>, ...) and the model's probability of --label becomes the score column. Rows keep",
    "their order and all their columns. Thresholds are applied later with 'megamath filter --min math_score=0.4'.",
    "A model with few labels for its dimension scores through its input rows projected onto the output layer:",
    "probabilities within fastText's own float32 rounding, not its bits; --exact-rows gives the bits of 'fasttext predict-prob'.",
    "--langid adds lang and lang_score from fastText's lid.176.ftz (newlines replaced by spaces first);",
    "--english-only also drops rows that fail MegaMath's rule (top label en with score >= 0.65).",
    `Empty documents get the model's score for an empty line; documents over --max-chars (default ${DEFAULT_MAX_CHARS}`,
    "UTF-16 units) are scored on their first --max-chars (stage counter 'truncated').",
  ].join("\n"),
  options,
  stages: async ({ opts }) => stagesFor(opts),
  async run({ opts, ctx }) {
    const stages = await stagesFor(opts);
    try {
      return (await runPipelineCommand(opts, ctx, stages, { name: "score" })).code;
    } finally {
      for (const s of stages) await s.close?.();
    }
  },
});

async function stagesFor(opts: ValuesOf<typeof options & typeof globalOptions>): Promise<Stage[]> {
  if (!opts.model && !opts.langid && !opts["english-only"]) {
    throw new UsageError("give --model FILE (math classifier) and/or --langid");
  }
  if (opts["max-chars"] < 1) throw new UsageError("--max-chars must be >= 1");
  const stage = scoreStage({
    modelPath: opts.model,
    label: opts.label,
    column: opts.column,
    langid: Boolean(opts.langid),
    lidModelPath: opts["lid-model"],
    englishOnly: Boolean(opts["english-only"]),
    englishMinScore: opts["english-min-score"],
    maxChars: opts["max-chars"],
    preprocess: opts.preprocess,
    exactRows: opts["exact-rows"],
    workers: workersFrom(opts),
  });
  // The histogram and years the build report draws, counted here: a fused score step writes no documents to reread.
  return [stage, ...(opts["year-column"] ? [yearStage(opts["year-column"])] : []), scoreFiguresStage(opts.column)];
}
