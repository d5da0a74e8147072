// Random access to a local Parquet file for hyparquet (an AsyncBuffer over one open file handle), plus the
// mapping from Parquet column types to the column kinds our Arrow builders make.
import { open, type FileHandle } from "node:fs/promises";
import { parquetMetadataAsync, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaTree } from "hyparquet";
import type { ColumnKind } from "./columns.js";
import { InputError, errorMessage } from "./errors.js";

export interface OpenParquet {
  file: AsyncBuffer;
  metadata: FileMetaData;
  close(): Promise<void>;
}

function fileBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size) {
      const len = Math.max(0, Math.min(end, size) - start);
      const buf = new Uint8Array(len);
      let off = 0;
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, start + off);
        if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + off}`);
        off += bytesRead;
      }
      return buf.buffer;
    },
  };
}

/** Open a Parquet file and read its footer. A truncated file or corrupt footer becomes an InputError. */
export async function openParquet(path: string): Promise<OpenParquet> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const file = fileBuffer(fh, size);
    let metadata: FileMetaData;
    try {
      if (size < 12) throw new Error(`only ${size} bytes, too short for a Parquet file`);
      metadata = await parquetMetadataAsync(file);
      checkMetadata(metadata, size);
    } catch (e) {
      throw new InputError(path, path, "corrupt_parquet",
        `not a readable Parquet file (truncated or corrupt footer?): ${errorMessage(e)}`);
    }
    return { file, metadata, close: () => fh.close() };
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

// A footer that parses can still be garbage; catch the inconsistencies that would otherwise crash mid-read.
function checkMetadata(m: FileMetaData, size: number): void {
  let rows = 0n;
  for (const [i, g] of m.row_groups.entries()) {
    rows += g.num_rows;
    for (const c of g.columns) {
      const md = c.meta_data;
      if (!md) continue;
      const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
      const end = start + Number(md.total_compressed_size);
      if (start < 4 || end > size) {
        throw new Error(`row group ${i} column ${md.path_in_schema.join(".")} points outside the file (bytes ${start}-${end} of ${size})`);
      }
    }
  }
  if (rows !== m.num_rows) throw new Error(`row groups hold ${rows} rows but the footer says ${m.num_rows}`);
}

/** Top-level columns of the schema with the kind each decodes to (nested columns become JSON text). */
export function parquetColumns(metadata: FileMetaData): { name: string; kind: ColumnKind; nested: boolean; tree: SchemaTree }[] {
  return parquetSchema(metadata).children.map((tree) => {
    const nested = tree.children.length > 0;
    return { name: tree.element.name, kind: nested ? "as-string" : leafKind(tree), nested, tree };
  });
}

/** The column kind a Parquet leaf (primitive) column decodes to. */
export function leafKind(t: SchemaTree): ColumnKind {
  const { type, converted_type: ct, logical_type: lt } = t.element;
  const lname = lt?.type;
  switch (type) {
    case "BOOLEAN": return "bool";
    case "INT32":
      if (ct === "DATE" || lname === "DATE" || ct === "TIME_MILLIS" || ct === "DECIMAL") return ct === "DECIMAL" ? "float64" : "as-string";
      if (ct === "UINT_32") return "int64";
      return "int32";
    case "INT64":
      if (ct === "DECIMAL") return "float64";
      if (ct === "UINT_64" || ct?.startsWith("TIMESTAMP") || lname === "TIMESTAMP" || ct === "TIME_MICROS" || lname === "TIME") return "as-string";
      return "int64";
    case "FLOAT": return lname === "FLOAT16" ? "float64" : "float32";
    case "DOUBLE": return "float64";
    case "BYTE_ARRAY":
      if (ct === "UTF8" || ct === "JSON" || ct === "ENUM" || lname === "STRING" || lname === "JSON" || lname === "ENUM") return "utf8-bytes";
      if (ct === "DECIMAL") return "float64";
      if (ct === "BSON" || lname === "GEOMETRY" || lname === "GEOGRAPHY") return "binary";
      return "binary";
    default:
      // INT96 timestamps, FIXED_LEN_BYTE_ARRAY (UUID, float16, decimals): text is the faithful common denominator.
      return ct === "DECIMAL" ? "float64" : "as-string";
  }
}
