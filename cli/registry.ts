// Every subcommand, loaded lazily: `megamath inspect` does not pay for loading the tokenizer or the trainer.
import type { Command } from "./command.js";

export const commands: Record<string, () => Promise<{ default: Command }>> = {
  build: () => import("./commands/build.js"),
  extract: () => import("./commands/extract.js"),
  inspect: () => import("./commands/inspect.js"),
  stats: () => import("./commands/stats.js"),
  sample: () => import("./commands/sample.js"),
  annotate: () => import("./commands/annotate.js"),
  "train-classifier": () => import("./commands/train-classifier.js"),
  score: () => import("./commands/score.js"),
  filter: () => import("./commands/filter.js"),
  dedup: () => import("./commands/dedup.js"),
  "dedup-signatures": () => import("./commands/dedup-signatures.js"),
  "dedup-buckets": () => import("./commands/dedup-buckets.js"),
  "dedup-clusters": () => import("./commands/dedup-clusters.js"),
  "dedup-filter": () => import("./commands/dedup-filter.js"),
  decontaminate: () => import("./commands/decontaminate.js"),
  refine: () => import("./commands/refine.js"),
  tokenize: () => import("./commands/tokenize.js"),
  mix: () => import("./commands/mix.js"),
  train: () => import("./commands/train.js"),
};

export const summaries: Record<string, string> = {
  build: "Run a whole recipe (default: the Pro-Max recipe on the bundled demo corpus).",
  extract: "Common Crawl WARC → documents with math-preserving text, URL-filtered.",
  inspect: "Show schema, row count and first rows of a Parquet/JSONL/Arrow or token file.",
  stats: "Merge and print the stats of a command's output folder (all shards).",
  sample: "Year-stratified uniform sample of documents.",
  annotate: "Score documents 0-5 with an LLM and the FineMath prompt.",
  "train-classifier": "Train a fastText classifier from labelled documents.",
  score: "Add math_score (and optionally lang, lang_score) with a fastText model.",
  filter: "Keep rows whose numeric columns pass thresholds.",
  dedup: "MinHash-LSH near-dedup (all four stages locally).",
  "dedup-signatures": "Dedup stage 1: MinHash signatures per input shard.",
  "dedup-buckets": "Dedup stage 2: duplicate pairs per LSH band.",
  "dedup-clusters": "Dedup stage 3: connected components of duplicate pairs.",
  "dedup-filter": "Dedup stage 4: keep one document per cluster.",
  decontaminate: "Remove documents sharing a 13-gram with a math benchmark.",
  refine: "Rewrite documents with an LLM and the Pro-Max refinement prompt.",
  tokenize: "Tokenize documents into Megatron .bin/.idx token files.",
  mix: "Plan and pack a weighted token mixture (Stable / Decay presets).",
  train: "Launch the bundled PyTorch trainer on a packed mixture.",
};

export async function loadCommand(name: string): Promise<Command> {
  const load = commands[name];
  if (!load) throw new Error(`unknown command "${name}"`);
  return (await load()).default;
}
