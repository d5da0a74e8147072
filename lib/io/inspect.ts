// `megamath inspect`: what is in a document file (or a folder/glob of them) — format, row count, schema, codec,
// row groups and the first rows — without reading more than the rows shown (JSONL rows are counted by a scan).
import { stat } from "node:fs/promises";
import { parquetReadObjects } from "hyparquet";
import { RecordBatchReader, type RecordBatch } from "apache-arrow";
import { createReadStream } from "node:fs";
import { closeReadStream } from "./close-stream.js";
import { detectFormat, type FileFormat, type Compression } from "./format.js";
import { expandInputs } from "./glob.js";
import { openParquet, parquetColumns } from "./parquet-file.js";
import { parquetDecompressors } from "./parquet-codecs.js";
import { readLines } from "./jsonl-read.js";
import { batchRows } from "../arrow/batch.js";
import { ensureZstd } from "./zstd.js";
import { valueAsString } from "./columns.js";
import { arrowTypeOf } from "./nested.js";

export interface ColumnDescription {
  name: string;
  /** Type in the file (Parquet physical/logical type, JSON value type, Arrow type). */
  type: string;
  /** Arrow type readDocuments gives the column. */
  arrowType?: string;
}

export interface FileDescription {
  file: string;
  format: FileFormat;
  compression?: Compression;
  bytes: number;
  rows: number;
  schema: ColumnDescription[];
  sample: Record<string, unknown>[];
  parquet?: { rowGroups: { rows: number; bytes: number; compressedBytes: number }[]; codecs: string[]; createdBy?: string };
  /** JSONL lines that are not JSON objects (counted during the row scan). */
  badLines?: number;
  /** When the argument named several files: one entry per file (schema and sample are the first file's). */
  files?: { file: string; format: FileFormat; rows: number; bytes: number }[];
  /** When the argument was a folder or glob: files and folders under it left out as megamath's own (markers,
   * stats, reports, work folders), so a reader sees that the counts above are of the documents only. */
  leftOut?: number;
}

const ARROW_OF: Record<string, string> = {
  "utf8-bytes": "Utf8", utf8: "Utf8", "as-string": "Utf8 (JSON/ISO text)", float64: "Float64", float32: "Float32",
  int32: "Int32", int64: "Int64", bool: "Bool", binary: "Binary",
};

export async function describeFile(path: string, opts: { rows?: number } = {}): Promise<FileDescription> {
  const rows = Math.max(0, opts.rows ?? 5);
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch { /* a glob */ }
  if (!isFile) {
    let leftOut = 0;
    const files = await expandInputs([path], (e) => (leftOut += e.leftOut));
    const each = await Promise.all(files.map((f, i) => describeOne(f, i === 0 ? rows : 0)));
    return {
      ...each[0],
      file: path,
      rows: each.reduce((s, d) => s + d.rows, 0),
      bytes: each.reduce((s, d) => s + d.bytes, 0),
      files: each.map((d) => ({ file: d.file, format: d.format, rows: d.rows, bytes: d.bytes })),
      leftOut,
    };
  }
  return describeOne(path, rows);
}

async function describeOne(path: string, rows: number): Promise<FileDescription> {
  const { format, compression } = detectFormat(path);
  const bytes = (await stat(path)).size;
  if (format === "parquet") return describeParquet(path, rows, bytes);
  if (format === "arrow") return describeArrow(path, rows, bytes);
  return describeJsonl(path, rows, bytes, compression);
}

function typeName(t: { type?: string; converted_type?: string; logical_type?: { type: string } }): string {
  const logical = t.logical_type?.type ?? t.converted_type;
  return logical && logical !== t.type ? `${t.type} (${logical})` : String(t.type);
}

async function describeParquet(path: string, rows: number, bytes: number): Promise<FileDescription> {
  await ensureZstd();
  const pq = await openParquet(path);
  try {
    const m = pq.metadata;
    const cols = parquetColumns(m);
    const codecs = new Set<string>();
    for (const g of m.row_groups) for (const c of g.columns) if (c.meta_data) codecs.add(c.meta_data.codec);
    const total = Number(m.num_rows);
    const sample = rows && total
      ? (await parquetReadObjects({ file: pq.file, metadata: m, rowStart: 0, rowEnd: Math.min(rows, total), compressors: parquetDecompressors }))
        .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])))
      : [];
    return {
      file: path, format: "parquet", bytes, rows: total,
      schema: cols.map((c) => ({ name: c.name, type: c.nested ? "nested (group)" : typeName(c.tree.element), arrowType: c.nested ? String(arrowTypeOf(c.tree) ?? ARROW_OF[c.kind]) : ARROW_OF[c.kind] })),
      sample,
      parquet: {
        rowGroups: m.row_groups.map((g) => ({ rows: Number(g.num_rows), bytes: Number(g.total_byte_size), compressedBytes: Number(g.total_compressed_size ?? 0) })),
        codecs: [...codecs].sort(),
        createdBy: m.created_by,
      },
    };
  } finally {
    await pq.close();
  }
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v && typeof v === "object" && !Array.isArray(v) && "toJSON" in v) return (v as { toJSON(): unknown }).toJSON();
  return v;
}

async function describeArrow(path: string, rows: number, bytes: number): Promise<FileDescription> {
  const src = createReadStream(path);
  try {
    const reader = await RecordBatchReader.from(src);
    await reader.open();
    let total = 0;
    const sample: Record<string, unknown>[] = [];
    for await (const b of reader as AsyncIterable<RecordBatch>) {
      total += b.numRows;
      if (sample.length < rows) sample.push(...batchRows(b).slice(0, rows - sample.length));
    }
    const schema = reader.schema.fields.map((f) => ({ name: f.name, type: String(f.type), arrowType: String(f.type) }));
    return { file: path, format: "arrow", bytes, rows: total, schema, sample };
  } finally {
    await closeReadStream(src); // a corrupt file stops the reader with the stream still open
  }
}

async function describeJsonl(path: string, rows: number, bytes: number, compression: Compression): Promise<FileDescription> {
  const decoder = new TextDecoder();
  const types = new Map<string, Set<string>>();
  const sample: Record<string, unknown>[] = [];
  let count = 0;
  let bad = 0;
  for await (const { bytes: line } of readLines(path)) {
    if (line === null) {
      bad++; // longer than the readers' limit: the stages would reject it too
      continue;
    }
    // Count rows by scanning for non-blank lines; parse only the first 1,000 for the schema.
    if (count >= 1000) {
      if (line.some((c) => c > 0x20)) count++;
      continue;
    }
    const s = decoder.decode(line);
    if (!s.trim()) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch {
      bad++;
      continue;
    }
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
      bad++;
      continue;
    }
    count++;
    for (const [k, v] of Object.entries(obj)) {
      let set = types.get(k);
      if (!set) types.set(k, (set = new Set()));
      set.add(v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
    }
    if (sample.length < rows) sample.push(obj as Record<string, unknown>);
  }
  const schema = [...types].map(([name, set]) => {
    const t = [...set].filter((x) => x !== "null");
    const arrow = t.length === 1 ? ({ string: "Utf8", number: "Float64", boolean: "Bool" } as Record<string, string>)[t[0]] ?? "Utf8 (JSON text)" : t.length ? "Utf8 (JSON text)" : "Utf8";
    return { name, type: [...set].join(" | "), arrowType: arrow };
  });
  return { file: path, format: "jsonl", compression, bytes, rows: count, schema, sample, badLines: bad };
}

function clip(v: unknown, max = 200): string {
  const s = typeof v === "string" ? v : v === undefined ? "null" : valueAsString(v); // hyparquet: undefined = null
  const one = s.replace(/\s+/g, " ");
  return one.length > max ? `${one.slice(0, max)}… (${s.length} chars)` : one;
}

/** A human-readable description (what `megamath inspect FILE` prints). */
export function formatDescription(d: FileDescription): string {
  const lines: string[] = [];
  const comp = d.compression && d.compression !== "none" ? ` (${d.compression})` : "";
  lines.push(`${d.file}: ${d.format}${comp}, ${d.rows.toLocaleString("en-US")} rows, ${(d.bytes / 1e6).toFixed(2)} MB`);
  if (d.files && d.files.length > 1) {
    lines.push(`files: ${d.files.length}`);
    for (const f of d.files.slice(0, 20)) lines.push(`  ${f.file}  ${f.rows.toLocaleString("en-US")} rows`);
    if (d.files.length > 20) lines.push(`  … ${d.files.length - 20} more`);
  }
  if (d.leftOut) lines.push(`left out: ${d.leftOut} of megamath's own files/folders (markers, stats, reports, work folders)`);
  if (d.parquet) {
    const g = d.parquet.rowGroups;
    const sizes = g.map((x) => x.rows);
    lines.push(`parquet: ${g.length} row group(s) of ${Math.min(...sizes)}–${Math.max(...sizes)} rows, codec ${d.parquet.codecs.join(", ") || "none"}${d.parquet.createdBy ? `, created by ${d.parquet.createdBy}` : ""}`);
  }
  if (d.badLines) lines.push(`unparseable lines (in the first 1,000 documents scanned): ${d.badLines}`);
  lines.push("schema:");
  const w = Math.max(4, ...d.schema.map((c) => c.name.length));
  for (const c of d.schema) lines.push(`  ${c.name.padEnd(w)}  ${c.type}${c.arrowType && c.arrowType !== c.type ? `  → ${c.arrowType}` : ""}`);
  if (d.sample.length) {
    lines.push(`first ${d.sample.length} row(s):`);
    for (const [i, r] of d.sample.entries()) {
      lines.push(`  [${i}]`);
      for (const [k, v] of Object.entries(r)) lines.push(`    ${k}: ${clip(v)}`);
    }
  }
  return lines.join("\n");
}
