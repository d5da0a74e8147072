// The executor: reads each input file of this shard, pushes its batches through the stages, writes one output file
// set per input file, and leaves a task marker holding that file's fingerprint and stats (the task loop of
// task-loop.ts). A marker whose fingerprint equals the one computed now makes a rerun skip the file (resume); any
// change to the input, the settings or a model/index read redoes it. Merging every marker in a folder gives exact
// stats across shards (`megamath stats DIR`).
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { Batch } from "../arrow/batch.js";
import { expandInputs, type ReadOptions, type WriterOptions as WriteOptions } from "../io/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { commonFolder } from "../io/glob.js";
import { fileFailure } from "./failures.js";
import { lockFolder } from "./lock.js";
import { refuseOutputHoldingInputs, safeOutputName, assertInside, claimSlot, releaseSlot, ensureWritableDir, OutputFolderError } from "./output-guard.js";
import { createLogger, type Logger } from "./log.js";
import { Progress } from "./progress.js";
import type { OnError, Stage } from "./stage.js";
import { mergeRunStats, type RunStatsJSON } from "./stats.js";
import { fingerprintFile, fingerprintPath, hashOf, taskFingerprint } from "./fingerprint.js";
import { MARKER_DIR, markerMismatch, markerPath, readFolderMarkers, readTaskMarker, removeOwnTemps, runTaskLoop, writeTaskMarker, type TaskMarker } from "./task-loop.js";
import { FatalError, READ_STAGE, runFilePass } from "./file-pass.js";
import { checkExpectation, keptFigures, type Expect } from "./expect.js";
import { GzipPool } from "../io/gzip-pool.js";

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
  /** Worker threads for the stages (StageContext.workers, default 1) and, with .jsonl.gz output, for compressing
   * it (default: none, the calling thread compresses; the bytes are the same either way). */
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
  /** The input files found done (their markers matched), in order. */
  skippedFiles: string[];
  filesFailed: { file: string; error: string }[];
}

export { MARKER_DIR, READ_STAGE };

/** One step of a fused pass: what a single command would run, with its own folder, identity and bounds. */
export interface FusedStep {
  /** The step (command) name, recorded in its markers and stats. */
  name: string;
  outDir: string;
  stages: Stage[];
  /** As RunOptions.identity/reads/expect, for this step alone. */
  identity?: string;
  reads?: string[];
  expect?: Expect;
  /** Write this step's documents to its folder (the last step always does): keeps an intermediate for debugging. */
  keep?: boolean;
}

export type FusedRunOptions = Omit<RunOptions, "outDir" | "stages" | "name" | "identity" | "reads" | "expect" | "writeOutput"> & {
  steps: FusedStep[];
};

/** Run a pipeline over this shard's files. Throws on the first error under onError "fail". */
export async function runPipeline(o: RunOptions): Promise<RunResult> {
  const step: FusedStep = { name: o.name ?? "run", outDir: o.outDir, stages: o.stages, identity: o.identity, reads: o.reads, expect: o.expect, keep: true };
  return (await runSteps(o, [step], o.writeOutput !== false))[0];
}

/** The folder's markers for every input of a one-step run (all shards' files, in input order) when each one is
 * there, was made under the fingerprint this run gives that file now, and still describes its outputs; otherwise
 * the number of inputs without such a marker (another shard has not finished, or finished under other settings).
 * For what only the whole run can write (a summary over all shards), by whichever shard finishes last. */
export async function currentMarkers(o: RunOptions): Promise<{ markers: TaskMarker[]; missing: number }> {
  const step: FusedStep = { name: o.name ?? "run", outDir: resolve(o.outDir), stages: o.stages, identity: o.identity, reads: o.reads, keep: true };
  const all = await expandInputs(o.inputs);
  const names = outputNames(all);
  const markers = await Promise.all(all.map((f) => readTaskMarker(markerPath(step.outDir, names.get(f)!))));
  let missing = markers.filter((m) => m === null).length;
  if (missing) return { markers: [], missing };
  // Every marker is there: check each is current (fingerprints cost a read of each input's head and tail).
  const settings = await stepSettings(step);
  const reads = await Promise.all(stepReads(step).map(fingerprintPath));
  for (const [i, f] of all.entries()) {
    const fp = taskFingerprint({ step: step.name, settings, reads: [await fingerprintFile(f), ...reads] });
    if ((await markerMismatch(step.outDir, markers[i], fp)) !== null) missing++;
  }
  return missing ? { markers: [], missing } : { markers: markers as TaskMarker[], missing: 0 };
}

/**
 * Run consecutive per-document steps in one pass: each input file is read once, goes through every step's stages,
 * and only the last step's documents (and those of steps marked keep) are written. Each step still gets, in its own
 * folder, a marker per file with its own stats (docs in = out + removed + failed) and fingerprint, its stats files,
 * and its own expectation check: `megamath stats`/`report` read a fused step like any other. A kept step's marker is
 * the one the step alone would write (same fingerprint, same output), so fused and unfused runs reuse each other's
 * work; an unkept step's marker holds its stats only, under a fingerprint that no unfused run takes for done.
 * The last step's fingerprint chains every step's settings: a change to any of them redoes the pass.
 */
export async function runFusedPipeline(o: FusedRunOptions): Promise<RunResult[]> {
  if (!o.steps.length) throw new Error("runFusedPipeline: no steps");
  // A step's documents must be one file per input under a predictable name, as the next step would have read them.
  if (o.steps.length > 1 && o.write?.maxFileBytes) throw new Error("a fused pass cannot roll outputs into numbered parts (maxFileBytes); run the steps one by one");
  const dirs = o.steps.map((s) => resolve(s.outDir));
  if (new Set(dirs).size !== dirs.length) throw new Error("every step of a fused pass needs its own output folder");
  // A sink's output (token files, say) is not documents: nothing can read it within the pass.
  const early = o.steps.slice(0, -1).find((s) => s.stages.some((st) => st.sink));
  if (early) throw new Error(`step ${early.name} writes no documents (its output is ${early.stages.find((st) => st.sink)!.name}'s), so it must end a fused pass`);
  return runSteps(o, o.steps, true);
}

interface Shape { log: Logger; shard: { index: number; count: number }; onError: OnError; all: string[]; mine: string[]; names: Map<string, string> }

async function runSteps(o: Omit<RunOptions, "outDir" | "stages">, steps: FusedStep[], writes: boolean): Promise<RunResult[]> {
  const log = o.log ?? createLogger({ quiet: true });
  const shard = o.shard ?? { index: 0, count: 1 };
  const onError = o.onError ?? "fail";
  steps = steps.map((s) => ({ ...s, outDir: resolve(s.outDir) }));
  const all = await expandInputs(o.inputs, (e) => log.info(`input ${JSON.stringify(e.pattern)}: ${e.files} file(s)` +
    (e.leftOut ? `; left out ${e.leftOut} of megamath's own (markers, stats, reports, work folders)` : "")));
  for (const s of steps) await refuseOutputHoldingInputs(s.outDir, all);
  const mine = all.filter((_, i) => i % shard.count === shard.index);
  const names = outputNames(all);
  for (const s of steps) for (const n of names.values()) assertInside(s.outDir, n);
  for (const s of steps) await ensureWritableDir(s.outDir);
  const locks = [];
  try {
    if (writes) for (const s of steps) locks.push(await lockFolder(s.outDir, shard));
    return await runLocked(o, steps, writes, { log, shard, onError, all, mine, names });
  } finally {
    for (const l of locks) await l.release();
  }
}

async function runLocked(o: Omit<RunOptions, "outDir" | "stages">, steps: FusedStep[], writes: boolean, r: Shape): Promise<RunResult[]> {
  const { log, shard, onError, all, mine, names } = r;
  for (const s of steps) await mkdir(join(s.outDir, MARKER_DIR), { recursive: true });
  const last = steps.length - 1;
  const kept = (k: number) => k === last || Boolean(steps[k].keep);
  const ext = `.${o.write?.format ?? "parquet"}`;
  // The last step may write through a sink (its last stage's, e.g. token files) instead of document files.
  const sink = steps[last].stages.at(-1)?.sink;
  if (steps[last].stages.slice(0, -1).some((st) => st.sink)) throw new Error(`step ${steps[last].name}: only its last stage may write through a sink`);
  const lastSuffixes = sink?.suffixes ?? OUTPUT_SUFFIXES;
  let totalBytes = 0;
  const sizes = new Map<string, number>();
  for (const f of mine) {
    const s = (await stat(f)).size;
    sizes.set(f, s);
    totalBytes += s;
  }
  // Readers see the whole sorted input list (not just this shard's): default ids stay unique across inputs that
  // share a file name, and are the same on every shard.
  const read = { ...o.read, inputs: all };
  const label = steps.map((s) => s.name).join("+");
  const settings = await Promise.all(steps.map(stepSettings));
  const reads = await Promise.all(steps.map((s) => Promise.all(stepReads(s).map(fingerprintPath))));
  const tasks = await Promise.all(mine.map(async (file) => {
    const key = names.get(file)!;
    // Step k reads what step k-1 wrote for this file: the fingerprint fingerprintFile gives a megamath output.
    const fps: string[] = [];
    let input = await fingerprintFile(file);
    steps.forEach((s, k) => {
      fps.push(taskFingerprint({ step: s.name, settings: settings[k], reads: [input, ...reads[k]] }));
      input = hashOf(["output", fps[k], key + ext]);
    });
    return { key, input: file, fingerprint: fps[last], fps };
  }));
  // A pass is done only when every step's marker agrees; one that does not (an intermediate changed or removed
  // by hand) makes the whole pass redo that file: its last marker goes, and what it listed is still ours to replace.
  const dropped = new Map<string, string[]>();
  if (writes && !o.force && last > 0) {
    for (const t of tasks) {
      for (let k = 0; k < last; k++) {
        if (!(await stepDone(steps[k].outDir, t.key, t.fps[k], kept(k)))) {
          const m = await readTaskMarker(markerPath(steps[last].outDir, t.key));
          if (m) dropped.set(t.key, m.outputs);
          await rm(markerPath(steps[last].outDir, t.key), { force: true });
          break;
        }
      }
    }
  }
  // Made after the last step that can throw outside the try below, which stops its timer.
  const progress = o.progress
    ? new Progress({ tty: o.progress.tty, log: o.progress.tty ? undefined : log, label }, totalBytes, mine.length)
    : undefined;
  const results: RunResult[] = steps.map(() => ({ stats: { stages: [], files: 0 }, outputs: [], filesDone: 0, filesSkipped: 0, skippedFiles: [], filesFailed: [] }));
  const perFile: RunStatsJSON[][] = steps.map(() => []);
  const filesFailed: { file: string; error: string }[] = [];
  const allStages = steps.flatMap((s) => s.stages);
  // One compression pool for every file and step of the run (its threads start with the first gzip member).
  const ownPool = writes && o.write?.format === "jsonl.gz" && !o.write.gzipPool && (o.workers ?? 0) > 0 ? new GzipPool(o.workers!) : null;
  const write = ownPool ? { ...o.write, gzipPool: ownPool } : o.write;
  try {
    const loop = await runTaskLoop({
      step: steps[last].name, outDir: steps[last].outDir, tasks, force: o.force, log, tempSuffixes: lastSuffixes, writeMarkers: writes,
      // Final-named files in this file's slot are removed only when megamath made them (output-guard.ts); a claim
      // covers the parts a killed attempt renamed into place before it died. Earlier steps' slots likewise.
      claim: writes ? async (t, old) => {
        for (let k = 0; k < last; k++) {
          const dir = steps[k].outDir;
          const prev = await readTaskMarker(markerPath(dir, t.key));
          await removeOwnTemps(dir, t.key, OUTPUT_SUFFIXES);
          await claimSlot(dir, join(dir, MARKER_DIR), t.key, prev?.outputs);
          await rm(markerPath(dir, t.key), { force: true });
        }
        const before = old?.outputs ?? dropped.get(t.key);
        await claimSlot(steps[last].outDir, join(steps[last].outDir, MARKER_DIR), t.key, before);
        // A sink's files are not in claimSlot's document slot: remove what the old marker listed (a redo with other
        // settings may write fewer files, e.g. no sidecars), only inside the folder.
        if (sink) for (const x of before ?? []) if (!x.includes("/") && !x.includes("\\")) await rm(join(steps[last].outDir, x), { force: true });
      } : undefined,
      release: writes ? async (t) => {
        for (const s of steps) await releaseSlot(join(s.outDir, MARKER_DIR), t.key);
      } : undefined,
      onSkip: (t, m) => {
        perFile[last].push(m.stats);
        results[last].outputs.push(...m.outputs.map((x) => join(steps[last].outDir, x)));
        progress?.fileDone(sizes.get(t.input)!);
      },
      run: async (t) => {
        const file = t.input;
        const ctxBase = { file, shard, seed: o.seed ?? 0, onError, workers: o.workers ?? 1, log };
        try {
          const passSteps = steps.map((s, k) => ({ stages: s.stages, outDir: s.outDir, outBase: writes && kept(k) ? join(s.outDir, t.key) : null,
            // What the step reads: the input, or the file the step before it writes (or would write) for it.
            source: k === 0 ? file : join(steps[k - 1].outDir, t.key + ext) }));
          const done = await runFilePass(file, passSteps, { read, reader: o.reader, write }, ctxBase, progress);
          const failure = done.map((d) => fileFailure(d.stats, o.maxFailedShare)).find((f) => f !== null);
          if (failure) {
            // Nothing of it is kept and no marker is written: a rerun (after fixing the file) processes it again.
            for (const d of done) for (const p of d.outputs) await rm(p, { force: true });
            if (onError === "fail") throw new Error(`${file}: ${failure}; nothing of it was kept`);
            log.warn(`file failed: ${file}: ${failure}; nothing of it was kept and it has no completion marker, so a rerun retries it`);
            filesFailed.push({ file, error: failure });
            return null;
          }
          const rel = (k: number) => done[k].outputs.map((p) => p.slice(steps[k].outDir.length + 1));
          for (let k = 0; k < last && writes; k++) {
            await writeTaskMarker(steps[k].outDir, {
              step: steps[k].name, key: t.key, input: file, outputs: rel(k), stats: done[k].stats,
              ...(kept(k) ? { fingerprint: t.fps[k] } : { fingerprint: unkeptFingerprint(t.fps[k]), fusedInto: steps[last].name }),
            });
          }
          done.forEach((d, k) => {
            perFile[k].push(d.stats);
            results[k].outputs.push(...d.outputs);
          });
          return { outputs: rel(last), stats: done[last].stats };
        } catch (e) {
          if (onError === "fail" || e instanceof FatalError) throw e;
          // A file that cannot be read at all is skipped and reported; it has no marker, so a rerun retries it.
          const msg = (e as Error).message;
          log.warn(`skipped ${file}: ${msg}`);
          filesFailed.push({ file, error: msg });
          return null;
        } finally {
          progress?.fileDone(sizes.get(file)!);
        }
      },
    });
    // Files found done: the earlier steps' figures come from their own markers (checked above).
    for (const { task } of loop.skipped) {
      for (let k = 0; k < last; k++) {
        const m = await readTaskMarker(markerPath(steps[k].outDir, task.key));
        if (m) {
          perFile[k].push(m.stats);
          results[k].outputs.push(...m.outputs.map((x) => join(steps[k].outDir, x)));
        }
      }
    }
    for (const res of results) {
      res.filesDone = loop.done.length;
      res.filesSkipped = loop.skipped.length;
      res.skippedFiles = loop.skipped.map((x) => x.task.input);
      res.filesFailed = filesFailed;
    }
  } catch (e) {
    await closeStages(allStages).catch(() => {}); // the run's own error is the one to report
    throw e;
  } finally {
    progress?.stop();
    await ownPool?.destroy();
  }
  await closeStages(allStages);
  steps.forEach((_, k) => (results[k].stats = mergeRunStats(perFile[k])));
  if (writes) {
    for (const [k, s] of steps.entries()) {
      const shardStats = { ...results[k].stats, shard, filesFailed };
      await writeFileAtomic(join(s.outDir, `stats.shard-${shard.index}-of-${shard.count}.json`), JSON.stringify(shardStats, null, 1) + "\n");
      // The folder-wide merge (all shards that have finished files so far).
      await writeFileAtomic(join(s.outDir, "stats.json"), JSON.stringify(await mergeFolderStats(s.outDir), null, 1) + "\n");
    }
  }
  // A sink's summary of the folder (e.g. the token folder's manifest.json), over every shard's finished files.
  if (writes && sink?.finish) await sink.finish(steps[last].outDir, log);
  // After the stats are written, so a stopped run can be inspected with `megamath stats`; each step by its own bounds.
  steps.forEach((s, k) => {
    const { docsIn, docsOut } = keptFigures(results[k].stats);
    checkExpectation(s.name, docsIn, docsOut, s.expect, shard.count > 1 ? `shard ${shard.index}/${shard.count}` : "");
  });
  return results;
}

/** The fingerprint under which an unkept (fused) step records its stats: never one an unfused run takes for done,
 * since no output file backs it. */
const unkeptFingerprint = (fp: string) => hashOf(["fused-no-output", fp]);

/** Does step folder `dir` hold a finished marker for `key` made under fingerprint `fp`? */
async function stepDone(dir: string, key: string, fp: string, kept: boolean): Promise<boolean> {
  const m = await readTaskMarker(markerPath(dir, key));
  if (!m) return false;
  if (kept) return (await markerMismatch(dir, m, fp)) === null;
  // An unkept step: its stats-only marker, or the marker of an unfused run of the step (its output still there).
  return m.fingerprint === unkeptFingerprint(fp) || (await markerMismatch(dir, m, fp)) === null;
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

/** A step's identity-relevant settings: its own (the command's options) and every stage's. */
async function stepSettings(s: FusedStep): Promise<unknown> {
  const parts: unknown[] = [s.identity ?? ""];
  for (const st of s.stages) parts.push(st.identity ? `${st.name}:${await st.identity()}` : "");
  return parts;
}

/** Files besides the input that a step's outputs depend on: its own list and every stage's (models, indexes). */
function stepReads(s: FusedStep): string[] {
  return [...(s.reads ?? []), ...s.stages.flatMap((st) => st.reads?.() ?? [])];
}

export { FatalError, OutputFolderError };

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
