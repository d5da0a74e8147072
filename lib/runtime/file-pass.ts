// One input file through a chain of steps in a single pass: read once, push the batches through every step's
// stages, and write the documents of each step that keeps its output (always the last one). Each step keeps its
// own accounting, as if it had read its predecessor's output from disk: a "read" stage (what reached it), then its
// stages. With one step this is exactly what a single command does; with several it is a fused pass (fused.ts).
import type { Batch } from "../arrow/batch.js";
import { textBytes } from "../arrow/batch.js";
import { readDocuments, openWriter, type ReadOptions, type WriterOptions } from "../io/index.js";
import type { Progress } from "./progress.js";
import type { Stage, StageContext } from "./stage.js";
import { StageStats, type RunStatsJSON } from "./stats.js";

export const READ_STAGE = "read";

/** An error that must stop the run even under onError "skip" (e.g. the output disk is full). */
export class FatalError extends Error {}

export interface PassStep {
  stages: Stage[];
  /** Output path without extension, or null when this step's documents are not written (a fused intermediate). */
  outBase: string | null;
  /** The step's folder (its stages write their sidecars there). */
  outDir: string;
  /** The document file this step reads (default: the input file): in a fused pass, the file the step before it
   * would have written. A sink (Stage.sink) records it. */
  source?: string;
}

export interface PassOptions {
  read?: ReadOptions;
  reader?: (file: string, opts: ReadOptions) => AsyncIterable<Batch>;
  write?: WriterOptions;
}

/** Run one file through every step; returns each step's stats and the files it wrote (absolute paths). */
export async function runFilePass(
  file: string,
  steps: PassStep[],
  o: PassOptions,
  ctxBase: Omit<StageContext, "stats" | "outDir">,
  progress?: Progress,
): Promise<{ stats: RunStatsJSON; outputs: string[] }[]> {
  const readStats = new StageStats(READ_STAGE);
  const stepStats = steps.map((s) => s.stages.map((st) => new StageStats(st.name)));
  // Each timer holds the inclusive time spent pulling from that point of the chain (less the time spent writing an
  // intermediate step's output, which no stage owns); a stage's own time is its timer minus its upstream's.
  const writing = { ms: 0 };
  const timers = [{ ms: 0 }];
  let stream: AsyncIterable<Batch> = (o.reader ?? readDocuments)(file, { ...o.read, onError: ctxBase.onError, stats: readStats });
  stream = timed(counted(stream, readStats, "out", progress), timers[0], writing);
  // A step whose last stage has a sink writes through it (e.g. token files); any other writes documents.
  const writers = steps.map((s) => {
    if (s.outBase === null) return null;
    const sink = s.stages.at(-1)?.sink;
    return sink ? sink.open(s.outBase, s.source ?? file) : openWriter(s.outBase, o.write);
  });
  const last = steps.length - 1;
  steps.forEach((step, k) => {
    step.stages.forEach((stage, i) => {
      const stats = stepStats[k][i];
      let input = counted(stream, stats, "in");
      if (stage.requires?.length) input = requireColumns(input, stage.requires, file, stage.name);
      const timer = { ms: 0 };
      timers.push(timer);
      stream = timed(counted(stage.run(input, { ...ctxBase, outDir: step.outDir, stats }), stats, "out"), timer, writing);
    });
    const w = writers[k];
    if (w && k < last) stream = tee(stream, w, writing);
  });
  try {
    for await (const batch of stream) await writers[last]?.write(batch);
  } catch (e) {
    for (const w of writers) await w?.abort().catch(() => {});
    throw wrapError(e, file);
  }
  const outputs: string[][] = steps.map(() => []);
  for (let k = 0; k < writers.length; k++) {
    try {
      outputs[k] = (await writers[k]?.close()) ?? [];
    } catch (e) {
      for (const w of writers.slice(k)) await w?.abort().catch(() => {});
      throw wrapError(e, file);
    }
  }
  // The reader counts lines it could not parse as failed; everything it saw is its input.
  readStats.docsIn = readStats.docsOut + readStats.failedTotal;
  readStats.timeMs = timers[0].ms;
  const flat = stepStats.flat();
  flat.forEach((s, i) => (s.timeMs = Math.max(0, timers[i + 1].ms - timers[i].ms)));
  const result: { stats: RunStatsJSON; outputs: string[] }[] = [];
  let upstream = readStats;
  steps.forEach((_, k) => {
    // A later step's "read" is what its predecessor handed it: the figures its reader would have counted on disk.
    const read = k === 0 ? readStats : new StageStats(READ_STAGE);
    if (k > 0) {
      read.docsIn = read.docsOut = upstream.docsOut;
      read.bytesOut = upstream.bytesOut;
    }
    const all = [read, ...stepStats[k]];
    for (const s of all) {
      const err = s.check();
      if (err) throw new FatalError(`${file}: ${err} (a stage lost or invented documents; this is a bug)`);
    }
    upstream = all[all.length - 1];
    result.push({ stats: { files: 1, stages: all.map((s) => s.toJSON()) }, outputs: outputs[k] });
  });
  return result;
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

/** Write every batch to an intermediate step's writer, then pass it on. */
async function* tee(src: AsyncIterable<Batch>, w: { write(b: Batch): Promise<void> }, writing: { ms: number }): AsyncIterable<Batch> {
  for await (const b of src) {
    const t0 = performance.now();
    await w.write(b);
    writing.ms += performance.now() - t0;
    yield b;
  }
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

async function* timed(src: AsyncIterable<Batch>, timer: { ms: number }, writing: { ms: number }): AsyncIterable<Batch> {
  const it = src[Symbol.asyncIterator]();
  try {
    while (true) {
      const t0 = performance.now();
      const w0 = writing.ms;
      const r = await it.next();
      timer.ms += performance.now() - t0 - (writing.ms - w0);
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
