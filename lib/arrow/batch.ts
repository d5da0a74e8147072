// Helpers every stage needs to read and change Arrow record batches. Documents travel between stages as
// apache-arrow RecordBatches with at least `text` and `id` (Utf8); every other column passes through untouched.
import {
  RecordBatch, Schema, Field, Data, makeData, Struct, Utf8, LargeUtf8, Float64, Float32, Int32, Int64, Bool,
  DataType, Vector, vectorFromArray,
} from "apache-arrow";

export type Batch = RecordBatch;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** Values a new column can be made from. Strings become Utf8, Float64Array/number[] Float64, etc. */
export type ColumnValues =
  | (string | null)[]
  | Float64Array
  | Float32Array
  | Int32Array
  | (number | null)[]
  | (boolean | null)[]
  | Vector;

/** Raised when a batch lacks a column a stage needs, or the column has the wrong type. */
export class ColumnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ColumnError";
  }
}

export function hasColumn(batch: Batch, name: string): boolean {
  return batch.schema.fields.some((f) => f.name === name);
}

function requireColumn(batch: Batch, name: string): Vector {
  const col = batch.getChild(name);
  if (!col) {
    const have = batch.schema.fields.map((f) => f.name).join(", ");
    throw new ColumnError(`missing column "${name}" (columns present: ${have || "none"})`);
  }
  return col;
}

/** Build a Utf8 Data directly from strings (apache-arrow's vectorFromArray would dictionary-encode them). */
export function utf8Data(values: readonly (string | null | undefined)[]): Data<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  const parts: Uint8Array[] = new Array(n);
  let total = 0;
  let nulls = 0;
  let bitmap: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) {
      nulls++;
      bitmap ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      bitmap[i >> 3] &= ~(1 << (i & 7));
      parts[i] = EMPTY;
    } else {
      parts[i] = encoder.encode(v);
    }
    total += parts[i].length;
    if (total > 0x7fffffff) throw new ColumnError("a Utf8 column over 2 GiB in one batch: use smaller batches");
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) data.set(parts[i], offsets[i]);
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: bitmap, valueOffsets: offsets, data });
}
const EMPTY = new Uint8Array(0);

function isStringType(t: DataType): boolean {
  return DataType.isUtf8(t) || DataType.isLargeUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary));
}

/** A column as JS strings. Nulls come back as null. Throws ColumnError if absent or not a string column. */
export function getStrings(batch: Batch, name: string): (string | null)[] {
  const col = requireColumn(batch, name);
  if (!isStringType(col.type)) {
    throw new ColumnError(`column "${name}" has type ${col.type}, expected a string (Utf8) column`);
  }
  const out: (string | null)[] = new Array(col.length);
  let k = 0;
  for (const data of col.data) {
    if (DataType.isUtf8(data.type) || DataType.isLargeUtf8(data.type)) {
      const offs = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      for (let i = 0; i < data.length; i++) {
        out[k++] = data.getValid(i) ? decoder.decode(bytes.subarray(Number(offs[i]), Number(offs[i + 1]))) : null;
      }
    } else {
      for (let i = 0; i < data.length; i++, k++) out[k] = (col.get(k) as string | null) ?? null;
    }
  }
  return out;
}

/** The `text` column as strings, with nulls as "" (an empty document is still a document). */
export function getTexts(batch: Batch, name = "text"): string[] {
  return getStrings(batch, name).map((s) => s ?? "");
}

/** A numeric column as a Float64Array; nulls become NaN. */
export function getNumbers(batch: Batch, name: string): Float64Array {
  const col = requireColumn(batch, name);
  const t = col.type;
  if (!(DataType.isFloat(t) || DataType.isInt(t) || DataType.isDecimal(t) || DataType.isBool(t))) {
    throw new ColumnError(`column "${name}" has type ${t}, expected a numeric column`);
  }
  const out = new Float64Array(col.length);
  for (let i = 0; i < col.length; i++) {
    const v = col.get(i);
    out[i] = v == null ? NaN : Number(v);
  }
  return out;
}

/** UTF-8 byte length of the text column (for MB/s stats) without decoding it. */
export function textBytes(batch: Batch, name = "text"): number {
  const col = batch.getChild(name);
  if (!col) return 0;
  let n = 0;
  for (const data of col.data) {
    if (DataType.isUtf8(data.type) || DataType.isLargeUtf8(data.type)) {
      const offs = data.valueOffsets;
      n += Number(offs[data.length]) - Number(offs[0]);
    }
  }
  return n;
}

function toData(values: ColumnValues, type?: DataType): Data {
  if (values instanceof Vector) {
    return values.data.length === 1 ? values.data[0] : makeVectorData(values);
  }
  if (values instanceof Float64Array) return makeData({ type: new Float64(), length: values.length, data: values });
  if (values instanceof Float32Array) return makeData({ type: new Float32(), length: values.length, data: values });
  if (values instanceof Int32Array) return makeData({ type: new Int32(), length: values.length, data: values });
  const arr = values as unknown[];
  const first = type ?? guessType(arr);
  if (DataType.isUtf8(first)) return utf8Data(arr as (string | null)[]);
  return vectorFromArray(arr, first).data[0];
}

function makeVectorData(v: Vector): Data {
  // Concatenate chunks into one Data so the batch stays a simple struct of single-chunk children.
  return vectorFromArray(v.toArray() as unknown[], v.type).data[0];
}

function guessType(arr: unknown[]): DataType {
  for (const v of arr) {
    if (v == null) continue;
    if (typeof v === "string") return new Utf8();
    if (typeof v === "number") return new Float64();
    if (typeof v === "boolean") return new Bool();
    if (typeof v === "bigint") return new Int64();
    break;
  }
  return new Utf8();
}

/** Make a batch from named columns (all of equal length). */
export function makeBatch(columns: Record<string, ColumnValues>, types: Record<string, DataType> = {}): Batch {
  const names = Object.keys(columns);
  const datas = names.map((n) => toData(columns[n], types[n]));
  const length = datas.length ? datas[0].length : 0;
  for (let i = 0; i < datas.length; i++) {
    if (datas[i].length !== length) {
      throw new ColumnError(`column "${names[i]}" has ${datas[i].length} rows, expected ${length}`);
    }
  }
  const fields = names.map((n, i) => new Field(n, datas[i].type, true));
  return structBatch(new Schema(fields), datas, length);
}

function structBatch(schema: Schema, children: Data[], length: number, metadata?: Map<string, string>): Batch {
  const s = metadata ? new Schema(schema.fields, metadata) : schema;
  const data = makeData({ type: new Struct(s.fields), length, nullCount: 0, children });
  return new RecordBatch(s, data);
}

/** Add a column, or replace it if it exists (keeping its position). Other columns are untouched. */
export function withColumn(batch: Batch, name: string, values: ColumnValues, type?: DataType): Batch {
  const data = toData(values, type);
  if (data.length !== batch.numRows) {
    throw new ColumnError(`new column "${name}" has ${data.length} rows, batch has ${batch.numRows}`);
  }
  const fields = [...batch.schema.fields];
  const children = fields.map((f) => batch.getChild(f.name)!.data[0]);
  const idx = fields.findIndex((f) => f.name === name);
  const field = new Field(name, data.type, true);
  if (idx >= 0) {
    fields[idx] = field;
    children[idx] = data;
  } else {
    fields.push(field);
    children.push(data);
  }
  return structBatch(new Schema(fields), children, batch.numRows, batch.schema.metadata);
}

/** Drop columns by name (missing names are ignored). */
export function withoutColumns(batch: Batch, names: string[]): Batch {
  const drop = new Set(names);
  const fields = batch.schema.fields.filter((f) => !drop.has(f.name));
  return structBatch(new Schema(fields), fields.map((f) => batch.getChild(f.name)!.data[0]), batch.numRows,
    batch.schema.metadata);
}

/** Keep the rows whose mask entry is truthy, in order. Utf8 and fixed-width columns are copied buffer-wise. */
export function filterRows(batch: Batch, mask: ArrayLike<number | boolean>): Batch {
  const n = batch.numRows;
  if (mask.length !== n) throw new ColumnError(`filter mask has ${mask.length} entries, batch has ${n} rows`);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i]) keep.push(i);
  return takeRows(batch, keep);
}

/** A batch made of the given rows (any order, repeats allowed). */
export function takeRows(batch: Batch, rows: readonly number[]): Batch {
  if (rows.length === batch.numRows && rows.every((r, i) => r === i)) return batch;
  const children = batch.schema.fields.map((f) => takeData(batch.getChild(f.name)!, rows));
  return structBatch(batch.schema, children, rows.length, batch.schema.metadata);
}

function takeData(col: Vector, rows: readonly number[]): Data {
  const data = col.data.length === 1 ? col.data[0] : makeVectorData(col);
  const t = data.type;
  const m = rows.length;
  let nulls = 0;
  let bitmap: Uint8Array | undefined;
  if (data.nullCount > 0) {
    bitmap = new Uint8Array((m + 7) >> 3);
    for (let j = 0; j < m; j++) {
      if (data.getValid(rows[j])) bitmap[j >> 3] |= 1 << (j & 7);
      else nulls++;
    }
  }
  if (DataType.isUtf8(t)) {
    const offs = data.valueOffsets as Int32Array;
    const src = data.values as Uint8Array;
    const newOffs = new Int32Array(m + 1);
    let total = 0;
    for (let j = 0; j < m; j++) {
      total += offs[rows[j] + 1] - offs[rows[j]];
      newOffs[j + 1] = total;
    }
    const dst = new Uint8Array(total);
    for (let j = 0; j < m; j++) dst.set(src.subarray(offs[rows[j]], offs[rows[j] + 1]), newOffs[j]);
    return makeData({ type: t as Utf8, length: m, nullCount: nulls, nullBitmap: bitmap, valueOffsets: newOffs, data: dst });
  }
  if ((DataType.isFloat(t) || DataType.isInt(t)) && data.stride === 1) {
    // Same typed-array class as the source (Float64Array, Int32Array, BigInt64Array, ...).
    type Typed = { [i: number]: unknown; constructor: new (n: number) => Typed };
    const src = data.values as unknown as Typed;
    const dst = new src.constructor(m);
    for (let j = 0; j < m; j++) dst[j] = src[rows[j]];
    return makeData({ type: t, length: m, nullCount: nulls, nullBitmap: bitmap, data: dst } as never);
  }
  // Anything else (lists, structs, dictionaries, timestamps...): go through JS values; correct, slower. List and
  // struct values come back as Vectors / StructRows, which the builders cannot index: make them plain first.
  const nested = DataType.isList(t) || DataType.isStruct(t);
  const values = rows.map((r) => (nested ? plainValue(col.get(r)) : col.get(r)));
  return (vectorFromArray as (v: unknown[], t: DataType) => Vector)(values, t).data[0];
}

/** A List/Struct value (Vector, StructRow, at any depth) as plain arrays and objects. */
function plainValue(v: unknown): unknown {
  if (v instanceof Vector) return Array.from(v as Iterable<unknown>, plainValue);
  if (v && typeof v === "object" && !ArrayBuffer.isView(v) && "toJSON" in v) {
    const o = (v as { toJSON(): Record<string, unknown> }).toJSON();
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plainValue(x)]));
  }
  return v;
}

/** Rows of a batch as plain objects (for tests, inspect and JSONL output). */
export function batchRows(batch: Batch): Record<string, unknown>[] {
  const names = batch.schema.fields.map((f) => f.name);
  const cols = names.map((n) => batch.getChild(n)!);
  const out: Record<string, unknown>[] = new Array(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = jsValue(cols[c].get(i));
    out[i] = row;
  }
  return out;
}

function jsValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v && typeof v === "object" && "toJSON" in v && typeof (v as { toJSON: unknown }).toJSON === "function") {
    return (v as { toJSON(): unknown }).toJSON();
  }
  return v;
}

export { utf8Data as stringsToUtf8 };
export { LargeUtf8 };
