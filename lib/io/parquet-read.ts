// Streaming Parquet reader: one row group at a time (memory ~ one row group of the projected columns), with
// column projection. Strings stay UTF-8 bytes from page to Arrow buffer (hyparquet's string parser is replaced by
// the identity), which skips a decode to JS strings and a re-encode: see bench/io.ts for the measured gain.
import { parquetRead, type Compressors } from "hyparquet";
import type { RecordBatch } from "apache-arrow";
import { openParquet, parquetColumns } from "./parquet-file.js";
import { parquetDecompressorsWithin, DEFAULT_MAX_PAGE_BYTES } from "./parquet-codecs.js";
import { documentBatches, reportBad, DEFAULT_MAX_DOC_BYTES, type DecodedColumn, type ReadOptions } from "./documents.js";
import { InputError, DecompressError, errorMessage } from "./errors.js";
import type { Values } from "./columns.js";
import { ensureZstd } from "./zstd.js";
import { arrowTypeOf } from "./nested.js";
import { logicalArrowType, rawMetadata } from "./logical-types.js";

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
    // Timestamps, dates and decimals keep their type (logical-types.ts): decoded raw, built as Arrow's own types.
    const logical = new Map(cols.filter((c) => !c.nested).map((c) => [c.name, logicalArrowType(c.tree.element)] as const)
      .filter((x): x is [string, NonNullable<typeof x[1]>] => x[1] != null));
    const readMeta = rawMetadata(pq.metadata, new Set(logical.keys()));
    // Pages may hold several documents: the page bound is the larger of 256 MiB and 4 documents of the largest size.
    const compressors = parquetDecompressorsWithin(Math.max(DEFAULT_MAX_PAGE_BYTES, 4 * (opts.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES)));
    let groupStart = 0;
    for (const [g, group] of pq.metadata.row_groups.entries()) {
      const n = Number(group.num_rows);
      const start = groupStart;
      groupStart += n;
      // The footer's row count is not trusted: it is checked against the column chunks' own value counts before
      // decoding (a footer claiming 2e8 rows over a few KB fails here, at once) and against the decoded values after.
      const stored = storedRows(group);
      const where = `${path}#${start}`;
      const corrupt = (why: string, rows: number) => reportBad(opts, new InputError(path, where, "corrupt_parquet",
        `row group ${g} is corrupt: ${why}`), rows);
      if (stored.mismatch) {
        corrupt(stored.mismatch, stored.rows ?? n);
        continue;
      }
      if (n === 0) continue;
      let values: Map<string, { values: Values; count: number }>;
      try {
        values = await readGroup(pq.file, readMeta, start, start + n, flat, nested, compressors);
      } catch (e) {
        const what = e instanceof DecompressError ? `decompression of ${path} failed in` : "cannot decode";
        reportBad(opts, new InputError(path, where, "corrupt_parquet",
          `${what} row group ${g} (rows ${start}-${start + n - 1}): ${errorMessage(e)}`), n);
        continue;
      }
      const short = cols.find((c) => (values.get(c.name)?.count ?? 0) !== n);
      if (short) {
        const got = values.get(short.name)?.count ?? 0;
        corrupt(`the footer says ${n} rows but column "${short.name}" decodes to ${got}`, got);
        continue;
      }
      const decoded: DecodedColumn[] = cols.map((c) => ({
        name: c.name, kind: c.kind, values: values.get(c.name)!.values,
        arrowType: nestedTypes.get(c.name), logicalType: logical.get(c.name),
      }));
      yield* documentBatches(path, decoded, n, start, opts);
    }
  } finally {
    await pq.close();
  }
}

type File = Parameters<typeof parquetRead>[0]["file"];
type Meta = Parameters<typeof parquetRead>[0]["metadata"];

type Group = NonNullable<Meta>["row_groups"][number];

/** The row count a row group's column chunks agree on. Each column chunk of a top-level non-repeated column
 * stores one value (null or not) per row, so its num_values is the row count; a repeated column stores at least
 * one per row. `mismatch` says what disagrees with the footer's num_rows; `rows` is the count the chunks agree on
 * (the documents really stored), when they agree. */
export function storedRows(group: Group): { mismatch?: string; rows?: number } {
  const n = Number(group.num_rows);
  const counts = new Set<number>();
  let first: string | undefined;
  for (const c of group.columns) {
    const md = c.meta_data;
    if (!md) continue;
    const v = Number(md.num_values);
    const name = md.path_in_schema.join(".");
    if (md.path_in_schema.length > 1) {
      // A leaf inside a struct or list: at least one level per row.
      if (v < n) return { mismatch: `the footer says ${n} rows but column "${name}" stores ${v} values` };
      continue;
    }
    counts.add(v);
    if (v !== n) first ??= `the footer says ${n} rows but column "${name}" stores ${v}`;
  }
  if (!first) return {};
  return { mismatch: first, rows: counts.size === 1 ? [...counts][0] : undefined };
}

/** Decode rows [start, end) of the named columns into one array per column, with how many rows of [start, end)
 * the decoded pages covered (fewer than end - start when the footer claims rows the pages do not hold). */
async function readGroup(file: File, metadata: Meta, start: number, end: number, flat: string[], nested: string[],
  compressors: Compressors): Promise<Map<string, { values: Values; count: number }>> {
  const chunks = new Map<string, { rowStart: number; data: Values }[]>();
  const onChunk = (c: { columnName: string; columnData: Values; rowStart: number }) => {
    let list = chunks.get(c.columnName);
    if (!list) chunks.set(c.columnName, (list = []));
    list.push({ rowStart: c.rowStart, data: c.columnData });
  };
  const common = { file, metadata, rowStart: start, rowEnd: end, compressors, onChunk } as const;
  if (flat.length) await parquetRead({ ...common, columns: flat, utf8: false, parsers: RAW_PARSERS } as never);
  // Nested columns are assembled into JS objects by hyparquet, so they need its normal string decoding.
  if (nested.length) await parquetRead({ ...common, columns: nested } as never);
  const out = new Map<string, { values: Values; count: number }>();
  for (const [name, list] of chunks) out.set(name, joinChunks(list, start, end));
  return out;
}

function joinChunks(list: { rowStart: number; data: Values }[], start: number, end: number): { values: Values; count: number } {
  list.sort((a, b) => a.rowStart - b.rowStart);
  if (list.length === 1 && list[0].rowStart === start && list[0].data.length === end - start) {
    return { values: list[0].data, count: end - start };
  }
  // Rows of [start, end) the chunks cover (chunks do not overlap: hyparquet emits each page's rows once).
  // A page holding rows past `end` means the pages store more rows than the footer says: report them all.
  let count = 0;
  let past = 0;
  for (const { rowStart, data } of list) {
    count += Math.max(0, Math.min(end, rowStart + data.length) - Math.max(start, rowStart));
    past += Math.max(0, rowStart + data.length - Math.max(end, rowStart));
  }
  if (count !== end - start || past) return { values: [], count: count + past };
  const out: unknown[] = new Array(end - start);
  for (const { rowStart, data } of list) {
    for (let i = 0; i < data.length; i++) {
      const r = rowStart + i;
      if (r >= start && r < end) out[r - start] = data[i];
    }
  }
  return { values: out, count };
}
