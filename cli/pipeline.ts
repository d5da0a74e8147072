// Flags shared by every command that reads documents, runs stages and writes documents, and the glue that turns
// them into a runPipeline call with a summary at the end.
import { availableParallelism } from "node:os";
import { statSync } from "node:fs";
import type { CliContext, OptionSpecs, ValuesOf } from "./command.js";
import { UsageError, parseShard, globalOptions } from "./command.js";
import { llmOptions } from "./options/llm.js";
import { runPipeline, type FusedRunOptions, type FusedStep, type RunOptions, type RunResult } from "../lib/runtime/runner.js";
import type { Stage } from "../lib/runtime/stage.js";
import { defaultWorkers } from "../lib/runtime/pool.js";
import type { RunStatsJSON } from "../lib/runtime/stats.js";
import { DEFAULT_MAX_DOC_BYTES } from "../lib/io/index.js";

/** What --workers means, the same for every command. */
export const WORKERS_HELP = "Worker threads for CPU-heavy work (default: number of cores; 0: none, all on the main thread).";

export const pipelineOptions = {
  input: { type: "list", short: "i", placeholder: "GLOB", description: "Input files or globs (Parquet, JSONL(.gz/.zst), Arrow); repeatable.", identity: false },
  output: { type: "string", short: "o", placeholder: "DIR", description: "Output folder (one output per input file, plus stats.json).", identity: false },
  shard: { type: "string", placeholder: "i/N", description: "Process input files i, i+N, ... of the sorted list (Slurm array / k8s indexed job).", default: "0/1", identity: false },
  force: { type: "boolean", description: "Recompute files that already have a completion marker.", identity: false },
  seed: { type: "integer", description: "Seed for anything random.", default: 0 },
  "on-error": { type: "string", choices: ["fail", "skip"], default: "fail", description: "Bad document or file: stop with an error, or skip and count it as failed.", identity: false },
  "max-failed-share": { type: "number", default: 1, placeholder: "S", identity: false,
    description: "A file more than this share of whose documents failed (and always one all of whose documents failed) fails whole: no output, no completion marker (a rerun retries it), named in stats.json, exit 1." },
  workers: { type: "integer", description: WORKERS_HELP, identity: false },
  format: { type: "string", choices: ["parquet", "jsonl", "jsonl.gz"], default: "parquet", description: "Output format." },
  "text-key": { type: "string", default: "text", description: "Input field holding the document text." },
  "id-key": { type: "string", default: "id", description: "Input field holding the document id (default: FILE/ROW when absent)." },
  "row-group-size": { type: "integer", default: 10000, description: "Parquet rows per row group." },
  "allow-empty": { type: "boolean", description: "Let non-empty input give an empty output (otherwise the run stops with the figures).", identity: false },
  "min-kept-share": { type: "number", placeholder: "X", description: "Stop with the figures when this shard keeps fewer than this share (0-1) of its input documents.", identity: false },
  // No default value on purpose: an unset flag stays out of the markers' identity (outputs made before the flag existed
  // are still reused); set, it is part of it, since under --on-error skip it changes which documents are kept.
  "max-doc-mb": { type: "number", placeholder: "MIB",
    description: `Largest JSONL line (document) in MiB, default ${DEFAULT_MAX_DOC_BYTES / 2 ** 20}; a longer one is a "too long" error, or a counted failure (line_too_long) under --on-error skip. Parquet pages may decompress to max(256 MiB, 4 × this).` },
  "max-file-mb": { type: "number", description: "Roll to numbered output parts past this size (default: one output file per input file, named like it)." },
} as const satisfies OptionSpecs;

/** Parsed values of the shared pipeline flags (and the global ones). */
export type PipelineValues = ValuesOf<typeof pipelineOptions & typeof globalOptions>;

export function requireInputOutput(opts: { input?: string[]; output?: string }): { inputs: string[]; output: string } {
  const inputs = opts.input ?? [];
  if (!inputs.length) throw new UsageError("--input is required (files or globs)");
  if (!opts.output) throw new UsageError("--output is required (a folder)");
  return { inputs, output: opts.output };
}

/** --workers N: N worker threads; 0: no worker thread, the work runs on the main thread; unset: one per core. */
export function workersFrom(opts: { workers?: number }): number {
  const w = opts.workers;
  if (w !== undefined && w < 0) throw new UsageError("--workers must be >= 0 (0: run on the main thread)");
  // Each worker is a thread with its own copy of the stage's model; far more threads than cores only costs memory.
  const most = Math.max(16, 4 * availableParallelism());
  if (w !== undefined && w > most) throw new UsageError(`--workers ${w}: at most ${most} (4 per core on this machine, ${availableParallelism()} cores)`);
  return w ?? defaultWorkers();
}

/** The pipeline flags a command was given, as the options of a runner call (the shape of the pass: inputs, shard,
 * reading and writing) and of its one step (name, folder, identity, bounds). Checks the values. */
export function pipelineRun(
  opts: Omit<PipelineValues, "text-key" | "id-key"> & { "text-key"?: string; "id-key"?: string },
  ctx: CliContext,
  stages: Stage[],
  meta: { name: string; options?: OptionSpecs; reader?: RunOptions["reader"]; compressionLevel?: number },
): { run: Omit<FusedRunOptions, "steps">; step: FusedStep } {
  const { inputs, output } = requireInputOutput(opts);
  // The writer would quietly clamp these (a 0 row group size to 1, a 0 size limit to none): say so instead.
  if (opts["row-group-size"] < 1) throw new UsageError("--row-group-size must be >= 1");
  if (opts["max-file-mb"] !== undefined && !(opts["max-file-mb"] > 0)) throw new UsageError("--max-file-mb must be > 0");
  if (opts["max-doc-mb"] !== undefined && !(opts["max-doc-mb"] > 0)) throw new UsageError("--max-doc-mb must be > 0");
  const maxFailedShare = opts["max-failed-share"];
  if (!(maxFailedShare >= 0 && maxFailedShare <= 1)) throw new UsageError("--max-failed-share must be between 0 and 1");
  const run: Omit<FusedRunOptions, "steps"> = {
    reader: meta.reader,
    inputs,
    shard: parseShard(opts.shard),
    force: Boolean(opts.force),
    seed: opts.seed,
    onError: opts["on-error"],
    maxFailedShare,
    workers: workersFrom(opts),
    read: {
      textKey: opts["text-key"], idKey: opts["id-key"],
      maxDocBytes: opts["max-doc-mb"] === undefined ? undefined : Math.round(opts["max-doc-mb"] * 2 ** 20),
    },
    write: {
      format: opts.format,
      rowGroupSize: opts["row-group-size"],
      maxFileBytes: opts["max-file-mb"] === undefined ? undefined : Math.round(opts["max-file-mb"] * 1e6),
      level: meta.compressionLevel,
    },
    log: ctx.log,
    progress: ctx.quiet || ctx.logJson ? false : { tty: ctx.tty },
  };
  const step: FusedStep = {
    name: meta.name,
    outDir: output,
    stages,
    identity: optionsIdentity(meta.name, opts, meta.options),
    reads: filesNamedIn(opts, meta.options),
    expect: { allowEmpty: Boolean(opts["allow-empty"]), minKeptShare: opts["min-kept-share"] },
  };
  return { run, step };
}

/** Run stages over the inputs as the flags say, log a summary, and return the exit code. */
export async function runPipelineCommand(
  opts: Omit<PipelineValues, "text-key" | "id-key"> & { "text-key"?: string; "id-key"?: string },
  ctx: CliContext,
  stages: Stage[],
  meta: { name: string; options?: OptionSpecs; reader?: RunOptions["reader"]; compressionLevel?: number },
): Promise<{ code: number; result: RunResult }> {
  const { run, step } = pipelineRun(opts, ctx, stages, meta);
  const result = await runPipeline({ ...run, ...step });
  return { code: reportRun(meta.name, result, ctx), result };
}

/** Log a run's summary and its failed files; the exit code (1 when a file failed). */
export function reportRun(name: string, result: RunResult, ctx: CliContext): number {
  const meta = { name };
  ctx.log.info(summarize(meta.name, result));
  for (const f of result.filesFailed) ctx.log.warn(`file skipped: ${f.file}: ${f.error}`);
  // Under --on-error skip a bad file is skipped and the run goes on with the others; but the run then exits 1, so a
  // script or scheduler sees that part of the input is missing (the failed files are named above and in stats.json,
  // and have no completion marker: a rerun processes only them).
  const failed = result.filesFailed.length;
  if (failed) {
    const total = failed + result.filesDone + result.filesSkipped;
    ctx.log.error(failed === total
      ? `${meta.name}: every input file of this shard failed; nothing was written`
      : `${meta.name}: ${failed} of ${total} input file(s) of this shard failed (named above); the others are done — rerun to retry the failed ones`);
  }
  return failed ? 1 : 0;
}

/** Options declared `identity: false` by the shared declarations (global, pipeline and LLM flags): what a command's
 * outputs do not depend on when it does not pass its own declarations. */
const SHARED_NOT_IDENTITY = notIdentity({ ...globalOptions, ...pipelineOptions, ...llmOptions({ maxTokens: 1, temperature: 0 }) });

function notIdentity(specs: OptionSpecs): Set<string> {
  return new Set(Object.entries(specs).filter(([, s]) => s.identity === false).map(([k]) => k));
}

/** The command name and every option value that can change an output file, as one string (markers record it).
 * Which options count is declared on their specs (`identity: false` leaves one out). */
export function optionsIdentity(name: string, opts: Record<string, unknown>, specs?: OptionSpecs): string {
  const skip = specs ? notIdentity({ ...globalOptions, ...specs }) : SHARED_NOT_IDENTITY;
  const kept = Object.keys(opts).filter((k) => !skip.has(k) && opts[k] !== undefined).sort();
  return JSON.stringify([name, kept.map((k) => [k, opts[k]])]);
}

/** Identity options whose value names an existing file (a model, an index, a word list): their content is part of
 * what the outputs depend on, so the runner fingerprints them along with the options' text. */
export function filesNamedIn(opts: Record<string, unknown>, specs?: OptionSpecs): string[] {
  const skip = specs ? notIdentity({ ...globalOptions, ...specs }) : SHARED_NOT_IDENTITY;
  const files: string[] = [];
  for (const k of Object.keys(opts).sort()) {
    if (skip.has(k)) continue;
    for (const v of [opts[k]].flat()) {
      if (typeof v !== "string" || v === "") continue;
      try {
        if (statSync(v).isFile()) files.push(v);
      } catch {
        // not a path
      }
    }
  }
  return files;
}

export function summarize(name: string, r: RunResult): string {
  const lines = [`${name}: ${r.filesDone} file(s) done, ${r.filesSkipped} already done, ${r.filesFailed.length} failed`];
  lines.push(...formatStats(r.stats));
  return lines.join("\n");
}

/** One line per stage: in, out, removed by reason, failed by reason, throughput. */
export function formatStats(stats: RunStatsJSON): string[] {
  return stats.stages.map((s) => {
    const parts = [`  ${s.name.padEnd(16)} in ${s.docsIn}  out ${s.docsOut}`];
    const rem = Object.entries(s.removed);
    if (rem.length) parts.push(`removed ${rem.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    const fail = Object.entries(s.failed);
    if (fail.length) parts.push(`failed ${fail.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    if (s.timeMs > 0) parts.push(`${(s.bytesIn / 1e3 / s.timeMs).toFixed(1)} MB/s ${Math.round((s.docsIn * 1000) / s.timeMs)} docs/s`);
    return parts.join("  ");
  });
}
