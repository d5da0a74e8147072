import { defineCommand, UsageError } from "../command.js";
import { pipelineOptions, runPipelineCommand, requireInputOutput } from "../pipeline.js";
import { expandInputs } from "../../lib/io/index.js";
import { writeFileAtomic } from "../../lib/io/atomic.js";
import { loadBuiltinBenchmarks, loadExtraBenchmark, BUILTIN_BENCHMARKS } from "../../lib/decontam/benchmarks.js";
import { NgramIndex } from "../../lib/decontam/ngram-index.js";
import { loadIndexSet } from "../../lib/decontam/index-set.js";
import { decontaminateStage, writeReport } from "../../lib/decontam/stage.js";
import type { Stage } from "../../lib/runtime/stage.js";
import type { Logger } from "../../lib/runtime/log.js";

export default defineCommand({
  name: "decontaminate",
  usage:
    "decontaminate --input GLOB --output DIR [--report FILE] [--index FILE] [--extra-benchmark FILE]...\n" +
    "       megamath decontaminate --build-index OUT --benchmarks DIR [--extra-benchmark FILE]...",
  details: [
    "A document is removed when it shares an exact word 13-gram with a benchmark item (question + answer), after",
    "the normalization in lib/decontam/normalize.ts (NFKC, lowercase, letters/digits runs as tokens, punctuation and",
    "LaTeX layout dropped, numbers kept as written). Items and questions shorter than 13 tokens are matched whole.",
    "The removal reason names the benchmark (contaminated:gsm8k). --report writes one JSONL row per matched item:",
    "doc_id, benchmark, item_id, ngram, position, file.",
    "",
    "The shipped index covers the 12 benchmarks MegaMath uses: " + Object.keys(BUILTIN_BENCHMARKS).join(", ") + ".",
    "--build-index rebuilds it (or your own) from a folder of MegaMath's benchmark files; the output is",
    "deterministic. --extra-benchmark adds JSONL files of your own (fields from --extra-fields, default",
    "question,answer; NAME=PATH names the benchmark).",
  ].join("\n"),
  options: {
    ...pipelineOptions,
    report: { type: "string", placeholder: "FILE", description: "Write the matches (JSONL) of all input files here." },
    index: { type: "string", placeholder: "FILE", description: "Index file to match against (default: the shipped 12-benchmark index)." },
    "extra-benchmark": { type: "list", placeholder: "[NAME=]FILE", description: "Your own benchmark JSONL(.gz/.zst) file; repeatable." },
    "extra-fields": { type: "list", placeholder: "F1,F2", default: ["question", "answer"], description: "Fields of --extra-benchmark rows joined into the item text (the first is the question)." },
    "extra-id-key": { type: "string", default: "id", description: "Field of --extra-benchmark rows holding the item id (default: row number)." },
    "max-matches": { type: "integer", default: 5, description: "Distinct benchmark items listed per removed document in the report." },
    "build-index": { type: "string", placeholder: "OUT", description: "Build an index file from --benchmarks DIR (and --extra-benchmark) instead of filtering." },
    benchmarks: { type: "string", placeholder: "DIR", description: "With --build-index: folder holding MegaMath's benchmark files (asdiv.jsonl.gz, gsm8k.jsonl.gz, ...)." },
    "only-benchmarks": { type: "list", placeholder: "NAMES", description: "With --build-index: use only these built-in benchmarks." },
  },
  async stages({ opts, ctx }) {
    // A report is gathered from every file's sidecar after the run, and --build-index runs no stage at all.
    if (opts.report || opts["build-index"]) return null;
    return [matchStage(opts, ctx.log)];
  },
  async run({ opts, ctx }) {
    const extra = { fields: opts["extra-fields"], idKey: opts["extra-id-key"] };
    const extras = opts["extra-benchmark"] ?? [];
    if (opts["build-index"]) {
      const out = String(opts["build-index"]);
      const dir = opts.benchmarks;
      if (!dir && !extras.length) throw new UsageError("--build-index needs --benchmarks DIR and/or --extra-benchmark FILE");
      const only = opts["only-benchmarks"];
      if (only) for (const b of only) if (!BUILTIN_BENCHMARKS[b]) throw new UsageError(`--only-benchmarks: unknown benchmark "${b}"`);
      const benchmarks = [...(dir ? loadBuiltinBenchmarks(dir, only) : []), ...extras.map((e) => loadExtraBenchmark(e, extra))];
      const ix = NgramIndex.build(benchmarks);
      const bytes = ix.serialize();
      await writeFileAtomic(out, bytes);
      ctx.log.info(`decontaminate: wrote ${out} (${(bytes.length / 1e6).toFixed(2)} MB, ${ix.size} n-gram entries, ${ix.short.length} whole short items)`);
      for (const b of ix.benchmarks) {
        ctx.log.info(`  ${b.name.padEnd(10)} items ${b.items}  n-grams ${b.ngrams}  notation-only skipped ${b.notationNgrams}  ` +
          `short indexed ${b.shortIndexed} skipped ${b.shortSkipped}  items without n-grams ${b.itemsWithoutNgrams}`);
      }
      return 0;
    }
    if (opts.benchmarks) throw new UsageError("--benchmarks is only used with --build-index");
    const { inputs, output } = requireInputOutput(opts);
    const stage = matchStage(opts, ctx.log);
    const { code } = await runPipelineCommand(opts, ctx, [stage], { name: "decontaminate" });
    if (opts.report) {
      const files = await expandInputs(inputs);
      const { rows, missing } = await writeReport(output, files, String(opts.report));
      ctx.log.info(`decontaminate: report ${opts.report}: ${rows} match row(s)`);
      if (missing.length) ctx.log.warn(`decontaminate: report lacks ${missing.length} input file(s) not processed yet (other shards?): ${missing.slice(0, 3).join(", ")}`);
    }
    return code;
  },
});

/** The matching stage for these options (the shipped index, or --index, plus any --extra-benchmark). */
function matchStage(
  opts: { index?: string; "extra-benchmark"?: string[]; "extra-fields": string[]; "extra-id-key": string; "max-matches": number },
  log: Logger,
): Stage {
  const extra = { fields: opts["extra-fields"], idKey: opts["extra-id-key"] };
  const indexSet = loadIndexSet({ index: opts.index, extraBenchmarks: opts["extra-benchmark"] ?? [], extra });
  log.info(`decontaminate: matching against ${indexSet.describe()}`);
  return decontaminateStage({ indexSet, maxMatches: opts["max-matches"] });
}
