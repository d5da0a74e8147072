// The executor: reads each input file of this shard, pushes its batches through the stages, writes one output file
// set per input file, and leaves a task marker holding that file's fingerprint and stats (the task loop of
// task-loop.ts). A marker whose fingerprint equals the one computed now makes a rerun skip the file (resume); any
// change to the input, the settings or a model/index read redoes it. Merging every marker in a folder gives exact
// stats across shards (`megamath stats DIR`).
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { Batch } from "../arrow/batch.js";
import { textBytes } from "../arrow/batch.js";
import { expandInputs, readDocuments, openWriter, type ReadOptions, type WriterOptions as WriteOptions } from "../io/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { commonFolder } from "../io/glob.js";
import { fileFailure } from "./failures.js";
import { lockFolder } from "./lock.js";
import { refuseOutputHoldingInputs, safeOutputName, assertInside, claimSlot, releaseSlot, ensureWritableDir, OutputFolderError } from "./output-guard.js";
import { createLogger, type Logger } from "./log.js";
import { Progress } from "./progress.js";
import type { OnError, Stage, StageContext } from "./stage.js";
import { StageStats, mergeRunStats, type RunStatsJSON } from "./stats.js";
import { fingerprintFile, fingerprintPath, taskFingerprint } from "./fingerprint.js";
import { MARKER_DIR, readFolderMarkers, runTaskLoop } from "./task-loop.js";
import { checkExpectation, keptFigures, type Expect } from "./expect.js";

export interface RunOptions {
  /** Files or globs; expanded and sorted, then shard i takes files i, i+N, ... */
  inputs: string[];
  outDir: string;
  stages: Stage[];
  read?: ReadOptions;
  /** Reads one input file as batches (default readDocuments: Parquet, JSONL, Arrow); e.g. a WARC reader. */
  reader?: (file: string, opts: ReadOptions) => AsyncIterable<Batch>;
  write?: WriteOptions;
  shard?: { index: number; count: number };
  /** Recompute files that already have a completion marker. */
  force?: boolean;
  seed?: number;
  onError?: OnError;
  workers?: number;
  log?: Logger;
  /** Progress display: false for none. */
  progress?: { tty: boolean } | false;
  /** Command name, recorded in stats and markers. */
  name?: string;
  /** What the outputs depend on besides the input file (the command's options, say). A completion marker made
   * under another identity (or another stage identity) is redone rather than reused. */
  identity?: string;
  /** Files (or folders) besides the inputs that the outputs depend on (a model, an index): their fingerprints are
   * part of every task's fingerprint, so replacing one redoes the outputs. Stages add their own (Stage.reads). */
  reads?: string[];
  /** When false, stages only count and nothing is written (e.g. a dry run). Default true. */
  writeOutput?: boolean;
  /** Share of a file's documents that may fail before the whole file counts as failed (default 1: all of them). */
  maxFailedShare?: number;
  /** Bounds on what this shard keeps (default: non-empty input must not give empty output). */
  expect?: Expect;
}

export interface RunResult {
  stats: RunStatsJSON;
  outputs: string[];
  filesDone: number;
  filesSkipped: number;
  filesFailed: { file: string; error: string }[];
}

export { MARKER_DIR };
export const READ_STAGE = "read";

/** Run a pipeline over this shard's files. Throws on the first error under onError "fail". */
export async function runPipeline(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? createLogger({ quiet: true });
  const shard = o.shard ?? { index: 0, count: 1 };
  const onError = o.onError ?? "fail";
  const outDir = resolve(o.outDir);
  const all = await expandInputs(o.inputs, (e) => log.info(`input ${JSON.stringify(e.pattern)}: ${e.files} file(s)` +
    (e.leftOut ? `; left out ${e.leftOut} of megamath's own (markers, stats, reports, work folders)` : "")));
  await refuseOutputHoldingInputs(outDir, all);
  const mine = all.filter((_, i) => i % shard.count === shard.index);
  const names = outputNames(all);
  for (const n of names.values()) assertInside(outDir, n);
  await ensureWritableDir(outDir);
  const lock = o.writeOutput === false ? null : await lockFolder(outDir, shard);
  try {
    return await runLocked(o, { log, shard, onError, outDir, all, mine, names });
  } finally {
    await lock?.release();
  }
}

async function runLocked(
  o: RunOptions,
  r: { log: Logger; shard: { index: number; count: number }; onError: OnError; outDir: string; all: string[]; mine: string[]; names: Map<string, string> },
): Promise<RunResult> {
  const { log, shard, onError, outDir, all, mine, names } = r;
  await mkdir(join(outDir, MARKER_DIR), { recursive: true });

  let totalBytes = 0;
  const sizes = new Map<string, number>();
  for (const f of mine) {
    const s = (await stat(f)).size;
    sizes.set(f, s);
    totalBytes += s;
  }
  // Readers see the whole sorted input list (not just this shard's): default ids stay unique across inputs that
  // share a file name, and are the same on every shard.
  const withInputs: RunOptions = { ...o, read: { ...o.read, inputs: all } };
  const step = o.name ?? "run";
  const writes = o.writeOutput !== false;
  const settings = await runSettings(o);
  const reads = await Promise.all(runReads(o).map(fingerprintPath));
  const tasks = await Promise.all(mine.map(async (file) => ({
    key: names.get(file)!, input: file,
    fingerprint: taskFingerprint({ step, settings, reads: [await fingerprintFile(file), ...reads] }),
  })));
  // Made after the last step that can throw outside the try below, which stops its timer.
  const progress = o.progress
    ? new Progress({ tty: o.progress.tty, log: o.progress.tty ? undefined : log, label: step }, totalBytes, mine.length)
    : undefined;
  const result: RunResult = { stats: { stages: [], files: 0 }, outputs: [], filesDone: 0, filesSkipped: 0, filesFailed: [] };
  const perFile: RunStatsJSON[] = [];
  try {
    const loop = await runTaskLoop({
      step, outDir, tasks, force: o.force, log, tempSuffixes: OUTPUT_SUFFIXES, writeMarkers: o.writeOutput !== false,
      // Final-named files in this file's slot are removed only when megamath made them (output-guard.ts); a claim
      // covers the parts a killed attempt renamed into place before it died.
      claim: writes ? (t, old) => claimSlot(outDir, join(outDir, MARKER_DIR), t.key, old?.outputs) : undefined,
      release: writes ? (t) => releaseSlot(join(outDir, MARKER_DIR), t.key) : undefined,
      onSkip: (t, m) => {
        perFile.push(m.stats);
        result.outputs.push(...m.outputs.map((x) => join(outDir, x)));
        progress?.fileDone(sizes.get(t.input)!);
      },
      run: async (t) => {
        const file = t.input;
        const ctxBase = { file, shard, seed: o.seed ?? 0, onError, workers: o.workers ?? 1, log, outDir };
        try {
          const { stats, outputs } = await runFile(file, join(outDir, t.key), withInputs, ctxBase, progress);
          const failure = fileFailure(stats, o.maxFailedShare);
          if (failure) {
            // Nothing of it is kept and no marker is written: a rerun (after fixing the file) processes it again.
            for (const p of outputs) await rm(p, { force: true });
            if (onError === "fail") throw new Error(`${file}: ${failure}; nothing of it was kept`);
            log.warn(`file failed: ${file}: ${failure}; nothing of it was kept and it has no completion marker, so a rerun retries it`);
            result.filesFailed.push({ file, error: failure });
            return null;
          }
          perFile.push(stats);
          result.outputs.push(...outputs);
          return { outputs: outputs.map((p) => p.slice(outDir.length + 1)), stats };
        } catch (e) {
          if (onError === "fail" || e instanceof FatalError) throw e;
          // A file that cannot be read at all is skipped and reported; it has no marker, so a rerun retries it.
          const msg = (e as Error).message;
          log.warn(`skipped ${file}: ${msg}`);
          result.filesFailed.push({ file, error: msg });
          return null;
        } finally {
          progress?.fileDone(sizes.get(file)!);
        }
      },
    });
    result.filesDone = loop.done.length;
    result.filesSkipped = loop.skipped.length;
  } catch (e) {
    await closeStages(o.stages).catch(() => {}); // the run's own error is the one to report
    throw e;
  } finally {
    progress?.stop();
  }
  await closeStages(o.stages);
  result.stats = mergeRunStats(perFile);
  const shardStats = { ...result.stats, shard, filesFailed: result.filesFailed };
  if (o.writeOutput !== false) {
    await writeFileAtomic(join(outDir, `stats.shard-${shard.index}-of-${shard.count}.json`), JSON.stringify(shardStats, null, 1) + "\n");
    // The folder-wide merge (all shards that have finished files so far).
    await writeFileAtomic(join(outDir, "stats.json"), JSON.stringify(await mergeFolderStats(outDir), null, 1) + "\n");
  }
  // After the stats are written, so a stopped run can be inspected with `megamath stats`.
  const { docsIn, docsOut } = keptFigures(result.stats);
  checkExpectation(step, docsIn, docsOut, o.expect, shard.count > 1 ? `shard ${shard.index}/${shard.count}` : "");
  return result;
}

/** Close every stage (releasing workers) even when one close fails; then throw the first failure. */
async function closeStages(stages: Stage[]): Promise<void> {
  let first: unknown;
  for (const s of stages) {
    try {
      await s.close?.();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

/** The run's identity-relevant settings: its own (the command's options) and every stage's. */
async function runSettings(o: RunOptions): Promise<unknown> {
  const parts: unknown[] = [o.identity ?? ""];
  for (const s of o.stages) parts.push(s.identity ? `${s.name}:${await s.identity()}` : "");
  return parts;
}

/** Files besides the input that the outputs depend on: the run's own list and every stage's (models, indexes). */
function runReads(o: RunOptions): string[] {
  return [...(o.reads ?? []), ...o.stages.flatMap((s) => s.reads?.() ?? [])];
}

/** An error that must stop the run even under onError "skip" (e.g. the output disk is full). */
export class FatalError extends Error {}
export { OutputFolderError };

async function runFile(
  file: string,
  outBase: string,
  o: RunOptions,
  ctxBase: Omit<StageContext, "stats">,
  progress?: Progress,
): Promise<{ stats: RunStatsJSON; outputs: string[] }> {
  const readStats = new StageStats(READ_STAGE);
  const stageStats = o.stages.map((s) => new StageStats(s.name));
  // Each timer holds the inclusive time spent pulling from that point of the chain; a stage's own time is its
  // timer minus its upstream's.
  const timers = [{ ms: 0 }];
  let stream: AsyncIterable<Batch> = (o.reader ?? readDocuments)(file, { ...o.read, onError: ctxBase.onError, stats: readStats });
  stream = timed(counted(stream, readStats, "out", progress), timers[0]);
  for (let i = 0; i < o.stages.length; i++) {
    const stage = o.stages[i];
    const stats = stageStats[i];
    let input = counted(stream, stats, "in");
    if (stage.requires?.length) input = requireColumns(input, stage.requires, file, stage.name);
    const timer = { ms: 0 };
    timers.push(timer);
    stream = timed(counted(stage.run(input, { ...ctxBase, stats }), stats, "out"), timer);
  }
  const writer = o.writeOutput === false ? null : openWriter(outBase, o.write);
  try {
    for await (const batch of stream) {
      if (writer) await writer.write(batch);
    }
  } catch (e) {
    await writer?.abort().catch(() => {});
    throw wrapError(e, file);
  }
  let outputs: string[] = [];
  if (writer) {
    try {
      outputs = await writer.close();
    } catch (e) {
      await writer.abort().catch(() => {});
      throw wrapError(e, file);
    }
  }
  // The reader counts lines it could not parse as failed; everything it saw is its input.
  readStats.docsIn = readStats.docsOut + readStats.failedTotal;
  readStats.timeMs = timers[0].ms;
  stageStats.forEach((s, i) => (s.timeMs = Math.max(0, timers[i + 1].ms - timers[i].ms)));
  const all = [readStats, ...stageStats];
  for (const s of all) {
    const err = s.check();
    if (err) throw new FatalError(`${file}: ${err} (a stage lost or invented documents; this is a bug)`);
  }
  return { stats: { files: 1, stages: all.map((s) => s.toJSON()) }, outputs };
}

function wrapError(e: unknown, file: string): Error {
  const err = e as NodeJS.ErrnoException;
  // The writer reports a failed write as an OutputError whose cause holds the system error.
  const code = err.code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new FatalError(`writing output for ${file}: disk full (${code}); nothing was left under a final name`);
  }
  if (err instanceof Error && !err.message.includes(file)) err.message = `${file}: ${err.message}`;
  return err as Error;
}

async function* counted(src: AsyncIterable<Batch>, stats: StageStats, side: "in" | "out", progress?: Progress): AsyncIterable<Batch> {
  for await (const b of src) {
    const bytes = textBytes(b);
    if (side === "in") {
      stats.docsIn += b.numRows;
      stats.bytesIn += bytes;
    } else {
      stats.docsOut += b.numRows;
      stats.bytesOut += bytes;
      progress?.add(b.numRows, bytes);
    }
    yield b;
  }
}

async function* timed(src: AsyncIterable<Batch>, timer: { ms: number }): AsyncIterable<Batch> {
  const it = src[Symbol.asyncIterator]();
  try {
    while (true) {
      const t0 = performance.now();
      const r = await it.next();
      timer.ms += performance.now() - t0;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

async function* requireColumns(src: AsyncIterable<Batch>, cols: string[], file: string, stage: string): AsyncIterable<Batch> {
  let checked = false;
  for await (const b of src) {
    if (!checked) {
      const have = new Set(b.schema.fields.map((f) => f.name));
      const missing = cols.filter((c) => !have.has(c));
      if (missing.length) {
        throw new Error(`${file}: stage "${stage}" needs column(s) ${missing.join(", ")}; present: ${[...have].join(", ")}`);
      }
      checked = true;
    }
    yield b;
  }
}

/** Output base names for input files, unique across the whole (unsharded) input list so every shard agrees. */
export function outputNames(files: string[]): Map<string, string> {
  const abs = files.map((f) => resolve(f));
  const root = commonFolder(abs);
  const names = new Map<string, string>();
  const used = new Set<string>();
  // A writer numbers its parts NAME-00000, NAME-00001, …: so NAME must not clash with another input named
  // NAME-00001 (its output would be overwritten, or deleted as a stale part of NAME).
  const PART = /-\d{5}$/;
  const stems = new Set<string>(); // NAME of every used name that looks like NAME-ddddd
  const clashes = (n: string) => used.has(n) || stems.has(n) || (PART.test(n) && used.has(n.replace(PART, "")));
  abs.forEach((a, i) => {
    let rel = a.slice(root.length).replace(/^[\\/]+/, "");
    rel = rel.replace(/\.(parquet|arrow|ipc|feather|jsonl|json|ndjson)(\.(gz|zst|zstd))?$/i, "");
    let name = safeOutputName(rel.split(sep).join("__"), `input-${i}`);
    while (clashes(name)) name += "_";
    used.add(name);
    if (PART.test(name)) stems.add(name.replace(PART, ""));
    names.set(files[i], name);
  });
  return names;
}

/** Output suffixes a runner task writes (its temp names are these with ".tmp-" before and a random tail after). */
const OUTPUT_SUFFIXES = [".parquet", ".jsonl", ".jsonl.gz", ".arrow"] as const;

/** Merge the stats of every task marker in a folder (exact across shards), whichever step wrote it, with the files
 * that failed (named by each shard's last run) and have not been done since. */
export async function mergeFolderStats(dir: string): Promise<RunStatsJSON & { commands: string[]; markers: number; filesFailed: { file: string; error: string }[] }> {
  if (!existsSync(join(dir, MARKER_DIR))) {
    throw new Error(`${dir} has no ${MARKER_DIR}/ folder: not the output folder of a megamath command`);
  }
  const markers = await readFolderMarkers(dir);
  const commands = [...new Set(markers.map((m) => m.step))];
  const done = new Set(markers.flatMap((m) => (m.input ? [resolve(m.input)] : [])));
  const filesFailed: { file: string; error: string }[] = [];
  for (const n of (await readdir(dir)).filter((x) => /^stats\.shard-\d+-of-\d+\.json$/.test(x)).sort()) {
    try {
      const j = JSON.parse(await readFile(join(dir, n), "utf8")) as { filesFailed?: { file: string; error: string }[] };
      for (const f of j.filesFailed ?? []) if (!done.has(resolve(f.file))) filesFailed.push(f);
    } catch {
      // a shard file being rewritten by another task: its failures show in the next merge
    }
  }
  return { ...mergeRunStats(markers.map((m) => m.stats)), commands, markers: markers.length, filesFailed };
}
