// One Parquet file written incrementally with hyparquet-writer: row groups are encoded from Arrow columns
// (strings handed over as UTF-8 byte views, never decoded to JS strings) and flushed to a file handle as they
// are made, so memory holds about one row group. Arrow → Parquet types:
//   Utf8 → STRING, Binary → BYTE_ARRAY, Float64 → DOUBLE, Float32 → FLOAT, Int8/16/32 & Uint8/16 → INT32,
//   Int64 & Uint32 → INT64, Bool → BOOLEAN; List and Struct (at any depth) → the same nested Parquet column
//   (lib/io/nested.ts); Timestamp (ms/µs/ns), DateDay, Decimal128 → INT64 TIMESTAMP, INT32 DATE, DECIMAL
//   (lib/io/logical-types.ts); any other type (maps, …) → STRING holding its JSON/ISO text.
import type { FileHandle } from "node:fs/promises";
import { ParquetWriter, ByteWriter } from "hyparquet-writer";
import type { SchemaElement, CompressionCodec } from "hyparquet";
import { DataType, type RecordBatch, type Vector } from "apache-arrow";
import { zstdCompress } from "./zstd.js";
import { snappyCompress } from "./snappy-compress.js";
import { valueAsString } from "./columns.js";
import { isNestedType, parquetElements, plainNested } from "./nested.js";
import { parquetLogical, logicalValues } from "./logical-types.js";
import * as zlib from "node:zlib";

export type ParquetCodec = "zstd" | "snappy" | "gzip" | "none";

type Kind = "utf8" | "binary" | "double" | "float" | "int32" | "int64" | "bool" | "text" | "nested" | "logical";

export interface ParquetColumnPlan {
  name: string;
  kind: Kind;
  element: SchemaElement;
  /** A nested column's subtree, after `element` in the schema. */
  children?: SchemaElement[];
}

/** Parquet schema for a batch schema (fixed for one output file). */
export function planColumns(batch: RecordBatch): ParquetColumnPlan[] {
  return batch.schema.fields.map((f) => {
    const t = f.type;
    const opt = { name: f.name, repetition_type: "OPTIONAL" as const };
    const str = { ...opt, type: "BYTE_ARRAY" as const, converted_type: "UTF8" as const, logical_type: { type: "STRING" as const } };
    if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) return { name: f.name, kind: "utf8", element: str };
    if (DataType.isBinary(t)) return { name: f.name, kind: "binary", element: { ...opt, type: "BYTE_ARRAY" } };
    if (DataType.isFloat(t)) {
      return t.precision === 2
        ? { name: f.name, kind: "double", element: { ...opt, type: "DOUBLE" } }
        : { name: f.name, kind: "float", element: { ...opt, type: "FLOAT" } };
    }
    if (DataType.isInt(t)) {
      if (t.bitWidth < 32 || (t.bitWidth === 32 && t.isSigned)) return { name: f.name, kind: "int32", element: { ...opt, type: "INT32" } };
      return { name: f.name, kind: "int64", element: { ...opt, type: "INT64" } };
    }
    if (DataType.isBool(t)) return { name: f.name, kind: "bool", element: { ...opt, type: "BOOLEAN" } };
    const logical = parquetLogical(f.name, t);
    if (logical) return { name: f.name, kind: "logical", element: logical };
    if (isNestedType(t)) {
      const [element, ...children] = parquetElements(f.name, t);
      return { name: f.name, kind: "nested", element, children };
    }
    return { name: f.name, kind: "text", element: str };
  }) as ParquetColumnPlan[];
}

/** Column values of a batch in the shape hyparquet-writer takes (byte views for strings). */
export function columnValues(col: Vector, kind: Kind): unknown[] {
  if (kind === "logical") return logicalValues(col);
  const out: unknown[] = new Array(col.length);
  let k = 0;
  for (const data of col.data) {
    const n = data.length;
    if (kind === "utf8" || kind === "binary") {
      if (DataType.isUtf8(data.type) || DataType.isBinary(data.type)) {
        const offs = data.valueOffsets as Int32Array;
        const bytes = data.values as Uint8Array;
        for (let i = 0; i < n; i++) out[k++] = data.getValid(i) ? bytes.subarray(offs[i], offs[i + 1]) : null;
        continue;
      }
    }
    for (let i = 0; i < n; i++) {
      const v = col.get(k);
      if (v == null) out[k++] = null;
      else if (kind === "int64") out[k++] = BigInt(v as number);
      else if (kind === "int32" || kind === "double" || kind === "float") out[k++] = Number(v);
      else if (kind === "bool") out[k++] = Boolean(v);
      else if (kind === "nested") out[k++] = plainNested(v, col.type);
      else out[k++] = valueAsString(typeof v === "object" && v && "toJSON" in v ? (v as { toJSON(): unknown }).toJSON() : v);
    }
  }
  return out;
}

/** A hyparquet-writer Writer that streams to an open file handle after each row group. Large appends (the
 * compressed pages, each a fresh array nobody writes to afterwards) are kept by reference and written from where
 * they are: copying them into one growing buffer cost a reallocation and copy of the whole row group every time
 * it doubled. Small appends (headers, levels, the footer) still go to the buffer. */
class FileSink extends ByteWriter {
  written = 0;
  private chunks: Uint8Array[] = [];
  constructor(private fh: FileHandle) {
    super(1 << 16);
  }
  private get pos(): number {
    return (this as unknown as { index: number }).index;
  }
  private set pos(n: number) {
    (this as unknown as { index: number }).index = n;
  }
  /** Move what is in the buffer to the chunk list (as a copy: the buffer is reused). */
  private seal(): void {
    if (!this.pos) return;
    this.chunks.push(new Uint8Array(this.buffer.slice(0, this.pos)));
    this.pos = 0;
  }
  appendBytes(value: Uint8Array): void {
    if (value.length < 1 << 16) return super.appendBytes(value);
    this.seal();
    this.chunks.push(value);
    this.offset += value.length;
  }
  async flush(): Promise<void> {
    this.seal();
    for (const c of this.chunks) {
      let off = 0;
      while (off < c.length) off += (await this.fh.write(c, off, c.length - off)).bytesWritten;
      this.written += c.length;
    }
    this.chunks = [];
  }
  async finish(): Promise<void> {
    await this.flush();
  }
}

function compressorsFor(codec: ParquetCodec, level: number) {
  if (codec === "zstd") return { ZSTD: (b: Uint8Array) => zstdCompress(b, level) };
  if (codec === "gzip") return { GZIP: (b: Uint8Array) => zlib.gzipSync(b, { level }) };
  // Replaces hyparquet-writer's built-in snappy (same bytes, faster).
  if (codec === "snappy") return { SNAPPY: snappyCompress };
  return {};
}

const CODEC_NAME: Record<ParquetCodec, CompressionCodec> = { zstd: "ZSTD", snappy: "SNAPPY", gzip: "GZIP", none: "UNCOMPRESSED" };

/** True when a column of byte values holds long texts (a sample of up to 64 spread values averages 1 KiB or
 * more) and no value twice. hyparquet-writer then writes PLAIN anyway (a dictionary of distinct values never
 * saves bytes), but only after hashing 1000 sampled values in full: about 4.5 MB per row group of web documents,
 * 5% of the write. This check reads 48 bytes per value (start, middle, end) and compares whole values only when
 * those agree, so the file is byte-for-byte what hyparquet-writer's own choice gives. */
export function plainIsClear(values: (Uint8Array | null)[]): boolean {
  const n = Math.min(values.length, 64);
  if (n < 2) return false;
  let bytes = 0;
  for (let k = 0; k < n; k++) bytes += values[Math.floor((k * (values.length - 1)) / (n - 1))]?.length ?? 0;
  if (bytes < n * 1024) return false;
  const seen = new Map<number, Uint8Array[]>();
  for (const v of values) {
    if (!v) continue;
    const key = edgeHash(v);
    const bucket = seen.get(key);
    if (!bucket) seen.set(key, [v]);
    else if (bucket.some((w) => w.length === v.length && Buffer.compare(w, v) === 0)) return false;
    else bucket.push(v);
  }
  return true;
}

/** FNV-1a over a value's length and up to 16 bytes at its start, middle and end. */
function edgeHash(v: Uint8Array): number {
  let h = Math.imul(0x811c9dc5 ^ v.length, 0x01000193);
  const mid = v.length >> 1;
  for (const from of [0, Math.max(0, mid - 8), Math.max(0, v.length - 16)]) {
    const to = Math.min(v.length, from + 16);
    for (let i = from; i < to; i++) h = Math.imul(h ^ v[i]!, 0x01000193);
  }
  return h >>> 0;
}

/** Encodes row groups into one open file. */
export class ParquetFileWriter {
  private pq: ParquetWriter;
  private sink: FileSink;
  rows = 0;

  constructor(fh: FileHandle, readonly plan: ParquetColumnPlan[], codec: ParquetCodec, level: number, private pageBytes = 1 << 20) {
    this.sink = new FileSink(fh);
    const schema: SchemaElement[] = [{ name: "root", num_children: plan.length }, ...plan.flatMap((p) => [p.element, ...(p.children ?? [])])];
    this.pq = new ParquetWriter({
      writer: this.sink as never, schema, codec: CODEC_NAME[codec], compressors: compressorsFor(codec, level),
      createdBy: "megamath (hyparquet-writer)",
    });
  }

  /** Bytes in the file so far (including the part still buffered). */
  get bytes(): number {
    return this.sink.offset;
  }

  /** Write one row group from per-column value arrays of equal length. */
  async writeGroup(columns: unknown[][]): Promise<void> {
    const rows = columns[0]?.length ?? 0;
    if (!rows) return;
    const columnData = this.plan.map((p, i) => ({
      name: p.name,
      data: columns[i],
      // min/max of long texts are useless for pruning and cost a full compare per row.
      statistics: p.kind !== "utf8" && p.kind !== "binary" && p.kind !== "text" && p.kind !== "nested" && p.kind !== "logical",
      encoding: (p.kind === "utf8" || p.kind === "binary") && plainIsClear(columns[i] as (Uint8Array | null)[]) ? "PLAIN" : undefined,
    }));
    await this.pq.write({ columnData: columnData as never, rowGroupSize: rows, pageSize: this.pageBytes });
    this.rows += rows;
  }

  async finish(): Promise<void> {
    await this.pq.finish();
  }
}
