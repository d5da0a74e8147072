// megamath mix: plan and pack a weighted token mixture from a preset or a spec JSON.
import { defineCommand, UsageError, globalOptions, type OptionSpecs, type ValuesOf } from "../command.js";
import type { Logger } from "../../lib/runtime/log.js";
import { workersFrom, WORKERS_HELP } from "../pipeline.js";
import { PRESETS, loadPreset, loadSpecFile, parseTokenCount, runMix, prepareMixSources, withTemplates, type MixSpec, type RunMixOptions } from "../../lib/mix/index.js";

const mixCommandOptions = {
  preset: { type: "string", choices: PRESETS, description: "Built-in mixture." },
  spec: { type: "string", placeholder: "FILE", description: "Mixture spec JSON (name, total_tokens, max_repetition, seed, sources[{name, weight, path?, template?, max_repetition?}])." },
  source: { type: "list", placeholder: "NAME=PATH", description: "Data for a source of the mixture; repeatable." },
  "source-template": { type: "list", placeholder: "NAME=TEMPLATE",
    description: "Template of a source: web|qa|cot|chat or JSON {\"name\":\"qa\",\"columns\":{\"question\":\"problem\",\"answer\":\"solution\"}}; repeatable." },
  tokens: { type: "string", placeholder: "N", description: "Total token budget (e.g. 2M, 20B); default: the spec's." },
  "max-repetition": { type: "number", description: "Override the spec's max epochs per source." },
  output: { type: "string", short: "o", placeholder: "DIR", description: "Mixture folder." },
  seed: { type: "integer", description: "Seed (default: the spec's, else 0)." },
  tokenizer: { type: "string", default: "llama3", description: "Tokenizer for document sources (token sources must match it)." },
  workers: { type: "integer", description: `Tokenizer threads for document sources: ${WORKERS_HELP}`, identity: false },
  "source-cache": { type: "string", placeholder: "DIR", identity: false,
    description: "Tokenize document sources into DIR once and reuse them in every mixture that names the same files (same template, tokenizer, seed); `megamath build` uses BUILD/mix-sources." },
  force: { type: "boolean", description: "Replace an existing mixture folder." },
  "dry-run": { type: "boolean", description: "Plan only; write nothing." },
} as const satisfies OptionSpecs;

export default defineCommand({
  name: "mix",
  usage: "mix (--preset NAME | --spec FILE) --source NAME=PATH ... [--source-template NAME=TEMPLATE ...] -o DIR [--tokens 2M] [--seed N]",
  details: [
    "Weights are shares of tokens; weights that do not sum to 1 are normalized with a warning.",
    "PATH is token files (a folder of .bin/.idx, a prefix, a glob) or documents (Parquet/JSONL globs), which are",
    "tokenized with the source's template. The plan fails before packing if a source would need more than its",
    "max_repetition epochs. Writes DIR/<source>/<source>.bin/.idx(+.ds sidecars) and DIR/mixture.json with the plan,",
    "Megatron --data-path weights and a nanotron datasets block.",
    "Each preset reads its sources in the layout of the released dataset (see its source_layouts). A document source",
    "whose first file lacks the template's columns stops before tokenizing, naming the columns it found and the",
    "--source-template values that would read them, e.g. --source-template 'instruction={\"name\":\"chat\",",
    "\"columns\":{\"messages\":\"conversation\"}}' for WildChat.",
    `Presets: ${PRESETS.join(", ")} (OctoThinker: Stable 200B tokens, Decay branches 20B).`,
  ].join("\n"),
  options: mixCommandOptions,
  async run({ opts, ctx }) {
    if (!opts.preset === !opts.spec) throw new UsageError("give exactly one of --preset or --spec");
    if (!opts.output && !opts["dry-run"]) throw new UsageError("--output is required (a folder)");
    const { mixture } = await runMix(mixOptions(opts, ctx.log));
    if (mixture) ctx.log.info(`mix: wrote ${opts.output}/mixture.json: ${mixture.tokens_written} tokens from ${mixture.sources.length} sources`);
    return 0;
  },
  // In a build, the sources that read nothing the build makes are tokenized into the source cache while the steps
  // before the mixture still run.
  async prepare({ opts, ctx, ready }) {
    if (!opts.preset === !opts.spec || !opts["source-cache"] || opts["dry-run"]) return;
    await prepareMixSources(mixOptions(opts, ctx.log), ready);
  },
});

function mixOptions(opts: ValuesOf<typeof mixCommandOptions & typeof globalOptions>, log: Logger): RunMixOptions {
  let spec: MixSpec = opts.preset ? loadPreset(opts.preset) : loadSpecFile(opts.spec!); // exactly one is given
  if (opts.tokens !== undefined) spec = { ...spec, total_tokens: parseTokenCount(opts.tokens) };
  if (opts["max-repetition"] !== undefined) spec = { ...spec, max_repetition: opts["max-repetition"] };
  if (opts.seed !== undefined) spec = { ...spec, seed: opts.seed };
  const paths = pairs("source", "NAME=PATH", opts.source);
  spec = withTemplates(spec, pairs("source-template", "NAME=TEMPLATE", opts["source-template"]));
  return {
    spec, paths, outDir: opts.output ?? ".", tokenizer: opts.tokenizer,
    workers: workersFrom(opts), force: Boolean(opts.force), dryRun: Boolean(opts["dry-run"]), log,
    sourceCache: opts["source-cache"],
  };
}

function pairs(flag: string, shape: string, values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of values ?? []) {
    const k = s.indexOf("=");
    if (k <= 0) throw new UsageError(`--${flag} must look like ${shape}, got "${s}"`);
    const name = s.slice(0, k);
    if (name in out) throw new UsageError(`--${flag} ${name} is given twice`);
    out[name] = s.slice(k + 1);
  }
  return out;
}
