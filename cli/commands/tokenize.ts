// megamath tokenize: documents -> shuffled Megatron .bin/.idx shards (+ datatrove sidecars + manifests).
import { existsSync, statSync } from "node:fs";
import { defineCommand, parseShard, UsageError } from "../command.js";
import { requireInputOutput, workersFrom, WORKERS_HELP } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { tokenizerOptions, templateOptions, parseSpecialId, templateFrom } from "../options/tokenizer.js";
import type { TokenDtype } from "../../lib/formats/megatron.js";
import { writeFolderManifest } from "../../lib/formats/token-folder.js";
import type { Logger } from "../../lib/runtime/log.js";

export default defineCommand({
  name: "tokenize",
  usage: "tokenize -i GLOB -o DIR [--tokenizer llama3] [--template web|qa|cot|chat] [--workers N] | tokenize -o DIR --rebuild-manifest",
  details: [
    "Each document is BOS + tokens + EOS (Llama-3: 128000 ... 128001); text is encoded without special tokens,",
    "so '<|end_of_text|>' inside a document stays plain text. Documents are shuffled within each shard with --seed.",
    "Per shard: NAME.bin, NAME.idx (int32, dtype code 4), NAME.ds -> NAME.bin, NAME.ds.index, NAME.ds.metadata,",
    "NAME.manifest.json. A shard whose manifest records the same tokenizer, BOS/EOS, dtype, seed and template is",
    "skipped unless --force; one made with other settings is redone.",
    "manifest.json of the folder is the merge of every NAME.manifest.json present, rewritten by each task as it",
    "finishes, so parallel --shard i/N tasks (a Slurm array) all end up in it. If a task was killed between its shard",
    "and the summary, --rebuild-manifest rewrites manifest.json from the shards present (no --input needed).",
  ].join("\n"),
  options: {
    input: { type: "list", short: "i", placeholder: "GLOB", description: "Input files or globs (Parquet, JSONL(.gz/.zst), Arrow)." },
    output: { type: "string", short: "o", placeholder: "DIR", description: "Output folder." },
    shard: { type: "string", placeholder: "i/N", default: "0/1", description: "Process input files i, i+N, ..." },
    force: { type: "boolean", description: "Redo shards that already have a manifest." },
    "rebuild-manifest": { type: "boolean", description: "Only rewrite DIR/manifest.json from the shard manifests in DIR, then exit." },
    seed: { type: "integer", default: 0, description: "Seed of the in-shard document shuffle." },
    "on-error": { type: "string", choices: ["fail", "skip"], default: "fail", description: "Bad document: stop, or skip and count it." },
    workers: { type: "integer", description: WORKERS_HELP, identity: false },
    "batch-size": { type: "integer", default: 1000, description: "Documents per worker task." },
    ...tokenizerOptions,
    ...templateOptions,
  },
  async run({ opts, ctx }) {
    if (opts["rebuild-manifest"]) return rebuildManifest(opts, ctx.log);
    const { inputs, output } = requireInputOutput(opts);
    if (opts["batch-size"] < 1) throw new UsageError("--batch-size must be >= 1");
    const files = await expandInputs(inputs);
    const result = await tokenizeFiles({
        inputs: files,
        outDir: output,
        tokenizer: opts.tokenizer,
        bosId: parseSpecialId(opts.bos, "bos"),
        eosId: parseSpecialId(opts.eos, "eos"),
        template: templateFrom(opts),
        dtype: opts.dtype,
        seed: opts.seed,
        workers: workersFrom(opts),
        onError: opts["on-error"],
        shard: parseShard(opts.shard),
        force: Boolean(opts.force),
        dsSidecars: !opts["no-ds-sidecars"],
        batchSize: opts["batch-size"],
        log: ctx.log,
      });
    const s = result.stats;
    ctx.log.info(`tokenize: ${result.shards.length} shard(s) written, ${result.skipped.length} skipped; docs in ${s.docsIn}, written ${s.docsOut}, removed ${JSON.stringify(s.removed)}, failed ${JSON.stringify(s.failed)}; tokens ${s.counters.tokens ?? 0}`);
    return 0;
  },
});

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
