// `megamath tokenize` as a library call: every input file becomes one shuffled token file
// (<out>/<name>.bin/.idx + .ds sidecars + <name>.manifest.json, the trainer-facing record) and <out>/manifest.json
// sums them. It is one runner call (lib/runtime/runner.ts) with the tokenize stage (tokenize-stage.ts), so it has
// the task loop's markers, fingerprints, resume, temp-name clean-up and stats.json like every per-document step,
// and the recipe can run the same stage fused after refine or decontaminate.
import { join } from "node:path";
import type { Batch } from "../arrow/batch.js";
import { StageStats, type StageStatsJSON } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import type { OnError } from "../runtime/stage.js";
import { outputNames, runPipeline, READ_STAGE } from "../runtime/runner.js";
import type { ReadOptions } from "../io/index.js";
import type { TokenFileManifest } from "../formats/token-file.js";
import type { Expect } from "../runtime/expect.js";
import { tokenizeStage, TOKENIZE_STAGE, type TokenizeStageOptions } from "./tokenize-stage.js";

export { templateTextKey } from "./tokenize-stage.js";

export type ReadFn = (file: string, opts: ReadOptions) => AsyncIterable<Batch>;

/** The stage's options (tokenizer, template, dtype, seed, workers, …) plus where the files come from and go. */
export interface TokenizeFilesOptions extends TokenizeStageOptions {
  inputs: string[];
  outDir: string;
  onError?: OnError;
  shard?: { index: number; count: number };
  force?: boolean;
  log?: Logger;
  /** Document reader; default: lib/io readDocuments. */
  read?: ReadFn;
  /** Bounds on what this shard keeps (default: non-empty input must not give empty output). */
  expect?: Expect;
}

export interface TokenizeFilesResult {
  /** Manifests of the token files written by this call (not those found done). */
  shards: TokenFileManifest[];
  /** Input files whose token files were found done (same input, same settings). */
  skipped: string[];
  /** docs in = tokenized + removed(empty_text) + failed (the reader's and the template's), tokens counted. */
  stats: StageStats;
}

/** Output prefixes (folder + name) of input files: the runner's output names, unique across the whole input list
 * (a file's name without its data extension when the inputs share a folder). */
export function shardPrefixes(inputs: string[], outDir: string): string[] {
  const names = outputNames(inputs);
  return inputs.map((f) => join(outDir, names.get(f)!));
}

export async function tokenizeFiles(opts: TokenizeFilesOptions): Promise<TokenizeFilesResult> {
  const stage = tokenizeStage(opts); // it reads only its own settings from them
  let r;
  try {
    r = await runPipeline({
      inputs: opts.inputs, outDir: opts.outDir, stages: [stage], name: "tokenize", reader: opts.read,
      read: { textKey: stage.textKey }, shard: opts.shard, force: opts.force, seed: opts.seed ?? 0, onError: opts.onError,
      workers: opts.workers, log: opts.log, expect: opts.expect, progress: false,
    });
  } finally {
    await stage.close(); // also when the run stopped before the runner closed its stages
  }
  // Under onError "skip" a file that failed whole has no token file and no marker: a library caller (mix) must not
  // go on as if it had been tokenized.
  if (r.filesFailed.length) throw new Error(`tokenize: ${r.filesFailed.length} file(s) failed, no token file written for them: ${r.filesFailed.map((f) => f.error).join("; ")}`);
  return { shards: stage.written, skipped: r.skippedFiles, stats: tokenizeStats(r.stats.stages) };
}

/** The tokenize stage's figures with the reader's failures folded in (rows it could not parse were input too). */
export function tokenizeStats(stages: StageStatsJSON[]): StageStats {
  const s = new StageStats(TOKENIZE_STAGE);
  const tok = stages.find((x) => x.name === TOKENIZE_STAGE);
  if (tok) s.merge(tok);
  const read = stages.find((x) => x.name === READ_STAGE);
  for (const [reason, n] of Object.entries(read?.failed ?? {})) {
    s.docsIn += n;
    s.failed[reason] = (s.failed[reason] ?? 0) + n;
  }
  return s;
}
