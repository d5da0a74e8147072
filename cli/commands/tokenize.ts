// megamath tokenize: documents -> shuffled Megatron .bin/.idx token files (+ datatrove sidecars + manifests). A
// per-document command on the runner (lib/tokenizer/tokenize-stage.ts): markers, fingerprints, resume, stats.json
// like every other step, and a recipe fuses it after the per-document steps before it (cli/fused.ts).
import { existsSync, statSync } from "node:fs";
import { defineCommand, UsageError, type CliContext } from "../command.js";
import { pipelineOptions, pipelineRun, reportRun, workersFrom, WORKERS_HELP, type PipelineValues } from "../pipeline.js";
import { runPipeline } from "../../lib/runtime/runner.js";
import { tokenizeStage, type TokenizeStage } from "../../lib/tokenizer/tokenize-stage.js";
import { tokenizeStats } from "../../lib/tokenizer/tokenize-files.js";
import { tokenizerOptions, templateOptions, parseSpecialId, templateFrom } from "../options/tokenizer.js";
import type { TokenDtype } from "../../lib/formats/megatron.js";
import { writeFolderManifest } from "../../lib/formats/token-folder.js";
import type { Logger } from "../../lib/runtime/log.js";

const P = pipelineOptions;

const options = {
  input: P.input,
  output: P.output,
  shard: P.shard,
  force: { ...P.force, description: "Redo token files that already have a completion marker." },
  "rebuild-manifest": { type: "boolean", description: "Only rewrite DIR/manifest.json from the shard manifests in DIR, then exit." },
  seed: { ...P.seed, description: "Seed of the in-file document shuffle." },
  "on-error": { ...P["on-error"], description: "Bad document: stop, or skip and count it." },
  "max-failed-share": P["max-failed-share"],
  workers: { type: "integer", description: WORKERS_HELP, identity: false },
  "batch-size": { type: "integer", default: 1000, description: "Documents per worker task (does not change the output)." },
  "allow-empty": P["allow-empty"],
  "min-kept-share": P["min-kept-share"],
  "max-doc-mb": P["max-doc-mb"],
  ...tokenizerOptions,
  ...templateOptions,
} as const;

type TokenizeValues = { [K in keyof typeof options]?: unknown } & Record<string, unknown>;

/** The tokenize stage these flags ask for. */
function stageFrom(opts: TokenizeValues): TokenizeStage {
  if ((opts["batch-size"] as number) < 1) throw new UsageError("--batch-size must be >= 1");
  return tokenizeStage({
    tokenizer: opts.tokenizer as string,
    bosId: parseSpecialId(opts.bos, "bos"),
    eosId: parseSpecialId(opts.eos, "eos"),
    template: templateFrom(opts as Parameters<typeof templateFrom>[0]),
    dtype: opts.dtype as TokenDtype,
    seed: opts.seed as number,
    workers: workersFrom(opts as { workers?: number }),
    dsSidecars: !opts["no-ds-sidecars"],
    batchSize: opts["batch-size"] as number,
  });
}

export default defineCommand({
  name: "tokenize",
  usage: "tokenize -i GLOB -o DIR [--tokenizer llama3] [--template web|qa|cot|chat] [--workers N] | tokenize -o DIR --rebuild-manifest",
  details: [
    "Each document is BOS + tokens + EOS (Llama-3: 128000 ... 128001); text is encoded without special tokens,",
    "so '<|end_of_text|>' inside a document stays plain text. Documents are shuffled within each file with --seed.",
    "Per input file: NAME.bin, NAME.idx (int32, dtype code 4), NAME.ds -> NAME.bin, NAME.ds.index, NAME.ds.metadata,",
    "NAME.manifest.json (NAME as other commands name their outputs: the input's name without its extension). Like",
    "every per-document command it leaves a completion marker per file (.done/) and stats.json (docs in = tokenized",
    "+ removed empty_text + failed): a file whose marker holds the same input and settings is skipped unless --force;",
    "one made from another input or with other settings is redone. The output is the same whatever --workers.",
    "manifest.json of the folder is the merge of every NAME.manifest.json present, rewritten by each task as it",
    "finishes, so parallel --shard i/N tasks (a Slurm array) all end up in it. If a task was killed between its shard",
    "and the summary, --rebuild-manifest rewrites manifest.json from the shards present (no --input needed).",
    "In a recipe, tokenize runs fused with the per-document steps before it (one pass: refine or decontaminate →",
    "tokenize), with the same token files as when it runs alone.",
  ].join("\n"),
  options,
  async stages({ opts }) {
    if (opts["rebuild-manifest"]) return null;
    return [stageFrom(opts)];
  },
  async run({ opts, ctx }) {
    if (opts["rebuild-manifest"]) return rebuildManifest(opts, ctx.log);
    return runTokenize(opts, ctx);
  },
});

async function runTokenize(opts: TokenizeValues, ctx: CliContext): Promise<number> {
  // The shared flags checked (and the run shaped) as for any per-document command; the stage made after that, since
  // it may start worker threads.
  const { run, step } = pipelineRun(opts as unknown as PipelineValues, ctx, [], { name: "tokenize" });
  const stage = stageFrom(opts);
  // The reader delivers the template's main column as `text`.
  let result;
  try {
    result = await runPipeline({ ...run, ...step, stages: [stage], read: { ...run.read, textKey: stage.textKey } });
  } finally {
    await stage.close();
  }
  const code = reportRun("tokenize", result, ctx);
  const s = tokenizeStats(result.stats.stages);
  ctx.log.info(`tokenize: ${stage.written.length} token file(s) written, ${result.filesSkipped} already done; docs in ${s.docsIn}, tokenized ${s.docsOut}, removed ${JSON.stringify(s.removed)}, failed ${JSON.stringify(s.failed)}; tokens ${s.counters.tokens ?? 0}`);
  return code;
}

async function rebuildManifest(opts: { output?: string; input?: string[] }, log: Logger): Promise<number> {
  if (!opts.output) throw new UsageError("--rebuild-manifest needs --output DIR (the tokenized folder)");
  if (opts.input !== undefined) throw new UsageError("--rebuild-manifest takes no --input: it only reads the shards in --output");
  const dir = String(opts.output);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such folder`);
  const m = (await writeFolderManifest(dir))!;
  for (const l of m.left_out) log.warn(`tokenize: ${l.piece} left out of manifest.json: ${l.reason}`);
  if (!m.shards.length) {
    log.error(`tokenize: ${dir} holds no shard manifests (NAME.manifest.json); manifest.json lists nothing`);
    return 1;
  }
  log.info(`tokenize: ${dir}/manifest.json rebuilt: ${m.shards.length} shard(s), ${m.documents} documents, ${m.tokens} tokens`);
  return 0;
}
