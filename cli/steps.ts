// The commands a recipe step can run, loaded lazily (`megamath inspect` does not pay for the tokenizer or the
// trainer). `build` is not among them: the recipe runs these, and `build` runs the recipe, so keeping it out of this
// list keeps the import graph free of circles (cli/registry.ts adds it for the command line).
import type { Command, OptionSpecs } from "./command.js";
import { globalOptions } from "./command.js";

export const stepCommands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  extract: { summary: "Common Crawl WARC → documents with math-preserving text, URL-filtered.", load: () => import("./commands/extract.js") },
  inspect: { summary: "Show schema, row count and first rows of a Parquet/JSONL/Arrow file, or the counts of a token file or folder.", load: () => import("./commands/inspect.js") },
  stats: { summary: "Merge the completion markers of an output folder (all shards) into exact totals.", load: () => import("./commands/stats.js") },
  sample: { summary: "Year-stratified uniform sample: N documents per year, or a fraction of every year.", load: () => import("./commands/sample.js") },
  annotate: { summary: "Score documents 0-5 with an LLM and the FineMath prompt (column finemath_score).", load: () => import("./commands/annotate.js") },
  "train-classifier": { summary: "Train a fastText math classifier from labelled documents; report P/R/F1 and the PR curve.", load: () => import("./commands/train-classifier.js") },
  score: { summary: "Add math_score = P(positive label) from a fastText model (and optionally lang, lang_score).", load: () => import("./commands/score.js") },
  filter: { summary: "Keep rows whose columns pass thresholds (e.g. math_score >= 0.4); count the rest by reason.", load: () => import("./commands/filter.js") },
  dedup: { summary: "MinHash-LSH near-dedup: all four stages locally (signatures, band merge, clusters, filter).", load: () => import("./commands/dedup.js") },
  "dedup-signatures": { summary: "Dedup stage 1: MinHash signatures of each input file, as sorted per-band files in --work-dir.", load: () => import("./commands/dedup-signatures.js") },
  "dedup-buckets": { summary: "Dedup stage 2: merge each LSH band's signature files into duplicate pairs.", load: () => import("./commands/dedup-buckets.js") },
  "dedup-clusters": { summary: "Dedup stage 3: connected components of all duplicate pairs and the survivor of each (one task).", load: () => import("./commands/dedup-clusters.js") },
  "dedup-filter": { summary: "Dedup stage 4: reread the inputs and keep one document per cluster.", load: () => import("./commands/dedup-filter.js") },
  "dedup-index": { summary: "Build a reusable dedup index of a reference corpus, for dedup --against (remove what duplicates it).", load: () => import("./commands/dedup-index.js") },
  decontaminate: { summary: "Remove documents sharing a 13-gram with a math benchmark (GSM8K, MATH, MMLU-STEM, AIME, AMC, ...).", load: () => import("./commands/decontaminate.js") },
  refine: { summary: "Rewrite documents with an LLM and the Pro-Max refinement prompt (the answer replaces text).", load: () => import("./commands/refine.js") },
  tokenize: { summary: "Tokenize documents into Megatron .bin/.idx token files (one shuffled shard per input file).", load: () => import("./commands/tokenize.js") },
  mix: { summary: "Plan and pack a weighted token mixture (Stable / Decay presets).", load: () => import("./commands/mix.js") },
  train: { summary: "Launch the bundled PyTorch trainer on a packed mixture.", load: () => import("./commands/train.js") },
};

export async function loadStepCommand(name: string): Promise<Command> {
  const entry = stepCommands[name];
  if (!entry) throw new Error(`unknown command "${name}"; steps can run: ${Object.keys(stepCommands).join(", ")}`);
  return (await entry.load()).default;
}

/** Every option each of `names` declares (global ones included), for planning and emitting a recipe. */
export async function stepOptionSpecs(names: Iterable<string>): Promise<Map<string, OptionSpecs>> {
  const specs = new Map<string, OptionSpecs>();
  for (const c of names) specs.set(c, { ...globalOptions, ...(await loadStepCommand(c)).options });
  return specs;
}
