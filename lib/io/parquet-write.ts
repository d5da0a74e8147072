// One Parquet file written incrementally: row groups are encoded from Arrow columns (strings never decoded to JS
// strings) and flushed to a file handle as they are made, so memory holds about one row group. Text columns are
// written page by page from the Arrow buffers (parquet-pages.ts), the rest through hyparquet-writer. Arrow → Parquet types:
//   Utf8 → STRING, Binary → BYTE_ARRAY, Float64 → DOUBLE, Float32 → FLOAT, Int8/16/32 & Uint8/16 → INT32,
//   Int64 & Uint32 → INT64, Bool → BOOLEAN; List and Struct (at any depth) → the same nested Parquet column
//   (lib/io/nested.ts); Timestamp (ms/µs/ns), DateDay, Decimal128 → INT64 TIMESTAMP, INT32 DATE, DECIMAL
//   (lib/io/logical-types.ts); any other type (maps, …) → STRING holding its JSON/ISO text.
import type { FileHandle } from "node:fs/promises";
import { ParquetWriter, ByteWriter } from "hyparquet-writer";
import type { SchemaElement, CompressionCodec, ColumnChunk, RowGroup, SchemaTree } from "hyparquet";
import type { ColumnEncoder } from "hyparquet-writer/src/types.js";
import { writeColumn } from "hyparquet-writer/src/column.js";
import { encodeNestedValues } from "hyparquet-writer/src/dremel.js";
import { schemaPathResolver } from "hyparquet-writer/src/schema.js";
import { DataType, type RecordBatch, type Vector } from "apache-arrow";
import { zstdCompress } from "./zstd.js";
import { snappyCompress } from "./snappy-compress.js";
import { valueAsString } from "./columns.js";
import { isNestedType, parquetElements, plainNested } from "./nested.js";
import { parquetLogical, logicalValues } from "./logical-types.js";
import { longValues, plainIsCertain, writeByteColumn, PageScratch, type ByteRun } from "./parquet-pages.js";
import { byteDictionary, writeDictionaryColumn } from "./parquet-dictionary.js";
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
  /** Write the row group's chunks with one writev (one call instead of one per page); what a short write leaves
   * (a full disk reports it as an error on the next call) goes out chunk by chunk. */
  async flush(): Promise<void> {
    this.seal();
    const chunks = this.chunks;
    this.chunks = [];
    let done = chunks.length ? (await this.fh.writev(chunks)).bytesWritten : 0;
    for (const c of chunks) {
      let off = Math.min(done, c.length);
      done -= off;
      while (off < c.length) off += (await this.fh.write(c, off, c.length - off)).bytesWritten;
      this.written += c.length;
    }
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

/** Rows from..to of one batch: a row group is gathered as such ranges (no per-value copies) and encoded when it
 * is complete. */
export interface RowRange {
  batch: RecordBatch;
  from: number;
  to: number;
}

/** How Utf8/Binary columns are written: "direct" (parquet-pages.ts and parquet-dictionary.ts, with hyparquet-writer's
 * own choice of encoding and its bytes) or "hyparquet-writer": every column and the row group through
 * hyparquet-writer's ParquetWriter.write (the reference the direct path is tested and benched against). */
export type ByteColumnPath = "direct" | "hyparquet-writer";

/** Encodes row groups into one open file: hyparquet-writer writes the file header, the footer and every column
 * chunk except Utf8/Binary ones (32-bit offsets), which parquet-pages.ts (PLAIN) and parquet-dictionary.ts write
 * with the same bytes. The row group loop is hyparquet-writer's ParquetWriter.write for one group, kept here so
 * the two kinds of column chunk go into one row group; it fills the ParquetWriter fields that finish() reads
 * (PqState), so a hyparquet-writer release that renames them fails test/io/parquet-pages.test.ts. */
export class ParquetFileWriter {
  private pq: ParquetWriter;
  private sink: FileSink;
  private leaves: SchemaTree[][][];
  private scratch = new PageScratch();
  /** Per batch, its columns' values in hyparquet-writer's shape (a batch can span two row groups). */
  private values = new WeakMap<RecordBatch, unknown[][]>();
  rows = 0;

  constructor(fh: FileHandle, readonly plan: ParquetColumnPlan[], codec: ParquetCodec, level: number,
    private pageBytes = 1 << 20, private byteColumns: ByteColumnPath = "direct") {
    this.sink = new FileSink(fh);
    const schema: SchemaElement[] = [{ name: "root", num_children: plan.length }, ...plan.flatMap((p) => [p.element, ...(p.children ?? [])])];
    this.pq = new ParquetWriter({
      writer: this.sink as never, schema, codec: CODEC_NAME[codec], compressors: compressorsFor(codec, level),
      createdBy: "megamath (hyparquet-writer)",
    });
    const resolve = schemaPathResolver(schema);
    this.leaves = plan.map((p) => leafPaths(resolve([p.name])));
  }

  /** Bytes in the file so far (including the part still buffered). */
  get bytes(): number {
    return this.sink.offset;
  }

  /** Write one row group made of these row ranges, in order. */
  async writeGroup(ranges: RowRange[]): Promise<void> {
    let rows = 0;
    for (const r of ranges) rows += r.to - r.from;
    if (!rows) return;
    if (this.byteColumns === "hyparquet-writer") return this.writeGroupReference(ranges, rows);
    const pq = this.pq as unknown as PqState;
    const groupStart = this.sink.offset;
    const columns: ColumnChunk[] = [];
    for (const [c, p] of this.plan.entries()) {
      const runs = byteRuns(p, ranges);
      if (runs) {
        const target = { writer: this.sink, name: p.name, codec: pq.codec, compress: pq.compressors[pq.codec], pageSize: this.pageBytes };
        const dict = longValues(runs) && plainIsCertain(runs) ? undefined : byteDictionary(runs);
        const result = dict ? writeDictionaryColumn(target, dict) : writeByteColumn(target, runs, this.scratch);
        columns.push(result.chunk);
        pq.pendingIndexes.push(result);
        continue;
      }
      const data = this.valuesOf(c, p, ranges);
      for (const leaf of this.leaves[c]!) {
        const schemaPath = leaf.map((n) => n.element);
        const column: ColumnEncoder = {
          columnName: schemaPath.slice(1).map((s) => s.name).join("."), element: schemaPath[schemaPath.length - 1]!,
          schemaPath, codec: pq.codec, compressors: pq.compressors, stats: wantsStatistics(p),
          statisticsTruncateLength: pq.statisticsTruncateLength, pageSize: this.pageBytes, columnIndex: false, offsetIndex: true,
        };
        const result = writeColumn({ writer: this.sink, column, pageData: encodeNestedValues(leaf, data as never) });
        columns.push(result.chunk);
        pq.pendingIndexes.push(result);
      }
    }
    let total = 0n;
    for (const { meta_data } of columns) total += meta_data?.total_uncompressed_size ?? 0n;
    pq.num_rows += BigInt(rows);
    pq.row_groups.push({ columns, total_byte_size: total, num_rows: BigInt(rows), total_compressed_size: BigInt(this.sink.offset - groupStart) });
    await this.sink.flush();
    this.rows += rows;
  }

  /** The reference: the whole row group through hyparquet-writer's own ParquetWriter.write (its row group loop,
   * its choice of encodings), as this writer did before byte columns were written directly. */
  private async writeGroupReference(ranges: RowRange[], rows: number): Promise<void> {
    const columnData = this.plan.map((p, c) => ({ name: p.name, data: this.valuesOf(c, p, ranges), statistics: wantsStatistics(p) }));
    await this.pq.write({ columnData: columnData as never, rowGroupSize: rows, pageSize: this.pageBytes });
    this.rows += rows;
  }

  /** One column's values over the ranges, in hyparquet-writer's shape. */
  private valuesOf(c: number, p: ParquetColumnPlan, ranges: RowRange[]): unknown[] {
    const parts = ranges.map(({ batch, from, to }) => {
      let cols = this.values.get(batch);
      if (!cols) this.values.set(batch, (cols = []));
      cols[c] ??= columnValues(batch.getChild(p.name)!, p.kind);
      return from === 0 && to === cols[c].length ? cols[c] : cols[c].slice(from, to);
    });
    if (parts.length === 1) return parts[0]!;
    const out: unknown[] = [];
    for (const part of parts) for (const v of part) out.push(v);
    return out;
  }

  async finish(): Promise<void> {
    await this.pq.finish();
  }
}

/** The fields of hyparquet-writer's ParquetWriter that its write() fills and finish() reads. */
interface PqState {
  codec: CompressionCodec;
  compressors: Record<string, ((b: Uint8Array) => Uint8Array) | undefined>;
  statisticsTruncateLength?: number;
  num_rows: bigint;
  row_groups: RowGroup[];
  pendingIndexes: unknown[];
}

/** min/max of long texts are useless for pruning and cost a full compare per row. */
function wantsStatistics(p: ParquetColumnPlan): boolean {
  return p.kind !== "utf8" && p.kind !== "binary" && p.kind !== "text" && p.kind !== "nested" && p.kind !== "logical";
}

/** A Utf8/Binary column's ranges as runs over its Arrow chunks, or undefined where it is stored otherwise
 * (LargeUtf8, views, another type turned into text). */
function byteRuns(p: ParquetColumnPlan, ranges: RowRange[]): ByteRun[] | undefined {
  if (p.kind !== "utf8" && p.kind !== "binary") return undefined;
  const runs: ByteRun[] = [];
  for (const { batch, from, to } of ranges) {
    let base = 0;
    for (const data of batch.getChild(p.name)!.data) {
      if (!(DataType.isUtf8(data.type) || DataType.isBinary(data.type))) return undefined;
      const a = Math.max(from, base);
      const b = Math.min(to, base + data.length);
      if (a < b) runs.push({ data, from: a - base, to: b - base });
      base += data.length;
    }
  }
  return runs;
}

/** Every leaf path under a column (one for a flat column, one per leaf of a nested one), depth first. */
function leafPaths(path: SchemaTree[]): SchemaTree[][] {
  const node = path[path.length - 1]!;
  if (!node.children.length) return [path];
  return node.children.flatMap((child) => leafPaths([...path, child]));
}
