// openWriter: documents out as Parquet (zstd by default) or JSONL(.gz), rolling to numbered part files at
// maxFileBytes and whenever the batch schema changes (Parquet fixes one schema per file). Everything is written
// under ".tmp-" names and renamed only by close(); abort() (and any write error) removes the temp files, so
// nothing is ever half-written under a final name.
import { open, mkdir, rm, rename, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import * as zlib from "node:zlib";
import { DataType, Vector, type RecordBatch } from "apache-arrow";
import { tempPathFor } from "./atomic.js";
import { OutputError, errorMessage } from "./errors.js";
import { ParquetFileWriter, planColumns, columnValues, type ParquetCodec, type ParquetColumnPlan, type RowRange,
  type ByteColumnPath } from "./parquet-write.js";
import { batchToJsonBytes } from "./jsonl-write.js";
import type { GzipPool } from "./gzip-pool.js";
import { ensureZstd } from "./zstd.js";
import { makeBatch } from "../arrow/batch.js";

export type OutputFormat = "parquet" | "jsonl" | "jsonl.gz";

/** zstd level of Parquet pages when none is given: 1, pyarrow's default (Arrow's kZSTDDefaultCompressionLevel). */
export const DEFAULT_ZSTD_LEVEL = 1;

export interface WriterOptions {
  format?: OutputFormat;
  /** Rows per Parquet row group (default 10,000); a group is also closed at rowGroupBytes of text. */
  rowGroupSize?: number;
  /** Bytes of column data per row group before it is closed early (default 128 MiB). */
  rowGroupBytes?: number;
  /** Start a new part file once a file reaches this many bytes (JSONL.gz: uncompressed bytes). Parts are then
   * always numbered: base-00000.ext, base-00001.ext, … Without it a single file is base.ext (unless the schema
   * changes mid-stream, which also numbers the parts). */
  maxFileBytes?: number;
  /** Parquet page codec (default zstd) and its level (zstd default 1, as pyarrow; gzip default 6). zstd 1 wrote
   * 1.3-1.7x faster than 3 for 20% larger files of web text (bench/parquet-write.ts, README "Decisions"). */
  codec?: ParquetCodec;
  level?: number;
  /** Parquet page size before compression (default 1 MiB, as parquet-mr and pyarrow). */
  pageBytes?: number;
  /** .jsonl.gz: compress the gzip members in these worker threads (default: on the calling thread). The bytes
   * written are the same either way. */
  gzipPool?: GzipPool | null;
  /** .jsonl(.gz): uncompressed bytes of lines gathered per write (and per gzip member); default 4 MiB. */
  memberBytes?: number;
  /** Parquet: how Utf8/Binary columns are encoded (default "direct"; "hyparquet-writer" is the reference that
   * tests and bench/parquet-write.ts compare it with). The file bytes are the same. */
  byteColumns?: ByteColumnPath;
}

/** What each row adds to a row group's size (closed at rowGroupBytes): a byte column's value length (nulls 0,
 * other Arrow string types their JS string length, as before), 8 for any other column. */
function rowWeights(batch: RecordBatch, plan: ParquetColumnPlan[]): Float64Array {
  const w = new Float64Array(batch.numRows);
  let fixed = 0;
  for (const p of plan) {
    if (p.kind !== "utf8" && p.kind !== "binary") { fixed += 8; continue; }
    const col = batch.getChild(p.name)!;
    let k = 0;
    for (const data of col.data) {
      if (DataType.isUtf8(data.type) || DataType.isBinary(data.type)) {
        const offs = data.valueOffsets as Int32Array;
        const all = data.nullCount === 0;
        for (let i = 0; i < data.length; i++, k++) if (all || data.getValid(i)) w[k] += offs[i + 1]! - offs[i]!;
      } else {
        const vals = columnValues(new Vector([data]), p.kind) as ({ length: number } | null)[];
        for (let i = 0; i < data.length; i++, k++) w[k] += vals[i]?.length ?? 0;
      }
    }
  }
  if (fixed) for (let i = 0; i < w.length; i++) w[i] += fixed;
  return w;
}

export interface DocumentWriter {
  /** Parquet keeps a reference to the batch until its row group is written (no copy of its values), so a batch
   * must not be changed after it is handed over (Arrow batches are not, by convention). */
  write(batch: RecordBatch): Promise<void>;
  /** Finish, rename the parts to their final names and return them in order. */
  close(): Promise<string[]>;
  /** Remove everything written so far (temp files); the writer is unusable afterwards. */
  abort(): Promise<void>;
}

const EXT: Record<OutputFormat, string> = { parquet: ".parquet", jsonl: ".jsonl", "jsonl.gz": ".jsonl.gz" };

function schemaKey(b: RecordBatch): string {
  return b.schema.fields.map((f) => `${f.name}:${f.type}`).join("|");
}

interface Part {
  tmp: string;
  fh: FileHandle;
  bytes: number;
  parquet?: ParquetFileWriter;
  schema?: string;
}

export function openWriter(pathWithoutExt: string, opts: WriterOptions = {}): DocumentWriter {
  const format = opts.format ?? "parquet";
  const ext = EXT[format];
  if (!ext) throw new Error(`unknown output format "${format}" (expected parquet, jsonl or jsonl.gz)`);
  const groupRows = Math.max(1, opts.rowGroupSize ?? 10_000);
  const groupBytes = Math.max(1, opts.rowGroupBytes ?? 128 * 1024 * 1024);
  const codec = opts.codec ?? "zstd";
  const level = opts.level ?? (codec === "gzip" ? 6 : DEFAULT_ZSTD_LEVEL);
  const finalFor = (i: number, numbered: boolean) =>
    numbered ? `${pathWithoutExt}-${String(i).padStart(5, "0")}${ext}` : `${pathWithoutExt}${ext}`;
  const parts: Part[] = [];
  let current: Part | undefined;
  let schemaChanged = false;
  let state: "open" | "closed" | "aborted" = "open";
  // Parquet: the rows of the row group being gathered.
  let pending: RowRange[] = [];
  let pendingRows = 0;
  let pendingBytes = 0;
  // JSONL: the bytes of the lines gathered before a write (and, for .gz, one gzip member).
  let lineChunks: Uint8Array[] = [];
  let lineBytes = 0;
  const memberBytes = Math.max(1, opts.memberBytes ?? 4 * 1024 * 1024);
  // .jsonl.gz with a pool: members being compressed, oldest first, each with the part it goes to.
  let inFlight: { part: Part; bytes: Promise<Uint8Array> }[] = [];

  const fail = async (e: unknown, what: string): Promise<never> => {
    await abortAll();
    const target = finalFor(parts.length ? parts.length - 1 : 0, !!opts.maxFileBytes || parts.length > 1);
    throw new OutputError(target, `${what}: ${errorMessage(e)}`, { cause: e });
  };

  async function newPart(batch: RecordBatch | null): Promise<Part> {
    const tmp = tempPathFor(finalFor(parts.length, true));
    await mkdir(dirname(tmp), { recursive: true });
    const fh = await open(tmp, "w");
    const part: Part = { tmp, fh, bytes: 0 };
    parts.push(part);
    if (format === "parquet") {
      if (codec === "zstd") await ensureZstd();
      const plan = planColumns(batch ?? makeBatch({ text: [], id: [] }));
      part.parquet = new ParquetFileWriter(fh, plan, codec, level, opts.pageBytes, opts.byteColumns);
      part.schema = batch ? schemaKey(batch) : undefined;
    }
    return part;
  }

  async function writeBytes(part: Part, data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += (await part.fh.write(data, off, data.length - off)).bytesWritten;
  }

  async function flushGroup(): Promise<void> {
    if (!current?.parquet || !pendingRows) return;
    await current.parquet.writeGroup(pending);
    pending = [];
    pendingRows = 0;
    pendingBytes = 0;
    current.bytes = current.parquet.bytes;
  }

  async function flushLines(): Promise<void> {
    if (!current || !lineChunks.length) return;
    const text = new Uint8Array(lineBytes);
    let at = 0;
    for (const c of lineChunks) {
      text.set(c, at);
      at += c.length;
    }
    lineChunks = [];
    lineBytes = 0;
    // .jsonl.gz is written as a series of gzip members (one per flush): bounded memory, valid gzip that every
    // gunzip (and Node's createGunzip) reads as one stream; level 6, no timestamp, so output is deterministic.
    if (format !== "jsonl.gz") return writeBytes(current, text);
    const level = opts.level ?? 6;
    if (!opts.gzipPool) return writeBytes(current, zlib.gzipSync(text, { level }));
    const bytes = opts.gzipPool.gzip(text, level);
    bytes.catch(() => {}); // awaited in order below; no unhandled rejection meanwhile
    inFlight.push({ part: current, bytes });
    while (inFlight.length > opts.gzipPool.maxInFlight) await writeOldest();
  }

  /** Write the oldest member in flight to its part (members are written in the order they were cut). */
  async function writeOldest(): Promise<void> {
    const { part, bytes } = inFlight.shift()!;
    await writeBytes(part, await bytes);
  }

  async function finishPart(): Promise<void> {
    if (!current) return;
    if (current.parquet) {
      await flushGroup();
      await current.parquet.finish();
    } else {
      await flushLines();
      while (inFlight.length) await writeOldest();
    }
    await current.fh.sync();
    await current.fh.close();
    current = undefined;
  }

  async function abortAll(): Promise<void> {
    state = "aborted";
    inFlight = [];
    for (const p of parts) {
      await p.fh.close().catch(() => {});
      await rm(p.tmp, { force: true }).catch(() => {});
    }
    parts.length = 0;
    current = undefined;
  }

  async function writeParquet(batch: RecordBatch): Promise<void> {
    const key = schemaKey(batch);
    if (current && current.schema !== key) {
      schemaChanged = true;
      await finishPart();
    }
    const plan: ParquetColumnPlan[] = current?.parquet!.plan ?? planColumns(batch);
    const weights = rowWeights(batch, plan);
    let from = 0; // rows of this batch before this are in a row group already
    for (let i = 0; i < batch.numRows; i++) {
      // Parts are opened lazily so that rolling after the last row never leaves an empty part behind.
      if (!current) {
        current = await newPart(batch);
        pending = [];
      }
      pendingBytes += weights[i]!;
      pendingRows++;
      if (pendingRows >= groupRows || pendingBytes >= groupBytes) {
        pending.push({ batch, from, to: i + 1 });
        from = i + 1;
        await flushGroup();
        if (opts.maxFileBytes && current!.bytes >= opts.maxFileBytes) {
          await finishPart();
        }
      }
    }
    if (from < batch.numRows) pending.push({ batch, from, to: batch.numRows });
  }

  async function writeJsonl(batch: RecordBatch): Promise<void> {
    const { bytes, ends } = batchToJsonBytes(batch);
    let from = 0; // bytes before this are in lineChunks
    for (let i = 0; i < ends.length; i++) {
      current ??= await newPart(null);
      const n = ends[i] - (i ? ends[i - 1] : 0);
      lineBytes += n;
      current.bytes += n;
      const flush = lineBytes >= memberBytes;
      const roll = opts.maxFileBytes && current.bytes >= opts.maxFileBytes;
      if (!flush && !roll) continue;
      lineChunks.push(bytes.subarray(from, ends[i]));
      from = ends[i];
      if (flush) await flushLines();
      if (roll) await finishPart();
    }
    if (from < bytes.length) lineChunks.push(bytes.subarray(from));
  }

  return {
    async write(batch) {
      if (state !== "open") throw new Error(`writer for ${pathWithoutExt} is ${state}`);
      if (batch.numRows === 0) return;
      try {
        await (format === "parquet" ? writeParquet(batch) : writeJsonl(batch));
      } catch (e) {
        await fail(e, "cannot write");
      }
    },
    async close() {
      if (state !== "open") throw new Error(`writer for ${pathWithoutExt} is ${state}`);
      try {
        // An input with no documents still gets an (empty) output, so "every input has an output" holds.
        if (!parts.length) current = await newPart(null);
        await finishPart();
      } catch (e) {
        await fail(e, "cannot finish");
      }
      state = "closed";
      const numbered = !!opts.maxFileBytes || schemaChanged || parts.length > 1;
      const out: string[] = [];
      for (const [i, p] of parts.entries()) {
        const dest = finalFor(i, numbered);
        await rename(p.tmp, dest);
        out.push(dest);
      }
      return out;
    },
    async abort() {
      if (state === "closed") return;
      await abortAll();
    },
  };
}

/** Write a whole stream of batches to one output (set); on any error nothing is left behind. */
export async function writeDocuments(pathWithoutExt: string, batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  opts: WriterOptions = {}): Promise<string[]> {
  const w = openWriter(pathWithoutExt, opts);
  try {
    for await (const b of batches) await w.write(b);
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.close();
}

