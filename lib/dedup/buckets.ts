// Stage 2: for one LSH band, a k-way merge of every sorted signature run of that band. Records with equal band
// keys become adjacent; each one after the first of its group is paired with the first (the smallest
// (file, row)), so a group of k equal keys gives k-1 pairs (a star, same components as datatrove's chain).
// Memory: one read buffer per run (64k records = 1 MiB each), independent of corpus size.
import { createHash } from "node:crypto";
import { StageStats } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import { DEDUP_FORMAT_VERSION } from "./params.js";
import { join } from "node:path";
import { CorruptFileError, RecordFileWriter, readRecordChunks } from "./recordfile.js";
import { runTaskLoop } from "../runtime/task-loop.js";
import { type SignatureDone, type StageRunResult, type WorkManifest, checkAgainst, paths, readAllSignatureDone, readWorkManifest } from "./workdir.js";

export interface BucketStageOptions {
  workDir: string;
  /** This task merges bands b with b % count == index. */
  shard?: { index: number; count: number };
  force?: boolean;
  log?: Logger;
}

export async function runBucketStage(o: BucketStageOptions): Promise<StageRunResult> {
  const shard = o.shard ?? { index: 0, count: 1 };
  const m = (await readWorkManifest(o.workDir))!;
  const done = await readAllSignatureDone(o.workDir, m);
  await checkAgainst(o.workDir, m.against);
  const stats = new StageStats("dedup-buckets");
  const tasks = [];
  for (let band = shard.index; band < m.params.bands; band += shard.count) {
    const digest = bandInputDigest(done, band, m);
    // The band's task on the shared task loop (lib/runtime/task-loop.ts): one marker per band in pairs/.done/, done
    // when it holds this fingerprint (the digest of the stage-1 runs merged) and the pairs file is the one it made.
    const fingerprint = createHash("sha256").update(`dedup-buckets:${DEDUP_FORMAT_VERSION}:${digest}`).digest("hex");
    tasks.push({ key: bandKey(band), fingerprint, band, digest });
  }
  const r = await runTaskLoop({
    step: "dedup-buckets", outDir: join(o.workDir, "pairs"), tasks, force: o.force, log: o.log, tempSuffixes: [".pairs"],
    onSkip: (_, marker) => { for (const st of marker.stats.stages) stats.merge(st); },
    run: async (t) => {
      const t0 = performance.now();
      const r = await mergeBand(o.workDir, m, done, t.band, t.digest);
      const st = new StageStats("dedup-buckets");
      st.timeMs = performance.now() - t0;
      st.count("pairs", r.pairs);
      st.count("records", r.records);
      stats.merge(st);
      o.log?.info(`buckets: band ${t.band}: ${r.records} signatures, ${r.pairs} duplicate pairs`);
      return { outputs: [`${t.key}.pairs`], stats: { files: 0, stages: [st.toJSON()] } };
    },
  });
  return { stats, done: r.done.map((d) => d.task.band), skipped: r.skipped.map((d) => d.task.band) };
}

const bandKey = (band: number) => `band-${String(band).padStart(3, "0")}`;

/** Identifies the exact stage-1 output a pairs file was made from, so a redone stage 1 invalidates it. */
export function bandInputDigest(done: SignatureDone[], band: number, m?: WorkManifest): string {
  const h = createHash("sha256");
  for (const d of done) for (const p of d.parts) if (p.band === band) h.update(`${d.file}/${p.part}:${p.sha256}\n`);
  // Against a reference index: its band file too (another index, or a rebuilt one, redoes the band).
  if (m?.against) h.update(`against:${m.against.bands[band]}\n`);
  return h.digest("hex");
}

/** One sorted run being merged: the current chunk and a position in it. `offset` is added to the file index of
 * every record (a reference index's documents follow the corpus's own files: against.ts). */
interface Run {
  path: string;
  chunks: AsyncGenerator<Uint32Array, void, void>;
  chunk: Uint32Array;
  pos: number;
  offset: number;
}

async function nextChunk(r: { chunks: AsyncGenerator<Uint32Array, void, void>; offset: number }): Promise<Uint32Array | null> {
  const next = await r.chunks.next();
  if (next.done) return null;
  const c = next.value; // a fresh array: adding the offset in place is safe
  if (r.offset) for (let i = 2; i < c.length; i += 4) c[i] += r.offset;
  return c;
}

export async function openRun(path: string, offset = 0): Promise<Run | null> {
  const r = { path, chunks: readRecordChunks(path, "signatures"), offset };
  const first = await nextChunk(r);
  if (!first) return null;
  return { ...r, chunk: first, pos: 0 };
}

/** Run a sorts before run b by their current record (hi, lo, file, row). */
function less(a: Run, b: Run): boolean {
  const x = a.chunk, i = a.pos, y = b.chunk, j = b.pos;
  if (x[i] !== y[j]) return x[i] < y[j];
  if (x[i + 1] !== y[j + 1]) return x[i + 1] < y[j + 1];
  if (x[i + 2] !== y[j + 2]) return x[i + 2] < y[j + 2];
  return x[i + 3] < y[j + 3];
}

function siftDown(heap: Run[], k: number): void {
  const n = heap.length;
  const item = heap[k];
  for (;;) {
    let c = 2 * k + 1;
    if (c >= n) break;
    if (c + 1 < n && less(heap[c + 1], heap[c])) c++;
    if (!less(heap[c], item)) break;
    heap[k] = heap[c];
    k = c;
  }
  heap[k] = item;
}

/** K-way merge of sorted runs: `visit` sees every record in (hi, lo, file, row) order (awaited only when it returns
 * a promise). Returns the number of records. */
export async function mergeRuns(runs: Run[], visit: (hi: number, lo: number, file: number, row: number) => void | Promise<void>):
Promise<number> {
  const heap = runs;
  for (let k = (heap.length >> 1) - 1; k >= 0; k--) siftDown(heap, k);
  let records = 0;
  while (heap.length) {
    const top = heap[0];
    const c = top.chunk, i = top.pos;
    const hi = c[i], lo = c[i + 1], file = c[i + 2], row = c[i + 3];
    records++;
    const p = visit(hi, lo, file, row);
    if (p) await p;
    top.pos += 4;
    if (top.pos === c.length) {
      const next = await nextChunk(top);
      if (!next) {
        const last = heap.pop()!;
        if (heap.length && last !== top) heap[0] = last;
        if (heap.length) siftDown(heap, 0);
        continue;
      }
      top.chunk = next;
      top.pos = 0;
    }
    checkOrder(top, hi, lo, row);
    siftDown(heap, 0);
  }
  return records;
}

/** Stage 1's sorted runs of one band (and the reference index's, when the work folder has one). */
export async function bandRuns(work: string, m: WorkManifest, done: SignatureDone[], band: number): Promise<Run[]> {
  const runs: Run[] = [];
  for (const d of done) {
    for (const p of d.parts) {
      if (p.band !== band || p.records === 0) continue;
      const r = await openRun(paths.sigPart(work, band, d.file, p.part));
      if (r) runs.push(r);
    }
  }
  if (m.against) {
    const r = await openRun(paths.indexBand(m.against.index, band), m.inputs.length);
    if (r) runs.push(r);
  }
  return runs;
}

async function mergeBand(work: string, m: WorkManifest, done: SignatureDone[], band: number, digest: string):
Promise<{ pairs: number; records: number }> {
  const runs = await bandRuns(work, m, done, band);
  const out = await RecordFileWriter.create(paths.pairs(work, band), {
    kind: "pairs", width: 4, version: DEDUP_FORMAT_VERSION, band, inputDigest: digest,
  });
  let records: number;
  try {
    let gHi = -1, gLo = -1, gFile = 0, gRow = 0;
    records = await mergeRuns(runs, (hi, lo, file, row) => {
      if (hi === gHi && lo === gLo) return out.push4(gFile, gRow, file, row);
      gHi = hi; gLo = lo; gFile = file; gRow = row;
    });
  } catch (e) {
    await out.abort();
    throw e;
  }
  const r = await out.close();
  return { pairs: r.records, records };
}

/** A run must be sorted by (hi, lo, row); datatrove's "hash order error" reports came from runs that were not. */
function checkOrder(run: Run, hi: number, lo: number, row: number): void {
  const c = run.chunk, i = run.pos;
  if (c[i] > hi || (c[i] === hi && (c[i + 1] > lo || (c[i + 1] === lo && c[i + 3] > row)))) return;
  throw new CorruptFileError(run.path, "records are not sorted by band key (corrupted signature file)");
}
