// Stage 1: MinHash signatures of every document of an input file, written as one sorted file per band.
// Memory is bounded by `maxDocsPerPart` (default 262,144 docs ≈ 50 MB at 11 bands): past that, the records
// collected so far are sorted and written as a "part" (a sorted run) and collection starts again; stage 2
// merges all runs of a band anyway, so parts cost nothing extra there.
import { rm } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname, join, relative } from "node:path";
import { DataType } from "apache-arrow";
import { type Batch, getTexts, getNumbers, hasColumn, textBytes } from "../arrow/batch.js";
import { StageStats } from "../runtime/stats.js";
import type { Logger } from "../runtime/log.js";
import type { OnError } from "../runtime/stage.js";
import { runTaskLoop } from "../runtime/task-loop.js";
import { MinHasher } from "./minhash.js";
import { ExactBuffer } from "./exact.js";
import { TaskPool, orderedMap, packTexts, packedTransfer, workerFile } from "../runtime/pool.js";
import type { SignResult, SignTask } from "./sign-worker.js";
import { idBlocks } from "./ids.js";
import { againstEntry } from "./against.js";
import { type DedupParams, DEDUP_FORMAT_VERSION, checkParams, describeParams } from "./params.js";
import { RecordFileWriter, writeRecordFile } from "./recordfile.js";
import { sortByKey64 } from "./radix.js";
import { type SignatureDone, type StageRunResult, type WorkManifest, initWorkDir, paths, removeTemps } from "./workdir.js";

/** Reads one input file as batches. Stage 4 must read the same file the same way (same row order). */
export type ReadFile = (file: string, stats: StageStats) => AsyncIterable<Batch>;

export interface SignatureStageOptions {
  /** All inputs, expanded and sorted: the same list for every shard and for stage 4. */
  inputs: string[];
  workDir: string;
  params: DedupParams;
  read: ReadFile;
  /** This task processes input files i with i % count == index. */
  shard?: { index: number; count: number };
  /** Redo files even when a valid completion marker exists. */
  force?: boolean;
  log?: Logger;
  onError?: OnError;
  maxDocsPerPart?: number;
  textKey?: string;
  /** A reference index folder (against.ts): documents of these inputs that duplicate it are removed. */
  against?: string;
  /** Worker threads computing the keys (0 or absent: the main thread). Same files whatever the number. */
  workers?: number;
}

export type { StageRunResult };

export async function runSignatureStage(o: SignatureStageOptions): Promise<StageRunResult> {
  const shard = o.shard ?? { index: 0, count: 1 };
  const against = o.against ? await againstEntry(o.against, checkParams(o.params)) : undefined;
  const manifest = await initWorkDir(o.workDir, o.params, o.inputs, o.force, against);
  const stats = new StageStats("dedup-signatures");
  const result: StageRunResult = { stats, done: [], skipped: [] };
  // One task per input file on the shared task loop (lib/runtime/task-loop.ts): its marker
  // (signatures/.done/fFFFFFF.json) holds the fingerprint of the input (its content or producing task), the params
  // and the format, the stamps of every run, priority and id file written, and the file's SignatureDone (read by
  // stages 2-4); a changed input, other params, or a run file replaced or truncated since redoes the file.
  const tasks = [];
  for (let f = shard.index; f < o.inputs.length; f += shard.count) {
    const e = manifest.inputs[f];
    const fingerprint = createHash("sha256").update(JSON.stringify(["dedup-signatures", DEDUP_FORMAT_VERSION,
      describeParams(manifest.params), e.size, e.fingerprint ?? null])).digest("hex");
    tasks.push({ key: fileKey(f), fingerprint, input: o.inputs[f], f });
  }
  let pool: TaskPool | null = null;
  try {
    const r = await runTaskLoop({
      step: "dedup-signatures", outDir: join(o.workDir, "signatures"), tasks, force: o.force, log: o.log, tempSuffixes: [],
      onSkip: (_, marker) => addDoneStats(stats, marker.signature as SignatureDone),
      run: async (t) => {
        const t0 = performance.now();
        if (!pool && (o.workers ?? 0) > 0) pool = new TaskPool({ filename: workerFile(import.meta.url, "./sign-worker.js"), workers: o.workers });
        const { stats: fileStats, done } = await signFile(o, manifest, t.f, pool);
        fileStats.timeMs = performance.now() - t0;
        stats.merge(fileStats);
        const rel = (p: string) => relative(join(o.workDir, "signatures"), p);
        const outputs = [...done.parts.map((p) => rel(paths.sigPart(o.workDir, p.band, t.f, p.part))),
          ...(done.priorities ? [rel(paths.priorities(o.workDir, t.f))] : []), rel(paths.ids(o.workDir, t.f))];
        return { outputs, stats: { files: 1, stages: [fileStats.toJSON()] }, extra: { signature: done } };
      },
    });
    result.done.push(...r.done.map((d) => d.task.f));
    result.skipped.push(...r.skipped.map((d) => d.task.f));
  } finally {
    await (pool as TaskPool | null)?.destroy();
  }
  return result;
}

const fileKey = (f: number) => `f${String(f).padStart(6, "0")}`;

function addDoneStats(stats: StageStats, d: SignatureDone): void {
  stats.docsIn += d.docs + d.failed;
  stats.docsOut += d.docs;
  stats.bytesIn += d.bytes;
  stats.bytesOut += d.bytes;
  if (d.failed) stats.failed["unreadable"] = (stats.failed["unreadable"] ?? 0) + d.failed;
  stats.count("signed", d.signed);
  stats.count("too_short", d.tooShort);
}

/** Buffers band keys of up to `cap` documents. */
class PartBuffer {
  readonly hi: Uint32Array[];
  readonly lo: Uint32Array[];
  readonly rows: Uint32Array;
  n = 0;
  private readonly key = new Uint32Array(2);
  constructor(readonly bands: number, readonly cap: number) {
    this.hi = Array.from({ length: bands }, () => new Uint32Array(cap));
    this.lo = Array.from({ length: bands }, () => new Uint32Array(cap));
    this.rows = new Uint32Array(cap);
  }
  /** Document i's band keys as a worker computed them (sign-worker.ts). */
  addKeys(keys: Uint32Array, i: number, row: number): void {
    const k = this.n++;
    this.rows[k] = row;
    const at = i * 2 * this.bands;
    for (let b = 0; b < this.bands; b++) {
      this.hi[b][k] = keys[at + 2 * b];
      this.lo[b][k] = keys[at + 2 * b + 1];
    }
  }
  add(hasher: MinHasher, sig: Uint32Array, row: number): void {
    const k = this.n++;
    this.rows[k] = row;
    for (let b = 0; b < this.bands; b++) {
      hasher.bandKey(sig, b, this.key, 0);
      this.hi[b][k] = this.key[0];
      this.lo[b][k] = this.key[1];
    }
  }
}

/** A batch and, when a worker signed it, its keys. */
interface Signed {
  batch: Batch;
  keys: SignResult | null;
}

async function* signed(o: SignatureStageOptions, file: string, stats: StageStats, params: DedupParams, pool: TaskPool | null):
AsyncIterable<Signed> {
  const source = o.read(file, stats);
  if (!pool) {
    for await (const batch of source) yield { batch, keys: null };
    return;
  }
  const textKey = o.textKey ?? "text";
  yield* orderedMap(source, async (batch) => {
    const col = batch.getChild(textKey);
    const packed = col && col.data.every((d) => DataType.isUtf8(d.type)) ? packTexts(batch, textKey)
      : packStrings(getTexts(batch, textKey));
    const task: SignTask = { params, ...packed };
    return { batch, keys: await pool.run<SignTask, SignResult>(task, packedTransfer(packed)) };
  }, 2 * pool.workers);
}

function packStrings(texts: string[]): { bytes: Uint8Array; offsets: Int32Array } {
  const enc = new TextEncoder();
  const parts = texts.map((t) => enc.encode(t));
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, i) => { offsets[i + 1] = offsets[i] + p.length; });
  const bytes = new Uint8Array(offsets[parts.length]);
  parts.forEach((p, i) => bytes.set(p, offsets[i]));
  return { bytes, offsets };
}

async function signFile(o: SignatureStageOptions, m: WorkManifest, f: number, pool: TaskPool | null):
Promise<{ stats: StageStats; done: SignatureDone }> {
  const work = o.workDir;
  const params = m.params;
  const file = o.inputs[f];
  const stem = `f${String(f).padStart(6, "0")}`;
  // Leftovers of an earlier attempt (the task loop removed its marker): parts and temp files of this input.
  for (let b = 0; b < params.bands; b++) await removeTemps(paths.bandDir(work, b), stem);
  await removeTemps(dirname(paths.priorities(work, f)), stem);
  await removeTemps(dirname(paths.ids(work, f)), stem);
  await removeOldParts(work, params.bands, f);

  const stats = new StageStats("dedup-signatures");
  const cap = Math.max(1, o.maxDocsPerPart ?? 262_144);
  // Exact mode: one key per document into one partition (exact.ts); MinHash: one key per band.
  const exact = params.exact ? new ExactBuffer(params.bands, cap) : null;
  const hasher = exact ? null : new MinHasher(params);
  const sig = new Uint32Array(hasher?.numHashes ?? 0);
  const buf = exact ?? new PartBuffer(params.bands, cap);
  const done: SignatureDone = {
    file: f, path: file, size: m.inputs[f].size, fingerprint: m.inputs[f].fingerprint, params, docs: 0, signed: 0, tooShort: 0, failed: 0, bytes: 0, parts: [],
    priorities: null,
  };
  const prio = params.keepColumn
    ? await RecordFileWriter.create(paths.priorities(work, f), {
      kind: "priorities", width: 2, version: DEDUP_FORMAT_VERSION, file: f, column: params.keepColumn,
    })
    : null;
  const header = (b: number, part: number) => ({
    kind: "signatures", width: 4, version: DEDUP_FORMAT_VERSION, params, band: b, file: f, part,
  });
  const ids = await RecordFileWriter.create(paths.ids(work, f), { kind: "ids", width: 1, version: DEDUP_FORMAT_VERSION, file: f });
  const flush = async () => {
    if (buf.n === 0) return;
    const part = done.parts.length / params.bands;
    if (exact) {
      const runs = exact.runs(f);
      for (let b = 0; b < params.bands; b++) {
        const w = await writeRecordFile(paths.sigPart(work, b, f, part), header(b, part), runs[b]);
        done.parts.push({ band: b, part, records: w.records, sha256: w.sha256 });
      }
      buf.n = 0;
      return;
    }
    const pb = buf as PartBuffer;
    for (let b = 0; b < params.bands; b++) {
      const order = sortByKey64(pb.hi[b], pb.lo[b], pb.n);
      const rec = new Uint32Array(pb.n * 4);
      for (let i = 0; i < pb.n; i++) {
        const e = order[i];
        rec[4 * i] = pb.hi[b][e];
        rec[4 * i + 1] = pb.lo[b][e];
        rec[4 * i + 2] = f;
        rec[4 * i + 3] = pb.rows[e];
      }
      const w = await writeRecordFile(paths.sigPart(work, b, f, part), header(b, part), rec);
      done.parts.push({ band: b, part, records: w.records, sha256: w.sha256 });
    }
    buf.n = 0;
  };
  try {
    let row = 0;
    for await (const { batch, keys } of signed(o, file, stats, params, pool)) {
      const textKey = o.textKey ?? "text";
      done.bytes += textBytes(batch, textKey);
      if (prio) await prio.append(priorityValues(batch, params.keepColumn!, file, row));
      for (const b of idBlocks(batch)) await ids.append(b);
      if (keys) {
        for (let i = 0; i < batch.numRows; i++, row++) {
          if (!keys.ok[i]) {
            done.tooShort++;
            continue;
          }
          done.signed++;
          if (exact) exact.addKey(keys.keys, i * 3, row);
          else (buf as PartBuffer).addKeys(keys.keys, i, row);
          if (buf.n === cap) await flush();
        }
        continue;
      }
      // Utf8 chunks are signed from their bytes; any other string layout through JS strings (same result).
      const col = batch.getChild(textKey);
      const chunks = col && col.data.every((d) => DataType.isUtf8(d.type)) ? col.data : null;
      if (exact) {
        if (chunks) {
          for (const d of chunks) {
            const offs = d.valueOffsets as Int32Array, v = d.values as Uint8Array;
            for (let i = 0; i < d.length; i++) {
              if (exact.addUtf8(v, offs[i], d.getValid(i) ? offs[i + 1] : offs[i], row++)) done.signed++;
              else done.tooShort++;
              if (exact.n === cap) await flush();
            }
          }
        } else {
          for (const text of getTexts(batch, textKey)) {
            if (exact.add(text, row++)) done.signed++;
            else done.tooShort++;
            if (exact.n === cap) await flush();
          }
        }
        continue;
      }
      const texts = chunks ? null : getTexts(batch, textKey);
      const count = chunks ? batch.numRows : texts!.length;
      let chunk = 0, at = 0; // position in chunks
      for (let i = 0; i < count; i++, row++) {
        let ok: boolean;
        if (chunks) {
          while (at >= chunks[chunk].length) {
            chunk++;
            at = 0;
          }
          const d = chunks[chunk];
          const offs = d.valueOffsets as Int32Array;
          // A null text is an empty document, as getTexts makes it.
          ok = d.getValid(at) && hasher!.signatureUtf8(d.values as Uint8Array, offs[at], offs[at + 1], sig);
          at++;
        } else {
          ok = hasher!.signature(texts![i], sig);
        }
        if (!ok) {
          done.tooShort++;
          continue;
        }
        done.signed++;
        (buf as PartBuffer).add(hasher!, sig, row);
        if (buf.n === cap) await flush();
      }
    }
    await flush();
    done.docs = row;
    done.failed = stats.failedTotal;
    if (prio) done.priorities = await prio.close();
    done.ids = await ids.close();
  } catch (e) {
    await prio?.abort();
    await ids.abort();
    throw e;
  }
  // The task loop writes the marker (with `done`) after this returns: every file it lists is then complete.
  stats.docsIn = done.docs + done.failed;
  stats.docsOut = done.docs;
  stats.bytesIn = stats.bytesOut = done.bytes;
  stats.count("signed", done.signed);
  stats.count("too_short", done.tooShort);
  o.log?.info(`signatures: ${file}: ${done.docs} docs, ${done.tooShort} too short ` +
    `(${params.exact ? "no word" : `< ${params.ngram} words`})`);
  return { stats, done };
}

/** The keep column as float64 words; a batch without the column gets NaN (lowest priority). */
function priorityValues(batch: Batch, column: string, file: string, firstRow: number): Uint32Array {
  let v: Float64Array;
  if (hasColumn(batch, column)) {
    try {
      v = getNumbers(batch, column);
    } catch (e) {
      throw new Error(`${file} (rows ${firstRow}-${firstRow + batch.numRows - 1}): keep column: ${(e as Error).message}`);
    }
  } else {
    v = new Float64Array(batch.numRows).fill(NaN);
  }
  return new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
}

async function removeOldParts(work: string, bands: number, f: number): Promise<void> {
  const { readdir } = await import("node:fs/promises");
  const prefix = `f${String(f).padStart(6, "0")}-p`;
  for (let b = 0; b < bands; b++) {
    const dir = paths.bandDir(work, b);
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(`${dir}/${n}`, { force: true })));
  }
}
