// megamath tokenize: documents -> shuffled Megatron .bin/.idx shards (+ datatrove sidecars + manifests).
import { defineCommand, parseShard } from "../command.js";
import { requireInputOutput, workersFrom } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { tokenizeFiles } from "../../lib/tokenizer/tokenize-files.js";
import { tokenizerOptions, templateOptions, parseSpecialId, templateFrom } from "../../lib/tokenizer/cli-options.js";
import type { TokenDtype } from "../../lib/formats/megatron.js";

export default defineCommand({
  name: "tokenize",
  summary: "Tokenize documents into Megatron .bin/.idx token files (one shuffled shard per input file).",
  usage: "tokenize -i GLOB -o DIR [--tokenizer llama3] [--template web|qa|cot|chat] [--workers N]",
  details: [
    "Each document is BOS + tokens + EOS (Llama-3: 128000 ... 128001); text is encoded without special tokens,",
    "so '<|end_of_text|>' inside a document stays plain text. Documents are shuffled within each shard with --seed.",
    "Per shard: NAME.bin, NAME.idx (int32, dtype code 4), NAME.ds -> NAME.bin, NAME.ds.index, NAME.ds.metadata,",
    "NAME.manifest.json; plus manifest.json for the folder. A shard with a manifest is skipped unless --force.",
  ].join("\n"),
  options: {
    input: { type: "list", short: "i", placeholder: "GLOB", description: "Input files or globs (Parquet, JSONL(.gz/.zst), Arrow)." },
    output: { type: "string", short: "o", placeholder: "DIR", description: "Output folder." },
    shard: { type: "string", placeholder: "i/N", default: "0/1", description: "Process input files i, i+N, ..." },
    force: { type: "boolean", description: "Redo shards that already have a manifest." },
    seed: { type: "integer", default: 0, description: "Seed of the in-shard document shuffle." },
    "on-error": { type: "string", choices: ["fail", "skip"], default: "fail", description: "Bad document: stop, or skip and count it." },
    workers: { type: "integer", description: "Tokenizer worker threads (default: number of cores)." },
    "batch-size": { type: "integer", default: 1000, description: "Documents per worker task." },
    ...tokenizerOptions,
    ...templateOptions,
  },
  async run({ opts, ctx }) {
    const { inputs, output } = requireInputOutput(opts);
    const files = await expandInputs(inputs);
    const result = await tokenizeFiles({
        inputs: files,
        outDir: output,
        tokenizer: opts.tokenizer as string,
        bosId: parseSpecialId(opts.bos, "bos"),
        eosId: parseSpecialId(opts.eos, "eos"),
        template: templateFrom(opts),
        dtype: opts.dtype as TokenDtype,
        seed: opts.seed as number,
        workers: workersFrom(opts),
        onError: opts["on-error"] as "fail" | "skip",
        shard: parseShard(opts.shard as string),
        force: Boolean(opts.force),
        dsSidecars: !opts["no-ds-sidecars"],
        batchSize: opts["batch-size"] as number,
        log: ctx.log,
      });
    const s = result.stats;
    ctx.log.info(`tokenize: ${result.shards.length} shard(s) written, ${result.skipped.length} skipped; docs in ${s.docsIn}, written ${s.docsOut}, removed ${JSON.stringify(s.removed)}, failed ${JSON.stringify(s.failed)}; tokens ${s.counters.tokens ?? 0}`);
    return 0;
  },
});
