#!/usr/bin/env node
// `megamath` entry: dispatches to one module per subcommand (cli/commands/NAME.ts), loaded lazily so that
// `megamath inspect` does not pay for loading the tokenizer or the trainer launcher.
import { createLogger } from "../lib/runtime/log.js";
import { type Command, UsageError, helpText, parseCommandArgs } from "./command.js";

const commands: Record<string, () => Promise<{ default: Command }>> = {
  build: () => import("./commands/build.js"),
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

const summaries: Record<string, string> = {
  build: "Run a whole recipe (default: the Pro-Max recipe on the bundled demo corpus).",
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

function usage(): string {
  const width = Math.max(...Object.keys(summaries).map((k) => k.length));
  const rows = Object.keys(commands).map((k) => `  ${k.padEnd(width)}  ${summaries[k] ?? ""}`);
  return [
    "megamath: build math pre-training corpora (MegaMath-Web-Pro-Max) and mid-training mixtures.",
    "",
    "Usage: megamath <command> [options]      (no command: megamath build on the bundled demo)",
    "",
    "Commands:",
    ...rows,
    "",
    "Run 'megamath <command> --help' for a command's options. Exit codes: 0 ok, 1 failed, 2 bad usage.",
  ].join("\n") + "\n";
}

export async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    const { readFileSync } = await import("node:fs");
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url).pathname.replace(/\/dist\/\.\.\//, "/"), "utf8"));
    process.stdout.write(pkg.version + "\n");
    return 0;
  }
  if (name === undefined || name.startsWith("-")) {
    // No command runs the whole recipe on the bundled demo, as the README promises.
    rest = name === undefined ? [] : argv;
    name = "build";
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`megamath: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = (await load()).default;
  const quietFlag = rest.includes("--quiet") || rest.includes("-q");
  const jsonFlag = rest.includes("--log-json");
  const log = createLogger({ quiet: quietFlag, json: jsonFlag });
  try {
    const { positionals, opts } = parseCommandArgs(cmd, rest);
    if (opts.help) {
      process.stdout.write(helpText(cmd));
      return 0;
    }
    const ctx = {
      log, quiet: Boolean(opts.quiet), logJson: Boolean(opts["log-json"]),
      tty: Boolean(process.stderr.isTTY) && !opts.quiet && !opts["log-json"], stdout: process.stdout,
    };
    const code = await cmd.run({ positionals, opts, ctx });
    return typeof code === "number" ? code : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      log.error(e.message);
      return 2;
    }
    const err = e as Error;
    log.error(err.message);
    if (process.env.MEGAMATH_DEBUG) process.stderr.write(String(err.stack) + "\n");
    return 1;
  }
}

// Run when executed directly (bin/megamath.js or `tsx cli/main.ts`), not when imported by tests.
const invoked = process.argv[1] ?? "";
if (/cli[\\/]main\.[jt]s$/.test(invoked) || process.env.MEGAMATH_CLI_MAIN === "1") {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
