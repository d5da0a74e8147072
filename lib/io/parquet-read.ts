// Streaming Parquet reader: one row group at a time (memory ~ one row group of the projected columns), with
// column projection. Strings stay UTF-8 bytes from page to Arrow buffer (hyparquet's string parser is replaced by
// the identity), which skips a decode to JS strings and a re-encode: see bench/io.ts for the measured gain.
import { parquetRead } from "hyparquet";
import type { RecordBatch } from "apache-arrow";
import { openParquet, parquetColumns } from "./parquet-file.js";
import { parquetDecompressors } from "./parquet-codecs.js";
import { documentBatches, reportBad, type DecodedColumn, type ReadOptions } from "./documents.js";
import { InputError, errorMessage } from "./errors.js";
import type { Values } from "./columns.js";
import { ensureZstd } from "./zstd.js";
import { arrowTypeOf } from "./nested.js";

const keepBytes = (b: Uint8Array) => b;
const RAW_PARSERS = { stringFromBytes: keepBytes, jsonFromBytes: keepBytes, geometryFromBytes: keepBytes, geographyFromBytes: keepBytes };

export async function* readParquet(path: string, opts: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  await ensureZstd();
  let pq;
  try {
    pq = await openParquet(path);
  } catch (e) {
    if (e instanceof InputError) {
      reportBad(opts, e, 1);
      return;
    }
    throw e;
  }
  try {
    const all = parquetColumns(pq.metadata);
    const wanted = opts.columns ? new Set([...opts.columns, opts.textKey ?? "text", opts.idKey ?? "id"]) : null;
    const cols = wanted ? all.filter((c) => wanted.has(c.name)) : all;
    const flat = cols.filter((c) => !c.nested).map((c) => c.name);
    const nested = cols.filter((c) => c.nested).map((c) => c.name);
    // Nested columns become Arrow List/Struct columns (null: a shape we do not map, kept as JSON text).
    const nestedTypes = new Map(cols.filter((c) => c.nested).map((c) => [c.name, arrowTypeOf(c.tree) ?? undefined]));
    let groupStart = 0;
    for (const [g, group] of pq.metadata.row_groups.entries()) {
      const n = Number(group.num_rows);
      const start = groupStart;
      groupStart += n;
      if (n === 0) continue;
      let values: Map<string, Values>;
      try {
        values = await readGroup(pq.file, pq.metadata, start, start + n, flat, nested);
      } catch (e) {
        reportBad(opts, new InputError(path, `${path}#${start}`, "corrupt_parquet",
          `cannot decode row group ${g} (rows ${start}-${start + n - 1}): ${errorMessage(e)}`), n);
        continue;
      }
      const decoded: DecodedColumn[] = cols.map((c) => ({
        name: c.name, kind: c.kind, values: values.get(c.name)!, arrowType: nestedTypes.get(c.name),
      }));
      const short = decoded.find((c) => !c.values || c.values.length !== n);
      if (short) {
        reportBad(opts, new InputError(path, `${path}#${start}`, "corrupt_parquet",
          `row group ${g} column "${short.name}" decoded ${short.values?.length ?? 0} values, expected ${n}`), n);
        continue;
      }
      yield* documentBatches(path, decoded, n, start, opts);
    }
  } finally {
    await pq.close();
  }
}

type File = Parameters<typeof parquetRead>[0]["file"];
type Meta = Parameters<typeof parquetRead>[0]["metadata"];

/** Decode rows [start, end) of the named columns into one array per column. */
async function readGroup(file: File, metadata: Meta, start: number, end: number, flat: string[], nested: string[]):
  Promise<Map<string, Values>> {
  const chunks = new Map<string, { rowStart: number; data: Values }[]>();
  const onChunk = (c: { columnName: string; columnData: Values; rowStart: number }) => {
    let list = chunks.get(c.columnName);
    if (!list) chunks.set(c.columnName, (list = []));
    list.push({ rowStart: c.rowStart, data: c.columnData });
  };
  const common = { file, metadata, rowStart: start, rowEnd: end, compressors: parquetDecompressors, onChunk } as const;
  if (flat.length) await parquetRead({ ...common, columns: flat, utf8: false, parsers: RAW_PARSERS } as never);
  // Nested columns are assembled into JS objects by hyparquet, so they need its normal string decoding.
  if (nested.length) await parquetRead({ ...common, columns: nested } as never);
  const out = new Map<string, Values>();
  for (const [name, list] of chunks) out.set(name, joinChunks(list, start, end));
  return out;
}

function joinChunks(list: { rowStart: number; data: Values }[], start: number, end: number): Values {
  list.sort((a, b) => a.rowStart - b.rowStart);
  if (list.length === 1 && list[0].rowStart === start && list[0].data.length === end - start) return list[0].data;
  const out: unknown[] = new Array(end - start);
  for (const { rowStart, data } of list) {
    for (let i = 0; i < data.length; i++) {
      const r = rowStart + i;
      if (r >= start && r < end) out[r - start] = data[i];
    }
  }
  return out;
}
