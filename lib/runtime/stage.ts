// A stage turns a stream of record batches into a stream of record batches (datatrove's one-method step).
// It may add columns and drop rows; every dropped row is counted in ctx.stats with a reason.
import type { Batch } from "../arrow/batch.js";
import type { StageStats } from "./stats.js";
import type { Logger } from "./log.js";

export type OnError = "fail" | "skip";

export interface StageContext {
  /** This stage's counters: call stats.remove(reason, n) / stats.fail(reason, n, where, msg). The runner counts
   * docs in/out itself. */
  stats: StageStats;
  /** The input file being processed (for error messages and ids). */
  file: string;
  /** Shard index and count (`--shard i/N`). */
  shard: { index: number; count: number };
  /** Seed for anything random; same seed + input ⇒ same output. */
  seed: number;
  /** What to do with a bad document: throw a clear error naming file and row, or skip it and count it as failed. */
  onError: OnError;
  /** Worker threads a CPU-heavy stage may use. */
  workers: number;
  log: Logger;
  /** Output folder of the current command (for sidecars a stage writes, e.g. reports). */
  outDir: string;
}

export interface Stage {
  /** Short name used in stats and logs, e.g. "score", "filter", "decontaminate". */
  readonly name: string;
  /** Input columns the stage needs; the runner fails early, naming the file, when one is absent. */
  readonly requires?: string[];
  run(input: AsyncIterable<Batch>, ctx: StageContext): AsyncIterable<Batch>;
  /** What this stage's output depends on beyond its options (e.g. the clusters dedup applies). Recorded in every
   * completion marker; a marker made under another identity is not trusted on resume. */
  identity?(): Promise<string> | string;
  /** Files the stage reads besides the input (models, indexes): their fingerprints join every task's fingerprint, so
   * a retrained model redoes the outputs made with the old one (see fingerprint.ts). */
  reads?(): string[];
  /** Release workers, models, files. Called once after all files are done (or on failure). */
  close?(): Promise<void>;
  /** For a stage whose output is not documents (tokenize: token files): how its step writes what it yields instead
   * of document files. Only a step's last stage may have one, and such a step ends a fused pass. */
  readonly sink?: StepSink;
}

/** Writes a step's output from the batches its last stage yields, one writer per input file. */
export interface StepSink {
  /** Final-name suffixes of one file's outputs (".bin", …): a killed attempt's temp names with them are removed. */
  readonly suffixes: readonly string[];
  /** The writer of one input file's outputs; `outBase` is the output folder + the file's output name, `source` the
   * document file the step reads (in a fused pass: the file the step before it would have written). */
  open(outBase: string, source: string): SinkWriter;
  /** After this shard's files are done or skipped (e.g. a folder summary); not called by a dry run. */
  finish?(outDir: string, log: Logger): Promise<void>;
}

export interface SinkWriter {
  write(batch: Batch): Promise<void>;
  /** Finish the file's outputs under their final names; returns their absolute paths. */
  close(): Promise<string[]>;
  /** Remove whatever was written (temp names); the task failed. */
  abort(): Promise<void>;
}

/** Helper for the common case: a stage that maps each batch independently. */
export function mapStage(
  name: string,
  fn: (batch: Batch, ctx: StageContext) => Batch | Promise<Batch>,
  opts: { requires?: string[]; close?: () => Promise<void> } = {},
): Stage {
  return {
    name,
    requires: opts.requires,
    close: opts.close,
    async *run(input, ctx) {
      for await (const b of input) yield await fn(b, ctx);
    },
  };
}
