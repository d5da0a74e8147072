// The one task loop every executor runs: this shard's tasks → skip those whose marker holds the fingerprint computed
// now (and whose outputs are still the files the marker describes) → remove what a killed attempt left → do the
// rest (each writes under temp names and renames) → write the task's marker, with its stats, last.
//
// One marker format, one file per task under <outDir>/.done/<key>.json:
//   { version: 2, step, key, input?, fingerprint, outputs: [paths relative to outDir], stamps: [{size, mtimeMs}],
//     stats: RunStatsJSON, ...extra }
// The marker is written after every output is in place, so a marker always describes finished outputs; `stamps`
// let a reader see that an output was replaced after its marker (then the task is redone, and a downstream reader
// stops trusting the fingerprint; see fingerprint.ts). `megamath stats DIR` merges the stats of every marker.
import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, isTempName } from "../io/atomic.js";
import { MARKER_DIR, sameStamp, stampOf, type FileStamp } from "./fingerprint.js";
import type { Logger } from "./log.js";
import type { RunStatsJSON } from "./stats.js";

export { MARKER_DIR };
export const MARKER_VERSION = 2;

export interface TaskMarker {
  version: 2;
  /** The step (command) that wrote it. */
  step: string;
  /** The task's name, unique within the folder (an output stem, "mixture", "band-003", …). */
  key: string;
  /** The input this task read, when it has one (for logs and reports). */
  input?: string;
  fingerprint: string;
  /** Output files relative to the folder the marker describes. */
  outputs: string[];
  stamps: FileStamp[];
  stats: RunStatsJSON;
  [extra: string]: unknown;
}

/** A marker as a task hands it over: the loop adds version and stamps. */
export interface NewMarker {
  step: string;
  key: string;
  input?: string;
  fingerprint: string;
  outputs: string[];
  stats: RunStatsJSON;
  [extra: string]: unknown;
}

export const markerPath = (outDir: string, key: string) => join(outDir, MARKER_DIR, `${key}.json`);

export async function readTaskMarker(path: string): Promise<TaskMarker | null> {
  try {
    const m = JSON.parse(await readFile(path, "utf8")) as TaskMarker;
    return m.version === MARKER_VERSION && typeof m.fingerprint === "string" && Array.isArray(m.outputs) ? m : null;
  } catch {
    return null;
  }
}

/** Why a marker does not make its task done (null: it does): another fingerprint, or an output gone or replaced. */
export async function markerMismatch(outDir: string, m: TaskMarker | null, fingerprint: string): Promise<string | null> {
  if (!m) return "no marker";
  if (m.fingerprint !== fingerprint) return "made from other inputs or settings";
  for (const [i, rel] of m.outputs.entries()) {
    let s: FileStamp;
    try {
      s = await stampOf(join(outDir, rel));
    } catch {
      return `output ${rel} is missing`;
    }
    if (m.stamps?.[i] && !sameStamp(m.stamps[i], s)) return `output ${rel} was changed after it was made`;
  }
  return null;
}

/** Write a task's marker (stamping its outputs now, so call it after the last rename). */
export async function writeTaskMarker(outDir: string, m: NewMarker): Promise<TaskMarker> {
  const stamps = await Promise.all(m.outputs.map((o) => stampOf(join(outDir, o))));
  const marker = { version: MARKER_VERSION, ...m, stamps } as TaskMarker;
  await writeFileAtomic(markerPath(outDir, m.key), JSON.stringify(marker, null, 1) + "\n");
  return marker;
}

/** Does temp name `name` (".tmp-<final>.<pid>.<random>" or ".tmp-<final>-<…>") belong to task `key`, whose final
 * names are key + suffix (or key-NNNNN + suffix, a numbered part)? Suffixes are exact so that task "x" never takes
 * the temp files of a task "x.v2" or "x_" working beside it. */
export function ownsTempName(name: string, key: string, suffixes: readonly string[]): boolean {
  if (!isTempName(name)) return false;
  const rest = name.slice(".tmp-".length);
  if (!rest.startsWith(key)) return false;
  const tail = rest.slice(key.length).replace(/^-\d{5}(?=\.)/, "");
  return suffixes.some((s) => tail.startsWith(s) && /^([.-]|$)/.test(tail.slice(s.length)));
}

/** Remove the temp names of task `key` in `dir` (files or folders) that a killed attempt left behind. */
export async function removeOwnTemps(dir: string, key: string, suffixes: readonly string[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const mine = names.filter((n) => ownsTempName(n, key, suffixes));
  await Promise.all(mine.map((n) => rm(join(dir, n), { recursive: true, force: true })));
  return mine;
}

export interface LoopTask {
  key: string;
  fingerprint: string;
  input?: string;
}

export interface TaskOutcome {
  /** Output files relative to outDir. */
  outputs: string[];
  stats: RunStatsJSON;
  /** More fields for the marker (e.g. tokens written). */
  extra?: Record<string, unknown>;
}

export interface TaskLoopOptions<T extends LoopTask> {
  step: string;
  outDir: string;
  /** This shard's tasks, in order. */
  tasks: T[];
  /** Redo every task whatever its marker says. */
  force?: boolean;
  log?: Logger;
  /** Final-name suffixes of a task's outputs (".parquet", ".bin", …): its temp names are removed before it runs. */
  tempSuffixes: readonly string[];
  /** Before a task runs (its old marker, if any, still in place): make its slot ready, e.g. remove the outputs a
   * killed attempt renamed into place (the runner's claimSlot). */
  claim?(task: T, old: TaskMarker | null): Promise<void>;
  /** After the task's marker is written, or after it failed (run gave null). */
  release?(task: T): Promise<void>;
  /** Do the task; null when it failed in a way the caller counted and that must leave no marker (a retry redoes it). */
  run(task: T): Promise<TaskOutcome | null>;
  /** Called for each task found done (to count its stats, list its outputs). */
  onSkip?(task: T, marker: TaskMarker): void;
  /** Write markers (false for a dry run: a marker would make the real run skip the task). Default true. */
  writeMarkers?: boolean;
}

export interface TaskLoopResult<T> {
  done: { task: T; marker: TaskMarker | null; outcome: TaskOutcome }[];
  skipped: { task: T; marker: TaskMarker }[];
  failed: T[];
}

export async function runTaskLoop<T extends LoopTask>(o: TaskLoopOptions<T>): Promise<TaskLoopResult<T>> {
  const result: TaskLoopResult<T> = { done: [], skipped: [], failed: [] };
  const write = o.writeMarkers !== false;
  for (const task of o.tasks) {
    const path = markerPath(o.outDir, task.key);
    const old = await readTaskMarker(path);
    if (!o.force) {
      const why = await markerMismatch(o.outDir, old, task.fingerprint);
      if (why === null) {
        result.skipped.push({ task, marker: old! });
        o.onSkip?.(task, old!);
        o.log?.debug(`${o.step}: ${task.key}: already done`);
        continue;
      }
      if (old) o.log?.info(`${o.step}: ${task.key}: ${why}; redoing it`);
    }
    const removed = await removeOwnTemps(o.outDir, task.key, o.tempSuffixes);
    if (removed.length) o.log?.info(`${o.step}: ${task.key}: removed ${removed.length} temp file(s) of a killed run`);
    await o.claim?.(task, old);
    // The old marker stops describing the folder once the task starts over: a failure now must not leave it.
    if (old) await rm(path, { force: true });
    const outcome = await o.run(task);
    if (!outcome) {
      await o.release?.(task);
      result.failed.push(task);
      continue;
    }
    const marker = write
      ? await writeTaskMarker(o.outDir, { step: o.step, key: task.key, input: task.input, fingerprint: task.fingerprint,
        outputs: outcome.outputs, stats: outcome.stats, ...outcome.extra })
      : null;
    await o.release?.(task);
    result.done.push({ task, marker, outcome });
  }
  return result;
}

/** Every marker in a folder (any step), sorted by key. */
export async function readFolderMarkers(outDir: string): Promise<TaskMarker[]> {
  let names: string[];
  try {
    names = (await readdir(join(outDir, MARKER_DIR))).filter((n) => n.endsWith(".json") && !isTempName(n)).sort();
  } catch {
    return [];
  }
  const ms = await Promise.all(names.map((n) => readTaskMarker(join(outDir, MARKER_DIR, n))));
  return ms.filter((m): m is TaskMarker => m !== null);
}
